/*
 * stopper: the shared part (see stopper.h): the registry of rules, the
 * curve store every rule reads (stopper_internal.h), and the estimate of a
 * stopped trial's final value. The rules are stopper_<name>.c.
 */
#include "stopper.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stopper_internal.h"

#define STOPPER_FIRST_CAP 8

extern const struct stopper_ops stopper_asha_ops;
extern const struct stopper_ops stopper_median_ops;
extern const struct stopper_ops stopper_lce_ops;

/* The registry: --stopper's names, in --help's order. "none" is first
 * (STOPPER_RULE_NONE). */
static const struct {
    const char *name;
    const char *help;
    const struct stopper_ops *ops;
} stopper_rules[] = {
    {"none", "every evaluation runs to its end", NULL},
    {"asha",
     "asynchronous successive halving: at rungs N x F^k, only the "
     "best 1/F goes on",
     &stopper_asha_ops},
    {"median",
     "Optuna's MedianPruner: stop when the best value so far is "
     "worse than the median of the completed evaluations at the "
     "step",
     &stopper_median_ops},
    {"lce",
     "stop what cannot beat the best completed final, predicted from "
     "the nearest completed curves (asha until enough completed)",
     &stopper_lce_ops},
};
#define STOPPER_NRULES ((int)(sizeof stopper_rules / sizeof stopper_rules[0]))

const char *stopper_rule_name(int i, const char **help)
{
    if (i < 0 || i >= STOPPER_NRULES)
        return NULL;
    if (help != NULL)
        *help = stopper_rules[i].help;
    return stopper_rules[i].name;
}

int stopper_rule_find(const char *name)
{
    for (int i = 0; i < STOPPER_NRULES; i++)
        if (name != NULL && strcmp(stopper_rules[i].name, name) == 0)
            return i;
    return -1;
}

int stopper_rule_acts(int i)
{
    return i >= 0 && i < STOPPER_NRULES && stopper_rules[i].ops != NULL;
}

/* Grows *buf (of *cap elements of size size) to hold need elements. */
int stopper_grow(void **buf, long *cap, long need, size_t size)
{
    if (need <= *cap)
        return 0;
    long c = *cap ? *cap : STOPPER_FIRST_CAP;
    while (c < need)
        c *= 2;
    void *p = realloc(*buf, (size_t)c * size);
    if (p == NULL)
        return -1;
    *buf = p;
    *cap = c;
    return 0;
}

/* How many values of the list are <= x: where x goes to keep it sorted. */
long stopper_rank(const struct stopper_sorted *l, double x)
{
    long lo = 0, hi = l->n;
    while (lo < hi) {
        long mid = (lo + hi) / 2;
        if (l->v[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int stopper_insert(struct stopper_sorted *l, double x)
{
    if (stopper_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v) != 0)
        return -1;
    long at = stopper_rank(l, x);
    memmove(l->v + at + 1, l->v + at, (size_t)(l->n - at) * sizeof *l->v);
    l->v[at] = x;
    l->n++;
    return 0;
}

double stopper_percentile(const struct stopper_sorted *l, double p)
{
    if (l->n == 0)
        return NAN;
    double pos = p / 100.0 * (double)(l->n - 1);
    long lo = (long)floor(pos);
    if (lo >= l->n - 1)
        return l->v[l->n - 1];
    return l->v[lo] + (pos - (double)lo) * (l->v[lo + 1] - l->v[lo]);
}

struct stopper *stopper_create(const struct stopper_config *cfg)
{
    int rule =
        cfg->rule == NULL ? STOPPER_RULE_NONE : stopper_rule_find(cfg->rule);
    if (rule < 0)
        return NULL;
    struct stopper *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->cfg = *cfg;
    s->cfg.rule = stopper_rules[rule].name;
    s->ops = stopper_rules[rule].ops;
    if (s->cfg.min_steps < 1)
        s->cfg.min_steps = 1;
    if (!(s->cfg.eta > 1))
        s->cfg.eta = 3;
    if (s->cfg.warmup < 1)
        s->cfg.warmup = 1;
    s->max_step = s->cfg.max_step > 0 ? s->cfg.max_step : 0;
    s->best_final = NAN;
    return s;
}

void stopper_free(struct stopper *s)
{
    if (s == NULL)
        return;
    for (long i = 0; i < s->ntrials; i++)
        free(s->trials[i].curve);
    for (long i = 0; i < s->nsteps; i++) {
        free(s->steps[i].v);
        free(s->done[i].v);
    }
    for (long i = 0; i < s->nrungs; i++)
        free(s->rungs[i].v);
    free(s->trials);
    free(s->steps);
    free(s->done);
    free(s->rungs);
    free(s);
}

long stopper_trial(struct stopper *s)
{
    if (stopper_grow((void **)&s->trials, &s->captrials, s->ntrials + 1,
                     sizeof *s->trials) != 0)
        return -1;
    memset(&s->trials[s->ntrials], 0, sizeof s->trials[0]);
    s->trials[s->ntrials].final = NAN;
    return s->ntrials++;
}

/* Makes the lists of steps 0..step exist (empty when new). Returns 0 or -1
 * (memory). */
static int stopper_steps_upto(struct stopper *s, long step)
{
    if (step < s->nsteps)
        return 0;
    size_t want = (size_t)(step + 1) * sizeof(struct stopper_sorted);
    struct stopper_sorted *steps = realloc(s->steps, want);
    if (steps == NULL)
        return -1;
    s->steps = steps;
    struct stopper_sorted *done = realloc(s->done, want);
    if (done == NULL)
        return -1;
    s->done = done;
    size_t fresh = (size_t)(step + 1 - s->nsteps) * sizeof *steps;
    memset(steps + s->nsteps, 0, fresh);
    memset(done + s->nsteps, 0, fresh);
    s->nsteps = step + 1;
    return 0;
}

long stopper_end_of(const struct stopper *s, const struct stopper_trial *t)
{
    return t->end > 0 ? t->end : s->max_step;
}

long stopper_full_step(const struct stopper *s, long trial)
{
    if (trial < 0 || trial >= s->ntrials)
        return s->max_step;
    return stopper_end_of(s, &s->trials[trial]);
}

long stopper_rung_step(const struct stopper *s, const struct stopper_trial *t,
                       int k)
{
    double r = (double)s->cfg.min_steps * pow(s->cfg.eta, k);
    if (r > 1e15)
        return 0;
    long step = (long)floor(r + 0.5);
    long end = stopper_end_of(s, t);
    if (end > 0 && step >= end)
        return 0;
    return step;
}

enum stopper_decision stopper_report(struct stopper *s, long trial, long step,
                                     double value, const char **why)
{
    enum stopper_decision d = STOPPER_CONTINUE;
    s->why[0] = '\0';
    *why = s->why;
    if (trial < 0 || trial >= s->ntrials || step < 1 || !isfinite(value))
        return STOPPER_CONTINUE;
    struct stopper_trial *t = &s->trials[trial];
    if (stopper_steps_upto(s, step) != 0 ||
        stopper_grow((void **)&t->curve, &t->cap, t->n + 1, sizeof *t->curve) !=
            0)
        return STOPPER_CONTINUE;
    t->curve[t->n++] = (struct stopper_point){step, value};
    if (stopper_insert(&s->steps[step], value) != 0)
        return STOPPER_CONTINUE;
    if (s->ops != NULL)
        d = s->ops->report(s, t, step, value);
    if (d == STOPPER_CONTINUE)
        s->why[0] = '\0';
    return d;
}

void stopper_trial_end(struct stopper *s, long trial, long last_step)
{
    if (trial >= 0 && trial < s->ntrials && last_step > 0)
        s->trials[trial].end = last_step;
}

void stopper_finished(struct stopper *s, long trial, int completed,
                      double final)
{
    if (trial < 0 || trial >= s->ntrials || s->trials[trial].ended)
        return;
    struct stopper_trial *t = &s->trials[trial];
    t->ended = 1;
    t->completed = completed && isfinite(final);
    t->final = final;
    if (!t->completed)
        return;
    s->ncomplete++;
    if (isnan(s->best_final) || final < s->best_final)
        s->best_final = final;
    for (long i = 0; i < t->n; i++) /* memory short: the list misses one */
        (void)stopper_insert(&s->done[t->curve[i].step], t->curve[i].value);
    /* without a configured last step, the longest trial that ran to its
     * end shows how far a full one goes */
    if (s->cfg.max_step <= 0 && t->n > 0 &&
        t->curve[t->n - 1].step > s->max_step)
        s->max_step = t->curve[t->n - 1].step;
}

/* The index of the first point of t's curve at or after step. */
static long stopper_curve_at(const struct stopper_trial *t, long step)
{
    long lo = 0, hi = t->n;
    while (lo < hi) {
        long mid = (lo + hi) / 2;
        if (t->curve[mid].step < step)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

double stopper_value_at(const struct stopper_trial *t, long step)
{
    long i = stopper_curve_at(t, step);
    return i < t->n && t->curve[i].step == step ? t->curve[i].value : NAN;
}

double stopper_value_upto(const struct stopper_trial *t, long step)
{
    long i = stopper_curve_at(t, step + 1); /* the first one after step */
    return i > 0 ? t->curve[i - 1].value : NAN;
}

long stopper_last(const struct stopper *s, long trial, double *value)
{
    *value = NAN;
    if (trial < 0 || trial >= s->ntrials || s->trials[trial].n == 0)
        return 0;
    const struct stopper_trial *t = &s->trials[trial];
    *value = t->curve[t->n - 1].value;
    return t->curve[t->n - 1].step;
}

/* x beyond worst (the worst of a reference whose values span span), mapped
 * beyond out_worst on a scale of out_span and compressed: the first part of
 * the lag counts at the ratio of the two spans, and no lag, however large,
 * goes past out_worst + out_span. A model that diverges early (a val_loss of
 * 1e3 at epoch 3, back near the others' by its end) must not hand the
 * optimizer a value a thousand times its others: one such value blows up
 * the surrogate's scale and sends its proposals to the corners. */
static double stopper_beyond(double x, double worst, double span,
                             double out_worst, double out_span)
{
    if (!(span > 0) || !(out_span > 0))
        return out_worst;
    return out_worst + out_span * -expm1(-(x - worst) / span);
}

/* Fewer finished trials than the estimate needs: the last value, but one
 * beyond the upper quartile of every value reported at its step comes back
 * within their span (a few diverging trials cannot stretch the scale). */
static double stopper_last_bounded(const struct stopper *s, long step,
                                   double last)
{
    const struct stopper_sorted *at = step < s->nsteps ? &s->steps[step] : NULL;
    if (at == NULL || at->n < STOPPER_MIN_FINISHED + 1)
        return last;
    double worst = stopper_percentile(at, 75.0);
    if (!(last > worst))
        return last;
    return stopper_beyond(last, worst, worst - at->v[0], worst,
                          worst - at->v[0]);
}

double stopper_estimate(const struct stopper *s, long trial)
{
    double last;
    long step = stopper_last(s, trial, &last);
    if (step == 0)
        return last;
    /* the completed trials' values at that step, and their finals */
    struct stopper_sorted at = {NULL, 0, 0}, finals = {NULL, 0, 0};
    for (long i = 0; i < s->ntrials; i++) {
        const struct stopper_trial *t = &s->trials[i];
        double v = i != trial && t->completed ? stopper_value_at(t, step) : NAN;
        if (!isnan(v) && (stopper_insert(&at, v) != 0 ||
                          stopper_insert(&finals, t->final) != 0))
            break;
    }
    double estimate;
    if (finals.n < STOPPER_MIN_FINISHED || at.n != finals.n) {
        estimate = stopper_last_bounded(s, step, last);
    } else {
        double worst = at.v[at.n - 1];
        if (last > worst) {
            /* worse than every trial that ran to its end: beyond their
             * worst final, by how far it was behind there */
            estimate = stopper_beyond(last, worst, worst - at.v[0],
                                      finals.v[finals.n - 1],
                                      finals.v[finals.n - 1] - finals.v[0]);
        } else {
            /* its rank among them, interpolated between neighbours */
            long below = stopper_rank(&at, last); /* completed ones <= last */
            double pos = 0.0;
            if (below >= at.n)
                pos = (double)(at.n - 1);
            else if (below > 0)
                pos = (double)(below - 1) + (last - at.v[below - 1]) /
                                                (at.v[below] - at.v[below - 1]);
            estimate =
                stopper_percentile(&finals, 100.0 * pos / (double)(at.n - 1));
        }
    }
    free(at.v);
    free(finals.v);
    return estimate;
}
