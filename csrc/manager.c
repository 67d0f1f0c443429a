/*
 * manager: see manager.h.
 *
 * Points live in one array in the order the optimizer produced them;
 * points[next_dispatch..npoints) is the dispatch buffer, so handing out work
 * is FIFO and needs no extra queue. Idle workers wait in a ring so that work
 * rotates over all of them.
 */
#include "manager.h"
#include "manager_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmdline.h"
#include "engine.h"
#include "journal.h"
#include "log.h"
#include "policy.h"
#include "progress.h"
#include "queue.h"
#include "runid.h"
#include "signals.h"
#include "strbuf.h"
#include "util.h"

/* ---- small helpers ---------------------------------------------------- */
void manager_log_engine_error(const struct engine_error *e)
{
    if (e->detail)
        log_info("optimizer traceback:\n%s", e->detail);
}

/* Starts the engine with python_dir = HOME/python. */
static enum engine_status manager_engine_start(const char *home,
                                               const char *settings,
                                               struct engine **out,
                                               struct engine_error *e)
{
    struct strbuf dir = STRBUF_INIT;
    strbuf_printf(&dir, "%s/python", home);
    enum engine_status st = engine_start(strbuf_str(&dir), settings, out, e);
    strbuf_free(&dir);
    return st;
}

/* ---- the optimizer thread --------------------------------------------- */

static void *manager_optimizer_main(void *arg)
{
    struct manager *m = arg;
    struct queue_work w;
    struct engine_error e;
    memset(&e, 0, sizeof e);
    while (queue_wait(m->queue, &w) == 0) {
        double t0 = util_now();
        m->opt_turns++;
        m->opt_points += w.nrequested;
        if (w.nresults > 0 &&
            engine_tell(m->engine, w.results, w.nresults, &e) != ENGINE_OK) {
            manager_log_engine_error(&e);
            queue_fail(m->queue, e.message);
            engine_error_clear(&e);
            queue_work_clear(&w);
            break;
        }
        if (w.nrequested > 0) {
            struct point_batch *b = NULL;
            if (engine_ask(m->engine, w.nrequested, &b, &e) != ENGINE_OK) {
                manager_log_engine_error(&e);
                queue_fail(m->queue, e.message);
                engine_error_clear(&e);
                queue_work_clear(&w);
                break;
            }
            b->turn_s = util_now() - t0;
            queue_push_batch(m->queue, b);
        }
        queue_work_clear(&w);
        m->opt_busy_s += util_now() - t0;
    }
    return NULL;
}

/* ---- points and workers ----------------------------------------------- */

/*
 * Moves the batch's strings into new points. With a journal, the points get
 * ids of a new batch (R_I_J) and are written to points.log; without one
 * (replayed results) the caller sets their ids and states.
 */
int manager_add_points(struct manager *m, struct point_batch *b,
                       struct journal *journal, char *err, size_t errlen)
{
    if (m->npoints + b->count > m->cappoints) {
        long cap = m->cappoints ? m->cappoints : 64;
        while (cap < m->npoints + b->count)
            cap *= 2;
        struct point *p = realloc(m->points, (size_t)cap * sizeof *p);
        if (p == NULL) {
            snprintf(err, errlen, "out of memory for %ld points", cap);
            return -1;
        }
        m->points = p;
        m->cappoints = cap;
    }
    if (journal)
        m->batch_no++;
    for (long i = 0; i < b->count; i++) {
        struct point *p = &m->points[m->npoints];
        memset(p, 0, sizeof *p);
        p->params_json = b->params_json[i];
        p->csv_fields = b->csv_fields[i];
        b->params_json[i] = b->csv_fields[i] = NULL;
        p->state = POINT_BUFFERED;
        p->worker = -1;
        p->objective = NAN;
        p->sim_value = b->sim_values ? b->sim_values[i] : NAN;
        m->npoints++;
        if (journal == NULL)
            continue;
        runid_format(p->job_id, sizeof p->job_id, m->restart, m->batch_no, i);
        if (journal_point(journal, p->job_id, p->params_json, err, errlen) != 0)
            return -1;
    }
    return 0;
}

int manager_add_batch(struct manager *m, struct point_batch *b, char *err,
                      size_t errlen)
{
    return manager_add_points(m, b, m->journal, err, errlen);
}

static void manager_push_idle(struct manager *m, int worker)
{
    int slot = (m->idle_head + m->nidle) % m->workers;
    m->idle[slot] = worker;
    m->nidle++;
}

static int manager_pop_idle(struct manager *m)
{
    int w = m->idle[m->idle_head];
    m->idle_head = (m->idle_head + 1) % m->workers;
    m->nidle--;
    return w;
}

static int manager_dispatch(struct manager *m, double now, char *err,
                            size_t errlen)
{
    while (m->nidle > 0 && m->next_dispatch < m->npoints) {
        long idx = m->next_dispatch;
        struct point *p = &m->points[idx];
        int w = manager_pop_idle(m);
        struct task_msg t;
        t.seq = idx;
        memcpy(t.job_id, p->job_id, sizeof t.job_id);
        t.params_json = p->params_json;
        t.sim_objective = p->sim_value;
        if (m->tp->ops->send_task(m->tp, w, &t) != 0) {
            snprintf(err, errlen, "sending %s to worker %d: %s", p->job_id, w,
                     m->tp->err);
            return -1;
        }
        p->state = POINT_RUNNING;
        p->worker = w;
        p->t_submit = now - m->t0_mono;
        if (m->idle_since[w] > 0)
            m->idle_s += now - m->idle_since[w];
        m->idle_since[w] = 0;
        m->running[w] = idx;
        m->nrunning++;
        m->next_dispatch++;
        log_debug("%s -> worker %d", p->job_id, w);
    }
    return 0;
}

static void manager_stats(const struct manager *m, double now,
                          struct progress_stats *st)
{
    memset(st, 0, sizeof *st);
    st->done = m->policy.finished;
    st->total = m->o->max_evals;
    st->ok = m->nok;
    st->failed = m->nfailed;
    st->timeout = m->ntimeout;
    st->running = m->nrunning;
    st->done_this_run = m->done_this_run;
    st->best = m->best >= 0 ? m->points[m->best].objective : NAN;
    st->best_job = m->best >= 0 ? m->points[m->best].job_id : "";
    st->elapsed = now - m->run_start;
    st->time_limit = m->o->time_limit;
    st->open_ended = m->o->simulate > 0 && !m->o->max_evals_given;
}

static void manager_progress(struct manager *m, double now, int force)
{
    struct progress_stats st;
    manager_stats(m, now, &st);
    progress_update(&m->progress, &st, now, force);
}

/* Records a result time; returns -1 when memory runs out. */
static int manager_note_result(struct manager *m, double now)
{
    if (m->recent_count == m->recent_cap) {
        long cap = m->recent_cap ? 2 * m->recent_cap : 256;
        double *r = malloc((size_t)cap * sizeof *r);
        if (r == NULL)
            return -1;
        for (long i = 0; i < m->recent_count; i++)
            r[i] = m->recent[(m->recent_head + i) % m->recent_cap];
        free(m->recent);
        m->recent = r;
        m->recent_head = 0;
        m->recent_cap = cap;
    }
    m->recent[(m->recent_head + m->recent_count) % m->recent_cap] = now;
    m->recent_count++;
    return 0;
}

/* Results that arrived within the last two optimizer turns: the points the
 * buffer must hold so that nobody waits while the optimizer works. */
static long manager_demand(struct manager *m, double now)
{
    double window =
        2.0 * (m->turn_s > MANAGER_MIN_TURN_S ? m->turn_s : MANAGER_MIN_TURN_S);
    while (m->recent_count > 0 && m->recent[m->recent_head] < now - window) {
        m->recent_head = (m->recent_head + 1) % m->recent_cap;
        m->recent_count--;
    }
    return m->recent_count;
}

static int manager_handle_result(struct manager *m, int w,
                                 const struct result_msg *r, double now,
                                 char *err, size_t errlen)
{
    if (w < 1 || w > m->workers || m->running[w] < 0 ||
        m->running[w] != r->seq) {
        log_warn("ignoring an unexpected result from rank %d (task %lld)", w,
                 (long long)r->seq);
        return 0;
    }
    long idx = m->running[w];
    struct point *p = &m->points[idx];
    enum launch_status st = (enum launch_status)r->status;
    p->state = POINT_DONE;
    p->status = st;
    p->objective = st == LAUNCH_OK ? r->objective : NAN;
    m->running[w] = -1;
    m->nrunning--;
    m->idle_since[w] = now;
    manager_push_idle(m, w);

    struct journal_row row = {
        .job_id = p->job_id,
        .csv_fields = p->csv_fields,
        .objective = p->objective,
        .status = launch_status_name(st),
        .worker = w,
        .t_submit = p->t_submit,
        .t_start = r->t_start - m->t0_wall,
        .t_gather = now - m->t0_mono,
        .duration = r->t_end - r->t_start,
    };
    if (journal_append(m->journal, &row, err, errlen) != 0)
        return -1;
    policy_result(&m->policy, now);
    if (queue_push_result(m->queue, p->params_json, p->objective) != 0) {
        snprintf(err, errlen, "out of memory queueing a result");
        return -1;
    }
    m->done_this_run++;
    m->busy_s += row.duration;
    if (manager_note_result(m, now) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    progress_evaluation(&m->progress, p->job_id, launch_status_name(st),
                        p->objective, w, row.duration, r->reason);
    if (st == LAUNCH_OK) {
        m->nok++;
        if (m->best < 0 || p->objective < m->points[m->best].objective)
            m->best = idx;
        log_info("%s ok %.6g (worker %d, %.1f s)", p->job_id, p->objective, w,
                 row.duration);
    } else {
        if (st == LAUNCH_TIMEOUT)
            m->ntimeout++;
        else
            m->nfailed++;
        if (m->o->verbosity >= 0)
            progress_end_line(&m->progress);
        log_warn("evaluation %s %s: %s (see %s/run/%s/model.log)", p->job_id,
                 launch_status_name(st), r->reason, m->exp_dir, p->job_id);
    }
    manager_progress(m, now, policy_done(&m->policy));
    return 0;
}

/* ---- the loop ---------------------------------------------------------- */

static int manager_too_many_failures(const struct manager *m)
{
    return m->o->max_failures > 0 &&
           m->nfailed + m->ntimeout >= m->o->max_failures;
}

static enum loop_end manager_loop(struct manager *m, char *err, size_t errlen)
{
    double sleep_s = MANAGER_SLEEP_MIN_S;
    m->loop_start = util_now();
    for (int w = 1; w <= m->workers; w++)
        m->idle_since[w] = m->loop_start;
    queue_request(m->queue, policy_initial(&m->policy));
    while (!policy_done(&m->policy)) {
        if (m->o->time_limit > 0 &&
            util_now() - m->run_start >= m->o->time_limit)
            return LOOP_TIME_LIMIT;
        if (signals_pending())
            return LOOP_SIGNAL;
        if (manager_too_many_failures(m))
            return LOOP_MAX_FAILURES;
        int busy = 0, rc, w;
        double now = util_now();
        struct result_msg r;
        struct point_batch *b;

        while ((rc = m->tp->ops->poll_result(m->tp, &w, &r)) == 1) {
            if (manager_handle_result(m, w, &r, now, err, errlen) != 0)
                return LOOP_ERROR;
            busy = 1;
        }
        if (rc < 0) {
            snprintf(err, errlen, "receiving results: %s", m->tp->err);
            return LOOP_ERROR;
        }
        while ((b = queue_pop_batch(m->queue)) != NULL) {
            m->turn_s = b->turn_s > m->turn_s
                            ? b->turn_s
                            : MANAGER_TURN_DECAY * m->turn_s +
                                  (1 - MANAGER_TURN_DECAY) * b->turn_s;
            rc = manager_add_batch(m, b, err, errlen);
            queue_batch_free(b);
            if (rc != 0)
                return LOOP_ERROR;
            busy = 1;
        }
        if (manager_dispatch(m, now, err, errlen) != 0)
            return LOOP_ERROR;
        if (queue_failed(m->queue, err, errlen))
            return LOOP_ERROR;

        long buffered = m->npoints - m->next_dispatch;
        int starving = m->nidle > buffered + queue_pending(m->queue);
        policy_set_demand(&m->policy, manager_demand(m, now));
        long n = policy_next(&m->policy, now, starving);
        if (n > 0) {
            queue_request(m->queue, n);
            log_debug("requested %ld points", n);
        }
        journal_sync(m->journal, now, 0);
        manager_progress(m, now, 0);
        if (busy) {
            sleep_s = MANAGER_SLEEP_MIN_S;
        } else {
            util_sleep(sleep_s);
            if (sleep_s < MANAGER_SLEEP_MAX_S)
                sleep_s *= 2;
        }
    }
    return LOOP_DONE;
}

/* Stops the optimizer thread after its current turn. */
void manager_stop_thread(struct manager *m)
{
    if (m->thread_started) {
        queue_stop(m->queue);
        pthread_join(m->thread, NULL);
        m->thread_started = 0;
    }
}

/* ---- set-up and tear-down --------------------------------------------- */

/* --model-cmd must split into words. Returns 0, or 2 with err. */
static int manager_check_model_cmd(const struct options *o, char *err,
                                   size_t errlen)
{
    char **words;
    size_t n;
    char why[256];
    if (o->model_cmd == NULL)
        return 0;
    if (cmdline_split(o->model_cmd, &words, &n, why, sizeof why) != 0) {
        snprintf(err, errlen, "--model-cmd: %s", why);
        return 2;
    }
    cmdline_free(words);
    return 0;
}

/* Loads the problem and the optimizer (m->engine) and logs the problem
 * file's warnings. Returns 0, 2 (bad problem or setting: one line in err)
 * or 1 (internal: the traceback goes to stderr). */
static int manager_open_engine(struct manager *m, char *err, size_t errlen)
{
    struct engine_error e;
    char *settings = NULL, *text = NULL;
    memset(&e, 0, sizeof e);
    if (m->problem == NULL)
        m->problem = experiment_absolute(m->o->problem);
    if (m->problem == NULL) {
        snprintf(err, errlen, "out of memory");
        return 1;
    }
    settings = experiment_settings_json(m);
    enum engine_status es =
        manager_engine_start(m->home, settings, &m->engine, &e);
    free(settings);
    if (es != ENGINE_OK) {
        snprintf(err, errlen, "%s", e.message);
        if (es != ENGINE_USER_ERROR && e.detail)
            fprintf(stderr, "%s", e.detail); /* an internal error: show it */
        engine_error_clear(&e);
        return es == ENGINE_USER_ERROR ? 2 : 1;
    }
    if (engine_text(m->engine, "warnings", &text, &e) == ENGINE_OK && text[0]) {
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
            log_warn("%s", line);
    }
    free(text);
    engine_error_clear(&e);
    return 0;
}

static int manager_setup(struct manager *m, char *err, size_t errlen)
{
    struct engine_error e;
    char *header = NULL;
    int status = 1;
    memset(&e, 0, sizeof e);

    status = manager_check_model_cmd(m->o, err, errlen);
    if (status != 0)
        return status;
    status = experiment_resolve_dir(m, err, errlen);
    if (status != 0)
        return status;
    status = manager_open_engine(m, err, errlen);
    if (status != 0)
        return status;
    if (engine_text(m->engine, "header", &header, &e) != ENGINE_OK) {
        snprintf(err, errlen, "%s", e.message);
        engine_error_clear(&e);
        return 1;
    }
    if (m->o->restart) {
        status = experiment_prepare_restart(m, err, errlen);
        if (status != 0)
            goto done;
    }

    struct strbuf run = STRBUF_INIT;
    strbuf_printf(&run, "%s/run", m->exp_dir);
    status = util_mkdir_p(strbuf_str(&run), err, errlen) != 0 ? 2 : 0;
    strbuf_free(&run);
    if (status != 0)
        goto done;
    if (!m->o->restart && (status = experiment_lock(m, err, errlen)) != 0)
        goto done;
    status = 1;
    /* config.json first: it marks the directory as an experiment that
     * --restart can continue, however early the job is killed. */
    if (m->o->restart && experiment_keep_old_config(m, err, errlen) != 0)
        goto done;
    if (experiment_write_config(m, err, errlen) != 0)
        goto done;

    struct strbuf logpath = STRBUF_INIT;
    strbuf_printf(&logpath, "%s/%s", m->exp_dir, MANAGER_LOG);
    m->log = fopen(strbuf_str(&logpath), "a");
    strbuf_free(&logpath);
    if (m->log)
        log_set_mirror(m->log,
                       m->o->verbosity > 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);

    status = 1;
    if (journal_open(m->exp_dir, header, &m->journal, err, errlen) != 0) {
        status = m->o->restart ? 2 : 1;
        goto done;
    }
    if (m->o->restart && experiment_resume(m, err, errlen) != 0)
        goto done;
    status = 0;
done:
    free(header);
    return status;
}

static int manager_start_thread(struct manager *m, char *err, size_t errlen)
{
    m->queue = queue_create();
    if (m->queue == NULL) {
        snprintf(err, errlen, "cannot create the optimizer queue");
        return -1;
    }
    int rc = pthread_create(&m->thread, NULL, manager_optimizer_main, m);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the optimizer thread: %s",
                 strerror(rc));
        return -1;
    }
    m->thread_started = 1;
    return 0;
}

static void manager_free(struct manager *m)
{
    manager_stop_thread(m);
    if (m->engine && engine_stop(m->engine) != 0)
        log_warn("the embedded Python reported an error while finalising");
    queue_destroy(m->queue);
    journal_close(m->journal);
    for (long i = 0; i < m->npoints; i++) {
        free(m->points[i].params_json);
        free(m->points[i].csv_fields);
    }
    free(m->points);
    free(m->running);
    free(m->idle);
    free(m->idle_since);
    free(m->recent);
    free(m->exp_dir);
    free(m->exp_id);
    free(m->problem);
    engine_replay_free(&m->replay);
    log_set_mirror(NULL, LOG_LEVEL_ERROR);
    if (m->log)
        fclose(m->log);
    if (m->lock_fd >= 0)
        close(m->lock_fd);
}

int manager_run(const struct options *o, const char *home, struct transport *t)
{
    struct manager m;
    char err[MANAGER_ERR_LEN] = "";
    int status = 0;

    memset(&m, 0, sizeof m);
    m.o = o;
    m.home = home;
    m.tp = t;
    m.workers = t->workers;
    m.restart = 1;
    m.best = -1;
    m.lock_fd = -1;
    m.t0_mono = m.run_start = util_now();
    m.t0_wall = util_wall();
    progress_init(&m.progress, stdout,
                  o->verbosity < 0   ? PROGRESS_QUIET
                  : o->verbosity > 0 ? PROGRESS_VERBOSE
                                     : PROGRESS_NORMAL,
                  strcmp(o->progress, "tty") == 0 ? 1
                  : strcmp(o->progress, "log") == 0
                      ? 0
                      : progress_stdout_is_terminal());
    m.running = malloc((size_t)(m.workers + 1) * sizeof *m.running);
    m.idle = malloc((size_t)m.workers * sizeof *m.idle);
    m.idle_since = calloc((size_t)m.workers + 1, sizeof *m.idle_since);
    if (m.running == NULL || m.idle == NULL || m.idle_since == NULL) {
        snprintf(err, sizeof err, "out of memory");
        status = 1;
        goto fail;
    }
    for (int w = 0; w <= m.workers; w++)
        m.running[w] = -1;
    for (int w = 1; w <= m.workers; w++)
        manager_push_idle(&m, w);

    struct policy_config pc = {
        .max_evals = o->max_evals,
        .init_size = o->init_size,
        .num_buffer = o->num_buffer,
        .max_threshold = o->max_threshold,
        .workers = m.workers,
        .window_s = o->threshold_window,
        .fixed_buffer = o->fixed_buffer,
    };
    policy_init(&m.policy, &pc);

    status = manager_setup(&m, err, sizeof err);
    if (status != 0)
        goto fail;

    signals_install();
    struct start_msg sm;
    memset(&sm, 0, sizeof sm);
    sm.restart = m.restart;
    snprintf(sm.exp_dir, sizeof sm.exp_dir, "%s", m.exp_dir);
    snprintf(sm.exp_id, sizeof sm.exp_id, "%s", m.exp_id);
    m.announced = 1;
    if (t->ops->announce(t, &sm) != 0) {
        snprintf(err, sizeof err, "cannot start the workers");
        status = 1;
        goto fail;
    }
    log_info("experiment %s: %d workers, max_evals %ld, optimizer %s",
             m.exp_dir, m.workers, o->max_evals, o->optimizer);
    if (o->simulate > 0 && !o->max_evals_given)
        printf("async-search: experiment %s, %d virtual workers, until the "
               "time limit of %g s\n",
               m.exp_dir, m.workers, o->time_limit);
    else
        printf("async-search: experiment %s, %d %sworkers, %ld evaluations\n",
               m.exp_dir, m.workers, o->simulate > 0 ? "virtual " : "",
               o->max_evals);
    fflush(stdout);

    if (manager_start_thread(&m, err, sizeof err) != 0) {
        status = 1;
        goto fail;
    }
    enum loop_end end = manager_loop(&m, err, sizeof err);
    if (end == LOOP_ERROR) {
        status = 1;
        goto fail;
    }
    journal_sync(m.journal, util_now(), 1);
    long running = m.nrunning;
    progress_end_line(&m.progress);
    if (end == LOOP_SIGNAL) {
        int sig = signals_pending();
        log_warn("interrupted by %s: stopped issuing work; %ld running "
                 "evaluations are ended and will be issued again by "
                 "--restart %s",
                 sig == SIGINT ? "SIGINT" : "SIGTERM", running, m.exp_dir);
        status = 128 + sig;
    } else if (end == LOOP_TIME_LIMIT) {
        printf("\nasync-search: time limit of %g s reached: stopped issuing "
               "work; %ld running evaluations are ended%s\n",
               o->time_limit, running,
               o->simulate ? "" : " and will be issued again by --restart");
    } else if (end == LOOP_MAX_FAILURES) {
        log_error("stopping: %ld evaluations failed or timed out "
                  "(--max-failures %ld); %ld running evaluations are ended "
                  "and will be issued again by --restart %s",
                  m.nfailed + m.ntimeout, o->max_failures, running, m.exp_dir);
        status = 3;
    }
    summary_print(&m, end != LOOP_SIGNAL);
    if (t->ops->finish(t) != 0)
        log_warn("stopping the workers: %s", t->err);
    /* The workers are released first: plotting must not hold them. After a
     * signal there is no time for it (mpiexec's SIGKILL follows). */
    if (end != LOOP_SIGNAL && !o->no_report)
        summary_report(&m);
    manager_free(&m);
    return status;

fail:
    log_error("%s", err);
    if (!m.announced) {
        struct start_msg stop;
        memset(&stop, 0, sizeof stop);
        stop.status = status;
        t->ops->announce(t, &stop);
    } else if (t->ops->finish(t) != 0) {
        log_warn("stopping the workers: %s", t->err);
    }
    manager_free(&m);
    return status;
}

int manager_check(const struct options *o, const char *home)
{
    struct engine_error e;
    char *text = NULL;
    char err[MANAGER_ERR_LEN];
    struct manager m;

    memset(&e, 0, sizeof e);
    memset(&m, 0, sizeof m);
    m.o = o;
    m.home = home;
    m.workers = 1;
    int status = manager_check_model_cmd(o, err, sizeof err);
    if (status == 0)
        status = manager_open_engine(&m, err, sizeof err);
    free(m.problem);
    if (status != 0) {
        log_error("%s", err);
        return status;
    }
    if (engine_text(m.engine, "describe", &text, &e) == ENGINE_OK) {
        printf("%s\n", text);
    } else {
        log_error("%s", e.message);
        status = 1;
    }
    free(text);
    engine_error_clear(&e);
    if (engine_stop(m.engine) != 0 && status == 0)
        status = 1;
    return status;
}
