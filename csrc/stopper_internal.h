/*
 * stopper_internal.h: the private contract between the shared part of the
 * stopper (stopper.c: the curve store, the registry, the estimate) and the
 * rules (stopper_<name>.c), each of which is one ops table.
 *
 * The store keeps every value twice: on the trial (its curve, in step
 * order) and in the step's sorted list of values of all trials; once a
 * trial completed, its values also join the steps' sorted lists of
 * completed trials. ASHA's rungs (used by asha and by lce before it has
 * enough completed trials) live here too, so that any rule can record them.
 *
 * Adding a rule: write stopper_<name>.c defining `const struct stopper_ops
 * stopper_<name>_ops`, add its line (and extern declaration) to the
 * registry in stopper.c, and test it in tests/c/test_stopper.c.
 */
#ifndef ASYNC_SEARCH_STOPPER_INTERNAL_H
#define ASYNC_SEARCH_STOPPER_INTERNAL_H

#include <stddef.h>

#include "stopper.h"

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

/* A rule. report decides on trial t's value at step, which the store has
 * already recorded (in t's curve and the step's list). It may write a
 * reason into s->why when it says stop. Pure: no clock, no I/O. */
struct stopper_ops {
    enum stopper_decision (*report)(struct stopper *s, struct stopper_trial *t,
                                    long step, double value);
};

struct stopper {
    struct stopper_config cfg;
    const struct stopper_ops *ops; /* NULL: the rule "none" */
    struct stopper_trial *trials;
    long ntrials, captrials;
    struct stopper_sorted *steps; /* index: step; values reported there */
    struct stopper_sorted *done;  /* index: step; completed trials' values */
    long nsteps;                  /* steps[0..nsteps), done[..] exist */
    struct stopper_sorted *rungs; /* ASHA */
    long nrungs;
    long max_step;  /* the configured one, else the longest completed trial */
    long ncomplete; /* trials that ran to their end */
    double best_final; /* the best completed final; NaN: none */
    char why[STOPPER_WHY_LEN];
};

/* Grows *buf (of *cap elements of size size) to hold need elements. Returns
 * 0 or -1 (memory). */
int stopper_grow(void **buf, long *cap, long need, size_t size);
/* Inserts x keeping the list sorted. Returns 0 or -1 (memory). */
int stopper_insert(struct stopper_sorted *l, double x);
/* How many values of the list are <= x. */
long stopper_rank(const struct stopper_sorted *l, double x);
/* The p-th percentile (0..100) of a sorted list, linearly interpolated
 * between neighbours (numpy's default); NaN when empty. */
double stopper_percentile(const struct stopper_sorted *l, double p);
/* The value a trial reported at step, or NaN. */
double stopper_value_at(const struct stopper_trial *t, long step);
/* The value a trial reported last at or before step, or NaN (none). */
double stopper_value_upto(const struct stopper_trial *t, long step);
/* The last step of trial t's training: as its model said, else max_step
 * (configured or learned); 0: not known. */
long stopper_end_of(const struct stopper *s, const struct stopper_trial *t);
/* ASHA's rung k for trial t: its step, or 0 when there is none (at or past
 * the end of t's training). */
long stopper_rung_step(const struct stopper *s, const struct stopper_trial *t,
                       int k);

/* ASHA's rule (stopper_asha.c), for lce too: records value at every rung
 * the trial passed with this report (*crossed: how many); stop when it is
 * not within the best 1/eta at one of them. */
enum stopper_decision stopper_asha_rungs(struct stopper *s,
                                         struct stopper_trial *t, long step,
                                         double value, int *crossed);

#endif
