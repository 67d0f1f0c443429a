/*
 * summary: see summary.h.
 */
#include "summary.h"

#include "util.h"

/* "1 worker", "3 workers". */
static const char *summary_plural(long n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

/* Utilisation of this run: busy worker-seconds (finished evaluations, and
 * the elapsed part of running ones) over workers x the loop's wall time. */
static void summary_utilisation(const struct summary *s, FILE *out)
{
    double wall = s->loop_s;
    if (wall <= 0 || s->workers < 1)
        return;
    double capacity = wall * s->workers;
    fprintf(out,
            "utilisation %.1f%%: %.0f busy worker-seconds of %d %s x "
            "%.1f s; idle between tasks %.1f%% of worker time\n",
            100.0 * s->busy_s / capacity, s->busy_s, s->workers,
            summary_plural(s->workers, "worker", "workers"), wall,
            100.0 * s->idle_s / capacity);
    if (s->sim_duration > 0) {
        double ideal = capacity / s->sim_duration;
        fprintf(out,
                "evaluations this run: %ld of an ideal %.0f (workers x wall "
                "/ mean duration): %.1f%%\n",
                s->done_this_run, ideal, 100.0 * s->done_this_run / ideal);
    }
    if (s->opt_turns > 0)
        fprintf(out,
                "optimizer: %ld turns, %ld points, busy %.1f%% of the run "
                "(%.3f s per turn, %.1f points per turn)\n",
                s->opt_turns, s->opt_points, 100.0 * s->opt_busy_s / wall,
                s->opt_busy_s / s->opt_turns,
                (double)s->opt_points / s->opt_turns);
}

void summary_print(const struct summary *s, FILE *out)
{
    char v[40];
    char stopped[48] = "";
    if (s->stopped > 0)
        snprintf(stopped, sizeof stopped, ", %ld stopped early", s->stopped);
    fprintf(out,
            "\nasync-search: %ld %s (%ld ok%s, %ld failed, %ld timeout); "
            "this run took %.1f s with %d %s\n",
            s->finished,
            summary_plural(s->finished, "evaluation", "evaluations"), s->ok,
            stopped, s->failed, s->timeout, s->run_s, s->workers,
            summary_plural(s->workers, "worker", "workers"));
    summary_utilisation(s, out);
    if (s->ntop > 0) {
        util_format_double(v, sizeof v, s->top[0].objective);
        fprintf(out, "best objective %s at %s: %s\n", v, s->top[0].job_id,
                s->top[0].params_json);
        fprintf(out, "top %d:\n", s->ntop);
        for (int i = 0; i < s->ntop; i++) {
            util_format_double(v, sizeof v, s->top[i].objective);
            fprintf(out, "  %d. %-14s %-12s %s\n", i + 1, v, s->top[i].job_id,
                    s->top[i].params_json);
        }
    } else {
        fprintf(out,
                "no evaluation succeeded: see the model.log files under "
                "%s/run/\n",
                s->exp_dir);
    }
    fprintf(out, "results: %s/%s\n", s->exp_dir, s->results_name);
    fflush(out);
}
