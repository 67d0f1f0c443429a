/*
 * optimizer: see optimizer.h. The thread's loop is the whole of the module:
 * wait on the queue, tell, ask, push, and keep the figures that the summary
 * prints. The figures are written by the thread only and read after the
 * join, so they need no lock.
 */
#include "optimizer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

struct optimizer_thread {
    struct optimizer *opt;
    struct queue *queue;
    pthread_t thread;
    struct optimizer_stats stats;
};

void optimizer_error_clear(struct optimizer_error *e)
{
    free(e->detail);
    e->detail = NULL;
}

/* Reports a failed call: traceback to the log, message to the manager. */
static void optimizer_thread_fail(struct optimizer_thread *t,
                                  struct optimizer_error *e)
{
    if (e->detail)
        log_info("optimizer traceback:\n%s", e->detail);
    queue_fail(t->queue, e->message);
    optimizer_error_clear(e);
}

/* One turn: every result since the last turn, then the requested points.
 * Returns 0, or -1 after reporting a failure. */
static int optimizer_thread_turn(struct optimizer_thread *t,
                                 const struct queue_work *w)
{
    struct optimizer_error e;
    memset(&e, 0, sizeof e);
    double t0 = util_now();
    t->stats.turns++;
    t->stats.points += w->nrequested;
    if (w->nresults > 0 && t->opt->ops->tell(t->opt, w->results, w->nresults,
                                             &e) != OPTIMIZER_OK) {
        optimizer_thread_fail(t, &e);
        return -1;
    }
    if (w->nrequested > 0) {
        struct point_batch *b = NULL;
        if (t->opt->ops->ask(t->opt, w->nrequested, &b, &e) != OPTIMIZER_OK) {
            optimizer_thread_fail(t, &e);
            return -1;
        }
        b->turn_s = util_now() - t0;
        queue_push_batch(t->queue, b);
    }
    t->stats.busy_s += util_now() - t0;
    return 0;
}

static void *optimizer_thread_main(void *arg)
{
    struct optimizer_thread *t = arg;
    struct queue_work w;
    while (queue_wait(t->queue, &w) == 0) {
        int rc = optimizer_thread_turn(t, &w);
        queue_work_clear(&w);
        if (rc != 0)
            break;
    }
    return NULL;
}

int optimizer_thread_start(struct optimizer *o, struct queue *q,
                           struct optimizer_thread **out, char *err,
                           size_t errlen)
{
    struct optimizer_thread *t = calloc(1, sizeof *t);
    *out = NULL;
    if (t == NULL) {
        snprintf(err, errlen, "out of memory for the optimizer thread");
        return -1;
    }
    t->opt = o;
    t->queue = q;
    int rc = pthread_create(&t->thread, NULL, optimizer_thread_main, t);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the optimizer thread: %s",
                 strerror(rc));
        free(t);
        return -1;
    }
    *out = t;
    return 0;
}

void optimizer_thread_stop(struct optimizer_thread *t,
                           struct optimizer_stats *stats)
{
    if (t == NULL)
        return;
    queue_stop(t->queue);
    pthread_join(t->thread, NULL);
    if (stats)
        *stats = t->stats;
    free(t);
}
