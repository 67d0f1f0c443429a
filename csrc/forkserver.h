/*
 * forkserver: a warm Python process per worker that forks evaluations
 * (--launch fork-server; python/async_search/forkserver.py is the other
 * side).
 *
 * Python models pay for `import torch` (a second or more) in every fresh
 * process. The server imports the runner and the benchmark once; each
 * evaluation is then a fork of it, with the same isolation as a new process:
 * its own process group (SH_TIMEOUT ends it), output on a pipe the worker
 * reads (model.log), death when the server or the worker dies. Messages go
 * over a SOCK_SEQPACKET socket pair; the output pipe travels with the request
 * as SCM_RIGHTS.
 */
#ifndef ASYNC_SEARCH_FORKSERVER_H
#define ASYNC_SEARCH_FORKSERVER_H

#include <stddef.h>
#include <sys/types.h>

/* How long the server may take to import the benchmark. */
#define FORKSERVER_START_S 300.0
/* How long a fork may take to be acknowledged. */
#define FORKSERVER_REPLY_S 30.0

struct forkserver;

/*
 * Starts `python -m async_search.forkserver MODEL FD` with environment envp,
 * its own output appended to log_path, and waits until it is ready (it has
 * imported the benchmark). Returns 0, or -1 with err (the server is gone).
 */
int forkserver_start(const char *python, const char *model, char *const *envp,
                     const char *log_path, struct forkserver **out, char *err,
                     size_t errlen);
/*
 * Starts one evaluation: the runner with argv (MODEL PARAMS_JSON), in cwd,
 * with environment envp, its stdout and stderr on out_fd. Returns the child's
 * pid (the leader of its own process group), or -1 with err.
 */
pid_t forkserver_spawn(struct forkserver *fs, char *const *argv,
                       char *const *envp, const char *cwd, int out_fd,
                       char *err, size_t errlen);
/* The descriptor to poll for the server's messages. */
int forkserver_fd(const struct forkserver *fs);
/* Reads the server's pending messages: 1 and *status (a wait status) once
 * pid ended, 0 if not yet, -1 if the server died. Never blocks. */
int forkserver_reap(struct forkserver *fs, pid_t pid, int *status);
/* Nonzero while the server is usable. */
int forkserver_alive(const struct forkserver *fs);
/* Ends the server (closing its socket makes it exit) and reaps it. */
void forkserver_stop(struct forkserver *fs);

#endif
