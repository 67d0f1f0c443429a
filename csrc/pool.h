/*
 * pool: the manager's points and workers.
 *
 * Points live in one array in the order they were produced; the points not
 * yet handed out form the dispatch buffer at its end, so dispatch is FIFO and
 * needs no extra queue. Idle workers wait in a ring, so that work rotates
 * over all of them. The pool also keeps what follows from the points alone:
 * job ids R_I_J, the counts by status, the best result, and the worker time
 * figures (busy time of finished evaluations, idle time between a result and
 * the next task). It sends nothing and writes nothing: the manager's loop
 * does, with what the pool hands it.
 *
 * Workers are numbered 1..workers, as transport ranks are.
 */
#ifndef ASYNC_SEARCH_POOL_H
#define ASYNC_SEARCH_POOL_H

#include <stddef.h>

#include "batch.h"
#include "launch.h"
#include "runid.h"

enum point_state {
    POINT_BUFFERED,
    POINT_RUNNING,
    POINT_DONE,
    POINT_UNRECORDED /* ran, but no result could be recorded (the storage
                      * failed): a restart issues it again */
};

struct point {
    char *params_json; /* owned */
    char *csv_fields;  /* owned */
    char job_id[RUNID_MAX];
    enum point_state state;
    int worker;       /* the worker running it (or that ran it), -1 none */
    double t_submit;  /* when it was dispatched: seconds since the start */
    double objective; /* NaN unless LAUNCH_OK, or LAUNCH_STOPPED (its last
                       * intermediate value) */
    enum launch_status status; /* once done */
    double sim_value; /* simulations: the value the virtual worker reports */
    long trial;       /* its stopper trial once it reported a value, else -1 */
    int halted;       /* the manager asked its worker to stop it early */
};

/* Counts by status of the finished points (earlier runs included). */
struct pool_counts {
    long ok, failed, timeout;
    long stopped; /* stopped early by a stopper: not failures */
};

struct pool;

/* A pool of `workers` idle workers (>= 1) whose new job ids start with
 * restart number `restart` (>= 1). Returns NULL when memory runs out. */
struct pool *pool_create(int workers, int restart);
/* Frees the pool and every point (NULL is allowed). */
void pool_free(struct pool *p);

/*
 * Appends the points of a new batch to the dispatch buffer, taking the
 * batch's strings (they are NULL in *b afterwards; the caller still frees
 * b). The points get the ids R_I_J of the next batch I. Returns the index of
 * the first new point, or -1 with err (memory).
 */
long pool_add_batch(struct pool *p, struct point_batch *b, char *err,
                    size_t errlen);
/*
 * Appends the finished rows of an earlier run (a restart's replay), taking
 * their strings. They keep their job ids, count by status and can be the
 * best, but are never dispatched. Returns 0, or -1 with err.
 */
int pool_add_finished(struct pool *p, struct replay_point *rows, long n,
                      char *err, size_t errlen);

/*
 * Takes the next buffered point for the next idle worker, if there are
 * both: marks it running on that worker, dispatched at `t_submit` (seconds
 * since the start) and `now` (monotonic), and returns 1 with its index and
 * the worker; returns 0 when nothing can be dispatched.
 */
int pool_dispatch(struct pool *p, double t_submit, double now, long *idx,
                  int *worker);
/*
 * Records the end of the evaluation that `worker` reports for point `seq`
 * at `now` (monotonic): the point is done with status and objective (NaN
 * unless ok), the worker is idle again and `duration` seconds count as busy.
 * Returns the point's index, or -1 when the worker is not running that point
 * (a stray or repeated message: nothing changes).
 */
long pool_finish(struct pool *p, int worker, long seq, enum launch_status st,
                 double objective, double duration, double now);

/* The index of the point `worker` runs if it is `seq`, else -1 (a stray
 * or repeated message). Changes nothing. */
long pool_running_point(const struct pool *p, int worker, long seq);
/*
 * The evaluation that `worker` ran for point `seq` ended without a result
 * that can be recorded: the worker is idle again at now, the point is
 * POINT_UNRECORDED and counts nowhere. Returns its index, or -1 as
 * pool_finish does.
 */
long pool_unrecorded(struct pool *p, int worker, long seq, double now);

/* Sets the stopper trial of point idx. */
void pool_set_trial(struct pool *p, long idx, long trial);
/* Marks point idx as asked to stop early. */
void pool_set_halted(struct pool *p, long idx);

/* The point at index idx (0 <= idx < pool_size). */
const struct point *pool_point(const struct pool *p, long idx);
/* Points held (produced or replayed). */
long pool_size(const struct pool *p);
/* Points produced and not yet dispatched. */
long pool_buffered(const struct pool *p);
/* Workers without an evaluation. */
int pool_idle(const struct pool *p);
/* Evaluations running. */
long pool_running(const struct pool *p);
int pool_workers(const struct pool *p);
struct pool_counts pool_counts(const struct pool *p);
/* The best ok point, or NULL. */
const struct point *pool_best(const struct pool *p);
/*
 * Fills out[0..k) with the best ok points, best first (ties by job id), and
 * returns how many there were (at most k). Returns -1 if memory runs out.
 */
long pool_top(const struct pool *p, const struct point **out, long k);
/*
 * Worker time up to now (monotonic): *busy gets the seconds of finished
 * evaluations plus the elapsed part of running ones, *idle the seconds
 * workers waited between a result (or the start) and their next task.
 */
void pool_worker_time(const struct pool *p, double now, double *busy,
                      double *idle);
/* Starts the idle clock of every worker at now (the loop's start). */
void pool_start_clock(struct pool *p, double now);

#endif
