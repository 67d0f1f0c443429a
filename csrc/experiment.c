/*
 * experiment: the experiment directory of a search. Choosing it (and never
 * overwriting one that holds results), config.json, the lock that keeps two
 * searches out of one directory, and restarts: replaying results.csv into the
 * optimizer, reissuing what was in flight, continuing the job ids. See
 * manager_internal.h.
 */
#include "manager_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

char *experiment_absolute(const char *path)
{
    struct strbuf sb = STRBUF_INIT;
    if (path[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd) == NULL)
            return NULL;
        strbuf_printf(&sb, "%s/", cwd);
    }
    strbuf_puts(&sb, path);
    /* drop trailing slashes (but keep "/") */
    while (sb.len > 1 && sb.data[sb.len - 1] == '/')
        sb.data[--sb.len] = '\0';
    return strbuf_detach(&sb);
}

static const char *experiment_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int experiment_nonempty_file(const char *dir, const char *name)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_printf(&sb, "%s/%s", dir, name);
    FILE *f = fopen(strbuf_str(&sb), "r");
    strbuf_free(&sb);
    if (f == NULL)
        return 0;
    int c = fgetc(f);
    fclose(f);
    return c != EOF;
}

/* Picks the experiment directory (without creating it). Returns 0, or 2
 * with a user error in err. */
int experiment_resolve_dir(struct manager *m, char *err, size_t errlen)
{
    struct strbuf sb = STRBUF_INIT;
    const char *o_dir = m->o->exp_dir;
    if (m->o->restart) {
        m->exp_dir = experiment_absolute(m->o->restart);
        m->exp_id = m->exp_dir ? strdup(experiment_basename(m->exp_dir)) : NULL;
        if (m->exp_dir == NULL || m->exp_id == NULL) {
            snprintf(err, errlen, "out of memory");
            return 1;
        }
        struct strbuf cfg = STRBUF_INIT, pts = STRBUF_INIT;
        strbuf_printf(&cfg, "%s/%s", m->exp_dir, MANAGER_CONFIG);
        strbuf_printf(&pts, "%s/%s", m->exp_dir, JOURNAL_POINTS);
        int known =
            util_exists(strbuf_str(&cfg)) || util_exists(strbuf_str(&pts));
        strbuf_free(&cfg);
        strbuf_free(&pts);
        if (!known) {
            snprintf(err, errlen,
                     "--restart %s: not an async-search experiment directory "
                     "(no %s or %s in it)",
                     m->exp_dir, MANAGER_CONFIG, JOURNAL_POINTS);
            return 2;
        }
        return 0;
    }
    if (o_dir) {
        strbuf_puts(&sb, o_dir);
    } else if (m->o->exp_id) {
        strbuf_printf(&sb, MANAGER_EXP_ROOT "/%s", m->o->exp_id);
    } else {
        for (int i = 0; i < MANAGER_AUTO_ID_MAX; i++) {
            strbuf_reset(&sb);
            strbuf_printf(&sb, MANAGER_EXP_ROOT "/EXP%03d", i);
            if (!util_exists(strbuf_str(&sb)))
                break;
        }
    }
    m->exp_dir = experiment_absolute(strbuf_str(&sb));
    strbuf_free(&sb);
    if (m->exp_dir == NULL) {
        snprintf(err, errlen, "cannot resolve the experiment directory: %s",
                 strerror(errno));
        return 1;
    }
    m->exp_id = strdup(experiment_basename(m->exp_dir));
    if (m->exp_id == NULL || m->exp_id[0] == '\0') {
        snprintf(err, errlen, "--exp-dir: '%s' has no directory name",
                 m->exp_dir);
        return 2;
    }
    if (experiment_nonempty_file(m->exp_dir, JOURNAL_RESULTS)) {
        snprintf(err, errlen,
                 "experiment directory %s already holds results (%s); use "
                 "--restart %s to continue it, or choose another --exp-dir",
                 m->exp_dir, JOURNAL_RESULTS, m->exp_dir);
        return 2;
    }
    return 0;
}

char *experiment_settings_json(const struct manager *m)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, "{\"problem\": ");
    strbuf_json_string(&sb, m->problem);
    strbuf_puts(&sb, ", \"optimizer\": ");
    strbuf_json_string(&sb, m->o->optimizer);
    strbuf_printf(&sb,
                  ", \"seed\": %ld, \"n_jobs\": %ld, \"init_size\": %ld, "
                  "\"max_evals\": %ld, \"num_buffer\": %ld, \"workers\": %d",
                  m->o->seed, m->o->n_jobs, m->o->init_size, m->o->max_evals,
                  m->o->num_buffer, m->workers);
    if (m->o->simulate > 0) {
        strbuf_puts(&sb, ", \"simulate_objective\": ");
        strbuf_json_string(&sb, m->o->sim_objective);
    }
    strbuf_puts(&sb, "}");
    return strbuf_detach(&sb);
}

static void experiment_json_field(struct strbuf *sb, const char *key,
                                  const char *value)
{
    strbuf_printf(sb, ",\n  \"%s\": ", key);
    if (value)
        strbuf_json_string(sb, value);
    else
        strbuf_puts(sb, "null");
}

int experiment_write_config(const struct manager *m, char *err, size_t errlen)
{
    const struct options *o = m->o;
    struct strbuf sb = STRBUF_INIT, path = STRBUF_INIT;
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    strbuf_puts(&sb, "{\n  \"exp_id\": ");
    strbuf_json_string(&sb, m->exp_id);
    experiment_json_field(&sb, "exp_dir", m->exp_dir);
    experiment_json_field(&sb, "problem", m->problem);
    experiment_json_field(&sb, "model", o->model);
    experiment_json_field(&sb, "model_cmd", o->model_cmd);
    experiment_json_field(&sb, "python", o->python);
    experiment_json_field(&sb, "optimizer", o->optimizer);
    experiment_json_field(&sb, "host", host);
    strbuf_printf(&sb,
                  ",\n  \"init_size\": %ld,\n  \"max_evals\": %ld,\n"
                  "  \"num_buffer\": %ld,\n  \"max_threshold\": %ld,\n"
                  "  \"threshold_window\": %g,\n  \"n_jobs\": %ld,\n"
                  "  \"seed\": %ld,\n  \"sh_timeout\": %g,\n"
                  "  \"benchmark_timeout\": %g,\n  \"workers\": %d,\n"
                  "  \"procs\": %d,\n  \"restart\": %d,\n"
                  "  \"start_time\": %.3f\n}\n",
                  o->init_size, o->max_evals, o->num_buffer, o->max_threshold,
                  o->threshold_window, o->n_jobs, o->seed, o->sh_timeout,
                  o->benchmark_timeout, m->workers, m->workers + 1, m->restart,
                  m->t0_wall);
    strbuf_printf(&path, "%s/%s", m->exp_dir, MANAGER_CONFIG);
    int rc = util_write_file(strbuf_str(&path), strbuf_str(&sb), sb.len, err,
                             errlen);
    strbuf_free(&sb);
    strbuf_free(&path);
    return rc;
}

/* Takes the experiment's lock. Returns 0, 2 (in use) or 1. */
int experiment_lock(struct manager *m, char *err, size_t errlen)
{
    int rc = journal_lock(m->exp_dir, &m->lock_fd, err, errlen);
    if (rc == -2)
        return 2;
    if (rc < 0)
        return 1;
    if (err[0])
        log_warn("%s", err);
    return 0;
}

static enum launch_status experiment_status_from_name(const char *s)
{
    if (strcmp(s, "ok") == 0)
        return LAUNCH_OK;
    if (strcmp(s, "timeout") == 0)
        return LAUNCH_TIMEOUT;
    return LAUNCH_FAILED;
}

/* Repairs the journal and replays it into the optimizer (before the
 * optimizer thread starts). Returns 0, 2 (bad experiment) or 1. */
int experiment_prepare_restart(struct manager *m, char *err, size_t errlen)
{
    struct engine_error e;
    char note[512];
    memset(&e, 0, sizeof e);
    int rc = experiment_lock(m, err, errlen);
    if (rc != 0)
        return rc;
    if (journal_repair(m->exp_dir, note, sizeof note, err, errlen) != 0)
        return 1;
    if (note[0])
        log_warn("%s", note);
    enum engine_status es =
        engine_replay(m->engine, m->exp_dir, &m->replay, &e);
    if (es != ENGINE_OK) {
        snprintf(err, errlen, "%s", e.message);
        manager_log_engine_error(&e);
        engine_error_clear(&e);
        return es == ENGINE_USER_ERROR ? 2 : 1;
    }
    long last = m->replay.last_restart;
    if (m->o->restart_number && m->o->restart_number <= last) {
        snprintf(err, errlen,
                 "--restart-number %ld: must be greater than %ld, the last "
                 "restart number used in %s",
                 m->o->restart_number, last, m->exp_dir);
        return 2;
    }
    m->restart = m->o->restart_number ? (int)m->o->restart_number
                                      : (int)(last > 0 ? last + 1 : 1);
    if (m->replay.start_time > 0) {
        /* Timestamps stay relative to the experiment's first start, so one
         * timeline covers every restart. */
        m->t0_mono -= m->t0_wall - m->replay.start_time;
        m->t0_wall = m->replay.start_time;
    }
    return 0;
}

/* Keeps the settings of the previous run as config.R.json. */
int experiment_keep_old_config(struct manager *m, char *err, size_t errlen)
{
    struct strbuf from = STRBUF_INIT, to = STRBUF_INIT;
    int rc = 0;
    strbuf_printf(&from, "%s/%s", m->exp_dir, MANAGER_CONFIG);
    strbuf_printf(&to, "%s/config.%ld.json", m->exp_dir,
                  m->replay.last_restart > 0 ? m->replay.last_restart : 1);
    if (util_exists(strbuf_str(&from)) && !util_exists(strbuf_str(&to)) &&
        rename(strbuf_str(&from), strbuf_str(&to)) != 0) {
        snprintf(err, errlen, "rename %s: %s", strbuf_str(&from),
                 strerror(errno));
        rc = -1;
    }
    strbuf_free(&from);
    strbuf_free(&to);
    return rc;
}

/* Adds the earlier results (for the summary) and reissues the evaluations
 * that never finished, under new job ids R_1_J. */
int experiment_resume(struct manager *m, char *err, size_t errlen)
{
    struct engine_replay *rp = &m->replay;
    long cap = m->o->max_evals - rp->nfinished;
    long reissue = rp->ninflight < cap ? rp->ninflight : (cap > 0 ? cap : 0);
    struct point_batch done = {0, NULL, NULL, NULL, 0};

    /* Finished rows enter the point table as done. */
    done.count = rp->nfinished;
    done.params_json = calloc((size_t)(rp->nfinished + 1), sizeof(char *));
    done.csv_fields = calloc((size_t)(rp->nfinished + 1), sizeof(char *));
    if (done.params_json == NULL || done.csv_fields == NULL) {
        free(done.params_json);
        free(done.csv_fields);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (long i = 0; i < rp->nfinished; i++) {
        done.params_json[i] = rp->finished[i].params_json;
        done.csv_fields[i] = rp->finished[i].csv_fields;
        rp->finished[i].params_json = rp->finished[i].csv_fields = NULL;
    }
    long first = m->npoints;
    int rc = manager_add_points(m, &done, NULL, err, errlen);
    free(done.params_json);
    free(done.csv_fields);
    if (rc != 0)
        return -1;
    for (long i = 0; i < rp->nfinished; i++) {
        struct point *p = &m->points[first + i];
        snprintf(p->job_id, sizeof p->job_id, "%s", rp->finished[i].job_id);
        p->state = POINT_DONE;
        p->status = experiment_status_from_name(rp->finished[i].status);
        p->objective = rp->finished[i].objective;
        if (p->status == LAUNCH_OK) {
            m->nok++;
            if (m->best < 0 || p->objective < m->points[m->best].objective)
                m->best = first + i;
        } else if (p->status == LAUNCH_TIMEOUT) {
            m->ntimeout++;
        } else {
            m->nfailed++;
        }
    }
    m->next_dispatch = m->npoints;

    if (reissue > 0) {
        struct point_batch again = {reissue, NULL, NULL, NULL, 0};
        again.params_json = calloc((size_t)reissue, sizeof(char *));
        again.csv_fields = calloc((size_t)reissue, sizeof(char *));
        if (again.params_json == NULL || again.csv_fields == NULL) {
            free(again.params_json);
            free(again.csv_fields);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (long i = 0; i < reissue; i++) {
            again.params_json[i] = rp->inflight[i].params_json;
            again.csv_fields[i] = rp->inflight[i].csv_fields;
            rp->inflight[i].params_json = rp->inflight[i].csv_fields = NULL;
            log_info("reissuing %s (in flight when the experiment stopped)",
                     rp->inflight[i].job_id);
        }
        rc = manager_add_batch(m, &again, err, errlen);
        free(again.params_json);
        free(again.csv_fields);
        if (rc != 0)
            return -1;
    }
    policy_resume(&m->policy, rp->nfinished, reissue);
    printf("async-search: restart %d of %s: %ld evaluations already finished "
           "(%ld ok), %ld reissued\n",
           m->restart, m->exp_dir, rp->nfinished, m->nok, reissue);
    engine_replay_free(rp);
    return 0;
}
