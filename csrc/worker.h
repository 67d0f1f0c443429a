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

#include "options.h"

/* Runs the worker of this rank. home is the project root (for the CANDLE
 * runner's PYTHONPATH); node_index is this worker's index among the workers
 * on its node (for GPU binding). Returns the process exit status. */
int worker_run(const struct options *o, const char *home, int rank,
               int node_index);

#endif
