/*
 * progress: what the manager tells the user while the search runs.
 *
 * On a terminal one status line is redrawn in place (at most every
 * PROGRESS_TTY_S); in a log file (a batch job's output) plain lines are
 * printed every PROGRESS_LOG_S, and at once (but not more often than every
 * PROGRESS_BEST_S) when the best objective improves. --verbose adds one line
 * per finished evaluation; --quiet prints nothing until the summary.
 */
#ifndef ASYNC_SEARCH_PROGRESS_H
#define ASYNC_SEARCH_PROGRESS_H

#include <stdio.h>

#define PROGRESS_TTY_S 1.0
#define PROGRESS_LOG_S 30.0
#define PROGRESS_BEST_S 5.0

enum progress_mode { PROGRESS_QUIET, PROGRESS_NORMAL, PROGRESS_VERBOSE };

struct progress_stats {
    long done, total; /* finished evaluations, MAX_EVALS */
    long ok, failed, timeout;
    long stopped; /* stopped early (shown when there are any) */
    long running;
    long done_this_run;   /* since this process started (for the rate) */
    double best;          /* NaN when none */
    const char *best_job; /* "" when none */
    double elapsed;       /* seconds since this process started */
    double time_limit;    /* --time-limit (0: none) */
    int open_ended;       /* no MAX_EVALS: the time limit ends the run */
};

struct progress {
    FILE *out;
    enum progress_mode mode;
    int tty;
    int line_open; /* a status line is drawn and not yet ended */
    double last_print, last_best_print;
    double shown_best;
};

/*
 * Nonzero when stdout reaches a terminal. Under Open MPI a rank's stdout is
 * always a pseudo-terminal of mpiexec's making, so there the answer is
 * whether mpiexec's own stdout (the parent's fd 1) is a terminal.
 */
int progress_stdout_is_terminal(void);
/* Starts reporting to out (not owned); tty decides the style. */
void progress_init(struct progress *p, FILE *out, enum progress_mode mode,
                   int tty);
/* Called after every event; prints when it is time (force: now). */
void progress_update(struct progress *p, const struct progress_stats *s,
                     double now, int force);
/* --verbose: one line for a finished evaluation. */
void progress_evaluation(struct progress *p, const char *job_id,
                         const char *status, double objective, int worker,
                         double duration, const char *reason);
/* Ends the status line so that other output starts on a line of its own. */
void progress_end_line(struct progress *p);
/* Formats the status text (no newline) into buf; exposed for tests. */
void progress_format(char *buf, size_t len, const struct progress_stats *s);

#endif
