/*
 * worker: the loop of ranks 1..N-1. Receive a task, create its run
 * directory EXPDIR/run/R_I_J with params.json, run the model through
 * launch, send the result; until the manager says stop.
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
