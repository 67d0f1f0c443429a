/*
 * policy: how many new points to request from the optimizer, and when.
 *
 * Pure functions over counters: no I/O, no clocks (the caller passes "now"),
 * no MPI, so the whole behaviour is unit-tested (tests/c/test_policy.c).
 *
 * The rules, after the original workflow and without its defects:
 *  - Start: request INIT_SIZE points (at most MAX_EVALS).
 *  - Keep outstanding points (requested but not finished) up to the target
 *    workers + NUM_BUFFER; never request more than MAX_EVALS in total.
 *    Unlike the original, which only replaced finished points one for one,
 *    free capacity is filled at once, so INIT_SIZE may be smaller than the
 *    number of workers without leaving workers idle (and may be larger
 *    without the original's deadlock).
 *  - Threshold batching: a result that arrives less than the window (16 s)
 *    after the previous one waits until MAX_THRESHOLD results have
 *    accumulated (capped by the evaluations still to finish and by the
 *    points still outstanding) before points are requested, so a fast burst
 *    of results turns into one optimizer call. Two guards keep it from
 *    idling workers: if a worker is idle with no point buffered or on its
 *    way, or if the window has passed since the last result, the request is
 *    made at once.
 *  - Done after MAX_EVALS finished evaluations (failed ones count).
 *  - Latency hiding: NUM_BUFFER is a floor, not a ceiling. The demand is
 *    the number of results that arrived within the last two optimizer turns
 *    (turn times below POLICY_MIN_TURN_S count as that); the buffer grows to
 *    it (at most one extra point per worker), so that points are ready when a
 *    burst of results comes and workers never wait for the optimizer
 *    (--fixed-buffer keeps NUM_BUFFER). The turn time follows a slower turn
 *    at once and a faster one slowly (POLICY_TURN_DECAY), so one quick turn
 *    does not shrink the buffer just before a slow one.
 *
 * The policy allocates once, in policy_init (a ring of result times, one per
 * worker: demand beyond the workers changes nothing), and never again.
 */
#ifndef ASYNC_SEARCH_POLICY_H
#define ASYNC_SEARCH_POLICY_H

/* The original's batching window: results closer than this are batched. */
#define POLICY_THRESHOLD_WINDOW_S 16.0
/* Optimizer turn times below this count as this (the demand window). */
#define POLICY_MIN_TURN_S 0.05
/* Weight of the old turn time when a faster turn comes in. */
#define POLICY_TURN_DECAY 0.9

struct policy_config {
    long max_evals;     /* >= 1 */
    long init_size;     /* >= 1 */
    long num_buffer;    /* >= 0 */
    long max_threshold; /* >= 1 */
    long workers;       /* >= 1 */
    double window_s;    /* >= 0; 0 disables batching */
    int fixed_buffer;   /* nonzero: never grow the buffer past num_buffer */
};

struct policy {
    struct policy_config cfg;
    long requested;     /* points requested from the optimizer so far */
    long finished;      /* evaluations finished (ok or failed) */
    long accumulated;   /* results since the last request */
    double last_result; /* time of the latest result (caller's clock) */
    int have_result;    /* nonzero once a result arrived */
    int in_window;      /* latest result came within the window */
    long demand;        /* results within the last two optimizer turns */
    double turn_s;      /* recent optimizer turn time (fast up, slow down) */
    double *recent;     /* ring of the latest result times, cap = workers */
    long recent_head, recent_count;
};

/* Starts a policy. Counters start at zero; use policy_resume after a
 * restart. Returns 0, or -1 when memory runs out (nothing to free then). */
int policy_init(struct policy *p, const struct policy_config *cfg);
/* Frees what policy_init allocated (a zeroed policy is allowed). */
void policy_free(struct policy *p);
/* Sets the counters of a restarted experiment: `finished` evaluations are
 * already recorded and count towards MAX_EVALS, `reissued` points (in flight
 * when it stopped) are issued again. */
void policy_resume(struct policy *p, long finished, long reissued);
/* Returns the size of the first request (and records it): INIT_SIZE for a
 * new experiment, 0 for a restarted one that had produced points. */
long policy_initial(struct policy *p);
/* Records one finished evaluation at time now. */
void policy_result(struct policy *p, double now);
/* Records how long an optimizer turn took (seconds). */
void policy_turn(struct policy *p, double turn_s);
/*
 * Returns how many points to request now (0 for none) and records the
 * request. `starving` is nonzero when a worker is idle and no point is
 * buffered or requested for it. Updates the demand first.
 */
long policy_next(struct policy *p, double now, int starving);
/* Forgets result times older than the demand window at now and returns the
 * demand (at most the number of workers). */
long policy_demand(struct policy *p, double now);
/* The buffer in force: NUM_BUFFER, raised to the demand (capped at the
 * number of workers) unless the buffer is fixed. */
long policy_buffer(const struct policy *p);
/* Points requested but not finished. */
long policy_outstanding(const struct policy *p);
/* Nonzero once MAX_EVALS evaluations have finished. */
int policy_done(const struct policy *p);

#endif
