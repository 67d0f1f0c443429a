/*
 * options: the command line of async-search, parsed into one struct.
 *
 * One table in options.c describes every flag: its kind, its field, its
 * allowed values, its typed default and the cfg variable of
 * bin/async-search-run that sets it. The defaults applied by options_parse,
 * the --help text and the cfg mapping (async-search cfg-variables) are all
 * read from that table, so they cannot disagree.
 *
 * Every error names the flag, the value given and what is allowed, in one
 * line suitable for "async-search: error: <message>". Parsing never prints
 * and never exits: main decides.
 */
#ifndef ASYNC_SEARCH_OPTIONS_H
#define ASYNC_SEARCH_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

/* The build's Python (make PYTHON=...): the default of --python, and the
 * interpreter of `async-search report`. The Makefile passes it to every
 * compilation, with the embedded interpreter's program name. */
#ifndef BUILD_PYTHON
#error "BUILD_PYTHON is not defined: build with make (it passes PYTHON)"
#endif

#define OPTIONS_ERR_LEN 512

enum options_status {
    OPTIONS_OK = 0,
    OPTIONS_HELP = 1, /* --help was given: print options_usage, exit 0 */
    OPTIONS_ERROR = 2 /* err holds the message: exit 2 */
};

/* --progress: how the manager shows progress on stdout. */
enum options_progress {
    OPTIONS_PROGRESS_AUTO, /* tty on a terminal, else log */
    OPTIONS_PROGRESS_TTY,  /* one line, redrawn */
    OPTIONS_PROGRESS_LOG   /* a line now and then */
};

/* --launch: how a worker starts an evaluation. */
enum options_launch {
    OPTIONS_LAUNCH_SUBPROCESS, /* a new process each time */
    OPTIONS_LAUNCH_FORK_SERVER /* forked from a warm Python (--model only) */
};

/* --simulate-distribution: durations of virtual evaluations. */
enum options_sim_distribution {
    OPTIONS_SIM_FIXED,    /* always the mean */
    OPTIONS_SIM_EXP,      /* exponential */
    OPTIONS_SIM_LOGNORMAL /* lognormal with that mean */
};

/* --stopper-tell: what the optimizer is told of a stopped evaluation. */
enum options_stopper_tell {
    OPTIONS_STOPPER_TELL_RANK,    /* its step and last value, ordered below
                                     the completed by depth, then value */
    OPTIONS_STOPPER_TELL_ESTIMATE /* the stopper's estimate of its final */
};

/* --share-gpus: whether workers of one node may share a GPU. */
enum options_share { OPTIONS_SHARE_NO, OPTIONS_SHARE_YES };

/* Strings point into argv (or are static defaults) and are not owned. NULL
 * means "not given" for the flags without a default. */
struct options {
    const char *problem;
    const char *model;     /* --model NAME: the CANDLE runner */
    const char *model_cmd; /* --model-cmd "CMD ARGS": any command */
    const char *exp_dir;
    const char *exp_id;
    const char *optimizer; /* a name or module:Class: the engine checks it */
    const char *python;    /* interpreter for --model (not the embedded one) */
    enum options_launch launch;
    const char *restart; /* --restart EXPDIR: continue that experiment */
    long restart_number; /* R for the new job ids; 0: one more than used */
    long gpus_per_node;  /* GPUS_PER_NODE: 0 leaves GPU variables alone */
    enum options_share share_gpus; /* may workers share a GPU */
    long ranks_per_eval;           /* ranks (model processes) per evaluation */
    long fail_fast;    /* stop if the first max(N, workers) all failed */
    long max_failures; /* stop after this many failed evaluations; 0: no
                          limit */
    int fixed_buffer;  /* keep exactly NUM_BUFFER (no latency hiding) */
    int no_report;     /* no report.png at the end */
    long init_size;
    long max_evals;
    long num_buffer;
    long max_threshold;
    long n_jobs;
    long seed;
    double sh_timeout;        /* 0: no hard limit */
    double benchmark_timeout; /* 0: none passed to the model */
    double threshold_window;
    int check;
    int help;
    int quiet, verbose;
    int verbosity; /* -1 --quiet, 0 normal, 1 --verbose */
    enum options_progress progress;
    double time_limit;   /* stop issuing work after S seconds; 0: none */
    long simulate;       /* virtual workers; 0: a real run under MPI */
    double sim_duration; /* mean seconds of a virtual evaluation */
    enum options_sim_distribution sim_distribution;
    int stopper; /* --stopper: the index of a rule in stopper.h's registry */
    long stopper_min_steps; /* no stop before this step; ASHA's first rung */
    double stopper_eta;     /* ASHA's reduction factor */
    long stopper_warmup;    /* median: other trials needed at a step */
    long stopper_max_step;  /* ASHA: no rung at or above it; 0 unknown */
    enum options_stopper_tell stopper_tell;
    const char *sim_objective; /* default | module:function */
    int max_evals_given;
};

/* Fills o from argv[1..argc-1] (the table's defaults first). Returns an
 * options_status; on OPTIONS_ERROR err holds one line. */
enum options_status options_parse(int argc, char **argv, struct options *o,
                                  char *err, size_t errlen);
/* Writes the --help text (every flag with its default and cfg variable) to
 * f. */
void options_usage(FILE *f);
/* Writes the cfg mapping for bin/async-search-run to f: one line
 * "VAR --flag DEFAULT" per flag that has a cfg variable, in the table's
 * order; " DEFAULT" is left out where the flag has none. A default is
 * written so that giving it back as the flag's value changes nothing. */
void options_cfg_variables(FILE *f);
/* Compares the values of every flag in a and b (strings by content).
 * Returns NULL if they are all equal, else the name (without "--") of the
 * first flag that differs. */
const char *options_diff(const struct options *a, const struct options *b);

/* The --stopper-tell name of a choice ("rank", "estimate"). */
const char *options_stopper_tell_name(enum options_stopper_tell tell);

/* The --stopper name of a stopper rule index (stopper_rule_name; "none"
 * for an index the registry lacks). */
const char *options_stopper_name(int stopper);

struct strbuf;
/* Appends every setting that has a cfg variable, except --problem (the
 * experiment records its resolved path) and --restart-number (one start's,
 * not the experiment's), to sb as JSON members
 * ",\n  \"name\": value": named as the flag is with '-' as '_'
 * (--max-evals: "max_evals"), numbers as numbers, names of choices and
 * strings as strings, a string not given as null. A restart by
 * bin/async-search-run reads them back by those names. */
void options_settings_json(const struct options *o, struct strbuf *sb);

#endif
