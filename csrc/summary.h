/*
 * summary: what the manager prints when a search ends: the counts, this
 * run's utilisation, the optimizer's share, the best result and the top
 * results.
 *
 * It prints from a snapshot (struct summary) that the caller fills once the
 * search has stopped and the optimizer thread has been joined, so printing
 * reads no live state and the format is unit-tested from plain values.
 */
#ifndef ASYNC_SEARCH_SUMMARY_H
#define ASYNC_SEARCH_SUMMARY_H

#include <stdio.h>

#define SUMMARY_TOP 5

struct summary_entry {
    const char *job_id;      /* not owned */
    const char *params_json; /* not owned */
    double objective;
};

struct summary {
    long finished;            /* evaluations finished (earlier runs too) */
    long ok, failed, timeout; /* by status */
    long stopped;             /* stopped early (shown when any) */
    int workers;
    double run_s;               /* this process's wall time */
    double loop_s;              /* the event loop's wall time (0: never ran) */
    double busy_s;              /* busy worker-seconds of this run */
    double idle_s;              /* worker-seconds idle between tasks */
    long done_this_run;         /* evaluations finished by this run */
    double sim_duration;        /* simulations: mean duration, else 0 */
    long opt_turns, opt_points; /* the optimizer's turns (0: unknown) */
    double opt_busy_s;
    struct summary_entry top[SUMMARY_TOP]; /* best first */
    int ntop;
    const char *exp_dir;      /* not owned */
    const char *results_name; /* results.csv */
};

/* Prints the summary to out (a blank line first). */
void summary_print(const struct summary *s, FILE *out);

#endif
