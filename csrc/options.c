/*
 * options: table-driven flag parsing. Each flag is one row of options_table:
 * its kind, where it is stored, its allowed values (a range, or a list of
 * names for an enum), its typed default, its cfg variable and a help line.
 * The defaults, --help and `async-search cfg-variables` are all read from
 * the rows. Adding a flag is adding a row and a field.
 */
#include "options.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "expid.h"
#include "policy.h"
#include "stopper.h"
#include "strbuf.h"

enum option_kind {
    OPT_STRING, /* const char *; an empty value is an error */
    OPT_LONG,   /* long in [min, max] */
    OPT_DOUBLE, /* double in [min, max], finite */
    OPT_CHOICE, /* an enum, given by one of the names in choices */
    OPT_FLAG    /* int set to 1; takes no value */
};

/* One name of an OPT_CHOICE flag and the enum value it stands for. */
struct option_choice {
    const char *name;
    int value;
};

/* The names an OPT_CHOICE flag accepts: a list, or a registry kept by
 * another module (name_at(i, &help) for i = 0, 1, ... until NULL; the value
 * stored is i). */
struct option_choices {
    const char *noun;                 /* in "'x' is not <noun>" */
    const struct option_choice *list; /* ends with {NULL, 0}; or NULL */
    const char *(*name_at)(int i, const char **help);
};

/* A default, by kind: s (OPT_STRING; NULL: no default, and first so that a
 * row without .def has none), l (OPT_LONG), d (OPT_DOUBLE), c (OPT_CHOICE).
 * OPT_FLAG defaults to 0. */
union option_value {
    const char *s;
    long l;
    double d;
    int c;
};

struct option_spec {
    const char *name; /* without the leading "--" */
    enum option_kind kind;
    size_t offset;                        /* of the field in struct options */
    double min, max;                      /* OPT_LONG, OPT_DOUBLE */
    const struct option_choices *choices; /* OPT_CHOICE */
    const char *metavar; /* OPT_CHOICE: NULL, the names are shown */
    union option_value def;
    /* OPT_LONG, OPT_DOUBLE with special_help: one more value, outside [min,
     * max], that is accepted and stored as special_as (the original
     * workflow's -1 for "all cores" and "no timeout"). */
    double special, special_as;
    const char *special_help; /* its meaning, for messages; NULL: none */
    const char *cfg; /* the cfg variable of bin/async-search-run; NULL: none */
    const char *help;
};

#define OPT_FIELD(f) offsetof(struct options, f)
/* Integer flags stop well below LONG_MAX so that sums of counters cannot
 * overflow. */
#define OPT_COUNT_MAX 1000000000.0
#define OPT_SECONDS_MAX 31536000.0 /* one year */
/* Room for "--flag METAVAR" in the --help column, and for one value as
 * text. */
#define OPT_LEFT_LEN 96
#define OPT_LEFT_WIDTH 28
#define OPT_VALUE_LEN 64
/* Whole numbers below this are written in full, digit by digit. */
#define OPT_WHOLE_MAX 1e15

/* Enums are stored through an int lvalue. */
_Static_assert(sizeof(enum options_progress) == sizeof(int), "enum size");
_Static_assert(sizeof(enum options_launch) == sizeof(int), "enum size");
_Static_assert(sizeof(enum options_stopper_tell) == sizeof(int), "enum size");
_Static_assert(sizeof(enum options_sim_distribution) == sizeof(int),
               "enum size");

static const struct option_choice options_progress_list[] = {
    {"auto", OPTIONS_PROGRESS_AUTO},
    {"tty", OPTIONS_PROGRESS_TTY},
    {"log", OPTIONS_PROGRESS_LOG},
    {NULL, 0},
};
static const struct option_choices options_progress = {
    "a style", options_progress_list, NULL};

static const struct option_choice options_launch_list[] = {
    {"subprocess", OPTIONS_LAUNCH_SUBPROCESS},
    {"fork-server", OPTIONS_LAUNCH_FORK_SERVER},
    {NULL, 0},
};
static const struct option_choices options_launch = {"a mode",
                                                     options_launch_list, NULL};

static const struct option_choice options_sim_distribution_list[] = {
    {"fixed", OPTIONS_SIM_FIXED},
    {"exp", OPTIONS_SIM_EXP},
    {"lognormal", OPTIONS_SIM_LOGNORMAL},
    {NULL, 0},
};
static const struct option_choices options_sim_distribution = {
    "a distribution", options_sim_distribution_list, NULL};

static const struct option_choice options_stopper_tell_list[] = {
    {"rank", OPTIONS_STOPPER_TELL_RANK},
    {"estimate", OPTIONS_STOPPER_TELL_ESTIMATE},
    {NULL, 0},
};
static const struct option_choices options_stopper_tell = {
    "a way to tell", options_stopper_tell_list, NULL};

/* The stoppers' registry (stopper.c) is the list. */
static const struct option_choices options_stopper = {"a stopper", NULL,
                                                      stopper_rule_name};

static const struct option_choice options_share_list[] = {
    {"no", OPTIONS_SHARE_NO},
    {"yes", OPTIONS_SHARE_YES},
    {NULL, 0},
};
static const struct option_choices options_share = {"yes or no",
                                                    options_share_list, NULL};

static const struct option_spec options_table[] = {
    {.name = "problem",
     .kind = OPT_STRING,
     .offset = OPT_FIELD(problem),
     .metavar = "FILE",
     .cfg = "PROBLEM",
     .help = "problem*.py file defining class Problem (space, params) "
             "(required)"},
    {.name = "model",
     .kind = OPT_STRING,
     .offset = OPT_FIELD(model),
     .metavar = "NAME",
     .help = "CANDLE benchmark run by 'python -m async_search.runner NAME' "
             "(tc1, nt3, example, or a module on PYTHONPATH)"},
    {.name = "model-cmd",
     .kind = OPT_STRING,
     .offset = OPT_FIELD(model_cmd),
     .metavar = "\"CMD ARGS\"",
     .cfg = "MODEL_CMD",
     .help = "any command; run without a shell, with the params.json path "
             "appended"},
    {.name = "exp-dir",
     .kind = OPT_STRING,
     .offset = OPT_FIELD(exp_dir),
     .metavar = "DIR",
     .help = "experiment directory (created; must not hold results already)"},
    {.name = "exp-id",
     .kind = OPT_STRING,
     .offset = OPT_FIELD(exp_id),
     .metavar = "ID",
     .help = "experiment id: the directory is " EXPID_ROOT "/ID (without "
             "--exp-dir, --exp-id and --restart: the first free " EXPID_ROOT
             "/EXPnnn)"},
    {.name = "restart",
     .kind = OPT_STRING,
     .offset = OPT_FIELD(restart),
     .metavar = "EXPDIR",
     .help = "continue a killed or finished experiment up to --max-evals "
             "rows"},
    {.name = "restart-number",
     .kind = OPT_LONG,
     .offset = OPT_FIELD(restart_number),
     .min = 0,
     .max = 1000000,
     .metavar = "R",
     .def.l = 0,
     .cfg = "RESTART_NUMBER",
     .help = "R of the new job ids R_I_J with --restart (0: one more than "
             "used)"},
    {.name = "max-failures",
     .kind = OPT_LONG,
     .offset = OPT_FIELD(max_failures),
     .min = 0,
     .max = OPT_COUNT_MAX,
     .metavar = "N",
     .def.l = 0,
     .cfg = "MAX_FAILURES",
     .help = "stop once N evaluations have failed or timed out (0: never)"},
    {.name = "fail-fast",
     .kind = OPT_LONG,
     .offset = OPT_FIELD(fail_fast),
     .min = 0,
     .max = OPT_COUNT_MAX,
     .metavar = "N",
     .def.l = 5,
     .cfg = "FAIL_FAST",
     .help = "stop when the first max(N, workers) evaluations of an "
             "experiment all failed or timed out: the model is mis-wired "
             "(exit 4; 0: never)"},
    {.name = "init-size",
     .kind = OPT_LONG,
     .offset = OPT_FIELD(init_size),
     .min = 1,
     .max = OPT_COUNT_MAX,
     .metavar = "N",
     .def.l = 4,
     .cfg = "INIT_SIZE",
     .help = "points of the initial design, requested at the start"},
    {.name = "max-evals",
     .kind = OPT_LONG,
     .offset = OPT_FIELD(max_evals),
     .min = 1,
     .max = OPT_COUNT_MAX,
     .metavar = "N",
     .def.l = 20,
     .cfg = "MAX_EVALS",
     .help = "evaluations to finish (failed ones count)"},
    {.name = "num-buffer",
     .kind = OPT_LONG,
     .offset = OPT_FIELD(num_buffer),
     .min = 0,
     .max = OPT_COUNT_MAX,
     .metavar = "N",
     .def.l = 2,
     .cfg = "NUM_BUFFER",
     .help = "points kept ready beyond one per worker"},
    {.name = "max-threshold",
     .kind = OPT_LONG,
     .offset = OPT_FIELD(max_threshold),
     .min = 1,
     .max = OPT_COUNT_MAX,
     .metavar = "N",
     .def.l = 1,
     .cfg = "MAX_THRESHOLD",
     .help = "results batched per request when they come fast"},
    {.name = "threshold-window",
     .kind = OPT_DOUBLE,
     .offset = OPT_FIELD(threshold_window),
     .min = 0,
     .max = OPT_SECONDS_MAX,
     .metavar = "S",
     .def.d = POLICY_THRESHOLD_WINDOW_S,
     .cfg = "THRESHOLD_WINDOW",
     .help = "results closer than S seconds are batched by --max-threshold"},
    {.name = "n-jobs",
     .kind = OPT_LONG,
     .offset = OPT_FIELD(n_jobs),
     .min = 1,
     .max = 1024,
     .metavar = "N",
     .def.l = 1,
     .special = -1,
     .special_as = -1,
     .special_help = "all cores",
     .cfg = "N_JOBS",
     .help = "threads the optimizer uses to produce points (-1: all "
             "cores)"},
    {.name = "seed",
     .kind = OPT_LONG,
     .offset = OPT_FIELD(seed),
     .min = 0,
     .max = 4294967295.0,
     .metavar = "N",
     .def.l = 0,
     .cfg = "RANDOM_SEED",
     .help = "seed of the optimizer"},
    {.name = "optimizer",
     .kind = OPT_STRING,
     .offset = OPT_FIELD(optimizer),
     .metavar = "NAME",
     .def.s = "default",
     .cfg = "OPTIMIZER",
     .help = "default | original | random | optuna | skopt | module:Class"},
    {.name = "sh-timeout",
     .kind = OPT_DOUBLE,
     .offset = OPT_FIELD(sh_timeout),
     .min = 0,
     .max = OPT_SECONDS_MAX,
     .metavar = "S",
     .def.d = 3600,
     .special = -1,
     .special_as = 0,
     .special_help = "never, as 0",
     .cfg = "SH_TIMEOUT",
     .help = "kill a model after S seconds (0 or -1: never)"},
    {.name = "benchmark-timeout",
     .kind = OPT_DOUBLE,
     .offset = OPT_FIELD(benchmark_timeout),
     .min = 0,
     .max = OPT_SECONDS_MAX,
     .metavar = "S",
     .def.d = 3600,
     .special = -1,
     .special_as = 0,
     .special_help = "none, as 0",
     .cfg = "BENCHMARK_TIMEOUT",
     .help = "graceful limit passed to the model (0 or -1: none)"},
    {.name = "gpus-per-node",
     .kind = OPT_LONG,
     .offset = OPT_FIELD(gpus_per_node),
     .min = 0,
     .max = 1024,
     .metavar = "N",
     .def.l = 0,
     .cfg = "GPUS_PER_NODE",
     .help = "give each worker one GPU by its node-local rank (sets "
             "CUDA_VISIBLE_DEVICES, ROCR_VISIBLE_DEVICES, ZE_AFFINITY_MASK; "
             "0: off)"},
    {.name = "launch",
     .kind = OPT_CHOICE,
     .offset = OPT_FIELD(launch),
     .choices = &options_launch,
     .def.c = OPTIONS_LAUNCH_SUBPROCESS,
     .cfg = "LAUNCH",
     .help = "subprocess: a new process per evaluation; fork-server: each "
             "worker forks evaluations from a Python that imported the "
             "benchmark once (needs --model)"},
    {.name = "python",
     .kind = OPT_STRING,
     .offset = OPT_FIELD(python),
     .metavar = "PATH",
     .def.s = BUILD_PYTHON,
     .cfg = "MODEL_PYTHON",
     .help = "Python interpreter that runs --model benchmarks"},
    {.name = "quiet",
     .kind = OPT_FLAG,
     .offset = OPT_FIELD(quiet),
     .help = "no progress lines or warnings (they still go to manager.log)"},
    {.name = "verbose",
     .kind = OPT_FLAG,
     .offset = OPT_FIELD(verbose),
     .help = "a line per finished evaluation; debug messages in "
             "manager.log"},
    {.name = "progress",
     .kind = OPT_CHOICE,
     .offset = OPT_FIELD(progress),
     .choices = &options_progress,
     .def.c = OPTIONS_PROGRESS_AUTO,
     .help = "tty: one line, redrawn; log: a line every 30 s; auto: tty on "
             "a terminal, else log"},
    {.name = "ranks-per-eval",
     .kind = OPT_LONG,
     .offset = OPT_FIELD(ranks_per_eval),
     .min = 1,
     .max = 100000,
     .metavar = "K",
     .def.l = 1,
     .cfg = "RANKS_PER_EVAL",
     .help = "worker ranks per evaluation: teams of K ranks (node-local where "
             "possible) each run one model process with RANK, WORLD_SIZE, "
             "LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT set "
             "(torch.distributed, Horovod) and its own GPU"},
    {.name = "share-gpus",
     .kind = OPT_CHOICE,
     .offset = OPT_FIELD(share_gpus),
     .choices = &options_share,
     .def.c = OPTIONS_SHARE_NO,
     .cfg = "SHARE_GPUS",
     .help = "with --gpus-per-node, let workers of a node share a GPU when "
             "they outnumber the GPUs (else that is refused)"},
    {.name = "stopper",
     .kind = OPT_CHOICE,
     .offset = OPT_FIELD(stopper),
     .choices = &options_stopper,
     .def.c = STOPPER_RULE_NONE,
     .cfg = "STOPPER",
     .help = "stop evaluations early from the IMPROVE_INTERMEDIATE values "
             "their models report, by one of these rules:"},
    {.name = "stopper-min-steps",
     .kind = OPT_LONG,
     .offset = OPT_FIELD(stopper_min_steps),
     .min = 1,
     .max = OPT_COUNT_MAX,
     .metavar = "N",
     .def.l = 1,
     .cfg = "STOPPER_MIN_STEPS",
     .help = "no evaluation is stopped before step N (ASHA's first rung)"},
    {.name = "stopper-eta",
     .kind = OPT_DOUBLE,
     .offset = OPT_FIELD(stopper_eta),
     .min = 1.01,
     .max = 1000,
     .metavar = "F",
     .def.d = 3,
     .cfg = "STOPPER_ETA",
     .help = "ASHA's reduction factor: rungs at steps N x F^k, and an "
             "evaluation goes on past a rung only in the best 1/F (lce "
             "decides at the same rungs)"},
    {.name = "stopper-warmup",
     .kind = OPT_LONG,
     .offset = OPT_FIELD(stopper_warmup),
     .min = 1,
     .max = OPT_COUNT_MAX,
     .metavar = "N",
     .def.l = 5,
     .cfg = "STOPPER_WARMUP",
     .help = "median, lce: N evaluations must have completed before they "
             "judge (Optuna's n_startup_trials); lce predicts from the N "
             "completed curves nearest to an evaluation's"},
    {.name = "stopper-max-step",
     .kind = OPT_LONG,
     .offset = OPT_FIELD(stopper_max_step),
     .min = 0,
     .max = OPT_COUNT_MAX,
     .metavar = "N",
     .def.l = 0,
     .cfg = "STOPPER_MAX_STEP",
     .help = "the last step (epoch) of a full evaluation, for models that "
             "do not say theirs: none is stopped there or later, ASHA has no "
             "rung there; 0: the last step of the longest evaluation that ran "
             "to its end"},
    {.name = "stopper-tell",
     .kind = OPT_CHOICE,
     .offset = OPT_FIELD(stopper_tell),
     .choices = &options_stopper_tell,
     .def.c = OPTIONS_STOPPER_TELL_RANK,
     .cfg = "STOPPER_TELL",
     .help = "what the optimizer models for a stopped evaluation: rank (its "
             "last step and value: worse than every completed one, deeper "
             "steps better, then lower values) or estimate (the stopper's "
             "estimate of its final value)"},
    {.name = "time-limit",
     .kind = OPT_DOUBLE,
     .offset = OPT_FIELD(time_limit),
     .min = 0,
     .max = OPT_SECONDS_MAX,
     .metavar = "S",
     .def.d = 0,
     .help = "stop issuing work after S seconds, end running evaluations "
             "(they are reissued by --restart); 0: no limit"},
    {.name = "simulate",
     .kind = OPT_LONG,
     .offset = OPT_FIELD(simulate),
     .min = 0,
     .max = 10000000,
     .metavar = "W",
     .def.l = 0,
     .help = "run against W virtual workers in this process (no MPI, no "
             "models)"},
    {.name = "simulate-duration",
     .kind = OPT_DOUBLE,
     .offset = OPT_FIELD(sim_duration),
     .min = 0.000001,
     .max = OPT_SECONDS_MAX,
     .metavar = "S",
     .def.d = 1,
     .help = "mean seconds of a virtual evaluation"},
    {.name = "simulate-distribution",
     .kind = OPT_CHOICE,
     .offset = OPT_FIELD(sim_distribution),
     .choices = &options_sim_distribution,
     .def.c = OPTIONS_SIM_FIXED,
     .help = "durations of virtual evaluations around the mean"},
    {.name = "simulate-objective",
     .kind = OPT_STRING,
     .offset = OPT_FIELD(sim_objective),
     .metavar = "F",
     .def.s = "default",
     .help = "default | module:function | file.py:function"},
    {.name = "fixed-buffer",
     .kind = OPT_FLAG,
     .offset = OPT_FIELD(fixed_buffer),
     .help = "keep exactly NUM_BUFFER extra points (by default the buffer "
             "grows to the results of the last two optimizer turns, up to "
             "one per worker)"},
    {.name = "no-report",
     .kind = OPT_FLAG,
     .offset = OPT_FIELD(no_report),
     .help = "do not write EXPDIR/report.png at the end (async-search "
             "report EXPDIR still can)"},
    {.name = "check",
     .kind = OPT_FLAG,
     .offset = OPT_FIELD(check),
     .help = "validate the flags and the problem file, print the space, "
             "exit"},
    {.name = "help",
     .kind = OPT_FLAG,
     .offset = OPT_FIELD(help),
     .help = "print this help and exit"},
};

#define OPTIONS_COUNT (sizeof options_table / sizeof options_table[0])

static void options_defaults(struct options *o)
{
    char *base = (char *)o;
    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < OPTIONS_COUNT; i++) {
        const struct option_spec *s = &options_table[i];
        switch (s->kind) {
        case OPT_STRING: *(const char **)(base + s->offset) = s->def.s; break;
        case OPT_LONG: *(long *)(base + s->offset) = s->def.l; break;
        case OPT_DOUBLE: *(double *)(base + s->offset) = s->def.d; break;
        case OPT_CHOICE: *(int *)(base + s->offset) = s->def.c; break;
        case OPT_FLAG: break;
        }
    }
}

static const struct option_spec *options_find(const char *name, size_t len)
{
    for (size_t i = 0; i < OPTIONS_COUNT; i++)
        if (strlen(options_table[i].name) == len &&
            strncmp(options_table[i].name, name, len) == 0)
            return &options_table[i];
    return NULL;
}

/* The i-th name of c (NULL past the last), its value and its help (NULL
 * for a list). */
static const char *options_choice_at(const struct option_choices *c, int i,
                                     int *value, const char **help)
{
    *help = NULL;
    *value = i;
    if (c->list == NULL)
        return c->name_at(i, help);
    *value = c->list[i].value;
    return c->list[i].name;
}

/* The name of an OPT_CHOICE value; NULL if it has none. */
static const char *options_choice_name(const struct option_choices *c,
                                       int value)
{
    const char *name, *help;
    int v;
    for (int i = 0; (name = options_choice_at(c, i, &v, &help)); i++)
        if (v == value)
            return name;
    return NULL;
}

const char *options_stopper_name(int stopper)
{
    const char *name = options_choice_name(&options_stopper, stopper);
    return name ? name : "none";
}

const char *options_stopper_tell_name(enum options_stopper_tell tell)
{
    const char *name = options_choice_name(&options_stopper_tell, (int)tell);
    return name ? name : "rank";
}

/* Writes the names of c joined by sep into buf. */
static void options_choice_names(const struct option_choices *c,
                                 const char *sep, char *buf, size_t len)
{
    size_t used = 0;
    const char *name, *help;
    int v;
    buf[0] = '\0';
    for (int i = 0; (name = options_choice_at(c, i, &v, &help)) && used < len;
         i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? sep : "", name);
        if (n < 0)
            return;
        used += (size_t)n;
    }
}

/* The shortest text that reads back as exactly v: whole numbers in full
 * ("3600", "31536000"), others in %g style ("0.5", "1e-06"). */
static void options_format_double(char *buf, size_t len, double v)
{
    if (v == floor(v) && fabs(v) < OPT_WHOLE_MAX) {
        snprintf(buf, len, "%.0f", v);
        return;
    }
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* Writes the value of s's field in o as text a user could give back as the
 * flag's value. Returns 0, or -1 if there is nothing to write (a flag, or a
 * string that is not set). */
static int options_value_text(const struct option_spec *s,
                              const struct options *o, char *buf, size_t len)
{
    const char *base = (const char *)o;
    const char *str;
    switch (s->kind) {
    case OPT_STRING:
        str = *(const char *const *)(base + s->offset);
        if (str == NULL)
            return -1;
        snprintf(buf, len, "%s", str);
        return 0;
    case OPT_LONG:
        snprintf(buf, len, "%ld", *(const long *)(base + s->offset));
        return 0;
    case OPT_DOUBLE:
        options_format_double(buf, len, *(const double *)(base + s->offset));
        return 0;
    case OPT_CHOICE:
        str = options_choice_name(s->choices, *(const int *)(base + s->offset));
        if (str == NULL)
            return -1;
        snprintf(buf, len, "%s", str);
        return 0;
    case OPT_FLAG: return -1;
    }
    return -1;
}

static void options_range(const struct option_spec *s, char *buf, size_t len)
{
    char lo[OPT_VALUE_LEN], hi[OPT_VALUE_LEN], sp[OPT_VALUE_LEN] = "";
    options_format_double(lo, sizeof lo, s->min);
    options_format_double(hi, sizeof hi, s->max);
    if (s->special_help)
        options_format_double(sp, sizeof sp, s->special);
    snprintf(buf, len, "%s from %s to %s%s%s%s%s",
             s->kind == OPT_LONG ? "an integer" : "a number of seconds", lo, hi,
             s->special_help ? ", or " : "", sp, s->special_help ? ": " : "",
             s->special_help ? s->special_help : "");
}

/* Whether v is s's special value (see struct option_spec). */
static int options_is_special(const struct option_spec *s, double v)
{
    return s->special_help != NULL && v == s->special;
}

static enum options_status options_set_choice(struct options *o,
                                              const struct option_spec *s,
                                              const char *value, char *err,
                                              size_t errlen)
{
    const char *name, *help;
    int v;
    for (int i = 0; (name = options_choice_at(s->choices, i, &v, &help)); i++) {
        if (strcmp(name, value) == 0) {
            *(int *)((char *)o + s->offset) = v;
            return OPTIONS_OK;
        }
    }
    char names[OPT_VALUE_LEN * 2];
    options_choice_names(s->choices, ", ", names, sizeof names);
    snprintf(err, errlen, "--%s: '%s' is not %s (allowed: %s)", s->name, value,
             s->choices->noun, names);
    return OPTIONS_ERROR;
}

static enum options_status options_set_number(struct options *o,
                                              const struct option_spec *s,
                                              const char *value, char *err,
                                              size_t errlen)
{
    char *base = (char *)o;
    char allowed[OPT_VALUE_LEN * 4];
    options_range(s, allowed, sizeof allowed);
    char *end;
    errno = 0;
    if (s->kind == OPT_LONG) {
        long long v = strtoll(value, &end, 10);
        if (end == value || *end != '\0') {
            snprintf(err, errlen, "--%s: '%s' is not an integer (allowed: %s)",
                     s->name, value, allowed);
            return OPTIONS_ERROR;
        }
        if (errno != ERANGE && options_is_special(s, (double)v)) {
            *(long *)(base + s->offset) = (long)s->special_as;
            return OPTIONS_OK;
        }
        if (errno == ERANGE || (double)v < s->min || (double)v > s->max) {
            snprintf(err, errlen, "--%s: %s is out of range (allowed: %s)",
                     s->name, value, allowed);
            return OPTIONS_ERROR;
        }
        *(long *)(base + s->offset) = (long)v;
        return OPTIONS_OK;
    }
    double v = strtod(value, &end);
    if (end == value || *end != '\0' || !isfinite(v)) {
        snprintf(err, errlen, "--%s: '%s' is not a number (allowed: %s)",
                 s->name, value, allowed);
        return OPTIONS_ERROR;
    }
    if (errno != ERANGE && options_is_special(s, v)) {
        *(double *)(base + s->offset) = s->special_as;
        return OPTIONS_OK;
    }
    if (errno == ERANGE || v < s->min || v > s->max) {
        snprintf(err, errlen, "--%s: %s is out of range (allowed: %s)", s->name,
                 value, allowed);
        return OPTIONS_ERROR;
    }
    *(double *)(base + s->offset) = v;
    return OPTIONS_OK;
}

static enum options_status options_set(struct options *o,
                                       const struct option_spec *s,
                                       const char *value, char *err,
                                       size_t errlen)
{
    switch (s->kind) {
    case OPT_STRING:
        if (value[0] == '\0') {
            snprintf(err, errlen, "--%s: the value is empty (expected %s)",
                     s->name, s->metavar);
            return OPTIONS_ERROR;
        }
        *(const char **)((char *)o + s->offset) = value;
        return OPTIONS_OK;
    case OPT_LONG:
    case OPT_DOUBLE: return options_set_number(o, s, value, err, errlen);
    case OPT_CHOICE: return options_set_choice(o, s, value, err, errlen);
    case OPT_FLAG: *(int *)((char *)o + s->offset) = 1; return OPTIONS_OK;
    }
    return OPTIONS_ERROR;
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
    if (o->launch == OPTIONS_LAUNCH_FORK_SERVER && o->model_cmd) {
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
    if (o->exp_id && expid_check(o->exp_id, "--exp-id", err, errlen) != 0)
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
                     s->metavar ? s->metavar : "see --help");
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

/* The choices of s that have a help line of their own, one a line. */
static void options_usage_choices(FILE *f, const struct option_spec *s)
{
    const char *name, *help;
    int v;
    if (s->kind != OPT_CHOICE)
        return;
    for (int i = 0; (name = options_choice_at(s->choices, i, &v, &help)); i++)
        if (help != NULL)
            fprintf(f, "  %-*s   %s: %s\n", OPT_LEFT_WIDTH, "", name, help);
}

void options_usage(FILE *f)
{
    struct options d;
    options_defaults(&d);
    fprintf(f,
            "usage: mpiexec -n N async-search --problem FILE (--model NAME | "
            "--model-cmd \"CMD ARGS\") [flags]\n"
            "       async-search --check --problem FILE [flags]\n"
            "       async-search report EXPDIR [--top N] [--no-plot]\n"
            "       async-search cfg-variables    (VAR --flag DEFAULT lines "
            "for bin/async-search-run)\n"
            "       async-search next-exp-id [ROOT [SUFFIX]]    (the first "
            "free EXPnnn[SUFFIX] under ROOT, default " EXPID_ROOT ")\n"
            "\n"
            "Rank 0 manages the search, ranks 1..N-1 run evaluations (N >= "
            "2).\n\nflags:\n");
    for (size_t i = 0; i < OPTIONS_COUNT; i++) {
        const struct option_spec *s = &options_table[i];
        char left[OPT_LEFT_LEN], names[OPT_VALUE_LEN], value[OPT_VALUE_LEN];
        const char *metavar = s->metavar;
        if (s->kind == OPT_CHOICE) {
            options_choice_names(s->choices, "|", names, sizeof names);
            metavar = names;
        }
        if (metavar)
            snprintf(left, sizeof left, "--%s %s", s->name, metavar);
        else
            snprintf(left, sizeof left, "--%s", s->name);
        if (strlen(left) > OPT_LEFT_WIDTH) /* the help on a line of its own */
            fprintf(f, "  %s\n  %-*s ", left, OPT_LEFT_WIDTH, "");
        else
            fprintf(f, "  %-*s ", OPT_LEFT_WIDTH, left);
        if (s->cfg)
            fprintf(f, "%s: ", s->cfg);
        fputs(s->help, f);
        if (options_value_text(s, &d, value, sizeof value) == 0)
            fprintf(f, " [default: %s]", value);
        fputc('\n', f);
        options_usage_choices(f, s);
    }
}

void options_cfg_variables(FILE *f)
{
    struct options d;
    options_defaults(&d);
    for (size_t i = 0; i < OPTIONS_COUNT; i++) {
        const struct option_spec *s = &options_table[i];
        char value[OPT_VALUE_LEN];
        if (s->cfg == NULL)
            continue;
        fprintf(f, "%s --%s", s->cfg, s->name);
        if (options_value_text(s, &d, value, sizeof value) == 0)
            fprintf(f, " %s", value);
        fputc('\n', f);
    }
}

const char *options_diff(const struct options *a, const struct options *b)
{
    const char *pa = (const char *)a, *pb = (const char *)b;
    for (size_t i = 0; i < OPTIONS_COUNT; i++) {
        const struct option_spec *s = &options_table[i];
        const char *x, *y;
        int same = 1;
        switch (s->kind) {
        case OPT_STRING:
            x = *(const char *const *)(pa + s->offset);
            y = *(const char *const *)(pb + s->offset);
            same = (x == NULL || y == NULL) ? x == y : strcmp(x, y) == 0;
            break;
        case OPT_LONG:
            same = *(const long *)(pa + s->offset) ==
                   *(const long *)(pb + s->offset);
            break;
        case OPT_DOUBLE:
            same = *(const double *)(pa + s->offset) ==
                   *(const double *)(pb + s->offset);
            break;
        case OPT_CHOICE:
        case OPT_FLAG:
            same = *(const int *)(pa + s->offset) ==
                   *(const int *)(pb + s->offset);
            break;
        }
        if (!same)
            return s->name;
    }
    return NULL;
}

void options_settings_json(const struct options *o, struct strbuf *sb)
{
    for (size_t i = 0; i < OPTIONS_COUNT; i++) {
        const struct option_spec *s = &options_table[i];
        char value[OPT_VALUE_LEN];
        if (s->cfg == NULL || strcmp(s->name, "problem") == 0 ||
            strcmp(s->name, "restart-number") == 0)
            continue;
        strbuf_puts(sb, ",\n  \"");
        for (const char *c = s->name; *c; c++) {
            char ch = *c == '-' ? '_' : *c;
            strbuf_append(sb, &ch, 1);
        }
        strbuf_puts(sb, "\": ");
        if (s->kind == OPT_FLAG) {
            int on = *(const int *)((const char *)o + s->offset);
            strbuf_puts(sb, on ? "true" : "false");
        } else if (options_value_text(s, o, value, sizeof value) != 0) {
            strbuf_puts(sb, "null");
        } else if (s->kind == OPT_LONG || s->kind == OPT_DOUBLE) {
            strbuf_puts(sb, value);
        } else {
            /* a string is written whole: value holds OPT_VALUE_LEN bytes */
            const char *text =
                s->kind == OPT_STRING
                    ? *(const char *const *)((const char *)o + s->offset)
                    : value;
            strbuf_json_string(sb, text);
        }
    }
}
