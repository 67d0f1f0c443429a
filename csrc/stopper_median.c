/*
 * stopper_median: Optuna's MedianPruner (optuna/pruners/_percentile.py,
 * PercentilePruner at the 50th percentile; the median stopping rule of
 * Google Vizier, Golovin et al. 2017). Optuna's settings map to ours:
 *  - n_startup_trials: warmup (nothing is stopped before that many trials
 *    completed);
 *  - n_warmup_steps: min_steps (no stop at a step below it);
 *  - interval_steps: 1 (every reported step is judged);
 *  - n_min_trials: 1 (a step no completed trial reported is not judged).
 * A trial is stopped at step t when its best value so far (the least over
 * its steps <= t) is worse than the median (numpy's linear interpolation)
 * of the values the completed trials reported at step t. Only completed
 * trials count: running and stopped ones are not the standard. As for every
 * rule, no trial is stopped at or past its last step.
 */
#include <math.h>
#include <stdio.h>

#include "stopper.h"
#include "stopper_internal.h"

static enum stopper_decision stopper_median_report(struct stopper *s,
                                                   struct stopper_trial *t,
                                                   long step, double value)
{
    (void)value;
    long end = stopper_end_of(s, t);
    const struct stopper_sorted *done = &s->done[step];
    if (s->ncomplete < s->cfg.warmup || step < s->cfg.min_steps ||
        done->n == 0 || (end > 0 && step >= end))
        return STOPPER_CONTINUE; /* a trial's last step is its end */
    double best = INFINITY;      /* its curve holds steps <= step only */
    for (long i = 0; i < t->n; i++)
        best = fmin(best, t->curve[i].value);
    double median = stopper_percentile(done, 50.0);
    if (!(best > median))
        return STOPPER_CONTINUE;
    snprintf(s->why, sizeof s->why,
             "median: best %.6g up to step %ld is worse than the median "
             "%.6g of %ld completed",
             best, step, median, done->n);
    return STOPPER_STOP;
}

const struct stopper_ops stopper_median_ops = {stopper_median_report};
