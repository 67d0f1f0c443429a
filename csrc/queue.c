/*
 * queue: see queue.h. One mutex guards everything; the optimizer thread
 * waits on `wake`. Batches form a singly linked FIFO.
 */
#include "queue.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct batch_node {
    struct point_batch *batch;
    struct batch_node *next;
};

struct queue {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct point_result *results; /* pending for the optimizer */
    long nresults, capresults;
    long nrequested; /* requested, not yet taken by the optimizer */
    long pending;    /* requested, not yet popped as points */
    struct batch_node *head, *tail;
    int stop;
    int failed;
    char error[QUEUE_ERR_LEN];
};

struct queue *queue_create(void)
{
    struct queue *q = calloc(1, sizeof *q);
    if (q == NULL)
        return NULL;
    if (pthread_mutex_init(&q->lock, NULL) != 0) {
        free(q);
        return NULL;
    }
    if (pthread_cond_init(&q->wake, NULL) != 0) {
        pthread_mutex_destroy(&q->lock);
        free(q);
        return NULL;
    }
    return q;
}

void queue_work_clear(struct queue_work *work)
{
    for (long i = 0; i < work->nresults; i++)
        free(work->results[i].params_json);
    free(work->results);
    work->results = NULL;
    work->nresults = 0;
    work->nrequested = 0;
}

void queue_destroy(struct queue *q)
{
    if (q == NULL)
        return;
    for (long i = 0; i < q->nresults; i++)
        free(q->results[i].params_json);
    free(q->results);
    while (q->head) {
        struct batch_node *n = q->head;
        q->head = n->next;
        batch_free(n->batch);
        free(n);
    }
    pthread_cond_destroy(&q->wake);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

int queue_push_result(struct queue *q, const struct point_result *r)
{
    char *copy = strdup(r->params_json);
    if (copy == NULL)
        return -1;
    pthread_mutex_lock(&q->lock);
    if (q->nresults == q->capresults) {
        long cap = q->capresults ? 2 * q->capresults : 64;
        struct point_result *grown =
            realloc(q->results, (size_t)cap * sizeof *grown);
        if (grown == NULL) {
            pthread_mutex_unlock(&q->lock);
            free(copy);
            return -1;
        }
        q->results = grown;
        q->capresults = cap;
    }
    q->results[q->nresults] = *r;
    q->results[q->nresults].params_json = copy;
    q->nresults++;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

void queue_request(struct queue *q, long n)
{
    if (n <= 0)
        return;
    pthread_mutex_lock(&q->lock);
    q->nrequested += n;
    q->pending += n;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
}

void queue_stop(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->stop = 1;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->lock);
}

struct point_batch *queue_pop_batch(struct queue *q)
{
    struct point_batch *b = NULL;
    pthread_mutex_lock(&q->lock);
    struct batch_node *n = q->head;
    if (n) {
        q->head = n->next;
        if (q->head == NULL)
            q->tail = NULL;
        b = n->batch;
        q->pending -= b->count;
    }
    pthread_mutex_unlock(&q->lock);
    free(n);
    return b;
}

int queue_failed(struct queue *q, char *err, size_t errlen)
{
    pthread_mutex_lock(&q->lock);
    int failed = q->failed;
    if (failed && err)
        snprintf(err, errlen, "%s", q->error);
    pthread_mutex_unlock(&q->lock);
    return failed;
}

long queue_pending(struct queue *q)
{
    pthread_mutex_lock(&q->lock);
    long n = q->pending;
    pthread_mutex_unlock(&q->lock);
    return n;
}

int queue_wait(struct queue *q, struct queue_work *work)
{
    memset(work, 0, sizeof *work);
    pthread_mutex_lock(&q->lock);
    while (!q->stop && q->nresults == 0 && q->nrequested == 0)
        pthread_cond_wait(&q->wake, &q->lock);
    if (q->stop) {
        pthread_mutex_unlock(&q->lock);
        return 1;
    }
    work->results = q->results;
    work->nresults = q->nresults;
    work->nrequested = q->nrequested;
    q->results = NULL;
    q->nresults = q->capresults = 0;
    q->nrequested = 0;
    pthread_mutex_unlock(&q->lock);
    return 0;
}

void queue_push_batch(struct queue *q, struct point_batch *b)
{
    struct batch_node *n = malloc(sizeof *n);
    if (n == NULL) {
        batch_free(b);
        queue_fail(q, "out of memory while queueing points");
        return;
    }
    n->batch = b;
    n->next = NULL;
    pthread_mutex_lock(&q->lock);
    if (q->tail)
        q->tail->next = n;
    else
        q->head = n;
    q->tail = n;
    pthread_mutex_unlock(&q->lock);
}

void queue_fail(struct queue *q, const char *msg)
{
    pthread_mutex_lock(&q->lock);
    if (!q->failed) {
        q->failed = 1;
        snprintf(q->error, sizeof q->error, "%s", msg);
    }
    pthread_mutex_unlock(&q->lock);
}
