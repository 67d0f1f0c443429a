/* Unit tests of the manager's pool of points and workers (csrc/pool.c). */
#include "unit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

/* A batch of n points {"x": first..first+n-1}. */
static struct point_batch *make_batch(long first, long n)
{
    struct point_batch *b = batch_new(n, 0);
    assert_non_null(b);
    for (long i = 0; i < n; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "{\"x\": %ld}", first + i);
        b->params_json[i] = strdup(buf);
        snprintf(buf, sizeof buf, "%ld", first + i);
        b->csv_fields[i] = strdup(buf);
    }
    return b;
}

static long add(struct pool *p, long first, long n)
{
    char err[128];
    struct point_batch *b = make_batch(first, n);
    long idx = pool_add_batch(p, b, err, sizeof err);
    batch_free(b);
    return idx;
}

static void batches_get_ids_and_dispatch_in_order(void **state)
{
    (void)state;
    struct pool *p = pool_create(2, 3);
    assert_int_equal(add(p, 0, 2), 0);
    assert_int_equal(add(p, 2, 3), 2);
    assert_string_equal(pool_point(p, 0)->job_id, "3_1_0");
    assert_string_equal(pool_point(p, 1)->job_id, "3_1_1");
    assert_string_equal(pool_point(p, 4)->job_id, "3_2_2");
    assert_int_equal(pool_buffered(p), 5);
    long idx;
    int w;
    assert_int_equal(pool_dispatch(p, 1.0, 10.0, &idx, &w), 1);
    assert_int_equal(idx, 0);
    assert_int_equal(w, 1);
    assert_int_equal(pool_dispatch(p, 1.0, 10.0, &idx, &w), 1);
    assert_int_equal(idx, 1);
    assert_int_equal(w, 2);
    /* no idle worker left */
    assert_int_equal(pool_dispatch(p, 1.0, 10.0, &idx, &w), 0);
    assert_int_equal(pool_running(p), 2);
    assert_int_equal(pool_point(p, 1)->state, POINT_RUNNING);
    assert_true(pool_point(p, 1)->t_submit == 1.0);
    pool_free(p);
}

static void idle_workers_rotate(void **state)
{
    (void)state;
    struct pool *p = pool_create(3, 1);
    long idx;
    int w;
    add(p, 0, 10);
    for (int i = 0; i < 3; i++)
        pool_dispatch(p, 0, 0, &idx, &w);
    /* worker 2 finishes first and goes to the back of the ring, after
     * nobody: it gets the next point; then 3, then 1 */
    assert_int_equal(pool_finish(p, 2, 1, LAUNCH_OK, 0.5, 1.0, 1.0), 1);
    assert_int_equal(pool_finish(p, 3, 2, LAUNCH_OK, 0.5, 1.0, 1.0), 2);
    assert_int_equal(pool_finish(p, 1, 0, LAUNCH_OK, 0.5, 1.0, 1.0), 0);
    assert_int_equal(pool_idle(p), 3);
    pool_dispatch(p, 0, 2.0, &idx, &w);
    assert_int_equal(w, 2);
    pool_dispatch(p, 0, 2.0, &idx, &w);
    assert_int_equal(w, 3);
    pool_dispatch(p, 0, 2.0, &idx, &w);
    assert_int_equal(w, 1);
    pool_free(p);
}

static void stray_results_change_nothing(void **state)
{
    (void)state;
    struct pool *p = pool_create(2, 1);
    long idx;
    int w;
    add(p, 0, 2);
    pool_dispatch(p, 0, 0, &idx, &w); /* point 0 on worker 1 */
    assert_int_equal(pool_finish(p, 2, 0, LAUNCH_OK, 1, 1, 1), -1);
    assert_int_equal(pool_finish(p, 1, 1, LAUNCH_OK, 1, 1, 1), -1);
    assert_int_equal(pool_finish(p, 0, 0, LAUNCH_OK, 1, 1, 1), -1);
    assert_int_equal(pool_finish(p, 3, 0, LAUNCH_OK, 1, 1, 1), -1);
    assert_int_equal(pool_running(p), 1);
    assert_int_equal(pool_finish(p, 1, 0, LAUNCH_OK, 1, 1, 1), 0);
    /* a repeated message is stray too */
    assert_int_equal(pool_finish(p, 1, 0, LAUNCH_OK, 1, 1, 1), -1);
    assert_int_equal(pool_counts(p).ok, 1);
    pool_free(p);
}

static void counts_best_and_top(void **state)
{
    (void)state;
    struct pool *p = pool_create(1, 1);
    long idx;
    int w;
    const double values[] = {0.5, 0.2, NAN, 0.2, 0.9};
    const enum launch_status st[] = {LAUNCH_OK, LAUNCH_OK, LAUNCH_FAILED,
                                     LAUNCH_OK, LAUNCH_TIMEOUT};
    add(p, 0, 5);
    for (long i = 0; i < 5; i++) {
        pool_dispatch(p, 0, 0, &idx, &w);
        pool_finish(p, w, idx, st[i], values[i], 1, 1);
    }
    struct pool_counts c = pool_counts(p);
    assert_int_equal(c.ok, 3);
    assert_int_equal(c.failed, 1);
    assert_int_equal(c.timeout, 1);
    /* a timeout's objective is never a result */
    assert_true(isnan(pool_point(p, 4)->objective));
    assert_string_equal(pool_best(p)->job_id, "1_1_1");
    const struct point *top[5];
    assert_int_equal(pool_top(p, top, 5), 3);
    assert_string_equal(top[0]->job_id, "1_1_1"); /* ties by job id */
    assert_string_equal(top[1]->job_id, "1_1_3");
    assert_string_equal(top[2]->job_id, "1_1_0");
    assert_int_equal(pool_top(p, top, 1), 1);
    pool_free(p);
}

static void replayed_rows_count_but_never_run(void **state)
{
    (void)state;
    struct pool *p = pool_create(2, 2);
    char err[128];
    struct replay_point rows[2];
    memset(rows, 0, sizeof rows);
    rows[0] = (struct replay_point){.job_id = strdup("1_1_0"),
                                    .params_json = strdup("{\"x\": 7}"),
                                    .csv_fields = strdup("7"),
                                    .status = strdup("ok"),
                                    .objective = 0.1};
    rows[1] = (struct replay_point){.job_id = strdup("1_1_1"),
                                    .params_json = strdup("{\"x\": 8}"),
                                    .csv_fields = strdup("8"),
                                    .status = strdup("timeout"),
                                    .objective = NAN};
    assert_int_equal(pool_add_finished(p, rows, 2, err, sizeof err), 0);
    for (int i = 0; i < 2; i++) {
        assert_null(rows[i].params_json); /* taken */
        free(rows[i].job_id);
        free(rows[i].status);
    }
    assert_int_equal(pool_buffered(p), 0);
    assert_int_equal(pool_counts(p).ok, 1);
    assert_int_equal(pool_counts(p).timeout, 1);
    assert_string_equal(pool_best(p)->job_id, "1_1_0");
    /* new points come after them, with restart 2's ids */
    assert_int_equal(add(p, 0, 1), 2);
    assert_string_equal(pool_point(p, 2)->job_id, "2_1_0");
    /* replayed rows must come first */
    assert_int_equal(pool_add_finished(p, rows, 0, err, sizeof err), -1);
    pool_free(p);
}

static void worker_time_is_busy_plus_running_and_idle_gaps(void **state)
{
    (void)state;
    struct pool *p = pool_create(2, 1);
    long idx;
    int w;
    double busy, idle;
    add(p, 0, 3);
    pool_start_clock(p, 100.0);
    pool_dispatch(p, 0, 101.0, &idx, &w); /* worker 1 waited 1 s */
    pool_dispatch(p, 0, 103.0, &idx, &w); /* worker 2 waited 3 s */
    pool_finish(p, 1, 0, LAUNCH_OK, 1, 4.0, 105.0);
    pool_dispatch(p, 0, 105.5, &idx, &w); /* worker 1 waited 0.5 s */
    pool_worker_time(p, 106.0, &busy, &idle);
    /* 4 s finished + 3 s of worker 2 (since 103) + 0.5 s of worker 1 */
    assert_true(fabs(busy - 7.5) < 1e-9);
    assert_true(fabs(idle - 4.5) < 1e-9);
    pool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batches_get_ids_and_dispatch_in_order),
        cmocka_unit_test(idle_workers_rotate),
        cmocka_unit_test(stray_results_change_nothing),
        cmocka_unit_test(counts_best_and_top),
        cmocka_unit_test(replayed_rows_count_but_never_run),
        cmocka_unit_test(worker_time_is_busy_plus_running_and_idle_gaps),
    };
    return UNIT_RUN(tests);
}
