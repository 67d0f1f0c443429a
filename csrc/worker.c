/*
 * worker: see worker.h.
 */
#include "worker.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "childenv.h"
#include "cmdline.h"
#include "launch.h"
#include "log.h"
#include "modelout.h"
#include "signals.h"
#include "spawn.h"
#include "stopper.h"
#include "strbuf.h"
#include "team.h"
#include "transport.h"
#include "util.h"

extern char **environ;

struct worker {
    const struct options *o;
    struct start_msg start;
    /* What the spawner runs, before the params path (owned): the command
     * words, or with a fork server the runner's first argument, MODEL. */
    char **words;
    size_t nwords;
    struct childenv env;
    struct spawner *spawner; /* chosen once, by --launch */
    int stop;                /* the manager told us to exit */
    int rank;
    int64_t seq; /* the evaluation running now */
    /* its team (--ranks-per-eval): a team of one is a plain worker */
    const struct layout *layout;
    const struct team_plan *plan;
    int index;  /* its member index: 0 for the leader */
    int leader; /* the leader's world rank (itself when it leads) */
    /* a leader, during an evaluation: how each member's process ended */
    struct launch_result *members; /* [1..k-1] */
    int *member_rank;              /* [0..k-1]: world ranks */
    int *member_done;              /* [1..k-1] */
    int member_failed;             /* a member failed, timed out, died */
    char cancel_why[128]; /* why worker_cancel ended the model, for its log */
};

/* After its own model ended well, a leader waits this long for its
 * members' models before it ends them. */
#define WORKER_TEAM_GRACE_S 30.0
/* After this many failed starts a worker stops trying its fork server. */
#define WORKER_SERVER_TRIES 3
#define WORKER_RUNNER_MODULE "async_search.runner"
#define WORKER_RUNNER_WORDS 3 /* python -m WORKER_RUNNER_MODULE */

/* A team's size (1: no team). */
static int worker_team_size(const struct worker *w)
{
    return w->plan ? w->plan->k : 1;
}

/* A leader takes the members' results that came (non-blocking). */
static void worker_team_collect(struct worker *w)
{
    struct result_msg r;
    int from;
    while (transport_team_poll(&r, &from) == 1) {
        int i = w->plan->index_of[from];
        if (r.seq != w->seq || i < 1 || w->member_done[i])
            continue; /* a late answer of an earlier evaluation */
        struct launch_result *m = &w->members[i];
        memset(m, 0, sizeof *m);
        m->status = (enum launch_status)r.status;
        m->exit_code = r.exit_code;
        m->term_signal = r.term_signal;
        m->objective = r.objective;
        m->t_start = r.t_start;
        m->t_end = r.t_end;
        snprintf(m->reason, sizeof m->reason, "%s", r.reason);
        w->member_done[i] = 1;
        if (m->status == LAUNCH_FAILED || m->status == LAUNCH_TIMEOUT ||
            m->status == LAUNCH_STORAGE)
            w->member_failed = 1;
    }
}

static int worker_cancel(void *arg)
{
    struct worker *w = arg;
    w->cancel_why[0] = '\0';
    if (signals_pending()) {
        w->stop = 1;
        snprintf(w->cancel_why, sizeof w->cancel_why,
                 "the worker was told to stop (a signal)");
        return LAUNCH_CANCELLED;
    }
    int leader = w->index > 0 ? w->leader : -1;
    int c = transport_worker_interrupted(w->seq, leader, &w->stop);
    if (c == LAUNCH_CANCELLED && w->index > 0 && !w->stop)
        snprintf(w->cancel_why, sizeof w->cancel_why,
                 "ended by the team's rank 0 (world rank %d)", w->leader);
    if (c != 0 || w->index > 0 || worker_team_size(w) == 1)
        return c;
    worker_team_collect(w); /* a leader: a member's failure ends its own */
    if (!w->member_failed)
        return 0;
    for (int i = 1; i < worker_team_size(w); i++)
        if (w->member_done[i] && w->members[i].status != LAUNCH_OK &&
            w->members[i].status != LAUNCH_CANCELLED) {
            snprintf(w->cancel_why, sizeof w->cancel_why,
                     "ended because team rank %d (world rank %d) %s", i,
                     w->member_rank[i],
                     w->members[i].status == LAUNCH_TIMEOUT ? "timed out"
                                                            : "failed");
            break;
        }
    return LAUNCH_CANCELLED;
}

/* An intermediate value goes to the manager at once (its stopper decides);
 * a lost one costs only that value. */
static void worker_intermediate(void *arg, long step, double value,
                                long last_step)
{
    struct worker *w = arg;
    struct report_msg r = {
        .seq = w->seq, .step = step, .value = value, .last_step = last_step};
    if (transport_worker_report(&r) != 0)
        log_warn("cannot send an intermediate value to the manager");
}

static int worker_uses_forkserver(const struct options *o)
{
    return o->launch == OPTIONS_LAUNCH_FORK_SERVER;
}

/* Fills words with the command that runs the CANDLE runner as a process
 * (MODEL and the params path follow), NULL-terminated. */
static void worker_runner(const struct options *o,
                          const char *words[WORKER_RUNNER_WORDS + 1])
{
    words[0] = o->python;
    words[1] = "-m";
    words[2] = WORKER_RUNNER_MODULE;
    words[WORKER_RUNNER_WORDS] = NULL;
}

/* Builds w->words: the split --model-cmd; else the runner's command and
 * MODEL; with a fork server (which is the runner) MODEL alone. Returns 0, or
 * -1 with err. */
static int worker_command(struct worker *w, char *err, size_t errlen)
{
    const struct options *o = w->o;
    const char *runner[WORKER_RUNNER_WORDS + 1];
    int rc = 0;
    if (o->model_cmd)
        return cmdline_split(o->model_cmd, &w->words, &w->nwords, err, errlen);
    worker_runner(o, runner);
    if (!worker_uses_forkserver(o))
        for (size_t i = 0; runner[i]; i++)
            rc |= cmdline_append(&w->words, &w->nwords, runner[i]);
    rc |= cmdline_append(&w->words, &w->nwords, o->model);
    if (rc)
        snprintf(err, errlen, "out of memory");
    return rc ? -1 : 0;
}

/* Builds w->env, the environment of every model. Returns 0, or -1 with
 * err. */
/* The variables the original workflow's model.sh gave every model (per
 * evaluation: RUNID and CANDLE_OUTPUT_DIR, see worker_evaluate). SITE comes
 * from bin/async-search-run's environment. Returns 0 or nonzero (memory). */
static int worker_original_environment(struct worker *w)
{
    struct childenv *env = &w->env;
    char buf[64];
    int rc = childenv_set(env, "EXPID", w->start.exp_id, 1);
    rc |= childenv_set(env, "TURBINE_OUTPUT", w->start.exp_dir, 1);
    const char *name = w->o->model ? w->o->model : childenv_get(env, "MODEL");
    if (name && *name)
        rc |= childenv_set(env, "MODEL_NAME", name, 1);
    if (w->o->sh_timeout > 0)
        snprintf(buf, sizeof buf, "%g", w->o->sh_timeout);
    else
        snprintf(buf, sizeof buf, "-1"); /* the original's "none" */
    rc |= childenv_set(env, "SH_TIMEOUT", buf, 1);
    return rc;
}

static int worker_environment(struct worker *w, const char *home, int rank,
                              int node_index, char *err, size_t errlen)
{
    struct childenv *env = &w->env;
    char buf[64];
    struct strbuf pp = STRBUF_INIT;
    int rc = 0;
    if (childenv_init(env, environ) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *old_pp = childenv_get(env, "PYTHONPATH");
    rc |= strbuf_printf(&pp, "%s/python%s%s", home, old_pp ? ":" : "",
                        old_pp ? old_pp : "");
    rc |= childenv_set(env, "PYTHONPATH", strbuf_str(&pp), 1);
    rc |= childenv_set(env, "OMP_NUM_THREADS", "1", 0);
    rc |= childenv_set(env, "ASYNC_SEARCH_HOME", home, 1);
    rc |= childenv_set(env, "ASYNC_SEARCH_EXP_DIR", w->start.exp_dir, 1);
    rc |= childenv_set(env, "ASYNC_SEARCH_EXP_ID", w->start.exp_id, 1);
    snprintf(buf, sizeof buf, "%d", rank);
    rc |= childenv_set(env, "ASYNC_SEARCH_WORKER", buf, 1);
    snprintf(buf, sizeof buf, "%d", node_index);
    rc |= childenv_set(env, "ASYNC_SEARCH_NODE_WORKER", buf, 1);
    if (w->o->gpus_per_node > 0) {
        char dev[64];
        rc |= childenv_bind_gpu(env, node_index, w->o->gpus_per_node, dev,
                                sizeof dev);
        log_info("worker %d (node index %d) uses GPU %s", rank, node_index,
                 dev);
    }
    if (w->o->benchmark_timeout > 0) {
        snprintf(buf, sizeof buf, "%g", w->o->benchmark_timeout);
        rc |= childenv_set(env, "BENCHMARK_TIMEOUT", buf, 1);
    }
    rc |= worker_original_environment(w);
    strbuf_free(&pp);
    if (rc)
        snprintf(err, errlen, "out of memory");
    return rc ? -1 : 0;
}

/* Prepares the run directory (sub, when given, inside it: a team member's)
 * and params.json. Returns 0, or -1 with the reason (and LAUNCH_STORAGE
 * when the storage failed) in r. */
static int worker_prepare(struct worker *w, const struct task_msg *t,
                          const char *sub, struct strbuf *run_dir,
                          struct strbuf *params, struct launch_result *r)
{
    char err[LAUNCH_REASON_LEN];
    struct strbuf text = STRBUF_INIT;
    int rc = -1;
    if (strbuf_printf(run_dir, "%s/run/%s%s%s", w->start.exp_dir, t->job_id,
                      sub ? "/" : "", sub ? sub : "") != 0 ||
        strbuf_printf(params, "%s/params.json", strbuf_str(run_dir)) != 0 ||
        strbuf_printf(&text, "%s\n", t->params_json) != 0) {
        snprintf(r->reason, sizeof r->reason, "worker out of memory");
        goto done;
    }
    if (util_mkdir_p(strbuf_str(run_dir), err, sizeof err) != 0 ||
        util_write_file(strbuf_str(params), text.data, text.len, err,
                        sizeof err) != 0) {
        /* A full disk is not a result of the model: the manager records
         * no row and stops (see launch.h LAUNCH_STORAGE). */
        if (util_storage_errno(errno))
            r->status = LAUNCH_STORAGE;
        snprintf(r->reason, sizeof r->reason, "%s", err);
        goto done;
    }
    rc = 0;
done:
    strbuf_free(&text);
    return rc;
}

static void worker_notice(void *arg, const char *msg)
{
    (void)arg;
    log_warn("%s", msg);
}

/* Chooses how models start, once: by fork and exec, or (--launch
 * fork-server) from a fork server that this starts now, so that it imports
 * the benchmark while the manager starts. Returns 0, or -1 with err. */
static int worker_spawner(struct worker *w, char *err, size_t errlen)
{
    const struct options *o = w->o;
    if (!worker_uses_forkserver(o)) {
        w->spawner = spawn_exec_new();
        if (w->spawner == NULL)
            snprintf(err, errlen, "out of memory");
        return w->spawner ? 0 : -1;
    }
    struct strbuf log = STRBUF_INIT;
    const char *fallback[WORKER_RUNNER_WORDS + 1];
    worker_runner(o, fallback);
    if (strbuf_printf(&log, "%s/forkserver-%d.log", w->start.exp_dir,
                      w->rank) != 0) {
        snprintf(err, errlen, "out of memory");
        strbuf_free(&log);
        return -1;
    }
    struct spawn_server_config cfg = {
        .python = o->python,
        .model = o->model,
        .log_path = strbuf_str(&log),
        .envp = w->env.vars,
        .fallback = fallback,
        .tries = WORKER_SERVER_TRIES,
        .notice = worker_notice,
        .notice_arg = w,
    };
    w->spawner = spawn_forkserver_new(&cfg, err, errlen);
    strbuf_free(&log);
    return w->spawner ? 0 : -1;
}

/* result.txt for a model that only printed IMPROVE_RESULT, as the original
 * workflow always left one. A failure to write it costs only the file. */
static void worker_result_file(const char *run_dir, double objective)
{
    struct strbuf path = STRBUF_INIT;
    char text[48], err[256];
    strbuf_printf(&path, "%s/%s", run_dir, MODELOUT_RESULT_FILE);
    if (!util_exists(strbuf_str(&path))) {
        util_format_double(text, sizeof text - 1, objective);
        strcat(text, "\n");
        if (util_write_file(strbuf_str(&path), text, strlen(text), err,
                            sizeof err) != 0)
            log_warn("%s", err);
    }
    strbuf_free(&path);
}

/* Runs this rank's model process for task t and fills *r: a lone worker's or
 * a leader's in the run directory (sub NULL: its result and intermediate
 * values count), a member's in the sub-directory sub (its exit status
 * alone). */
static void worker_launch(struct worker *w, const struct task_msg *t,
                          const char *sub, struct launch_result *r)
{
    struct strbuf run_dir = STRBUF_INIT, params = STRBUF_INIT;
    memset(r, 0, sizeof *r);
    r->status = LAUNCH_FAILED;
    r->objective = r->last = NAN;
    r->exit_code = -1;
    r->t_start = r->t_end = util_wall();
    w->seq = t->seq;
    int member = sub != NULL; /* rank > 0 of a team: rank 0 has the result */
    if (worker_prepare(w, t, sub, &run_dir, &params, r) == 0 &&
        childenv_set(&w->env, "ASYNC_SEARCH_RUN_ID", t->job_id, 1) == 0 &&
        childenv_set(&w->env, "RUNID", t->job_id, 1) == 0 &&
        childenv_set(&w->env, "CANDLE_OUTPUT_DIR", strbuf_str(&run_dir), 1) ==
            0) {
        char *const last[] = {params.data, NULL};
        char **argv = cmdline_join(w->words, last);
        struct launch_spec spec = {
            .argv = argv,
            .envp = w->env.vars,
            .run_dir = strbuf_str(&run_dir),
            .sh_timeout = w->o->sh_timeout,
            .kill_grace = LAUNCH_KILL_GRACE_S,
            .log_cap = LAUNCH_LOG_CAP_BYTES,
            .spawner = w->spawner,
            .on_intermediate = member ? NULL : worker_intermediate,
            .intermediate_arg = w,
            .answers = !member && stopper_rule_acts(w->o->stopper),
            .exit_only = member,
            .cancel_why = w->cancel_why,
        };
        if (argv != NULL)
            launch_run(&spec, worker_cancel, w, r);
        else
            snprintf(r->reason, sizeof r->reason, "worker out of memory");
        free(argv); /* the words are borrowed */
        if (r->status == LAUNCH_OK && !member)
            worker_result_file(strbuf_str(&run_dir), r->objective);
    }
    strbuf_free(&run_dir);
    strbuf_free(&params);
}

/* The result message of task t. */
static void worker_message(const struct task_msg *t,
                           const struct launch_result *r,
                           struct result_msg *out)
{
    memset(out, 0, sizeof *out);
    out->seq = t->seq;
    out->status = (int32_t)r->status;
    out->exit_code = r->exit_code;
    out->term_signal = r->term_signal;
    out->steps = r->steps;
    out->objective = r->objective;
    out->t_start = r->t_start;
    out->t_end = r->t_end;
    snprintf(out->reason, sizeof out->reason, "%s", r->reason);
}

/* A leader waits for its members' ends (they were told to end when its own
 * model failed; after its own success a straggler gets
 * WORKER_TEAM_GRACE_S, then it is ended: the result is the leader's). */
static void worker_team_wait(struct worker *w, int ended)
{
    int k = worker_team_size(w);
    double sleep_s = TRANSPORT_IDLE_SLEEP_MIN_S;
    double grace_until = util_now() + WORKER_TEAM_GRACE_S;
    while (!w->stop) {
        worker_team_collect(w);
        int done = 1;
        for (int i = 1; i < k; i++)
            done &= w->member_done[i];
        if (done)
            return;
        if (signals_pending()) {
            w->stop = 1;
            return;
        }
        int stop = 0;
        if (transport_worker_interrupted(w->seq, -1, &stop) != 0 && stop) {
            w->stop = 1; /* the members heard the manager's stop too */
            return;
        }
        if (!ended && util_now() > grace_until) {
            for (int i = 1; i < k; i++)
                if (!w->member_done[i])
                    transport_team_halt(w->member_rank[i], w->seq);
            ended = 1;
        }
        util_sleep(sleep_s);
        if (sleep_s < TRANSPORT_IDLE_SLEEP_MAX_S)
            sleep_s *= 2;
    }
}

/* A leader's evaluation: a meeting port, the task to every member, its own
 * model (rank 0), then the team's result. */
static void worker_lead(struct worker *w, const struct task_msg *t,
                        struct result_msg *out)
{
    int k = worker_team_size(w);
    struct launch_result own, team;
    char err[LAUNCH_REASON_LEN];
    memset(w->member_done, 0, (size_t)k * sizeof *w->member_done);
    w->member_failed = 0;
    w->seq = t->seq;
    int port = team_free_port(err, sizeof err);
    int rc =
        port < 0 ? -1 : team_env(&w->env, w->plan, w->layout, w->rank, port);
    for (int i = 1; i < k && rc == 0; i++)
        rc = transport_team_task(w->member_rank[i], t, port);
    if (rc != 0) {
        log_error("team of rank %d cannot start %s: %s", w->rank, t->job_id,
                  port < 0 ? err : "out of memory or MPI");
        w->stop = 1; /* the manager is told by the job's end */
        memset(out, 0, sizeof *out);
        return;
    }
    worker_launch(w, t, NULL, &own);
    int end_members = own.status != LAUNCH_OK || w->member_failed;
    for (int i = 1; i < k && end_members; i++)
        if (!w->member_done[i])
            transport_team_halt(w->member_rank[i], t->seq);
    worker_team_wait(w, end_members);
    team_combine(&own, w->members, w->member_rank, k, &team);
    worker_message(t, &team, out);
}

/* A lone worker's evaluation. */
static void worker_launch_alone(struct worker *w, const struct task_msg *t,
                                struct result_msg *out)
{
    struct launch_result r;
    worker_launch(w, t, NULL, &r);
    worker_message(t, &r, out);
}

/* A member's evaluation: its own model (RANK = its index) in its own
 * sub-directory of the run directory. */
static void worker_member(struct worker *w, const struct task_msg *t, int port,
                          struct result_msg *out)
{
    struct launch_result r;
    char sub[32];
    snprintf(sub, sizeof sub, TEAM_MEMBER_DIR, w->index);
    if (team_env(&w->env, w->plan, w->layout, w->rank, port) != 0) {
        memset(&r, 0, sizeof r);
        r.status = LAUNCH_FAILED;
        r.objective = NAN;
        snprintf(r.reason, sizeof r.reason, "worker out of memory");
    } else {
        worker_launch(w, t, sub, &r);
    }
    worker_message(t, &r, out);
}

/* Its team: a lone worker (team of one, or an idle rank), a leader or a
 * member. Returns 0, or -1 with err (memory). */
static int worker_team(struct worker *w, int rank, char *err, size_t errlen)
{
    int k = worker_team_size(w);
    int team = w->plan ? w->plan->team_of[rank] : 0;
    w->index = w->plan ? w->plan->index_of[rank] : 0;
    w->leader = rank;
    if (k == 1 || team == 0)
        return 0;
    w->member_rank = calloc((size_t)k, sizeof *w->member_rank);
    w->member_done = calloc((size_t)k, sizeof *w->member_done);
    w->members = calloc((size_t)k, sizeof *w->members);
    if (!w->member_rank || !w->member_done || !w->members) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(w->member_rank, &w->plan->members[(team - 1) * k],
           (size_t)k * sizeof *w->member_rank);
    w->leader = w->member_rank[0];
    return 0;
}

/* Evaluates tasks until told to stop: from the manager (a lone worker, a
 * leader) or from the team's leader (a member). Returns the exit status. */
static int worker_loop(struct worker *w)
{
    int member = w->index > 0,
        team = worker_team_size(w) > 1 && !member && w->member_rank != NULL;
    while (!w->stop) {
        struct task_msg t;
        struct result_msg res;
        char *params_json = NULL;
        int port = 0;
        enum transport_event ev =
            member ? transport_member_next(w->leader, &t, &params_json, &port,
                                           signals_pending)
                   : transport_worker_next(&t, &params_json, signals_pending);
        if (ev == TRANSPORT_STOP)
            return 0;
        if (ev == TRANSPORT_ERROR) {
            log_error("lost contact with the manager");
            return 1;
        }
        if (member)
            worker_member(w, &t, port, &res);
        else if (team)
            worker_lead(w, &t, &res);
        else
            worker_launch_alone(w, &t, &res);
        free(params_json);
        if (w->stop)
            return 0; /* the manager is ending the job: no one reads results */
        int rc = member ? transport_team_result(w->leader, &res)
                        : transport_worker_send(&res);
        if (rc != 0) {
            log_error("cannot send the result of %s", t.job_id);
            return 1;
        }
    }
    return 0;
}

int worker_run(const struct options *o, const char *home, int rank,
               const struct layout *l, const struct team_plan *plan)
{
    struct worker w;
    char err[512];
    int status = 0;
    memset(&w, 0, sizeof w);
    w.o = o;
    w.rank = rank;
    w.layout = l;
    w.plan = plan;

    signals_install();
    if (transport_await_start(&w.start) != 0) {
        log_error("cannot receive the start message from the manager");
        return 1;
    }
    if (w.start.status != 0)
        return w.start.status; /* the manager reported why */

    if (worker_team(&w, rank, err, sizeof err) != 0 ||
        worker_command(&w, err, sizeof err) != 0 ||
        worker_environment(&w, home, rank, l->ranks[rank].node_index, err,
                           sizeof err) != 0 ||
        worker_spawner(&w, err, sizeof err) != 0) {
        log_error("worker setup failed: %s", err);
        status = 1;
    } else {
        status = worker_loop(&w);
    }
    if (signals_pending())
        status = 128 + signals_pending();
    spawn_destroy(w.spawner);
    cmdline_free(w.words);
    childenv_free(&w.env);
    free(w.member_rank);
    free(w.member_done);
    free(w.members);
    return status;
}
