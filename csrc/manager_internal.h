/*
 * manager_internal: the manager's state, shared by the three files of the
 * manager: manager.c (set-up, the optimizer thread and the event loop),
 * experiment.c (the experiment directory, config.json, the lock and
 * restarts) and summary.c (what is printed at the end, the report). Not an
 * interface for anything else.
 */
#ifndef ASYNC_SEARCH_MANAGER_INTERNAL_H
#define ASYNC_SEARCH_MANAGER_INTERNAL_H

#include <pthread.h>
#include <stdio.h>

#include "engine.h"
#include "journal.h"
#include "launch.h"
#include "options.h"
#include "policy.h"
#include "progress.h"
#include "queue.h"
#include "runid.h"
#include "strbuf.h"
#include "transport.h"

#define MANAGER_ERR_LEN 1024
#define MANAGER_EXP_ROOT "experiments"
#define MANAGER_AUTO_ID_MAX 100000
#define MANAGER_LOG "manager.log"
#define MANAGER_CONFIG "config.json"

enum point_state { POINT_BUFFERED, POINT_RUNNING, POINT_DONE };

/* How the event loop ended. */
enum loop_end {
    LOOP_DONE,
    LOOP_ERROR,
    LOOP_SIGNAL,
    LOOP_MAX_FAILURES,
    LOOP_TIME_LIMIT
};

struct point {
    char *params_json; /* owned */
    char *csv_fields;  /* owned */
    char job_id[RUNID_MAX];
    enum point_state state;
    int worker;
    double t_submit; /* seconds since the start */
    double objective;
    enum launch_status status;
    double sim_value; /* simulations: the value the virtual worker reports */
};

struct manager {
    const struct options *o;
    const char *home;
    struct transport *tp;
    int workers;
    int restart;   /* R of the job ids */
    long batch_no; /* I of the last batch */
    char *exp_dir;
    char *exp_id;
    char *problem; /* absolute path */
    double t0_mono, t0_wall;
    FILE *log;

    struct engine *engine;
    struct queue *queue;
    pthread_t thread;
    int thread_started;
    struct journal *journal;
    struct policy policy;

    struct point *points;
    long npoints, cappoints;
    long next_dispatch;
    long *running; /* per worker rank: point index or -1 */
    int *idle;     /* ring of idle worker ranks */
    int idle_head, nidle;

    long nok, nfailed, ntimeout;
    long best;                   /* index of the best ok point, -1 */
    struct engine_replay replay; /* a restart's earlier results */
    int lock_fd;                 /* EXPDIR/.lock, held while running */
    double run_start;            /* this process's start (monotonic) */
    long done_this_run;
    long nrunning;
    double loop_start;  /* when the event loop began (monotonic) */
    double busy_s;      /* worker-seconds of evaluations finished this run */
    double idle_s;      /* worker-seconds between a result and the next task */
    double *idle_since; /* per worker: when it became idle (0: busy) */
    /* written by the optimizer thread, read after it is joined */
    long opt_turns, opt_points;
    double opt_busy_s;
    /* latency hiding: result times within the last two optimizer turns */
    double turn_s;  /* recent optimizer turn time (fast up, slow down) */
    double *recent; /* ring of result times (monotonic) */
    long recent_head, recent_count, recent_cap;
    struct progress progress;
    int announced;
};

/* ---- manager.c ---------------------------------------------------------- */

/* Logs an engine error's traceback to manager.log. */
void manager_log_engine_error(const struct engine_error *e);
/* Moves a batch's strings into new points; with a journal they get new job
 * ids and go to points.log (see manager.c). */
int manager_add_points(struct manager *m, struct point_batch *b,
                       struct journal *journal, char *err, size_t errlen);
int manager_add_batch(struct manager *m, struct point_batch *b, char *err,
                      size_t errlen);
/* Stops the optimizer thread after its current turn (idempotent). */
void manager_stop_thread(struct manager *m);

/* ---- experiment.c ------------------------------------------------------- */

/* path made absolute against the working directory (owned). */
char *experiment_absolute(const char *path);
/* Picks m->exp_dir and m->exp_id (without creating them). Returns 0, 2 with
 * a user error in err, or 1. */
int experiment_resolve_dir(struct manager *m, char *err, size_t errlen);
/* The settings the Python engine is built with (owned JSON text). */
char *experiment_settings_json(const struct manager *m);
/* Writes EXPDIR/config.json. Returns 0 or -1 with err. */
int experiment_write_config(const struct manager *m, char *err, size_t errlen);
/* Takes the experiment's lock. Returns 0, 2 (in use) or 1. */
int experiment_lock(struct manager *m, char *err, size_t errlen);
/* Repairs the journal and replays it into the optimizer (before the
 * optimizer thread starts). Returns 0, 2 (bad experiment) or 1. */
int experiment_prepare_restart(struct manager *m, char *err, size_t errlen);
/* Keeps the settings of the previous run as config.R.json. */
int experiment_keep_old_config(struct manager *m, char *err, size_t errlen);
/* Adds the earlier results and reissues what never finished. */
int experiment_resume(struct manager *m, char *err, size_t errlen);

/* ---- summary.c ---------------------------------------------------------- */

/* The end-of-run summary: counts, utilisation, best and top results. With
 * join, the optimizer thread is stopped first (its figures are printed). */
void summary_print(struct manager *m, int join);
/* Writes EXPDIR/report.png through the engine and says where it is. */
void summary_report(struct manager *m);

#endif
