/*
 * modelout: see modelout.h.
 *
 * The scanner keeps one partial line (at most MODELOUT_LINE_MAX - 1 bytes;
 * a longer line is marked and skipped whole) and, at each newline, tries the
 * line kinds of modelout_kinds in order: the first whose tag occurs in the
 * line and whose parser accepts what follows the tag wins. A new kind of
 * report (a tag, a parser, what the stream keeps of it) is one more row
 * there; the caller's hook sees it without further change.
 */
#include "modelout.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "strbuf.h"
#include "util.h"

/* A number in a result line is one word of at most this many bytes. */
#define MODELOUT_WORD_MAX 64
/* result.txt holds one number: more than this is not read. */
#define MODELOUT_RESULT_FILE_MAX 128

struct modelout {
    int log_fd;       /* -1 once the log is gone */
    const char *name; /* the log's file name, for the truncation marker */
    size_t logged;    /* bytes of output written to the log */
    size_t cap;
    int truncated;
    char line[MODELOUT_LINE_MAX];
    size_t linelen;
    int line_too_long;
    int have_result;
    double result;
    int have_text; /* a result line was seen, with a number or not */
    char result_text[MODELOUT_LINE_MAX]; /* after the tag, last result line */
    char last[MODELOUT_LAST_MAX];        /* the last non-blank line */
    modelout_line_fn on_line;
    void *arg;
    char path[]; /* the log's path; name points into it */
};

/* ---- line kinds --------------------------------------------------------- */

/* Characters that separate the words of a result line: blanks and the
 * label punctuation of "val_loss: 0.5", "val_loss=0.5", "loss, 0.5". */
#define MODELOUT_SEPARATORS " \t:=,;"

/* Finds the first word of text that is a number, as the original model.sh
 * took the number after the tag (the label is optional). Accepts "0.5",
 * "val_loss:\t0.5", "val_loss=0.375", "1e-05". Returns 1 and sets *v, or 0. */
static int modelout_first_number(const char *p, double *v, const char **after)
{
    while (*p) {
        while (*p && strchr(MODELOUT_SEPARATORS, *p))
            p++;
        if (*p == '\0' || *p == '\r' || *p == '\n')
            break;
        const char *start = p;
        while (*p && !strchr(MODELOUT_SEPARATORS "\r\n", *p))
            p++;
        char word[MODELOUT_WORD_MAX];
        size_t len = (size_t)(p - start);
        if (len == 0 || len >= sizeof word)
            continue;
        memcpy(word, start, len);
        word[len] = '\0';
        char *end;
        double x = strtod(word, &end);
        if (end != word && *end == '\0') {
            *v = x;
            if (after)
                *after = p;
            return 1;
        }
    }
    return 0;
}

static int modelout_parse_result(const char *rest, struct modelout_line *line)
{
    line->text = rest;
    if (modelout_first_number(rest, &line->value, NULL))
        return 1;
    line->value = NAN; /* labelled values that are not numbers: the
                        * objectives' parser says which */
    line->no_number = 1;
    return strchr(rest, '=') != NULL || strchr(rest, ':') != NULL;
}

/* "<step> <value> [<last step>]": a positive whole step, then a finite
 * number, then perhaps the last step of the whole training (a whole number
 * >= step). A line of this kind is always recognised; line->bad says what is
 * wrong with it. */
static int modelout_parse_intermediate(const char *rest,
                                       struct modelout_line *line)
{
    char *end;
    double step = NAN;
    line->bad = "";
    while (*rest && strchr(MODELOUT_SEPARATORS, *rest))
        rest++;
    step = strtod(rest, &end);
    if (end == rest || !(step >= 1) || step != floor(step) || step > 1e15) {
        line->bad = "the step is not a whole number from 1";
        return 1;
    }
    line->step = (long)step;
    line->last_step = 0;
    const char *after = NULL;
    if (!modelout_first_number(end, &line->value, &after)) {
        line->bad = "no value after the step";
        return 1;
    }
    if (!isfinite(line->value)) {
        line->bad = "the value is not finite";
        return 1;
    }
    while (*after && strchr(MODELOUT_SEPARATORS, *after))
        after++;
    if (*after == '\0' || *after == '\r' || *after == '\n')
        return 1;
    double last = strtod(after, &end);
    if (end == after || !(last >= step) || last != floor(last) || last > 1e15)
        line->bad = "the last step is not a whole number from the step on";
    else
        line->last_step = (long)last;
    return 1;
}

struct modelout_kind_def {
    const char *tag;
    enum modelout_kind kind;
    /* Parses the text after the tag into line; returns 1, or 0 to pass. */
    int (*parse)(const char *rest, struct modelout_line *line);
};

static const struct modelout_kind_def modelout_kinds[] = {
    {MODELOUT_RESULT_TAG, MODELOUT_RESULT, modelout_parse_result},
    {MODELOUT_INTERMEDIATE_TAG, MODELOUT_INTERMEDIATE,
     modelout_parse_intermediate},
};

#define MODELOUT_NKINDS (sizeof modelout_kinds / sizeof modelout_kinds[0])

/* Returns 1 and fills *out if line is one of modelout_kinds, else 0. */
static int modelout_recognise(const char *line, struct modelout_line *out)
{
    for (size_t i = 0; i < MODELOUT_NKINDS; i++) {
        const struct modelout_kind_def *k = &modelout_kinds[i];
        const char *p = strstr(line, k->tag);
        if (p == NULL)
            continue;
        memset(out, 0, sizeof *out);
        out->kind = k->kind;
        if (k->parse(p + strlen(k->tag), out))
            return 1;
    }
    return 0;
}

int modelout_parse_result_line(const char *line, double *v)
{
    const char *p = strstr(line, MODELOUT_RESULT_TAG);
    if (p == NULL)
        return 0;
    return modelout_first_number(p + strlen(MODELOUT_RESULT_TAG), v, NULL);
}

/* What the stream keeps of a recognised line, before the hook sees it. */
static void modelout_take(struct modelout *o, const struct modelout_line *l)
{
    switch (l->kind) {
    case MODELOUT_RESULT:
        if (!l->no_number) {
            o->have_result = 1;
            o->result = l->value;
        }
        o->have_text = 1;
        snprintf(o->result_text, sizeof o->result_text, "%s",
                 l->text ? l->text : "");
        break;
    case MODELOUT_INTERMEDIATE: break; /* the caller's (its hook) */
    }
    if (o->on_line)
        o->on_line(o->arg, l);
}

/* ---- the log ------------------------------------------------------------ */

static void modelout_write(struct modelout *o, const char *buf, size_t len)
{
    if (o->log_fd < 0)
        return;
    while (len > 0) {
        ssize_t w = write(o->log_fd, buf, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            /* A full disk or a removed directory costs the log, not the
             * evaluation. */
            close(o->log_fd);
            o->log_fd = -1;
            return;
        }
        buf += w;
        len -= (size_t)w;
    }
}

static void modelout_vwrite(struct modelout *o, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    char *text = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (text != NULL && vsnprintf(text, (size_t)n + 1, fmt, again) == n)
        modelout_write(o, text, (size_t)n);
    va_end(again);
    free(text);
}

void modelout_note(struct modelout *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    modelout_vwrite(o, fmt, ap);
    va_end(ap);
}

int modelout_open(const char *path, size_t cap, modelout_line_fn on_line,
                  void *arg, struct modelout **out, char *err, size_t errlen)
{
    size_t pathlen = strlen(path);
    struct modelout *o = calloc(1, sizeof *o + pathlen + 1);
    *out = NULL;
    if (o == NULL) {
        snprintf(err, errlen, "worker out of memory");
        return -1;
    }
    memcpy(o->path, path, pathlen + 1);
    const char *slash = strrchr(o->path, '/');
    o->name = slash ? slash + 1 : o->path;
    o->cap = cap;
    o->on_line = on_line;
    o->arg = arg;
    o->log_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (o->log_fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(e));
        free(o);
        errno = e;
        return -1;
    }
    *out = o;
    return 0;
}

void modelout_close(struct modelout *o)
{
    if (o == NULL)
        return;
    if (o->log_fd >= 0)
        close(o->log_fd);
    free(o);
}

/* ---- the scanner -------------------------------------------------------- */

/* Keeps the line, blanks trimmed, if it is not blank. */
static void modelout_keep_last(struct modelout *o)
{
    const char *start = o->line;
    size_t len = o->linelen;
    while (len > 0 && strchr(" \t\r", start[len - 1]))
        len--;
    while (len > 0 && strchr(" \t", *start))
        start++, len--;
    if (len == 0)
        return;
    if (len >= sizeof o->last)
        len = sizeof o->last - 1;
    memcpy(o->last, start, len);
    o->last[len] = '\0';
}

const char *modelout_last_line(const struct modelout *o)
{
    return o->last;
}

static void modelout_scan_line(struct modelout *o)
{
    struct modelout_line l;
    o->line[o->linelen] = '\0';
    modelout_keep_last(o);
    if (!o->line_too_long && modelout_recognise(o->line, &l))
        modelout_take(o, &l);
    o->linelen = 0;
    o->line_too_long = 0;
}

void modelout_feed(struct modelout *o, const char *buf, size_t len)
{
    if (o->logged < o->cap) {
        size_t keep = len < o->cap - o->logged ? len : o->cap - o->logged;
        modelout_write(o, buf, keep);
        o->logged += keep;
        if (keep < len && !o->truncated) {
            modelout_note(o,
                          "\n[async-search] %s truncated at %zu bytes; "
                          "further output discarded (still scanned "
                          "for " MODELOUT_RESULT_TAG ")\n",
                          o->name, o->cap);
            o->truncated = 1;
        }
    } else if (!o->truncated) {
        o->truncated = 1;
    }
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            modelout_scan_line(o);
        } else if (o->linelen + 1 < sizeof o->line) {
            o->line[o->linelen++] = buf[i];
        } else {
            o->line_too_long = 1;
        }
    }
}

void modelout_finish(struct modelout *o)
{
    if (o->linelen > 0)
        modelout_scan_line(o); /* a last line without newline */
}

int modelout_result(const struct modelout *o, double *v)
{
    if (!o->have_result)
        return 0;
    *v = o->result;
    return 1;
}

int modelout_read_result_file(const char *dir, double *v)
{
    struct strbuf path = STRBUF_INIT;
    int ok = 0;
    if (strbuf_printf(&path, "%s/%s", dir, MODELOUT_RESULT_FILE) != 0) {
        strbuf_free(&path);
        return 0;
    }
    FILE *f = fopen(path.data, "r");
    strbuf_free(&path);
    if (f == NULL)
        return 0;
    char buf[MODELOUT_RESULT_FILE_MAX];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *end;
    double x = strtod(buf, &end);
    if (end != buf) {
        while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
            end++;
        if (*end == '\0') {
            *v = x;
            ok = 1;
        }
    }
    return ok;
}

const char *modelout_result_text(const struct modelout *o)
{
    return o->have_text ? o->result_text : "";
}

/* The index of the word [p, p+len) among the blank-separated names, or -1;
 * *k counts the names. */
static int modelout_name_index(const char *names, const char *p, size_t len,
                               int *k)
{
    int found = -1, i = 0;
    const char *n = names;
    while (*n) {
        while (*n == ' ')
            n++;
        if (*n == '\0')
            break;
        const char *start = n;
        while (*n && *n != ' ')
            n++;
        if ((size_t)(n - start) == len && strncmp(start, p, len) == 0)
            found = i;
        i++;
    }
    *k = i;
    return found;
}

/* The i-th blank-separated name into buf. */
static void modelout_nth_name(const char *names, int i, char *buf, size_t len)
{
    const char *n = names;
    buf[0] = '\0';
    for (int j = 0; *n; j++) {
        while (*n == ' ')
            n++;
        const char *start = n;
        while (*n && *n != ' ')
            n++;
        if (j == i) {
            snprintf(buf, len, "%.*s", (int)(n - start), start);
            return;
        }
    }
}

#define MODELOUT_BLANKS " \t\r\n,;"

/* One "label=value" (or "label: value") of text at *p: returns 1 with the
 * label [*label, +*llen) and the value word [*val, +*vlen), 0 at the end,
 * -1 when the text there is not a labelled value. */
static int modelout_next_pair(const char **p, const char **label, size_t *llen,
                              const char **val, size_t *vlen)
{
    const char *s = *p;
    while (*s && strchr(MODELOUT_BLANKS, *s))
        s++;
    if (*s == '\0')
        return 0;
    *label = s;
    while (*s && (isalnum((unsigned char)*s) || strchr("_.-", *s)))
        s++;
    *llen = (size_t)(s - *label);
    while (*s == ' ' || *s == '\t')
        s++;
    if (*llen == 0 || (*s != '=' && *s != ':'))
        return -1;
    s++;
    while (*s == ' ' || *s == '\t')
        s++;
    *val = s;
    while (*s && !strchr(MODELOUT_BLANKS, *s))
        s++;
    *vlen = (size_t)(s - *val);
    *p = s;
    return 1;
}

int modelout_parse_objectives(const char *text, const char *names,
                              double *values, int *k, char *why, size_t whylen)
{
    int seen[ASYNC_MAX_OBJECTIVES] = {0}, n = 0, r;
    const char *p = text, *label, *val;
    size_t llen, vlen;
    modelout_name_index(names, "", 0, k);
    while ((r = modelout_next_pair(&p, &label, &llen, &val, &vlen)) == 1) {
        int i = modelout_name_index(names, label, llen, &n);
        if (i < 0 || i >= ASYNC_MAX_OBJECTIVES) {
            snprintf(why, whylen,
                     "unexpected label '%.*s' in the " MODELOUT_RESULT_TAG
                     " line (the problem's objectives: %s)",
                     (int)llen, label, names);
            return -1;
        }
        char word[MODELOUT_WORD_MAX], *end;
        snprintf(word, sizeof word, "%.*s", (int)vlen, val);
        double x = strtod(word, &end);
        if (vlen == 0 || vlen >= sizeof word || end == word || *end != '\0' ||
            !isfinite(x)) {
            snprintf(why, whylen, "objective '%.*s': '%.*s' is not a %s",
                     (int)llen, label, (int)(vlen < 40 ? vlen : 40), val,
                     end != word && *end == '\0' ? "finite number" : "number");
            return -1;
        }
        if (seen[i]++) {
            snprintf(why, whylen,
                     "objective '%.*s' given twice in the " MODELOUT_RESULT_TAG
                     " line",
                     (int)llen, label);
            return -1;
        }
        values[i] = x;
    }
    if (r < 0) {
        snprintf(why, whylen,
                 "cannot read the " MODELOUT_RESULT_TAG
                 " line: expected LABEL=NUMBER for each of: %s",
                 names);
        return -1;
    }
    for (int i = 0; i < *k && i < ASYNC_MAX_OBJECTIVES; i++) {
        if (!seen[i]) {
            char name[MODELOUT_WORD_MAX];
            modelout_nth_name(names, i, name, sizeof name);
            snprintf(why, whylen,
                     "objective '%s' missing from the " MODELOUT_RESULT_TAG
                     " line (expected LABEL=NUMBER for each of: %s)",
                     name, names);
            return -1;
        }
    }
    return 0;
}
