/*
 * experiment: the experiment directory of a search.
 *
 * Choosing it (and never overwriting one that holds results), config.json,
 * the lock that keeps two searches out of one directory, manager.log, and
 * restarts: repairing the journal, replaying it through the optimizer into
 * a replay list, continuing the job ids and the experiment's time origin.
 * It knows nothing of the manager's loop: the caller hands the replay list
 * to manager_resume.
 *
 * Order of use: experiment_resolve (nothing is created), then for a restart
 * experiment_replay, then experiment_prepare (creates EXPDIR/run, takes the
 * lock, writes config.json), experiment_open_log; experiment_close at the
 * end.
 */
#ifndef ASYNC_SEARCH_EXPERIMENT_H
#define ASYNC_SEARCH_EXPERIMENT_H

#include <stddef.h>
#include <stdio.h>

#include "batch.h"
#include "optimizer.h"
#include "options.h"

#define EXPERIMENT_LOG "manager.log"
#define EXPERIMENT_CONFIG "config.json"

struct experiment {
    char *dir;      /* absolute path (owned) */
    char *id;       /* its last component (owned) */
    char *problem;  /* the problem file, absolute (owned) */
    int restart;    /* R of the new job ids: 1 for a new experiment */
    long previous;  /* a restart: the highest R used before, else 0 */
    double t0_wall; /* the experiment's first start (epoch seconds) */
    int lock_fd;    /* EXPDIR/.lock while held, else -1 */
    FILE *log;      /* manager.log once opened (owned), else NULL */
};

/* path made absolute against the working directory, without trailing
 * slashes (owned), or NULL when memory or getcwd fails. */
char *experiment_absolute(const char *path);

/*
 * Picks the directory (--restart, --exp-dir, --exp-id, or the first free
 * experiments/EXPnnn) and the problem's absolute path, creating nothing;
 * the time origin is now. A new experiment must not hold results yet; a
 * restarted one must be an experiment. Returns 0, 2 with a one-line user
 * error in err, or 1 (internal).
 */
int experiment_resolve(struct experiment *x, const struct options *o, char *err,
                       size_t errlen);
/* The settings the engine is built with, as a JSON object (owned), or NULL:
 * the problem's absolute path, the workers and every setting of the option
 * table as it applies (options_settings_json over s->o), named as the
 * flags are (async_search.engine reads "problem", "optimizer", "seed",
 * "n_jobs", "init_size", "stopper" and "simulate_objective"). */
char *experiment_settings_json(const struct experiment *x,
                               const struct settings *s);
/*
 * A restart: takes the lock, cuts a torn last journal line, replays the
 * journal through the optimizer into *out (free with replay_free), and
 * continues the job ids (R) and the time origin. Returns 0, 2 (a bad
 * experiment or --restart-number: one line in err) or 1.
 */
int experiment_replay(struct experiment *x, const struct options *o,
                      struct optimizer *opt, struct replay *out, char *err,
                      size_t errlen);
/*
 * Creates EXPDIR/run, takes the lock (a new experiment), keeps the previous
 * config.json as config.R.json (a restart) and writes config.json, which
 * marks the directory as an experiment that --restart can continue however
 * early the job is killed: every setting (options_settings_json over s->o),
 * the derived "initial_design" (s->init_size), the workers and the job's.
 * Returns 0, 2 (the directory cannot be made, or
 * is in use) or 1. layout_json, when not NULL, is the job's rank -> host ->
 * GPU table (layout_json), kept as "ranks".
 */
int experiment_prepare(struct experiment *x, const struct settings *s,
                       const char *layout_json, char *err, size_t errlen);
/* Opens EXPDIR/manager.log for appending into x->log (NULL if it cannot
 * be opened: the search goes on without it). */
void experiment_open_log(struct experiment *x);
/* Releases the lock, closes the log and frees the strings. */
void experiment_close(struct experiment *x);

#endif
