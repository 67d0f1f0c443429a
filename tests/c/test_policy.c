/* Unit tests of the request policy (csrc/policy.c). */
#include "unit.h"

#include <stdlib.h>

#include "policy.h"

/* A policy with a fixed buffer: the tests of batching and caps are not about
 * the demand (demand_grows_the_buffer_up_to_one_per_worker is). Free it with
 * policy_free. */
static struct policy make(long max_evals, long init, long buffer, long thr,
                          long workers, double window)
{
    struct policy_config c = {
        .max_evals = max_evals,
        .init_size = init,
        .num_buffer = buffer,
        .max_threshold = thr,
        .workers = workers,
        .window_s = window,
        .fixed_buffer = 1,
    };
    struct policy p;
    assert_int_equal(policy_init(&p, &c), 0);
    return p;
}

static void initial_is_init_size_capped_by_max_evals(void **state)
{
    (void)state;
    struct policy p = make(20, 4, 2, 1, 3, 16);
    assert_int_equal(policy_initial(&p), 4);
    policy_free(&p);
    p = make(3, 10, 2, 1, 3, 16);
    assert_int_equal(policy_initial(&p), 3);
    assert_int_equal(policy_next(&p, 0, 1), 0); /* nothing left to issue */
    policy_free(&p);
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
    policy_free(&p);
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
    policy_free(&p);
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
    policy_free(&p);
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
    policy_free(&p);
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
    policy_free(&p);
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
    policy_free(&p);
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
    policy_free(&p);
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
    policy_free(&p);
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
    policy_free(&p);
}

static void zero_window_disables_batching(void **state)
{
    (void)state;
    struct policy p = make(100, 4, 0, 50, 4, 0);
    policy_initial(&p);
    policy_result(&p, 0.0);
    policy_result(&p, 0.001);
    assert_int_equal(policy_next(&p, 0.001, 0), 2);
    policy_free(&p);
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
    policy_free(&p);
    p = make(20, 4, 2, 1, 3, 16);
    policy_resume(&p, 25, 4);
    assert_true(policy_done(&p));
    assert_int_equal(policy_next(&p, 0, 1), 0);
    /* Killed before any point was produced: a fresh start. */
    policy_free(&p);
    p = make(20, 4, 2, 1, 3, 16);
    policy_resume(&p, 0, 0);
    assert_int_equal(policy_initial(&p), 4);
    policy_free(&p);
}

static void demand_grows_the_buffer_up_to_one_per_worker(void **state)
{
    (void)state;
    struct policy p = make(100000, 10, 2, 1, 100, 0);
    p.cfg.fixed_buffer = 0;
    assert_int_equal(policy_buffer(&p), 2);
    assert_int_equal(policy_initial(&p), 10);
    assert_int_equal(policy_next(&p, 0, 1), 92);
    /* 40 results within two optimizer turns: the buffer grows to 40. */
    for (int i = 0; i < 40; i++)
        policy_result(&p, 1.0);
    assert_int_equal(policy_demand(&p, 1.0), 40);
    assert_int_equal(policy_buffer(&p), 40);
    /* A burst of 100: the request covers the workers and the burst to
     * come. */
    for (int i = 0; i < 60; i++)
        policy_result(&p, 1.0);
    assert_int_equal(policy_next(&p, 1.0, 1), 198); /* 2 still out */
    /* More results than workers: capped at one extra point per worker. */
    for (int i = 0; i < 5000; i++)
        policy_result(&p, 1.0);
    assert_int_equal(policy_demand(&p, 1.0), 100);
    assert_int_equal(policy_buffer(&p), 100);
    /* Two turns later the burst is forgotten: NUM_BUFFER is the floor. */
    assert_int_equal(policy_demand(&p, 1.0 + 2 * POLICY_MIN_TURN_S + 0.01), 0);
    assert_int_equal(policy_buffer(&p), 2);
    policy_free(&p);
    /* --fixed-buffer keeps NUM_BUFFER whatever the demand */
    struct policy f = make(100000, 10, 2, 1, 100, 0);
    for (int i = 0; i < 100; i++)
        policy_result(&f, 1.0);
    assert_int_equal(policy_demand(&f, 1.0), 100);
    assert_int_equal(policy_buffer(&f), 2);
    policy_free(&f);
}

static void
turn_time_follows_slow_turns_at_once_and_fast_ones_slowly(void **state)
{
    (void)state;
    struct policy p = make(1000, 4, 2, 1, 10, 0);
    p.cfg.fixed_buffer = 0;
    policy_result(&p, 10.0);
    /* With short turns a result 0.5 s ago is out of the window... */
    assert_int_equal(policy_demand(&p, 10.5), 0);
    policy_result(&p, 20.0);
    /* ...with a 1 s turn the window is 2 s. */
    policy_turn(&p, 1.0);
    assert_int_equal(policy_demand(&p, 21.5), 1);
    /* One fast turn shrinks the turn time by a tenth of the difference. */
    policy_turn(&p, 0.0);
    assert_true(p.turn_s > 0.89 && p.turn_s < 0.91);
    assert_int_equal(policy_demand(&p, 21.7), 1);
    assert_int_equal(policy_demand(&p, 21.9), 0);
    policy_free(&p);
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
        p.cfg.fixed_buffer = rand() % 2; /* with the demand or without */
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
        policy_free(&p);
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
        cmocka_unit_test(
            turn_time_follows_slow_turns_at_once_and_fast_ones_slowly),
        cmocka_unit_test(randomised_runs_always_finish),
    };
    return UNIT_RUN(tests);
}
