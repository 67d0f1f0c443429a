/*
 * options: table-driven flag parsing. Each flag is one row of options_table:
 * its kind, where it is stored, its allowed range, its default (as text, for
 * --help) and a help line. Adding a flag is adding a row and a field.
 */
#include "options.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

enum option_kind { OPT_STRING, OPT_LONG, OPT_DOUBLE, OPT_FLAG };

struct option_spec {
    const char *name; /* without the leading "--" */
    enum option_kind kind;
    size_t offset; /* of the field in struct options */
    double min, max;
    const char *metavar;
    const char *deflt; /* default as shown by --help; NULL: none */
    const char *help;
};

#define OPT_FIELD(f) offsetof(struct options, f)
/* Integer flags stop well below LONG_MAX so that sums of counters cannot
 * overflow. */
#define OPT_COUNT_MAX 1000000000.0
#define OPT_SECONDS_MAX 31536000.0 /* one year */

static const struct option_spec options_table[] = {
    {"problem", OPT_STRING, OPT_FIELD(problem), 0, 0, "FILE", NULL,
     "problem*.py file defining class Problem (space, params) (required)"},
    {"model", OPT_STRING, OPT_FIELD(model), 0, 0, "NAME", NULL,
     "CANDLE benchmark run by 'python -m async_search.runner NAME' (tc1, nt3, "
     "example, or a module on PYTHONPATH)"},
    {"model-cmd", OPT_STRING, OPT_FIELD(model_cmd), 0, 0, "\"CMD ARGS\"", NULL,
     "any command; run without a shell, with the params.json path appended"},
    {"exp-dir", OPT_STRING, OPT_FIELD(exp_dir), 0, 0, "DIR", NULL,
     "experiment directory (created; must not hold results already)"},
    {"exp-id", OPT_STRING, OPT_FIELD(exp_id), 0, 0, "ID", NULL,
     "experiment id: the directory is experiments/ID"},
    {"restart", OPT_STRING, OPT_FIELD(restart), 0, 0, "EXPDIR", NULL,
     "continue a killed or finished experiment up to --max-evals rows"},
    {"restart-number", OPT_LONG, OPT_FIELD(restart_number), 0, 1000000, "R",
     "0", "RESTART_NUMBER of the new job ids R_I_J (0: one more than used)"},
    {"max-failures", OPT_LONG, OPT_FIELD(max_failures), 0, OPT_COUNT_MAX, "N",
     "0", "stop once N evaluations have failed or timed out (0: never)"},
    {"init-size", OPT_LONG, OPT_FIELD(init_size), 1, OPT_COUNT_MAX, "N", "4",
     "INIT_SIZE: points of the initial design, requested at the start"},
    {"max-evals", OPT_LONG, OPT_FIELD(max_evals), 1, OPT_COUNT_MAX, "N", "20",
     "MAX_EVALS: evaluations to finish (failed ones count)"},
    {"num-buffer", OPT_LONG, OPT_FIELD(num_buffer), 0, OPT_COUNT_MAX, "N", "2",
     "NUM_BUFFER: points kept ready beyond one per worker"},
    {"max-threshold", OPT_LONG, OPT_FIELD(max_threshold), 1, OPT_COUNT_MAX, "N",
     "1", "MAX_THRESHOLD: results batched per request when they come fast"},
    {"threshold-window", OPT_DOUBLE, OPT_FIELD(threshold_window), 0,
     OPT_SECONDS_MAX, "S", "16",
     "results closer than S seconds are batched by --max-threshold"},
    {"n-jobs", OPT_LONG, OPT_FIELD(n_jobs), 1, 1024, "N", "1",
     "N_JOBS: threads the optimizer uses to produce points"},
    {"seed", OPT_LONG, OPT_FIELD(seed), 0, 4294967295.0, "N", "0",
     "RANDOM_SEED of the optimizer"},
    {"optimizer", OPT_STRING, OPT_FIELD(optimizer), 0, 0, "NAME", "default",
     "default | original | random | optuna | skopt | module:Class"},
    {"sh-timeout", OPT_DOUBLE, OPT_FIELD(sh_timeout), 0, OPT_SECONDS_MAX, "S",
     "3600", "SH_TIMEOUT: kill a model after S seconds (0: never)"},
    {"benchmark-timeout", OPT_DOUBLE, OPT_FIELD(benchmark_timeout), 0,
     OPT_SECONDS_MAX, "S", "3600",
     "BENCHMARK_TIMEOUT: graceful limit passed to the model (0: none)"},
    {"gpus-per-node", OPT_LONG, OPT_FIELD(gpus_per_node), 0, 1024, "N", "0",
     "GPUS_PER_NODE: give each worker one GPU by its node-local rank (sets "
     "CUDA_VISIBLE_DEVICES, ROCR_VISIBLE_DEVICES, ZE_AFFINITY_MASK; 0: off)"},
    {"launch", OPT_STRING, OPT_FIELD(launch), 0, 0, "MODE", "subprocess",
     "subprocess (a new process per evaluation) | fork-server (each worker "
     "forks evaluations from a Python that imported the benchmark once; "
     "needs --model)"},
    {"python", OPT_STRING, OPT_FIELD(python), 0, 0, "PATH", "/usr/bin/python3",
     "Python interpreter that runs --model benchmarks"},
    {"quiet", OPT_FLAG, OPT_FIELD(quiet), 0, 0, NULL, NULL,
     "no progress lines or warnings (they still go to manager.log)"},
    {"verbose", OPT_FLAG, OPT_FIELD(verbose), 0, 0, NULL, NULL,
     "a line per finished evaluation; debug messages in manager.log"},
    {"progress", OPT_STRING, OPT_FIELD(progress), 0, 0, "STYLE", "auto",
     "auto | tty (one line redrawn) | log (a line every 30 s)"},
    {"time-limit", OPT_DOUBLE, OPT_FIELD(time_limit), 0, OPT_SECONDS_MAX, "S",
     "0",
     "stop issuing work after S seconds, end running evaluations (they "
     "are reissued by --restart); 0: no limit"},
    {"simulate", OPT_LONG, OPT_FIELD(simulate), 0, 10000000, "W", "0",
     "run against W virtual workers in this process (no MPI, no models)"},
    {"simulate-duration", OPT_DOUBLE, OPT_FIELD(sim_duration), 0.000001,
     OPT_SECONDS_MAX, "S", "1", "mean seconds of a virtual evaluation"},
    {"simulate-distribution", OPT_STRING, OPT_FIELD(sim_distribution), 0, 0,
     "D", "fixed", "fixed | exp | lognormal durations"},
    {"simulate-objective", OPT_STRING, OPT_FIELD(sim_objective), 0, 0, "F",
     "default", "default | module:function | file.py:function"},
    {"fixed-buffer", OPT_FLAG, OPT_FIELD(fixed_buffer), 0, 0, NULL, NULL,
     "keep exactly NUM_BUFFER extra points (by default the buffer grows to "
     "the results of the last two optimizer turns, up to one per worker)"},
    {"no-report", OPT_FLAG, OPT_FIELD(no_report), 0, 0, NULL, NULL,
     "do not write EXPDIR/report.png at the end (async-search report EXPDIR "
     "still can)"},
    {"check", OPT_FLAG, OPT_FIELD(check), 0, 0, NULL, NULL,
     "validate the flags and the problem file, print the space, exit"},
    {"help", OPT_FLAG, OPT_FIELD(help), 0, 0, NULL, NULL,
     "print this help and exit"},
};

#define OPTIONS_COUNT (sizeof options_table / sizeof options_table[0])

static void options_defaults(struct options *o)
{
    memset(o, 0, sizeof *o);
    o->init_size = 4;
    o->max_evals = 20;
    o->num_buffer = 2;
    o->max_threshold = 1;
    o->n_jobs = 1;
    o->seed = 0;
    o->optimizer = "default";
    o->python = "/usr/bin/python3";
    o->progress = "auto";
    o->launch = "subprocess";
    o->sim_duration = 1.0;
    o->sim_distribution = "fixed";
    o->sim_objective = "default";
    o->sh_timeout = 3600;
    o->benchmark_timeout = 3600;
    o->threshold_window = POLICY_THRESHOLD_WINDOW_S;
}

static const struct option_spec *options_find(const char *name, size_t len)
{
    for (size_t i = 0; i < OPTIONS_COUNT; i++)
        if (strlen(options_table[i].name) == len &&
            strncmp(options_table[i].name, name, len) == 0)
            return &options_table[i];
    return NULL;
}

static void options_range(const struct option_spec *s, char *buf, size_t len)
{
    if (s->kind == OPT_LONG)
        snprintf(buf, len, "an integer from %.0f to %.0f", s->min, s->max);
    else
        snprintf(buf, len, "a number of seconds from %g to %g", s->min, s->max);
}

static enum options_status options_set(struct options *o,
                                       const struct option_spec *s,
                                       const char *value, char *err,
                                       size_t errlen)
{
    char *base = (char *)o;
    char allowed[96];
    options_range(s, allowed, sizeof allowed);
    switch (s->kind) {
    case OPT_STRING:
        if (value[0] == '\0') {
            snprintf(err, errlen, "--%s: the value is empty (expected %s)",
                     s->name, s->metavar);
            return OPTIONS_ERROR;
        }
        *(const char **)(base + s->offset) = value;
        return OPTIONS_OK;
    case OPT_LONG: {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (end == value || *end != '\0') {
            snprintf(err, errlen, "--%s: '%s' is not an integer (allowed: %s)",
                     s->name, value, allowed);
            return OPTIONS_ERROR;
        }
        if (errno == ERANGE || (double)v < s->min || (double)v > s->max) {
            snprintf(err, errlen, "--%s: %s is out of range (allowed: %s)",
                     s->name, value, allowed);
            return OPTIONS_ERROR;
        }
        *(long *)(base + s->offset) = (long)v;
        return OPTIONS_OK;
    }
    case OPT_DOUBLE: {
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        if (end == value || *end != '\0' || !isfinite(v)) {
            snprintf(err, errlen, "--%s: '%s' is not a number (allowed: %s)",
                     s->name, value, allowed);
            return OPTIONS_ERROR;
        }
        if (errno == ERANGE || v < s->min || v > s->max) {
            snprintf(err, errlen, "--%s: %s is out of range (allowed: %s)",
                     s->name, value, allowed);
            return OPTIONS_ERROR;
        }
        *(double *)(base + s->offset) = v;
        return OPTIONS_OK;
    }
    case OPT_FLAG: *(int *)(base + s->offset) = 1; return OPTIONS_OK;
    }
    return OPTIONS_ERROR;
}

int options_check_exp_id(const char *id, const char *what, char *err,
                         size_t errlen)
{
    size_t n = strlen(id);
    int ok =
        n >= 1 && n <= 100 && strcmp(id, ".") != 0 && strcmp(id, "..") != 0;
    for (size_t i = 0; ok && i < n; i++) {
        char c = id[i];
        ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
             (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    }
    if (!ok) {
        snprintf(err, errlen,
                 "%s: '%s' is not a valid experiment id (allowed: 1 to 100 "
                 "letters, digits, '.', '_' or '-'; not '.' or '..')",
                 what, id);
        return -1;
    }
    return 0;
}

static enum options_status options_validate(const struct options *o, char *err,
                                            size_t errlen)
{
    if (o->problem == NULL) {
        snprintf(err, errlen,
                 "--problem FILE is required (a problem*.py search space)");
        return OPTIONS_ERROR;
    }
    if (o->model && o->model_cmd) {
        snprintf(err, errlen,
                 "--model and --model-cmd exclude each other: "
                 "give one");
        return OPTIONS_ERROR;
    }
    if (strcmp(o->sim_distribution, "fixed") != 0 &&
        strcmp(o->sim_distribution, "exp") != 0 &&
        strcmp(o->sim_distribution, "lognormal") != 0) {
        snprintf(
            err, errlen,
            "--simulate-distribution: '%s' is not a distribution (allowed: "
            "fixed, exp, lognormal)",
            o->sim_distribution);
        return OPTIONS_ERROR;
    }
    if (o->simulate > 0) {
        if (o->model || o->model_cmd) {
            snprintf(err, errlen,
                     "--simulate runs no model: drop --model and "
                     "--model-cmd");
            return OPTIONS_ERROR;
        }
        if (!o->max_evals_given && o->time_limit <= 0) {
            snprintf(err, errlen,
                     "--simulate needs --time-limit S or "
                     "--max-evals N to end");
            return OPTIONS_ERROR;
        }
    }
    if (!o->check && !o->simulate && !o->model && !o->model_cmd) {
        snprintf(err, errlen,
                 "--model NAME or --model-cmd \"CMD ARGS\" is "
                 "required (the model each evaluation runs)");
        return OPTIONS_ERROR;
    }
    if ((o->exp_dir != NULL) + (o->exp_id != NULL) + (o->restart != NULL) > 1) {
        snprintf(err, errlen,
                 "--exp-dir, --exp-id and --restart exclude each "
                 "other: give one");
        return OPTIONS_ERROR;
    }
    if (strcmp(o->progress, "auto") != 0 && strcmp(o->progress, "tty") != 0 &&
        strcmp(o->progress, "log") != 0) {
        snprintf(err, errlen,
                 "--progress: '%s' is not a style (allowed: auto, tty, log)",
                 o->progress);
        return OPTIONS_ERROR;
    }
    if (strcmp(o->launch, "subprocess") != 0 &&
        strcmp(o->launch, "fork-server") != 0) {
        snprintf(err, errlen,
                 "--launch: '%s' is not a mode (allowed: subprocess, "
                 "fork-server)",
                 o->launch);
        return OPTIONS_ERROR;
    }
    if (strcmp(o->launch, "fork-server") == 0 && o->model_cmd) {
        snprintf(err, errlen,
                 "--launch fork-server runs CANDLE benchmarks "
                 "(--model NAME), not --model-cmd");
        return OPTIONS_ERROR;
    }
    if (o->quiet && o->verbose) {
        snprintf(err, errlen, "--quiet and --verbose exclude each other");
        return OPTIONS_ERROR;
    }
    if (o->restart_number && !o->restart) {
        snprintf(err, errlen, "--restart-number needs --restart EXPDIR");
        return OPTIONS_ERROR;
    }
    if (o->exp_id &&
        options_check_exp_id(o->exp_id, "--exp-id", err, errlen) != 0)
        return OPTIONS_ERROR;
    return OPTIONS_OK;
}

static enum options_status options_finish(struct options *o, char *err,
                                          size_t errlen)
{
    enum options_status st = options_validate(o, err, errlen);
    if (o->simulate > 0 && !o->max_evals_given)
        o->max_evals = (long)OPT_COUNT_MAX; /* until the time limit */
    o->verbosity = o->quiet ? -1 : o->verbose ? 1 : 0;
    return st;
}

enum options_status options_parse(int argc, char **argv, struct options *o,
                                  char *err, size_t errlen)
{
    options_defaults(o);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            snprintf(err, errlen,
                     "unexpected argument '%s' (flags start with --; see "
                     "--help)",
                     arg);
            return OPTIONS_ERROR;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct option_spec *s = options_find(name, len);
        if (s == NULL) {
            snprintf(err, errlen,
                     "unknown flag '--%.*s' (see --help for the "
                     "flags)",
                     (int)len, name);
            return OPTIONS_ERROR;
        }
        const char *value = NULL;
        if (s->kind == OPT_FLAG) {
            if (eq) {
                snprintf(err, errlen, "--%s takes no value", s->name);
                return OPTIONS_ERROR;
            }
        } else if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            snprintf(err, errlen, "--%s needs a value (%s)", s->name,
                     s->metavar);
            return OPTIONS_ERROR;
        }
        if (options_set(o, s, value, err, errlen) != OPTIONS_OK)
            return OPTIONS_ERROR;
        if (s->offset == OPT_FIELD(max_evals))
            o->max_evals_given = 1;
    }
    if (o->help)
        return OPTIONS_HELP;
    return options_finish(o, err, errlen);
}

void options_usage(FILE *f)
{
    fprintf(f,
            "usage: mpiexec -n N async-search --problem FILE (--model NAME | "
            "--model-cmd \"CMD ARGS\") [flags]\n"
            "       async-search --check --problem FILE [flags]\n"
            "       async-search report EXPDIR [--top N] [--no-plot]\n"
            "\n"
            "Rank 0 manages the search, ranks 1..N-1 run evaluations (N >= "
            "2).\n\nflags:\n");
    for (size_t i = 0; i < OPTIONS_COUNT; i++) {
        const struct option_spec *s = &options_table[i];
        char left[64];
        if (s->metavar)
            snprintf(left, sizeof left, "--%s %s", s->name, s->metavar);
        else
            snprintf(left, sizeof left, "--%s", s->name);
        fprintf(f, "  %-28s %s", left, s->help);
        if (s->deflt)
            fprintf(f, " [default: %s]", s->deflt);
        fputc('\n', f);
    }
}
