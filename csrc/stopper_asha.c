/*
 * stopper_asha: asynchronous successive halving (Li et al., "A System for
 * Massively Parallel Hyperparameter Tuning", 2020), as stopper.h describes
 * it: rungs at min_steps * eta^k; the first value a trial reports at or
 * after a rung's step is recorded there, and the trial goes on only within
 * the best 1/eta of the rung's values so far (itself included). The rungs
 * live in the shared store, so that lce records them too.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stopper.h"
#include "stopper_internal.h"

/* The sorted values of rung k (created empty), or NULL (memory). */
static struct stopper_sorted *stopper_asha_rung(struct stopper *s, int k)
{
    if (k >= s->nrungs) {
        struct stopper_sorted *grown =
            realloc(s->rungs, (size_t)(k + 1) * sizeof *grown);
        if (grown == NULL)
            return NULL;
        memset(grown + s->nrungs, 0,
               (size_t)(k + 1 - s->nrungs) * sizeof *grown);
        s->rungs = grown;
        s->nrungs = k + 1;
    }
    return &s->rungs[k];
}

enum stopper_decision stopper_asha_rungs(struct stopper *s,
                                         struct stopper_trial *t, long step,
                                         double value, int *crossed)
{
    enum stopper_decision d = STOPPER_CONTINUE;
    long r;
    *crossed = 0;
    while ((r = stopper_rung_step(s, t, t->next_rung)) > 0 && r <= step) {
        int k = t->next_rung++;
        struct stopper_sorted *rung = stopper_asha_rung(s, k);
        if (rung == NULL || stopper_insert(rung, value) != 0)
            return STOPPER_CONTINUE;
        ++*crossed;
        double cutoff = stopper_percentile(rung, 100.0 / s->cfg.eta);
        if (d == STOPPER_CONTINUE && value > cutoff) {
            d = STOPPER_STOP;
            snprintf(s->why, sizeof s->why,
                     "asha: %.6g at rung %ld is not in the best 1/%g of %ld "
                     "(cutoff %.6g)",
                     value, r, s->cfg.eta, rung->n, cutoff);
        }
    }
    return d;
}

static enum stopper_decision stopper_asha_report(struct stopper *s,
                                                 struct stopper_trial *t,
                                                 long step, double value)
{
    int crossed;
    return stopper_asha_rungs(s, t, step, value, &crossed);
}

const struct stopper_ops stopper_asha_ops = {stopper_asha_report};
