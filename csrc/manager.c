/*
 * manager: see manager.h.
 *
 * One loop turn: stop conditions, results in (journal, pool, policy, queue),
 * batches in (pool, points.log), dispatch, then the policy's request. Each
 * step is a function of its own; the loop itself only sequences them and
 * backs off when a turn did nothing.
 */
#include "manager.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pool.h"
#include "queue.h"
#include "signals.h"
#include "util.h"

struct manager {
    struct manager_config cfg;
    struct transport *tp;    /* borrowed */
    struct optimizer *opt;   /* borrowed */
    struct journal *journal; /* borrowed */
    struct pool *pool;
    struct policy policy;
    struct stopper *stopper;
    struct queue *queue;
    struct optimizer_thread *thread;
    struct optimizer_stats opt_stats; /* valid once the thread stopped */
    int opt_stopped;
    struct progress progress;
    double t0_mono;    /* cfg.t0_wall on the monotonic clock */
    double run_start;  /* this process's start (monotonic) */
    double loop_start; /* when the loop began (0: not yet) */
    long done_this_run;
    char storage[LAUNCH_REASON_LEN + 64]; /* why the storage failed, or "" */
    double durations[MANAGER_DURATIONS];  /* ring of this run's durations */
    long ndurations;
    int holding; /* the time-limit rule holds the buffered points back */
    char last_failed[RUNID_MAX]; /* job id of the latest failure, "" none */
    char last_reason[LAUNCH_REASON_LEN];
};

int manager_create(const struct manager_config *cfg, struct transport *tp,
                   struct optimizer *opt, struct journal *journal,
                   struct manager **out, char *err, size_t errlen)
{
    struct manager *m = calloc(1, sizeof *m);
    *out = NULL;
    if (m == NULL)
        goto nomem;
    m->cfg = *cfg;
    m->cfg.policy.workers = tp->workers;
    m->tp = tp;
    m->opt = opt;
    m->journal = journal;
    m->run_start = cfg->run_start > 0 ? cfg->run_start : util_now();
    /* both clocks read at the same moment */
    m->t0_mono = util_now() - (util_wall() - cfg->t0_wall);
    progress_init(&m->progress, cfg->progress_out, cfg->progress_mode,
                  cfg->progress_tty);
    m->pool = pool_create(tp->workers, cfg->restart);
    m->queue = queue_create();
    m->stopper = stopper_create(&cfg->stopper);
    if (m->pool == NULL || m->queue == NULL || m->stopper == NULL ||
        policy_init(&m->policy, &m->cfg.policy) != 0)
        goto nomem;
    *out = m;
    return 0;
nomem:
    snprintf(err, errlen, "out of memory for the manager of %d workers",
             tp->workers);
    manager_free(m);
    return -1;
}

void manager_free(struct manager *m)
{
    if (m == NULL)
        return;
    manager_stop_optimizer(m);
    queue_destroy(m->queue);
    pool_free(m->pool);
    stopper_free(m->stopper);
    policy_free(&m->policy);
    free(m);
}

void manager_stop_optimizer(struct manager *m)
{
    if (m->thread == NULL)
        return;
    optimizer_thread_stop(m->thread, &m->opt_stats);
    m->thread = NULL;
    m->opt_stopped = 1;
}

/* The experiment's storage failed (why): nothing more is dispatched and
 * the loop stops at its next turn. The first reason is kept. */
static void manager_storage_failed(struct manager *m, const char *why)
{
    if (m->storage[0] == '\0')
        snprintf(m->storage, sizeof m->storage, "%s", why);
}

/* Adds a batch from the optimizer: new job ids, then points.log (before any
 * of them can be dispatched). A full disk stops the search (see
 * manager_storage_failed). Returns 0 or -1 with err. */
static int manager_add_batch(struct manager *m, struct point_batch *b,
                             char *err, size_t errlen)
{
    long first = pool_add_batch(m->pool, b, err, errlen);
    if (first < 0)
        return -1;
    for (long i = first; m->journal && i < pool_size(m->pool); i++) {
        const struct point *p = pool_point(m->pool, i);
        int rc =
            journal_point(m->journal, p->job_id, p->params_json, err, errlen);
        if (rc == JOURNAL_STORAGE) {
            manager_storage_failed(m, err);
            return 0;
        }
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* What the optimizer hears of a finished point: its objective (NaN for a
 * failure); for one stopped early the stopper's estimate of its final value
 * (stopper.h says why), with its last step and value and its full
 * training's last step. Its curve is told to the stopper first. */
static struct point_result manager_told(struct manager *m,
                                        const struct point *p)
{
    struct point_result r = {p->params_json, p->objective, 0, NAN, 0};
    if (p->trial < 0)
        return r;
    stopper_finished(m->stopper, p->trial, p->status == LAUNCH_OK,
                     p->objective);
    if (p->status != LAUNCH_STOPPED)
        return r;
    r.value = stopper_estimate(m->stopper, p->trial);
    r.step = stopper_last(m->stopper, p->trial, &r.last);
    r.full_step = stopper_full_step(m->stopper, p->trial);
    return r;
}

/* A job id's stopper trial during a restart. */
struct manager_trial {
    const char *job_id; /* borrowed from the replay */
    long first;         /* index of its first curve value */
    long trial;
};

static int manager_trial_cmp(const void *a, const void *b)
{
    const struct manager_trial *x = a, *y = b;
    int c = strcmp(x->job_id, y->job_id);
    return c ? c : (x->first > y->first) - (x->first < y->first);
}

static long manager_trial_of(const struct manager_trial *t, long n,
                             const char *job_id)
{
    long lo = 0, hi = n;
    while (lo < hi) {
        long mid = (lo + hi) / 2;
        if (strcmp(t[mid].job_id, job_id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && strcmp(t[lo].job_id, job_id) == 0 ? t[lo].trial : -1;
}

/*
 * A restart rebuilds the stopper: every journalled intermediate value again,
 * in journal order (the rungs and the steps' values are as they were), then
 * the ends of the finished points (first: the pool index of the first
 * finished row). A point stopped early is told to the optimizer with the
 * stopper's estimate, as it was when it stopped (the engine's replay leaves
 * those out). Returns 0 or -1 (memory).
 */
static int manager_replay_curves(struct manager *m, const struct replay *r,
                                 long first)
{
    struct manager_trial *t = calloc((size_t)r->ncurves + 1, sizeof *t);
    long *trial = calloc((size_t)r->ncurves + 1, sizeof *trial);
    long n = 0;
    int rc = -1;
    if (t == NULL || trial == NULL)
        goto done;
    for (long i = 0; i < r->ncurves; i++)
        t[i] = (struct manager_trial){r->curves[i].job_id, i, -1};
    qsort(t, (size_t)r->ncurves, sizeof *t, manager_trial_cmp);
    for (long i = 0; i < r->ncurves; i++) { /* one trial per job id */
        if (n == 0 || strcmp(t[n - 1].job_id, t[i].job_id) != 0) {
            t[n] = t[i];
            t[n++].trial = stopper_trial(m->stopper);
        }
        trial[t[i].first] = t[n - 1].trial;
    }
    const char *why;
    for (long i = 0; i < r->ncurves; i++)
        stopper_report(m->stopper, trial[i], r->curves[i].step,
                       r->curves[i].value, &why);
    for (long i = first; i < first + r->nfinished; i++) {
        const struct point *p = pool_point(m->pool, i);
        long k = manager_trial_of(t, n, p->job_id);
        if (k < 0)
            continue;
        pool_set_trial(m->pool, i, k);
        struct point_result told = manager_told(m, p);
        if (p->status == LAUNCH_STOPPED &&
            queue_push_result(m->queue, &told) != 0)
            goto done;
    }
    rc = 0;
done:
    free(t);
    free(trial);
    return rc;
}

int manager_resume(struct manager *m, struct replay *r,
                   struct manager_resumed *out, char *err, size_t errlen)
{
    long cap = m->cfg.policy.max_evals - r->nfinished;
    long reissue = r->ninflight < cap ? r->ninflight : (cap > 0 ? cap : 0);
    long first = pool_size(m->pool);
    err[0] = '\0';
    if (pool_add_finished(m->pool, r->finished, r->nfinished, err, errlen) !=
            0 ||
        manager_replay_curves(m, r, first) != 0) {
        if (!err[0])
            snprintf(err, errlen, "out of memory replaying the curves");
        return -1;
    }
    if (reissue > 0) {
        struct point_batch *again = batch_new(reissue, 1);
        if (again == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (long i = 0; i < reissue; i++) {
            again->params_json[i] = r->inflight[i].params_json;
            again->csv_fields[i] = r->inflight[i].csv_fields;
            again->sim_values[i] = r->inflight[i].sim_value;
            r->inflight[i].params_json = r->inflight[i].csv_fields = NULL;
            log_info("reissuing %s (in flight when the experiment stopped)",
                     r->inflight[i].job_id);
        }
        int rc = manager_add_batch(m, again, err, errlen);
        batch_free(again);
        if (rc != 0)
            return -1;
    }
    policy_resume(&m->policy, r->nfinished, reissue);
    out->finished = r->nfinished;
    out->ok = pool_counts(m->pool).ok;
    out->reissued = reissue;
    return 0;
}

static void manager_progress(struct manager *m, double now, int force)
{
    struct progress_stats st;
    struct pool_counts c = pool_counts(m->pool);
    const struct point *best = pool_best(m->pool);
    memset(&st, 0, sizeof st);
    st.done = m->policy.finished;
    st.total = m->cfg.policy.max_evals;
    st.ok = c.ok;
    st.failed = c.failed;
    st.timeout = c.timeout;
    st.stopped = c.stopped;
    st.running = pool_running(m->pool);
    st.done_this_run = m->done_this_run;
    st.best = best ? best->objective : NAN;
    st.best_job = best ? best->job_id : "";
    st.elapsed = now - m->run_start;
    st.time_limit = m->cfg.time_limit;
    st.open_ended = m->cfg.open_ended;
    progress_update(&m->progress, &st, now, force);
}

/* Hands buffered points to idle workers. */
static int manager_double_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The time-limit rule: nonzero when an evaluation started now would not end
 * before the limit, judged by the median of the latest durations. Says so in
 * the log once. */
static int manager_too_late(struct manager *m, double now)
{
    long n =
        m->ndurations < MANAGER_DURATIONS ? m->ndurations : MANAGER_DURATIONS;
    if (!m->cfg.fit_time_limit || m->cfg.time_limit <= 0 ||
        n < MANAGER_DURATIONS_MIN)
        return 0;
    double d[MANAGER_DURATIONS];
    memcpy(d, m->durations, (size_t)n * sizeof *d);
    qsort(d, (size_t)n, sizeof *d, manager_double_cmp);
    double typical = d[n / 2];
    double left = m->cfg.time_limit - (now - m->run_start);
    if (typical <= left)
        return 0;
    if (!m->holding)
        log_info("starting no more evaluations: they take about %.1f s (the "
                 "median of the last %ld) and %.1f s are left of the time "
                 "limit",
                 typical, n, left);
    m->holding = 1;
    return 1;
}

static int manager_dispatch(struct manager *m, double now, char *err,
                            size_t errlen)
{
    long idx;
    int w;
    if (m->storage[0])
        return 0; /* points.log may lack the buffered points */
    if (pool_idle(m->pool) > 0 && pool_buffered(m->pool) > 0 &&
        manager_too_late(m, now))
        return 0;
    while (pool_dispatch(m->pool, now - m->t0_mono, now, &idx, &w)) {
        const struct point *p = pool_point(m->pool, idx);
        struct task_msg t;
        memset(&t, 0, sizeof t);
        t.seq = idx;
        memcpy(t.job_id, p->job_id, sizeof t.job_id);
        t.params_json = p->params_json;
        t.sim_objective = p->sim_value;
        if (m->tp->ops->send_task(m->tp, w, &t) != 0) {
            snprintf(err, errlen, "sending %s to worker %d: %s", p->job_id, w,
                     m->tp->err);
            return -1;
        }
        log_debug("%s -> worker %d", p->job_id, w);
    }
    return 0;
}

/* Says what a finished evaluation gave (progress, log). */
static void manager_report_result(struct manager *m, const struct point *p,
                                  int w, double duration, const char *reason)
{
    const char *status = launch_status_name(p->status);
    progress_evaluation(&m->progress, p->job_id, status, p->objective, w,
                        duration, reason);
    if (p->status == LAUNCH_OK) {
        log_info("%s ok %.6g (worker %d, %.1f s)", p->job_id, p->objective, w,
                 duration);
        return;
    }
    if (p->status == LAUNCH_STOPPED) { /* the stopper's doing: no failure */
        log_info("%s %s, last value %.6g (worker %d, %.1f s)", p->job_id,
                 reason, p->objective, w, duration);
        return;
    }
    snprintf(m->last_failed, sizeof m->last_failed, "%s", p->job_id);
    snprintf(m->last_reason, sizeof m->last_reason, "%s", reason);
    if (m->cfg.verbosity >= 0)
        progress_end_line(&m->progress);
    log_warn("evaluation %s %s: %s (see %s/run/%s/model.log)", p->job_id,
             status, reason, m->cfg.exp_dir, p->job_id);
}

/* One result: the pool, the journal, then the policy and the optimizer. */
static int manager_handle_result(struct manager *m, int w,
                                 const struct result_msg *r, double now,
                                 char *err, size_t errlen)
{
    double duration = r->t_end - r->t_start;
    enum launch_status st = (enum launch_status)r->status;
    long idx = pool_running_point(m->pool, w, r->seq);
    if (idx < 0) {
        log_warn("ignoring an unexpected result from rank %d (task %lld)", w,
                 (long long)r->seq);
        return 0;
    }
    const struct point *p = pool_point(m->pool, idx);
    if (st == LAUNCH_STORAGE) { /* not a result: no row (restart reruns it) */
        manager_storage_failed(m, r->reason);
        pool_unrecorded(m->pool, w, r->seq, now);
        return 0;
    }
    struct journal_row row = {
        .job_id = p->job_id,
        .csv_fields = p->csv_fields,
        .objective =
            st == LAUNCH_OK || st == LAUNCH_STOPPED ? r->objective : NAN,
        .status = launch_status_name(st),
        .worker = w,
        .t_submit = p->t_submit,
        .t_start = r->t_start - m->cfg.t0_wall,
        .t_gather = now - m->t0_mono,
        .duration = duration,
        .steps = (long)r->steps,
    };
    int rc = m->journal ? journal_append(m->journal, &row, err, errlen) : 0;
    if (rc == JOURNAL_STORAGE) {
        manager_storage_failed(m, err);
        pool_unrecorded(m->pool, w, r->seq, now);
        return 0;
    }
    if (rc != 0)
        return -1;
    pool_finish(m->pool, w, r->seq, st, r->objective, duration, now);
    policy_result(&m->policy, now);
    struct point_result told = manager_told(m, p);
    if (queue_push_result(m->queue, &told) != 0) {
        snprintf(err, errlen, "out of memory queueing a result");
        return -1;
    }
    m->done_this_run++;
    m->durations[m->ndurations++ % MANAGER_DURATIONS] = duration;
    manager_report_result(m, p, w, duration, r->reason);
    manager_progress(m, now, policy_done(&m->policy));
    return 0;
}

/* An intermediate value: journalled, then the stopper decides; a stop
 * halts the evaluation (it comes back as LAUNCH_STOPPED). */
static int manager_handle_report(struct manager *m, int w,
                                 const struct report_msg *r, double now,
                                 char *err, size_t errlen)
{
    long idx = pool_running_point(m->pool, w, r->seq);
    if (idx < 0)
        return 0; /* it ended already: the value came too late to matter */
    const struct point *p = pool_point(m->pool, idx);
    if (p->trial < 0)
        pool_set_trial(m->pool, idx, stopper_trial(m->stopper));
    int rc = m->journal
                 ? journal_intermediate(m->journal, p->job_id, (long)r->step,
                                        r->value, now - m->t0_mono, err, errlen)
                 : 0;
    if (rc == JOURNAL_STORAGE) {
        manager_storage_failed(m, err);
        return 0;
    }
    if (rc != 0)
        return -1;
    const char *why;
    if (r->last_step > 0)
        stopper_trial_end(m->stopper, p->trial, (long)r->last_step);
    if (stopper_report(m->stopper, p->trial, (long)r->step, r->value, &why) ==
            STOPPER_STOP &&
        !p->halted) {
        pool_set_halted(m->pool, idx);
        log_info("stopping %s early at step %lld: %s", p->job_id,
                 (long long)r->step, why);
        if (m->tp->ops->halt(m->tp, w, r->seq) != 0) {
            snprintf(err, errlen, "stopping %s on worker %d: %s", p->job_id, w,
                     m->tp->err);
            return -1;
        }
    }
    return 0;
}

/* Results and intermediate values in, then batches in. Returns 1 if
 * anything happened, 0 if not, -1 with err. */
static int manager_take_messages(struct manager *m, double now, char *err,
                                 size_t errlen)
{
    int busy = 0, rc, w;
    struct worker_msg msg;
    struct point_batch *b;
    while ((rc = m->tp->ops->poll(m->tp, &w, &msg)) == 1) {
        if (msg.kind == TRANSPORT_MSG_REPORT)
            rc = manager_handle_report(m, w, &msg.report, now, err, errlen);
        else
            rc = manager_handle_result(m, w, &msg.result, now, err, errlen);
        if (rc != 0)
            return -1;
        busy = 1;
    }
    if (rc < 0) {
        snprintf(err, errlen, "receiving results: %s", m->tp->err);
        return -1;
    }
    while ((b = queue_pop_batch(m->queue)) != NULL) {
        policy_turn(&m->policy, b->turn_s);
        rc = manager_add_batch(m, b, err, errlen);
        batch_free(b);
        if (rc != 0)
            return -1;
        busy = 1;
    }
    return busy;
}

/* Asks the optimizer for as many points as the policy wants now. */
static void manager_request(struct manager *m, double now)
{
    long ready = pool_buffered(m->pool) + queue_pending(m->queue);
    int starving = pool_idle(m->pool) > ready;
    long n = policy_next(&m->policy, now, starving);
    if (n > 0) {
        queue_request(m->queue, n);
        log_debug("requested %ld points", n);
    }
}

/* A reason to stop before the evaluations are done, or MANAGER_DONE. */
static enum manager_end manager_should_stop(const struct manager *m, double now)
{
    if (m->cfg.time_limit > 0 && now - m->run_start >= m->cfg.time_limit)
        return MANAGER_TIME_LIMIT;
    if (m->holding && pool_running(m->pool) == 0)
        return MANAGER_TIME_LIMIT; /* nothing runs and nothing may start */
    if (signals_pending())
        return MANAGER_SIGNAL;
    if (m->storage[0])
        return MANAGER_STORAGE;
    if (m->cfg.max_failures > 0 && manager_failures(m) >= m->cfg.max_failures)
        return MANAGER_MAX_FAILURES;
    struct pool_counts c = pool_counts(m->pool);
    if (m->cfg.fail_fast > 0 && c.ok + c.stopped == 0 &&
        manager_failures(m) >= m->cfg.fail_fast)
        return MANAGER_FAIL_FAST;
    return MANAGER_DONE;
}

enum manager_end manager_loop(struct manager *m, char *err, size_t errlen)
{
    double sleep_s = MANAGER_SLEEP_MIN_S;
    if (m->thread == NULL &&
        optimizer_thread_start(m->opt, m->queue, &m->thread, err, errlen) != 0)
        return MANAGER_ERROR;
    m->loop_start = util_now();
    pool_start_clock(m->pool, m->loop_start);
    queue_request(m->queue, policy_initial(&m->policy));
    while (!policy_done(&m->policy)) {
        double now = util_now();
        enum manager_end stop = manager_should_stop(m, now);
        if (stop != MANAGER_DONE)
            return stop;
        int busy = manager_take_messages(m, now, err, errlen);
        if (busy < 0 || manager_dispatch(m, now, err, errlen) != 0)
            return MANAGER_ERROR;
        if (queue_failed(m->queue, err, errlen))
            return MANAGER_ERROR;
        manager_request(m, now);
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
    return MANAGER_DONE;
}

long manager_running(const struct manager *m)
{
    return pool_running(m->pool);
}

long manager_failures(const struct manager *m)
{
    struct pool_counts c = pool_counts(m->pool);
    return c.failed + c.timeout;
}

const char *manager_storage_error(const struct manager *m)
{
    return m->storage[0] ? m->storage : NULL;
}

const char *manager_last_failure(const struct manager *m, const char **reason)
{
    *reason = m->last_reason;
    return m->last_failed[0] ? m->last_failed : NULL;
}

void manager_end_progress(struct manager *m)
{
    progress_end_line(&m->progress);
}

void manager_summary(const struct manager *m, double now, struct summary *s)
{
    struct pool_counts c = pool_counts(m->pool);
    const struct point *top[SUMMARY_TOP];
    memset(s, 0, sizeof *s);
    s->finished = m->policy.finished;
    s->ok = c.ok;
    s->failed = c.failed;
    s->timeout = c.timeout;
    s->stopped = c.stopped;
    s->workers = pool_workers(m->pool);
    s->run_s = now - m->run_start;
    s->loop_s = m->loop_start > 0 ? now - m->loop_start : 0;
    pool_worker_time(m->pool, now, &s->busy_s, &s->idle_s);
    s->done_this_run = m->done_this_run;
    s->sim_duration = m->cfg.sim_duration;
    if (m->opt_stopped) {
        s->opt_turns = m->opt_stats.turns;
        s->opt_points = m->opt_stats.points;
        s->opt_busy_s = m->opt_stats.busy_s;
    }
    long n = pool_top(m->pool, top, SUMMARY_TOP);
    for (long i = 0; i < n; i++) {
        s->top[i].job_id = top[i]->job_id;
        s->top[i].params_json = top[i]->params_json;
        s->top[i].objective = top[i]->objective;
    }
    s->ntop = n > 0 ? (int)n : 0;
    s->exp_dir = m->cfg.exp_dir;
    s->results_name = JOURNAL_RESULTS;
}
