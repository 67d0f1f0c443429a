/*
 * manager: see manager.h.
 *
 * Points live in one array in the order the optimizer produced them;
 * points[next_dispatch..npoints) is the dispatch buffer, so handing out work
 * is FIFO and needs no extra queue. Idle workers wait in a ring so that work
 * rotates over all of them.
 */
#include "manager.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ---- small helpers ---------------------------------------------------- */

static char *manager_absolute(const char *path)
{
    struct strbuf sb = STRBUF_INIT;
    if (path[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd) == NULL)
            return NULL;
        strbuf_printf(&sb, "%s/", cwd);
    }
    strbuf_puts(&sb, path);
    /* drop trailing slashes (but keep "/") */
    while (sb.len > 1 && sb.data[sb.len - 1] == '/')
        sb.data[--sb.len] = '\0';
    return strbuf_detach(&sb);
}

static const char *manager_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int manager_nonempty_file(const char *dir, const char *name)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/%s", dir, name);
    FILE *f = fopen(strbuf_str(&sb), "r");
    strbuf_free(&sb);
    if (f == NULL)
        return 0;
    int c = fgetc(f);
    fclose(f);
    return c != EOF;
}

/* Picks the experiment directory (without creating it). Returns 0, or 2
 * with a user error in err. */
static int manager_resolve_exp_dir(struct manager *m, char *err, size_t errlen)
{
    struct strbuf sb = STRBUF_INIT;
    const char *o_dir = m->o->exp_dir;
    if (m->o->restart) {
        m->exp_dir = manager_absolute(m->o->restart);
        m->exp_id = m->exp_dir ? strdup(manager_basename(m->exp_dir)) : NULL;
        if (m->exp_dir == NULL || m->exp_id == NULL) {
            snprintf(err, errlen, "out of memory");
            return 1;
        }
        struct strbuf cfg = STRBUF_INIT, pts = STRBUF_INIT;
        strbuf_printf(&cfg, "%s/%s", m->exp_dir, MANAGER_CONFIG);
        strbuf_printf(&pts, "%s/%s", m->exp_dir, JOURNAL_POINTS);
        int known =
            util_exists(strbuf_str(&cfg)) || util_exists(strbuf_str(&pts));
        strbuf_free(&cfg);
        strbuf_free(&pts);
        if (!known) {
            snprintf(err, errlen,
                     "--restart %s: not an async-search experiment directory "
                     "(no %s or %s in it)",
                     m->exp_dir, MANAGER_CONFIG, JOURNAL_POINTS);
            return 2;
        }
        return 0;
    }
    if (o_dir) {
        strbuf_puts(&sb, o_dir);
    } else if (m->o->exp_id) {
        strbuf_printf(&sb, MANAGER_EXP_ROOT "/%s", m->o->exp_id);
    } else {
        for (int i = 0; i < MANAGER_AUTO_ID_MAX; i++) {
            strbuf_reset(&sb);
            strbuf_printf(&sb, MANAGER_EXP_ROOT "/EXP%03d", i);
            if (!util_exists(strbuf_str(&sb)))
                break;
        }
    }
    m->exp_dir = manager_absolute(strbuf_str(&sb));
    strbuf_free(&sb);
    if (m->exp_dir == NULL) {
        snprintf(err, errlen, "cannot resolve the experiment directory: %s",
                 strerror(errno));
        return 1;
    }
    m->exp_id = strdup(manager_basename(m->exp_dir));
    if (m->exp_id == NULL || m->exp_id[0] == '\0') {
        snprintf(err, errlen, "--exp-dir: '%s' has no directory name",
                 m->exp_dir);
        return 2;
    }
    if (manager_nonempty_file(m->exp_dir, JOURNAL_RESULTS)) {
        snprintf(err, errlen,
                 "experiment directory %s already holds results (%s); use "
                 "--restart %s to continue it, or choose another --exp-dir",
                 m->exp_dir, JOURNAL_RESULTS, m->exp_dir);
        return 2;
    }
    return 0;
}

static char *manager_settings_json(const struct manager *m)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, "{\"problem\": ");
    strbuf_json_string(&sb, m->problem);
    strbuf_puts(&sb, ", \"optimizer\": ");
    strbuf_json_string(&sb, m->o->optimizer);
    strbuf_printf(&sb,
                  ", \"seed\": %ld, \"n_jobs\": %ld, \"init_size\": %ld, "
                  "\"max_evals\": %ld, \"num_buffer\": %ld, \"workers\": %d",
                  m->o->seed, m->o->n_jobs, m->o->init_size, m->o->max_evals,
                  m->o->num_buffer, m->workers);
    if (m->o->simulate > 0) {
        strbuf_puts(&sb, ", \"simulate_objective\": ");
        strbuf_json_string(&sb, m->o->sim_objective);
    }
    strbuf_puts(&sb, "}");
    return strbuf_detach(&sb);
}

static void manager_json_field(struct strbuf *sb, const char *key,
                               const char *value)
{
    strbuf_printf(sb, ",\n  \"%s\": ", key);
    if (value)
        strbuf_json_string(sb, value);
    else
        strbuf_puts(sb, "null");
}

static int manager_write_config(const struct manager *m, char *err,
                                size_t errlen)
{
    const struct options *o = m->o;
    struct strbuf sb = STRBUF_INIT, path = STRBUF_INIT;
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    strbuf_puts(&sb, "{\n  \"exp_id\": ");
    strbuf_json_string(&sb, m->exp_id);
    manager_json_field(&sb, "exp_dir", m->exp_dir);
    manager_json_field(&sb, "problem", m->problem);
    manager_json_field(&sb, "model", o->model);
    manager_json_field(&sb, "model_cmd", o->model_cmd);
    manager_json_field(&sb, "python", o->python);
    manager_json_field(&sb, "optimizer", o->optimizer);
    manager_json_field(&sb, "host", host);
    strbuf_printf(&sb,
                  ",\n  \"init_size\": %ld,\n  \"max_evals\": %ld,\n"
                  "  \"num_buffer\": %ld,\n  \"max_threshold\": %ld,\n"
                  "  \"threshold_window\": %g,\n  \"n_jobs\": %ld,\n"
                  "  \"seed\": %ld,\n  \"sh_timeout\": %g,\n"
                  "  \"benchmark_timeout\": %g,\n  \"workers\": %d,\n"
                  "  \"procs\": %d,\n  \"restart\": %d,\n"
                  "  \"start_time\": %.3f\n}\n",
                  o->init_size, o->max_evals, o->num_buffer, o->max_threshold,
                  o->threshold_window, o->n_jobs, o->seed, o->sh_timeout,
                  o->benchmark_timeout, m->workers, m->workers + 1, m->restart,
                  m->t0_wall);
    strbuf_printf(&path, "%s/%s", m->exp_dir, MANAGER_CONFIG);
    int rc = util_write_file(strbuf_str(&path), strbuf_str(&sb), sb.len, err,
                             errlen);
    strbuf_free(&sb);
    strbuf_free(&path);
    return rc;
}

static void manager_log_engine_error(const struct engine_error *e)
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
static int manager_add_points(struct manager *m, struct point_batch *b,
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

static int manager_add_batch(struct manager *m, struct point_batch *b,
                             char *err, size_t errlen)
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

static int manager_compare_objective(const void *a, const void *b)
{
    const struct point *const *pa = a, *const *pb = b;
    double x = (*pa)->objective, y = (*pb)->objective;
    return x < y ? -1 : x > y ? 1 : strcmp((*pa)->job_id, (*pb)->job_id);
}

/* Stops the optimizer thread after its current turn. */
static void manager_stop_thread(struct manager *m)
{
    if (m->thread_started) {
        queue_stop(m->queue);
        pthread_join(m->thread, NULL);
        m->thread_started = 0;
    }
}

/* Utilisation of this run: busy worker-seconds (finished evaluations, and
 * the elapsed part of running ones) over workers x the loop's wall time. */
static void manager_utilisation(const struct manager *m, double now)
{
    double wall = now - (m->loop_start > 0 ? m->loop_start : now);
    double busy = m->busy_s;
    for (int w = 1; w <= m->workers; w++)
        if (m->running[w] >= 0)
            busy += now - (m->t0_mono + m->points[m->running[w]].t_submit);
    if (wall <= 0)
        return;
    double capacity = wall * m->workers;
    printf("utilisation %.1f%%: %.0f busy worker-seconds of %d workers x "
           "%.1f s; idle between tasks %.1f%% of worker time\n",
           100.0 * busy / capacity, busy, m->workers, wall,
           100.0 * m->idle_s / capacity);
    if (m->o->simulate > 0) {
        double ideal = capacity / m->o->sim_duration;
        printf("evaluations this run: %ld of an ideal %.0f (workers x wall / "
               "mean duration): %.1f%%\n",
               m->done_this_run, ideal, 100.0 * m->done_this_run / ideal);
    }
    if (!m->thread_started && m->opt_turns > 0)
        printf("optimizer: %ld turns, %ld points, busy %.1f%% of the run "
               "(%.3f s per turn, %.1f points per turn)\n",
               m->opt_turns, m->opt_points, 100.0 * m->opt_busy_s / wall,
               m->opt_busy_s / m->opt_turns,
               (double)m->opt_points / m->opt_turns);
}

static void manager_summary(struct manager *m, int join)
{
    double now = util_now();
    double wall = now - m->run_start;
    progress_end_line(&m->progress);
    if (join)
        manager_stop_thread(m);
    printf("\nasync-search: %ld evaluations (%ld ok, %ld failed, %ld timeout); "
           "this run took %.1f s with %d workers\n",
           m->policy.finished, m->nok, m->nfailed, m->ntimeout, wall,
           m->workers);
    manager_utilisation(m, now);
    struct point **ok = malloc((size_t)(m->nok > 0 ? m->nok : 1) * sizeof *ok);
    long n = 0;
    for (long i = 0; ok && i < m->npoints; i++)
        if (m->points[i].state == POINT_DONE &&
            m->points[i].status == LAUNCH_OK)
            ok[n++] = &m->points[i];
    if (ok && n > 0) {
        qsort(ok, (size_t)n, sizeof *ok, manager_compare_objective);
        char v[40];
        util_format_double(v, sizeof v, ok[0]->objective);
        printf("best objective %s at %s: %s\n", v, ok[0]->job_id,
               ok[0]->params_json);
        printf("top %d:\n", n < MANAGER_TOP ? (int)n : MANAGER_TOP);
        for (long i = 0; i < n && i < MANAGER_TOP; i++) {
            util_format_double(v, sizeof v, ok[i]->objective);
            printf("  %ld. %-14s %-12s %s\n", i + 1, v, ok[i]->job_id,
                   ok[i]->params_json);
        }
    } else {
        printf("no evaluation succeeded: see the model.log files under "
               "%s/run/\n",
               m->exp_dir);
    }
    printf("results: %s/%s\n", m->exp_dir, JOURNAL_RESULTS);
    fflush(stdout);
    free(ok);
}

/* Writes EXPDIR/report.png through the engine and says where it is. */
static void manager_report(struct manager *m)
{
    struct engine_error e;
    char *path = NULL;
    memset(&e, 0, sizeof e);
    if (m->engine == NULL || m->policy.finished == 0)
        return;
    manager_stop_thread(m);
    struct strbuf arg = STRBUF_INIT;
    strbuf_puts(&arg, m->exp_dir);
    if (engine_call_text(m->engine, "report", strbuf_str(&arg), &path, &e) ==
        ENGINE_OK) {
        printf("report: %s (the full table: async-search report %s)\n", path,
               m->exp_dir);
        fflush(stdout);
    } else {
        manager_log_engine_error(&e);
        log_warn("no report.png: %s (try: async-search report %s)", e.message,
                 m->exp_dir);
    }
    engine_error_clear(&e);
    strbuf_free(&arg);
    free(path);
}

/* ---- restart ----------------------------------------------------------- */

/* Takes the experiment's lock. Returns 0, 2 (in use) or 1. */
static int manager_lock(struct manager *m, char *err, size_t errlen)
{
    int rc = journal_lock(m->exp_dir, &m->lock_fd, err, errlen);
    if (rc == -2)
        return 2;
    if (rc < 0)
        return 1;
    if (err[0])
        log_warn("%s", err);
    return 0;
}

static enum launch_status manager_status_from_name(const char *s)
{
    if (strcmp(s, "ok") == 0)
        return LAUNCH_OK;
    if (strcmp(s, "timeout") == 0)
        return LAUNCH_TIMEOUT;
    return LAUNCH_FAILED;
}

/* Repairs the journal and replays it into the optimizer (before the
 * optimizer thread starts). Returns 0, 2 (bad experiment) or 1. */
static int manager_prepare_restart(struct manager *m, char *err, size_t errlen)
{
    struct engine_error e;
    char note[512];
    memset(&e, 0, sizeof e);
    int rc = manager_lock(m, err, errlen);
    if (rc != 0)
        return rc;
    if (journal_repair(m->exp_dir, note, sizeof note, err, errlen) != 0)
        return 1;
    if (note[0])
        log_warn("%s", note);
    enum engine_status es =
        engine_replay(m->engine, m->exp_dir, &m->replay, &e);
    if (es != ENGINE_OK) {
        snprintf(err, errlen, "%s", e.message);
        manager_log_engine_error(&e);
        engine_error_clear(&e);
        return es == ENGINE_USER_ERROR ? 2 : 1;
    }
    long last = m->replay.last_restart;
    if (m->o->restart_number && m->o->restart_number <= last) {
        snprintf(err, errlen,
                 "--restart-number %ld: must be greater than %ld, the last "
                 "restart number used in %s",
                 m->o->restart_number, last, m->exp_dir);
        return 2;
    }
    m->restart = m->o->restart_number ? (int)m->o->restart_number
                                      : (int)(last > 0 ? last + 1 : 1);
    if (m->replay.start_time > 0) {
        /* Timestamps stay relative to the experiment's first start, so one
         * timeline covers every restart. */
        m->t0_mono -= m->t0_wall - m->replay.start_time;
        m->t0_wall = m->replay.start_time;
    }
    return 0;
}

/* Keeps the settings of the previous run as config.R.json. */
static int manager_keep_old_config(struct manager *m, char *err, size_t errlen)
{
    struct strbuf from = STRBUF_INIT, to = STRBUF_INIT;
    int rc = 0;
    strbuf_printf(&from, "%s/%s", m->exp_dir, MANAGER_CONFIG);
    strbuf_printf(&to, "%s/config.%ld.json", m->exp_dir,
                  m->replay.last_restart > 0 ? m->replay.last_restart : 1);
    if (util_exists(strbuf_str(&from)) && !util_exists(strbuf_str(&to)) &&
        rename(strbuf_str(&from), strbuf_str(&to)) != 0) {
        snprintf(err, errlen, "rename %s: %s", strbuf_str(&from),
                 strerror(errno));
        rc = -1;
    }
    strbuf_free(&from);
    strbuf_free(&to);
    return rc;
}

/* Adds the earlier results (for the summary) and reissues the evaluations
 * that never finished, under new job ids R_1_J. */
static int manager_resume(struct manager *m, char *err, size_t errlen)
{
    struct engine_replay *rp = &m->replay;
    long cap = m->o->max_evals - rp->nfinished;
    long reissue = rp->ninflight < cap ? rp->ninflight : (cap > 0 ? cap : 0);
    struct point_batch done = {0, NULL, NULL, NULL, 0};

    /* Finished rows enter the point table as done. */
    done.count = rp->nfinished;
    done.params_json = calloc((size_t)(rp->nfinished + 1), sizeof(char *));
    done.csv_fields = calloc((size_t)(rp->nfinished + 1), sizeof(char *));
    if (done.params_json == NULL || done.csv_fields == NULL) {
        free(done.params_json);
        free(done.csv_fields);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (long i = 0; i < rp->nfinished; i++) {
        done.params_json[i] = rp->finished[i].params_json;
        done.csv_fields[i] = rp->finished[i].csv_fields;
        rp->finished[i].params_json = rp->finished[i].csv_fields = NULL;
    }
    long first = m->npoints;
    int rc = manager_add_points(m, &done, NULL, err, errlen);
    free(done.params_json);
    free(done.csv_fields);
    if (rc != 0)
        return -1;
    for (long i = 0; i < rp->nfinished; i++) {
        struct point *p = &m->points[first + i];
        snprintf(p->job_id, sizeof p->job_id, "%s", rp->finished[i].job_id);
        p->state = POINT_DONE;
        p->status = manager_status_from_name(rp->finished[i].status);
        p->objective = rp->finished[i].objective;
        if (p->status == LAUNCH_OK) {
            m->nok++;
            if (m->best < 0 || p->objective < m->points[m->best].objective)
                m->best = first + i;
        } else if (p->status == LAUNCH_TIMEOUT) {
            m->ntimeout++;
        } else {
            m->nfailed++;
        }
    }
    m->next_dispatch = m->npoints;

    if (reissue > 0) {
        struct point_batch again = {reissue, NULL, NULL, NULL, 0};
        again.params_json = calloc((size_t)reissue, sizeof(char *));
        again.csv_fields = calloc((size_t)reissue, sizeof(char *));
        if (again.params_json == NULL || again.csv_fields == NULL) {
            free(again.params_json);
            free(again.csv_fields);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (long i = 0; i < reissue; i++) {
            again.params_json[i] = rp->inflight[i].params_json;
            again.csv_fields[i] = rp->inflight[i].csv_fields;
            rp->inflight[i].params_json = rp->inflight[i].csv_fields = NULL;
            log_info("reissuing %s (in flight when the experiment stopped)",
                     rp->inflight[i].job_id);
        }
        rc = manager_add_batch(m, &again, err, errlen);
        free(again.params_json);
        free(again.csv_fields);
        if (rc != 0)
            return -1;
    }
    policy_resume(&m->policy, rp->nfinished, reissue);
    printf("async-search: restart %d of %s: %ld evaluations already finished "
           "(%ld ok), %ld reissued\n",
           m->restart, m->exp_dir, rp->nfinished, m->nok, reissue);
    engine_replay_free(rp);
    return 0;
}

/* ---- set-up and tear-down --------------------------------------------- */

static int manager_setup(struct manager *m, char *err, size_t errlen)
{
    struct engine_error e;
    char *settings = NULL, *text = NULL, *header = NULL;
    int status = 1;
    memset(&e, 0, sizeof e);

    m->problem = manager_absolute(m->o->problem);
    if (m->problem == NULL) {
        snprintf(err, errlen, "out of memory");
        return 1;
    }
    if (m->o->model_cmd) {
        char **words;
        size_t n;
        char why[256];
        if (launch_split(m->o->model_cmd, &words, &n, why, sizeof why) != 0) {
            snprintf(err, errlen, "--model-cmd: %s", why);
            return 2;
        }
        launch_free_words(words);
    }
    status = manager_resolve_exp_dir(m, err, errlen);
    if (status != 0)
        return status;

    settings = manager_settings_json(m);
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
    if (engine_text(m->engine, "header", &header, &e) != ENGINE_OK) {
        snprintf(err, errlen, "%s", e.message);
        engine_error_clear(&e);
        return 1;
    }
    if (m->o->restart) {
        status = manager_prepare_restart(m, err, errlen);
        if (status != 0)
            goto done;
    }

    struct strbuf run = STRBUF_INIT;
    strbuf_printf(&run, "%s/run", m->exp_dir);
    status = util_mkdir_p(strbuf_str(&run), err, errlen) != 0 ? 2 : 0;
    strbuf_free(&run);
    if (status != 0)
        goto done;
    if (!m->o->restart && (status = manager_lock(m, err, errlen)) != 0)
        goto done;
    status = 1;
    /* config.json first: it marks the directory as an experiment that
     * --restart can continue, however early the job is killed. */
    if (m->o->restart && manager_keep_old_config(m, err, errlen) != 0)
        goto done;
    if (manager_write_config(m, err, errlen) != 0)
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
    if (m->o->restart && manager_resume(m, err, errlen) != 0)
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
    manager_summary(&m, end != LOOP_SIGNAL);
    if (t->ops->finish(t) != 0)
        log_warn("stopping the workers: %s", t->err);
    /* The workers are released first: plotting must not hold them. After a
     * signal there is no time for it (mpiexec's SIGKILL follows). */
    if (end != LOOP_SIGNAL)
        manager_report(&m);
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
    struct engine *en = NULL;
    struct engine_error e;
    char *settings = NULL, *text = NULL;
    char err[MANAGER_ERR_LEN];
    struct manager m;
    int status = 0;

    memset(&e, 0, sizeof e);
    memset(&m, 0, sizeof m);
    m.o = o;
    m.workers = 1;
    m.problem = manager_absolute(o->problem);
    if (o->model_cmd) {
        char **words;
        size_t n;
        if (launch_split(o->model_cmd, &words, &n, err, sizeof err) != 0) {
            log_error("--model-cmd: %s", err);
            free(m.problem);
            return 2;
        }
        launch_free_words(words);
    }
    settings = manager_settings_json(&m);
    enum engine_status es = manager_engine_start(home, settings, &en, &e);
    free(settings);
    free(m.problem);
    if (es != ENGINE_OK) {
        log_error("%s", e.message);
        if (es != ENGINE_USER_ERROR && e.detail)
            fprintf(stderr, "%s", e.detail);
        engine_error_clear(&e);
        return es == ENGINE_USER_ERROR ? 2 : 1;
    }
    if (engine_text(en, "warnings", &text, &e) == ENGINE_OK && text[0]) {
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
            log_warn("%s", line);
    }
    free(text);
    engine_error_clear(&e);
    if (engine_text(en, "describe", &text, &e) == ENGINE_OK) {
        printf("%s\n", text);
    } else {
        log_error("%s", e.message);
        status = 1;
    }
    free(text);
    engine_error_clear(&e);
    if (engine_stop(en) != 0 && status == 0)
        status = 1;
    return status;
}
