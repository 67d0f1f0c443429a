/* Unit tests of early stopping (csrc/stopper.c): ASHA's rungs and cutoffs,
 * the median rule (Optuna's MedianPruner), lce (stop what cannot beat the
 * best completed final), and the final value a stopped trial is told as. */
#include "unit.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stopper.h"

static struct stopper *make(const char *kind, long min_steps, double eta,
                            long warmup, long max_step)
{
    struct stopper_config c = {kind, min_steps, eta, warmup, max_step};
    struct stopper *s = stopper_create(&c);
    assert_non_null(s);
    return s;
}

static enum stopper_decision report(struct stopper *s, long trial, long step,
                                    double value)
{
    const char *why;
    enum stopper_decision d = stopper_report(s, trial, step, value, &why);
    assert_int_equal(why[0] != '\0', d == STOPPER_STOP);
    return d;
}

static void none_never_stops(void **state)
{
    (void)state;
    struct stopper *s = make("none", 1, 3, 1, 0);
    for (int i = 0; i < 20; i++) {
        long t = stopper_trial(s);
        for (long step = 1; step <= 5; step++)
            assert_int_equal(report(s, t, step, 100.0 * i + step),
                             STOPPER_CONTINUE);
    }
    stopper_free(s);
}

static void asha_keeps_the_best_third_at_each_rung(void **state)
{
    (void)state;
    struct stopper *s = make("asha", 1, 3, 1, 0);
    long a = stopper_trial(s), b = stopper_trial(s), c = stopper_trial(s);
    /* rung 1: the first trial always passes */
    assert_int_equal(report(s, a, 1, 1.0), STOPPER_CONTINUE);
    /* [1, 2]: cutoff 1 + (2 - 1) / 3 = 1.33; 2 is out */
    assert_int_equal(report(s, b, 1, 2.0), STOPPER_STOP);
    /* [0.5, 1, 2]: cutoff at the 33rd percentile 0.83; 0.5 is in */
    assert_int_equal(report(s, c, 1, 0.5), STOPPER_CONTINUE);
    /* step 2 is no rung; rung 3 starts empty again: a passes it */
    assert_int_equal(report(s, a, 2, 0.9), STOPPER_CONTINUE);
    assert_int_equal(report(s, a, 3, 0.8), STOPPER_CONTINUE);
    assert_int_equal(report(s, c, 2, 0.7), STOPPER_CONTINUE);
    /* [0.8, 0.85] at rung 3: c is worse than the cutoff 0.817 */
    assert_int_equal(report(s, c, 3, 0.85), STOPPER_STOP);
    stopper_free(s);
}

static void asha_records_every_rung_a_jump_passes(void **state)
{
    (void)state;
    struct stopper *s = make("asha", 1, 3, 1, 0);
    long a = stopper_trial(s), b = stopper_trial(s);
    for (long step = 1; step <= 9; step++)
        report(s, a, step, 1.0);
    /* b reports step 10 first: rungs 1, 3 and 9 all get its value; it is
     * better than a at each */
    assert_int_equal(report(s, b, 10, 0.5), STOPPER_CONTINUE);
    long c = stopper_trial(s);
    /* c worse than both at rung 1 */
    assert_int_equal(report(s, c, 1, 2.0), STOPPER_STOP);
    stopper_free(s);
}

static void asha_has_no_rung_at_or_above_max_step(void **state)
{
    (void)state;
    struct stopper *s = make("asha", 2, 2, 1, 4); /* rungs 2 only */
    long a = stopper_trial(s), b = stopper_trial(s);
    report(s, a, 2, 1.0);
    assert_int_equal(report(s, b, 1, 9.0), STOPPER_CONTINUE); /* no rung */
    assert_int_equal(report(s, b, 4, 9.0), STOPPER_STOP);     /* rung 2 */
    long c = stopper_trial(s);
    report(s, c, 2, 0.5);
    /* step 4 would be rung 2 (2 x 2), but 4 >= max_step: never judged */
    assert_int_equal(report(s, c, 4, 50.0), STOPPER_CONTINUE);
    stopper_free(s);
}

/* Optuna's MedianPruner: the trial's best value so far against the median
 * of the completed trials' values at the step, once `warmup` completed. */
static void median_rule_after_warmup_and_min_steps(void **state)
{
    (void)state;
    struct stopper *s = make("median", 2, 3, 2, 0);
    const long steps[] = {1, 2, 3, 5};
    const double av[] = {5.0, 4.0, 3.0, 2.5}, bv[] = {1.0, 0.5, 0.4, 0.3};
    long a = stopper_trial(s), x = stopper_trial(s), b = stopper_trial(s);
    for (int i = 0; i < 4; i++)
        report(s, a, steps[i], av[i]);
    stopper_finished(s, a, 1, 2.5);
    /* one completed trial: below n_startup_trials (warmup 2) */
    assert_int_equal(report(s, x, 1, 9.0), STOPPER_CONTINUE);
    assert_int_equal(report(s, x, 2, 9.0), STOPPER_CONTINUE);
    for (int i = 0; i < 4; i++)
        report(s, b, steps[i], bv[i]);
    stopper_finished(s, b, 1, 0.3);
    /* completed at step 3: [0.4, 3]: median 1.7 */
    assert_int_equal(report(s, x, 3, 9.0), STOPPER_STOP);
    /* step 1 is below min_steps (n_warmup_steps): never judged */
    long y = stopper_trial(s), z = stopper_trial(s), w = stopper_trial(s);
    assert_int_equal(report(s, y, 1, 9.0), STOPPER_CONTINUE);
    /* completed at step 2: [0.5, 4]: median 2.25 */
    assert_int_equal(report(s, y, 2, 2.0), STOPPER_CONTINUE);
    /* its best so far (0.1 at step 1) counts, not its value now */
    assert_int_equal(report(s, z, 1, 0.1), STOPPER_CONTINUE);
    assert_int_equal(report(s, z, 2, 3.0), STOPPER_CONTINUE);
    /* running and stopped trials are no standard: many bad values at step
     * 2 leave the median of the completed at 2.25 */
    for (int i = 0; i < 6; i++)
        report(s, stopper_trial(s), 2, 100.0);
    assert_int_equal(report(s, w, 2, 2.3), STOPPER_STOP);
    /* a step no completed trial reported is not judged (n_min_trials 1) */
    long q = stopper_trial(s);
    assert_int_equal(report(s, q, 4, 100.0), STOPPER_CONTINUE);
    stopper_free(s);
}

static void bad_reports_change_nothing(void **state)
{
    (void)state;
    struct stopper *s = make("asha", 1, 3, 1, 0);
    long a = stopper_trial(s);
    double v;
    assert_int_equal(report(s, a, 1, NAN), STOPPER_CONTINUE);
    assert_int_equal(report(s, 7, 1, 1.0), STOPPER_CONTINUE); /* unknown */
    assert_int_equal(report(s, a, 0, 1.0), STOPPER_CONTINUE); /* step 0 */
    assert_int_equal(stopper_last(s, a, &v), 0);
    assert_true(isnan(v));
    stopper_free(s);
}

static void
a_stopped_trial_is_told_the_final_value_of_its_quantile(void **state)
{
    (void)state;
    struct stopper *s = make("asha", 1, 3, 1, 0);
    /* four trials run to their end: at step 2 they had 1, 2, 3, 4 and ended
     * at 0.1, 0.2, 0.3, 0.4 */
    for (int i = 0; i < 4; i++) {
        long t = stopper_trial(s);
        stopper_report(s, t, 2, 1.0 + i, &(const char *){""});
        stopper_finished(s, t, 1, 0.1 * (i + 1));
    }
    long worst = stopper_trial(s), worse = stopper_trial(s);
    long mid = stopper_trial(s), best = stopper_trial(s);
    stopper_report(s, worst, 2, 10.0, &(const char *){""});
    stopper_finished(s, worst, 0, NAN);
    /* behind every completed trial at step 2 (by 6, twice their span of
     * 3): beyond their worst final (0.4), on the finals' scale (span 0.3),
     * compressed below 0.4 + 0.3; not mapped onto the survivors' finals */
    double e_worst = stopper_estimate(s, worst);
    assert_true(fabs(e_worst - (0.4 + 0.3 * (1 - exp(-6.0 / 3.0)))) < 1e-12);
    stopper_report(s, worse, 2, 5.0, &(const char *){""});
    double e_worse = stopper_estimate(s, worse);
    assert_true(fabs(e_worse - (0.4 + 0.3 * (1 - exp(-1.0 / 3.0)))) < 1e-12);
    /* ordered by how far behind, never as good as a survivor, bounded */
    assert_true(0.4 < e_worse && e_worse < e_worst && e_worst < 0.7);
    /* 2.5 lies halfway between the completed 2 and 3: halfway between
     * their finals; stopped trials' values do not shift the ranks */
    stopper_report(s, mid, 2, 2.5, &(const char *){""});
    assert_true(fabs(stopper_estimate(s, mid) - 0.25) < 1e-12);
    /* better than all of them: the best final, no better */
    stopper_report(s, best, 2, 0.5, &(const char *){""});
    assert_true(fabs(stopper_estimate(s, best) - 0.1) < 1e-12);
    double last;
    assert_int_equal(stopper_last(s, mid, &last), 2);
    assert_true(last == 2.5);
    stopper_free(s);
}

static void no_stop_at_the_last_step_of_a_full_trial(void **state)
{
    (void)state;
    const char *why;
    /* configured: median with max_step 3 judges steps 1 and 2 only */
    struct stopper *s = make("median", 1, 3, 1, 3);
    long c = stopper_trial(s);
    for (long step = 1; step <= 4; step++)
        stopper_report(s, c, step, 1.0, &why);
    stopper_finished(s, c, 1, 1.0);
    long a = stopper_trial(s), b = stopper_trial(s);
    assert_int_equal(stopper_report(s, a, 3, 9.0, &why), STOPPER_CONTINUE);
    assert_int_equal(stopper_report(s, a, 4, 9.0, &why), STOPPER_CONTINUE);
    assert_int_equal(stopper_report(s, b, 2, 9.0, &why), STOPPER_STOP);
    stopper_free(s);
    /* learned: once a trial ran to its end at step 3, a trial reporting
     * step 3 has finished training too; step 2 is still judged */
    s = make("median", 1, 3, 1, 0);
    a = stopper_trial(s);
    for (long step = 1; step <= 3; step++)
        stopper_report(s, a, step, 1.0, &why);
    stopper_finished(s, a, 1, 1.0);
    c = stopper_trial(s);
    assert_int_equal(stopper_report(s, c, 3, 9.0, &why), STOPPER_CONTINUE);
    long d = stopper_trial(s);
    assert_int_equal(stopper_report(s, d, 2, 9.0, &why), STOPPER_STOP);
    stopper_free(s);
    /* asha, rungs at 3, 9, ...: the rung at 3 goes once a full trial ended
     * there */
    s = make("asha", 3, 3, 1, 0);
    a = stopper_trial(s);
    assert_int_equal(stopper_report(s, a, 3, 1.0, &why), STOPPER_CONTINUE);
    b = stopper_trial(s);
    assert_int_equal(stopper_report(s, b, 3, 9.0, &why), STOPPER_STOP);
    stopper_finished(s, a, 1, 1.0);
    c = stopper_trial(s);
    assert_int_equal(stopper_report(s, c, 3, 9.0, &why), STOPPER_CONTINUE);
    stopper_free(s);
    /* a trial whose model said its training ends at step 2 is judged at
     * step 1 only, whatever the others do */
    s = make("median", 1, 3, 1, 0);
    a = stopper_trial(s);
    for (long step = 1; step <= 3; step++)
        stopper_report(s, a, step, 1.0, &why);
    stopper_finished(s, a, 1, 1.0);
    b = stopper_trial(s);
    stopper_trial_end(s, b, 2);
    assert_int_equal(stopper_report(s, b, 2, 9.0, &why), STOPPER_CONTINUE);
    c = stopper_trial(s);
    stopper_trial_end(s, c, 2);
    assert_int_equal(stopper_report(s, c, 1, 9.0, &why), STOPPER_STOP);
    d = stopper_trial(s); /* without its end said, step 2 is judged */
    assert_int_equal(stopper_report(s, d, 2, 9.0, &why), STOPPER_STOP);
    stopper_free(s);
    /* asha: no rung at a trial's own end (rungs 1, 3, 9; its end 3) */
    s = make("asha", 1, 3, 1, 0);
    a = stopper_trial(s);
    stopper_report(s, a, 1, 1.0, &why);
    stopper_report(s, a, 3, 1.0, &why);
    b = stopper_trial(s);
    stopper_trial_end(s, b, 3);
    assert_int_equal(stopper_report(s, b, 1, 0.5, &why), STOPPER_CONTINUE);
    assert_int_equal(stopper_report(s, b, 3, 9.0, &why), STOPPER_CONTINUE);
    c = stopper_trial(s); /* the same values without its end said */
    assert_int_equal(stopper_report(s, c, 1, 0.5, &why), STOPPER_CONTINUE);
    assert_int_equal(stopper_report(s, c, 3, 9.0, &why), STOPPER_STOP);
    stopper_free(s);
}

static void with_few_finished_trials_the_last_value_stands_in(void **state)
{
    (void)state;
    struct stopper *s = make("median", 1, 3, 1, 0);
    long a = stopper_trial(s), b = stopper_trial(s);
    stopper_report(s, a, 1, 1.0, &(const char *){""});
    stopper_finished(s, a, 1, 0.5);
    stopper_report(s, b, 1, 3.0, &(const char *){""});
    assert_true(stopper_estimate(s, b) == 3.0);
    stopper_free(s);
}

static void a_diverged_trial_does_not_stretch_the_scale(void **state)
{
    (void)state;
    struct stopper *s = make("asha", 1, 3, 1, 0);
    /* three completed trials: 1.70, 1.72, 1.74 at step 3, finals 0.9-1.1 */
    for (int i = 0; i < 3; i++) {
        long t = stopper_trial(s);
        stopper_report(s, t, 3, 1.70 + 0.02 * i, &(const char *){""});
        stopper_finished(s, t, 1, 0.9 + 0.1 * i);
    }
    long a = stopper_trial(s), b = stopper_trial(s);
    stopper_report(s, a, 3, 1093.0, &(const char *){""});
    stopper_report(s, b, 3, 1.80, &(const char *){""});
    double ea = stopper_estimate(s, a), eb = stopper_estimate(s, b);
    assert_true(1.1 < eb && eb < ea && ea <= 1.1 + 0.2 + 1e-12);
    stopper_free(s);
    /* before three trials ran to their end: the last value, compressed
     * above the upper quartile of every value at its step */
    s = make("asha", 1, 3, 1, 0);
    const double at3[] = {1.70, 1.72, 1.74, 1.76};
    for (int i = 0; i < 4; i++)
        stopper_report(s, stopper_trial(s), 3, at3[i], &(const char *){""});
    a = stopper_trial(s);
    b = stopper_trial(s);
    stopper_report(s, a, 3, 1093.0, &(const char *){""});
    stopper_report(s, b, 3, 1.71, &(const char *){""});
    /* of 1.70 1.71 1.72 1.74 1.76 1093 */
    double q3 = 1.74 + 0.75 * (1.76 - 1.74);
    ea = stopper_estimate(s, a);
    assert_true(q3 < ea && ea < q3 + (q3 - 1.70) + 1e-12);
    assert_true(stopper_estimate(s, b) == 1.71); /* within: as reported */
    stopper_free(s);
}

/* lce's test curves: base + 1/step, steps 1..LCE_STEPS (rungs 1, 3, 9). */
#define LCE_STEPS 27
static double lce_curve(double base, long step)
{
    return base + 1.0 / (double)step;
}

/* Three trials run to their end, bases 0.1 (the best final), 0.5, 1.0. */
static void lce_completed(struct stopper *s)
{
    const double bases[] = {1.0, 0.1, 0.5};
    for (int i = 0; i < 3; i++) {
        long t = stopper_trial(s);
        for (long step = 1; step <= LCE_STEPS; step++)
            report(s, t, step, lce_curve(bases[i], step));
        stopper_finished(s, t, 1, lce_curve(bases[i], LCE_STEPS));
    }
}

static void lce_stops_what_tracks_a_bad_curve_only(void **state)
{
    (void)state;
    struct stopper *s = make("lce", 1, 3, 3, 0);
    lce_completed(s);
    /* tracks the worst completed curve: every prediction ends near 1.04,
     * the best final is 0.137: stopped at the first rung */
    long bad = stopper_trial(s);
    assert_int_equal(report(s, bad, 1, lce_curve(1.0, 1)), STOPPER_STOP);
    /* between the best and the middle curve from the start: its most
     * hopeful prediction (0.3 + 1/27) is worse than the best final */
    long mid = stopper_trial(s);
    assert_int_equal(report(s, mid, 1, lce_curve(0.3, 1)), STOPPER_STOP);
    /* tracks the best completed curve: it predicts the best final exactly,
     * and runs to its end */
    long good = stopper_trial(s);
    for (long step = 1; step <= LCE_STEPS; step++)
        assert_int_equal(report(s, good, step, lce_curve(0.1, step)),
                         STOPPER_CONTINUE);
    /* better than every completed curve: goes on */
    long better = stopper_trial(s);
    assert_int_equal(report(s, better, 1, lce_curve(0.0, 1)), STOPPER_CONTINUE);
    stopper_free(s);
}

static void lce_never_stops_at_or_past_the_last_step(void **state)
{
    (void)state;
    struct stopper *s = make("lce", 1, 3, 3, 0);
    lce_completed(s); /* learned: a full trial ends at step 27 */
    long t = stopper_trial(s);
    assert_int_equal(report(s, t, LCE_STEPS, 100.0), STOPPER_CONTINUE);
    assert_int_equal(report(s, t, LCE_STEPS + 5, 100.0), STOPPER_CONTINUE);
    /* its model said its training ends at 3: judged at rung 1 only */
    long u = stopper_trial(s);
    stopper_trial_end(s, u, 3);
    assert_int_equal(report(s, u, 3, 100.0), STOPPER_CONTINUE);
    long v = stopper_trial(s);
    stopper_trial_end(s, v, 3);
    assert_int_equal(report(s, v, 1, 100.0), STOPPER_STOP);
    stopper_free(s);
    /* configured max_step: the same at 9 */
    s = make("lce", 1, 3, 3, 9);
    lce_completed(s);
    t = stopper_trial(s);
    assert_int_equal(report(s, t, 9, 100.0), STOPPER_CONTINUE);
    stopper_free(s);
}

/* A curve at `first` on step 1 that moves to `final` by its last step. */
static double lce_parting(double first, double final, long step)
{
    double x = (double)(step - 1) / (double)(LCE_STEPS - 1);
    return first + (final - first) * x;
}

static void lce_spares_what_early_values_cannot_tell_apart(void **state)
{
    (void)state;
    /* pairs of completed curves that read the same at step 1 and end far
     * apart, one learning (finals 0.40, 0.42, 0.44) and one not (0.90, 0.92,
     * 0.94): at step 1 a good curve's nearest neighbour is a bad one, so
     * step 1 predicts the good finals 0.5 too pessimistically */
    struct stopper *s = make("lce", 1, 3, 1, 0);
    const double firsts[] = {1.00, 1.00, 1.02, 1.02, 1.04, 1.04};
    const double finals[] = {0.40, 0.90, 0.42, 0.92, 0.44, 0.94};
    for (int i = 0; i < 6; i++) {
        long t = stopper_trial(s);
        for (long step = 1; step <= LCE_STEPS; step++)
            report(s, t, step, lce_parting(firsts[i], finals[i], step));
        stopper_finished(s, t, 1, finals[i]);
    }
    /* 1.01 at step 1: its most hopeful neighbour predicts 0.41, worse than
     * the best final 0.40, but within the error of such predictions at
     * step 1: it goes on */
    long near = stopper_trial(s);
    assert_int_equal(report(s, near, 1, 1.01), STOPPER_CONTINUE);
    /* 2.0 at step 1 predicts 1.40 at best: behind by more than that error */
    long far = stopper_trial(s);
    assert_int_equal(report(s, far, 1, 2.0), STOPPER_STOP);
    /* by step 9 the curves have parted: the predictions from there are
     * exact, so a curve that tracks a bad one is stopped there */
    long bad = stopper_trial(s);
    enum stopper_decision d = STOPPER_CONTINUE;
    for (long step = 1; step <= 9 && d == STOPPER_CONTINUE; step++)
        d = report(s, bad, step, lce_parting(1.00, 0.90, step));
    assert_int_equal(d, STOPPER_STOP);
    stopper_free(s);
}

/* A pseudo-random but fixed set of reports for trial i at step. */
static double lce_noise(long i, long step)
{
    return 0.05 * (double)((i * 7919 + step * 104729) % 97) / 97.0;
}

static void lce_is_asha_before_enough_completed(void **state)
{
    (void)state;
    struct stopper *lce = make("lce", 1, 3, 3, 0);
    struct stopper *asha = make("asha", 1, 3, 3, 0);
    for (long i = 0; i < 12; i++) {
        long a = stopper_trial(lce), b = stopper_trial(asha);
        int stopped = 0;
        for (long step = 1; step <= 9 && !stopped; step++) {
            double v =
                lce_curve(0.1 * (double)(i % 5), step) + lce_noise(i, step);
            enum stopper_decision d = report(lce, a, step, v);
            assert_int_equal(d, report(asha, b, step, v));
            stopped = d == STOPPER_STOP;
        }
        if (i < 2 && !stopped) { /* two complete: fewer than warmup 3 */
            stopper_finished(lce, a, 1, 0.1);
            stopper_finished(asha, b, 1, 0.1);
        }
    }
    stopper_free(lce);
    stopper_free(asha);
}

/* Trial i's curve: the first four improve (asha lets them complete), then
 * a mix. */
static double lce_base(long i)
{
    return i < 4 ? 0.8 - 0.2 * (double)i : 0.05 * (double)((i * 5) % 16);
}

/* The reports of lce_decisions: trial i, its steps 1..n. */
struct lce_script {
    long n[16];
    int completed[16];
};

/* Runs 16 trials one after another through a fresh lce stopper (a trial
 * reports until stopped or step 27, then ends), recording each one's
 * steps and end. Then a new trial's decisions on a fixed curve. */
static void lce_live(struct lce_script *sc, enum stopper_decision *probe)
{
    struct stopper *s = make("lce", 1, 3, 3, 0);
    for (long i = 0; i < 16; i++) {
        long t = stopper_trial(s);
        double base = lce_base(i);
        sc->n[i] = 0;
        sc->completed[i] = 1;
        for (long step = 1; step <= LCE_STEPS; step++) {
            sc->n[i] = step;
            if (report(s, t, step,
                       lce_curve(base, step) + lce_noise(i, step)) ==
                STOPPER_STOP) {
                sc->completed[i] = 0;
                break;
            }
        }
        stopper_finished(s, t, sc->completed[i],
                         lce_curve(base, LCE_STEPS) + lce_noise(i, LCE_STEPS));
    }
    long t = stopper_trial(s);
    for (long step = 1; step <= 9; step++)
        probe[step] = report(s, t, step, lce_curve(0.3, step));
    stopper_free(s);
}

static void lce_rebuilt_from_the_journal_decides_the_same(void **state)
{
    (void)state;
    struct lce_script sc;
    enum stopper_decision live[10], again[10], rebuilt[10];
    lce_live(&sc, live);
    int stopped = 0, completed = 0;
    for (int i = 0; i < 16; i++) {
        stopped += !sc.completed[i];
        completed += sc.completed[i];
    }
    assert_true(stopped > 0 && completed >= 3); /* both kinds happened */
    lce_live(&sc, again); /* the same reports: the same decisions */
    assert_memory_equal(live + 1, again + 1, 9 * sizeof live[0]);
    /* a restart: every value again in journal order, trials numbered in
     * another order (by job id), then the ends; no finish in between */
    struct stopper *s = make("lce", 1, 3, 3, 0);
    long id[16];
    for (int i = 15; i >= 0; i--)
        id[i] = stopper_trial(s);
    for (long i = 0; i < 16; i++) {
        double base = lce_base(i);
        for (long step = 1; step <= sc.n[i]; step++)
            stopper_report(s, id[i], step,
                           lce_curve(base, step) + lce_noise(i, step),
                           &(const char *){""});
    }
    for (long i = 0; i < 16; i++) {
        double base = lce_base(i);
        stopper_finished(s, id[i], sc.completed[i],
                         lce_curve(base, LCE_STEPS) + lce_noise(i, LCE_STEPS));
    }
    long t = stopper_trial(s);
    for (long step = 1; step <= 9; step++)
        rebuilt[step] = report(s, t, step, lce_curve(0.3, step));
    assert_memory_equal(live + 1, rebuilt + 1, 9 * sizeof live[0]);
    stopper_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(none_never_stops),
        cmocka_unit_test(asha_keeps_the_best_third_at_each_rung),
        cmocka_unit_test(asha_records_every_rung_a_jump_passes),
        cmocka_unit_test(asha_has_no_rung_at_or_above_max_step),
        cmocka_unit_test(median_rule_after_warmup_and_min_steps),
        cmocka_unit_test(bad_reports_change_nothing),
        cmocka_unit_test(no_stop_at_the_last_step_of_a_full_trial),
        cmocka_unit_test(
            a_stopped_trial_is_told_the_final_value_of_its_quantile),
        cmocka_unit_test(with_few_finished_trials_the_last_value_stands_in),
        cmocka_unit_test(a_diverged_trial_does_not_stretch_the_scale),
        cmocka_unit_test(lce_stops_what_tracks_a_bad_curve_only),
        cmocka_unit_test(lce_never_stops_at_or_past_the_last_step),
        cmocka_unit_test(lce_spares_what_early_values_cannot_tell_apart),
        cmocka_unit_test(lce_is_asha_before_enough_completed),
        cmocka_unit_test(lce_rebuilt_from_the_journal_decides_the_same),
    };
    return UNIT_RUN(tests);
}
