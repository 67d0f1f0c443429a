/* Unit tests of the end-of-run summary (csrc/summary.c): it prints from a
 * snapshot of plain values, so every line is checked here. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"

/* Prints s into a string (owned by the caller). */
static char *printed(const struct summary *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    summary_print(s, f);
    fclose(f);
    return buf;
}

static struct summary sample(void)
{
    struct summary s;
    memset(&s, 0, sizeof s);
    s.finished = 12;
    s.ok = 10;
    s.failed = 1;
    s.timeout = 1;
    s.workers = 4;
    s.run_s = 30.0;
    s.loop_s = 25.0;
    s.busy_s = 80.0;
    s.idle_s = 5.0;
    s.done_this_run = 12;
    s.exp_dir = "/x/EXP000";
    s.results_name = "results.csv";
    s.top[0] = (struct summary_entry){"1_3_0", "{\"a\": 1}", 0.25};
    s.top[1] = (struct summary_entry){"1_1_2", "{\"a\": 2}", 0.5};
    s.ntop = 2;
    return s;
}

static void counts_utilisation_best_and_top(void **state)
{
    (void)state;
    struct summary s = sample();
    s.opt_turns = 4;
    s.opt_points = 12;
    s.opt_busy_s = 2.5;
    char *out = printed(&s);
    assert_non_null(strstr(out, "async-search: 12 evaluations (10 ok, 1 "
                                "failed, 1 timeout); this run took 30.0 s "
                                "with 4 workers\n"));
    /* 80 busy worker-seconds of 4 workers x 25 s */
    assert_non_null(strstr(out, "utilisation 80.0%: 80 busy worker-seconds "
                                "of 4 workers x 25.0 s; idle between tasks "
                                "5.0% of worker time\n"));
    assert_non_null(strstr(out, "optimizer: 4 turns, 12 points, busy 10.0% "
                                "of the run (0.625 s per turn, 3.0 points "
                                "per turn)\n"));
    assert_non_null(strstr(out, "best objective 0.25 at 1_3_0: {\"a\": 1}\n"));
    assert_non_null(strstr(out, "top 2:\n  1. 0.25"));
    assert_non_null(strstr(out, "  2. 0.5 "));
    assert_non_null(strstr(out, "results: /x/EXP000/results.csv\n"));
    assert_null(strstr(out, "evaluations this run")); /* not a simulation */
    free(out);
}

static void one_worker_and_one_evaluation_are_singular(void **state)
{
    (void)state;
    struct summary s = sample();
    s.workers = 1;
    s.finished = 1;
    char *out = printed(&s);
    assert_non_null(strstr(out, "async-search: 1 evaluation ("));
    assert_non_null(strstr(out, "with 1 worker\n"));
    assert_non_null(strstr(out, "of 1 worker x "));
    assert_null(strstr(out, "1 workers"));
    free(out);
}

static void no_success_points_to_the_model_logs(void **state)
{
    (void)state;
    struct summary s = sample();
    s.ntop = 0;
    s.loop_s = 0; /* the loop never ran: no utilisation line */
    char *out = printed(&s);
    assert_non_null(strstr(out, "no evaluation succeeded: see the model.log "
                                "files under /x/EXP000/run/\n"));
    assert_null(strstr(out, "utilisation"));
    assert_null(strstr(out, "optimizer:")); /* its thread was not stopped */
    free(out);
}

static void simulations_compare_with_the_ideal(void **state)
{
    (void)state;
    struct summary s = sample();
    s.sim_duration = 1.0;
    s.done_this_run = 50;
    char *out = printed(&s);
    /* ideal: 4 workers x 25 s / 1 s = 100 */
    assert_non_null(strstr(out, "evaluations this run: 50 of an ideal 100 "
                                "(workers x wall / mean duration): 50.0%\n"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counts_utilisation_best_and_top),
        cmocka_unit_test(one_worker_and_one_evaluation_are_singular),
        cmocka_unit_test(no_success_points_to_the_model_logs),
        cmocka_unit_test(simulations_compare_with_the_ideal),
    };
    return UNIT_RUN(tests);
}
