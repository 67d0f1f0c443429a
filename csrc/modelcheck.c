/*
 * modelcheck: see modelcheck.h. The runner is started with the worker's
 * own spawn mechanism (fork and exec, own process group); its output is
 * read until it ends or the timeout passes, and its last line is the
 * answer: what runs, or why not.
 */
#define _GNU_SOURCE
#include "modelcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "childenv.h"
#include "cmdline.h"
#include "spawn.h"
#include "strbuf.h"
#include "util.h"

#define MODELCHECK_OUTPUT_MAX 65536
#define MODELCHECK_POLL_MS 50
#define MODELCHECK_RUNNER_PREFIX "async_search.runner: error: "

/* The last non-empty line of text, copied into out. */
static void modelcheck_last_line(const char *text, char *out, size_t len)
{
    const char *end = text + strlen(text);
    while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        end--;
    const char *start = end;
    while (start > text && start[-1] != '\n')
        start--;
    if (strncmp(start, MODELCHECK_RUNNER_PREFIX,
                strlen(MODELCHECK_RUNNER_PREFIX)) == 0)
        start += strlen(MODELCHECK_RUNNER_PREFIX);
    snprintf(out, len, "%.*s", (int)(end - start), start);
}

/* Reads fd until EOF or the deadline into out (capped). Returns 0, or -1
 * when the deadline passed. */
static int modelcheck_read(int fd, struct strbuf *out, double deadline)
{
    char chunk[4096];
    while (1) {
        double left = deadline - util_now();
        if (left <= 0)
            return -1;
        struct pollfd p = {fd, POLLIN, 0};
        int ms = left * 1000 < MODELCHECK_POLL_MS ? (int)(left * 1000) + 1
                                                  : MODELCHECK_POLL_MS;
        if (poll(&p, 1, ms) <= 0)
            continue;
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        if (out->len < MODELCHECK_OUTPUT_MAX)
            strbuf_append(out, chunk, (size_t)n);
    }
}

/* Waits for the child's end (after its output closed, it is near). */
static void modelcheck_reap(struct spawn_child *child, struct spawn_end *end,
                            int kill_it)
{
    if (kill_it)
        spawn_signal(child, SIGKILL);
    while (!spawn_reap(child, end))
        util_sleep(0.001);
}

/* The runner's environment: the models' own, with the project's package. */
static int modelcheck_env(const struct modelcheck_config *c,
                          struct childenv *env)
{
    struct strbuf pp = STRBUF_INIT;
    if (childenv_init(env, c->environ) != 0)
        return -1;
    const char *old = childenv_get(env, "PYTHONPATH");
    int rc = strbuf_printf(&pp, "%s/python%s%s", c->home, old ? ":" : "",
                           old ? old : "");
    rc |= childenv_set(env, "PYTHONPATH", strbuf_str(&pp), 1);
    rc |= childenv_set(env, "ASYNC_SEARCH_HOME", c->home, 1);
    rc |= childenv_set(env, "OMP_NUM_THREADS", "1", 0);
    strbuf_free(&pp);
    return rc ? -1 : 0;
}

/* Runs the runner's --check and reads its answer. */
static int modelcheck_model(const struct modelcheck_config *c, char *info,
                            size_t infolen, char *err, size_t errlen)
{
    struct childenv env;
    struct spawner *sp = spawn_exec_new();
    struct strbuf out = STRBUF_INIT;
    struct spawn_child child;
    struct spawn_end end;
    char last[512], why[256];
    int fds[2] = {-1, -1}, status = 1;
    char *const argv[] = {(char *)c->python,     "-m",
                          "async_search.runner", "--check",
                          (char *)c->model,      NULL};
    memset(&env, 0, sizeof env);
    errno = 0;
    if (sp == NULL || modelcheck_env(c, &env) != 0 ||
        pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot check --model %s: %s", c->model,
                 errno ? strerror(errno) : "out of memory");
        goto done;
    }
    struct spawn_cmd cmd = {
        .argv = argv, .envp = env.vars, .cwd = ".", .out_fd = fds[1]};
    if (spawn_start(sp, &cmd, &child, why, sizeof why) != 0) {
        snprintf(err, errlen, "cannot check --model %s: %s", c->model, why);
        goto done;
    }
    close(fds[1]);
    fds[1] = -1;
    double limit = c->timeout_s > 0 ? c->timeout_s : MODELCHECK_TIMEOUT_S;
    int late = modelcheck_read(fds[0], &out, util_now() + limit) != 0;
    modelcheck_reap(&child, &end, late);
    modelcheck_last_line(strbuf_str(&out), last, sizeof last);
    status = 2;
    if (late)
        snprintf(err, errlen,
                 "--model %s: checking it took more than %g s (%s -m "
                 "async_search.runner --check %s)",
                 c->model, limit, c->python, c->model);
    else if (end.state == SPAWN_EXITED && end.code == 0)
        status = 0, snprintf(info, infolen, "%s", last);
    else if (end.state == SPAWN_EXITED && end.code == 127)
        snprintf(err, errlen, "--python %s: %s", c->python, last);
    else
        snprintf(err, errlen, "--model %s: %s", c->model,
                 last[0] ? last : "the model check failed");
done:
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    strbuf_free(&out);
    childenv_free(&env);
    spawn_destroy(sp);
    return status;
}

/* Nonzero if name is an executable file (not a directory). */
static int modelcheck_executable(const char *name)
{
    struct stat st;
    return stat(name, &st) == 0 && S_ISREG(st.st_mode) &&
           access(name, X_OK) == 0;
}

/* Finds a program as execvp does: a name with '/' as given, else in PATH. */
static int modelcheck_find_program(const char *name, const char *path)
{
    if (strchr(name, '/'))
        return modelcheck_executable(name);
    struct strbuf sb = STRBUF_INIT;
    const char *p = path && *path ? path : "/usr/local/bin:/usr/bin:/bin";
    int found = 0;
    while (!found && *p) {
        size_t n = strcspn(p, ":");
        strbuf_reset(&sb);
        strbuf_printf(&sb, "%.*s/%s", (int)n, n ? p : ".", name);
        found = modelcheck_executable(strbuf_str(&sb));
        p += n + (p[n] == ':');
    }
    strbuf_free(&sb);
    return found;
}

/* Checks one word that names a file: absolute and present. */
static int modelcheck_path(const char *word, const char *what, char *err,
                           size_t errlen)
{
    if (word[0] != '/') {
        snprintf(err, errlen,
                 "--model-cmd: %s '%s' is a relative path, but each "
                 "evaluation runs in its own run directory: give an "
                 "absolute path",
                 what, word);
        return 2;
    }
    if (!util_exists(word)) {
        snprintf(err, errlen, "--model-cmd: %s %s: no such file", what, word);
        return 2;
    }
    return 0;
}

static int modelcheck_cmd(const struct modelcheck_config *c, char *err,
                          size_t errlen)
{
    char **words = NULL;
    size_t n = 0;
    char why[256];
    if (cmdline_split(c->model_cmd, &words, &n, why, sizeof why) != 0) {
        snprintf(err, errlen, "--model-cmd: %s", why);
        return 2;
    }
    int status = 0;
    if (strchr(words[0], '/'))
        status = modelcheck_path(words[0], "the program", err, errlen);
    if (status == 0 && !modelcheck_find_program(words[0], getenv("PATH"))) {
        snprintf(err, errlen,
                 "--model-cmd: the program '%s' is not an executable file%s",
                 words[0], strchr(words[0], '/') ? "" : " in PATH");
        status = 2;
    }
    for (size_t i = 1; status == 0 && i < n; i++) {
        size_t len = strlen(words[i]);
        if (words[i][0] != '-' && len > 3 &&
            strcmp(words[i] + len - 3, ".py") == 0)
            status = modelcheck_path(words[i], "the script", err, errlen);
    }
    cmdline_free(words);
    return status;
}

int modelcheck_run(const struct modelcheck_config *c, char *info,
                   size_t infolen, char *err, size_t errlen)
{
    info[0] = '\0';
    if (c->model_cmd)
        return modelcheck_cmd(c, err, errlen);
    if (c->model)
        return modelcheck_model(c, info, infolen, err, errlen);
    return 0;
}
