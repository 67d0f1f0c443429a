/*
 * launch: see launch.h.
 *
 * The parent side is a small event loop over one pipe, one child and two
 * timers (SH_TIMEOUT, kill grace): poll(2) on the pipe with a timeout no
 * longer than LAUNCH_POLL_S, waitpid(WNOHANG), then the cancel callback.
 * Nothing blocks for longer than that, so a worker can also hear its
 * manager while a model runs.
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
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forkserver.h"
#include "modelout.h"
#include "strbuf.h"
#include "util.h"

#define LAUNCH_READ_CHUNK 65536
/* How long to keep draining output after the model exited and its leftover
 * processes were killed. */
#define LAUNCH_DRAIN_S 2.0
#define LAUNCH_REAP_SLEEP_S 0.001

#define LAUNCH_COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *launch_status_name(enum launch_status st)
{
    switch (st) {
    case LAUNCH_OK: return "ok";
    case LAUNCH_FAILED: return "failed";
    case LAUNCH_TIMEOUT: return "timeout";
    case LAUNCH_CANCELLED: return "cancelled";
    }
    return "failed";
}

/* ---- the child -------------------------------------------------------- */

static void launch_child_fail(const char *what, const char *arg)
{
    /* Only async-signal-safe calls between fork and exec (strerror aside,
     * which glibc implements without locks for known errno values). */
    const char *reason = strerror(errno);
    const char *parts[] = {
        "async-search: ", what, " '", arg, "': ", reason, "\n"};
    for (size_t i = 0; i < LAUNCH_COUNT(parts); i++) {
        ssize_t w = write(STDERR_FILENO, parts[i], strlen(parts[i]));
        (void)w;
    }
    _exit(127);
}

static void launch_child(const struct launch_spec *s, int out_fd, int null_fd,
                         pid_t parent)
{
    sigset_t none;
    setpgid(0, 0);
    /* If the worker dies (mpiexec's SIGKILL after a walltime, a crashed
     * node daemon), its model must not run on as an orphan. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    if (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(out_fd, STDERR_FILENO) < 0)
        _exit(127);
    if (null_fd >= 0)
        dup2(null_fd, STDIN_FILENO);
    if (chdir(s->run_dir) != 0)
        launch_child_fail("cannot enter the run directory", s->run_dir);
    execvpe(s->argv[0], s->argv, s->envp);
    launch_child_fail("cannot execute", s->argv[0]);
}

/* ---- the parent ------------------------------------------------------- */

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

/* Sends sig to the model's process group (and to the leader, in case it
 * left the group). */
static void launch_signal(pid_t pid, int sig)
{
    kill(-pid, sig);
    kill(pid, sig);
}

void launch_run(const struct launch_spec *s, launch_cancel_fn cancel, void *arg,
                struct launch_result *r)
{
    struct modelout *out = NULL;
    struct strbuf log_path = STRBUF_INIT;
    char err[LAUNCH_REASON_LEN];
    int pipefd[2] = {-1, -1};
    int null_fd = -1;
    int wstatus = 0;
    pid_t pid = -1;

    memset(r, 0, sizeof *r);
    r->objective = NAN;
    r->exit_code = -1;
    r->t_start = r->t_end = util_wall();

    if (strbuf_printf(&log_path, "%s/%s", s->run_dir, LAUNCH_LOG_NAME) != 0) {
        launch_result_fail(r, LAUNCH_FAILED, "worker out of memory");
        goto done;
    }
    if (modelout_open(log_path.data, s->log_cap, NULL, NULL, &out, err,
                      sizeof err) != 0) {
        launch_result_fail(r, LAUNCH_FAILED, "%s", err);
        goto done;
    }
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        launch_result_fail(r, LAUNCH_FAILED, "pipe: %s", strerror(errno));
        goto done;
    }
    null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

    r->t_start = util_wall();
    double t0 = util_now();
    if (s->server) {
        char why_not[LAUNCH_REASON_LEN];
        pid = forkserver_spawn(s->server, s->argv, s->envp, s->run_dir,
                               pipefd[1], why_not, sizeof why_not);
        if (pid < 0) {
            launch_result_fail(r, LAUNCH_FAILED, "%s", why_not);
            modelout_note(out, "[async-search] %s\n", why_not);
            goto done;
        }
    } else {
        pid_t parent = getpid();
        pid = fork();
        if (pid < 0) {
            launch_result_fail(r, LAUNCH_FAILED, "fork: %s", strerror(errno));
            goto done;
        }
        if (pid == 0)
            launch_child(s, pipefd[1], null_fd, parent);
        setpgid(pid, pid); /* also in the child: whichever runs first wins */
    }
    close(pipefd[1]);
    pipefd[1] = -1;

    int reaped = 0, pipe_open = 1;
    int killing = 0; /* 0: no, 1: SIGTERM sent, 2: SIGKILL sent */
    enum launch_status why = LAUNCH_OK;
    double kill_at = 0, drain_until = 0, reap_sleep = LAUNCH_REAP_SLEEP_S;
    double deadline = s->sh_timeout > 0 ? t0 + s->sh_timeout : INFINITY;
    char *chunk = malloc(LAUNCH_READ_CHUNK);
    if (chunk == NULL) {
        launch_signal(pid, SIGKILL);
        if (s->server == NULL)
            waitpid(pid, &wstatus, 0);
        launch_result_fail(r, LAUNCH_FAILED, "worker out of memory");
        goto done;
    }
    int server_died = 0;

    while (pipe_open || !reaped) {
        double now = util_now();
        if (!reaped) {
            if (killing == 0 && now >= deadline) {
                why = LAUNCH_TIMEOUT;
            } else if (killing == 0 && cancel && cancel(arg)) {
                why = LAUNCH_CANCELLED;
            }
            if (killing == 0 && why != LAUNCH_OK) {
                launch_signal(pid, SIGTERM);
                killing = 1;
                kill_at = now + s->kill_grace;
            } else if (killing == 1 && now >= kill_at) {
                launch_signal(pid, SIGKILL);
                killing = 2;
            }
        }
        if (pipe_open) {
            /* The output, and the fork server's exit message if any. */
            struct pollfd pfd[2] = {{pipefd[0], POLLIN, 0}, {-1, POLLIN, 0}};
            nfds_t nfd = 1;
            if (s->server && !reaped) {
                pfd[1].fd = forkserver_fd(s->server);
                nfd = 2;
            }
            double wait_s = LAUNCH_POLL_S;
            if (!reaped && killing == 0 && deadline - now < wait_s)
                wait_s = deadline - now;
            if (killing == 1 && kill_at - now < wait_s)
                wait_s = kill_at - now;
            int ms = wait_s > 0 ? (int)(wait_s * 1000) + 1 : 0;
            int pr = poll(pfd, nfd, ms);
            if (pr > 0 && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
                ssize_t got = read(pipefd[0], chunk, LAUNCH_READ_CHUNK);
                if (got > 0)
                    modelout_feed(out, chunk, (size_t)got);
                else if (got == 0 || (errno != EINTR && errno != EAGAIN))
                    pipe_open = 0;
            }
        } else {
            util_sleep(reap_sleep);
            if (reap_sleep < LAUNCH_POLL_S)
                reap_sleep *= 2;
        }
        if (!reaped) {
            int ended;
            if (s->server) {
                ended = forkserver_reap(s->server, pid, &wstatus);
                if (ended < 0) {
                    /* The server died; its children die with it. */
                    server_died = 1;
                    wstatus = SIGKILL; /* as if killed */
                    ended = 1;
                }
            } else {
                pid_t w = waitpid(pid, &wstatus, WNOHANG);
                ended = w == pid || (w < 0 && errno == ECHILD);
            }
            if (ended) {
                reaped = 1;
                r->t_end = util_wall();
                /* Whatever the model left running goes with it. */
                kill(-pid, SIGKILL);
                drain_until = util_now() + LAUNCH_DRAIN_S;
            }
        }
        if (reaped && pipe_open && util_now() > drain_until)
            break; /* a leftover process we cannot kill holds the pipe */
    }
    free(chunk);
    modelout_finish(out);

    if (WIFEXITED(wstatus))
        r->exit_code = WEXITSTATUS(wstatus);
    else if (WIFSIGNALED(wstatus))
        r->term_signal = WTERMSIG(wstatus);

    if (why == LAUNCH_TIMEOUT) {
        launch_result_fail(r, LAUNCH_TIMEOUT,
                           "killed after SH_TIMEOUT %g s (SIGTERM%s)",
                           s->sh_timeout, killing == 2 ? ", then SIGKILL" : "");
    } else if (why == LAUNCH_CANCELLED) {
        launch_result_fail(r, LAUNCH_CANCELLED, "stopped by the manager");
    } else if (server_died) {
        launch_result_fail(r, LAUNCH_FAILED,
                           "the fork server died during the "
                           "evaluation");
    } else if (WIFSIGNALED(wstatus)) {
        launch_result_fail(r, LAUNCH_FAILED, "killed by signal %d (%s)",
                           r->term_signal, strsignal(r->term_signal));
    } else if (r->exit_code != 0) {
        launch_result_fail(r, LAUNCH_FAILED, "exit status %d", r->exit_code);
    } else {
        double v = NAN;
        int have = modelout_result(out, &v) ||
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
    if (r->status != LAUNCH_OK)
        modelout_note(out, "\n[async-search] evaluation %s: %s\n",
                      launch_status_name(r->status), r->reason);
done:
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    if (null_fd >= 0)
        close(null_fd);
    modelout_close(out);
    strbuf_free(&log_path);
}
