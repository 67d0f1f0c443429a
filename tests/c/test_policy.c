/* Unit tests of the request policy (csrc/policy.c). */
#include "unit.h"

#include <stdlib.h>

#include "policy.h"

static struct policy make(long max_evals, long init, long buffer, long thr,
                          long workers, double window)
{
    struct policy_config c = {max_evals, init, buffer, thr, workers, window, 0};
    struct policy p;
    policy_init(&p, &c);
    return p;
}

static void initial_is_init_size_capped_by_max_evals(void **state)
{
    (void)state;
    struct policy p = make(20, 4, 2, 1, 3, 16);
    assert_int_equal(policy_initial(&p), 4);
    p = make(3, 10, 2, 1, 3, 16);
    assert_int_equal(policy_initial(&p), 3);
    assert_int_equal(policy_next(&p, 0, 1), 0); /* nothing left to issue */
}

static void small_init_fills_idle_workers_at_once(void **state)
{
    (void)state;
    /* INIT_SIZE 1 < 8 workers: the rest of the target is requested before
     * any result (the original would leave 7 workers idle). */
    struct policy p = make(100, 1, 2, 1, 8, 16);
    assert_int_equal(policy_initial(&p), 1);
    assert_int_equal(policy_next(&p, 0, 1), 9);
    assert_int_equal(policy_outstanding(&p), 10);
    assert_int_equal(policy_next(&p, 0, 0), 0);
}

static void large_init_waits_until_below_target(void **state)
{
    (void)state;
    /* INIT_SIZE 40 > workers + buffer: no deadlock, no extra requests until
     * outstanding drops below the target of 5. */
    struct policy p = make(100, 40, 2, 1, 3, 0);
    assert_int_equal(policy_initial(&p), 40);
    for (int i = 0; i < 35; i++) {
        policy_result(&p, i);
        assert_int_equal(policy_next(&p, i, 0), 0);
    }
    policy_result(&p, 36);
    assert_int_equal(policy_outstanding(&p), 4);
    assert_int_equal(policy_next(&p, 36, 0), 1);
}

static void steady_state_replaces_each_result(void **state)
{
    (void)state;
    struct policy p = make(100, 4, 2, 1, 3, 16);
    policy_initial(&p);
    policy_next(&p, 0, 0); /* fill to 5 */
    for (int i = 0; i < 10; i++) {
        policy_result(&p, 100.0 * i); /* far apart: no batching */
        assert_int_equal(policy_next(&p, 100.0 * i, 0), 1);
        assert_int_equal(policy_outstanding(&p), 5);
    }
}

static void never_more_than_max_evals_requested(void **state)
{
    (void)state;
    struct policy p = make(7, 4, 2, 1, 3, 16);
    long total = policy_initial(&p);
    for (int i = 0; i < 7; i++) {
        total += policy_next(&p, 100.0 * i, 1);
        policy_result(&p, 100.0 * i);
    }
    total += policy_next(&p, 1000, 1);
    assert_int_equal(total, 7);
    assert_int_equal(p.requested, 7);
    assert_true(policy_done(&p));
}

static void done_counts_failed_evaluations(void **state)
{
    (void)state;
    struct policy p = make(2, 2, 0, 1, 2, 16);
    policy_initial(&p);
    assert_false(policy_done(&p));
    policy_result(&p, 1); /* a failure is a finished evaluation too */
    policy_result(&p, 2);
    assert_true(policy_done(&p));
}

static void fast_results_are_batched_by_max_threshold(void **state)
{
    (void)state;
    struct policy p = make(100, 6, 0, 3, 6, 16);
    policy_initial(&p);
    policy_result(&p, 0.0); /* first result: not in a window */
    assert_int_equal(policy_next(&p, 0.0, 0), 1);
    policy_result(&p, 1.0);
    assert_int_equal(policy_next(&p, 1.0, 0), 0);
    policy_result(&p, 2.0);
    assert_int_equal(policy_next(&p, 2.0, 0), 0);
    policy_result(&p, 3.0);
    assert_int_equal(policy_next(&p, 3.0, 0), 3);
}

static void starving_worker_overrides_threshold(void **state)
{
    (void)state;
    struct policy p = make(100, 6, 0, 3, 6, 16);
    policy_initial(&p);
    policy_result(&p, 0.0);
    policy_next(&p, 0.0, 0);
    policy_result(&p, 1.0);
    assert_int_equal(policy_next(&p, 1.0, 0), 0);
    assert_int_equal(policy_next(&p, 1.0, 1), 1);
}

static void window_expiry_flushes_accumulated_results(void **state)
{
    (void)state;
    struct policy p = make(100, 6, 0, 3, 6, 16);
    policy_initial(&p);
    policy_result(&p, 0.0);
    policy_next(&p, 0.0, 0);
    policy_result(&p, 1.0);
    assert_int_equal(policy_next(&p, 16.9, 0), 0);
    assert_int_equal(policy_next(&p, 17.0, 0), 1);
}

static void threshold_capped_by_remaining_evaluations(void **state)
{
    (void)state;
    /* Threshold 120 (the 5K configuration's) with 10 evaluations and 4
     * workers: the threshold is capped by what can still arrive, so once
     * every outstanding point has come back the request is made, without a
     * starving worker or the window passing. */
    struct policy p = make(10, 4, 0, 120, 4, 16);
    policy_initial(&p);
    policy_result(&p, 0.0); /* first result: requested at once */
    assert_int_equal(policy_next(&p, 0.0, 0), 1);
    policy_result(&p, 1.0);
    assert_int_equal(policy_next(&p, 1.0, 0), 0);
    policy_result(&p, 2.0);
    assert_int_equal(policy_next(&p, 2.0, 0), 0);
    policy_result(&p, 3.0);
    assert_int_equal(policy_next(&p, 3.0, 0), 0);
    policy_result(&p, 3.5); /* nothing outstanding: all 4 accumulated */
    assert_int_equal(policy_outstanding(&p), 0);
    assert_int_equal(policy_next(&p, 3.5, 0), 4);
    /* Near the end the cap is the evaluations left to finish. */
    for (int i = 0; i < 4; i++)
        policy_result(&p, 4.0 + i);
    assert_int_equal(policy_next(&p, 7.0, 0), 1);
}

static void zero_window_disables_batching(void **state)
{
    (void)state;
    struct policy p = make(100, 4, 0, 50, 4, 0);
    policy_initial(&p);
    policy_result(&p, 0.0);
    policy_result(&p, 0.001);
    assert_int_equal(policy_next(&p, 0.001, 0), 2);
}

static void resume_counts_finished_and_reissued_evaluations(void **state)
{
    (void)state;
    /* 15 of 20 finished, 2 were in flight and are issued again: no initial
     * design, and only 3 more points may ever be requested. */
    struct policy p = make(20, 4, 2, 1, 3, 16);
    policy_resume(&p, 15, 2);
    assert_int_equal(policy_initial(&p), 0);
    assert_int_equal(policy_outstanding(&p), 2);
    assert_int_equal(policy_next(&p, 0, 1), 3);
    assert_int_equal(policy_next(&p, 0, 1), 0);
    /* More rows than MAX_EVALS (it was lowered): done at once. */
    p = make(20, 4, 2, 1, 3, 16);
    policy_resume(&p, 25, 4);
    assert_true(policy_done(&p));
    assert_int_equal(policy_next(&p, 0, 1), 0);
    /* Killed before any point was produced: a fresh start. */
    p = make(20, 4, 2, 1, 3, 16);
    policy_resume(&p, 0, 0);
    assert_int_equal(policy_initial(&p), 4);
}

static void demand_grows_the_buffer_up_to_one_per_worker(void **state)
{
    (void)state;
    struct policy p = make(100000, 10, 2, 1, 100, 0);
    assert_int_equal(policy_buffer(&p), 2);
    policy_set_demand(&p, 40);
    assert_int_equal(policy_buffer(&p), 40);
    policy_set_demand(&p, 5000);
    assert_int_equal(policy_buffer(&p), 100); /* capped at the workers */
    policy_set_demand(&p, 1);
    assert_int_equal(policy_buffer(&p), 2); /* NUM_BUFFER is the floor */
    /* A burst of 100 results within two optimizer turns: the request covers
     * the workers and the burst to come. */
    policy_initial(&p);
    assert_int_equal(policy_next(&p, 0, 1), 92);
    for (int i = 0; i < 100; i++)
        policy_result(&p, 1.0);
    policy_set_demand(&p, 100);
    assert_int_equal(policy_next(&p, 1.0, 1), 198); /* 2 still out */
    /* --fixed-buffer keeps NUM_BUFFER whatever the demand */
    struct policy f = make(100000, 10, 2, 1, 100, 0);
    f.cfg.fixed_buffer = 1;
    policy_set_demand(&f, 100);
    assert_int_equal(policy_buffer(&f), 2);
}

/* A randomised run: whatever the order of events, the policy never issues
 * more than MAX_EVALS, never leaves an idle worker without work when
 * evaluations remain, and always ends. */
static void randomised_runs_always_finish(void **state)
{
    (void)state;
    srand(7);
    for (int run = 0; run < 200; run++) {
        long workers = 1 + rand() % 16, max_evals = 1 + rand() % 200;
        struct policy p = make(max_evals, 1 + rand() % 50, rand() % 5,
                               1 + rand() % 20, workers, (rand() % 2) * 16.0);
        long queued = policy_initial(&p), running = 0;
        double t = 0;
        int steps = 0;
        while (!policy_done(&p)) {
            assert_true(++steps < 100000);
            long start =
                workers - running < queued ? workers - running : queued;
            running += start;
            queued -= start;
            int starving = running < workers && queued == 0;
            long n = policy_next(&p, t, starving);
            queued += n;
            if (running == 0) {
                /* Nothing running and nothing produced would be a hang. */
                assert_true(queued > 0);
                continue;
            }
            t += (rand() % 100) / 10.0;
            running--;
            policy_result(&p, t);
            assert_true(p.requested <= max_evals);
        }
        assert_int_equal(p.finished, max_evals);
        assert_int_equal(p.requested, max_evals);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(initial_is_init_size_capped_by_max_evals),
        cmocka_unit_test(small_init_fills_idle_workers_at_once),
        cmocka_unit_test(large_init_waits_until_below_target),
        cmocka_unit_test(steady_state_replaces_each_result),
        cmocka_unit_test(never_more_than_max_evals_requested),
        cmocka_unit_test(done_counts_failed_evaluations),
        cmocka_unit_test(fast_results_are_batched_by_max_threshold),
        cmocka_unit_test(starving_worker_overrides_threshold),
        cmocka_unit_test(window_expiry_flushes_accumulated_results),
        cmocka_unit_test(threshold_capped_by_remaining_evaluations),
        cmocka_unit_test(zero_window_disables_batching),
        cmocka_unit_test(resume_counts_finished_and_reissued_evaluations),
        cmocka_unit_test(demand_grows_the_buffer_up_to_one_per_worker),
        cmocka_unit_test(randomised_runs_always_finish),
    };
    return UNIT_RUN(tests);
}
