/*
 * optimizer: the interface the manager has to whatever proposes points, and
 * the thread that runs it.
 *
 * The manager never calls an optimizer directly. An optimizer is a small ops
 * table (like the transport's): tell results, ask for points, and on a
 * restart replay the experiment's journal. The production implementation is
 * the embedded Python engine (engine_optimizer in engine.h); unit tests use a
 * C fake. The optimizer thread (optimizer_thread_*) takes the work that
 * accumulated in the queue, tells every result since its last turn in one
 * call, asks for the points requested, and hands them back through the
 * queue; the manager's loop only touches the queue, so it never waits for an
 * optimizer and never runs Python.
 */
#ifndef ASYNC_SEARCH_OPTIMIZER_H
#define ASYNC_SEARCH_OPTIMIZER_H

#include <stddef.h>

#include "batch.h"
#include "queue.h"

#define OPTIMIZER_ERR_LEN 1024

enum optimizer_status {
    OPTIMIZER_OK = 0,
    OPTIMIZER_ERROR = 1,     /* internal failure: traceback in detail */
    OPTIMIZER_USER_ERROR = 2 /* bad input (e.g. a bad experiment): one line */
};

struct optimizer_error {
    char message[OPTIMIZER_ERR_LEN]; /* one line */
    char *detail; /* owned traceback or NULL: free with optimizer_error_clear */
};

struct optimizer;

struct optimizer_ops {
    /* Tells n finished evaluations in one call (values NaN for failures).
     * The results stay the caller's. */
    enum optimizer_status (*tell)(struct optimizer *o,
                                  const struct point_result *results, long n,
                                  struct optimizer_error *e);
    /* Produces exactly n new points; *out owns them. */
    enum optimizer_status (*ask)(struct optimizer *o, long n,
                                 struct point_batch **out,
                                 struct optimizer_error *e);
    /* Reads the journal of exp_dir, tells the optimizer every finished
     * result, registers the points that never finished as pending (they are
     * issued again), and fills *out (owned by the caller; free with
     * replay_free). A bad experiment is OPTIMIZER_USER_ERROR. */
    enum optimizer_status (*replay)(struct optimizer *o, const char *exp_dir,
                                    struct replay *out,
                                    struct optimizer_error *e);
};

struct optimizer {
    const struct optimizer_ops *ops;
};

/* Frees e->detail. */
void optimizer_error_clear(struct optimizer_error *e);

/* What the optimizer thread did (read after optimizer_thread_stop). */
struct optimizer_stats {
    long turns;    /* tell/ask rounds */
    long points;   /* points asked for */
    double busy_s; /* seconds spent in tell and ask */
};

struct optimizer_thread;

/*
 * Starts a thread that serves the queue with the optimizer until
 * optimizer_thread_stop. A failed tell or ask stops the thread and is
 * reported through queue_fail (its traceback goes to the log). Neither the
 * optimizer nor the queue is owned. Returns 0, or -1 with err.
 */
int optimizer_thread_start(struct optimizer *o, struct queue *q,
                           struct optimizer_thread **out, char *err,
                           size_t errlen);
/* Stops the thread after its current turn, joins it, copies its figures into
 * *stats (may be NULL) and frees it. NULL is allowed (nothing happens). */
void optimizer_thread_stop(struct optimizer_thread *t,
                           struct optimizer_stats *stats);

#endif
