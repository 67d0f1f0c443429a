/*
 * worker: the loop of ranks 1..N-1. Receive a task, create its run
 * directory EXPDIR/run/R_I_J with params.json, run the model through
 * launch, send the result; until the manager says stop.
 *
 * At start-up the worker builds what every evaluation shares: the command
 * words (cmdline.h), the model's environment (childenv.h) and the way models
 * start (spawn.h), chosen once from --launch: fork and exec, or a fork
 * server (which falls back to subprocesses by itself when it cannot be
 * started).
 */
#ifndef ASYNC_SEARCH_WORKER_H
#define ASYNC_SEARCH_WORKER_H

#include <stdbool.h>

#include "layout.h"

/* What a worker needs of the settings, filled once by its caller (main.c
 * main_worker_config, from the flags). Strings are borrowed and outlive the
 * worker. */
struct worker_config {
    const char *model;        /* --model NAME (the CANDLE runner), or NULL */
    const char *model_cmd;    /* --model-cmd "CMD ARGS", or NULL */
    const char *python;       /* the interpreter of the runner (--python) */
    bool fork_server;         /* --launch fork-server: models start from one */
    double sh_timeout;        /* seconds an evaluation may run; 0: no limit */
    double benchmark_timeout; /* BENCHMARK_TIMEOUT for the model; 0: none */
    long gpus_per_node;       /* GPUs bound per node index; 0: none */
    bool stopper_answers;     /* a stopper runs: wait for its answer to each
                                 intermediate value */
};

/* Runs the worker of this rank with c. home is the project root (for the
 * CANDLE runner's PYTHONPATH); the layout gives this rank's node index (its
 * GPU) and the plan its team: alone (a team of one), the leader the manager
 * talks to, or a member its leader talks to. Returns the process exit
 * status. */
int worker_run(const struct worker_config *c, const char *home, int rank,
               const struct layout *l, const struct team_plan *plan);

#endif
