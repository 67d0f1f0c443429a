/*
 * stopper: early stopping, deciding from learning curves which evaluations
 * are not worth finishing.
 *
 * Models report intermediate values (IMPROVE_INTERMEDIATE <step> <value>,
 * lower is better) while they train; every value goes into the stopper,
 * which answers continue or stop. Pure: no I/O, no clock, no MPI; the
 * manager journals each value before it asks (so a restart replays the same
 * values in the same order and rebuilds the same state), and ends a stopped
 * evaluation the way a timeout ends one.
 *
 * The rules are pluggable: each is one file (stopper_<name>.c) behind the
 * ops table of stopper_internal.h, listed in one registry (stopper.c) that
 * also feeds --stopper's names and --help. The registry's first rule is
 * "none" (index STOPPER_RULE_NONE), which never stops. The others:
 *  - asha, asynchronous successive halving (Li et al., "A System for
 *    Massively Parallel Hyperparameter Tuning", 2020): rungs at steps
 *    min_steps * eta^k (k = 0, 1, ...; below max_step when it is known). The
 *    first value a trial reports at or after a rung's step is recorded there;
 *    the trial continues only if that value is within the best 1/eta of all
 *    values recorded at the rung so far (itself included: the
 *    100/eta-th percentile, linearly interpolated, is the cutoff). Nothing
 *    waits for a rung to fill: early trials pass easily, later ones are held
 *    to the standard the earlier ones set.
 *  - median, Optuna's MedianPruner (the median stopping rule of Google
 *    Vizier, Golovin et al. 2017): once `warmup` trials have completed
 *    (n_startup_trials), at every step t >= min_steps (n_warmup_steps) a
 *    trial whose best value so far (its minimum over steps <= t) is worse
 *    than the median of the values the completed trials reported at step t
 *    is stopped; no completed trial reported t: continue (n_min_trials 1).
 *  - lce, stop what cannot beat the best finished result (the idea of
 *    DeepHyper's learning-curve-extrapolation stopper): at asha's rungs,
 *    once `warmup` completed trials reached the step, the trial's final is
 *    predicted from the `warmup` completed curves nearest to its own (its
 *    value now plus each one's change from this step to its final); it is
 *    stopped when even the most hopeful prediction, less the predictor's
 *    own error at this step (measured by predicting those neighbours'
 *    finals from the other completed curves), is worse than the best
 *    completed final. Before that, asha decides. stopper_lce.c has details.
 *
 * No trial is stopped at or past the last step of its training (the step its
 * model said, stopper_trial_end; else max_step as configured, else the last
 * step of the longest trial that ran to its end): there it has finished
 * training, and its own final value is worth more than any estimate.
 *
 * What the optimizer hears of a stopped trial under --stopper-tell estimate
 * (the default; under rank, its last step and value: engine.py): neither
 * its last value as if it were final (a loss after 2 of 25 epochs is no
 * final loss) nor nothing (it was measured worse than its peers). Its final
 * value is estimated from the trials that ran to their end and reported the
 * step where it stopped: within their range, by quantile matching (its rank
 * among their values at that step gives a quantile; the estimate is that
 * quantile of their finals); worse than all of them (the usual case: they
 * survived the same rungs), beyond their worst final by its lag behind the
 * worst of them at that step, scaled by the ratio of their finals' span to
 * their span at that step and compressed so that no lag reaches the worst
 * final plus the finals' span: stopped trials never look as good as the
 * survivors and stay ordered by how far behind they were, and a model that
 * diverged early (TC1 with a high learning rate reports a val_loss of 1e3
 * at epoch 3) cannot hand the surrogate a value that dwarfs every other
 * and sends its proposals to the corners of the space. (Ranking among
 * every value at the step, stopped trials included, mapped stopped trials
 * onto the survivors' good finals and drew the optimizer back to regions
 * the stopper had rejected.) With fewer than STOPPER_MIN_FINISHED such
 * trials the last value stands in, compressed the same way above the upper
 * quartile of the values at its step: for a loss that still falls it is
 * pessimistic, which is the safe side for a trial judged unpromising.
 */
#ifndef ASYNC_SEARCH_STOPPER_H
#define ASYNC_SEARCH_STOPPER_H

#include <stddef.h>

/* Finished trials needed before stopper_estimate uses quantile matching. */
#define STOPPER_MIN_FINISHED 3

/* The registry index of the rule "none", which never stops. */
#define STOPPER_RULE_NONE 0

/* The registry: rules by index 0, 1, ... The name of rule i ("none", "asha",
 * ...), or NULL past the last one; *help (when not NULL) gets its one-line
 * description. */
const char *stopper_rule_name(int i, const char **help);
/* The index of the rule called name, or -1. */
int stopper_rule_find(const char *name);
/* Whether rule i ever stops a trial (every rule but "none"): then a worker
 * waits for an answer after each intermediate value. */
int stopper_rule_acts(int i);

struct stopper_config {
    const char *rule; /* a registry name; NULL: "none" */
    long min_steps;   /* >= 1: nothing is stopped before this step */
    double eta;       /* > 1: ASHA's reduction factor, lce's rungs */
    long warmup;      /* >= 1: median, lce: completed trials needed */
    long max_step;    /* a full trial's last step: no stop there or past it;
                         0: learned from the trials that ran to their end */
};

enum stopper_decision { STOPPER_CONTINUE = 0, STOPPER_STOP = 1 };

struct stopper;

/* A stopper with the given rule. Returns NULL when memory runs out or the
 * rule is not in the registry. */
struct stopper *stopper_create(const struct stopper_config *cfg);
void stopper_free(struct stopper *s);

/* A new trial (an evaluation, or a replayed one); returns its id (0, 1, ...)
 * or -1 when memory runs out. */
long stopper_trial(struct stopper *s);

/*
 * Trial `trial` reported `value` at `step` (steps rise; a step at or below
 * the trial's last one is the caller's to refuse). Records it and returns
 * whether to stop the trial now. *why gets a short reason when it says stop
 * (static text with numbers; valid until the next call), else "". Returns
 * STOPPER_CONTINUE for an unknown trial or when memory runs out.
 */
enum stopper_decision stopper_report(struct stopper *s, long trial, long step,
                                     double value, const char **why);

/* The trial's training ends at last_step (its model said so): it is never
 * stopped there or later, and ASHA has no rung for it there. */
void stopper_trial_end(struct stopper *s, long trial, long last_step);

/* The trial ended: completed (ran to its end with final value `final`) or
 * not (stopped, failed: its curve still counts at the steps it reached). */
void stopper_finished(struct stopper *s, long trial, int completed,
                      double final);

/* The last step a trial reported (0: none) and its value there (NaN). */
long stopper_last(const struct stopper *s, long trial, double *value);

/* The last step of the trial's full training, as far as known: its model's
 * word (stopper_trial_end), else max_step (configured, or learned from the
 * trials that ran to their end); 0: unknown. */
long stopper_full_step(const struct stopper *s, long trial);

/* The estimated final value of a stopped trial (see above). */
double stopper_estimate(const struct stopper *s, long trial);

#endif
