/*
 * batch: see batch.h.
 */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

struct point_batch *batch_new(long n, int with_sim)
{
    struct point_batch *b = calloc(1, sizeof *b);
    size_t slots = (size_t)(n > 0 ? n : 1);
    if (b == NULL)
        return NULL;
    b->count = n;
    b->params_json = calloc(slots, sizeof *b->params_json);
    b->csv_fields = calloc(slots, sizeof *b->csv_fields);
    if (with_sim)
        b->sim_values = calloc(slots, sizeof *b->sim_values);
    if (b->params_json == NULL || b->csv_fields == NULL ||
        (with_sim && b->sim_values == NULL)) {
        batch_free(b);
        return NULL;
    }
    return b;
}

void batch_free(struct point_batch *b)
{
    if (b == NULL)
        return;
    for (long i = 0; i < b->count; i++) {
        if (b->params_json)
            free(b->params_json[i]);
        if (b->csv_fields)
            free(b->csv_fields[i]);
    }
    free(b->params_json);
    free(b->csv_fields);
    free(b->sim_values);
    free(b);
}

static void replay_point_free(struct replay_point *p)
{
    free(p->job_id);
    free(p->params_json);
    free(p->csv_fields);
    free(p->status);
}

void replay_free(struct replay *r)
{
    for (long i = 0; i < r->nfinished; i++)
        replay_point_free(&r->finished[i]);
    for (long i = 0; i < r->ninflight; i++)
        replay_point_free(&r->inflight[i]);
    for (long i = 0; i < r->ncurves; i++)
        free(r->curves[i].job_id);
    free(r->finished);
    free(r->inflight);
    free(r->curves);
    memset(r, 0, sizeof *r);
}
