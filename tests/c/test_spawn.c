/* Unit tests of the spawn interface (csrc/spawn*.c) with real children, in
 * both implementations: fork+exec, and a real fork server (see
 * server_fixture.h) including its death, its restart and the fallback to
 * subprocesses when it cannot be started. Waits are for events (output, EOF,
 * the end of a child); the time limits only turn a hang into a failure. */
#define _GNU_SOURCE
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "childenv.h"
#include "server_fixture.h"
#include "spawn.h"
#include "strbuf.h"
#include "util.h"

/* Far beyond any normal wait here; reached only when something hangs. */
#define TEST_PATIENCE_S 120.0
#define TEST_POLL_MS 50
#define TEST_DIED "the fork server died during the evaluation"

struct fixture {
    char dir[64];
    struct childenv env;
    int notices;
    char notice[512]; /* the last one */
};

static int fixture_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/async-search-spawn-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    server_fixture_env(&f->env);
    assert_int_equal(childenv_set(&f->env, "SPAWN_TEST", "from the env", 1), 0);
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    childenv_free(&f->env);
    free(f);
    return 0;
}

static void remember_notice(void *arg, const char *msg)
{
    struct fixture *f = arg;
    f->notices++;
    snprintf(f->notice, sizeof f->notice, "%s", msg);
}

/* Starts argv with sp; *out_rd is the read end of its output. */
static void start(struct fixture *f, struct spawner *sp, char *const *argv,
                  const char *cwd, struct spawn_child *c, int *out_rd)
{
    int p[2];
    char err[512];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    struct spawn_cmd cmd = {argv, f->env.vars, cwd, p[1]};
    if (spawn_start(sp, &cmd, c, err, sizeof err) != 0)
        fail_msg("spawn_start: %s", err);
    close(p[1]);
    assert_true(c->pid > 0);
    *out_rd = p[0];
}

/* Reads what fd has next into out; returns 0 at EOF. */
static int read_some(int fd, struct strbuf *out)
{
    char buf[4096];
    double give_up = util_now() + TEST_PATIENCE_S;
    while (1) {
        assert_true(util_now() < give_up);
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, TEST_POLL_MS) <= 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n >= 0);
        assert_int_equal(strbuf_append(out, buf, (size_t)n), 0);
        return n > 0;
    }
}

static void read_to_eof(int fd, struct strbuf *out)
{
    while (read_some(fd, out))
        ;
}

/* Reads until out holds the whole line in which text occurs. */
static void read_line_with(int fd, struct strbuf *out, const char *text)
{
    const char *at;
    while ((at = strstr(strbuf_str(out), text)) == NULL ||
           strchr(at, '\n') == NULL)
        assert_true(read_some(fd, out)); /* EOF before the line came */
}

static void wait_end(struct spawn_child *c, struct spawn_end *end)
{
    double give_up = util_now() + TEST_PATIENCE_S;
    while (!spawn_reap(c, end)) {
        assert_true(util_now() < give_up);
        struct pollfd pfd = {spawn_fd(c), POLLIN, 0};
        poll(&pfd, 1, TEST_POLL_MS); /* fd -1: only waits */
    }
    assert_true(c->ended);
    assert_int_equal(spawn_fd(c), -1);
}

/* Runs argv to its end: its output in out (reset first), its end in *end;
 * returns spawn_fd while it ran. */
static int run(struct fixture *f, struct spawner *sp, char *const *argv,
               struct strbuf *out, struct spawn_end *end)
{
    struct spawn_child c;
    int rd;
    strbuf_reset(out);
    start(f, sp, argv, f->dir, &c, &rd);
    int fd = spawn_fd(&c);
    read_to_eof(rd, out);
    close(rd);
    wait_end(&c, end);
    return fd;
}

/* ---- fork and exec ------------------------------------------------------ */

static void
exec_child_leads_its_own_group_in_cwd_with_env_and_output(void **state)
{
    struct fixture *f = *state;
    struct spawner *sp = spawn_exec_new();
    struct strbuf out = STRBUF_INIT;
    struct spawn_child c;
    struct spawn_end end;
    int rd;
    /* A grandchild holds the output too: EOF proves the group signal. */
    char *argv[] = {"/bin/sh", "-c",
                    "echo \"$SPAWN_TEST\"; pwd; sleep 60 & echo ready; wait",
                    NULL};
    assert_non_null(sp);
    start(f, sp, argv, f->dir, &c, &rd);
    read_line_with(rd, &out, "ready");
    assert_int_equal(getpgid(c.pid), c.pid);
    assert_int_equal(spawn_fd(&c), -1);
    spawn_signal(&c, SIGTERM);
    read_to_eof(rd, &out);
    close(rd);
    wait_end(&c, &end);
    assert_int_equal(end.state, SPAWN_SIGNALED);
    assert_int_equal(end.code, SIGTERM);
    assert_null(end.why);
    assert_non_null(strstr(strbuf_str(&out), "from the env\n"));
    assert_non_null(strstr(strbuf_str(&out), f->dir));
    strbuf_free(&out);
    spawn_destroy(sp);
}

static void exec_ends_are_typed(void **state)
{
    struct fixture *f = *state;
    struct spawner *sp = spawn_exec_new();
    struct strbuf out = STRBUF_INIT;
    struct spawn_end end;
    char *exit3[] = {"/bin/sh", "-c", "exit 3", NULL};
    char *segv[] = {"/bin/sh", "-c", "kill -SEGV $$", NULL};
    char *missing[] = {"/nonexistent/model", NULL};
    run(f, sp, exit3, &out, &end);
    assert_int_equal(end.state, SPAWN_EXITED);
    assert_int_equal(end.code, 3);
    run(f, sp, segv, &out, &end);
    assert_int_equal(end.state, SPAWN_SIGNALED);
    assert_int_equal(end.code, SIGSEGV);
    run(f, sp, missing, &out, &end);
    assert_int_equal(end.state, SPAWN_EXITED);
    assert_int_equal(end.code, 127);
    assert_non_null(
        strstr(strbuf_str(&out), "cannot execute '/nonexistent/model'"));

    struct spawn_child c;
    int rd;
    start(f, sp, exit3, "/nonexistent/dir", &c, &rd);
    strbuf_reset(&out);
    read_to_eof(rd, &out);
    close(rd);
    wait_end(&c, &end);
    assert_int_equal(end.code, 127);
    assert_non_null(strstr(strbuf_str(&out), "cannot enter the run directory"));
    strbuf_free(&out);
    spawn_destroy(sp);
    spawn_destroy(NULL);
}

/* ---- the fork server ---------------------------------------------------- */

static void server_runs_the_runner_and_types_its_ends(void **state)
{
    struct fixture *f = *state;
    struct spawner *sp =
        server_fixture_spawner(&f->env, f->dir, NULL, remember_notice, f);
    struct strbuf out = STRBUF_INIT;
    struct spawn_end end;
    char *ok[] = {SERVER_FIXTURE_MODEL, "{\"fault\": \"pid\", \"x\": 0.5}",
                  NULL};
    char *exit3[] = {SERVER_FIXTURE_MODEL, "{\"fault\": \"exit3\"}", NULL};
    char *segv[] = {SERVER_FIXTURE_MODEL, "{\"fault\": \"segv\"}", NULL};

    assert_true(run(f, sp, ok, &out, &end) >= 0); /* the server's socket */
    assert_int_equal(end.state, SPAWN_EXITED);
    assert_int_equal(end.code, 0);
    assert_non_null(strstr(strbuf_str(&out), "IMPROVE_RESULT 0.25"));
    long server = server_fixture_ppid(strbuf_str(&out));
    assert_true(server > 0 && server != (long)getpid()); /* forked there */
    run(f, sp, exit3, &out, &end); /* the runner reports it, exits 1 */
    assert_int_equal(end.state, SPAWN_EXITED);
    assert_int_equal(end.code, 1);
    assert_non_null(strstr(strbuf_str(&out), "SystemExit: 3"));
    run(f, sp, segv, &out, &end);
    assert_int_equal(end.state, SPAWN_SIGNALED);
    assert_int_equal(end.code, SIGSEGV);
    assert_int_equal(server_fixture_ppid(strbuf_str(&out)), server);
    assert_int_equal(f->notices, 0);
    spawn_destroy(sp);
    assert_int_equal(kill((pid_t)server, 0), -1); /* stopped and reaped */
    strbuf_free(&out);
}

static void a_dead_server_loses_its_child_and_is_started_again(void **state)
{
    struct fixture *f = *state;
    struct spawner *sp =
        server_fixture_spawner(&f->env, f->dir, NULL, remember_notice, f);
    struct strbuf out = STRBUF_INIT;
    struct spawn_child c;
    struct spawn_end end;
    int rd;
    char *hang[] = {SERVER_FIXTURE_MODEL, "{\"fault\": \"hang\"}", NULL};
    char *ok[] = {SERVER_FIXTURE_MODEL, "{\"fault\": \"ok\"}", NULL};

    start(f, sp, hang, f->dir, &c, &rd);
    read_line_with(rd, &out, "fault hang");
    long server = server_fixture_ppid(strbuf_str(&out));
    assert_true(server > 0);
    assert_true(spawn_fd(&c) >= 0);
    assert_int_equal(kill((pid_t)server, SIGKILL), 0);
    wait_end(&c, &end);
    assert_int_equal(end.state, SPAWN_LOST);
    assert_int_equal(end.code, SIGKILL);
    assert_string_equal(end.why, TEST_DIED);
    spawn_signal(&c, SIGKILL); /* as launch does; it died with its server */
    read_to_eof(rd, &out);
    close(rd);

    run(f, sp, ok, &out, &end); /* a new server */
    assert_int_equal(end.state, SPAWN_EXITED);
    assert_int_equal(end.code, 0);
    long again = server_fixture_ppid(strbuf_str(&out));
    assert_true(again > 0 && again != server);
    assert_int_equal(f->notices, 0); /* only failed starts are news */
    spawn_destroy(sp);
    strbuf_free(&out);
}

static void failed_starts_fall_back_to_subprocesses(void **state)
{
    struct fixture *f = *state;
    struct strbuf out = STRBUF_INIT;
    struct spawn_end end;
    char err[256];
    const char *fallback[] = {"/bin/sh", "-c", "echo fallback \"$0\" \"$1\"",
                              NULL};
    char *args[] = {SERVER_FIXTURE_MODEL, "{}", NULL};
    struct spawn_server_config cfg = {
        .python = "/nonexistent/python3",
        .model = SERVER_FIXTURE_MODEL,
        .log_path = "/dev/null",
        .envp = f->env.vars,
        .fallback = fallback,
        .tries = 2,
        .notice = remember_notice,
        .notice_arg = f,
    };
    struct spawner *sp = spawn_forkserver_new(&cfg, err, sizeof err);
    assert_non_null(sp);
    assert_int_equal(f->notices, 1);
    assert_non_null(strstr(f->notice, "did not start"));
    assert_null(strstr(f->notice, "subprocesses"));

    /* The second failed start gives the server up; this one runs anyway. */
    assert_int_equal(run(f, sp, args, &out, &end), -1);
    assert_int_equal(f->notices, 2);
    assert_non_null(strstr(
        f->notice, "; this worker runs its evaluations as subprocesses"));
    assert_int_equal(end.state, SPAWN_EXITED);
    assert_int_equal(end.code, 0);
    assert_string_equal(strbuf_str(&out), "fallback candle_faulty {}\n");

    run(f, sp, args, &out, &end);
    assert_int_equal(f->notices, 2); /* no more tries */
    assert_string_equal(strbuf_str(&out), "fallback candle_faulty {}\n");
    spawn_destroy(sp);
    strbuf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            exec_child_leads_its_own_group_in_cwd_with_env_and_output,
            fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(exec_ends_are_typed, fixture_setup,
                                        fixture_teardown),
        cmocka_unit_test_setup_teardown(
            server_runs_the_runner_and_types_its_ends, fixture_setup,
            fixture_teardown),
        cmocka_unit_test_setup_teardown(
            a_dead_server_loses_its_child_and_is_started_again, fixture_setup,
            fixture_teardown),
        cmocka_unit_test_setup_teardown(failed_starts_fall_back_to_subprocesses,
                                        fixture_setup, fixture_teardown),
    };
    return UNIT_RUN(tests);
}
