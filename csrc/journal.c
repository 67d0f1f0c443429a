/*
 * journal: see journal.h.
 */
#include "journal.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strbuf.h"
#include "util.h"

/* Attempts to lock the current EXPDIR/.lock while ending searches remove it. */
#define JOURNAL_LOCK_TRIES 8
#define JOURNAL_CURVE_HEADER "job_id,step,value,m:timestamp\n"

/* One column of results.csv after the parameters: its name in the header
 * and how a row writes its value (without the separator). */
struct journal_column {
    const char *name;
    int (*write)(struct strbuf *sb, const struct journal_row *row);
};

static int journal_objective(struct strbuf *sb, const struct journal_row *row)
{
    char obj[40];
    util_format_double(obj, sizeof obj, row->objective);
    return strbuf_puts(sb, obj);
}

static int journal_status(struct strbuf *sb, const struct journal_row *row)
{
    return strbuf_puts(sb, row->status);
}

static int journal_worker(struct strbuf *sb, const struct journal_row *row)
{
    return strbuf_printf(sb, "%d", row->worker);
}

static int journal_submit(struct strbuf *sb, const struct journal_row *row)
{
    return strbuf_printf(sb, "%.3f", row->t_submit);
}

static int journal_start(struct strbuf *sb, const struct journal_row *row)
{
    return strbuf_printf(sb, "%.3f", row->t_start);
}

static int journal_gather(struct strbuf *sb, const struct journal_row *row)
{
    return strbuf_printf(sb, "%.3f", row->t_gather);
}

static int journal_duration(struct strbuf *sb, const struct journal_row *row)
{
    return strbuf_printf(sb, "%.3f", row->duration);
}

static int journal_steps(struct strbuf *sb, const struct journal_row *row)
{
    return row->steps > 0 ? strbuf_printf(sb, "%ld", row->steps) : 0;
}

/* results.csv's columns after job_id and the parameters, in the order of
 * the header (async_search.expfiles owns their meaning). A new column is
 * one entry at the end: an experiment from before it continues in its own
 * form, the columns its header has. */
static const struct journal_column journal_columns[] = {
    {"objective", journal_objective},
    {"status", journal_status},
    {"worker", journal_worker},
    {"m:timestamp_submit", journal_submit},
    {"m:timestamp_start", journal_start},
    {"m:timestamp_gather", journal_gather},
    {"duration", journal_duration},
    {"steps", journal_steps}, /* from early stopping on */
};
#define JOURNAL_COLUMNS (sizeof journal_columns / sizeof journal_columns[0])
/* The columns of the oldest form of results.csv (before steps). */
#define JOURNAL_OLDEST_COLUMNS 7

struct journal {
    int results_fd;
    int points_fd;
    int curves_fd;   /* intermediate.csv, opened at its first value */
    size_t columns;  /* results.csv has journal_columns[0..columns) */
    int nobjectives; /* then as many o:NAME columns (several objectives) */
    char *results_path;
    char *points_path;
    char *curves_path;
    double last_sync;
    int dirty;
    struct strbuf row; /* reused for every row */
};

static char *journal_path(const char *dir, const char *name)
{
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_printf(&sb, "%s/%s", dir, name) != 0) {
        strbuf_free(&sb);
        return NULL;
    }
    return strbuf_detach(&sb);
}

/* Writes all of buf, retrying short writes. */
static int journal_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Appends the names of journal_columns[0..n) to sb, ',' joined. */
static int journal_column_names(struct strbuf *sb, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        rc |= strbuf_printf(sb, "%s%s", i ? "," : "", journal_columns[i].name);
    return rc;
}

/* The columns an existing results.csv continues in: the most of
 * journal_columns whose names end its header (the engine checked the
 * header against the problem); else the oldest form. */
static size_t journal_existing_columns(const char *header)
{
    size_t len = strlen(header);
    for (size_t n = JOURNAL_COLUMNS; n > 0; n--) {
        struct strbuf tail = STRBUF_INIT;
        int match = strbuf_puts(&tail, ",") == 0 &&
                    journal_column_names(&tail, n) == 0 && len >= tail.len &&
                    strcmp(header + len - tail.len, strbuf_str(&tail)) == 0;
        strbuf_free(&tail);
        if (match)
            return n;
    }
    return JOURNAL_OLDEST_COLUMNS;
}

/* Reads the first line of path into sb (without the newline). */
static int journal_first_line(const char *path, struct strbuf *sb)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    int c;
    while ((c = fgetc(f)) != EOF && c != '\n') {
        char ch = (char)c;
        if (strbuf_append(sb, &ch, 1) != 0)
            break;
    }
    fclose(f);
    return 0;
}

int journal_open(const char *exp_dir, const char *param_header,
                 struct journal **out, char *err, size_t errlen)
{
    return journal_open_objectives(exp_dir, param_header, "", out, err, errlen);
}

/* An existing header without its objective columns (",o:a,o:b" at its end,
 * which a results.csv of a problem with several objectives always has). */
static void journal_cut_objectives(struct strbuf *header, const char *objhdr)
{
    size_t n = strlen(objhdr), len = header->len;
    if (n > 0 && len > n && header->data[len - n - 1] == ',' &&
        strcmp(header->data + len - n, objhdr) == 0) {
        header->data[len - n - 1] = '\0';
        header->len = len - n - 1;
    }
}

int journal_open_objectives(const char *exp_dir, const char *param_header,
                            const char *objective_header, struct journal **out,
                            char *err, size_t errlen)
{
    struct strbuf header = STRBUF_INIT, existing = STRBUF_INIT;
    struct journal *j = calloc(1, sizeof *j);
    *out = NULL;
    if (j == NULL) {
        snprintf(err, errlen, "journal: out of memory");
        return -1;
    }
    j->results_fd = j->points_fd = j->curves_fd = -1;
    j->columns = JOURNAL_COLUMNS;
    for (const char *c = objective_header; *c; c++)
        j->nobjectives += c == objective_header || *c == ',';
    j->results_path = journal_path(exp_dir, JOURNAL_RESULTS);
    j->points_path = journal_path(exp_dir, JOURNAL_POINTS);
    j->curves_path = journal_path(exp_dir, JOURNAL_CURVES);
    if (j->results_path == NULL || j->points_path == NULL ||
        j->curves_path == NULL ||
        strbuf_printf(&header, "job_id,%s%s", param_header,
                      param_header[0] ? "," : "") != 0 ||
        journal_column_names(&header, JOURNAL_COLUMNS) != 0 ||
        (objective_header[0] &&
         strbuf_printf(&header, ",%s", objective_header) != 0)) {
        snprintf(err, errlen, "journal: out of memory");
        goto fail;
    }

    j->results_fd =
        open(j->results_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (j->results_fd < 0) {
        snprintf(err, errlen, "open %s: %s", j->results_path, strerror(errno));
        goto fail;
    }
    off_t size = lseek(j->results_fd, 0, SEEK_END);
    if (size == 0) {
        if (strbuf_puts(&header, "\n") != 0 ||
            journal_write_all(j->results_fd, header.data, header.len) != 0) {
            snprintf(err, errlen, "write %s: %s", j->results_path,
                     strerror(errno));
            goto fail;
        }
    } else {
        /* A restart: the engine checked the header against the problem
         * (async_search.expfiles owns the format); here only which of its
         * forms the rows continue in. */
        if (journal_first_line(j->results_path, &existing) != 0) {
            snprintf(err, errlen, "read %s: %s", j->results_path,
                     strerror(errno));
            goto fail;
        }
        journal_cut_objectives(&existing, objective_header);
        j->columns = journal_existing_columns(strbuf_str(&existing));
    }
    j->points_fd =
        open(j->points_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (j->points_fd < 0) {
        snprintf(err, errlen, "open %s: %s", j->points_path, strerror(errno));
        goto fail;
    }
    j->last_sync = util_now();
    strbuf_free(&header);
    strbuf_free(&existing);
    *out = j;
    return 0;
fail:
    strbuf_free(&header);
    strbuf_free(&existing);
    journal_close(j);
    return -1;
}

/* Appends the row buffer to fd (path for messages), all or nothing. */
static int journal_put(struct journal *j, int fd, const char *path, char *err,
                       size_t errlen)
{
    off_t before = lseek(fd, 0, SEEK_END);
    if (journal_write_all(fd, j->row.data, j->row.len) == 0) {
        j->dirty = 1;
        return 0;
    }
    int e = errno;
    snprintf(err, errlen, "write %s: %s", path, strerror(e));
    /* Cut the partial row off again; should that fail too, journal_repair
     * cuts the torn line at the next restart. */
    int cut = before >= 0 ? ftruncate(fd, before) : -1;
    (void)cut;
    return util_storage_errno(e) ? JOURNAL_STORAGE : JOURNAL_ERROR;
}

int journal_append(struct journal *j, const struct journal_row *row, char *err,
                   size_t errlen)
{
    strbuf_reset(&j->row);
    int rc = strbuf_printf(&j->row, "%s,%s", row->job_id, row->csv_fields);
    for (size_t i = 0; i < j->columns; i++) {
        if (i > 0 || row->csv_fields[0])
            rc |= strbuf_puts(&j->row, ",");
        rc |= journal_columns[i].write(&j->row, row);
    }
    for (int i = 0; i < j->nobjectives; i++) {
        char obj[40];
        util_format_double(obj, sizeof obj,
                           i < row->nobjectives ? row->objectives[i] : NAN);
        rc |= strbuf_printf(&j->row, ",%s", obj);
    }
    rc |= strbuf_puts(&j->row, "\n");
    if (rc != 0) {
        snprintf(err, errlen, "journal: out of memory");
        return JOURNAL_ERROR;
    }
    return journal_put(j, j->results_fd, j->results_path, err, errlen);
}

int journal_point(struct journal *j, const char *job_id,
                  const char *params_json, char *err, size_t errlen)
{
    strbuf_reset(&j->row);
    if (strbuf_printf(&j->row, "%s\t%s\n", job_id, params_json) != 0) {
        snprintf(err, errlen, "journal: out of memory");
        return JOURNAL_ERROR;
    }
    return journal_put(j, j->points_fd, j->points_path, err, errlen);
}

int journal_intermediate(struct journal *j, const char *job_id, long step,
                         double value, double t, char *err, size_t errlen)
{
    char v[40];
    if (j->curves_fd < 0) {
        j->curves_fd = open(j->curves_path,
                            O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
        if (j->curves_fd < 0) {
            int e = errno;
            snprintf(err, errlen, "open %s: %s", j->curves_path, strerror(e));
            return util_storage_errno(e) ? JOURNAL_STORAGE : JOURNAL_ERROR;
        }
        if (lseek(j->curves_fd, 0, SEEK_END) == 0) {
            strbuf_reset(&j->row);
            strbuf_puts(&j->row, JOURNAL_CURVE_HEADER);
            int rc = journal_put(j, j->curves_fd, j->curves_path, err, errlen);
            if (rc != 0)
                return rc;
        }
    }
    util_format_double(v, sizeof v, value);
    strbuf_reset(&j->row);
    if (strbuf_printf(&j->row, "%s,%ld,%s,%.3f\n", job_id, step, v, t) != 0) {
        snprintf(err, errlen, "journal: out of memory");
        return JOURNAL_ERROR;
    }
    return journal_put(j, j->curves_fd, j->curves_path, err, errlen);
}

void journal_sync(struct journal *j, double now, int force)
{
    if (j == NULL || !j->dirty)
        return;
    if (!force && now - j->last_sync < JOURNAL_SYNC_INTERVAL_S)
        return;
    fdatasync(j->results_fd);
    fdatasync(j->points_fd);
    if (j->curves_fd >= 0)
        fdatasync(j->curves_fd);
    j->last_sync = now;
    j->dirty = 0;
}

/* Truncates path after its last newline when it does not end with one. */
static int journal_repair_file(const char *path, struct strbuf *note, char *err,
                               size_t errlen)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 0; /* nothing written yet */
    if (fd < 0) {
        snprintf(err, errlen, "open %s: %s", path, strerror(errno));
        return -1;
    }
    off_t size = lseek(fd, 0, SEEK_END), pos = size;
    char c = '\n';
    /* Walk back to the last newline (rows are short; a torn row is too). */
    while (pos > 0) {
        if (pread(fd, &c, 1, pos - 1) != 1)
            break;
        if (c == '\n')
            break;
        pos--;
    }
    int rc = 0;
    if (pos < size) {
        char tail[81];
        ssize_t n = pread(fd, tail, sizeof tail - 1, pos);
        tail[n > 0 ? n : 0] = '\0';
        for (char *p = tail; *p; p++)
            if (*p == '\n' || *p == '\r' || *p == '\t')
                *p = ' ';
        if (ftruncate(fd, pos) != 0) {
            snprintf(err, errlen, "truncate %s: %s", path, strerror(errno));
            rc = -1;
        } else {
            strbuf_printf(note,
                          "%s%s: cut a torn last line of %lld bytes "
                          "('%s%s')",
                          note->len ? "; " : "", path, (long long)(size - pos),
                          tail, size - pos > 80 ? "..." : "");
            fsync(fd);
        }
    }
    close(fd);
    return rc;
}

int journal_repair(const char *exp_dir, char *note, size_t notelen, char *err,
                   size_t errlen)
{
    struct strbuf text = STRBUF_INIT;
    const char *names[] = {JOURNAL_RESULTS, JOURNAL_POINTS};
    int rc = 0;
    for (size_t i = 0; i < 2 && rc == 0; i++) {
        char *path = journal_path(exp_dir, names[i]);
        if (path == NULL) {
            snprintf(err, errlen, "journal: out of memory");
            rc = -1;
            break;
        }
        rc = journal_repair_file(path, &text, err, errlen);
        free(path);
    }
    snprintf(note, notelen, "%s", strbuf_str(&text));
    strbuf_free(&text);
    return rc;
}

/* 1 if descriptor f is the file at path now (not one removed since). */
static int journal_lock_current(int f, const char *path)
{
    struct stat a, b;
    if (fstat(f, &a) != 0 || stat(path, &b) != 0)
        return 0;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int journal_lock(const char *exp_dir, int *fd, char *err, size_t errlen)
{
    char *path = journal_path(exp_dir, JOURNAL_LOCK);
    *fd = -1;
    err[0] = '\0';
    if (path == NULL) {
        snprintf(err, errlen, "journal: out of memory");
        return -1;
    }
    int f, locked;
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    for (int tries = 1;; tries++) {
        f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (f < 0) {
            snprintf(err, errlen, "open %s: %s", path, strerror(errno));
            free(path);
            return -1;
        }
        locked = fcntl(f, F_SETLK, &fl) == 0;
        /* An ending search removes .lock while holding it (journal_unlock):
         * a lock won on that removed file would guard nothing, so take the
         * lock again on the file the path names now. */
        if (!locked || tries == JOURNAL_LOCK_TRIES ||
            journal_lock_current(f, path))
            break;
        close(f);
    }
    if (!locked) {
        int e = errno;
        if (e == EACCES || e == EAGAIN) {
            char owner[128] = "";
            ssize_t n = pread(f, owner, sizeof owner - 1, 0);
            owner[n > 0 ? n : 0] = '\0';
            owner[strcspn(owner, "\n")] = '\0';
            snprintf(err, errlen,
                     "experiment %s is in use by another running search (%s); "
                     "wait for it to end or stop it first",
                     exp_dir, owner[0] ? owner : "unknown process");
            close(f);
            free(path);
            return -2;
        }
        snprintf(err, errlen, "cannot lock %s (%s): running without a lock",
                 path, strerror(e));
        close(f);
        free(path);
        return 0;
    }
    char owner[160], host[64] = "";
    gethostname(host, sizeof host - 1);
    int n =
        snprintf(owner, sizeof owner, "pid %ld on %s\n", (long)getpid(), host);
    if (ftruncate(f, 0) != 0 || pwrite(f, owner, (size_t)n, 0) != n)
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    free(path);
    *fd = f;
    return 0;
}

void journal_unlock(const char *exp_dir, int fd)
{
    if (fd < 0)
        return;
    char *path = journal_path(exp_dir, JOURNAL_LOCK);
    if (path != NULL)
        unlink(path); /* best effort: a .lock left behind is taken over */
    free(path);
    close(fd);
}

void journal_close(struct journal *j)
{
    if (j == NULL)
        return;
    journal_sync(j, util_now(), 1);
    if (j->results_fd >= 0)
        close(j->results_fd);
    if (j->points_fd >= 0)
        close(j->points_fd);
    if (j->curves_fd >= 0)
        close(j->curves_fd);
    free(j->results_path);
    free(j->points_path);
    free(j->curves_path);
    strbuf_free(&j->row);
    free(j);
}
