/*
 * options: the command line of async-search, parsed into one struct.
 *
 * Every error names the flag, the value given and what is allowed, in one
 * line suitable for "async-search: error: <message>". Parsing never prints
 * and never exits: main decides.
 */
#ifndef ASYNC_SEARCH_OPTIONS_H
#define ASYNC_SEARCH_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#define OPTIONS_ERR_LEN 512

enum options_status {
    OPTIONS_OK = 0,
    OPTIONS_HELP = 1, /* --help was given: print options_usage, exit 0 */
    OPTIONS_ERROR = 2 /* err holds the message: exit 2 */
};

/* Strings point into argv and are not owned. NULL means "not given". */
struct options {
    const char *problem;
    const char *model;     /* --model NAME: the CANDLE runner */
    const char *model_cmd; /* --model-cmd "CMD ARGS": any command */
    const char *exp_dir;
    const char *exp_id;
    const char *optimizer;
    const char *python;  /* interpreter for --model (not the embedded one) */
    const char *launch;  /* subprocess | fork-server */
    const char *restart; /* --restart EXPDIR: continue that experiment */
    long restart_number; /* R for the new job ids; 0: one more than used */
    long gpus_per_node;  /* GPUS_PER_NODE: 0 leaves GPU variables alone */
    long max_failures;   /* stop after this many failed evaluations; 0: no
                            limit */
    int fixed_buffer;    /* keep exactly NUM_BUFFER (no latency hiding) */
    int no_report;       /* no report.png at the end */
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
    int verbosity;        /* -1 --quiet, 0 normal, 1 --verbose */
    const char *progress; /* auto | tty | log */
    double time_limit;    /* stop issuing work after S seconds; 0: none */
    long simulate;        /* virtual workers; 0: a real run under MPI */
    double sim_duration;  /* mean seconds of a virtual evaluation */
    const char *sim_distribution; /* fixed | exp | lognormal */
    const char *sim_objective;    /* default | module:function */
    int max_evals_given;
};

/* Fills o from argv[1..argc-1] (defaults first). Returns an options_status;
 * on OPTIONS_ERROR err holds one line. */
enum options_status options_parse(int argc, char **argv, struct options *o,
                                  char *err, size_t errlen);
/* Writes the --help text (every flag with its default) to f. */
void options_usage(FILE *f);
/* Checks that an experiment id is safe as a directory name: 1-100 of
 * [A-Za-z0-9._-], not "." or "..". Returns 0 or -1 with a message in err. */
int options_check_exp_id(const char *id, const char *what, char *err,
                         size_t errlen);

#endif
