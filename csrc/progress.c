/*
 * progress: see progress.h.
 */
#include "progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define PROGRESS_LINE_MAX 256

int progress_stdout_is_terminal(void)
{
    if (!isatty(STDOUT_FILENO))
        return 0;
    if (getenv("OMPI_COMM_WORLD_RANK") == NULL)
        return 1;
    char link[64], target[256];
    snprintf(link, sizeof link, "/proc/%ld/fd/1", (long)getppid());
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return 0;
    target[n] = '\0';
    return strncmp(target, "/dev/pts/", 9) == 0 ||
           strncmp(target, "/dev/tty", 8) == 0;
}

void progress_init(struct progress *p, FILE *out, enum progress_mode mode,
                   int tty)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    p->mode = mode;
    p->tty = tty;
    p->last_print = p->last_best_print = -INFINITY;
    p->shown_best = NAN;
}

static void progress_duration(char *buf, size_t len, double s)
{
    if (s < 0 || !isfinite(s))
        snprintf(buf, len, "?");
    else if (s < 60)
        snprintf(buf, len, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

void progress_format(char *buf, size_t len, const struct progress_stats *s)
{
    char eta[32], best[128], value[40];
    double rate = s->elapsed > 0 ? s->done_this_run / s->elapsed * 60.0 : 0;
    long left = s->total - s->done;
    double eta_s = left <= 0 ? 0 : rate > 0 ? left / rate * 60.0 : -1;
    if (s->time_limit > 0 &&
        (s->open_ended || eta_s < 0 || eta_s > s->time_limit - s->elapsed))
        eta_s = s->time_limit - s->elapsed; /* the time limit comes first */
    progress_duration(eta, sizeof eta, eta_s);
    if (isnan(s->best)) {
        snprintf(best, sizeof best, "none yet");
    } else {
        util_format_double(value, sizeof value, s->best);
        snprintf(best, sizeof best, "%.12s (%s)", value, s->best_job);
    }
    char stopped[48] = "";
    if (s->stopped > 0)
        snprintf(stopped, sizeof stopped, " | stopped %ld", s->stopped);
    if (s->open_ended) {
        snprintf(buf, len,
                 "[%ld done] | running %ld%s | failed %ld | best %s | %.1f "
                 "evals/min | time left %s",
                 s->done, s->running, stopped, s->failed + s->timeout, best,
                 rate, eta);
        return;
    }
    int width = snprintf(NULL, 0, "%ld", s->total);
    snprintf(buf, len,
             "[%*ld/%ld] %3.0f%% | running %ld%s | failed %ld | best %s | "
             "%.1f evals/min | ETA %s",
             width, s->done, s->total,
             s->total > 0 ? 100.0 * s->done / s->total : 100.0, s->running,
             stopped, s->failed + s->timeout, best, rate, eta);
}

void progress_update(struct progress *p, const struct progress_stats *s,
                     double now, int force)
{
    if (p->mode == PROGRESS_QUIET)
        return;
    int improved =
        !isnan(s->best) && (isnan(p->shown_best) || s->best < p->shown_best);
    double interval = p->tty ? PROGRESS_TTY_S : PROGRESS_LOG_S;
    int due =
        force || now - p->last_print >= interval ||
        (!p->tty && improved && now - p->last_best_print >= PROGRESS_BEST_S);
    if (!due)
        return;
    char line[PROGRESS_LINE_MAX];
    progress_format(line, sizeof line, s);
    if (p->tty) {
        /* Redraw in place: carriage return, the text, clear to the end. */
        fprintf(p->out, "\r%s\033[K", line);
        p->line_open = 1;
    } else {
        fprintf(p->out, "%s\n", line);
    }
    fflush(p->out);
    p->last_print = now;
    if (improved) {
        p->last_best_print = now;
        p->shown_best = s->best;
    }
}

void progress_end_line(struct progress *p)
{
    if (p->line_open) {
        fputc('\n', p->out);
        fflush(p->out);
        p->line_open = 0;
    }
}

void progress_evaluation(struct progress *p, const char *job_id,
                         const char *status, double objective, int worker,
                         double duration, const char *reason)
{
    if (p->mode != PROGRESS_VERBOSE)
        return;
    char value[40];
    util_format_double(value, sizeof value, objective);
    progress_end_line(p);
    fprintf(p->out, "%-12s %-8s %-22s worker %-4d %8.2f s%s%s\n", job_id,
            status, value, worker, duration, reason[0] ? "  " : "", reason);
    fflush(p->out);
}
