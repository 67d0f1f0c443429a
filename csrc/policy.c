/*
 * policy: see policy.h for the rules.
 */
#include "policy.h"

#include <string.h>

static long policy_min(long a, long b)
{
    return a < b ? a : b;
}

void policy_init(struct policy *p, const struct policy_config *cfg)
{
    memset(p, 0, sizeof *p);
    p->cfg = *cfg;
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
}

void policy_set_demand(struct policy *p, long demand)
{
    p->demand = demand > 0 ? demand : 0;
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
