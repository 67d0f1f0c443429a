/*
 * transport: how tasks reach workers and results come back.
 *
 * The only module that sends or receives MPI messages for tasks and results:
 * it owns the tags and the packing. The manager sees a small interface
 * (struct transport_ops) so that another mechanism (virtual workers for scale
 * tests) can replace MPI without touching the event loop. Workers use the
 * transport_worker_* functions, which wait without busy-polling: MPI_Iprobe
 * plus a sleep that backs off to TRANSPORT_IDLE_SLEEP_MAX_S, because a rank
 * spinning in MPI_Recv takes a CPU core from the models on small machines.
 */
#ifndef ASYNC_SEARCH_TRANSPORT_H
#define ASYNC_SEARCH_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "launch.h"
#include "layout.h"
#include "runid.h"

#define TRANSPORT_IDLE_SLEEP_MIN_S 0.0002
#define TRANSPORT_IDLE_SLEEP_MAX_S 0.02
/* Right after a result the next task is due any moment: for this long the
 * sleeps stay short, so the worker picks it up within about a millisecond. */
#define TRANSPORT_EXPECT_S 0.1
#define TRANSPORT_EXPECT_SLEEP_S 0.001
#define TRANSPORT_PATH_MAX 4096
#define TRANSPORT_ERR_LEN 512

/* A task as the manager sends it. */
struct task_msg {
    int64_t seq;             /* the manager's index of the point */
    char job_id[RUNID_MAX];  /* R_I_J */
    const char *params_json; /* not owned by the message: the manager's
                              * point, or the worker's copy (see
                              * transport_worker_next) */
    double sim_objective;    /* simulations only: the value to report */
};

/* A finished evaluation as the worker reports it (sent as bytes: ranks of
 * one job run the same binary). */
struct result_msg {
    int64_t seq;
    int32_t status; /* enum launch_status */
    int32_t exit_code;
    int32_t term_signal;
    int32_t pad;
    int64_t steps;    /* the last intermediate step the model reported */
    double objective; /* LAUNCH_STOPPED: the last intermediate value */
    double t_start;   /* wall clock, epoch seconds */
    double t_end;
    char reason[LAUNCH_REASON_LEN];
};

/* An intermediate value a model reported while it runs (a learning curve
 * point), forwarded by its worker at once. */
struct report_msg {
    int64_t seq;
    int64_t step;
    double value;
    int64_t last_step; /* the step its training ends at; 0: not said */
};

/* What a worker sends: a result or a report, in the order it sent them. */
enum transport_msg_kind { TRANSPORT_MSG_RESULT, TRANSPORT_MSG_REPORT };

struct worker_msg {
    enum transport_msg_kind kind;
    struct result_msg result; /* TRANSPORT_MSG_RESULT */
    struct report_msg report; /* TRANSPORT_MSG_REPORT */
};

/* What every worker learns before the first task. */
struct start_msg {
    int32_t status;  /* 0: go; otherwise the exit status to stop with */
    int32_t restart; /* restart number R of the job ids */
    char exp_dir[TRANSPORT_PATH_MAX];
    char exp_id[128];
};

/* ---- manager side: the swappable interface ---------------------------- */

struct transport;

struct transport_ops {
    /* Tells every worker how to start (status 0) or why to stop at once.
     * Returns 0 or -1. */
    int (*announce)(struct transport *t, const struct start_msg *msg);
    /* Starts evaluating m on worker (1..workers). Returns 0 or -1. */
    int (*send_task)(struct transport *t, int worker, const struct task_msg *m);
    /* Returns 1 and fills *worker and *m if a message is waiting, 0 if none,
     * -1 on error. Never blocks. A worker's messages come in the order it
     * sent them (its reports before its result). */
    int (*poll)(struct transport *t, int *worker, struct worker_msg *m);
    /* Asks worker to stop evaluation seq early (it reports it as
     * LAUNCH_STOPPED, or as its normal end if the model ended first; a halt
     * that arrives late is ignored). Returns 0 or -1. */
    int (*halt)(struct transport *t, int worker, int64_t seq);
    /* Asks every worker to end its running model now and report it as
     * cancelled. Returns 0 or -1. */
    int (*cancel_all)(struct transport *t);
    /* Tells every worker to exit and waits until the messages are out.
     * Returns 0 or -1. */
    int (*finish)(struct transport *t);
    void (*destroy)(struct transport *t);
};

struct transport {
    const struct transport_ops *ops;
    int workers;
    char err[TRANSPORT_ERR_LEN]; /* the last error */
};

/* The MPI transport over MPI_COMM_WORLD (rank 0 is the manager): its
 * workers are the plan's teams, reached through their leaders. */
int transport_mpi_create(const struct team_plan *plan, struct transport **out,
                         char *err, size_t errlen);

/*
 * Collective over MPI_COMM_WORLD (every rank calls it once, before the
 * search): every rank's host, node, index among its node's worker ranks and
 * GPU device (this rank's: device, "" or NULL for none), in *out on every
 * rank (free with layout_free). Returns 0 or -1.
 */
int transport_layout(const char *device, struct layout *out);

enum sim_distribution { SIM_FIXED, SIM_EXP, SIM_LOGNORMAL };
/* sigma of the log of a lognormal duration (its mean is the given mean) */
#define SIM_LOGNORMAL_SIGMA 0.5

/*
 * Virtual workers in this process (transport_sim.c): an evaluation sent to
 * worker w ends after a duration drawn from the distribution (mean seconds,
 * real time) and reports the point's sim_objective (NaN: failed). The
 * manager loop, policy, journal and optimizer run unchanged against it.
 */
int transport_sim_create(struct transport **out, int workers, double mean,
                         enum sim_distribution dist, unsigned long seed,
                         char *err, size_t errlen);

/* The learning curves of the first step count of SIM_CURVE_STEPS. */
#define SIM_CURVE_STEPS 27
/*
 * Virtual workers of t (made by transport_sim_create) report a learning
 * curve, for stoppers: an evaluation with a finite objective f reports
 * steps 1..steps (saying that steps is its last), evenly over its duration,
 * the value at step s being f + a (steps / s - 1) / (steps - 1), so that
 * step 1 is f + a and the last step f; a is drawn per evaluation, between
 * 0.5 and 1.5 times |f| + 0.1 (curves keep the order of their finals
 * loosely, and cross). A halt ends it at once as LAUNCH_STOPPED with its
 * last step and value. steps < 2: no curve (the default).
 */
void transport_sim_curves(struct transport *t, long steps);

/*
 * Collective over MPI_COMM_WORLD (every rank calls it once, before the
 * search): the index of this rank among the worker ranks on its node (from
 * 0; -1 for the manager, world rank 0), found with
 * MPI_Comm_split_type(MPI_COMM_TYPE_SHARED). Returns 0 or -1.
 */
int transport_node_worker_index(int *index);

/* ---- worker side (MPI) ------------------------------------------------- */

enum transport_event { TRANSPORT_TASK, TRANSPORT_STOP, TRANSPORT_ERROR };

/* Waits for the manager's start message. Returns 0 or -1. */
int transport_await_start(struct start_msg *msg);
/* Waits for the next message. For a task, *m is filled, *params_json gets
 * the point's JSON text (owned by the caller: free it) and m->params_json
 * points to it. Returns TRANSPORT_STOP as soon as interrupted() (may be
 * NULL) returns nonzero. */
enum transport_event transport_worker_next(struct task_msg *m,
                                           char **params_json,
                                           int (*interrupted)(void));
/* Sends a result to the manager. Returns 0 or -1. */
int transport_worker_send(const struct result_msg *r);
/* Sends an intermediate value of the running evaluation. Returns 0 or -1. */
int transport_worker_report(const struct report_msg *r);
/* While evaluation seq runs: returns 0 to go on, LAUNCH_CANCELLED if the
 * manager asked to stop it (a cancel, or a stop message: then *stop is set,
 * the worker must also exit) or the team's leader (leader > 0: a team
 * member) ended it, or LAUNCH_STOPPED if the manager halted it (a halt for
 * another seq is dropped). Never blocks. */
int transport_worker_interrupted(int64_t seq, int leader, int *stop);

/* ---- teams: a leader and its members (worker ranks) -------------------- */

/* A member waits for its leader's task (and *port, where the team meets) or
 * the manager's stop, as transport_worker_next does. */
enum transport_event transport_member_next(int leader, struct task_msg *m,
                                           char **params_json, int *port,
                                           int (*interrupted)(void));
/* Leader -> member (world rank): run task t too. Returns 0 or -1. */
int transport_team_task(int member, const struct task_msg *t, int port);
/* Member -> leader: how its process ended. Returns 0 or -1. */
int transport_team_result(int leader, const struct result_msg *r);
/* Leader: a member's result, if one came: 1 with *r and *member (its world
 * rank), 0 if none, -1 on error. Never blocks. */
int transport_team_poll(struct result_msg *r, int *member);
/* Leader -> member: end evaluation seq (it reports it as cancelled). */
int transport_team_halt(int member, int64_t seq);

#endif
