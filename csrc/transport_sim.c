/*
 * transport_sim: virtual workers for scale tests. See transport.h.
 *
 * Running evaluations sit in a binary min-heap ordered by their end time;
 * poll_result pops the earliest one once the monotonic clock has passed it.
 * Durations come from a seeded splitmix64 generator, so a simulation with
 * the same seed draws the same durations in the same order.
 */
#include "transport.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define SIM_PI 3.14159265358979323846

struct sim_slot {
    double end;     /* monotonic */
    double t_start; /* wall clock */
    double duration;
    double objective;
    int64_t seq;
    int busy;
    int halted; /* ended early by a halt */
};

struct sim_transport {
    struct transport base;
    double mean;
    enum sim_distribution dist;
    uint64_t rng;
    struct sim_slot *slots; /* per worker, 1..workers */
    int *heap;              /* worker ids ordered by slots[].end */
    int nheap;
};

static uint64_t sim_next(struct sim_transport *s)
{
    uint64_t z = (s->rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1). */
static double sim_uniform(struct sim_transport *s)
{
    return ((double)(sim_next(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double sim_duration(struct sim_transport *s)
{
    switch (s->dist) {
    case SIM_EXP: return -s->mean * log(sim_uniform(s));
    case SIM_LOGNORMAL: {
        double u1 = sim_uniform(s), u2 = sim_uniform(s);
        double z = sqrt(-2.0 * log(u1)) * cos(2.0 * SIM_PI * u2);
        double sigma = SIM_LOGNORMAL_SIGMA;
        return s->mean * exp(sigma * z - sigma * sigma / 2.0);
    }
    case SIM_FIXED: break;
    }
    return s->mean;
}

static int sim_before(const struct sim_transport *s, int a, int b)
{
    return s->slots[a].end < s->slots[b].end;
}

static void sim_swap(int *a, int *b)
{
    int t = *a;
    *a = *b;
    *b = t;
}

/* Moves heap entry i up to its place (its end time only decreased). */
static void sim_sift_up(struct sim_transport *s, int i)
{
    while (i > 0 && sim_before(s, s->heap[i], s->heap[(i - 1) / 2])) {
        sim_swap(&s->heap[i], &s->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
}

static void sim_push(struct sim_transport *s, int w)
{
    int i = s->nheap++;
    s->heap[i] = w;
    sim_sift_up(s, i);
}

static int sim_pop(struct sim_transport *s)
{
    int top = s->heap[0];
    s->heap[0] = s->heap[--s->nheap];
    int i = 0;
    while (1) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->nheap && sim_before(s, s->heap[l], s->heap[m]))
            m = l;
        if (r < s->nheap && sim_before(s, s->heap[r], s->heap[m]))
            m = r;
        if (m == i)
            break;
        sim_swap(&s->heap[i], &s->heap[m]);
        i = m;
    }
    return top;
}

static int sim_announce(struct transport *t, const struct start_msg *msg)
{
    (void)t;
    (void)msg;
    return 0;
}

static int sim_send_task(struct transport *t, int worker,
                         const struct task_msg *m)
{
    struct sim_transport *s = (struct sim_transport *)t;
    struct sim_slot *slot = &s->slots[worker];
    if (worker < 1 || worker > t->workers || slot->busy) {
        snprintf(t->err, sizeof t->err, "virtual worker %d is not idle",
                 worker);
        return -1;
    }
    slot->busy = 1;
    slot->halted = 0;
    slot->seq = m->seq;
    slot->objective = m->sim_objective;
    slot->duration = sim_duration(s);
    slot->t_start = util_wall();
    slot->end = util_now() + slot->duration;
    sim_push(s, worker);
    return 0;
}

static int sim_poll(struct transport *t, int *worker, struct worker_msg *m)
{
    struct sim_transport *s = (struct sim_transport *)t;
    if (s->nheap == 0 || s->slots[s->heap[0]].end > util_now())
        return 0;
    int w = sim_pop(s);
    struct sim_slot *slot = &s->slots[w];
    struct result_msg *r = &m->result;
    memset(m, 0, sizeof *m);
    m->kind = TRANSPORT_MSG_RESULT;
    r->seq = slot->seq;
    r->objective = slot->objective;
    r->status = isfinite(slot->objective) ? LAUNCH_OK : LAUNCH_FAILED;
    if (r->status != LAUNCH_OK)
        snprintf(r->reason, sizeof r->reason, "the simulated objective is %g",
                 slot->objective);
    if (slot->halted) {
        r->status = LAUNCH_STOPPED;
        r->objective = NAN; /* a virtual worker reports no curve */
        snprintf(r->reason, sizeof r->reason, "stopped early");
    }
    r->exit_code = 0;
    r->t_start = slot->t_start;
    r->t_end = slot->t_start + slot->duration;
    slot->busy = 0;
    *worker = w;
    return 1;
}

/* Virtual workers report no learning curve, so nothing halts them; a halt
 * only ends the evaluation now, as a stop would. */
static int sim_halt(struct transport *t, int worker, int64_t seq)
{
    struct sim_transport *s = (struct sim_transport *)t;
    struct sim_slot *slot = &s->slots[worker];
    if (worker < 1 || worker > t->workers || !slot->busy || slot->seq != seq)
        return 0;
    for (int i = 0; i < s->nheap; i++)
        if (s->heap[i] == worker) {
            double start = slot->end - slot->duration;
            slot->end = util_now();
            slot->duration = slot->end - start;
            slot->halted = 1;
            sim_sift_up(s, i);
            break;
        }
    return 0;
}

static int sim_cancel_all(struct transport *t)
{
    struct sim_transport *s = (struct sim_transport *)t;
    for (int w = 1; w <= t->workers; w++)
        s->slots[w].busy = 0;
    s->nheap = 0;
    return 0;
}

static void sim_destroy(struct transport *t)
{
    struct sim_transport *s = (struct sim_transport *)t;
    if (s == NULL)
        return;
    free(s->slots);
    free(s->heap);
    free(s);
}

static const struct transport_ops sim_ops = {
    .announce = sim_announce,
    .send_task = sim_send_task,
    .poll = sim_poll,
    .halt = sim_halt,
    .cancel_all = sim_cancel_all,
    .finish = sim_cancel_all, /* nothing to wait for */
    .destroy = sim_destroy,
};

int transport_sim_create(struct transport **out, int workers, double mean,
                         enum sim_distribution dist, unsigned long seed,
                         char *err, size_t errlen)
{
    struct sim_transport *s = calloc(1, sizeof *s);
    if (s == NULL)
        goto nomem;
    s->base.ops = &sim_ops;
    s->base.workers = workers;
    s->mean = mean;
    s->dist = dist;
    s->rng = (uint64_t)seed * 0x2545F4914F6CDD1DULL + 1;
    s->slots = calloc((size_t)workers + 1, sizeof *s->slots);
    s->heap = calloc((size_t)workers + 1, sizeof *s->heap);
    if (s->slots == NULL || s->heap == NULL)
        goto nomem;
    *out = &s->base;
    return 0;
nomem:
    if (s)
        sim_destroy(&s->base);
    snprintf(err, errlen, "out of memory for %d virtual workers", workers);
    return -1;
}
