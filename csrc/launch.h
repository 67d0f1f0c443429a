/*
 * launch: run one model evaluation as a child process, without a shell.
 *
 * The child is started by a spawner (spawn.h: fork and exec, or a fork
 * server) in its own process group, in the run directory, with stdin from
 * /dev/null and stdout+stderr on a pipe that launch drains into model.log
 * through modelout.h (capped at LAUNCH_LOG_CAP_BYTES with a truncation
 * marker; later output is still scanned for IMPROVE_RESULT lines). The result
 * is the number on the last "IMPROVE_RESULT <number>" line, else the number in
 * result.txt. SH_TIMEOUT ends the whole process group: SIGTERM, then SIGKILL
 * after LAUNCH_KILL_GRACE_S. Processes a model leaves behind are killed when
 * it exits. Every way a model can misbehave becomes a failed (or timed-out)
 * evaluation with a reason; nothing here stops the worker.
 */
#ifndef ASYNC_SEARCH_LAUNCH_H
#define ASYNC_SEARCH_LAUNCH_H

#include <stddef.h>

#include "util.h"

#define LAUNCH_KILL_GRACE_S 10.0
#define LAUNCH_LOG_CAP_BYTES ((size_t)8 << 20)
#define LAUNCH_REASON_LEN 320
#define LAUNCH_LOG_NAME "model.log"

enum launch_status {
    LAUNCH_OK = 0,
    LAUNCH_FAILED = 1,
    LAUNCH_TIMEOUT = 2,
    LAUNCH_CANCELLED = 3,
    /* The experiment's storage failed before the model ran (a full disk
     * while preparing the run directory or model.log): no result of the
     * model, never a row of results.csv. */
    LAUNCH_STORAGE = 4,
    /* Stopped early by the manager (a stopper judged its learning curve):
     * the objective is its last intermediate value. */
    LAUNCH_STOPPED = 5
};

/* Told about each usable IMPROVE_INTERMEDIATE line while the model runs
 * (steps rise: a line whose step does not is logged and ignored); last_step:
 * the step its training ends at, when the line says it, else 0. */
typedef void (*launch_intermediate_fn)(void *arg, long step, double value,
                                       long last_step);

struct spawner;

struct launch_spec {
    /* what the spawner runs: command words (argv[0] is searched in PATH),
     * or with a fork server the runner's arguments (MODEL PARAMS_JSON) */
    char *const *argv;
    char *const *envp;       /* complete environment of the child */
    const char *run_dir;     /* working directory; model.log is written here */
    double sh_timeout;       /* seconds; 0: no limit */
    double kill_grace;       /* seconds between SIGTERM and SIGKILL */
    size_t log_cap;          /* bytes of model.log kept */
    struct spawner *spawner; /* starts the child (borrowed) */
    launch_intermediate_fn on_intermediate; /* may be NULL */
    void *intermediate_arg;
    /* A stopper answers intermediate values: after each, the cancel hook is
     * polled quickly for LAUNCH_ANSWER_S (0: none will come). */
    int answers;
    /* A team member's model (--ranks-per-eval): exit status 0 is success
     * and no result is looked for (objective NaN); the evaluation's result
     * is its leader's. */
    int exit_only;
    /* Why a cancel (LAUNCH_CANCELLED from the cancel hook) happened, as the
     * hook wrote it here before it returned; NULL or "": "stopped by the
     * manager". */
    const char *cancel_why;
    /* A problem with several objectives: their names, blank-separated
     * ("val_loss cost"); the result is the labelled line
     * "IMPROVE_RESULT val_loss=0.31 cost=12.5" (modelout_parse_objectives),
     * and a missing or extra label or a non-number fails the evaluation
     * naming the label. NULL or "": one objective, as always. */
    const char *objectives;
};

struct launch_result {
    enum launch_status status;
    double objective; /* NaN unless status is LAUNCH_OK */
    int exit_code;    /* -1 when the model died by a signal or never ran */
    int term_signal;  /* the signal that ended it, 0 otherwise */
    double t_start;   /* wall clock (epoch seconds) */
    double t_end;
    long steps;  /* the last step the model reported (0: none) */
    double last; /* its value there (NaN: none) */
    char reason[LAUNCH_REASON_LEN]; /* why it failed; "" when ok */
    /* LAUNCH_OK with several objectives: their values in the order of
     * launch_spec.objectives (objective is the first); 0 otherwise */
    int nobjectives;
    double objectives[ASYNC_MAX_OBJECTIVES];
};

/* Polled about every LAUNCH_POLL_S while the model runs (more often just
 * after an intermediate value, see LAUNCH_ANSWER_S): 0 lets it run;
 * LAUNCH_CANCELLED or LAUNCH_STOPPED ends it (its whole process group, as
 * SH_TIMEOUT does) with that status; LAUNCH_STOPPED is ignored once the model
 * reported the last step it said its training ends at (it has finished
 * training: its result counts). */
typedef int (*launch_cancel_fn)(void *arg);

#define LAUNCH_POLL_S 0.05
/* After an intermediate value went to the manager (a stopper decides on
 * it), the cancel hook is polled every LAUNCH_ANSWER_POLL_S for
 * LAUNCH_ANSWER_S, so that a stop ends the model within milliseconds, not
 * at its next output line (a whole step later). */
#define LAUNCH_ANSWER_S 0.25
#define LAUNCH_ANSWER_POLL_S 0.002

/* Runs the model and fills *r; returns when the model and everything it left
 * running ended (or could not be drained after it was killed). cancel may be
 * NULL; arg is passed to it. Writes run_dir/model.log; a failure's reason
 * also ends up there. */
void launch_run(const struct launch_spec *s, launch_cancel_fn cancel, void *arg,
                struct launch_result *r);

/* Returns the status name used in results.csv: ok, failed, timeout,
 * stopped (and cancelled, storage, which never reach it). */
const char *launch_status_name(enum launch_status st);

#endif
