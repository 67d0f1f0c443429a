/* Unit tests of flag parsing (csrc/options.c): defaults, every kind of bad
 * value, the one-line messages that name the flag, the enum flags, and the
 * defaults as --help and `async-search cfg-variables` print them. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "stopper.h"
#include "strbuf.h"

#define LINE_MAX_LEN 512

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
    assert_true(o.benchmark_timeout == 3600.0);
    assert_int_equal(o.max_failures, 0);
    assert_int_equal(o.gpus_per_node, 0);
    assert_string_equal(o.python, BUILD_PYTHON);
    assert_int_equal(o.launch, OPTIONS_LAUNCH_SUBPROCESS);
    assert_int_equal(o.progress, OPTIONS_PROGRESS_AUTO);
    assert_int_equal(o.sim_distribution, OPTIONS_SIM_FIXED);
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
    BAD("--sh-timeout: -2 is out of range (allowed: a number of seconds from "
        "0 to 31536000, or -1: never, as 0)",
        "--problem", "p", "--model", "m", "--sh-timeout", "-2");
    BAD("--n-jobs: 0 is out of range (allowed: an integer from 1 to 1024, or "
        "-1: all cores)",
        "--problem", "p", "--model", "m", "--n-jobs", "0");
    BAD("--n-jobs: -2 is out of range", "--problem", "p", "--model", "m",
        "--n-jobs", "-2");
    BAD("--threshold-window: -1 is out of range", "--problem", "p", "--model",
        "m", "--threshold-window", "-1");
    BAD("--n-jobs: '' is not an integer", "--problem", "p", "--model", "m",
        "--n-jobs=");
    BAD("--max-threshold: 0 is out of range", "--problem", "p", "--model", "m",
        "--max-threshold", "0");
}

/* The original workflow's values: N_JOBS=-1 (all cores, kept as -1 for the
 * optimizers, which read it as joblib does), SH_TIMEOUT=-1 and
 * BENCHMARK_TIMEOUT=-1 (no timeout, stored as 0). */
static void minus_one_means_all_cores_or_no_timeout(void **state)
{
    (void)state;
    struct options o;
    char err[OPTIONS_ERR_LEN];
    assert_int_equal(parse(&o, err, "--problem", "p", "--model", "m",
                           "--n-jobs", "-1", "--sh-timeout", "-1",
                           "--benchmark-timeout=-1", NULL),
                     OPTIONS_OK);
    assert_int_equal(o.n_jobs, -1);
    assert_true(o.sh_timeout == 0.0);
    assert_true(o.benchmark_timeout == 0.0);
    assert_int_equal(parse(&o, err, "--problem", "p", "--model", "m",
                           "--sh-timeout", "-1.0", NULL),
                     OPTIONS_OK);
    assert_true(o.sh_timeout == 0.0);
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
    struct options o;
    char err[OPTIONS_ERR_LEN];
    assert_int_equal(parse(&o, err, "--problem", "p", "--model", "m",
                           "--exp-id", "EXP_001.b-2", NULL),
                     OPTIONS_OK);
    assert_string_equal(o.exp_id, "EXP_001.b-2");
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

/* Every name of an enum flag maps to its own value; anything else is an
 * error that lists the names. */
static void choices_map_to_their_enums(void **state)
{
    (void)state;
    static const struct {
        const char *flag, *name;
        size_t offset;
        int value;
    } cases[] = {
        {"--progress", "auto", offsetof(struct options, progress),
         OPTIONS_PROGRESS_AUTO},
        {"--progress", "tty", offsetof(struct options, progress),
         OPTIONS_PROGRESS_TTY},
        {"--progress", "log", offsetof(struct options, progress),
         OPTIONS_PROGRESS_LOG},
        {"--launch", "subprocess", offsetof(struct options, launch),
         OPTIONS_LAUNCH_SUBPROCESS},
        {"--launch", "fork-server", offsetof(struct options, launch),
         OPTIONS_LAUNCH_FORK_SERVER},
        {"--simulate-distribution", "fixed",
         offsetof(struct options, sim_distribution), OPTIONS_SIM_FIXED},
        {"--simulate-distribution", "exp",
         offsetof(struct options, sim_distribution), OPTIONS_SIM_EXP},
        {"--simulate-distribution", "lognormal",
         offsetof(struct options, sim_distribution), OPTIONS_SIM_LOGNORMAL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct options o;
        char err[OPTIONS_ERR_LEN] = "";
        assert_int_equal(parse(&o, err, "--problem", "p", "--model", "m",
                               cases[i].flag, cases[i].name, NULL),
                         OPTIONS_OK);
        assert_int_equal(*(const int *)((const char *)&o + cases[i].offset),
                         cases[i].value);
    }
    BAD("--progress: 'TTY' is not a style (allowed: auto, tty, log)",
        "--problem", "p", "--model", "m", "--progress", "TTY");
    BAD("--launch: 'thread' is not a mode (allowed: subprocess, fork-server)",
        "--problem", "p", "--model", "m", "--launch", "thread");
    BAD("--simulate-distribution: 'gamma' is not a distribution (allowed: "
        "fixed, exp, lognormal)",
        "--problem", "p", "--simulate", "2", "--time-limit", "1",
        "--simulate-distribution", "gamma");
    BAD("--launch: '' is not a mode", "--problem", "p", "--model", "m",
        "--launch=");
    BAD("--launch fork-server runs CANDLE benchmarks", "--problem", "p",
        "--model-cmd", "x", "--launch", "fork-server");
}

/* The text a printer writes (malloc'd). */
static char *capture(void (*print)(FILE *))
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    print(f);
    assert_int_equal(fclose(f), 0);
    return text;
}

/* Parses the base flags plus "--NAME VALUE" and checks that the result is
 * the defaults: VALUE is what the flag defaults to. */
static void assert_is_default(const char *name, const char *value)
{
    struct options d, o;
    char err[OPTIONS_ERR_LEN] = "";
    char flag[LINE_MAX_LEN];
    snprintf(flag, sizeof flag, "--%s", name);
    assert_int_equal(parse(&d, err, "--problem", "p", "--model", "m", NULL),
                     OPTIONS_OK);
    if (parse(&o, err, "--problem", "p", "--model", "m", flag, value, NULL) !=
        OPTIONS_OK)
        fail_msg("%s %s: %s", flag, value, err);
    const char *diff = options_diff(&d, &o);
    if (diff != NULL)
        fail_msg("%s %s is not the default (--%s differs)", flag, value, diff);
}

/* Every "[default: X]" of --help is the default parsing applies: giving X
 * back changes nothing. */
static void help_defaults_are_the_applied_defaults(void **state)
{
    (void)state;
    char *text = capture(options_usage);
    char name[LINE_MAX_LEN] = "", value[LINE_MAX_LEN];
    int checked = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        /* "  --name METAVAR  help [default: X]", the help maybe on the next
         * line */
        if (strncmp(line, "  --", 4) == 0)
            sscanf(line + 4, "%511[a-z-]", name);
        char *d = strstr(line, "[default: ");
        if (d == NULL)
            continue;
        d += strlen("[default: ");
        size_t n = strlen(d);
        assert_true(n > 1 && d[n - 1] == ']');
        snprintf(value, sizeof value, "%.*s", (int)(n - 1), d);
        assert_is_default(name, value);
        checked++;
    }
    free(text);
    /* every flag with a value has a default but the problem, the model and
     * the experiment directory */
    assert_int_equal(checked, 30);
}

static void help_shows_defaults_and_cfg_variables(void **state)
{
    (void)state;
    char *text = capture(options_usage);
    assert_non_null(
        strstr(text, "  --sh-timeout S               SH_TIMEOUT: "));
    assert_non_null(strstr(text, "(0 or -1: never) [default: 3600]\n"));
    assert_non_null(strstr(text, "points (-1: all cores) [default: 1]\n"));
    assert_non_null(strstr(text, "[default: " BUILD_PYTHON "]\n"));
    assert_non_null(strstr(text, "  --progress auto|tty|log "));
    assert_non_null(strstr(text, "  --launch subprocess|fork-server\n"));
    assert_non_null(strstr(text, "the mean [default: fixed]\n"));
    free(text);
}

/* `async-search cfg-variables`: the contract with bin/async-search-run. */
static void cfg_variables_name_their_flags_and_defaults(void **state)
{
    (void)state;
    static const char *const expected[][2] = {
        {"PROBLEM", "--problem"},
        {"MODEL_CMD", "--model-cmd"},
        {"RESTART_NUMBER", "--restart-number"},
        {"MAX_FAILURES", "--max-failures"},
        {"FAIL_FAST", "--fail-fast"},
        {"INIT_SIZE", "--init-size"},
        {"MAX_EVALS", "--max-evals"},
        {"NUM_BUFFER", "--num-buffer"},
        {"MAX_THRESHOLD", "--max-threshold"},
        {"THRESHOLD_WINDOW", "--threshold-window"},
        {"N_JOBS", "--n-jobs"},
        {"RANDOM_SEED", "--seed"},
        {"OPTIMIZER", "--optimizer"},
        {"SH_TIMEOUT", "--sh-timeout"},
        {"BENCHMARK_TIMEOUT", "--benchmark-timeout"},
        {"GPUS_PER_NODE", "--gpus-per-node"},
        {"LAUNCH", "--launch"},
        {"MODEL_PYTHON", "--python"},
        {"RANKS_PER_EVAL", "--ranks-per-eval"},
        {"SHARE_GPUS", "--share-gpus"},
        {"STOPPER", "--stopper"},
        {"STOPPER_MIN_STEPS", "--stopper-min-steps"},
        {"STOPPER_ETA", "--stopper-eta"},
        {"STOPPER_WARMUP", "--stopper-warmup"},
        {"STOPPER_MAX_STEP", "--stopper-max-step"},
        {"STOPPER_TELL", "--stopper-tell"},
    };
    size_t n = sizeof expected / sizeof expected[0], i = 0;
    char *text = capture(options_cfg_variables);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char var[LINE_MAX_LEN], flag[LINE_MAX_LEN];
        int used = 0;
        assert_true(i < n);
        assert_int_equal(sscanf(line, "%511s %511s%n", var, flag, &used), 2);
        assert_string_equal(var, expected[i][0]);
        assert_string_equal(flag, expected[i][1]);
        if (line[used] == ' ')
            assert_is_default(flag + 2, line + used + 1);
        else
            assert_int_equal(line[used], '\0');
        i++;
    }
    assert_int_equal(i, n);
    free(text);
    text = capture(options_cfg_variables);
    assert_non_null(strstr(text, "\nMAX_EVALS --max-evals 20\n"));
    assert_non_null(strstr(text, "\nTHRESHOLD_WINDOW --threshold-window 16\n"));
    assert_non_null(strstr(text, "\nMODEL_PYTHON --python " BUILD_PYTHON "\n"));
    assert_non_null(strstr(text, "\nLAUNCH --launch subprocess\n"));
    assert_non_null(strstr(text, "PROBLEM --problem\n"));
    free(text);
}

/* options_diff sees a changed value of each kind. */
static void diff_names_the_first_changed_flag(void **state)
{
    (void)state;
    struct options d, o;
    char err[OPTIONS_ERR_LEN];
    assert_int_equal(parse(&d, err, "--problem", "p", "--model", "m", NULL),
                     OPTIONS_OK);
    assert_null(options_diff(&d, &d));
    assert_int_equal(parse(&o, err, "--problem", "p", "--model", "m",
                           "--max-evals", "21", NULL),
                     OPTIONS_OK);
    assert_string_equal(options_diff(&d, &o), "max-evals");
    assert_int_equal(parse(&o, err, "--problem", "p", "--model", "m",
                           "--sh-timeout", "3600.5", NULL),
                     OPTIONS_OK);
    assert_string_equal(options_diff(&d, &o), "sh-timeout");
    assert_int_equal(parse(&o, err, "--problem", "p", "--model", "m",
                           "--optimizer", "random", NULL),
                     OPTIONS_OK);
    assert_string_equal(options_diff(&d, &o), "optimizer");
    assert_int_equal(parse(&o, err, "--problem", "p", "--model", "m",
                           "--progress", "log", NULL),
                     OPTIONS_OK);
    assert_string_equal(options_diff(&d, &o), "progress");
    assert_int_equal(parse(&o, err, "--problem", "p", "--model-cmd", "m", NULL),
                     OPTIONS_OK);
    assert_string_equal(options_diff(&d, &o), "model");
}

static void settings_json_names_each_setting_as_its_flag(void **state)
{
    (void)state;
    struct options o;
    char err[OPTIONS_ERR_LEN];
    struct strbuf sb = STRBUF_INIT;
    assert_int_equal(parse(&o, err, "--problem", "p", "--model", "m",
                           "--stopper", "median", "--sh-timeout", "-1",
                           "--stopper-eta", "2.5", "--restart", "e",
                           "--restart-number", "3", NULL),
                     OPTIONS_OK);
    options_settings_json(&o, &sb);
    const char *s = strbuf_str(&sb);
    assert_non_null(strstr(s, ",\n  \"max_evals\": 20"));
    assert_non_null(strstr(s, ",\n  \"stopper\": \"median\""));
    assert_non_null(strstr(s, ",\n  \"stopper_eta\": 2.5"));
    assert_non_null(strstr(s, ",\n  \"sh_timeout\": 0")); /* -1: none */
    assert_non_null(strstr(s, ",\n  \"model_cmd\": null"));
    assert_non_null(strstr(s, ",\n  \"launch\": \"subprocess\""));
    /* the experiment writes the problem's path; R is one start's */
    assert_null(strstr(s, "\"problem\""));
    assert_null(strstr(s, "restart_number"));
    assert_null(strstr(s, "-")); /* every name is written with '_' */
    strbuf_free(&sb);
}

static void stopper_names_are_the_flags_values(void **state)
{
    (void)state;
    assert_string_equal(options_stopper_name(STOPPER_RULE_NONE), "none");
    assert_string_equal(options_stopper_name(stopper_rule_find("asha")),
                        "asha");
    assert_string_equal(options_stopper_name(stopper_rule_find("median")),
                        "median");
    assert_string_equal(options_stopper_name(stopper_rule_find("lce")), "lce");
    assert_string_equal(options_stopper_name(99), "none");
    struct options o;
    char err[OPTIONS_ERR_LEN];
    assert_int_equal(parse(&o, err, "--problem", "p", "--model", "m",
                           "--stopper", "asha", NULL),
                     OPTIONS_OK);
    assert_string_equal(options_stopper_name(o.stopper), "asha");
    /* the registry is the list: every rule is accepted, named in the error
     * and shown with its help line in --help */
    assert_int_equal(o.stopper_tell, OPTIONS_STOPPER_TELL_RANK);
    assert_int_equal(parse(&o, err, "--problem", "p", "--model", "m",
                           "--stopper-tell", "estimate", NULL),
                     OPTIONS_OK);
    assert_string_equal(options_stopper_tell_name(o.stopper_tell), "estimate");
    BAD("--stopper-tell: 'last' is not a way to tell (allowed: rank, "
        "estimate)",
        "--problem", "p", "--model", "m", "--stopper-tell", "last");
    BAD("--stopper: 'hyperband' is not a stopper (allowed: none, asha, "
        "median, lce)",
        "--problem", "p", "--model", "m", "--stopper", "hyperband");
    char *text = capture(options_usage);
    const char *name, *help;
    for (int i = 0; (name = stopper_rule_name(i, &help)); i++) {
        assert_int_equal(parse(&o, err, "--problem", "p", "--model", "m",
                               "--stopper", name, NULL),
                         OPTIONS_OK);
        assert_int_equal(o.stopper, i);
        char line[LINE_MAX_LEN];
        snprintf(line, sizeof line, "   %s: %s\n", name, help);
        assert_non_null(strstr(text, line));
    }
    assert_non_null(strstr(text, "--stopper none|asha|median|lce"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_the_seeds),
        cmocka_unit_test(values_in_both_forms),
        cmocka_unit_test(bad_numbers_name_the_flag),
        cmocka_unit_test(minus_one_means_all_cores_or_no_timeout),
        cmocka_unit_test(unknown_missing_and_conflicting_flags),
        cmocka_unit_test(exp_id_is_a_safe_name),
        cmocka_unit_test(check_needs_no_model_and_help_wins),
        cmocka_unit_test(choices_map_to_their_enums),
        cmocka_unit_test(help_defaults_are_the_applied_defaults),
        cmocka_unit_test(help_shows_defaults_and_cfg_variables),
        cmocka_unit_test(cfg_variables_name_their_flags_and_defaults),
        cmocka_unit_test(diff_names_the_first_changed_flag),
        cmocka_unit_test(settings_json_names_each_setting_as_its_flag),
        cmocka_unit_test(stopper_names_are_the_flags_values),
    };
    return UNIT_RUN(tests);
}
