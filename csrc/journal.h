/*
 * journal: the experiment's durable record.
 *
 *  - results.csv: one row per finished evaluation, appended with a single
 *    write(2) when the result arrives and before the optimizer hears of it,
 *    so a killed job keeps every row written so far and a row is never half
 *    written by us (a torn line can only come from a crash of the machine).
 *    fdatasync runs at most every JOURNAL_SYNC_INTERVAL_S so that a node
 *    crash loses at most that much, without paying a sync per row.
 *  - points.log: one line "JOB_ID<TAB>PARAMS_JSON" per point the optimizer
 *    produced, written before the point is dispatched, so that a restart can
 *    reissue what was in flight.
 *  - intermediate.csv: "job_id,step,value,m:timestamp", one line per
 *    intermediate value a model reported (a learning curve), written before
 *    a stopper acts on it, so that a restart rebuilds the stoppers' state.
 *    Created at the first such value.
 *
 * The columns and their meaning belong to async_search.expfiles (Python),
 * which also checks a restarted experiment's header. Here one list in
 * journal.c (journal_columns: a name and a writer per column) makes both
 * the header and every row, so a new result column is one entry at its
 * end. results.csv's last column, steps, is the last intermediate step of
 * the evaluation (empty when it reported none); an experiment from before
 * a column continues in its own form, with the columns its header has.
 */
#ifndef ASYNC_SEARCH_JOURNAL_H
#define ASYNC_SEARCH_JOURNAL_H

#include <stddef.h>

#define JOURNAL_RESULTS "results.csv"
#define JOURNAL_POINTS "points.log"
#define JOURNAL_CURVES "intermediate.csv"
#define JOURNAL_SYNC_INTERVAL_S 1.0

struct journal_row {
    const char *job_id;
    const char *csv_fields; /* parameter values, CSV-quoted, ',' joined */
    double objective;       /* NaN unless status is "ok" or "stopped" (its
                               last intermediate value) */
    const char *status;     /* ok | failed | timeout | stopped */
    int worker;
    double t_submit, t_start, t_gather; /* seconds since the start */
    double duration;
    long steps; /* the last intermediate step reported; 0: none */
    /* several objectives: an ok row's values (its o:NAME columns), else
     * nobjectives 0 (the columns stay empty) */
    int nobjectives;
    const double *objectives;
};

struct journal;

/*
 * Opens the journal in exp_dir. param_header is the "p:<name>,..." part of
 * the CSV header. A new results.csv gets its header; an existing one (a
 * restart, whose header the engine checked) is continued in its own form
 * (the columns its header has, e.g. without steps). Returns 0 or -1 with err.
 */
int journal_open(const char *exp_dir, const char *param_header,
                 struct journal **out, char *err, size_t errlen);
/* The same for a problem with several objectives: objective_header is the
 * "o:<name>,..." part of the header (results.csv's last columns, one per
 * objective), "" for one objective (journal_open). */
int journal_open_objectives(const char *exp_dir, const char *param_header,
                            const char *objective_header, struct journal **out,
                            char *err, size_t errlen);
/* What a failed append means. */
#define JOURNAL_ERROR (-1) /* anything else (memory, a bad descriptor) */
#define JOURNAL_STORAGE                                                        \
    (-2) /* the storage failed: a full disk or quota, an                       \
          * I/O error, a read-only file system */

/* Appends one results.csv row. Returns 0, or JOURNAL_STORAGE or
 * JOURNAL_ERROR with err. A row that could not be written whole is cut off
 * again, so the file never ends in a torn line of ours. */
int journal_append(struct journal *j, const struct journal_row *row, char *err,
                   size_t errlen);
/* Appends one intermediate.csv line (t: seconds since the start); returns
 * as journal_append does. */
int journal_intermediate(struct journal *j, const char *job_id, long step,
                         double value, double t, char *err, size_t errlen);
/* Appends one points.log line; returns as journal_append does. */
int journal_point(struct journal *j, const char *job_id,
                  const char *params_json, char *err, size_t errlen);
/* Syncs to disk if JOURNAL_SYNC_INTERVAL_S passed since the last sync (now on
 * the monotonic clock); force != 0 syncs at once. */
void journal_sync(struct journal *j, double now, int force);
/*
 * Before a restart: cuts a torn last line (a write interrupted by a machine
 * crash or a full disk) off results.csv and points.log, so that new rows
 * start on a line of their own. Complete rows are never changed. note
 * receives what was cut ("" when nothing). Returns 0 or -1 with err.
 */
int journal_repair(const char *exp_dir, char *note, size_t notelen, char *err,
                   size_t errlen);
/* Syncs and closes (NULL is allowed). */
void journal_close(struct journal *j);

#define JOURNAL_LOCK ".lock"

/*
 * Takes the experiment's lock (a POSIX record lock on EXPDIR/.lock, released
 * by the kernel when the process dies), so that a restart cannot write into
 * an experiment that a search still running (an orphan of a killed mpiexec,
 * or another job) is writing. Returns a descriptor to keep open (>= 0), -2
 * when another live process holds the lock (err says which), -1 on other
 * errors. File systems without locks only get a warning in err and 0 back
 * with *fd = -1. The lock is taken on the file that EXPDIR/.lock names when
 * it is held (not on one journal_unlock removed meanwhile).
 */
int journal_lock(const char *exp_dir, int *fd, char *err, size_t errlen);

/* Ends a search's hold on its experiment: removes EXPDIR/.lock while still
 * holding it, then closes fd (the lock goes with it), so that an ended search
 * leaves no pid behind. fd < 0 (no lock held) does nothing. A killed search
 * leaves its .lock, which the next journal_lock takes over. */
void journal_unlock(const char *exp_dir, int fd);

#endif
