/* Unit tests of flag parsing (csrc/options.c): defaults, every kind of bad
 * value, and the one-line messages that name the flag. */
#include "unit.h"

#include <string.h>

#include "options.h"

static enum options_status parse(struct options *o, char *err, ...)
{
    char *argv[64] = {"async-search"};
    int argc = 1;
    va_list ap;
    va_start(ap, err);
    char *a;
    while ((a = va_arg(ap, char *)) != NULL)
        argv[argc++] = a;
    va_end(ap);
    return options_parse(argc, argv, o, err, OPTIONS_ERR_LEN);
}

#define BAD(expected_substring, ...)                                           \
    do {                                                                       \
        struct options o_;                                                     \
        char err_[OPTIONS_ERR_LEN] = "";                                       \
        assert_int_equal(parse(&o_, err_, __VA_ARGS__, NULL), OPTIONS_ERROR);  \
        assert_non_null(strstr(err_, expected_substring));                     \
        assert_null(strchr(err_, '\n'));                                       \
    } while (0)

static void defaults_are_the_seeds(void **state)
{
    (void)state;
    struct options o;
    char err[OPTIONS_ERR_LEN];
    assert_int_equal(
        parse(&o, err, "--problem", "p.py", "--model", "tc1", NULL),
        OPTIONS_OK);
    assert_int_equal(o.init_size, 4);
    assert_int_equal(o.max_evals, 20);
    assert_int_equal(o.num_buffer, 2);
    assert_int_equal(o.max_threshold, 1);
    assert_int_equal(o.n_jobs, 1);
    assert_int_equal(o.seed, 0);
    assert_string_equal(o.optimizer, "default");
    assert_true(o.threshold_window == 16.0);
    assert_true(o.sh_timeout == 3600.0);
    assert_string_equal(o.problem, "p.py");
    assert_string_equal(o.model, "tc1");
}

static void values_in_both_forms(void **state)
{
    (void)state;
    struct options o;
    char err[OPTIONS_ERR_LEN];
    assert_int_equal(parse(&o, err, "--problem=p.py", "--model-cmd",
                           "python3 m.py", "--max-evals=12", "--num-buffer",
                           "0", "--sh-timeout", "2.5", "--seed", "4294967295",
                           NULL),
                     OPTIONS_OK);
    assert_int_equal(o.max_evals, 12);
    assert_int_equal(o.num_buffer, 0);
    assert_true(o.sh_timeout == 2.5);
    assert_int_equal(o.seed, 4294967295L);
    assert_string_equal(o.model_cmd, "python3 m.py");
}

static void bad_numbers_name_the_flag(void **state)
{
    (void)state;
    BAD("--max-evals: 'abc' is not an integer", "--problem", "p", "--model",
        "m", "--max-evals", "abc");
    BAD("--max-evals: '12x'", "--problem", "p", "--model", "m", "--max-evals",
        "12x");
    BAD("--max-evals: 0 is out of range", "--problem", "p", "--model", "m",
        "--max-evals", "0");
    BAD("--init-size: -3 is out of range", "--problem", "p", "--model", "m",
        "--init-size", "-3");
    BAD("--num-buffer: 99999999999999999999999 is out of range", "--problem",
        "p", "--model", "m", "--num-buffer", "99999999999999999999999");
    BAD("--seed: 4294967296 is out of range", "--problem", "p", "--model", "m",
        "--seed", "4294967296");
    BAD("--sh-timeout: 'nan' is not a number", "--problem", "p", "--model", "m",
        "--sh-timeout", "nan");
    BAD("--sh-timeout: -1 is out of range", "--problem", "p", "--model", "m",
        "--sh-timeout", "-1");
    BAD("--n-jobs: '' is not an integer", "--problem", "p", "--model", "m",
        "--n-jobs=");
    BAD("--max-threshold: 0 is out of range", "--problem", "p", "--model", "m",
        "--max-threshold", "0");
}

static void unknown_missing_and_conflicting_flags(void **state)
{
    (void)state;
    BAD("unknown flag '--max-eval'", "--problem", "p", "--model", "m",
        "--max-eval", "3");
    BAD("--max-evals needs a value", "--problem", "p", "--model", "m",
        "--max-evals");
    BAD("unexpected argument 'extra'", "--problem", "p", "--model", "m",
        "extra");
    BAD("--problem FILE is required", "--model", "m");
    BAD("--model NAME or --model-cmd", "--problem", "p");
    BAD("exclude each other", "--problem", "p", "--model", "m", "--model-cmd",
        "x");
    BAD("exclude each other", "--problem", "p", "--model", "m", "--exp-dir",
        "d", "--exp-id", "e");
    BAD("exclude each other", "--problem", "p", "--model", "m", "--exp-dir",
        "d", "--restart", "e");
    BAD("--restart-number needs --restart", "--problem", "p", "--model", "m",
        "--restart-number", "3");
    BAD("--max-failures: 'x' is not an integer", "--problem", "p", "--model",
        "m", "--max-failures", "x");
    BAD("--check takes no value", "--problem", "p", "--check=1");
    BAD("--problem: the value is empty", "--problem", "", "--model", "m");
}

static void exp_id_is_a_safe_name(void **state)
{
    (void)state;
    BAD("--exp-id: '../x' is not a valid experiment id", "--problem", "p",
        "--model", "m", "--exp-id", "../x");
    BAD("not a valid experiment id", "--problem", "p", "--model", "m",
        "--exp-id", "..");
    BAD("not a valid experiment id", "--problem", "p", "--model", "m",
        "--exp-id", "a/b");
    char err[OPTIONS_ERR_LEN];
    assert_int_equal(options_check_exp_id("EXP_001.b-2", "x", err, sizeof err),
                     0);
}

static void check_needs_no_model_and_help_wins(void **state)
{
    (void)state;
    struct options o;
    char err[OPTIONS_ERR_LEN];
    assert_int_equal(parse(&o, err, "--check", "--problem", "p.py", NULL),
                     OPTIONS_OK);
    assert_true(o.check);
    assert_int_equal(parse(&o, err, "--help", NULL), OPTIONS_HELP);
    assert_int_equal(parse(&o, err, "--max-evals", "3", "--help", NULL),
                     OPTIONS_HELP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_the_seeds),
        cmocka_unit_test(values_in_both_forms),
        cmocka_unit_test(bad_numbers_name_the_flag),
        cmocka_unit_test(unknown_missing_and_conflicting_flags),
        cmocka_unit_test(exp_id_is_a_safe_name),
        cmocka_unit_test(check_needs_no_model_and_help_wins),
    };
    return UNIT_RUN(tests);
}
