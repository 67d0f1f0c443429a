/*
 * manager: rank 0's event loop, the part of the search that keeps every
 * worker busy. Each turn it receives results (journal first, then the
 * optimizer's queue), takes new points from the optimizer, hands buffered
 * points to idle workers, and asks the request policy whether to request
 * more. It never calls Python and never blocks: it polls the transport and
 * the queue and sleeps briefly (backing off to MANAGER_SLEEP_MAX_S) only
 * when nothing happened.
 *
 * The manager owns its parts: the pool (points and workers), the policy, the
 * queue and the optimizer thread, and the progress display. It borrows the
 * transport, the optimizer and the journal, which the caller opens first and
 * closes after manager_free. Set-up of the experiment and the embedded
 * engine is the caller's (search.c); tests drive the same loop with
 * simulated workers and a C optimizer (tests/c/test_manager.c).
 */
#ifndef ASYNC_SEARCH_MANAGER_H
#define ASYNC_SEARCH_MANAGER_H

#include <stddef.h>
#include <stdio.h>

#include "batch.h"
#include "journal.h"
#include "optimizer.h"
#include "policy.h"
#include "progress.h"
#include "stopper.h"
#include "summary.h"
#include "transport.h"

#define MANAGER_SLEEP_MIN_S 0.0001
#define MANAGER_SLEEP_MAX_S 0.002
/* Durations remembered for the time-limit rule (the latest ones), and how
 * many it needs before it judges. */
#define MANAGER_DURATIONS 101
#define MANAGER_DURATIONS_MIN 3

/* How the event loop ended. */
enum manager_end {
    MANAGER_DONE,         /* MAX_EVALS evaluations finished */
    MANAGER_ERROR,        /* err says why */
    MANAGER_SIGNAL,       /* SIGTERM or SIGINT (signals_pending) */
    MANAGER_MAX_FAILURES, /* --max-failures reached */
    MANAGER_TIME_LIMIT,   /* --time-limit reached */
    MANAGER_FAIL_FAST,    /* the first evaluations all failed (--fail-fast) */
    MANAGER_STORAGE       /* the experiment's storage failed (a full disk):
                           * see manager_storage_error */
};

struct manager_config {
    struct policy_config policy;   /* .workers must equal the transport's */
    struct stopper_config stopper; /* early stopping (kind STOPPER_NONE: no) */
    int restart;       /* R of the new job ids (1 for a new experiment) */
    double t0_wall;    /* time origin of results.csv (epoch seconds) */
    double run_start;  /* when this process started (monotonic): the time
                        * limit and the rates count from it; 0: now */
    long max_failures; /* stop after this many failed or timed out; 0 no */
    long fail_fast;    /* stop when this many evaluations finished and
                        * none succeeded (earlier runs included); 0 no */
    double time_limit; /* seconds of this run; 0 none */
    /* With a time limit: start no evaluation that the durations measured so
     * far say cannot end before it (real runs: a killed model is lost work;
     * virtual workers lose nothing). */
    int fit_time_limit;
    int open_ended;      /* a simulation that runs until the time limit */
    double sim_duration; /* simulations: mean duration (summary), else 0 */
    const char *exp_dir; /* for messages (not owned) */
    FILE *progress_out;  /* where progress goes (not owned) */
    enum progress_mode progress_mode;
    int progress_tty;
    int verbosity; /* -1 quiet, 0 normal, 1 verbose */
};

struct manager;

/*
 * A manager for the transport's workers. transport, optimizer and journal
 * are borrowed (journal may be NULL only in tests that do not write rows).
 * Returns 0, or -1 with err.
 */
int manager_create(const struct manager_config *cfg, struct transport *tp,
                   struct optimizer *opt, struct journal *journal,
                   struct manager **out, char *err, size_t errlen);
/* What a restart found. */
struct manager_resumed {
    long finished; /* rows of earlier runs */
    long ok;       /* of which ok */
    long reissued; /* in-flight points issued again */
};

/*
 * A restart: takes the replay's finished rows (counted, never run again)
 * and issues its in-flight points again under new job ids R_1_J (up to
 * MAX_EVALS). The replay's strings move into the manager; the caller still
 * frees it. Call before manager_loop. Returns 0 with *out filled, or -1
 * with err.
 */
int manager_resume(struct manager *m, struct replay *r,
                   struct manager_resumed *out, char *err, size_t errlen);
/*
 * Starts the optimizer thread and runs the loop until MAX_EVALS evaluations
 * finished or a stop condition holds. Every result is in the journal before
 * the optimizer hears of it. The optimizer thread keeps running afterwards:
 * stop it with manager_stop_optimizer.
 */
enum manager_end manager_loop(struct manager *m, char *err, size_t errlen);
/* Stops the optimizer thread after its current turn (idempotent). */
void manager_stop_optimizer(struct manager *m);
/* Evaluations running now. */
long manager_running(const struct manager *m);
/* Evaluations that failed or timed out (earlier runs included). */
long manager_failures(const struct manager *m);
/* Why the experiment's storage failed ("write PATH: No space left on
 * device"), or NULL. Evaluations that ran into it have no row: they count
 * nowhere and a restart issues them again. */
const char *manager_storage_error(const struct manager *m);
/* The latest failed or timed-out evaluation of this run: its job id and
 * reason (valid until the next result), or NULL when there was none. */
const char *manager_last_failure(const struct manager *m, const char **reason);
/* Ends the progress line so that other output starts on its own line. */
void manager_end_progress(struct manager *m);
/*
 * Fills a snapshot for summary_print at now (monotonic). The optimizer's
 * figures are included only once its thread was stopped. The snapshot
 * points into the manager: use it before manager_free.
 */
void manager_summary(const struct manager *m, double now, struct summary *s);
/* Frees the manager (stopping the optimizer thread). NULL is allowed. */
void manager_free(struct manager *m);

#endif
