/*
 * summary: what the manager prints when a search ends (counts, utilisation,
 * the optimizer's share, the best and the top results) and the report it
 * writes through the engine. See manager_internal.h.
 */
#include "manager_internal.h"
#include "manager.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

static int summary_compare_objective(const void *a, const void *b)
{
    const struct point *const *pa = a, *const *pb = b;
    double x = (*pa)->objective, y = (*pb)->objective;
    return x < y ? -1 : x > y ? 1 : strcmp((*pa)->job_id, (*pb)->job_id);
}

/* Utilisation of this run: busy worker-seconds (finished evaluations, and
 * the elapsed part of running ones) over workers x the loop's wall time. */
static void summary_utilisation(const struct manager *m, double now)
{
    double wall = now - (m->loop_start > 0 ? m->loop_start : now);
    double busy = m->busy_s;
    for (int w = 1; w <= m->workers; w++)
        if (m->running[w] >= 0)
            busy += now - (m->t0_mono + m->points[m->running[w]].t_submit);
    if (wall <= 0)
        return;
    double capacity = wall * m->workers;
    printf("utilisation %.1f%%: %.0f busy worker-seconds of %d workers x "
           "%.1f s; idle between tasks %.1f%% of worker time\n",
           100.0 * busy / capacity, busy, m->workers, wall,
           100.0 * m->idle_s / capacity);
    if (m->o->simulate > 0) {
        double ideal = capacity / m->o->sim_duration;
        printf("evaluations this run: %ld of an ideal %.0f (workers x wall / "
               "mean duration): %.1f%%\n",
               m->done_this_run, ideal, 100.0 * m->done_this_run / ideal);
    }
    if (!m->thread_started && m->opt_turns > 0)
        printf("optimizer: %ld turns, %ld points, busy %.1f%% of the run "
               "(%.3f s per turn, %.1f points per turn)\n",
               m->opt_turns, m->opt_points, 100.0 * m->opt_busy_s / wall,
               m->opt_busy_s / m->opt_turns,
               (double)m->opt_points / m->opt_turns);
}

void summary_print(struct manager *m, int join)
{
    double now = util_now();
    double wall = now - m->run_start;
    progress_end_line(&m->progress);
    if (join)
        manager_stop_thread(m);
    printf("\nasync-search: %ld evaluations (%ld ok, %ld failed, %ld timeout); "
           "this run took %.1f s with %d workers\n",
           m->policy.finished, m->nok, m->nfailed, m->ntimeout, wall,
           m->workers);
    summary_utilisation(m, now);
    struct point **ok = malloc((size_t)(m->nok > 0 ? m->nok : 1) * sizeof *ok);
    long n = 0;
    for (long i = 0; ok && i < m->npoints; i++)
        if (m->points[i].state == POINT_DONE &&
            m->points[i].status == LAUNCH_OK)
            ok[n++] = &m->points[i];
    if (ok && n > 0) {
        qsort(ok, (size_t)n, sizeof *ok, summary_compare_objective);
        char v[40];
        util_format_double(v, sizeof v, ok[0]->objective);
        printf("best objective %s at %s: %s\n", v, ok[0]->job_id,
               ok[0]->params_json);
        printf("top %d:\n", n < MANAGER_TOP ? (int)n : MANAGER_TOP);
        for (long i = 0; i < n && i < MANAGER_TOP; i++) {
            util_format_double(v, sizeof v, ok[i]->objective);
            printf("  %ld. %-14s %-12s %s\n", i + 1, v, ok[i]->job_id,
                   ok[i]->params_json);
        }
    } else {
        printf("no evaluation succeeded: see the model.log files under "
               "%s/run/\n",
               m->exp_dir);
    }
    printf("results: %s/%s\n", m->exp_dir, JOURNAL_RESULTS);
    fflush(stdout);
    free(ok);
}

/* Writes EXPDIR/report.png through the engine and says where it is. */
void summary_report(struct manager *m)
{
    struct engine_error e;
    char *path = NULL;
    memset(&e, 0, sizeof e);
    if (m->engine == NULL || m->policy.finished == 0)
        return;
    manager_stop_thread(m);
    struct strbuf arg = STRBUF_INIT;
    strbuf_puts(&arg, m->exp_dir);
    if (engine_call_text(m->engine, "report", strbuf_str(&arg), &path, &e) ==
        ENGINE_OK) {
        printf("report: %s (the full table: async-search report %s)\n", path,
               m->exp_dir);
        fflush(stdout);
    } else {
        manager_log_engine_error(&e);
        log_warn("no report.png: %s (try: async-search report %s)", e.message,
                 m->exp_dir);
    }
    engine_error_clear(&e);
    strbuf_free(&arg);
    free(path);
}
