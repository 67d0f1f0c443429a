/*
 * search: see search.h.
 *
 * The one place that knows every part of rank 0 and the order they go in:
 * experiment (directory), engine (Python), journal (results.csv), manager
 * (the loop), summary (the end). Each part owns its data; this file only
 * connects them and turns how the loop ended into messages and an exit
 * status.
 */
#include "search.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "experiment.h"
#include "journal.h"
#include "launch.h"
#include "log.h"
#include "manager.h"
#include "modelcheck.h"
#include "progress.h"
#include "signals.h"
#include "strbuf.h"
#include "summary.h"
#include "util.h"

extern char **environ;

struct search {
    const struct options *o;
    const struct search_job *job; /* NULL in a simulation */
    const char *home;
    struct transport *tp;
    struct experiment x;
    struct engine *engine;
    struct journal *journal;
    struct manager *manager;
    struct replay replay;
    int announced;
    double started; /* when search_run began (monotonic) */
};

static void search_log_engine_error(const struct engine_error *e)
{
    if (e->detail)
        log_info("optimizer traceback:\n%s", e->detail);
}

/* The model must be able to run (modelcheck.h). Returns 0 with what runs
 * in info, 2 with a one-line user error in err, or 1. */
static int search_check_model(const struct options *o, const char *home,
                              char *info, size_t infolen, char *err,
                              size_t errlen)
{
    struct modelcheck_config c = {
        .model = o->model,
        .model_cmd = o->model_cmd,
        .python = o->python,
        .home = home,
        .environ = environ,
    };
    return modelcheck_run(&c, info, infolen, err, errlen);
}

/* Loads the problem and the optimizer (*out) with python_dir = HOME/python
 * and logs the problem file's warnings. Returns 0, 2 (bad problem or
 * setting: one line in err) or 1 (internal: the traceback goes to
 * stderr). */
static int search_open_engine(const struct options *o, const char *home,
                              const struct experiment *x, int workers,
                              struct engine **out, char *err, size_t errlen)
{
    struct engine_error e;
    struct strbuf dir = STRBUF_INIT;
    char *text = NULL;
    char *settings = experiment_settings_json(x, o, workers);
    memset(&e, 0, sizeof e);
    strbuf_printf(&dir, "%s/python", home);
    enum engine_status es =
        settings ? engine_start(strbuf_str(&dir), settings, out, &e)
                 : ENGINE_ERROR;
    free(settings);
    strbuf_free(&dir);
    if (es != ENGINE_OK) {
        snprintf(err, errlen, "%s", settings ? e.message : "out of memory");
        if (es != ENGINE_USER_ERROR && e.detail)
            fprintf(stderr, "%s", e.detail); /* an internal error: show it */
        engine_error_clear(&e);
        return es == ENGINE_USER_ERROR ? 2 : 1;
    }
    if (engine_text(*out, "warnings", &text, &e) == ENGINE_OK && text[0]) {
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
            log_warn("%s", line);
    }
    free(text);
    engine_error_clear(&e);
    return 0;
}

/* Opens results.csv and points.log with the problem's header. Returns 0, 2
 * (a restart whose results.csv does not fit) or 1. */
static int search_open_journal(struct search *s, char *err, size_t errlen)
{
    struct engine_error e;
    char *header = NULL;
    memset(&e, 0, sizeof e);
    if (engine_text(s->engine, "header", &header, &e) != ENGINE_OK) {
        snprintf(err, errlen, "%s", e.message);
        engine_error_clear(&e);
        return 1;
    }
    int rc = journal_open(s->x.dir, header, &s->journal, err, errlen);
    free(header);
    if (rc != 0)
        return s->o->restart ? 2 : 1;
    return 0;
}

/* --fail-fast N: the first max(N, workers) results decide (0: off), so that
 * a wave of quick crashes among many workers does not stop a search that
 * works for most points. */
static long search_fail_fast(const struct search *s)
{
    long n = s->o->fail_fast;
    return n > 0 && n < s->tp->workers ? s->tp->workers : n;
}

static struct stopper_config search_stopper(const struct options *o)
{
    struct stopper_config c = {
        .rule = options_stopper_name(o->stopper),
        .min_steps = o->stopper_min_steps,
        .eta = o->stopper_eta,
        .warmup = o->stopper_warmup,
        .max_step = o->stopper_max_step,
    };
    return c;
}

static struct manager_config search_manager_config(const struct search *s)
{
    const struct options *o = s->o;
    struct manager_config c = {
        .policy =
            {
                .max_evals = o->max_evals,
                .init_size = o->init_size,
                .num_buffer = o->num_buffer,
                .max_threshold = o->max_threshold,
                .workers = s->tp->workers,
                .window_s = o->threshold_window,
                .fixed_buffer = o->fixed_buffer,
            },
        .stopper = search_stopper(o),
        .restart = s->x.restart,
        .t0_wall = s->x.t0_wall,
        .run_start = s->started,
        .max_failures = o->max_failures,
        .fail_fast = search_fail_fast(s),
        .time_limit = o->time_limit,
        .fit_time_limit = o->simulate == 0,
        .open_ended = o->simulate > 0 && !o->max_evals_given,
        .sim_duration = o->simulate > 0 ? o->sim_duration : 0,
        .exp_dir = s->x.dir,
        .progress_out = stdout,
        .progress_mode = o->verbosity < 0   ? PROGRESS_QUIET
                         : o->verbosity > 0 ? PROGRESS_VERBOSE
                                            : PROGRESS_NORMAL,
        .progress_tty = o->progress == OPTIONS_PROGRESS_TTY ? 1
                        : o->progress == OPTIONS_PROGRESS_LOG
                            ? 0
                            : progress_stdout_is_terminal(),
        .verbosity = o->verbosity,
    };
    return c;
}

/* The manager, with a restart's earlier results and reissued points. */
static int search_start_manager(struct search *s, char *err, size_t errlen)
{
    struct manager_config c = search_manager_config(s);
    if (manager_create(&c, s->tp, engine_optimizer(s->engine), s->journal,
                       &s->manager, err, errlen) != 0)
        return 1;
    if (!s->o->restart)
        return 0;
    struct manager_resumed r;
    if (manager_resume(s->manager, &s->replay, &r, err, errlen) != 0)
        return 1;
    replay_free(&s->replay);
    printf("async-search: restart %d of %s: %ld evaluations already finished "
           "(%ld ok), %ld reissued\n",
           s->x.restart, s->x.dir, r.finished, r.ok, r.reissued);
    return 0;
}

/* The job's ranks: teams that can be formed, GPUs not shared unless asked.
 * Returns 0 or 2 with err. */
static int search_check_job(const struct search *s, char *err, size_t errlen)
{
    const struct search_job *job = s->job;
    if (job == NULL)
        return 0;
    if (job->error[0]) {
        snprintf(err, errlen, "%s", job->error);
        return 2;
    }
    int rc = layout_check_gpus(
        job->layout, s->o->share_gpus == OPTIONS_SHARE_YES, err, errlen);
    if (rc < 0)
        return 2;
    if (rc > 0)
        log_warn("%s", err);
    err[0] = '\0';
    return 0;
}

/* Says where every rank runs (manager.log) and what idles. */
static void search_log_job(const struct search *s)
{
    const struct search_job *job = s->job;
    if (job == NULL)
        return;
    for (int r = 1; r < job->layout->nranks; r++) {
        const struct layout_rank *x = &job->layout->ranks[r];
        log_info("rank %d on %s: GPU %s, team %d member %d", r, x->host,
                 x->device[0] ? x->device : "none", job->plan->team_of[r],
                 job->plan->index_of[r]);
    }
    if (job->plan->idle > 0)
        log_warn("%d worker rank(s) are in no team of %d (PROCS - 1 is not a "
                 "multiple of --ranks-per-eval): they stay idle",
                 job->plan->idle, job->plan->k);
}

/* Everything before the loop. Returns 0, 2 (bad input: nothing was written
 * into an existing experiment) or 1. */
static int search_setup(struct search *s, char *err, size_t errlen)
{
    char info[SEARCH_ERR_LEN];
    int status = search_check_job(s, err, errlen);
    if (status == 0)
        status =
            search_check_model(s->o, s->home, info, sizeof info, err, errlen);
    if (status == 0 && info[0])
        log_info("%s", info);
    if (status == 0)
        status = experiment_resolve(&s->x, s->o, err, errlen);
    if (status == 0)
        status = search_open_engine(s->o, s->home, &s->x, s->tp->workers,
                                    &s->engine, err, errlen);
    if (status == 0 && s->o->restart)
        status = experiment_replay(&s->x, s->o, engine_optimizer(s->engine),
                                   &s->replay, err, errlen);
    if (status == 0) {
        char *ranks = s->job ? layout_json(s->job->layout) : NULL;
        status =
            experiment_prepare(&s->x, s->o, s->tp->workers, ranks, err, errlen);
        free(ranks);
    }
    if (status != 0)
        return status;
    experiment_open_log(&s->x);
    if (s->x.log)
        log_set_mirror(s->x.log,
                       s->o->verbosity > 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
    search_log_job(s);
    status = search_open_journal(s, err, errlen);
    if (status == 0)
        status = search_start_manager(s, err, errlen);
    return status;
}

/* Tells the workers where the experiment is and says what runs. */
static int search_announce(struct search *s, char *err, size_t errlen)
{
    const struct options *o = s->o;
    struct start_msg sm;
    memset(&sm, 0, sizeof sm);
    sm.restart = s->x.restart;
    snprintf(sm.exp_dir, sizeof sm.exp_dir, "%s", s->x.dir);
    snprintf(sm.exp_id, sizeof sm.exp_id, "%s", s->x.id);
    s->announced = 1;
    if (s->tp->ops->announce(s->tp, &sm) != 0) {
        snprintf(err, errlen, "cannot start the workers");
        return 1;
    }
    log_info("experiment %s: %d workers, max_evals %ld, optimizer %s", s->x.dir,
             s->tp->workers, o->max_evals, o->optimizer);
    if (o->simulate > 0 && !o->max_evals_given)
        printf("async-search: experiment %s, %d virtual workers, until the "
               "time limit of %g s\n",
               s->x.dir, s->tp->workers, o->time_limit);
    else
        printf("async-search: experiment %s, %d %sworkers, %ld evaluations\n",
               s->x.dir, s->tp->workers, o->simulate > 0 ? "virtual " : "",
               o->max_evals);
    fflush(stdout);
    return 0;
}

/* Says why the loop stopped early; returns the exit status. */
static int search_stop_message(const struct search *s, enum manager_end end)
{
    const struct options *o = s->o;
    long running = manager_running(s->manager);
    if (end == MANAGER_SIGNAL) {
        int sig = signals_pending();
        log_warn("interrupted by %s: stopped issuing work; %ld running "
                 "evaluations are ended and will be issued again by "
                 "--restart %s",
                 sig == SIGINT ? "SIGINT" : "SIGTERM", running, s->x.dir);
        return 128 + sig;
    }
    if (end == MANAGER_TIME_LIMIT) {
        printf("\nasync-search: time limit of %g s reached: stopped issuing "
               "work; %ld running evaluations are ended%s\n",
               o->time_limit, running,
               o->simulate ? "" : " and will be issued again by --restart");
    } else if (end == MANAGER_MAX_FAILURES) {
        log_error("stopping: %ld evaluations failed or timed out "
                  "(--max-failures %ld); %ld running evaluations are ended "
                  "and will be issued again by --restart %s",
                  manager_failures(s->manager), o->max_failures, running,
                  s->x.dir);
        return 3;
    } else if (end == MANAGER_FAIL_FAST) {
        const char *why, *job = manager_last_failure(s->manager, &why);
        log_error("stopping: the first %ld evaluations all failed, so the "
                  "model looks mis-wired (--fail-fast %ld); the last, %s: %s "
                  "(see %s/run/%s/model.log)",
                  search_fail_fast(s), o->fail_fast, job ? job : "?",
                  job ? why : "", s->x.dir, job ? job : "");
        return SEARCH_EXIT_NO_SUCCESS;
    } else if (end == MANAGER_STORAGE) {
        log_error("stopping: the experiment's storage failed (%s); %ld "
                  "running evaluations are ended; the evaluations without a "
                  "row in results.csv are issued again by --restart %s once "
                  "there is space",
                  manager_storage_error(s->manager), running, s->x.dir);
        return SEARCH_EXIT_STORAGE;
    }
    return 0;
}

/* Writes EXPDIR/report.png through the engine and says where it is. */
static void search_report(struct search *s)
{
    struct engine_error e;
    char *path = NULL;
    memset(&e, 0, sizeof e);
    if (engine_call_text(s->engine, "report", s->x.dir, &path, &e) ==
        ENGINE_OK) {
        printf("report: %s (the full table: async-search report %s)\n", path,
               s->x.dir);
        fflush(stdout);
    } else {
        search_log_engine_error(&e);
        log_warn("no report.png: %s (try: async-search report %s)", e.message,
                 s->x.dir);
    }
    engine_error_clear(&e);
    free(path);
}

/* After the loop: the summary, the workers released, the report. */
static int search_end(struct search *s, enum manager_end end)
{
    journal_sync(s->journal, util_now(), 1);
    manager_end_progress(s->manager);
    int status = search_stop_message(s, end);
    /* After a signal there is no time to wait for the optimizer's turn
     * (mpiexec's SIGKILL follows): the summary goes without its figures. */
    if (end != MANAGER_SIGNAL)
        manager_stop_optimizer(s->manager);
    struct summary sum;
    manager_summary(s->manager, util_now(), &sum);
    summary_print(&sum, stdout);
    if (status == 0 && sum.finished > 0 && sum.ok + sum.stopped == 0) {
        const char *why, *job = manager_last_failure(s->manager, &why);
        log_error("no evaluation succeeded%s%s%s%s", job ? "; the last, " : "",
                  job ? job : "", job ? ": " : "", job ? why : "");
        status = SEARCH_EXIT_NO_SUCCESS;
    }
    if (s->tp->ops->finish(s->tp) != 0)
        log_warn("stopping the workers: %s", s->tp->err);
    /* The workers are released first: plotting must not hold them. */
    if (end != MANAGER_SIGNAL && end != MANAGER_STORAGE && !s->o->no_report &&
        sum.finished > 0)
        search_report(s);
    return status;
}

static void search_free(struct search *s)
{
    /* The optimizer thread uses the engine: it stops first. */
    manager_free(s->manager);
    if (s->engine && engine_stop(s->engine) != 0)
        log_warn("the embedded Python reported an error while finalising");
    journal_close(s->journal);
    replay_free(&s->replay);
    log_set_mirror(NULL, LOG_LEVEL_ERROR);
    experiment_close(&s->x);
}

int search_run(const struct options *o, const char *home, struct transport *t,
               const struct search_job *job)
{
    struct search s;
    char err[SEARCH_ERR_LEN] = "";
    memset(&s, 0, sizeof s);
    s.o = o;
    s.job = job;
    s.home = home;
    s.tp = t;
    s.x.lock_fd = -1;
    s.started = util_now();

    int status = search_setup(&s, err, sizeof err);
    if (status == 0) {
        signals_install();
        status = search_announce(&s, err, sizeof err);
    }
    if (status == 0) {
        enum manager_end end = manager_loop(s.manager, err, sizeof err);
        if (end != MANAGER_ERROR) {
            status = search_end(&s, end);
            search_free(&s);
            return status;
        }
        status = 1;
    }
    log_error("%s", err);
    if (!s.announced) {
        struct start_msg stop;
        memset(&stop, 0, sizeof stop);
        stop.status = status;
        t->ops->announce(t, &stop);
    } else if (t->ops->finish(t) != 0) {
        log_warn("stopping the workers: %s", t->err);
    }
    search_free(&s);
    return status;
}

int search_check(const struct options *o, const char *home)
{
    struct engine_error e;
    struct engine *engine = NULL;
    struct experiment x;
    char *text = NULL;
    char err[SEARCH_ERR_LEN], info[SEARCH_ERR_LEN];

    memset(&e, 0, sizeof e);
    memset(&x, 0, sizeof x);
    x.lock_fd = -1;
    x.problem = experiment_absolute(o->problem);
    int status =
        search_check_model(o, home, info, sizeof info, err, sizeof err);
    if (status == 0 && x.problem == NULL) {
        snprintf(err, sizeof err, "out of memory");
        status = 1;
    }
    if (status == 0)
        status = search_open_engine(o, home, &x, 1, &engine, err, sizeof err);
    experiment_close(&x);
    if (status != 0) {
        log_error("%s", err);
        return status;
    }
    if (engine_text(engine, "describe", &text, &e) == ENGINE_OK) {
        printf("%s\n", text);
        if (info[0])
            printf("%s\n", info);
    } else {
        log_error("%s", e.message);
        status = 1;
    }
    free(text);
    engine_error_clear(&e);
    if (engine_stop(engine) != 0 && status == 0)
        status = 1;
    return status;
}
