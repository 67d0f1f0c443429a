/*
 * forkserver: see forkserver.h.
 */
#define _GNU_SOURCE
#include "forkserver.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "strbuf.h"
#include "util.h"

#define FORKSERVER_MSG_MAX 512
/* The descriptor number the server finds its socket under. */
#define FORKSERVER_CHILD_FD 3

struct forkserver {
    pid_t pid;
    int fd;
    int alive;
};

int forkserver_fd(const struct forkserver *fs)
{
    return fs->fd;
}

int forkserver_alive(const struct forkserver *fs)
{
    return fs && fs->alive;
}

/* Waits up to timeout for one message; returns its length, 0 on EOF, -1 on
 * timeout or error. */
static ssize_t forkserver_recv(struct forkserver *fs, char *buf, size_t len,
                               double timeout)
{
    double end = util_now() + timeout;
    while (1) {
        struct pollfd pfd = {fs->fd, POLLIN, 0};
        double left = end - util_now();
        if (left <= 0)
            return -1;
        int pr = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return -1;
        ssize_t n = recv(fs->fd, buf, len - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n >= 0)
            buf[n] = '\0';
        return n;
    }
}

int forkserver_start(const char *python, const char *model, char *const *envp,
                     const char *log_path, struct forkserver **out, char *err,
                     size_t errlen)
{
    int sv[2];
    char msg[FORKSERVER_MSG_MAX];
    *out = NULL;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
        snprintf(err, errlen, "socketpair: %s", strerror(errno));
        return -1;
    }
    int log_fd =
        open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        if (log_fd >= 0)
            close(log_fd);
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int null_fd = open("/dev/null", O_RDWR);
        if (null_fd >= 0)
            dup2(null_fd, STDIN_FILENO);
        int o = log_fd >= 0 ? log_fd : null_fd;
        if (o >= 0) {
            dup2(o, STDOUT_FILENO);
            dup2(o, STDERR_FILENO);
        }
        dup2(sv[1], FORKSERVER_CHILD_FD); /* dup2 clears FD_CLOEXEC */
        char fdtext[16];
        snprintf(fdtext, sizeof fdtext, "%d", FORKSERVER_CHILD_FD);
        char *argv[] = {(char *)python, "-m",   "async_search.forkserver",
                        (char *)model,  fdtext, NULL};
        execve(python, argv, envp);
        _exit(127);
    }
    close(sv[1]);
    if (log_fd >= 0)
        close(log_fd);
    struct forkserver *fs = calloc(1, sizeof *fs);
    if (fs == NULL) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(sv[0]);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    fs->pid = pid;
    fs->fd = sv[0];
    fs->alive = 1;
    ssize_t n = forkserver_recv(fs, msg, sizeof msg, FORKSERVER_START_S);
    if (n <= 0 || strcmp(msg, "ready") != 0) {
        snprintf(err, errlen,
                 "the fork server for %s did not start: %s (see %s)", model,
                 n > 0    ? msg
                 : n == 0 ? "it exited"
                          : "no answer in time",
                 log_path);
        forkserver_stop(fs);
        return -1;
    }
    *out = fs;
    return 0;
}

/* The request: {"argv": [...], "cwd": "...", "env": {...}}. */
static int forkserver_request(struct strbuf *sb, char *const *argv,
                              char *const *envp, const char *cwd)
{
    int rc = strbuf_puts(sb, "{\"argv\": [");
    for (int i = 0; argv[i]; i++) {
        rc |= i ? strbuf_puts(sb, ", ") : 0;
        rc |= strbuf_json_string(sb, argv[i]);
    }
    rc |= strbuf_puts(sb, "], \"cwd\": ");
    rc |= strbuf_json_string(sb, cwd);
    rc |= strbuf_puts(sb, ", \"env\": {");
    int first = 1;
    for (int i = 0; envp[i]; i++) {
        const char *eq = strchr(envp[i], '=');
        if (eq == NULL)
            continue;
        struct strbuf name = STRBUF_INIT;
        rc |= strbuf_append(&name, envp[i], (size_t)(eq - envp[i]));
        rc |= first ? 0 : strbuf_puts(sb, ", ");
        rc |= strbuf_json_string(sb, strbuf_str(&name));
        rc |= strbuf_puts(sb, ": ");
        rc |= strbuf_json_string(sb, eq + 1);
        strbuf_free(&name);
        first = 0;
    }
    rc |= strbuf_puts(sb, "}}");
    return rc ? -1 : 0;
}

pid_t forkserver_spawn(struct forkserver *fs, char *const *argv,
                       char *const *envp, const char *cwd, int out_fd,
                       char *err, size_t errlen)
{
    struct strbuf req = STRBUF_INIT;
    char msg[FORKSERVER_MSG_MAX];
    pid_t pid = -1;
    if (!fs->alive) {
        snprintf(err, errlen, "the fork server is not running");
        return -1;
    }
    if (forkserver_request(&req, argv, envp, cwd) != 0) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    struct iovec iov = {req.data, req.len};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = control.buf;
    mh.msg_controllen = sizeof control.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &out_fd, sizeof(int));
    if (sendmsg(fs->fd, &mh, MSG_NOSIGNAL) < 0) {
        snprintf(err, errlen, "sending to the fork server: %s",
                 strerror(errno));
        fs->alive = 0;
        goto done;
    }
    ssize_t n = forkserver_recv(fs, msg, sizeof msg, FORKSERVER_REPLY_S);
    long v;
    if (n > 0 && sscanf(msg, "pid %ld", &v) == 1) {
        pid = (pid_t)v;
    } else {
        snprintf(err, errlen,
                 "the fork server did not start the evaluation: "
                 "%s",
                 n > 0    ? msg
                 : n == 0 ? "it exited"
                          : "no answer in time");
        if (n <= 0)
            fs->alive = 0;
    }
done:
    strbuf_free(&req);
    return pid;
}

int forkserver_reap(struct forkserver *fs, pid_t pid, int *status)
{
    char msg[FORKSERVER_MSG_MAX];
    while (fs->alive) {
        ssize_t n = recv(fs->fd, msg, sizeof msg - 1, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fs->alive = 0;
            break;
        }
        msg[n] = '\0';
        long who, st;
        if (sscanf(msg, "exit %ld %ld", &who, &st) == 2 && who == pid) {
            *status = (int)st;
            return 1;
        }
    }
    return -1;
}

void forkserver_stop(struct forkserver *fs)
{
    if (fs == NULL)
        return;
    close(fs->fd); /* EOF: the server exits */
    double end = util_now() + 2.0;
    while (waitpid(fs->pid, NULL, WNOHANG) == 0) {
        if (util_now() > end) {
            kill(fs->pid, SIGKILL);
            waitpid(fs->pid, NULL, 0);
            break;
        }
        util_sleep(0.01);
    }
    free(fs);
}
