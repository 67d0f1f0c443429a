/*
 * stopper: see stopper.h.
 *
 * Every value a trial reports is kept twice: on the trial (its curve, in
 * step order) and in the step's sorted list of values of all trials, so the
 * median of a step and a value's rank there cost one binary search. ASHA's
 * rungs keep their recorded values sorted the same way.
 */
#include "stopper.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STOPPER_FIRST_CAP 8
#define STOPPER_WHY_LEN 160

struct stopper_point {
    long step;
    double value;
};

struct stopper_trial {
    struct stopper_point *curve; /* in step order */
    long n, cap;
    int next_rung; /* ASHA: the first rung not recorded yet */
    long end;      /* the last step of its training, as its model said; 0 */
    int ended, completed;
    double final;
};

/* A sorted list of doubles. */
struct stopper_sorted {
    double *v;
    long n, cap;
};

struct stopper {
    struct stopper_config cfg;
    struct stopper_trial *trials;
    long ntrials, captrials;
    struct stopper_sorted *steps; /* index: step; values reported there */
    long nsteps;                  /* steps[0..nsteps) exist */
    struct stopper_sorted *rungs; /* ASHA */
    long nrungs;
    long max_step; /* the configured one, else the longest completed trial */
    char why[STOPPER_WHY_LEN];
};

/* Grows *buf (of *cap elements of size size) to hold need elements. */
static int stopper_grow(void **buf, long *cap, long need, size_t size)
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

/* Inserts x keeping the list sorted. Returns 0 or -1 (memory). */
static int stopper_insert(struct stopper_sorted *l, double x)
{
    if (stopper_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v) != 0)
        return -1;
    long lo = 0, hi = l->n;
    while (lo < hi) {
        long mid = (lo + hi) / 2;
        if (l->v[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(l->v + lo + 1, l->v + lo, (size_t)(l->n - lo) * sizeof *l->v);
    l->v[lo] = x;
    l->n++;
    return 0;
}

/* The p-th percentile (0..100) of a sorted list, linearly interpolated
 * between neighbours (numpy's default); NaN when empty. */
static double stopper_percentile(const struct stopper_sorted *l, double p)
{
    if (l->n == 0)
        return NAN;
    double pos = p / 100.0 * (double)(l->n - 1);
    long lo = (long)floor(pos);
    if (lo >= l->n - 1)
        return l->v[l->n - 1];
    return l->v[lo] + (pos - (double)lo) * (l->v[lo + 1] - l->v[lo]);
}

/* How many values of the list are <= x. */
static long stopper_rank(const struct stopper_sorted *l, double x)
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

struct stopper *stopper_create(const struct stopper_config *cfg)
{
    struct stopper *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->cfg = *cfg;
    if (s->cfg.min_steps < 1)
        s->cfg.min_steps = 1;
    if (!(s->cfg.eta > 1))
        s->cfg.eta = 3;
    if (s->cfg.warmup < 1)
        s->cfg.warmup = 1;
    s->max_step = s->cfg.max_step > 0 ? s->cfg.max_step : 0;
    return s;
}

void stopper_free(struct stopper *s)
{
    if (s == NULL)
        return;
    for (long i = 0; i < s->ntrials; i++)
        free(s->trials[i].curve);
    for (long i = 0; i < s->nsteps; i++)
        free(s->steps[i].v);
    for (long i = 0; i < s->nrungs; i++)
        free(s->rungs[i].v);
    free(s->trials);
    free(s->steps);
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

/* The list of values at step (created empty), or NULL (memory). */
static struct stopper_sorted *stopper_step(struct stopper *s, long step)
{
    if (step >= s->nsteps) {
        long cap = s->nsteps;
        struct stopper_sorted *grown =
            realloc(s->steps, (size_t)(step + 1) * sizeof *grown);
        if (grown == NULL)
            return NULL;
        memset(grown + cap, 0, (size_t)(step + 1 - cap) * sizeof *grown);
        s->steps = grown;
        s->nsteps = step + 1;
    }
    return &s->steps[step];
}

/* The last step of trial t's training: as its model said, else max_step
 * (configured or learned); 0: not known. */
static long stopper_end_of(const struct stopper *s,
                           const struct stopper_trial *t)
{
    return t->end > 0 ? t->end : s->max_step;
}

/* ASHA's rung k for trial t: its step, or 0 when there is none (at or past
 * the end of t's training). */
static long stopper_rung_step(const struct stopper *s,
                              const struct stopper_trial *t, int k)
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

/* ASHA: records value at every rung the trial passed; stop when it is not
 * within the best 1/eta at one of them. */
static enum stopper_decision stopper_asha(struct stopper *s,
                                          struct stopper_trial *t, long step,
                                          double value)
{
    enum stopper_decision d = STOPPER_CONTINUE;
    long r;
    while ((r = stopper_rung_step(s, t, t->next_rung)) > 0 && r <= step) {
        int k = t->next_rung++;
        if (k >= s->nrungs) {
            struct stopper_sorted *grown =
                realloc(s->rungs, (size_t)(k + 1) * sizeof *grown);
            if (grown == NULL)
                return STOPPER_CONTINUE;
            memset(grown + s->nrungs, 0,
                   (size_t)(k + 1 - s->nrungs) * sizeof *grown);
            s->rungs = grown;
            s->nrungs = k + 1;
        }
        if (stopper_insert(&s->rungs[k], value) != 0)
            return STOPPER_CONTINUE;
        double cutoff = stopper_percentile(&s->rungs[k], 100.0 / s->cfg.eta);
        if (d == STOPPER_CONTINUE && value > cutoff) {
            d = STOPPER_STOP;
            snprintf(s->why, sizeof s->why,
                     "asha: %.6g at rung %ld is not in the best 1/%g of %ld "
                     "(cutoff %.6g)",
                     value, r, s->cfg.eta, s->rungs[k].n, cutoff);
        }
    }
    return d;
}

/* The median rule, before value joins the step's list. */
static enum stopper_decision stopper_median(struct stopper *s,
                                            const struct stopper_trial *t,
                                            const struct stopper_sorted *others,
                                            long step, double value)
{
    long end = stopper_end_of(s, t);
    if (step < s->cfg.min_steps || others->n < s->cfg.warmup ||
        (end > 0 && step >= end))
        return STOPPER_CONTINUE; /* a trial's last step is its end */
    double median = stopper_percentile(others, 50.0);
    if (!(value > median))
        return STOPPER_CONTINUE;
    snprintf(s->why, sizeof s->why,
             "median: %.6g at step %ld is worse than the median %.6g of %ld "
             "others",
             value, step, median, others->n);
    return STOPPER_STOP;
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
    struct stopper_sorted *at = stopper_step(s, step);
    if (at == NULL || stopper_grow((void **)&t->curve, &t->cap, t->n + 1,
                                   sizeof *t->curve) != 0)
        return STOPPER_CONTINUE;
    if (s->cfg.kind == STOPPER_MEDIAN)
        d = stopper_median(s, t, at, step, value);
    t->curve[t->n++] = (struct stopper_point){step, value};
    if (stopper_insert(at, value) != 0)
        return STOPPER_CONTINUE;
    if (s->cfg.kind == STOPPER_ASHA)
        d = stopper_asha(s, t, step, value);
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
    if (trial < 0 || trial >= s->ntrials)
        return;
    struct stopper_trial *t = &s->trials[trial];
    t->ended = 1;
    t->completed = completed && isfinite(final);
    t->final = final;
    /* without a configured last step, the longest trial that ran to its
     * end shows how far a full one goes */
    if (t->completed && s->cfg.max_step <= 0 && t->n > 0 &&
        t->curve[t->n - 1].step > s->max_step)
        s->max_step = t->curve[t->n - 1].step;
}

/* The value a trial reported at step, or NaN. */
static double stopper_value_at(const struct stopper_trial *t, long step)
{
    long lo = 0, hi = t->n;
    while (lo < hi) {
        long mid = (lo + hi) / 2;
        if (t->curve[mid].step < step)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < t->n && t->curve[lo].step == step ? t->curve[lo].value : NAN;
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
