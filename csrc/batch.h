/*
 * batch: the plain data that crosses between the optimizer and the manager.
 *
 *  - a point_batch is what one ask produced: parallel arrays of owned
 *    strings (the point as JSON for the model, and the same values as the
 *    CSV fields of results.csv), with simulated objectives in a simulation;
 *  - a point_result is one finished evaluation as the optimizer hears of it;
 *  - a replay is what a restart finds in the experiment directory: the rows
 *    already finished and the points that were produced but never finished.
 *
 * No behaviour beyond allocation: the optimizer interface (optimizer.h), the
 * queue between the two threads (queue.h), the point pool (pool.h) and the
 * embedded engine (engine.h) all speak these types.
 */
#ifndef ASYNC_SEARCH_BATCH_H
#define ASYNC_SEARCH_BATCH_H

/* Points produced by one ask. Every string is owned by the batch. */
struct point_batch {
    long count;
    char **params_json; /* {"name": value, ...} in the problem's params order */
    char **csv_fields;  /* the same values as CSV fields joined by ',' */
    double
        *sim_values; /* simulations only: each point's objective, else NULL */
    double turn_s;   /* how long the optimizer's turn took */
};

/* One finished evaluation, as the optimizer hears of it. For one stopped
 * early (step > 0) what was seen travels with the stopper's estimate, so
 * that the optimizer can model it (engine.py: --stopper-tell). */
struct point_result {
    char *params_json; /* owned */
    double value;      /* NaN for a failed evaluation; stopped: the estimate */
    long step;         /* stopped early: the last step it reported; else 0 */
    double last;       /* stopped early: its value at that step */
    long full_step;    /* stopped early: its full training's last step, 0
                          unknown */
};

/* A point of an earlier run of the experiment (all strings owned). */
struct replay_point {
    char *job_id;
    char *params_json;
    char *csv_fields;
    char *status;     /* ok | failed | timeout (finished points only) */
    double objective; /* NaN unless ok */
    double sim_value; /* in flight, in a simulation: its objective; else NaN */
};

/* An intermediate value of an earlier run (intermediate.csv). */
struct replay_curve {
    char *job_id; /* owned */
    long step;
    double value;
};

/* What a restart finds in the experiment directory. */
struct replay {
    struct replay_point *finished; /* rows of results.csv, in file order */
    long nfinished;
    struct replay_point *inflight; /* produced, never finished: reissue */
    long ninflight;
    long last_restart; /* highest R among the job ids (0 if none) */
    double start_time; /* the experiment's first start (epoch), 0 unknown */
    struct replay_curve *curves; /* every intermediate value, in order */
    long ncurves;
};

/* A batch of n empty points (strings NULL), with a sim_values array when
 * with_sim is nonzero. Returns NULL when memory runs out. */
struct point_batch *batch_new(long n, int with_sim);
/* Frees a batch and every string still in it (NULL is allowed). */
void batch_free(struct point_batch *b);
/* Frees every string of a replay and empties it. */
void replay_free(struct replay *r);

#endif
