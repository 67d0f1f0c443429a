/*
 * experiment: see experiment.h.
 */
#include "experiment.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "expid.h"
#include "journal.h"
#include "log.h"
#include "strbuf.h"
#include "util.h"

char *experiment_absolute(const char *path)
{
    struct strbuf sb = STRBUF_INIT;
    if (path[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd) == NULL)
            return NULL;
        strbuf_printf(&sb, "%s/", cwd);
    }
    strbuf_puts(&sb, path);
    /* drop trailing slashes (but keep "/") */
    while (sb.len > 1 && sb.data[sb.len - 1] == '/')
        sb.data[--sb.len] = '\0';
    return strbuf_detach(&sb);
}

static const char *experiment_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* EXPDIR/name (owned), or NULL. */
static char *experiment_path(const struct experiment *x, const char *name)
{
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_printf(&sb, "%s/%s", x->dir, name) != 0) {
        strbuf_free(&sb);
        return NULL;
    }
    return strbuf_detach(&sb);
}

static int experiment_nonempty_file(const struct experiment *x,
                                    const char *name)
{
    char *path = experiment_path(x, name);
    FILE *f = path ? fopen(path, "r") : NULL;
    free(path);
    if (f == NULL)
        return 0;
    int c = fgetc(f);
    fclose(f);
    return c != EOF;
}

static int experiment_has_file(const struct experiment *x, const char *name)
{
    char *path = experiment_path(x, name);
    int yes = path && util_exists(path);
    free(path);
    return yes;
}

/* The directory a new experiment goes to, relative or absolute (owned):
 * --exp-dir, --exp-id, or the first free EXPnnn. Returns NULL with err. */
static char *experiment_new_dir(const struct options *o, char *err,
                                size_t errlen)
{
    struct strbuf sb = STRBUF_INIT;
    char path[PATH_MAX];
    if (o->exp_dir) {
        strbuf_puts(&sb, o->exp_dir);
    } else if (o->exp_id) {
        strbuf_printf(&sb, EXPID_ROOT "/%s", o->exp_id);
    } else {
        if (expid_next(EXPID_ROOT, path, sizeof path, err, errlen) != 0)
            return NULL;
        strbuf_puts(&sb, path);
    }
    return strbuf_detach(&sb);
}

/* Checks the chosen directory. Returns 0 or 2 with err. */
static int experiment_check_dir(const struct experiment *x,
                                const struct options *o, char *err,
                                size_t errlen)
{
    if (o->restart) {
        if (experiment_has_file(x, EXPERIMENT_CONFIG) ||
            experiment_has_file(x, JOURNAL_POINTS))
            return 0;
        snprintf(err, errlen,
                 "--restart %s: not an async-search experiment directory "
                 "(no %s or %s in it)",
                 x->dir, EXPERIMENT_CONFIG, JOURNAL_POINTS);
        return 2;
    }
    if (x->id[0] == '\0') {
        snprintf(err, errlen, "--exp-dir: '%s' has no directory name", x->dir);
        return 2;
    }
    if (experiment_nonempty_file(x, JOURNAL_RESULTS)) {
        snprintf(err, errlen,
                 "experiment directory %s already holds results (%s); use "
                 "--restart %s to continue it, or choose another --exp-dir",
                 x->dir, JOURNAL_RESULTS, x->dir);
        return 2;
    }
    return 0;
}

int experiment_resolve(struct experiment *x, const struct options *o, char *err,
                       size_t errlen)
{
    memset(x, 0, sizeof *x);
    x->lock_fd = -1;
    x->restart = 1;
    x->t0_wall = util_wall();
    err[0] = '\0';
    char *chosen =
        o->restart ? strdup(o->restart) : experiment_new_dir(o, err, errlen);
    if (chosen == NULL && err[0])
        return 2;
    x->dir = chosen ? experiment_absolute(chosen) : NULL;
    free(chosen);
    x->id = x->dir ? strdup(experiment_basename(x->dir)) : NULL;
    x->problem = experiment_absolute(o->problem);
    if (x->dir == NULL || x->id == NULL || x->problem == NULL) {
        snprintf(err, errlen, "cannot resolve the experiment directory: %s",
                 errno ? strerror(errno) : "out of memory");
        return 1;
    }
    return experiment_check_dir(x, o, err, errlen);
}

char *experiment_settings_json(const struct experiment *x,
                               const struct options *o, int workers)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, "{\"problem\": ");
    strbuf_json_string(&sb, x->problem);
    strbuf_puts(&sb, ", \"optimizer\": ");
    strbuf_json_string(&sb, o->optimizer);
    strbuf_printf(&sb,
                  ", \"seed\": %ld, \"n_jobs\": %ld, \"init_size\": %ld, "
                  "\"max_evals\": %ld, \"num_buffer\": %ld, \"workers\": %d",
                  o->seed, o->n_jobs, o->init_size, o->max_evals, o->num_buffer,
                  workers);
    strbuf_puts(&sb, ", \"stopper\": ");
    strbuf_json_string(&sb, options_stopper_name(o->stopper));
    strbuf_puts(&sb, ", \"stopper_tell\": ");
    strbuf_json_string(&sb, options_stopper_tell_name(o->stopper_tell));
    if (o->simulate > 0) {
        strbuf_puts(&sb, ", \"simulate_objective\": ");
        strbuf_json_string(&sb, o->sim_objective);
    }
    strbuf_puts(&sb, "}");
    return strbuf_detach(&sb);
}

/* Takes the experiment's lock. Returns 0, 2 (in use) or 1. */
static int experiment_lock(struct experiment *x, char *err, size_t errlen)
{
    if (x->lock_fd >= 0)
        return 0;
    int rc = journal_lock(x->dir, &x->lock_fd, err, errlen);
    if (rc == -2)
        return 2;
    if (rc < 0)
        return 1;
    if (err[0])
        log_warn("%s", err);
    err[0] = '\0';
    return 0;
}

/* R of the new job ids and the time origin, from the replay. Returns 0 or
 * 2 with err. */
static int experiment_continue(struct experiment *x, const struct options *o,
                               const struct replay *r, char *err, size_t errlen)
{
    long last = r->last_restart;
    x->previous = last;
    if (o->restart_number && o->restart_number <= last) {
        snprintf(err, errlen,
                 "--restart-number %ld: must be greater than %ld, the last "
                 "restart number used in %s",
                 o->restart_number, last, x->dir);
        return 2;
    }
    x->restart = o->restart_number ? (int)o->restart_number
                                   : (int)(last > 0 ? last + 1 : 1);
    /* Timestamps stay relative to the experiment's first start, so one
     * timeline covers every restart. */
    if (r->start_time > 0)
        x->t0_wall = r->start_time;
    return 0;
}

int experiment_replay(struct experiment *x, const struct options *o,
                      struct optimizer *opt, struct replay *out, char *err,
                      size_t errlen)
{
    struct optimizer_error e;
    char note[512];
    memset(&e, 0, sizeof e);
    memset(out, 0, sizeof *out);
    int rc = experiment_lock(x, err, errlen);
    if (rc != 0)
        return rc;
    if (journal_repair(x->dir, note, sizeof note, err, errlen) != 0)
        return 1;
    if (note[0])
        log_warn("%s", note);
    enum optimizer_status st = opt->ops->replay(opt, x->dir, out, &e);
    if (st != OPTIMIZER_OK) {
        snprintf(err, errlen, "%s", e.message);
        if (e.detail)
            log_info("optimizer traceback:\n%s", e.detail);
        optimizer_error_clear(&e);
        return st == OPTIMIZER_USER_ERROR ? 2 : 1;
    }
    rc = experiment_continue(x, o, out, err, errlen);
    if (rc != 0)
        replay_free(out);
    return rc;
}

static void experiment_json_field(struct strbuf *sb, const char *key,
                                  const char *value)
{
    strbuf_printf(sb, ",\n  \"%s\": ", key);
    if (value)
        strbuf_json_string(sb, value);
    else
        strbuf_puts(sb, "null");
}

static int experiment_write_config(const struct experiment *x,
                                   const struct options *o, int workers,
                                   const char *layout_json, char *err,
                                   size_t errlen)
{
    struct strbuf sb = STRBUF_INIT;
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    strbuf_puts(&sb, "{\n  \"exp_id\": ");
    strbuf_json_string(&sb, x->id);
    experiment_json_field(&sb, "exp_dir", x->dir);
    experiment_json_field(&sb, "problem", x->problem);
    experiment_json_field(&sb, "model", o->model);
    experiment_json_field(&sb, "host", host);
    options_settings_json(o, &sb);
    strbuf_printf(&sb,
                  ",\n  \"workers\": %d,\n  \"procs\": %d,\n"
                  "  \"restart\": %d,\n  \"start_time\": %.3f",
                  workers, workers + 1, x->restart, x->t0_wall);
    if (layout_json)
        strbuf_printf(&sb, ",\n  \"ranks\": %s", layout_json);
    strbuf_puts(&sb, "\n}\n");
    char *path = experiment_path(x, EXPERIMENT_CONFIG);
    int rc =
        path ? util_write_file(path, strbuf_str(&sb), sb.len, err, errlen) : -1;
    if (path == NULL)
        snprintf(err, errlen, "out of memory");
    free(path);
    strbuf_free(&sb);
    return rc;
}

/* Keeps the settings of the previous run as config.R.json. */
static int experiment_keep_old_config(const struct experiment *x, char *err,
                                      size_t errlen)
{
    struct strbuf to = STRBUF_INIT;
    char *from = experiment_path(x, EXPERIMENT_CONFIG);
    int rc = 0;
    strbuf_printf(&to, "%s/config.%ld.json", x->dir,
                  x->previous > 0 ? x->previous : 1);
    if (from && util_exists(from) && !util_exists(strbuf_str(&to)) &&
        rename(from, strbuf_str(&to)) != 0) {
        snprintf(err, errlen, "rename %s: %s", from, strerror(errno));
        rc = -1;
    }
    free(from);
    strbuf_free(&to);
    return rc;
}

int experiment_prepare(struct experiment *x, const struct options *o,
                       int workers, const char *layout_json, char *err,
                       size_t errlen)
{
    char *run = experiment_path(x, "run");
    int rc = run ? util_mkdir_p(run, err, errlen) : -1;
    free(run);
    if (rc != 0)
        return 2;
    rc = experiment_lock(x, err, errlen);
    if (rc != 0)
        return rc;
    if (o->restart && experiment_keep_old_config(x, err, errlen) != 0)
        return 1;
    return experiment_write_config(x, o, workers, layout_json, err, errlen) != 0
               ? 1
               : 0;
}

void experiment_open_log(struct experiment *x)
{
    char *path = experiment_path(x, EXPERIMENT_LOG);
    x->log = path ? fopen(path, "a") : NULL;
    free(path);
}

void experiment_close(struct experiment *x)
{
    if (x->log)
        fclose(x->log);
    if (x->lock_fd >= 0)
        close(x->lock_fd);
    free(x->dir);
    free(x->id);
    free(x->problem);
    memset(x, 0, sizeof *x);
    x->lock_fd = -1;
}
