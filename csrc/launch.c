/*
 * launch: see launch.h.
 *
 * The parent side is a small event loop over one pipe, one child and two
 * timers (SH_TIMEOUT, kill grace): poll(2) on the pipe (and the spawner's
 * descriptor, if any) with a timeout no longer than LAUNCH_POLL_S, a
 * non-blocking spawn_reap, then the cancel callback. Nothing blocks for
 * longer than that, so a worker can also hear its manager while a model
 * runs. How the child is started and reaped is the spawner's business
 * (spawn.h); what its output means is modelout's (modelout.h); launch owns
 * the timers and the verdict.
 */
#define _GNU_SOURCE
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modelout.h"
#include "spawn.h"
#include "strbuf.h"
#include "util.h"

#define LAUNCH_READ_CHUNK 65536
/* How long to keep draining output after the model exited and its leftover
 * processes were killed. */
#define LAUNCH_DRAIN_S 2.0
#define LAUNCH_REAP_SLEEP_S 0.001

/* How far the stop of a model has gone. */
enum launch_kill { LAUNCH_KILL_NONE, LAUNCH_KILL_TERM, LAUNCH_KILL_KILL };

/* One evaluation while it runs. */
struct launch_watch {
    const struct launch_spec *s;
    struct modelout *out;
    struct spawn_child child;
    struct spawn_end end; /* valid once reaped */
    int pipe_rd;          /* the model's output; -1 once closed */
    char *chunk;          /* LAUNCH_READ_CHUNK bytes */
    int reaped, pipe_open;
    enum launch_kill killing;
    enum launch_status why; /* LAUNCH_TIMEOUT, LAUNCH_CANCELLED or
                             * LAUNCH_STOPPED once stopping */
    long steps;             /* the last usable intermediate step */
    double last;            /* its value */
    long last_step;         /* the last step of its training, as it said */
    double deadline, kill_at, drain_until, reap_sleep;
    double answer_until; /* a value went out: its answer is due until then */
};

const char *launch_status_name(enum launch_status st)
{
    switch (st) {
    case LAUNCH_OK: return "ok";
    case LAUNCH_FAILED: return "failed";
    case LAUNCH_TIMEOUT: return "timeout";
    case LAUNCH_CANCELLED: return "cancelled";
    case LAUNCH_STORAGE: return "storage";
    case LAUNCH_STOPPED: return "stopped";
    }
    return "failed";
}

static void launch_result_fail(struct launch_result *r, enum launch_status st,
                               const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void launch_result_fail(struct launch_result *r, enum launch_status st,
                               const char *fmt, ...)
{
    va_list ap;
    r->status = st;
    r->objective = NAN;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof r->reason, fmt, ap);
    va_end(ap);
}

/* A recognised output line: an intermediate value goes to the caller if it
 * is usable (a rising step, a finite value), else a note in model.log says
 * why it was ignored. */
static void launch_line(void *arg, const struct modelout_line *line)
{
    struct launch_watch *w = arg;
    if (line->kind != MODELOUT_INTERMEDIATE)
        return;
    const char *bad = line->bad;
    if (!bad[0] && line->step <= w->steps)
        bad = "the step does not rise";
    if (bad[0]) {
        modelout_note(w->out,
                      "[async-search] ignored an " MODELOUT_INTERMEDIATE_TAG
                      " line: %s\n",
                      bad);
        return;
    }
    w->steps = line->step;
    w->last = line->value;
    if (line->last_step > 0)
        w->last_step = line->last_step;
    if (w->s->on_intermediate) {
        w->s->on_intermediate(w->s->intermediate_arg, line->step, line->value,
                              line->last_step);
        if (w->s->answers)
            w->answer_until = util_now() + LAUNCH_ANSWER_S;
    }
}

/* Makes the read buffer, model.log and the output pipe. Returns 0, or -1
 * with the reason in r. */
static int launch_open(struct launch_watch *w, int *pipe_wr,
                       struct launch_result *r)
{
    struct strbuf log_path = STRBUF_INIT;
    char err[LAUNCH_REASON_LEN];
    int pipefd[2];
    int rc = -1;
    w->chunk = malloc(LAUNCH_READ_CHUNK);
    if (w->chunk == NULL || strbuf_printf(&log_path, "%s/%s", w->s->run_dir,
                                          LAUNCH_LOG_NAME) != 0) {
        launch_result_fail(r, LAUNCH_FAILED, "worker out of memory");
        goto done;
    }
    if (modelout_open(log_path.data, w->s->log_cap, launch_line, w, &w->out,
                      err, sizeof err) != 0) {
        launch_result_fail(
            r, util_storage_errno(errno) ? LAUNCH_STORAGE : LAUNCH_FAILED, "%s",
            err);
        goto done;
    }
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        launch_result_fail(r, LAUNCH_FAILED, "pipe: %s", strerror(errno));
        goto done;
    }
    w->pipe_rd = pipefd[0];
    w->pipe_open = 1;
    *pipe_wr = pipefd[1];
    rc = 0;
done:
    strbuf_free(&log_path);
    return rc;
}

/* SH_TIMEOUT or a cancel starts the stop (SIGTERM); the kill grace ends it
 * (SIGKILL). */
static void launch_escalate(struct launch_watch *w, double now,
                            launch_cancel_fn cancel, void *arg)
{
    if (w->killing == LAUNCH_KILL_NONE) {
        int stop = cancel ? cancel(arg) : 0;
        if (stop == LAUNCH_STOPPED && w->last_step > 0 &&
            w->steps >= w->last_step) {
            /* the stop crossed the model's last step: it has trained to
             * its end, and its own result is better than a stop */
            modelout_note(w->out,
                          "[async-search] a stop came after the last step "
                          "(%ld): the evaluation finishes\n",
                          w->last_step);
            stop = 0;
        }
        if (now >= w->deadline)
            w->why = LAUNCH_TIMEOUT;
        else if (stop)
            w->why = stop == LAUNCH_STOPPED ? LAUNCH_STOPPED : LAUNCH_CANCELLED;
        if (w->why != LAUNCH_OK) {
            spawn_signal(&w->child, SIGTERM);
            w->killing = LAUNCH_KILL_TERM;
            w->kill_at = now + w->s->kill_grace;
        }
    } else if (w->killing == LAUNCH_KILL_TERM && now >= w->kill_at) {
        spawn_signal(&w->child, SIGKILL);
        w->killing = LAUNCH_KILL_KILL;
    }
}

/* Waits for output (or the spawner's news) until the next timer, at most
 * LAUNCH_POLL_S, and passes what came to model.log. */
static void launch_read(struct launch_watch *w, double now)
{
    struct pollfd pfd[2] = {{w->pipe_rd, POLLIN, 0},
                            {spawn_fd(&w->child), POLLIN, 0}};
    double wait_s = LAUNCH_POLL_S;
    if (!w->reaped && w->killing == LAUNCH_KILL_NONE &&
        w->deadline - now < wait_s)
        wait_s = w->deadline - now;
    if (w->killing == LAUNCH_KILL_TERM && w->kill_at - now < wait_s)
        wait_s = w->kill_at - now;
    if (w->killing == LAUNCH_KILL_NONE && now < w->answer_until &&
        wait_s > LAUNCH_ANSWER_POLL_S)
        wait_s = LAUNCH_ANSWER_POLL_S; /* a stop acts within milliseconds */
    int ms = wait_s > 0 ? (int)(wait_s * 1000) + 1 : 0;
    int pr = poll(pfd, 2, ms);
    if (pr > 0 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t got = read(w->pipe_rd, w->chunk, LAUNCH_READ_CHUNK);
        if (got > 0)
            modelout_feed(w->out, w->chunk, (size_t)got);
        else if (got == 0 || (errno != EINTR && errno != EAGAIN))
            w->pipe_open = 0;
    }
}

/* The event loop: until the model was reaped and its output drained. */
static void launch_loop(struct launch_watch *w, launch_cancel_fn cancel,
                        void *arg, struct launch_result *r)
{
    w->reap_sleep = LAUNCH_REAP_SLEEP_S;
    while (w->pipe_open || !w->reaped) {
        double now = util_now();
        if (!w->reaped)
            launch_escalate(w, now, cancel, arg);
        if (w->pipe_open) {
            launch_read(w, now);
        } else {
            util_sleep(w->reap_sleep);
            if (w->reap_sleep < LAUNCH_POLL_S)
                w->reap_sleep *= 2;
        }
        if (!w->reaped && spawn_reap(&w->child, &w->end)) {
            w->reaped = 1;
            r->t_end = util_wall();
            /* Whatever the model left running goes with it. */
            spawn_signal(&w->child, SIGKILL);
            w->drain_until = util_now() + LAUNCH_DRAIN_S;
        }
        if (w->reaped && w->pipe_open && util_now() > w->drain_until)
            break; /* a leftover process we cannot kill holds the pipe */
    }
}

/* The verdict on an ended model: its end, the stop, its result. */
/* The model's last words (its last output line), or "" . */
static const char *launch_said(const struct launch_watch *w)
{
    return w->out ? modelout_last_line(w->out) : "";
}

/* A model that exited well, for a problem with several objectives: the
 * labelled values of its last IMPROVE_RESULT line. */
static void launch_judge_objectives(const struct launch_watch *w,
                                    struct launch_result *r)
{
    const char *text = modelout_result_text(w->out);
    char why[LAUNCH_REASON_LEN];
    int k = 0;
    if (text[0] == '\0') {
        launch_result_fail(r, LAUNCH_FAILED,
                           "no result: no " MODELOUT_RESULT_TAG
                           " line in model.log (expected " MODELOUT_RESULT_TAG
                           " LABEL=NUMBER for each of: %s)",
                           w->s->objectives);
        return;
    }
    if (modelout_parse_objectives(text, w->s->objectives, r->objectives, &k,
                                  why, sizeof why) != 0) {
        launch_result_fail(r, LAUNCH_FAILED, "%s", why);
        return;
    }
    r->status = LAUNCH_OK;
    r->nobjectives = k;
    r->objective = r->objectives[0];
}

static void launch_judge(const struct launch_watch *w, struct launch_result *r)
{
    const struct launch_spec *s = w->s;
    if (w->end.state == SPAWN_EXITED)
        r->exit_code = w->end.code;
    else
        r->term_signal = w->end.code;

    if (w->why == LAUNCH_TIMEOUT) {
        launch_result_fail(
            r, LAUNCH_TIMEOUT, "killed after SH_TIMEOUT %g s (SIGTERM%s)",
            s->sh_timeout,
            w->killing == LAUNCH_KILL_KILL ? ", then SIGKILL" : "");
    } else if (w->why == LAUNCH_CANCELLED) {
        launch_result_fail(r, LAUNCH_CANCELLED, "%s",
                           s->cancel_why && s->cancel_why[0]
                               ? s->cancel_why
                               : "stopped by the manager");
    } else if (w->why == LAUNCH_STOPPED) {
        launch_result_fail(r, LAUNCH_STOPPED, "stopped early at step %ld",
                           w->steps);
        r->objective = w->last;
    } else if (w->end.state == SPAWN_LOST) {
        launch_result_fail(r, LAUNCH_FAILED, "%s", w->end.why);
    } else if (w->end.state == SPAWN_SIGNALED) {
        launch_result_fail(r, LAUNCH_FAILED, "killed by signal %d (%s)%s%s",
                           r->term_signal, strsignal(r->term_signal),
                           launch_said(w)[0] ? ": " : "", launch_said(w));
    } else if (r->exit_code != 0) {
        launch_result_fail(r, LAUNCH_FAILED, "exit status %d%s%s", r->exit_code,
                           launch_said(w)[0] ? ": " : "", launch_said(w));
    } else if (s->exit_only) {
        r->status = LAUNCH_OK; /* a team member: the leader has the result */
    } else if (s->objectives && s->objectives[0]) {
        launch_judge_objectives(w, r);
    } else {
        double v = NAN;
        int have = modelout_result(w->out, &v) ||
                   modelout_read_result_file(s->run_dir, &v);
        if (!have)
            launch_result_fail(r, LAUNCH_FAILED,
                               "no result: no " MODELOUT_RESULT_TAG
                               " line in model.log and no number in "
                               "result.txt");
        else if (!isfinite(v))
            launch_result_fail(r, LAUNCH_FAILED, "the result is %g", v);
        else {
            r->status = LAUNCH_OK;
            r->objective = v;
        }
    }
}

void launch_run(const struct launch_spec *s, launch_cancel_fn cancel, void *arg,
                struct launch_result *r)
{
    struct launch_watch w;
    char why_not[LAUNCH_REASON_LEN];
    int pipe_wr = -1;

    memset(&w, 0, sizeof w);
    w.s = s;
    w.pipe_rd = -1;
    w.last = NAN;
    memset(r, 0, sizeof *r);
    r->objective = r->last = NAN;
    r->exit_code = -1;
    r->t_start = r->t_end = util_wall();
    if (launch_open(&w, &pipe_wr, r) != 0)
        goto done;

    struct spawn_cmd cmd = {
        .argv = s->argv, .envp = s->envp, .cwd = s->run_dir, .out_fd = pipe_wr};
    if (spawn_start(s->spawner, &cmd, &w.child, why_not, sizeof why_not) != 0) {
        launch_result_fail(r, LAUNCH_FAILED, "%s", why_not);
        modelout_note(w.out, "[async-search] %s\n", why_not);
        goto done;
    }
    /* The clocks start with the model: a fork server that the spawner had to
     * start again first is not the model's time. */
    r->t_start = util_wall();
    w.deadline = s->sh_timeout > 0 ? util_now() + s->sh_timeout : INFINITY;
    close(pipe_wr); /* the child has it; EOF comes when its last user ends */
    pipe_wr = -1;

    launch_loop(&w, cancel, arg, r);
    modelout_finish(w.out);
    launch_judge(&w, r);
    r->steps = w.steps;
    r->last = w.last;
    if (r->status != LAUNCH_OK)
        modelout_note(w.out, "\n[async-search] evaluation %s: %s\n",
                      launch_status_name(r->status), r->reason);
done:
    if (w.pipe_rd >= 0)
        close(w.pipe_rd);
    if (pipe_wr >= 0)
        close(pipe_wr);
    modelout_close(w.out);
    free(w.chunk);
}
