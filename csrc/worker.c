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
#include "strbuf.h"
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
};

/* After this many failed starts a worker stops trying its fork server. */
#define WORKER_SERVER_TRIES 3
#define WORKER_RUNNER_MODULE "async_search.runner"
#define WORKER_RUNNER_WORDS 3 /* python -m WORKER_RUNNER_MODULE */

static int worker_cancel(void *arg)
{
    struct worker *w = arg;
    if (signals_pending()) {
        w->stop = 1;
        return LAUNCH_CANCELLED;
    }
    return transport_worker_interrupted(w->seq, &w->stop);
}

/* An intermediate value goes to the manager at once (its stopper decides);
 * a lost one costs only that value. */
static void worker_intermediate(void *arg, long step, double value)
{
    struct worker *w = arg;
    struct report_msg r = {.seq = w->seq, .step = step, .value = value};
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

/* Prepares the run directory and params.json. Returns 0, or -1 with the
 * reason (and LAUNCH_STORAGE when the storage failed) in r. */
static int worker_prepare(struct worker *w, const struct task_msg *t,
                          struct strbuf *run_dir, struct strbuf *params,
                          struct launch_result *r)
{
    char err[LAUNCH_REASON_LEN];
    struct strbuf text = STRBUF_INIT;
    int rc = -1;
    if (strbuf_printf(run_dir, "%s/run/%s", w->start.exp_dir, t->job_id) != 0 ||
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

static void worker_evaluate(struct worker *w, const struct task_msg *t,
                            struct result_msg *out)
{
    struct strbuf run_dir = STRBUF_INIT, params = STRBUF_INIT;
    struct launch_result r;
    memset(&r, 0, sizeof r);
    r.status = LAUNCH_FAILED;
    r.objective = NAN;
    r.exit_code = -1;
    r.t_start = r.t_end = util_wall();

    if (worker_prepare(w, t, &run_dir, &params, &r) == 0 &&
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
            .on_intermediate = worker_intermediate,
            .intermediate_arg = w,
        };
        w->seq = t->seq;
        if (argv != NULL)
            launch_run(&spec, worker_cancel, w, &r);
        else
            snprintf(r.reason, sizeof r.reason, "worker out of memory");
        free(argv); /* the words are borrowed */
        if (r.status == LAUNCH_OK)
            worker_result_file(strbuf_str(&run_dir), r.objective);
    }
    memset(out, 0, sizeof *out);
    out->seq = t->seq;
    out->status = (int32_t)r.status;
    out->exit_code = r.exit_code;
    out->term_signal = r.term_signal;
    out->steps = r.steps;
    out->objective = r.objective;
    out->t_start = r.t_start;
    out->t_end = r.t_end;
    snprintf(out->reason, sizeof out->reason, "%s", r.reason);
    strbuf_free(&run_dir);
    strbuf_free(&params);
}

int worker_run(const struct options *o, const char *home, int rank,
               int node_index)
{
    struct worker w;
    char err[512];
    int status = 0;
    memset(&w, 0, sizeof w);
    w.o = o;
    w.rank = rank;

    signals_install();
    if (transport_await_start(&w.start) != 0) {
        log_error("cannot receive the start message from the manager");
        return 1;
    }
    if (w.start.status != 0)
        return w.start.status; /* the manager reported why */

    if (worker_command(&w, err, sizeof err) != 0 ||
        worker_environment(&w, home, rank, node_index, err, sizeof err) != 0 ||
        worker_spawner(&w, err, sizeof err) != 0) {
        log_error("worker setup failed: %s", err);
        status = 1;
        goto done;
    }
    while (!w.stop) {
        struct task_msg t;
        char *params_json = NULL;
        enum transport_event ev =
            transport_worker_next(&t, &params_json, signals_pending);
        if (ev == TRANSPORT_STOP)
            break;
        if (ev == TRANSPORT_ERROR) {
            log_error("lost contact with the manager");
            status = 1;
            break;
        }
        struct result_msg res;
        worker_evaluate(&w, &t, &res);
        free(params_json);
        if (w.stop)
            break; /* the manager is ending the job: no one reads results */
        if (transport_worker_send(&res) != 0) {
            log_error("cannot send the result of %s to the manager", t.job_id);
            status = 1;
            break;
        }
    }
done:
    if (signals_pending())
        status = 128 + signals_pending();
    spawn_destroy(w.spawner);
    cmdline_free(w.words);
    childenv_free(&w.env);
    return status;
}
