/*
 * policy: see policy.h for the rules.
 */
#include "policy.h"

#include <stdlib.h>
#include <string.h>

static long policy_min(long a, long b)
{
    return a < b ? a : b;
}

int policy_init(struct policy *p, const struct policy_config *cfg)
{
    memset(p, 0, sizeof *p);
    p->cfg = *cfg;
    p->recent = malloc((size_t)(cfg->workers > 0 ? cfg->workers : 1) *
                       sizeof *p->recent);
    return p->recent ? 0 : -1;
}

void policy_free(struct policy *p)
{
    free(p->recent);
    p->recent = NULL;
    p->recent_count = 0;
}

static long policy_ring_cap(const struct policy *p)
{
    return p->cfg.workers > 0 ? p->cfg.workers : 1;
}

void policy_resume(struct policy *p, long finished, long reissued)
{
    if (finished > p->cfg.max_evals)
        finished = p->cfg.max_evals;
    if (reissued > p->cfg.max_evals - finished)
        reissued = p->cfg.max_evals - finished;
    p->finished = finished;
    p->requested = finished + reissued;
}

long policy_initial(struct policy *p)
{
    if (p->requested > 0)
        return 0; /* a restart: the initial design was produced before */
    long n = policy_min(p->cfg.init_size, p->cfg.max_evals);
    if (n < 0)
        n = 0;
    p->requested += n;
    return n;
}

void policy_result(struct policy *p, double now)
{
    p->finished++;
    p->accumulated++;
    p->in_window = p->have_result && p->cfg.window_s > 0 &&
                   now - p->last_result < p->cfg.window_s;
    p->last_result = now;
    p->have_result = 1;
    /* The ring keeps the latest `workers` times: the demand is capped there
     * anyway, so an older time can be dropped once the ring is full. */
    long cap = policy_ring_cap(p);
    if (p->recent_count == cap) {
        p->recent_head = (p->recent_head + 1) % cap;
        p->recent_count--;
    }
    p->recent[(p->recent_head + p->recent_count) % cap] = now;
    p->recent_count++;
}

void policy_turn(struct policy *p, double turn_s)
{
    p->turn_s = turn_s > p->turn_s ? turn_s
                                   : POLICY_TURN_DECAY * p->turn_s +
                                         (1 - POLICY_TURN_DECAY) * turn_s;
}

long policy_demand(struct policy *p, double now)
{
    long cap = policy_ring_cap(p);
    double turn = p->turn_s > POLICY_MIN_TURN_S ? p->turn_s : POLICY_MIN_TURN_S;
    while (p->recent_count > 0 && p->recent[p->recent_head] < now - 2 * turn) {
        p->recent_head = (p->recent_head + 1) % cap;
        p->recent_count--;
    }
    p->demand = p->recent_count;
    return p->demand;
}

long policy_buffer(const struct policy *p)
{
    long b = p->cfg.num_buffer;
    if (!p->cfg.fixed_buffer && p->demand > b)
        b = policy_min(p->demand, p->cfg.workers > b ? p->cfg.workers : b);
    return b;
}

long policy_outstanding(const struct policy *p)
{
    return p->requested - p->finished;
}

int policy_done(const struct policy *p)
{
    return p->finished >= p->cfg.max_evals;
}

long policy_next(struct policy *p, double now, int starving)
{
    policy_demand(p, now);
    long remaining = p->cfg.max_evals - p->requested;
    long outstanding = policy_outstanding(p);
    long target = p->cfg.workers + policy_buffer(p);
    if (remaining <= 0 || outstanding >= target)
        return 0;

    if (p->in_window && !starving) {
        /* The original's cap: never wait for more results than can still
         * arrive. */
        long threshold =
            policy_min(p->cfg.max_threshold, p->cfg.max_evals - p->finished);
        threshold = policy_min(threshold, p->accumulated + outstanding);
        int window_passed = now - p->last_result >= p->cfg.window_s;
        if (p->accumulated < threshold && !window_passed)
            return 0;
    }

    long n = policy_min(target - outstanding, remaining);
    p->requested += n;
    p->accumulated = 0;
    return n;
}
