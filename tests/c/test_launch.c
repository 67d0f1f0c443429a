/* Unit tests of the launcher (csrc/launch.c) with real child processes
 * that succeed, fail, crash, hang, flood their log or get cancelled, started
 * by fork and exec; and evaluations through a real fork server, one of which
 * loses its server. (Words, environment, output parsing and the spawners
 * have their own tests: test_cmdline, test_childenv, test_modelout,
 * test_spawn.) */
#include "unit.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "childenv.h"
#include "launch.h"
#include "server_fixture.h"
#include "spawn.h"
#include "util.h"

/* ---- real processes ---------------------------------------------------- */

struct run {
    char dir[64];
    struct childenv env;
    struct spawner *exec;
    struct launch_result r;
};

static int run_setup(void **state)
{
    struct run *run = calloc(1, sizeof *run);
    snprintf(run->dir, sizeof run->dir, "/tmp/async-search-launch-XXXXXX");
    assert_non_null(mkdtemp(run->dir));
    assert_int_equal(childenv_init(&run->env, environ), 0);
    run->exec = spawn_exec_new();
    assert_non_null(run->exec);
    *state = run;
    return 0;
}

static int run_teardown(void **state)
{
    struct run *run = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", run->dir);
    assert_int_equal(system(cmd), 0);
    childenv_free(&run->env);
    spawn_destroy(run->exec);
    free(run);
    return 0;
}

static void run_sh(struct run *run, const char *script, double timeout,
                   size_t cap, launch_cancel_fn cancel, void *arg)
{
    char *argv[] = {"/bin/sh", "-c", (char *)script, NULL};
    struct launch_spec s = {
        .argv = argv,
        .envp = run->env.vars,
        .run_dir = run->dir,
        .sh_timeout = timeout,
        .kill_grace = 0.3,
        .log_cap = cap,
        .spawner = run->exec,
    };
    launch_run(&s, cancel, arg, &run->r);
}

static char *slurp(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    char *buf = malloc(1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void ok_from_the_last_result_line(void **state)
{
    struct run *run = *state;
    run_sh(run,
           "echo start; echo IMPROVE_RESULT 3; echo IMPROVE_RESULT 0.5; pwd",
           10, 1 << 20, NULL, NULL);
    assert_int_equal(run->r.status, LAUNCH_OK);
    assert_true(run->r.objective == 0.5);
    assert_int_equal(run->r.exit_code, 0);
    char *log = slurp(run->dir, "model.log");
    assert_non_null(strstr(log, "start\n"));
    assert_non_null(strstr(log, run->dir)); /* cwd is the run directory */
    free(log);
}

static void ok_from_result_txt(void **state)
{
    struct run *run = *state;
    run_sh(run, "echo ' 1.25 ' > result.txt", 10, 1 << 20, NULL, NULL);
    assert_int_equal(run->r.status, LAUNCH_OK);
    assert_true(run->r.objective == 1.25);
}

static void failures_have_reasons(void **state)
{
    struct run *run = *state;
    run_sh(run, "echo IMPROVE_RESULT 1; exit 3", 10, 1 << 20, NULL, NULL);
    assert_int_equal(run->r.status, LAUNCH_FAILED);
    assert_int_equal(run->r.exit_code, 3);
    assert_non_null(strstr(run->r.reason, "exit status 3"));
    /* the model's last words say why: a failing import, say */
    run_sh(run,
           "echo Traceback; echo \"ModuleNotFoundError: No module named "
           "'tc2'\" >&2; echo >&2; exit 1",
           10, 1 << 20, NULL, NULL);
    assert_string_equal(run->r.reason, "exit status 1: ModuleNotFoundError: "
                                       "No module named 'tc2'");
    assert_true(isnan(run->r.objective));

    run_sh(run, "kill -SEGV $$", 10, 1 << 20, NULL, NULL);
    assert_int_equal(run->r.status, LAUNCH_FAILED);
    assert_int_equal(run->r.term_signal, 11);
    assert_non_null(strstr(run->r.reason, "signal 11"));

    run_sh(run, "echo IMPROVE_RESULT inf", 10, 1 << 20, NULL, NULL);
    assert_int_equal(run->r.status, LAUNCH_FAILED);
    assert_non_null(strstr(run->r.reason, "inf"));

    run_sh(run, "echo hello", 10, 1 << 20, NULL, NULL);
    assert_int_equal(run->r.status, LAUNCH_FAILED);
    assert_non_null(strstr(run->r.reason, "no result"));
    char *log = slurp(run->dir, "model.log");
    assert_non_null(strstr(log, "[async-search] evaluation failed: no result"));
    free(log);

    char *argv[] = {"/nonexistent/model", NULL};
    struct launch_spec s = {
        .argv = argv,
        .envp = run->env.vars,
        .run_dir = run->dir,
        .sh_timeout = 10,
        .kill_grace = 0.3,
        .log_cap = 1 << 20,
        .spawner = run->exec,
    };
    launch_run(&s, NULL, NULL, &run->r);
    assert_int_equal(run->r.status, LAUNCH_FAILED);
    assert_int_equal(run->r.exit_code, 127);
    log = slurp(run->dir, "model.log");
    assert_non_null(strstr(log, "cannot execute '/nonexistent/model'"));
    free(log);
}

/* 1 if process pid still runs (a zombie waiting for its reaper counts as
 * ended). */
static int process_runs(long pid)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    int runs = 0;
    if (fgets(line, sizeof line, f)) {
        const char *end = strrchr(line, ')'); /* after "pid (comm)" */
        runs = end != NULL && end[1] == ' ' && end[2] != 'Z' && end[2] != 'X';
    }
    fclose(f);
    return runs;
}

/* A team member's model (exit_only) succeeds by its exit status alone: the
 * evaluation's result is its leader's. */
static void a_member_is_judged_by_its_exit_status(void **state)
{
    struct run *run = *state;
    char *ok[] = {"/bin/sh", "-c", "echo training done", NULL};
    struct launch_spec s = {
        .argv = ok,
        .envp = run->env.vars,
        .run_dir = run->dir,
        .sh_timeout = 10,
        .kill_grace = 0.3,
        .log_cap = 1 << 20,
        .spawner = run->exec,
        .exit_only = 1,
    };
    launch_run(&s, NULL, NULL, &run->r);
    assert_int_equal(run->r.status, LAUNCH_OK);
    assert_true(isnan(run->r.objective));
    assert_string_equal(run->r.reason, "");

    char *failing[] = {"/bin/sh", "-c", "echo IMPROVE_RESULT 1; exit 3", NULL};
    s.argv = failing;
    launch_run(&s, NULL, NULL, &run->r);
    assert_int_equal(run->r.status, LAUNCH_FAILED);
    assert_non_null(strstr(run->r.reason, "exit status 3"));

    s.argv = ok; /* the same model alone has no result: a failure */
    s.exit_only = 0;
    launch_run(&s, NULL, NULL, &run->r);
    assert_int_equal(run->r.status, LAUNCH_FAILED);
    assert_non_null(strstr(run->r.reason, "no result"));
}

static void timeout_kills_the_whole_group(void **state)
{
    struct run *run = *state;
    /* The model ignores SIGTERM and leaves a grandchild that would write a
     * file much later: both must be dead when launch_run returns. */
    run_sh(run,
           "trap '' TERM; (sleep 60; touch late) & echo $! > grandchild; "
           "echo IMPROVE_RESULT 1; while :; do sleep 0.05; done",
           0.5, 1 << 20, NULL, NULL);
    assert_int_equal(run->r.status, LAUNCH_TIMEOUT);
    assert_non_null(strstr(run->r.reason, "SIGKILL"));
    char *pid = slurp(run->dir, "grandchild");
    assert_non_null(pid);
    /* SIGKILL is final, but a killed process closes its files (and so the
     * pipe launch_run waits on) a moment before the kernel marks it a
     * zombie: on a busy machine that moment can be seen. */
    long grandchild = strtol(pid, NULL, 10);
    for (int i = 0; i < 200 && process_runs(grandchild); i++)
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    assert_false(process_runs(grandchild));
    free(pid);
}

static void huge_output_is_capped_and_still_scanned(void **state)
{
    struct run *run = *state;
    run_sh(run,
           "head -c 3000000 /dev/zero | tr '\\0' x; echo; "
           "echo IMPROVE_RESULT 42",
           20, 100000, NULL, NULL);
    assert_int_equal(run->r.status, LAUNCH_OK);
    assert_true(run->r.objective == 42);
    char path[128];
    struct stat st;
    snprintf(path, sizeof path, "%s/model.log", run->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size > 100000 && st.st_size < 100400);
    char *log = slurp(run->dir, "model.log");
    assert_non_null(strstr(log, "model.log truncated at 100000 bytes"));
    free(log);
}

static int cancel_after_three_polls(void *arg)
{
    int *calls = arg;
    return ++*calls >= 3;
}

static void cancel_stops_the_model(void **state)
{
    struct run *run = *state;
    int calls = 0;
    run_sh(run, "sleep 30", 0, 1 << 20, cancel_after_three_polls, &calls);
    assert_int_equal(run->r.status, LAUNCH_CANCELLED);
    assert_int_equal(run->r.term_signal, 15);
}

static void model_removing_its_run_directory(void **state)
{
    struct run *run = *state;
    run_sh(run, "echo bye; rm -rf \"$PWD\"; echo IMPROVE_RESULT 2", 10, 1 << 20,
           NULL, NULL);
    /* The result line still counts: the log was open all along. */
    assert_int_equal(run->r.status, LAUNCH_OK);
    assert_true(run->r.objective == 2);
    mkdir(run->dir, 0700);
    run_sh(run, "rm -rf \"$PWD\"; echo 3 > result.txt", 10, 1 << 20, NULL,
           NULL);
    assert_int_equal(run->r.status, LAUNCH_FAILED);
    mkdir(run->dir, 0700);
}

/* ---- through a fork server ---------------------------------------------- */

static void run_server(struct run *run, struct childenv *env,
                       struct spawner *sp, const char *params,
                       launch_cancel_fn cancel, void *arg)
{
    char *argv[] = {SERVER_FIXTURE_MODEL, (char *)params, NULL};
    struct launch_spec s = {
        .argv = argv,
        .envp = env->vars,
        .run_dir = run->dir,
        .sh_timeout = 120, /* reached only if the server's death is missed */
        .kill_grace = 0.3,
        .log_cap = 1 << 20,
        .spawner = sp,
    };
    launch_run(&s, cancel, arg, &run->r);
}

/* A cancel callback that never cancels: once the model printed its parent,
 * the fork server, it kills that server. */
static int kill_the_server_once_seen(void *arg)
{
    struct run *run = arg;
    char *log = slurp(run->dir, "model.log");
    long server = server_fixture_ppid(log);
    free(log);
    if (server > 0 && strstr(run->r.reason, "killed") == NULL) {
        assert_int_equal(kill((pid_t)server, SIGKILL), 0);
        snprintf(run->r.reason, sizeof run->r.reason, "killed");
    }
    return 0;
}

static void
a_dead_fork_server_fails_the_evaluation_with_its_reason(void **state)
{
    struct run *run = *state;
    struct childenv env;
    server_fixture_env(&env);
    struct spawner *sp =
        server_fixture_spawner(&env, run->dir, NULL, NULL, NULL);

    run_server(run, &env, sp, "{\"fault\": \"ok\", \"x\": 0.5}", NULL, NULL);
    assert_int_equal(run->r.status, LAUNCH_OK);
    assert_true(run->r.objective == 0.25);

    run_server(run, &env, sp, "{\"fault\": \"hang\"}",
               kill_the_server_once_seen, run);
    assert_int_equal(run->r.status, LAUNCH_FAILED);
    assert_string_equal(run->r.reason,
                        "the fork server died during the evaluation");
    assert_int_equal(run->r.exit_code, -1);
    assert_int_equal(run->r.term_signal, SIGKILL);
    assert_true(isnan(run->r.objective));
    char *log = slurp(run->dir, "model.log");
    assert_non_null(strstr(log, "[async-search] evaluation failed: the fork "
                                "server died during the evaluation"));
    free(log);

    /* The next evaluation gets a new server. */
    run_server(run, &env, sp, "{\"fault\": \"ok\", \"x\": 0.5}", NULL, NULL);
    assert_int_equal(run->r.status, LAUNCH_OK);
    spawn_destroy(sp);
    childenv_free(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ok_from_the_last_result_line, run_setup,
                                        run_teardown),
        cmocka_unit_test_setup_teardown(ok_from_result_txt, run_setup,
                                        run_teardown),
        cmocka_unit_test_setup_teardown(failures_have_reasons, run_setup,
                                        run_teardown),
        cmocka_unit_test_setup_teardown(a_member_is_judged_by_its_exit_status,
                                        run_setup, run_teardown),
        cmocka_unit_test_setup_teardown(timeout_kills_the_whole_group,
                                        run_setup, run_teardown),
        cmocka_unit_test_setup_teardown(huge_output_is_capped_and_still_scanned,
                                        run_setup, run_teardown),
        cmocka_unit_test_setup_teardown(cancel_stops_the_model, run_setup,
                                        run_teardown),
        cmocka_unit_test_setup_teardown(model_removing_its_run_directory,
                                        run_setup, run_teardown),
        cmocka_unit_test_setup_teardown(
            a_dead_fork_server_fails_the_evaluation_with_its_reason, run_setup,
            run_teardown),
    };
    return UNIT_RUN(tests);
}
