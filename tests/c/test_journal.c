/* Unit tests of the journal (csrc/journal.c) and the text helpers it uses
 * (strbuf, util_format_double). */
#include "unit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "strbuf.h"
#include "util.h"

static void doubles_round_trip_shortest(void **state)
{
    (void)state;
    char buf[40];
    double values[] = {0.1, 1.0 / 3, 1e-300, -2.5, 123456789.0, 5e-324};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        util_format_double(buf, sizeof buf, values[i]);
        assert_true(strtod(buf, NULL) == values[i]);
    }
    util_format_double(buf, sizeof buf, 0.1);
    assert_string_equal(buf, "0.1");
    util_format_double(buf, sizeof buf, NAN);
    assert_string_equal(buf, "nan");
    util_format_double(buf, sizeof buf, -INFINITY);
    assert_string_equal(buf, "-inf");
}

static void json_strings_are_escaped(void **state)
{
    (void)state;
    struct strbuf sb = STRBUF_INIT;
    assert_int_equal(strbuf_json_string(&sb, "a\"b\\c\nd\te\x01 é;"), 0);
    assert_string_equal(strbuf_str(&sb), "\"a\\\"b\\\\c\\nd\\te\\u0001 é;\"");
    strbuf_free(&sb);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void rows_are_appended_under_one_header(void **state)
{
    (void)state;
    char dir[] = "/tmp/async-search-journal-XXXXXX", err[256], path[128];
    assert_non_null(mkdtemp(dir));
    struct journal *j;
    assert_int_equal(journal_open(dir, "p:x,\"p:a,b\"", &j, err, sizeof err),
                     0);
    struct journal_row row = {
        .job_id = "1_1_0",
        .csv_fields = "0.5,\"x;y\"",
        .objective = 1.25,
        .status = "ok",
        .worker = 2,
        .t_submit = 0.1,
        .t_start = 0.2,
        .t_gather = 1.3,
        .duration = 1.1,
        .steps = 12,
    };
    assert_int_equal(journal_append(j, &row, err, sizeof err), 0);
    row.job_id = "1_1_1";
    row.objective = NAN;
    row.status = "failed";
    row.steps = 0;
    assert_int_equal(journal_append(j, &row, err, sizeof err), 0);
    assert_int_equal(
        journal_intermediate(j, "1_1_0", 3, 0.75, 2.5, err, sizeof err), 0);
    assert_int_equal(
        journal_intermediate(j, "1_1_0", 4, 0.5, 2.75, err, sizeof err), 0);
    assert_int_equal(journal_point(j, "1_2_0", "{\"x\": 1}", err, sizeof err),
                     0);
    journal_close(j);

    snprintf(path, sizeof path, "%s/results.csv", dir);
    char *text = slurp(path);
    assert_string_equal(
        text, "job_id,p:x,\"p:a,b\",objective,status,worker,m:timestamp_submit,"
              "m:timestamp_start,m:timestamp_gather,duration,steps\n"
              "1_1_0,0.5,\"x;y\",1.25,ok,2,0.100,0.200,1.300,1.100,12\n"
              "1_1_1,0.5,\"x;y\",nan,failed,2,0.100,0.200,1.300,1.100,\n");
    free(text);
    snprintf(path, sizeof path, "%s/intermediate.csv", dir);
    text = slurp(path);
    assert_string_equal(text, "job_id,step,value,m:timestamp\n"
                              "1_1_0,3,0.75,2.500\n1_1_0,4,0.5,2.750\n");
    free(text);
    snprintf(path, sizeof path, "%s/points.log", dir);
    text = slurp(path);
    assert_string_equal(text, "1_2_0\t{\"x\": 1}\n");
    free(text);

    /* Reopening (a restart) keeps the rows and adds no second header... */
    assert_int_equal(journal_open(dir, "p:x,\"p:a,b\"", &j, err, sizeof err),
                     0);
    journal_close(j);
    snprintf(path, sizeof path, "%s/results.csv", dir);
    text = slurp(path);
    assert_non_null(strstr(text, "1_1_1"));
    assert_null(strstr(strstr(text, "\n"), "job_id"));
    free(text);
    /* An experiment from before the steps column goes on without it (the
     * engine checked its header against the problem). */
    FILE *f = fopen(path, "w");
    fputs("job_id,p:x,objective,status,worker,m:timestamp_submit,"
          "m:timestamp_start,m:timestamp_gather,duration\n",
          f);
    fclose(f);
    assert_int_equal(journal_open(dir, "p:x", &j, err, sizeof err), 0);
    row.csv_fields = "0.25";
    row.steps = 5;
    assert_int_equal(journal_append(j, &row, err, sizeof err), 0);
    journal_close(j);
    text = slurp(path);
    assert_non_null(strstr(text, "\n1_1_1,0.25,nan,failed,2,0.100,0.200,1.300,"
                                 "1.100\n"));
    free(text);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* The row follows the header's column list: without parameters the result
 * columns come right after job_id, in the header's order. */
static void rows_follow_the_header_without_parameters(void **state)
{
    (void)state;
    char dir[] = "/tmp/async-search-journal-XXXXXX", err[256], path[128];
    assert_non_null(mkdtemp(dir));
    struct journal *j;
    assert_int_equal(journal_open(dir, "", &j, err, sizeof err), 0);
    struct journal_row row = {
        .job_id = "2_1_0",
        .csv_fields = "",
        .objective = -0.5,
        .status = "stopped",
        .worker = 7,
        .t_submit = 1,
        .t_start = 2.25,
        .t_gather = 3.5,
        .duration = 1.25,
        .steps = 3,
    };
    assert_int_equal(journal_append(j, &row, err, sizeof err), 0);
    journal_close(j);
    snprintf(path, sizeof path, "%s/results.csv", dir);
    char *text = slurp(path);
    assert_string_equal(text,
                        "job_id,objective,status,worker,m:timestamp_submit,"
                        "m:timestamp_start,m:timestamp_gather,duration,steps\n"
                        "2_1_0,-0.5,stopped,7,1.000,2.250,3.500,1.250,3\n");
    free(text);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void unwritable_directory_is_an_error(void **state)
{
    (void)state;
    struct journal *j;
    char err[256];
    assert_int_equal(
        journal_open("/nonexistent/dir", "p:x", &j, err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/dir/results.csv"));
}

/* A killed search's .lock (a dead pid, no lock held) is taken over and
 * rewritten; an ended search removes its .lock; the next one makes a new one.
 */
static void
stale_lock_is_taken_over_and_an_ended_search_removes_it(void **state)
{
    (void)state;
    char dir[] = "/tmp/async-search-lock-XXXXXX", err[256], path[128], want[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/" JOURNAL_LOCK, dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("pid 999999999 on a-node-long-gone\n", f);
    fclose(f);

    int fd = -1;
    assert_int_equal(journal_lock(dir, &fd, err, sizeof err), 0);
    assert_true(fd >= 0);
    assert_string_equal(err, "");
    char *text = slurp(path);
    snprintf(want, sizeof want, "pid %ld on ", (long)getpid());
    assert_true(strncmp(text, want, strlen(want)) == 0);
    free(text);
    journal_unlock(dir, fd);
    assert_int_equal(access(path, F_OK), -1);

    assert_int_equal(journal_lock(dir, &fd, err, sizeof err), 0);
    assert_true(fd >= 0);
    assert_int_equal(access(path, F_OK), 0);
    journal_unlock(dir, fd);
    assert_int_equal(access(path, F_OK), -1);
    journal_unlock(dir, -1); /* no lock held: nothing to do */
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(doubles_round_trip_shortest),
        cmocka_unit_test(json_strings_are_escaped),
        cmocka_unit_test(rows_are_appended_under_one_header),
        cmocka_unit_test(rows_follow_the_header_without_parameters),
        cmocka_unit_test(unwritable_directory_is_an_error),
        cmocka_unit_test(
            stale_lock_is_taken_over_and_an_ended_search_removes_it),
    };
    return UNIT_RUN(tests);
}
