/*
 * queue: the hand-off between the manager's MPI thread and its optimizer
 * thread.
 *
 * The MPI thread pushes finished results and requests for points; it never
 * waits (every call takes the mutex for a few pointer moves). The optimizer
 * thread sleeps on a condition variable until there is something to do, takes
 * everything that accumulated in one go (so all results since its last turn
 * are told in one batch, one refit), and pushes batches of points back.
 */
#ifndef ASYNC_SEARCH_QUEUE_H
#define ASYNC_SEARCH_QUEUE_H

#include <stddef.h>

#include "batch.h"

#define QUEUE_ERR_LEN 1024

/* What the optimizer thread takes in one turn (owned by the taker). */
struct queue_work {
    struct point_result *results;
    long nresults;
    long nrequested; /* points to ask for */
};

struct queue;

/* Returns a new queue, or NULL when memory or pthreads fail. */
struct queue *queue_create(void);
/* Frees the queue and everything still in it. No thread may use it. */
void queue_destroy(struct queue *q);

/* --- MPI thread ------------------------------------------------------- */
/* Queues a result: a copy of *r (its params_json copied, not taken).
 * Returns 0 or -1 (no memory). */
int queue_push_result(struct queue *q, const struct point_result *r);
/* Asks for n more points. */
void queue_request(struct queue *q, long n);
/* Tells the optimizer thread to finish after its current turn. */
void queue_stop(struct queue *q);
/* Returns the next batch of points (ownership passes to the caller), or NULL
 * if none is ready. Never blocks on the optimizer. */
struct point_batch *queue_pop_batch(struct queue *q);
/* Returns nonzero, with the message in err, once the optimizer thread has
 * failed. */
int queue_failed(struct queue *q, char *err, size_t errlen);
/* Points requested and not yet handed back by queue_pop_batch. */
long queue_pending(struct queue *q);

/* --- optimizer thread ------------------------------------------------- */
/* Blocks until there are results or requests, or a stop. Moves them into
 * *work. Returns 0 for work, 1 for stop (work is then empty). */
int queue_wait(struct queue *q, struct queue_work *work);
/* Hands a batch to the MPI thread (ownership passes to the queue). */
void queue_push_batch(struct queue *q, struct point_batch *b);
/* Records a fatal optimizer error (copied). */
void queue_fail(struct queue *q, const char *msg);

/* Frees the results held by a work item and empties it. */
void queue_work_clear(struct queue_work *work);

#endif
