/*
 * pool: see pool.h.
 *
 * Per worker (index 1..workers): the point it runs (-1 none), when it
 * started it, and since when it has been idle (0: busy or not yet counted).
 * The idle ring holds worker numbers from idle_head on, nidle of them.
 */
#include "pool.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_FIRST_CAP 64

struct pool {
    int workers;
    int restart;   /* R of new job ids */
    long batch_no; /* I of the last batch */
    struct point *points;
    long npoints, cap;
    long next_dispatch; /* first buffered point */
    long *running;      /* per worker: point index or -1 */
    double *started;    /* per worker: dispatch time (monotonic) */
    double *idle_since; /* per worker: when it became idle (0: not counted) */
    int *idle;          /* ring of idle workers */
    int idle_head, nidle;
    long nrunning;
    struct pool_counts counts;
    long best; /* index of the best ok point, -1 */
    double busy_s, idle_s;
};

static void pool_push_idle(struct pool *p, int worker)
{
    p->idle[(p->idle_head + p->nidle) % p->workers] = worker;
    p->nidle++;
}

static int pool_pop_idle(struct pool *p)
{
    int w = p->idle[p->idle_head];
    p->idle_head = (p->idle_head + 1) % p->workers;
    p->nidle--;
    return w;
}

struct pool *pool_create(int workers, int restart)
{
    struct pool *p = calloc(1, sizeof *p);
    if (p == NULL || workers < 1)
        goto fail;
    p->workers = workers;
    p->restart = restart;
    p->best = -1;
    p->running = malloc(((size_t)workers + 1) * sizeof *p->running);
    p->started = calloc((size_t)workers + 1, sizeof *p->started);
    p->idle_since = calloc((size_t)workers + 1, sizeof *p->idle_since);
    p->idle = malloc((size_t)workers * sizeof *p->idle);
    if (!p->running || !p->started || !p->idle_since || !p->idle)
        goto fail;
    for (int w = 0; w <= workers; w++)
        p->running[w] = -1;
    for (int w = 1; w <= workers; w++)
        pool_push_idle(p, w);
    return p;
fail:
    pool_free(p);
    return NULL;
}

void pool_free(struct pool *p)
{
    if (p == NULL)
        return;
    for (long i = 0; i < p->npoints; i++) {
        free(p->points[i].params_json);
        free(p->points[i].csv_fields);
    }
    free(p->points);
    free(p->running);
    free(p->started);
    free(p->idle_since);
    free(p->idle);
    free(p);
}

/* Room for n more points. Returns 0 or -1 with err. */
static int pool_reserve(struct pool *p, long n, char *err, size_t errlen)
{
    if (p->npoints + n <= p->cap)
        return 0;
    long cap = p->cap ? p->cap : POOL_FIRST_CAP;
    while (cap < p->npoints + n)
        cap *= 2;
    struct point *grown = realloc(p->points, (size_t)cap * sizeof *grown);
    if (grown == NULL) {
        snprintf(err, errlen, "out of memory for %ld points", cap);
        return -1;
    }
    p->points = grown;
    p->cap = cap;
    return 0;
}

/* A new point taking the strings; state buffered. */
static struct point *pool_append(struct pool *p, char **params_json,
                                 char **csv_fields)
{
    struct point *pt = &p->points[p->npoints++];
    memset(pt, 0, sizeof *pt);
    pt->params_json = *params_json;
    pt->csv_fields = *csv_fields;
    *params_json = *csv_fields = NULL;
    pt->state = POINT_BUFFERED;
    pt->worker = -1;
    pt->objective = NAN;
    pt->sim_value = NAN;
    pt->trial = -1;
    return pt;
}

long pool_add_batch(struct pool *p, struct point_batch *b, char *err,
                    size_t errlen)
{
    long first = p->npoints;
    if (pool_reserve(p, b->count, err, errlen) != 0)
        return -1;
    p->batch_no++;
    for (long i = 0; i < b->count; i++) {
        struct point *pt =
            pool_append(p, &b->params_json[i], &b->csv_fields[i]);
        if (b->sim_values)
            pt->sim_value = b->sim_values[i];
        if (runid_format(pt->job_id, sizeof pt->job_id, p->restart, p->batch_no,
                         i) != 0) {
            snprintf(err, errlen, "job id %d_%ld_%ld is out of range",
                     p->restart, p->batch_no, i);
            return -1;
        }
    }
    return first;
}

static void pool_count(struct pool *p, long idx)
{
    const struct point *pt = &p->points[idx];
    if (pt->status == LAUNCH_OK) {
        p->counts.ok++;
        if (p->best < 0 || pt->objective < p->points[p->best].objective)
            p->best = idx;
    } else if (pt->status == LAUNCH_TIMEOUT) {
        p->counts.timeout++;
    } else if (pt->status == LAUNCH_STOPPED) {
        p->counts.stopped++;
    } else {
        p->counts.failed++;
    }
}

static enum launch_status pool_status_from_name(const char *s)
{
    if (strcmp(s, "ok") == 0)
        return LAUNCH_OK;
    if (strcmp(s, "timeout") == 0)
        return LAUNCH_TIMEOUT;
    if (strcmp(s, "stopped") == 0)
        return LAUNCH_STOPPED;
    return LAUNCH_FAILED;
}

int pool_add_finished(struct pool *p, struct replay_point *rows, long n,
                      char *err, size_t errlen)
{
    if (p->next_dispatch != p->npoints) {
        snprintf(err, errlen, "replayed rows must come before new points");
        return -1;
    }
    if (pool_reserve(p, n, err, errlen) != 0)
        return -1;
    for (long i = 0; i < n; i++) {
        struct point *pt =
            pool_append(p, &rows[i].params_json, &rows[i].csv_fields);
        snprintf(pt->job_id, sizeof pt->job_id, "%s", rows[i].job_id);
        pt->state = POINT_DONE;
        pt->status = pool_status_from_name(rows[i].status);
        pt->objective = pt->status == LAUNCH_OK || pt->status == LAUNCH_STOPPED
                            ? rows[i].objective
                            : NAN;
        pool_count(p, p->npoints - 1);
    }
    p->next_dispatch = p->npoints;
    return 0;
}

int pool_dispatch(struct pool *p, double t_submit, double now, long *idx,
                  int *worker)
{
    if (p->nidle == 0 || p->next_dispatch >= p->npoints)
        return 0;
    long i = p->next_dispatch++;
    int w = pool_pop_idle(p);
    struct point *pt = &p->points[i];
    pt->state = POINT_RUNNING;
    pt->worker = w;
    pt->t_submit = t_submit;
    if (p->idle_since[w] > 0)
        p->idle_s += now - p->idle_since[w];
    p->idle_since[w] = 0;
    p->started[w] = now;
    p->running[w] = i;
    p->nrunning++;
    *idx = i;
    *worker = w;
    return 1;
}

long pool_running_point(const struct pool *p, int worker, long seq)
{
    if (worker < 1 || worker > p->workers || p->running[worker] < 0 ||
        p->running[worker] != seq)
        return -1;
    return p->running[worker];
}

/* The worker is idle again at now; returns the point it ran. */
static long pool_release(struct pool *p, int worker, double now)
{
    long i = p->running[worker];
    p->running[worker] = -1;
    p->nrunning--;
    p->idle_since[worker] = now;
    pool_push_idle(p, worker);
    return i;
}

long pool_unrecorded(struct pool *p, int worker, long seq, double now)
{
    if (pool_running_point(p, worker, seq) < 0)
        return -1;
    long i = pool_release(p, worker, now);
    p->points[i].state = POINT_UNRECORDED;
    return i;
}

long pool_finish(struct pool *p, int worker, long seq, enum launch_status st,
                 double objective, double duration, double now)
{
    if (pool_running_point(p, worker, seq) < 0)
        return -1;
    long i = pool_release(p, worker, now);
    struct point *pt = &p->points[i];
    pt->state = POINT_DONE;
    pt->status = st;
    pt->objective = st == LAUNCH_OK || st == LAUNCH_STOPPED ? objective : NAN;
    p->busy_s += duration;
    pool_count(p, i);
    return i;
}

void pool_set_trial(struct pool *p, long idx, long trial)
{
    p->points[idx].trial = trial;
}

void pool_set_halted(struct pool *p, long idx)
{
    p->points[idx].halted = 1;
}

const struct point *pool_point(const struct pool *p, long idx)
{
    return &p->points[idx];
}

long pool_size(const struct pool *p)
{
    return p->npoints;
}

long pool_buffered(const struct pool *p)
{
    return p->npoints - p->next_dispatch;
}

int pool_idle(const struct pool *p)
{
    return p->nidle;
}

long pool_running(const struct pool *p)
{
    return p->nrunning;
}

int pool_workers(const struct pool *p)
{
    return p->workers;
}

struct pool_counts pool_counts(const struct pool *p)
{
    return p->counts;
}

const struct point *pool_best(const struct pool *p)
{
    return p->best >= 0 ? &p->points[p->best] : NULL;
}

static int pool_compare_objective(const void *a, const void *b)
{
    const struct point *const *pa = a, *const *pb = b;
    double x = (*pa)->objective, y = (*pb)->objective;
    return x < y ? -1 : x > y ? 1 : strcmp((*pa)->job_id, (*pb)->job_id);
}

long pool_top(const struct pool *p, const struct point **out, long k)
{
    long n = p->counts.ok;
    const struct point **ok = malloc((size_t)(n > 0 ? n : 1) * sizeof *ok);
    if (ok == NULL)
        return -1;
    n = 0;
    for (long i = 0; i < p->npoints; i++)
        if (p->points[i].state == POINT_DONE &&
            p->points[i].status == LAUNCH_OK)
            ok[n++] = &p->points[i];
    qsort(ok, (size_t)n, sizeof *ok, pool_compare_objective);
    if (n > k)
        n = k;
    memcpy(out, ok, (size_t)n * sizeof *out);
    free(ok);
    return n;
}

void pool_worker_time(const struct pool *p, double now, double *busy,
                      double *idle)
{
    *busy = p->busy_s;
    for (int w = 1; w <= p->workers; w++)
        if (p->running[w] >= 0)
            *busy += now - p->started[w];
    *idle = p->idle_s;
}

void pool_start_clock(struct pool *p, double now)
{
    for (int w = 1; w <= p->workers; w++)
        p->idle_since[w] = now;
}
