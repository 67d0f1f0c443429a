/*
 * spawn: how a worker starts, watches and stops model processes.
 *
 * One interface, two mechanisms, chosen once when the worker starts:
 *
 *   spawn_exec_new        fork and execvpe(2) a command (--launch subprocess)
 *   spawn_forkserver_new  fork from a warm Python that imported the
 *                         benchmark once (--launch fork-server, forkserver.h)
 *
 * Whatever the mechanism, a child is the leader of its own process group (so
 * one signal reaches everything it started), runs in a given directory with
 * a given environment, has stdin from /dev/null and stdout+stderr on a
 * descriptor of the caller's, and dies with the worker. Only spawn_start
 * may wait (for a fork server to start or to answer, within the limits of
 * forkserver.h); after it the caller never blocks: it polls spawn_fd (if
 * any) and the output, and calls spawn_reap, which says how the child ended
 * as a typed value: exited with a code, killed by a signal, or lost (the
 * mechanism that ran it is gone).
 *
 * The implementations fill the table in spawn_internal.h; callers only use
 * the functions here.
 */
#ifndef ASYNC_SEARCH_SPAWN_H
#define ASYNC_SEARCH_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

struct spawner;

/* What to run. Nothing here is kept after spawn_start returns. */
struct spawn_cmd {
    char *const *argv; /* NULL-terminated; what the words mean depends on the
                        * spawner (a command, or the runner's arguments) */
    char *const *envp; /* the complete environment of the child */
    const char *cwd;   /* its working directory */
    int out_fd;        /* its stdout and stderr (the caller keeps its copy) */
};

/* One started child. Filled by spawn_start; the caller keeps it (no
 * allocation) until spawn_reap reported its end. */
struct spawn_child {
    pid_t pid;             /* the leader of the child's process group */
    int ended;             /* set once spawn_reap reported its end */
    struct spawner *owner; /* private: the mechanism that runs it */
};

enum spawn_state {
    SPAWN_EXITED = 1,   /* code: the exit status */
    SPAWN_SIGNALED = 2, /* code: the signal that ended it */
    SPAWN_LOST = 3      /* the mechanism is gone and took the child with it;
                         * code: the signal it got, why: a sentence */
};

/* How a child ended. */
struct spawn_end {
    enum spawn_state state;
    int code;
    const char *why; /* SPAWN_LOST only: static text; NULL otherwise */
};

/* Starts cmd in its own process group and fills *child. Returns 0, or -1
 * with err (no child runs). */
int spawn_start(struct spawner *sp, const struct spawn_cmd *cmd,
                struct spawn_child *child, char *err, size_t errlen);

/* A descriptor that becomes readable when the child may have ended (poll it
 * with the output so as to hear of the end at once), or -1 if there is none
 * or the child was reaped. Either way spawn_reap decides. */
int spawn_fd(const struct spawn_child *child);

/* Never blocks. Returns 0 while the child runs; once it ended, returns 1
 * and fills *end. Call it no more after that: the pid may be reused. */
int spawn_reap(struct spawn_child *child, struct spawn_end *end);

/* Sends sig to the child's whole process group, and to the child itself
 * while it has not been reaped (in case it left its group). */
void spawn_signal(struct spawn_child *child, int sig);

/* Ends the mechanism (a fork server exits) and frees it; NULL allowed.
 * Children still running may die with it. */
void spawn_destroy(struct spawner *sp);

/* ---- the implementations ------------------------------------------------ */

/* fork + execvpe(2) of cmd->argv (a command; argv[0] is searched in the
 * worker's PATH, as execvpe does). A child that cannot enter cwd or execute
 * argv[0] writes why to out_fd and exits with 127. Returns NULL when memory
 * runs out. */
struct spawner *spawn_exec_new(void);

/* Told about fork-server trouble the worker should log (one line). */
typedef void (*spawn_notice_fn)(void *arg, const char *msg);

struct spawn_server_config {
    const char *python;          /* the interpreter that runs the server */
    const char *model;           /* the benchmark it imports once */
    const char *log_path;        /* the server's own output (appended) */
    char *const *envp;           /* environment of the first server; later
                                  * ones get the environment of the cmd that
                                  * needed them */
    const char *const *fallback; /* NULL-terminated words that run the runner
                                  * as a process: python -m
                                  * async_search.runner; copied */
    int tries;                   /* failed starts before giving the server
                                  * up */
    spawn_notice_fn notice;      /* may be NULL */
    void *notice_arg;
};

/*
 * Evaluations forked by a fork server (forkserver.h). cmd->argv are the
 * runner's arguments (MODEL PARAMS_JSON). Starts the server now (this waits
 * until it imported the benchmark) and again at the next spawn_start after
 * it died; a failed start is reported through notice, and that evaluation
 * runs as a subprocess: fallback words + argv (by fork and exec). After
 * cfg->tries failed starts every evaluation runs that way. A child whose
 * server dies ends as SPAWN_LOST ("the fork server died during the
 * evaluation"). Returns NULL with err when memory runs out (a server that
 * did not start is not an error).
 */
struct spawner *spawn_forkserver_new(const struct spawn_server_config *cfg,
                                     char *err, size_t errlen);

#endif
