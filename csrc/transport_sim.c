/*
 * transport_sim: virtual workers for scale tests. See transport.h.
 *
 * Running evaluations sit in a binary min-heap ordered by their next event
 * (an intermediate value when they report a curve, else their end); poll
 * pops the earliest one once the monotonic clock has passed it.
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
    double due;     /* monotonic: the next event (a step, or the end) */
    double end;     /* monotonic */
    double t_start; /* wall clock */
    double duration;
    double objective;
    int64_t seq;
    int busy;
    int halted;     /* ended early by a halt */
    long next_step; /* of its curve; past steps: none left */
    long last_step; /* the last one reported (0: none) */
    double amp;     /* its curve's value at step 1 less the objective */
};

struct sim_transport {
    struct transport base;
    double mean;
    enum sim_distribution dist;
    uint64_t rng;
    struct sim_slot *slots; /* per worker, 1..workers */
    int *heap;              /* worker ids ordered by slots[].due */
    int nheap;
    long steps; /* of a curve; < 2: none */
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
    return s->slots[a].due < s->slots[b].due;
}

static void sim_swap(int *a, int *b)
{
    int t = *a;
    *a = *b;
    *b = t;
}

/* Moves heap entry i up to its place (its due time only decreased). */
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

/* Moves heap entry i down to its place (its due time only increased). */
static void sim_sift_down(struct sim_transport *s, int i)
{
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
}

static int sim_pop(struct sim_transport *s)
{
    int top = s->heap[0];
    s->heap[0] = s->heap[--s->nheap];
    sim_sift_down(s, 0);
    return top;
}

/* Sets slot's due time: its next step's, else its end. */
static void sim_plan(const struct sim_transport *s, struct sim_slot *slot)
{
    slot->due = slot->end;
    if (slot->next_step <= s->steps)
        slot->due = slot->end - slot->duration +
                    slot->duration * (double)slot->next_step / (double)s->steps;
}

/* The value of slot's curve at step. */
static double sim_curve(const struct sim_transport *s,
                        const struct sim_slot *slot, long step)
{
    return slot->objective + slot->amp * ((double)s->steps / (double)step - 1) /
                                 (double)(s->steps - 1);
}

/* The next value of the curve of worker w (on top of the heap) into m. */
static void sim_report(struct sim_transport *s, int w, struct worker_msg *m)
{
    struct sim_slot *slot = &s->slots[w];
    memset(m, 0, sizeof *m);
    m->kind = TRANSPORT_MSG_REPORT;
    m->report.seq = slot->seq;
    m->report.step = slot->next_step;
    m->report.value = sim_curve(s, slot, slot->next_step);
    m->report.last_step = s->steps;
    slot->last_step = slot->next_step++;
    sim_pop(s);
    sim_plan(s, slot);
    sim_push(s, w);
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
    slot->next_step = s->steps + 1; /* no curve */
    slot->last_step = 0;
    if (s->steps >= 2 && isfinite(slot->objective)) {
        slot->next_step = 1;
        slot->amp = (fabs(slot->objective) + 0.1) * (0.5 + sim_uniform(s));
    }
    sim_plan(s, slot);
    sim_push(s, worker);
    return 0;
}

static int sim_poll(struct transport *t, int *worker, struct worker_msg *m)
{
    struct sim_transport *s = (struct sim_transport *)t;
    if (s->nheap == 0 || s->slots[s->heap[0]].due > util_now())
        return 0;
    if (s->slots[s->heap[0]].next_step <= s->steps) {
        *worker = s->heap[0];
        sim_report(s, *worker, m);
        return 1;
    }
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
    r->steps = slot->last_step;
    if (slot->halted) {
        r->status = LAUNCH_STOPPED;
        r->objective = slot->last_step > 0
                           ? sim_curve(s, slot, slot->last_step)
                           : NAN; /* as a real worker: its last value */
        snprintf(r->reason, sizeof r->reason, "stopped early");
    }
    r->exit_code = 0;
    r->t_start = slot->t_start;
    r->t_end = slot->t_start + slot->duration;
    slot->busy = 0;
    *worker = w;
    return 1;
}

/* A halt ends the evaluation now, as a stop would: no more steps. */
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
            slot->next_step = s->steps + 1;
            slot->due = slot->end; /* earlier or later than it was */
            sim_sift_up(s, i);
            sim_sift_down(s, i);
            break;
        }
    return 0;
}

void transport_sim_curves(struct transport *t, long steps)
{
    ((struct sim_transport *)t)->steps = steps >= 2 ? steps : 0;
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
