/*
 * search: rank 0 from start to end. Resolves and prepares the experiment,
 * starts the embedded engine (problem file and optimizer), replays a
 * restart, announces the start to the workers, runs the manager's loop,
 * and ends the way the loop ended: the summary, the report, the exit
 * status. Also the --check mode, which needs neither MPI nor an experiment.
 */
#ifndef ASYNC_SEARCH_SEARCH_H
#define ASYNC_SEARCH_SEARCH_H

#include "layout.h"
#include "options.h"
#include "transport.h"

#define SEARCH_ERR_LEN 1024

/* What an MPI job knows of its ranks (NULL for a simulation). */
struct search_job {
    const struct layout *layout;  /* every rank: host, node, GPU */
    const struct team_plan *plan; /* the teams (transport workers) */
    char error[SEARCH_ERR_LEN];   /* why no plan could be made, or "" */
};
/* The exit status of a search in which no evaluation succeeded (also when
 * --fail-fast stopped it). */
#define SEARCH_EXIT_NO_SUCCESS 4
/* The exit status after the experiment's storage failed (a full disk). */
#define SEARCH_EXIT_STORAGE 5

/*
 * Runs the search with the given transport (its workers are 1..t->workers:
 * ranks, or teams of ranks). home is the project root. job describes the
 * ranks of an MPI job (checked first: teams, GPUs; NULL in a simulation).
 * Returns the process exit status: 0 done, 2 bad input, 3 stopped by
 * --max-failures, 4 no evaluation succeeded (SEARCH_EXIT_NO_SUCCESS), 5 the
 * experiment's storage failed (SEARCH_EXIT_STORAGE), 128+signal after SIGTERM
 * or SIGINT, 1 internal failure. Every worker has been told to stop when it
 * returns.
 */
int search_run(const struct options *o, const char *home, struct transport *t,
               const struct search_job *job);

/* The --check mode: loads the problem through the engine and prints the
 * typed space and its warnings. Returns the exit status (0, 2, or 1 if
 * Python itself fails). No MPI. */
int search_check(const struct options *o, const char *home);

#endif
