/* Unit tests of the progress line (csrc/progress.c). */
#include "unit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"

static struct progress_stats stats(long done, double best)
{
    struct progress_stats s;
    memset(&s, 0, sizeof s);
    s.done = done;
    s.total = 20;
    s.ok = done - 1;
    s.failed = 1;
    s.running = 3;
    s.done_this_run = done;
    s.best = best;
    s.best_job = isnan(best) ? "" : "1_3_0";
    s.elapsed = 60;
    return s;
}

static void line_has_every_figure(void **state)
{
    (void)state;
    char buf[256];
    struct progress_stats s = stats(10, 0.125);
    progress_format(buf, sizeof buf, &s);
    assert_string_equal(buf, "[10/20]  50% | running 3 | failed 1 | best 0.125 "
                             "(1_3_0) | 10.0 evals/min | ETA 1m00s");
    s = stats(0, NAN);
    s.done_this_run = 0;
    progress_format(buf, sizeof buf, &s);
    assert_non_null(strstr(buf, "best none yet"));
    assert_non_null(strstr(buf, "ETA ?"));
}

static char *run(enum progress_mode mode, int tty, double *times, int n)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    struct progress p;
    progress_init(&p, f, mode, tty);
    for (int i = 0; i < n; i++) {
        struct progress_stats s = stats(i + 1, 1.0 / (i + 1));
        progress_update(&p, &s, times[i], 0);
    }
    progress_evaluation(&p, "1_2_0", "failed", NAN, 2, 1.5, "exit status 1");
    progress_end_line(&p);
    fclose(f);
    return text;
}

static int count(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p++)
        n++;
    return n;
}

static void terminal_redraws_one_line(void **state)
{
    (void)state;
    double t[] = {0, 0.5, 1.2, 1.3, 2.5};
    char *text = run(PROGRESS_NORMAL, 1, t, 5);
    assert_int_equal(count(text, "\r"), 3); /* at 0, 1.2 and 2.5 s */
    assert_int_equal(count(text, "\033[K"), 3);
    assert_int_equal(count(text, "\n"), 1); /* only the final end */
    assert_null(strstr(text, "1_2_0"));     /* not verbose */
    free(text);
}

static void log_file_gets_plain_lines(void **state)
{
    (void)state;
    /* every 30 s, and when the best improves (at most every 5 s) */
    double t[] = {0, 1, 2, 7, 8, 40};
    char *text = run(PROGRESS_NORMAL, 0, t, 6);
    assert_int_equal(count(text, "\r"), 0);
    assert_int_equal(count(text, "\n"), 3); /* 0 s, 7 s (better), 40 s */
    free(text);
}

static void quiet_prints_nothing_and_verbose_every_evaluation(void **state)
{
    (void)state;
    double t[] = {0, 40, 80};
    char *text = run(PROGRESS_QUIET, 0, t, 3);
    assert_string_equal(text, "");
    free(text);
    text = run(PROGRESS_VERBOSE, 0, t, 3);
    assert_non_null(strstr(text, "1_2_0"));
    assert_non_null(strstr(text, "exit status 1"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(line_has_every_figure),
        cmocka_unit_test(terminal_redraws_one_line),
        cmocka_unit_test(log_file_gets_plain_lines),
        cmocka_unit_test(quiet_prints_nothing_and_verbose_every_evaluation),
    };
    return UNIT_RUN(tests);
}
