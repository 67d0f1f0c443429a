/*
 * spawn_forkserver: the spawn mechanism of --launch fork-server (see
 * spawn.h), over forkserver.h.
 *
 * The server is a cache, not a dependency: it is started when the spawner is
 * made (so the benchmark is imported while the manager starts), started
 * again at the next evaluation after it died, and given up after
 * cfg->tries failed starts. Whenever there is no server, the evaluation runs
 * as a subprocess through an exec spawner this one owns, with the fallback
 * words in front of the runner's arguments; such a child belongs to the
 * exec spawner (child->owner), so reaping and signalling it go there.
 *
 * The server reports a child's end as a wait status on its socket, which is
 * the descriptor to poll; when the socket closes instead, the server died and
 * its children were killed with it (they asked for PR_SET_PDEATHSIG
 * SIGKILL): the child is lost.
 */
#include "spawn.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "forkserver.h"
#include "spawn_internal.h"
#include "strbuf.h"

#define SPAWN_FORKSERVER_DIED "the fork server died during the evaluation"
/* Room for forkserver_start's reason (it names the model and the log). */
#define SPAWN_FORKSERVER_ERR_LEN 512

struct spawn_forkserver {
    struct spawner base;
    struct forkserver *server; /* NULL, running, or dead until replaced */
    int failures;              /* failed starts so far */
    int tries;
    char *python, *model, *log_path;
    char **fallback; /* owned words */
    size_t nfallback;
    struct spawner *exec; /* runs the evaluations without a server */
    spawn_notice_fn notice;
    void *notice_arg;
};

/* Returns a running server, starting one (with envp) if there is none and
 * the tries are not used up; NULL if there is none to be had. */
static struct forkserver *spawn_forkserver_server(struct spawn_forkserver *fs,
                                                  char *const *envp)
{
    char err[SPAWN_FORKSERVER_ERR_LEN];
    if (fs->failures >= fs->tries)
        return NULL;
    if (forkserver_alive(fs->server))
        return fs->server;
    forkserver_stop(fs->server);
    fs->server = NULL;
    if (forkserver_start(fs->python, fs->model, envp, fs->log_path, &fs->server,
                         err, sizeof err) == 0)
        return fs->server;
    fs->failures++;
    if (fs->notice) {
        struct strbuf msg = STRBUF_INIT;
        int rc = strbuf_printf(
            &msg, "%s%s", err,
            fs->failures >= fs->tries
                ? "; this worker runs its evaluations as subprocesses"
                : "");
        fs->notice(fs->notice_arg, rc == 0 ? strbuf_str(&msg) : err);
        strbuf_free(&msg);
    }
    return NULL;
}

/* Runs the evaluation as a subprocess: fallback words + the runner's
 * arguments. */
static int spawn_forkserver_fallback(struct spawn_forkserver *fs,
                                     const struct spawn_cmd *cmd,
                                     struct spawn_child *child, char *err,
                                     size_t errlen)
{
    struct spawn_cmd sub = *cmd;
    char **argv = cmdline_join(fs->fallback, cmd->argv);
    if (argv == NULL) {
        snprintf(err, errlen, "worker out of memory");
        return -1;
    }
    sub.argv = argv;
    int rc = spawn_start(fs->exec, &sub, child, err, errlen);
    free(argv);
    return rc;
}

static int spawn_forkserver_start(struct spawner *sp,
                                  const struct spawn_cmd *cmd,
                                  struct spawn_child *child, char *err,
                                  size_t errlen)
{
    struct spawn_forkserver *fs = (struct spawn_forkserver *)sp;
    struct forkserver *server = spawn_forkserver_server(fs, cmd->envp);
    if (server == NULL)
        return spawn_forkserver_fallback(fs, cmd, child, err, errlen);
    pid_t pid = forkserver_spawn(server, cmd->argv, cmd->envp, cmd->cwd,
                                 cmd->out_fd, err, errlen);
    if (pid < 0)
        return -1;
    child->pid = pid;
    return 0;
}

static int spawn_forkserver_fd(const struct spawn_child *child)
{
    const struct spawn_forkserver *fs =
        (const struct spawn_forkserver *)child->owner;
    return fs->server ? forkserver_fd(fs->server) : -1;
}

static int spawn_forkserver_reap(struct spawn_child *child,
                                 struct spawn_end *end)
{
    struct spawn_forkserver *fs = (struct spawn_forkserver *)child->owner;
    int wstatus = 0;
    int rc =
        fs->server ? forkserver_reap(fs->server, child->pid, &wstatus) : -1;
    if (rc == 0)
        return 0;
    if (rc > 0) {
        spawn_end_from_wait(wstatus, end);
        return 1;
    }
    end->state = SPAWN_LOST;
    end->code = SIGKILL; /* its PR_SET_PDEATHSIG */
    end->why = SPAWN_FORKSERVER_DIED;
    return 1;
}

static void spawn_forkserver_destroy(struct spawner *sp)
{
    struct spawn_forkserver *fs = (struct spawn_forkserver *)sp;
    forkserver_stop(fs->server);
    spawn_destroy(fs->exec);
    cmdline_free(fs->fallback);
    free(fs->python);
    free(fs->model);
    free(fs->log_path);
    free(fs);
}

static const struct spawn_ops spawn_forkserver_ops = {
    .start = spawn_forkserver_start,
    .fd = spawn_forkserver_fd,
    .reap = spawn_forkserver_reap,
    .signal = spawn_signal_group,
    .destroy = spawn_forkserver_destroy,
};

struct spawner *spawn_forkserver_new(const struct spawn_server_config *cfg,
                                     char *err, size_t errlen)
{
    struct spawn_forkserver *fs = calloc(1, sizeof *fs);
    if (fs == NULL)
        goto nomem;
    fs->base.ops = &spawn_forkserver_ops;
    fs->tries = cfg->tries;
    fs->notice = cfg->notice;
    fs->notice_arg = cfg->notice_arg;
    fs->python = strdup(cfg->python);
    fs->model = strdup(cfg->model);
    fs->log_path = strdup(cfg->log_path);
    fs->exec = spawn_exec_new();
    if (fs->python == NULL || fs->model == NULL || fs->log_path == NULL ||
        fs->exec == NULL)
        goto nomem;
    for (const char *const *w = cfg->fallback; w && *w; w++)
        if (cmdline_append(&fs->fallback, &fs->nfallback, *w) != 0)
            goto nomem;
    spawn_forkserver_server(fs, cfg->envp); /* a failure is only noticed */
    return &fs->base;
nomem:
    snprintf(err, errlen, "out of memory");
    if (fs != NULL)
        spawn_forkserver_destroy(&fs->base);
    return NULL;
}
