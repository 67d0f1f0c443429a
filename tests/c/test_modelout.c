/* Unit tests of model output (csrc/modelout.c): result lines, the line
 * scanner and its hook, the capped log with its marker and notes, and
 * result.txt. */
#include "unit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modelout.h"
#include "util.h"

struct dir {
    char path[64];
    char log[128];
};

static int dir_setup(void **state)
{
    struct dir *d = calloc(1, sizeof *d);
    snprintf(d->path, sizeof d->path, "/tmp/async-search-modelout-XXXXXX");
    assert_non_null(mkdtemp(d->path));
    snprintf(d->log, sizeof d->log, "%s/model.log", d->path);
    *state = d;
    return 0;
}

static int dir_teardown(void **state)
{
    struct dir *d = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", d->path);
    assert_int_equal(system(cmd), 0);
    free(d);
    return 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char *buf = malloc(1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void feed(struct modelout *o, const char *text)
{
    modelout_feed(o, text, strlen(text));
}

static void result_lines(void **state)
{
    (void)state;
    double v = 0;
    assert_int_equal(modelout_parse_result_line("IMPROVE_RESULT 0.25", &v), 1);
    assert_true(v == 0.25);
    assert_int_equal(
        modelout_parse_result_line("IMPROVE_RESULT val_loss:\t-1.5e-3", &v), 1);
    assert_true(v == -1.5e-3);
    assert_int_equal(modelout_parse_result_line("x IMPROVE_RESULT=7", &v), 1);
    assert_true(v == 7);
    assert_int_equal(modelout_parse_result_line("IMPROVE_RESULT nan", &v), 1);
    assert_true(isnan(v));
    assert_int_equal(modelout_parse_result_line("IMPROVE_RESULT pending", &v),
                     0);
    assert_int_equal(modelout_parse_result_line("RESULT 1", &v), 0);
    /* the label is optional, as the original model.sh read it */
    assert_int_equal(
        modelout_parse_result_line("IMPROVE_RESULT val_loss=0.375", &v), 1);
    assert_true(v == 0.375);
    assert_int_equal(
        modelout_parse_result_line("IMPROVE_RESULT loss,0.5;val 9", &v), 1);
    assert_true(v == 0.5);
    assert_int_equal(
        modelout_parse_result_line("IMPROVE_RESULT val_loss2: 1e-05", &v), 1);
    assert_true(v == 1e-05);
}

/* Several objectives: the labelled line, each label once, numbers only. */
static void labelled_objectives(void **state)
{
    (void)state;
    double v[ASYNC_MAX_OBJECTIVES] = {0};
    char why[320];
    int k = 0;
    const char *names = "val_loss cost";
    assert_int_equal(modelout_parse_objectives(" val_loss=0.31 cost=12.5",
                                               names, v, &k, why, sizeof why),
                     0);
    assert_int_equal(k, 2);
    assert_true(v[0] == 0.31 && v[1] == 12.5);
    /* any order, "label: value" and commas too */
    assert_int_equal(modelout_parse_objectives(" cost: -2e-3, val_loss: 4",
                                               names, v, &k, why, sizeof why),
                     0);
    assert_true(v[0] == 4 && v[1] == -2e-3);
    /* a missing label */
    assert_int_equal(modelout_parse_objectives(" val_loss=0.31", names, v, &k,
                                               why, sizeof why),
                     -1);
    assert_non_null(strstr(why, "objective 'cost' missing"));
    /* an extra label */
    assert_int_equal(modelout_parse_objectives(" val_loss=1 cost=2 size=3",
                                               names, v, &k, why, sizeof why),
                     -1);
    assert_non_null(strstr(why, "unexpected label 'size'"));
    /* a value that is not a number, or not finite */
    assert_int_equal(modelout_parse_objectives(" val_loss=1 cost=cheap", names,
                                               v, &k, why, sizeof why),
                     -1);
    assert_non_null(strstr(why, "objective 'cost': 'cheap' is not a number"));
    assert_int_equal(modelout_parse_objectives(" val_loss=nan cost=1", names, v,
                                               &k, why, sizeof why),
                     -1);
    assert_non_null(strstr(why, "objective 'val_loss': 'nan'"));
    /* a label twice, and a bare number (the single-objective form) */
    assert_int_equal(modelout_parse_objectives(" cost=1 cost=2 val_loss=1",
                                               names, v, &k, why, sizeof why),
                     -1);
    assert_non_null(strstr(why, "'cost' given twice"));
    assert_int_equal(
        modelout_parse_objectives(" 0.5", names, v, &k, why, sizeof why), -1);
    assert_non_null(strstr(why, "expected LABEL=NUMBER"));
}

/* The scanner keeps the text of the last result line, labels and all, even
 * when it holds no number; the single value stays the last number seen. */
static void result_text_of_the_last_line(void **state)
{
    struct dir *d = *state;
    struct modelout *o;
    char err[256];
    double v = 0;
    assert_int_equal(
        modelout_open(d->log, 1 << 20, NULL, NULL, &o, err, sizeof err), 0);
    assert_string_equal(modelout_result_text(o), "");
    feed(o, "IMPROVE_RESULT a=1 b=2\nIMPROVE_RESULT a=x b=y\n");
    assert_string_equal(modelout_result_text(o), " a=x b=y");
    assert_int_equal(modelout_result(o, &v), 1);
    assert_true(v == 1);
    modelout_close(o);
}

struct seen {
    int n;
    enum modelout_kind kind[16];
    double value[16];
    long step[16], last_step[16];
    const char *bad[16];
};

static void remember(void *arg, const struct modelout_line *line)
{
    struct seen *seen = arg;
    assert_true(seen->n < 16);
    seen->kind[seen->n] = line->kind;
    seen->value[seen->n] = line->value;
    if (line->kind == MODELOUT_INTERMEDIATE) {
        seen->step[seen->n] = line->step;
        seen->last_step[seen->n] = line->last_step;
        seen->bad[seen->n] = line->bad; /* static text */
    }
    seen->n++;
}

static void intermediate_lines_and_what_is_wrong_with_them(void **state)
{
    struct dir *d = *state;
    struct seen seen = {0};
    struct modelout *o;
    char err[256];
    assert_int_equal(
        modelout_open(d->log, 1 << 20, remember, &seen, &o, err, sizeof err),
        0);
    feed(o, "IMPROVE_INTERMEDIATE 1 0.5\n"
            "IMPROVE_INTERMEDIATE 2 0.25 25\n"         /* the training's end */
            "IMPROVE_INTERMEDIATE 3 val_loss: 0.125\n" /* a word between */
            "IMPROVE_INTERMEDIATE x 1\n"
            "IMPROVE_INTERMEDIATE 4\n"
            "IMPROVE_INTERMEDIATE 5 nan\n"
            "IMPROVE_INTERMEDIATE 6 1.0 5\n" /* ends before this step */
            "IMPROVE_INTERMEDIATE 7 1.0 8.5\n"
            "IMPROVE_INTERMEDIATE 8 1.0 8\r\n");
    assert_int_equal(seen.n, 9);
    for (int i = 0; i < 9; i++)
        assert_int_equal(seen.kind[i], MODELOUT_INTERMEDIATE);
    assert_true(seen.step[0] == 1 && seen.value[0] == 0.5);
    assert_int_equal(seen.last_step[0], 0);
    assert_string_equal(seen.bad[0], "");
    assert_true(seen.step[1] == 2 && seen.value[1] == 0.25);
    assert_int_equal(seen.last_step[1], 25);
    assert_string_equal(seen.bad[1], "");
    assert_true(seen.step[2] == 3 && seen.value[2] == 0.125);
    assert_string_equal(seen.bad[2], "");
    assert_string_equal(seen.bad[3], "the step is not a whole number from 1");
    assert_string_equal(seen.bad[4], "no value after the step");
    assert_string_equal(seen.bad[5], "the value is not finite");
    assert_non_null(strstr(seen.bad[6], "the last step"));
    assert_non_null(strstr(seen.bad[7], "the last step"));
    assert_string_equal(seen.bad[8], "");
    assert_int_equal(seen.last_step[8], 8);
    modelout_close(o);
}

static void scanner_hands_each_recognised_line_to_the_hook(void **state)
{
    struct dir *d = *state;
    struct seen seen = {0};
    struct modelout *o;
    char err[256];
    double v = -1;
    assert_int_equal(
        modelout_open(d->log, 1 << 20, remember, &seen, &o, err, sizeof err),
        0);
    assert_int_equal(modelout_result(o, &v), 0);
    assert_string_equal(modelout_last_line(o), "");
    /* Lines split across chunks, a line without a number, CRLF. */
    feed(o, "epoch 1\nIMPROVE_RES");
    feed(o, "ULT 1\nIMPROVE_RESULT pending\r\nIMPROVE_RESULT 2\r\n");
    feed(o, "IMPROVE_RESULT 3"); /* no newline yet: not a line */
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.kind[0], MODELOUT_RESULT);
    assert_true(seen.value[0] == 1 && seen.value[1] == 2);
    assert_int_equal(modelout_result(o, &v), 1);
    assert_true(v == 2);
    assert_string_equal(modelout_last_line(o), "IMPROVE_RESULT 2");
    modelout_finish(o); /* the output ended: the last line counts */
    assert_int_equal(seen.n, 3);
    assert_string_equal(modelout_last_line(o), "IMPROVE_RESULT 3");
    assert_int_equal(modelout_result(o, &v), 1);
    assert_true(v == 3);
    modelout_close(o);
    char *log = slurp(d->log);
    assert_string_equal(log, "epoch 1\nIMPROVE_RESULT 1\nIMPROVE_RESULT "
                             "pending\r\nIMPROVE_RESULT 2\r\nIMPROVE_RESULT 3");
    free(log);
}

static void the_last_words_of_a_model_are_kept(void **state)
{
    struct dir *d = *state;
    struct modelout *o;
    char err[256];
    assert_int_equal(
        modelout_open(d->log, 1 << 20, NULL, NULL, &o, err, sizeof err), 0);
    feed(o, "Traceback (most recent call last):\n  File \"x\"\n");
    feed(o, "  ValueError: boom \r\n \n"); /* blanks trimmed, blank skipped */
    assert_string_equal(modelout_last_line(o), "ValueError: boom");
    char longer[MODELOUT_LAST_MAX * 2];
    memset(longer, 'x', sizeof longer - 2);
    longer[sizeof longer - 2] = '\n';
    longer[sizeof longer - 1] = '\0';
    feed(o, longer); /* kept, cut to the buffer */
    assert_int_equal(strlen(modelout_last_line(o)), MODELOUT_LAST_MAX - 1);
    modelout_close(o);
}

static void lines_too_long_to_scan_are_logged_but_not_recognised(void **state)
{
    struct dir *d = *state;
    struct modelout *o;
    char err[256];
    double v;
    size_t len = MODELOUT_LINE_MAX + 10;
    char *line = malloc(len + 1);
    memset(line, 'x', len);
    memcpy(line, "IMPROVE_RESULT 5 ", 17);
    line[len - 1] = '\n';
    line[len] = '\0';
    assert_int_equal(
        modelout_open(d->log, 1 << 20, NULL, NULL, &o, err, sizeof err), 0);
    feed(o, line);
    assert_int_equal(modelout_result(o, &v), 0);
    feed(o, "IMPROVE_RESULT 6\n"); /* the scanner is back in step */
    assert_int_equal(modelout_result(o, &v), 1);
    assert_true(v == 6);
    modelout_close(o);
    char *log = slurp(d->log);
    assert_int_equal(strlen(log), len + strlen("IMPROVE_RESULT 6\n"));
    free(log);
    free(line);
}

static void the_log_is_capped_once_and_notes_go_past_the_cap(void **state)
{
    struct dir *d = *state;
    struct modelout *o;
    char err[256];
    double v;
    assert_int_equal(modelout_open(d->log, 10, NULL, NULL, &o, err, sizeof err),
                     0);
    feed(o, "0123456789abcdef\n");
    feed(o, "more\nIMPROVE_RESULT 4\n"); /* dropped from the log, scanned */
    modelout_note(o, "[async-search] note %d\n", 7);
    assert_int_equal(modelout_result(o, &v), 1);
    assert_true(v == 4);
    modelout_close(o);
    char *log = slurp(d->log);
    assert_string_equal(
        log, "0123456789\n[async-search] model.log truncated at 10 bytes; "
             "further output discarded (still scanned for IMPROVE_RESULT)\n"
             "[async-search] note 7\n");
    free(log);
}

static void opening_a_log_where_none_can_be_is_an_error(void **state)
{
    struct dir *d = *state;
    struct modelout *o; /* set (to NULL) even on failure */
    char err[256], path[256];
    snprintf(path, sizeof path, "%s/missing/model.log", d->path);
    assert_int_equal(
        modelout_open(path, 1 << 20, NULL, NULL, &o, err, sizeof err), -1);
    assert_null(o);
    assert_non_null(strstr(err, "cannot create"));
    assert_non_null(strstr(err, path));
    modelout_close(NULL);
}

static void result_file_holds_one_number(void **state)
{
    struct dir *d = *state;
    double v = 0;
    assert_int_equal(modelout_read_result_file(d->path, &v), 0);
    write_file(d->path, MODELOUT_RESULT_FILE, " 1.25 \n");
    assert_int_equal(modelout_read_result_file(d->path, &v), 1);
    assert_true(v == 1.25);
    write_file(d->path, MODELOUT_RESULT_FILE, "1.5 extra\n");
    assert_int_equal(modelout_read_result_file(d->path, &v), 0);
    write_file(d->path, MODELOUT_RESULT_FILE, "loss\n");
    assert_int_equal(modelout_read_result_file(d->path, &v), 0);
    assert_true(v == 1.25);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(result_lines),
        cmocka_unit_test(labelled_objectives),
        cmocka_unit_test_setup_teardown(result_text_of_the_last_line, dir_setup,
                                        dir_teardown),
        cmocka_unit_test_setup_teardown(
            scanner_hands_each_recognised_line_to_the_hook, dir_setup,
            dir_teardown),
        cmocka_unit_test_setup_teardown(
            intermediate_lines_and_what_is_wrong_with_them, dir_setup,
            dir_teardown),
        cmocka_unit_test_setup_teardown(the_last_words_of_a_model_are_kept,
                                        dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(
            lines_too_long_to_scan_are_logged_but_not_recognised, dir_setup,
            dir_teardown),
        cmocka_unit_test_setup_teardown(
            the_log_is_capped_once_and_notes_go_past_the_cap, dir_setup,
            dir_teardown),
        cmocka_unit_test_setup_teardown(
            opening_a_log_where_none_can_be_is_an_error, dir_setup,
            dir_teardown),
        cmocka_unit_test_setup_teardown(result_file_holds_one_number, dir_setup,
                                        dir_teardown),
    };
    return UNIT_RUN(tests);
}
