/*
 * layout: where the ranks of a job are, which GPU each worker uses, and how
 * worker ranks form teams that run one evaluation together.
 *
 * Every rank learns the whole table once at start-up (transport_layout
 * gathers it: one collective); the rest is pure and the same on every rank,
 * so all ranks agree on the teams without another message.
 *
 *  - GPUs: a worker's device is its slot among the node's worker ranks
 *    (childenv_gpu_pick). Two workers of one node on the same device share
 *    it: layout_check_gpus refuses that unless sharing was asked for.
 *  - Teams (--ranks-per-eval K): the worker ranks of each node, in rank
 *    order, form teams of K; what is left on the nodes (fewer than K each)
 *    forms teams across nodes, in node order; the last ranks that do not fill
 *    a team stay idle. Member 0 of a team is its leader: the rank the manager
 *    talks to. A team of one is a plain worker.
 */
#ifndef ASYNC_SEARCH_LAYOUT_H
#define ASYNC_SEARCH_LAYOUT_H

#include <stddef.h>
#include <stdio.h>

#define LAYOUT_HOST_MAX 64
#define LAYOUT_DEVICE_MAX 32

/* One rank, as it reported itself (sent as bytes between ranks). */
struct layout_rank {
    char host[LAYOUT_HOST_MAX];
    int node;       /* the lowest world rank on its node: a node's id */
    int node_index; /* its index among the node's worker ranks; -1 manager */
    char device[LAYOUT_DEVICE_MAX]; /* its GPU, "" when none is bound */
};

struct layout {
    int nranks;                /* world size; rank 0 is the manager */
    struct layout_rank *ranks; /* owned */
};

struct team_plan {
    int k;         /* ranks per evaluation */
    int nteams;    /* teams, numbered 1..nteams (as transport workers) */
    int *leader;   /* [1..nteams]: the team's world rank 0 */
    int *members;  /* [(t - 1) * k + i]: member i of team t */
    int *team_of;  /* [rank]: its team, or 0 (the manager, an idle rank) */
    int *index_of; /* [rank]: its member index in its team */
    int idle;      /* worker ranks in no team */
};

void layout_free(struct layout *l);

/* Worker ranks on the node of rank r. */
int layout_node_workers(const struct layout *l, int r);

/*
 * Refuses two workers of one node on one GPU (one line in err naming the
 * node, the ranks and the fix: return -1) unless share is nonzero, when err
 * gets a warning instead (return 1). Returns 0 when no device is shared or
 * none is bound.
 */
int layout_check_gpus(const struct layout *l, int share, char *err,
                      size_t errlen);

/* Writes the rank -> host -> device table, one line per worker rank, each
 * line starting with prefix. */
void layout_print(const struct layout *l, const char *prefix, FILE *out);

/* The table as a JSON array of {"rank", "host", "device"} objects (owned),
 * or NULL (memory). */
char *layout_json(const struct layout *l);

/*
 * Plans teams of k worker ranks (k >= 1; see above). Returns 0, or -1 with
 * err (fewer worker ranks than k, memory).
 */
int team_plan_make(const struct layout *l, int k, struct team_plan *out,
                   char *err, size_t errlen);
void team_plan_free(struct team_plan *p);

#endif
