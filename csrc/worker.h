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

#include "layout.h"
#include "options.h"

/* Runs the worker of this rank. home is the project root (for the CANDLE
 * runner's PYTHONPATH); the layout gives this rank's node index (its GPU)
 * and the plan its team: alone (a team of one), the leader the manager
 * talks to, or a member its leader talks to. Returns the process exit
 * status. */
int worker_run(const struct options *o, const char *home, int rank,
               const struct layout *l, const struct team_plan *plan);

#endif
