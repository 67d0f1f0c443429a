/*
 * manager: rank 0. Sets up the experiment directory, starts the embedded
 * optimizer in its own thread, and runs the event loop that keeps every
 * worker busy: receive results (journal first, then the optimizer's queue),
 * take new points from the optimizer, hand buffered points to idle workers,
 * and ask the policy whether to request more. The loop never calls Python
 * and never blocks: it polls the transport and the queue and sleeps briefly
 * (backing off to MANAGER_SLEEP_MAX_S) only when nothing happened.
 */
#ifndef ASYNC_SEARCH_MANAGER_H
#define ASYNC_SEARCH_MANAGER_H

#include "options.h"
#include "transport.h"

#define MANAGER_SLEEP_MIN_S 0.0001
#define MANAGER_SLEEP_MAX_S 0.002
#define MANAGER_TOP 5
/* Optimizer turn times below this count as this (the demand window). */
#define MANAGER_MIN_TURN_S 0.05
/* Weight of the old turn time when a faster turn comes in. */
#define MANAGER_TURN_DECAY 0.9

/*
 * Runs the search with the given transport (its workers are ranks
 * 1..t->workers). home is the project root. Returns the process exit status:
 * 0 done, 2 bad input, 1 internal failure. Every worker has been told to
 * stop when it returns.
 */
int manager_run(const struct options *o, const char *home, struct transport *t);

/* The --check mode: load the problem through the engine, print the typed
 * space and warnings. Returns the exit status (0 or 2, 1 if Python itself
 * fails). No MPI. */
int manager_check(const struct options *o, const char *home);

#endif
