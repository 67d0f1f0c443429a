/*
 * spawn_exec: the spawn mechanism of --launch subprocess (see spawn.h):
 * fork(2), then in the child: a new process group, death with the worker,
 * default signal dispositions and an empty mask (a worker's MPI runtime may
 * block or ignore signals a model needs), stdin from /dev/null, output on
 * the caller's descriptor, the run directory, execvpe(2). Reaped with
 * waitpid(WNOHANG); there is no descriptor to poll.
 */
#define _GNU_SOURCE
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn_internal.h"

/* The exit status of a child that could not become the model, as a shell
 * reports a command it cannot run. */
#define SPAWN_EXEC_FAILED 127

struct spawn_exec {
    struct spawner base;
};

static void spawn_exec_child_fail(const char *what, const char *arg)
{
    /* Only async-signal-safe calls between fork and exec (strerror aside,
     * which glibc implements without locks for known errno values). */
    const char *reason = strerror(errno);
    const char *parts[] = {
        "async-search: ", what, " '", arg, "': ", reason, "\n"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        ssize_t w = write(STDERR_FILENO, parts[i], strlen(parts[i]));
        (void)w;
    }
    _exit(SPAWN_EXEC_FAILED);
}

/* In the child, between fork and exec. Never returns. */
static void spawn_exec_child(const struct spawn_cmd *cmd, int null_fd,
                             pid_t parent)
{
    sigset_t none;
    setpgid(0, 0);
    /* If the worker dies (mpiexec's SIGKILL after a walltime, a crashed
     * node daemon), its model must not run on as an orphan. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(SPAWN_EXEC_FAILED);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    if (dup2(cmd->out_fd, STDOUT_FILENO) < 0 ||
        dup2(cmd->out_fd, STDERR_FILENO) < 0)
        _exit(SPAWN_EXEC_FAILED);
    if (null_fd >= 0)
        dup2(null_fd, STDIN_FILENO);
    if (chdir(cmd->cwd) != 0)
        spawn_exec_child_fail("cannot enter the run directory", cmd->cwd);
    execvpe(cmd->argv[0], cmd->argv, cmd->envp);
    spawn_exec_child_fail("cannot execute", cmd->argv[0]);
}

static int spawn_exec_start(struct spawner *sp, const struct spawn_cmd *cmd,
                            struct spawn_child *child, char *err, size_t errlen)
{
    (void)sp;
    /* Without /dev/null the child keeps the worker's stdin. */
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0)
        spawn_exec_child(cmd, null_fd, parent);
    int fork_errno = errno;
    if (null_fd >= 0)
        close(null_fd);
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(fork_errno));
        return -1;
    }
    setpgid(pid, pid); /* also in the child: whichever runs first wins */
    child->pid = pid;
    return 0;
}

static int spawn_exec_fd(const struct spawn_child *child)
{
    (void)child;
    return -1;
}

static int spawn_exec_reap(struct spawn_child *child, struct spawn_end *end)
{
    int wstatus = 0;
    pid_t w = waitpid(child->pid, &wstatus, WNOHANG);
    if (w == child->pid) {
        spawn_end_from_wait(wstatus, end);
        return 1;
    }
    if (w < 0 && errno == ECHILD) {
        /* Someone else reaped it (SIGCHLD ignored by a library): its
         * status is unknown, so it counts as exited and its output says
         * whether it produced a result. */
        end->state = SPAWN_EXITED;
        end->code = 0;
        return 1;
    }
    return 0;
}

static void spawn_exec_destroy(struct spawner *sp)
{
    free((struct spawn_exec *)sp);
}

static const struct spawn_ops spawn_exec_ops = {
    .start = spawn_exec_start,
    .fd = spawn_exec_fd,
    .reap = spawn_exec_reap,
    .signal = spawn_signal_group,
    .destroy = spawn_exec_destroy,
};

struct spawner *spawn_exec_new(void)
{
    struct spawn_exec *e = calloc(1, sizeof *e);
    if (e == NULL)
        return NULL;
    e->base.ops = &spawn_exec_ops;
    return &e->base;
}
