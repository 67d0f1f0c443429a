/*
 * layout: see layout.h.
 */
#include "layout.h"

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

void layout_free(struct layout *l)
{
    free(l->ranks);
    l->ranks = NULL;
    l->nranks = 0;
}

int layout_node_workers(const struct layout *l, int r)
{
    int n = 0;
    for (int i = 1; i < l->nranks; i++)
        n += l->ranks[i].node == l->ranks[r].node;
    return n;
}

int layout_check_gpus(const struct layout *l, int share, char *err,
                      size_t errlen)
{
    for (int a = 1; a < l->nranks; a++) {
        const struct layout_rank *x = &l->ranks[a];
        if (x->device[0] == '\0')
            continue;
        for (int b = a + 1; b < l->nranks; b++) {
            const struct layout_rank *y = &l->ranks[b];
            if (y->node != x->node || strcmp(y->device, x->device) != 0)
                continue;
            int workers = layout_node_workers(l, a);
            if (share) {
                snprintf(err, errlen,
                         "ranks %d and %d share GPU %s on %s (--share-gpus "
                         "yes): %d workers on the node take turns on its "
                         "GPUs; manager.log has every rank's GPU",
                         a, b, x->device, x->host, workers);
                return 1;
            }
            snprintf(err, errlen,
                     "--gpus-per-node: ranks %d and %d would share GPU %s on "
                     "%s (%d workers on the node, fewer GPUs): run at most "
                     "one worker per GPU on a node (PPN), or give "
                     "--share-gpus yes (SHARE_GPUS=yes) to let them share",
                     a, b, x->device, x->host, workers);
            return -1;
        }
    }
    return 0;
}

void layout_print(const struct layout *l, const char *prefix, FILE *out)
{
    for (int r = 1; r < l->nranks; r++)
        fprintf(out, "%srank %d on %s: GPU %s\n", prefix, r, l->ranks[r].host,
                l->ranks[r].device[0] ? l->ranks[r].device : "none");
}

char *layout_json(const struct layout *l)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, "[");
    for (int r = 1; r < l->nranks; r++) {
        strbuf_printf(&sb, "%s{\"rank\": %d, \"host\": ", r > 1 ? ", " : "", r);
        strbuf_json_string(&sb, l->ranks[r].host);
        strbuf_puts(&sb, ", \"device\": ");
        if (l->ranks[r].device[0])
            strbuf_json_string(&sb, l->ranks[r].device);
        else
            strbuf_puts(&sb, "null");
        strbuf_puts(&sb, "}");
    }
    strbuf_puts(&sb, "]");
    return strbuf_detach(&sb);
}

void team_plan_free(struct team_plan *p)
{
    free(p->leader);
    free(p->members);
    free(p->team_of);
    free(p->index_of);
    memset(p, 0, sizeof *p);
}

/* Adds the ranks of order[from..from+k) as a new team. */
static void team_plan_add(struct team_plan *p, const int *order, int from)
{
    int t = ++p->nteams;
    p->leader[t] = order[from];
    for (int i = 0; i < p->k; i++) {
        int r = order[from + i];
        p->members[(t - 1) * p->k + i] = r;
        p->team_of[r] = t;
        p->index_of[r] = i;
    }
}

int team_plan_make(const struct layout *l, int k, struct team_plan *out,
                   char *err, size_t errlen)
{
    int workers = l->nranks - 1;
    memset(out, 0, sizeof *out);
    if (k < 1 || workers < k) {
        snprintf(err, errlen,
                 "--ranks-per-eval %d: the job has %d worker ranks; it needs "
                 "at least %d (PROCS = 1 + a multiple of %d)",
                 k, workers, k, k);
        return -1;
    }
    out->k = k;
    out->leader = calloc((size_t)workers / (size_t)k + 2, sizeof *out->leader);
    out->members = calloc((size_t)workers + 1, sizeof *out->members);
    out->team_of = calloc((size_t)l->nranks, sizeof *out->team_of);
    out->index_of = calloc((size_t)l->nranks, sizeof *out->index_of);
    int *order = calloc((size_t)workers + 1, sizeof *order);
    int *left = calloc((size_t)workers + 1, sizeof *left);
    if (!out->leader || !out->members || !out->team_of || !out->index_of ||
        !order || !left) {
        free(order);
        free(left);
        team_plan_free(out);
        snprintf(err, errlen, "out of memory planning the teams");
        return -1;
    }
    /* Node by node (nodes in the order of their first rank), full teams of
     * the node's ranks; the rest waits for the teams across nodes. */
    int nleft = 0;
    for (int r = 1; r < l->nranks; r++) {
        int first = 1; /* r is the node's first worker rank */
        for (int q = 1; q < r && first; q++)
            first = l->ranks[q].node != l->ranks[r].node;
        if (!first)
            continue;
        int n = 0;
        for (int q = r; q < l->nranks; q++)
            if (l->ranks[q].node == l->ranks[r].node)
                order[n++] = q;
        int full = n - n % k;
        for (int i = 0; i < full; i += k)
            team_plan_add(out, order, i);
        for (int i = full; i < n; i++)
            left[nleft++] = order[i];
    }
    for (int i = 0; i + k <= nleft; i += k)
        team_plan_add(out, left, i);
    out->idle = nleft % k;
    free(order);
    free(left);
    return 0;
}
