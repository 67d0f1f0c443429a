/*
 * stopper_lce: stop what cannot beat the best completed result (the idea
 * of DeepHyper's learning-curve-extrapolation stopper, Egele et al. 2023),
 * with a nearest-curves predictor instead of a fitted curve model.
 *
 * Decisions are taken where asha's are, at the rungs min_steps * eta^k
 * below the trial's last step (never at or past it). At a rung reached at
 * step t:
 *  - the candidates are the completed trials that reached step t; each
 *    one's value at t is its last at or before t;
 *  - with fewer than `warmup` (K) candidates, asha decides (its rungs are
 *    recorded on every report, so that the rungs do not depend on when the
 *    K-th trial completed, and a restart rebuilds them from the curves
 *    alone);
 *  - else the K candidates nearest to the trial (the mean absolute gap over
 *    the trial's steps <= t, weighted by step, later steps telling more of
 *    the final) each predict its final: its value at t plus the candidate's
 *    change from t to its own final. The most hopeful prediction is then
 *    given the predictor's own error at t: each of the K neighbours' finals
 *    is predicted the same way from the other completed curves (leaving it
 *    out), and the median amount by which those predictions were too
 *    pessimistic is taken off. It is stopped when even the most hopeful
 *    prediction, so corrected, is worse than the best completed final.
 *    Where early values rank the finals poorly (the first epochs of
 *    networks that all learn, curves that cross) the correction is large
 *    and only what is far behind is stopped; where they rank well it is
 *    near zero.
 * Ties between candidates are broken by their predictions, not by trial
 * numbers, so a restart (which numbers trials in another order) decides
 * the same. A trial that tracks the best completed curve predicts exactly
 * the best final and goes on.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "stopper.h"
#include "stopper_internal.h"

/* Relative rounding of a prediction (its value plus a difference). */
#define STOPPER_LCE_ROUNDING 1e-9

struct stopper_lce_cand {
    double dist, pred;
    const struct stopper_trial *trial;
};

static int stopper_lce_cmp(const void *a, const void *b)
{
    const struct stopper_lce_cand *x = a, *y = b;
    if (x->dist != y->dist)
        return x->dist < y->dist ? -1 : 1;
    return (x->pred > y->pred) - (x->pred < y->pred);
}

/* How far c's curve is from t's over t's steps up to upto (both up to
 * t's last). */
static double stopper_lce_dist(const struct stopper_trial *t,
                               const struct stopper_trial *c, long upto)
{
    double sum = 0, weight = 0;
    for (long i = 0; i < t->n && t->curve[i].step <= upto; i++) {
        double v = stopper_value_upto(c, t->curve[i].step);
        if (isnan(v))
            continue;
        double w = (double)t->curve[i].step;
        sum += w * fabs(t->curve[i].value - v);
        weight += w;
    }
    return weight > 0 ? sum / weight : INFINITY;
}

/* The candidates for t at step (completed trials that reached it, but t)
 * into out (room for s->ncomplete), each predicting t's final from its own
 * change, t's value at step being value. Returns how many. */
static long stopper_lce_candidates(const struct stopper *s,
                                   const struct stopper_trial *t, long step,
                                   double value, struct stopper_lce_cand *out)
{
    long n = 0;
    for (long i = 0; i < s->ntrials && n < s->ncomplete; i++) {
        const struct stopper_trial *c = &s->trials[i];
        if (c == t || !c->completed || c->n == 0 ||
            c->curve[c->n - 1].step < step)
            continue;
        double at = stopper_value_upto(c, step);
        if (isnan(at))
            continue;
        out[n++] = (struct stopper_lce_cand){stopper_lce_dist(t, c, step),
                                             value + (c->final - at), c};
    }
    return n;
}

/* The most hopeful of the predictions of the k nearest of n candidates
 * (sorts them). */
static double stopper_lce_hopeful(struct stopper_lce_cand *cand, long n, long k)
{
    qsort(cand, (size_t)n, sizeof *cand, stopper_lce_cmp);
    double hopeful = INFINITY;
    for (long i = 0; i < k && i < n; i++)
        hopeful = fmin(hopeful, cand[i].pred);
    return hopeful;
}

static int stopper_lce_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* How far the predictor's hope may fall short at step, measured on the k
 * nearest candidates themselves (near[0..k)): each one's final predicted,
 * leaving it out, from its own nearest completed curves at step, and the
 * amount by which that prediction was worse than the final it then reached
 * (0 when it was not); the median of these (the upper one of an even
 * count). Where early values rank the finals poorly (the first epochs of
 * networks that all learn, curves that cross) this is large and the rule
 * stops only what is far behind; where they rank well it is small. work
 * has room for s->ncomplete candidates. Returns NaN when out of memory. */
static double stopper_lce_margin(const struct stopper *s, long step,
                                 const struct stopper_lce_cand *near, long k,
                                 struct stopper_lce_cand *work)
{
    double *errors = malloc((size_t)k * sizeof *errors);
    if (errors == NULL)
        return NAN;
    long n_errors = 0;
    for (long i = 0; i < k; i++) {
        const struct stopper_trial *c = near[i].trial;
        double at = stopper_value_upto(c, step);
        long n = stopper_lce_candidates(s, c, step, at, work);
        if (n == 0)
            continue;
        double hopeful = stopper_lce_hopeful(work, n, n < k ? n : k);
        errors[n_errors++] = fmax(0.0, hopeful - c->final);
    }
    double margin = 0;
    if (n_errors > 0) {
        qsort(errors, (size_t)n_errors, sizeof *errors, stopper_lce_cmp_double);
        margin = errors[n_errors / 2];
    }
    free(errors);
    return margin;
}

static enum stopper_decision stopper_lce_report(struct stopper *s,
                                                struct stopper_trial *t,
                                                long step, double value)
{
    int crossed;
    enum stopper_decision asha =
        stopper_asha_rungs(s, t, step, value, &crossed);
    long end = stopper_end_of(s, t);
    if (crossed == 0 || step < s->cfg.min_steps || (end > 0 && step >= end))
        return STOPPER_CONTINUE;
    if (s->ncomplete < s->cfg.warmup)
        return asha;
    struct stopper_lce_cand *cand =
        malloc(2 * (size_t)s->ncomplete * sizeof *cand);
    if (cand == NULL)
        return STOPPER_CONTINUE;
    long n = stopper_lce_candidates(s, t, step, value, cand);
    enum stopper_decision d = asha;
    if (n >= s->cfg.warmup) {
        long k = s->cfg.warmup;
        double hopeful = stopper_lce_hopeful(cand, n, k);
        double margin =
            stopper_lce_margin(s, step, cand, k, cand + s->ncomplete);
        /* within rounding of the best final is reaching it */
        double slack = STOPPER_LCE_ROUNDING * fmax(1.0, fabs(s->best_final));
        d = !isnan(margin) && hopeful - margin > s->best_final + slack
                ? STOPPER_STOP
                : STOPPER_CONTINUE;
        if (d == STOPPER_STOP)
            snprintf(s->why, sizeof s->why,
                     "lce: %.6g at step %ld; the best of %ld predictions, "
                     "%.6g, less their error %.6g, cannot reach the best "
                     "final %.6g",
                     value, step, k, hopeful, margin, s->best_final);
    }
    free(cand);
    return d;
}

const struct stopper_ops stopper_lce_ops = {stopper_lce_report};
