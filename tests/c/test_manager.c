/*
 * Unit tests of the manager's event loop (csrc/manager.c with pool, policy,
 * queue, journal and the optimizer thread), without MPI and without Python:
 * a C fake optimizer proposes points {"x": k} (k = 0, 1, 2, ...) and the
 * workers are either transport_sim's virtual workers or a scripted
 * transport whose results come back in dispatch order, deterministically.
 *
 * The scripted transport releases a result only while every worker is busy
 * (or once the optimizer has produced every point), so the loop is observed
 * in a state that does not depend on how fast the optimizer thread runs:
 * the assertions hold on a busy machine too.
 */
#include "unit.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"
#include "manager.h"
#include "signals.h"
#include "util.h"

#define ASKS_MAX 4096
#define SCRIPT_MAX 4096

/* ---- the fake optimizer ------------------------------------------------ */

struct fake {
    struct optimizer base; /* first: the manager sees &base */
    pthread_mutex_t lock;
    long produced;          /* points returned by ask */
    long asks;              /* ask calls */
    long sizes[ASKS_MAX];   /* n of each ask */
    long told;              /* results told */
    long told_nan;          /* of which failed (NaN) */
    long told_unjournalled; /* told before results.csv had their row */
    long told_x[ASKS_MAX];  /* each told point's x, and its value */
    double told_v[ASKS_MAX];
    long fail_at_ask;     /* this ask (1-based) fails; 0: never */
    const long *returned; /* results the workers returned (under lock) */
    long max_outstanding; /* produced - returned, at any ask */
    int with_sim;         /* fill sim_values (transport_sim) */
    double (*objective)(long k);
    char results_path[512]; /* "" : do not check the journal */
    struct replay canned;   /* what replay returns */
};

static long fake_param(const char *params_json)
{
    const char *p = strstr(params_json, "\"x\": ");
    return p ? strtol(p + 5, NULL, 10) : -1;
}

/* Nonzero if results.csv holds a row whose parameter field is k. */
static int fake_journalled(const char *path, long k)
{
    char line[1024], want[32];
    FILE *f = fopen(path, "r");
    int found = 0;
    if (f == NULL)
        return 0;
    snprintf(want, sizeof want, ",%ld,", k);
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, want) == strchr(line, ',');
    fclose(f);
    return found;
}

static enum optimizer_status fake_tell(struct optimizer *o,
                                       const struct point_result *r, long n,
                                       struct optimizer_error *e)
{
    struct fake *f = (struct fake *)o;
    (void)e;
    pthread_mutex_lock(&f->lock);
    for (long i = 0; i < n; i++) {
        if (f->told < ASKS_MAX) {
            f->told_x[f->told] = fake_param(r[i].params_json);
            f->told_v[f->told] = r[i].value;
        }
        f->told++;
        f->told_nan += isnan(r[i].value) != 0;
        if (f->results_path[0] &&
            !fake_journalled(f->results_path, fake_param(r[i].params_json)))
            f->told_unjournalled++;
    }
    pthread_mutex_unlock(&f->lock);
    return OPTIMIZER_OK;
}

static enum optimizer_status fake_ask(struct optimizer *o, long n,
                                      struct point_batch **out,
                                      struct optimizer_error *e)
{
    struct fake *f = (struct fake *)o;
    pthread_mutex_lock(&f->lock);
    long ask = ++f->asks;
    if (ask <= ASKS_MAX)
        f->sizes[ask - 1] = n;
    pthread_mutex_unlock(&f->lock);
    if (ask == f->fail_at_ask) {
        snprintf(e->message, sizeof e->message, "the fake optimizer failed");
        e->detail = strdup("Traceback: the fake's own");
        return OPTIMIZER_ERROR;
    }
    struct point_batch *b = batch_new(n, f->with_sim);
    assert_non_null(b);
    for (long i = 0; i < n; i++) {
        char buf[64];
        long k = f->produced + i;
        snprintf(buf, sizeof buf, "{\"x\": %ld}", k);
        b->params_json[i] = strdup(buf);
        snprintf(buf, sizeof buf, "%ld", k);
        b->csv_fields[i] = strdup(buf);
        if (f->with_sim)
            b->sim_values[i] = f->objective ? f->objective(k) : (double)k;
    }
    pthread_mutex_lock(&f->lock);
    f->produced += n;
    if (f->produced - *f->returned > f->max_outstanding)
        f->max_outstanding = f->produced - *f->returned;
    pthread_mutex_unlock(&f->lock);
    *out = b;
    return OPTIMIZER_OK;
}

static enum optimizer_status fake_replay(struct optimizer *o,
                                         const char *exp_dir,
                                         struct replay *out,
                                         struct optimizer_error *e)
{
    struct fake *f = (struct fake *)o;
    (void)exp_dir;
    (void)e;
    *out = f->canned;
    memset(&f->canned, 0, sizeof f->canned);
    return OPTIMIZER_OK;
}

static const struct optimizer_ops fake_ops = {fake_tell, fake_ask, fake_replay};

static long fake_get(struct fake *f, const long *field)
{
    pthread_mutex_lock(&f->lock);
    long v = *field;
    pthread_mutex_unlock(&f->lock);
    return v;
}

/* ---- the scripted transport ------------------------------------------- */

struct script {
    struct transport base;  /* first */
    long expect_sent;       /* after this many sends, results flow freely */
    long running[64];       /* per worker: seq or -1 */
    long order[SCRIPT_MAX]; /* workers in dispatch order (a FIFO) */
    long head, tail;
    long sent;
    long returned; /* written under *returned_lock (the fake reads it) */
    pthread_mutex_t *returned_lock;
    char sent_job[SCRIPT_MAX][RUNID_MAX];
    long sent_x[SCRIPT_MAX];
    char points_path[512];
    long unjournalled_sends; /* dispatched before points.log had it */
    long busy_sends;         /* sent to a worker that was running */
    long halts;              /* evaluations asked to stop early */
    enum launch_status (*status_of)(long k);
    /* Learning curves: each evaluation reports x + 1 / s at steps s = 1 ..
     * curve_steps before its result (0: no curve), x = curve_x(k). */
    long curve_steps;
    double (*curve_x)(long k);
    long reported[64]; /* per worker: steps reported of its evaluation */
    int halted[64];    /* per worker: asked to stop early */
    long x_of[64];     /* per worker: k of its evaluation */
    long reports;      /* reports returned */
};

static int script_in_points_log(const char *path, const char *job_id)
{
    char line[1024];
    size_t len = strlen(job_id);
    FILE *f = fopen(path, "r");
    int found = 0;
    if (f == NULL)
        return 0;
    while (!found && fgets(line, sizeof line, f))
        found = strncmp(line, job_id, len) == 0 && line[len] == '\t';
    fclose(f);
    return found;
}

static int script_announce(struct transport *t, const struct start_msg *m)
{
    (void)t;
    (void)m;
    return 0;
}

static int script_send(struct transport *t, int w, const struct task_msg *m)
{
    struct script *s = (struct script *)t;
    if (s->running[w] >= 0)
        s->busy_sends++;
    s->running[w] = m->seq;
    s->reported[w] = 0;
    s->halted[w] = 0;
    s->x_of[w] = fake_param(m->params_json);
    s->order[s->tail++ % SCRIPT_MAX] = w;
    if (s->sent < SCRIPT_MAX) {
        snprintf(s->sent_job[s->sent], RUNID_MAX, "%s", m->job_id);
        s->sent_x[s->sent] = fake_param(m->params_json);
    }
    s->sent++;
    if (s->points_path[0] && !script_in_points_log(s->points_path, m->job_id))
        s->unjournalled_sends++;
    return 0;
}

static int script_all_busy(const struct script *s)
{
    for (int w = 1; w <= s->base.workers; w++)
        if (s->running[w] < 0)
            return 0;
    return 1;
}

static int script_poll(struct transport *t, int *worker, struct worker_msg *m)
{
    struct script *s = (struct script *)t;
    struct result_msg *r = &m->result;
    m->kind = TRANSPORT_MSG_RESULT;
    if (s->head == s->tail)
        return 0;
    if (!script_all_busy(s) && s->sent < s->expect_sent)
        return 0;
    int head = (int)s->order[s->head % SCRIPT_MAX];
    if (s->curve_steps > 0 && !s->halted[head] &&
        s->reported[head] < s->curve_steps) {
        long step = ++s->reported[head];
        m->kind = TRANSPORT_MSG_REPORT;
        m->report.seq = s->running[head];
        m->report.step = step;
        m->report.value = s->curve_x(s->x_of[head]) + 1.0 / (double)step;
        s->reports++;
        *worker = head;
        return 1;
    }
    pthread_mutex_lock(s->returned_lock);
    s->returned++;
    pthread_mutex_unlock(s->returned_lock);
    int w = (int)s->order[s->head++ % SCRIPT_MAX];
    long k = s->sent_x[s->returned - 1 < SCRIPT_MAX ? s->returned - 1 : 0];
    memset(r, 0, sizeof *r);
    r->seq = s->running[w];
    r->status = s->status_of ? (int32_t)s->status_of(k) : LAUNCH_OK;
    r->objective = r->status == LAUNCH_OK ? (double)k : NAN;
    if (s->curve_steps > 0) {
        double x = s->curve_x(s->x_of[w]);
        r->steps = s->reported[w];
        r->objective = x + 1.0 / (double)s->reported[w];
        if (s->halted[w])
            r->status = LAUNCH_STOPPED;
    }
    r->t_start = util_wall();
    r->t_end = r->t_start + 1.0;
    snprintf(r->reason, sizeof r->reason, "%s",
             r->status == LAUNCH_OK ? "" : "scripted");
    s->running[w] = -1;
    *worker = w;
    return 1;
}

static int script_halt(struct transport *t, int worker, int64_t seq)
{
    struct script *s = (struct script *)t;
    assert_int_equal(s->running[worker], seq);
    s->halted[worker] = 1;
    s->halts++;
    return 0;
}

static int script_cancel(struct transport *t)
{
    (void)t;
    return 0;
}

static void script_destroy(struct transport *t)
{
    (void)t;
}

static const struct transport_ops script_ops = {
    .announce = script_announce,
    .send_task = script_send,
    .poll = script_poll,
    .halt = script_halt,
    .cancel_all = script_cancel,
    .finish = script_cancel,
    .destroy = script_destroy,
};

/* ---- a test's world ---------------------------------------------------- */

struct world {
    char dir[256];
    struct journal *journal;
    struct fake fake;
    struct script script;
    struct transport *sim; /* transport_sim, when used */
    struct manager *m;
    struct manager_config cfg;
    FILE *devnull;
    char err[512];
};

static void world_open(struct world *w, long max_evals, int workers)
{
    memset(w, 0, sizeof *w);
    snprintf(w->dir, sizeof w->dir, "/tmp/test_manager.XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    assert_int_equal(
        journal_open(w->dir, "p:x", &w->journal, w->err, sizeof w->err), 0);
    pthread_mutex_init(&w->fake.lock, NULL);
    w->fake.base.ops = &fake_ops;
    snprintf(w->fake.results_path, sizeof w->fake.results_path,
             "%s/results.csv", w->dir);
    w->script.base.ops = &script_ops;
    w->script.base.workers = workers;
    w->script.expect_sent = max_evals;
    w->script.returned_lock = &w->fake.lock;
    w->fake.returned = &w->script.returned;
    for (int i = 0; i < 64; i++)
        w->script.running[i] = -1;
    snprintf(w->script.points_path, sizeof w->script.points_path,
             "%s/points.log", w->dir);
    w->devnull = fopen("/dev/null", "w");
    w->cfg.policy.max_evals = max_evals;
    w->cfg.policy.init_size = 4;
    w->cfg.policy.num_buffer = 2;
    w->cfg.policy.max_threshold = 1;
    w->cfg.policy.window_s = 16;
    w->cfg.restart = 1;
    w->cfg.t0_wall = util_wall();
    w->cfg.exp_dir = w->dir;
    w->cfg.progress_out = w->devnull;
    w->cfg.progress_mode = PROGRESS_QUIET;
    w->cfg.verbosity = -1;
}

/* Creates the manager over the scripted workers (or transport_sim when
 * sim is nonzero: then the points carry their objectives). */
static void world_start(struct world *w, int sim, double duration)
{
    struct transport *t = &w->script.base;
    if (sim) {
        assert_int_equal(transport_sim_create(&w->sim, w->script.base.workers,
                                              duration, SIM_FIXED, 1, w->err,
                                              sizeof w->err),
                         0);
        w->fake.with_sim = 1;
        t = w->sim;
    }
    assert_int_equal(manager_create(&w->cfg, t, &w->fake.base, w->journal,
                                    &w->m, w->err, sizeof w->err),
                     0);
}

/* Rows of results.csv (without the header) and how many have a status. */
static long world_rows(const struct world *w, const char *status)
{
    char path[512], line[1024], want[32];
    long n = -1;
    snprintf(path, sizeof path, "%s/results.csv", w->dir);
    snprintf(want, sizeof want, ",%s,", status ? status : "");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f))
        if (status == NULL || strstr(line, want))
            n++;
    fclose(f);
    return status ? n + 1 : n;
}

static void world_close(struct world *w)
{
    char cmd[600];
    manager_free(w->m);
    if (w->sim)
        w->sim->ops->destroy(w->sim);
    journal_close(w->journal);
    replay_free(&w->fake.canned);
    pthread_mutex_destroy(&w->fake.lock);
    fclose(w->devnull);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", w->dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- dispatch and the journal ------------------------------------------ */

static void
every_point_runs_once_journalled_before_the_optimizer_hears(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, 25, 3);
    world_start(&w, 0, 0);
    assert_int_equal(manager_loop(w.m, w.err, sizeof w.err), MANAGER_DONE);
    manager_stop_optimizer(w.m);
    assert_int_equal(world_rows(&w, NULL), 25);
    assert_int_equal(w.script.sent, 25);
    assert_int_equal(w.script.busy_sends, 0);
    /* points.log before dispatch, results.csv before tell */
    assert_int_equal(w.script.unjournalled_sends, 0);
    assert_int_equal(w.fake.told_unjournalled, 0);
    assert_true(w.fake.told <= 25);
    /* every point produced was dispatched once, in order, with its id */
    for (long i = 0; i < 25; i++) {
        assert_int_equal(w.script.sent_x[i], i);
        for (long j = 0; j < i; j++)
            assert_string_not_equal(w.script.sent_job[i], w.script.sent_job[j]);
    }
    assert_string_equal(w.script.sent_job[0], "1_1_0");
    struct summary s;
    manager_summary(w.m, util_now(), &s);
    assert_int_equal(s.finished, 25);
    assert_int_equal(s.ok, 25);
    assert_int_equal(s.ntop, SUMMARY_TOP);
    assert_string_equal(s.top[0].params_json, "{\"x\": 0}");
    assert_true(s.opt_turns > 0);
    world_close(&w);
}

static void virtual_workers_finish_max_evals(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, 40, 5);
    world_start(&w, 1, 0.001);
    assert_int_equal(manager_loop(w.m, w.err, sizeof w.err), MANAGER_DONE);
    assert_int_equal(world_rows(&w, NULL), 40);
    assert_int_equal(world_rows(&w, "ok"), 40);
    assert_int_equal(manager_running(w.m), 0);
    manager_stop_optimizer(w.m);
    assert_int_equal(w.fake.told_unjournalled, 0);
    world_close(&w);
}

/* ---- buffering and batching -------------------------------------------- */

static void outstanding_points_stay_within_workers_plus_buffer(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, 60, 4);
    w.cfg.policy.num_buffer = 3;
    w.cfg.policy.fixed_buffer = 1;
    w.cfg.policy.init_size = 2;
    world_start(&w, 0, 0);
    assert_int_equal(manager_loop(w.m, w.err, sizeof w.err), MANAGER_DONE);
    manager_stop_optimizer(w.m);
    /* Every ask came after the results that allowed it: what was asked so
     * far minus what came back never exceeds workers + NUM_BUFFER, and
     * reaches it (the buffer is used). */
    assert_int_equal(w.fake.max_outstanding, 4 + 3);
    long asked = 0;
    for (long i = 0; i < w.fake.asks; i++) {
        asked += w.fake.sizes[i];
        assert_true(asked <= 60);
    }
    assert_int_equal(asked, 60);
    /* INIT_SIZE 2 < 4 workers: the first requests fill workers + buffer
     * before any result, so the first 7 points go out together. */
    assert_true(w.fake.sizes[0] == 2 || w.fake.sizes[0] == 7);
    world_close(&w);
}

static void fast_results_are_batched_by_max_threshold(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, 62, 4);
    w.cfg.policy.max_threshold = 3;
    w.cfg.policy.num_buffer = 3; /* >= MAX_THRESHOLD: nobody starves */
    w.cfg.policy.fixed_buffer = 1;
    w.cfg.policy.window_s = 3600; /* every result is "fast" */
    world_start(&w, 0, 0);
    assert_int_equal(manager_loop(w.m, w.err, sizeof w.err), MANAGER_DONE);
    manager_stop_optimizer(w.m);
    /* The first 7 points (workers + buffer) go out at the start, the first
     * result is replaced at once (it opens the window), and from then on
     * every request waits for 3 results: every ask ends on 8 + 3j points
     * (requests may merge while the optimizer is busy, which keeps that
     * true), 62 = 8 + 3 x 18. Without batching asks would end anywhere. */
    long asked = 0, batched = 0;
    for (long i = 0; i < w.fake.asks; i++) {
        asked += w.fake.sizes[i];
        if (asked > 8) {
            assert_int_equal((asked - 8) % 3, 0);
            batched++;
        }
    }
    assert_int_equal(asked, 62);
    assert_true(batched >= 1);
    assert_true(w.fake.asks <= 3 + 18);
    world_close(&w);
}

static void without_a_threshold_each_result_is_replaced(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, 30, 3);
    w.cfg.policy.fixed_buffer = 1;
    world_start(&w, 0, 0);
    assert_int_equal(manager_loop(w.m, w.err, sizeof w.err), MANAGER_DONE);
    manager_stop_optimizer(w.m);
    /* MAX_THRESHOLD 1: many more, smaller asks than with batching. */
    assert_true(w.fake.asks > 5);
    world_close(&w);
}

/* ---- stop conditions and failures ------------------------------------- */

static enum launch_status status_every_third_fails(long k)
{
    return k % 3 == 1 ? LAUNCH_FAILED : k % 3 == 2 ? LAUNCH_TIMEOUT : LAUNCH_OK;
}

static void failures_and_timeouts_are_counted_and_told_as_nan(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, 30, 3);
    w.script.status_of = status_every_third_fails;
    world_start(&w, 0, 0);
    assert_int_equal(manager_loop(w.m, w.err, sizeof w.err), MANAGER_DONE);
    manager_stop_optimizer(w.m);
    assert_int_equal(world_rows(&w, "ok"), 10);
    assert_int_equal(world_rows(&w, "failed"), 10);
    assert_int_equal(world_rows(&w, "timeout"), 10);
    assert_int_equal(manager_failures(w.m), 20);
    struct summary s;
    manager_summary(w.m, util_now(), &s);
    assert_int_equal(s.ok, 10);
    assert_int_equal(s.failed, 10);
    assert_int_equal(s.timeout, 10);
    assert_true(s.top[0].objective == 0.0);
    /* failed rows reach the optimizer as NaN, never as a number */
    assert_true(w.fake.told_nan <= 20);
    assert_true(w.fake.told - w.fake.told_nan <= 10);
    world_close(&w);
}

static double objective_nan(long k)
{
    (void)k;
    return NAN;
}

static void max_failures_stops_the_loop(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, 100, 2);
    w.cfg.max_failures = 5;
    w.fake.objective = objective_nan;
    world_start(&w, 1, 0.001);
    assert_int_equal(manager_loop(w.m, w.err, sizeof w.err),
                     MANAGER_MAX_FAILURES);
    assert_true(manager_failures(w.m) >= 5);
    assert_true(world_rows(&w, NULL) < 100);
    assert_int_equal(world_rows(&w, "failed"), world_rows(&w, NULL));
    world_close(&w);
}

static enum launch_status status_all_fail(long k)
{
    (void)k;
    return LAUNCH_FAILED;
}

static enum launch_status status_first_ok(long k)
{
    return k == 0 ? LAUNCH_OK : LAUNCH_FAILED;
}

static void fail_fast_stops_when_the_first_evaluations_all_fail(void **state)
{
    (void)state;
    struct world w;
    const char *reason;
    world_open(&w, 50, 2);
    w.cfg.fail_fast = 4;
    w.script.status_of = status_all_fail;
    world_start(&w, 0, 0);
    assert_int_equal(manager_loop(w.m, w.err, sizeof w.err), MANAGER_FAIL_FAST);
    assert_int_equal(world_rows(&w, NULL), 4);
    assert_non_null(manager_last_failure(w.m, &reason));
    assert_string_equal(reason, "scripted");
    world_close(&w);
    /* one success among the first results: the model works, go on */
    world_open(&w, 20, 2);
    w.cfg.fail_fast = 4;
    w.script.status_of = status_first_ok;
    world_start(&w, 0, 0);
    assert_int_equal(manager_loop(w.m, w.err, sizeof w.err), MANAGER_DONE);
    assert_int_equal(world_rows(&w, "failed"), 19);
    world_close(&w);
}

static enum launch_status status_fourth_hits_a_full_disk(long k)
{
    return k == 3 ? LAUNCH_STORAGE : LAUNCH_OK;
}

static void a_full_disk_stops_the_loop_without_a_row(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, 30, 2);
    w.script.status_of = status_fourth_hits_a_full_disk;
    world_start(&w, 0, 0);
    assert_int_equal(manager_loop(w.m, w.err, sizeof w.err), MANAGER_STORAGE);
    assert_string_equal(manager_storage_error(w.m), "scripted");
    /* 3 rows; the fourth evaluation is no result: no row, no count */
    assert_int_equal(world_rows(&w, NULL), 3);
    assert_int_equal(manager_failures(w.m), 0);
    long sent = w.script.sent;
    world_close(&w);
    assert_true(sent <= 3 + 2 + 1);
}

static void a_full_journal_stops_before_any_dispatch(void **state)
{
    (void)state;
    struct world w;
    char path[512];
    world_open(&w, 30, 2);
    /* points.log on a full device: the first batch cannot be recorded */
    journal_close(w.journal);
    snprintf(path, sizeof path, "%s/points.log", w.dir);
    unlink(path);
    assert_int_equal(symlink("/dev/full", path), 0);
    assert_int_equal(
        journal_open(w.dir, "p:x", &w.journal, w.err, sizeof w.err), 0);
    world_start(&w, 0, 0);
    assert_int_equal(manager_loop(w.m, w.err, sizeof w.err), MANAGER_STORAGE);
    assert_non_null(strstr(manager_storage_error(w.m), "points.log"));
    assert_non_null(strstr(manager_storage_error(w.m), "No space left"));
    assert_int_equal(w.script.sent, 0); /* nothing unrecorded went out */
    world_close(&w);
}

static void time_limit_stops_the_loop_with_evaluations_running(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, 100, 3);
    w.cfg.time_limit = 0.2;
    world_start(&w, 1, 1000.0); /* nobody finishes */
    assert_int_equal(manager_loop(w.m, w.err, sizeof w.err),
                     MANAGER_TIME_LIMIT);
    assert_int_equal(world_rows(&w, NULL), 0);
    world_close(&w);
}

static void a_failing_optimizer_ends_the_loop_with_its_message(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, 50, 2);
    w.fake.fail_at_ask = 2;
    world_start(&w, 0, 0);
    assert_int_equal(manager_loop(w.m, w.err, sizeof w.err), MANAGER_ERROR);
    assert_non_null(strstr(w.err, "the fake optimizer failed"));
    world_close(&w);
}

static void a_signal_stops_the_loop(void **state)
{
    (void)state;
    /* signals_pending() is sticky for the process: try it in a child. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct world w;
        world_open(&w, 100, 2);
        world_start(&w, 1, 1000.0);
        signals_install();
        raise(SIGTERM);
        enum manager_end end = manager_loop(w.m, w.err, sizeof w.err);
        world_close(&w);
        _exit(end == MANAGER_SIGNAL && signals_pending() == SIGTERM ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- early stopping ---------------------------------------------------- */

static double curve_scrambled(long k)
{
    return (double)((k * 7) % 10);
}

/* The rows of results.csv: x, objective, status and steps of each. */
struct row {
    long x;
    double objective;
    char status[16];
    long steps;
};

static long world_read_rows(const struct world *w, struct row *rows, long max)
{
    char path[512], line[1024];
    long n = 0;
    snprintf(path, sizeof path, "%s/results.csv", w->dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f)); /* the header */
    while (n < max && fgets(line, sizeof line, f)) {
        char *field[16] = {0};
        int nf = 0;
        for (char *p = strtok(line, ",\n"); p && nf < 16;
             p = strtok(NULL, ",\n"))
            field[nf++] = p;
        assert_true(nf >= 9);
        rows[n].x = strtol(field[1], NULL, 10);
        rows[n].objective = strtod(field[2], NULL);
        snprintf(rows[n].status, sizeof rows[n].status, "%s",
                 field[3] ? field[3] : "");
        rows[n].steps = nf >= 10 ? strtol(field[9], NULL, 10) : 0;
        n++;
    }
    fclose(f);
    return n;
}

static long world_curve_lines(const struct world *w)
{
    char path[512], line[256];
    long n = -1; /* the header */
    snprintf(path, sizeof path, "%s/intermediate.csv", w->dir);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f))
        n++;
    fclose(f);
    return n;
}

static void asha_stops_curves_and_the_optimizer_hears_estimates(void **state)
{
    (void)state;
    struct world w;
    struct row rows[64];
    world_open(&w, 30, 3);
    w.cfg.stopper = (struct stopper_config){"asha", 1, 3, 1, 0};
    w.script.curve_steps = 9;
    w.script.curve_x = curve_scrambled;
    world_start(&w, 0, 0);
    assert_int_equal(manager_loop(w.m, w.err, sizeof w.err), MANAGER_DONE);
    manager_stop_optimizer(w.m);
    long n = world_read_rows(&w, rows, 64), stopped = 0, lower = 0;
    assert_int_equal(n, 30);
    /* every value reported is journalled, before the stopper acted on it */
    assert_int_equal(world_curve_lines(&w), w.script.reports);
    for (long i = 0; i < n; i++) {
        double x = curve_scrambled(rows[i].x);
        if (strcmp(rows[i].status, "stopped") == 0) {
            stopped++;
            /* stopped at a rung (1, 3, 9) with its last value as objective */
            assert_true(rows[i].steps == 1 || rows[i].steps == 3 ||
                        rows[i].steps == 9);
            assert_true(rows[i].objective == x + 1.0 / rows[i].steps);
        } else {
            assert_string_equal(rows[i].status, "ok");
            assert_int_equal(rows[i].steps, 9);
        }
    }
    assert_true(stopped > 0 && stopped < 30);
    assert_int_equal(stopped, w.script.halts);
    struct summary s;
    manager_summary(w.m, util_now(), &s);
    assert_int_equal(s.stopped, stopped);
    /* a stopped point is told an estimate of its final value: never above
     * its last value, and below it once enough points finished */
    for (long i = 0; i < w.fake.told && i < ASKS_MAX; i++) {
        for (long j = 0; j < n; j++)
            if (rows[j].x == w.fake.told_x[i] &&
                strcmp(rows[j].status, "stopped") == 0) {
                assert_true(w.fake.told_v[i] <= rows[j].objective);
                lower += w.fake.told_v[i] < rows[j].objective;
            }
    }
    assert_true(lower > 0);
    world_close(&w);
}

static void without_a_stopper_every_curve_runs_to_its_end(void **state)
{
    (void)state;
    struct world w;
    world_open(&w, 12, 3);
    w.script.curve_steps = 5;
    w.script.curve_x = curve_scrambled;
    world_start(&w, 0, 0);
    assert_int_equal(manager_loop(w.m, w.err, sizeof w.err), MANAGER_DONE);
    assert_int_equal(world_rows(&w, "ok"), 12);
    assert_int_equal(w.script.halts, 0);
    assert_int_equal(world_curve_lines(&w), 12 * 5);
    world_close(&w);
}

/* ---- restart ---------------------------------------------------------- */

static void replay_point(struct replay_point *p, const char *job, long x,
                         const char *status)
{
    char buf[64];
    p->job_id = strdup(job);
    snprintf(buf, sizeof buf, "{\"x\": %ld}", x);
    p->params_json = strdup(buf);
    snprintf(buf, sizeof buf, "%ld", x);
    p->csv_fields = strdup(buf);
    p->status = status ? strdup(status) : NULL;
    p->objective = status && strcmp(status, "ok") == 0 ? (double)x : NAN;
    p->sim_value = NAN;
}

/* 3 finished rows (x = 1000, 1001 ok; 1002 failed) and 2 in flight
 * (x = 2000, 2001) from a run with R = 1. */
static struct replay canned_replay(void)
{
    struct replay r;
    memset(&r, 0, sizeof r);
    r.finished = calloc(3, sizeof *r.finished);
    r.inflight = calloc(2, sizeof *r.inflight);
    replay_point(&r.finished[0], "1_1_0", 1000, "ok");
    replay_point(&r.finished[1], "1_1_1", 1001, "ok");
    replay_point(&r.finished[2], "1_2_0", 1002, "failed");
    replay_point(&r.inflight[0], "1_2_1", 2000, NULL);
    replay_point(&r.inflight[1], "1_3_0", 2001, NULL);
    r.nfinished = 3;
    r.ninflight = 2;
    r.last_restart = 1;
    return r;
}

static void
restart_reissues_in_flight_points_first_and_counts_old_rows(void **state)
{
    (void)state;
    struct world w;
    struct replay r;
    struct manager_resumed got;
    world_open(&w, 10, 2);
    w.script.expect_sent = 7;
    w.cfg.restart = 2;
    world_start(&w, 0, 0);
    w.fake.canned = canned_replay();
    assert_int_equal(w.fake.base.ops->replay(&w.fake.base, w.dir, &r, NULL),
                     OPTIMIZER_OK);
    assert_int_equal(manager_resume(w.m, &r, &got, w.err, sizeof w.err), 0);
    replay_free(&r);
    assert_int_equal(got.finished, 3);
    assert_int_equal(got.ok, 2);
    assert_int_equal(got.reissued, 2);
    assert_int_equal(manager_loop(w.m, w.err, sizeof w.err), MANAGER_DONE);
    manager_stop_optimizer(w.m);
    /* the in-flight points go out first, under new ids of restart 2 */
    assert_string_equal(w.script.sent_job[0], "2_1_0");
    assert_int_equal(w.script.sent_x[0], 2000);
    assert_string_equal(w.script.sent_job[1], "2_1_1");
    assert_int_equal(w.script.sent_x[1], 2001);
    /* 10 in all: 3 earlier rows, 7 new ones (no initial design) */
    assert_int_equal(w.script.sent, 7);
    assert_int_equal(world_rows(&w, NULL), 7);
    assert_int_equal(w.fake.produced, 5);
    assert_string_equal(w.script.sent_job[2], "2_2_0");
    struct summary s;
    manager_summary(w.m, util_now(), &s);
    assert_int_equal(s.finished, 10);
    assert_int_equal(s.ok, 9);
    assert_int_equal(s.failed, 1);
    assert_int_equal(w.fake.told_unjournalled, 0);
    world_close(&w);
}

static void restart_reissues_no_more_than_max_evals_allows(void **state)
{
    (void)state;
    struct world w;
    struct replay r;
    struct manager_resumed got;
    world_open(&w, 4, 2);
    w.script.expect_sent = 1;
    w.cfg.restart = 2;
    world_start(&w, 0, 0);
    w.fake.canned = canned_replay();
    w.fake.base.ops->replay(&w.fake.base, w.dir, &r, NULL);
    assert_int_equal(manager_resume(w.m, &r, &got, w.err, sizeof w.err), 0);
    replay_free(&r);
    assert_int_equal(got.reissued, 1);
    assert_int_equal(manager_loop(w.m, w.err, sizeof w.err), MANAGER_DONE);
    assert_int_equal(w.script.sent, 1);
    assert_int_equal(w.script.sent_x[0], 2000);
    assert_int_equal(fake_get(&w.fake, &w.fake.produced), 0);
    world_close(&w);
}

static void restart_rebuilds_the_stopper_from_the_curves(void **state)
{
    (void)state;
    struct world w;
    struct replay r;
    struct manager_resumed got;
    static const double curve[4][3] = {
        {0.5, 0.4, 0.35}, {0.6, 0.5, 0.45}, {0.7, 0.6, 0.55}, {0.9, NAN, NAN}};
    world_open(&w, 8, 2);
    w.script.expect_sent = 4;
    w.script.curve_steps = 3;
    w.script.curve_x = curve_scrambled;
    w.cfg.restart = 2;
    w.cfg.stopper = (struct stopper_config){"asha", 1, 3, 1, 0};
    world_start(&w, 0, 0);
    memset(&r, 0, sizeof r);
    r.finished = calloc(4, sizeof *r.finished);
    r.curves = calloc(10, sizeof *r.curves);
    for (int i = 0; i < 4; i++) {
        char job[16];
        snprintf(job, sizeof job, "1_1_%d", i);
        replay_point(&r.finished[i], job, 1000 + i, i < 3 ? "ok" : "stopped");
        r.finished[i].objective = i < 3 ? curve[i][2] : curve[i][0];
        for (int s = 0; s < 3 && !isnan(curve[i][s]); s++)
            r.curves[r.ncurves++] =
                (struct replay_curve){strdup(job), s + 1, curve[i][s]};
    }
    r.nfinished = 4;
    r.last_restart = 1;
    assert_int_equal(manager_resume(w.m, &r, &got, w.err, sizeof w.err), 0);
    replay_free(&r);
    assert_int_equal(manager_loop(w.m, w.err, sizeof w.err), MANAGER_DONE);
    manager_stop_optimizer(w.m);
    /* rung 1 holds 0.5 .. 0.9 from before: the new points (values from 1.0
     * on) are out at once; a stopper that forgot would let the first pass */
    assert_int_equal(w.script.halts, 4);
    assert_int_equal(world_rows(&w, "stopped"), 4);
    /* the stopped row of before is told its estimate, as when it stopped */
    int told = 0;
    for (long i = 0; i < w.fake.told && i < ASKS_MAX; i++)
        if (w.fake.told_x[i] == 1003) {
            told = 1;
            assert_true(w.fake.told_v[i] <= 0.9);
        }
    assert_true(told);
    world_close(&w);
}

int main(void)
{
    log_init(-1, LOG_LEVEL_ERROR); /* the scripted failures warn */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            every_point_runs_once_journalled_before_the_optimizer_hears),
        cmocka_unit_test(virtual_workers_finish_max_evals),
        cmocka_unit_test(outstanding_points_stay_within_workers_plus_buffer),
        cmocka_unit_test(fast_results_are_batched_by_max_threshold),
        cmocka_unit_test(without_a_threshold_each_result_is_replaced),
        cmocka_unit_test(failures_and_timeouts_are_counted_and_told_as_nan),
        cmocka_unit_test(max_failures_stops_the_loop),
        cmocka_unit_test(fail_fast_stops_when_the_first_evaluations_all_fail),
        cmocka_unit_test(a_full_disk_stops_the_loop_without_a_row),
        cmocka_unit_test(a_full_journal_stops_before_any_dispatch),
        cmocka_unit_test(time_limit_stops_the_loop_with_evaluations_running),
        cmocka_unit_test(a_failing_optimizer_ends_the_loop_with_its_message),
        cmocka_unit_test(a_signal_stops_the_loop),
        cmocka_unit_test(
            restart_reissues_in_flight_points_first_and_counts_old_rows),
        cmocka_unit_test(restart_reissues_no_more_than_max_evals_allows),
        cmocka_unit_test(restart_rebuilds_the_stopper_from_the_curves),
        cmocka_unit_test(asha_stops_curves_and_the_optimizer_hears_estimates),
        cmocka_unit_test(without_a_stopper_every_curve_runs_to_its_end),
    };
    return UNIT_RUN(tests);
}
