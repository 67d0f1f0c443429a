/*
 * server_fixture.h: what the unit tests that run a real fork server share.
 *
 * make test-c runs the tests from the project root, so the server finds the
 * package under python/ and the test model tests/models/candle_faulty.py
 * (run(params) fails as params["fault"] says: ok, exit3, segv, hang, ...; it
 * prints "fault F pid P ppid Q" first, Q being the server). The interpreter
 * is the one the program embeds (BUILD_PYTHON, from the Makefile).
 * Include it after unit.h.
 */
#ifndef ASYNC_SEARCH_TESTS_SERVER_FIXTURE_H
#define ASYNC_SEARCH_TESTS_SERVER_FIXTURE_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "childenv.h"
#include "spawn.h"
#include "strbuf.h"

#define SERVER_FIXTURE_MODEL "candle_faulty"
#define SERVER_FIXTURE_PATH_MAX 4096 /* the project root's path */

extern char **environ;

/* Fills env with ours plus a PYTHONPATH for the server. */
static inline void server_fixture_env(struct childenv *env)
{
    struct strbuf pp = STRBUF_INIT;
    char root[SERVER_FIXTURE_PATH_MAX];
    assert_non_null(getcwd(root, sizeof root));
    assert_int_equal(
        strbuf_printf(&pp, "%s/python:%s/tests/models", root, root), 0);
    assert_int_equal(childenv_init(env, environ), 0);
    assert_int_equal(childenv_set(env, "PYTHONPATH", strbuf_str(&pp), 1), 0);
    strbuf_free(&pp);
}

/* A fork-server spawner for the test model that logs into dir; fallback may
 * be NULL. */
static inline struct spawner *
server_fixture_spawner(const struct childenv *env, const char *dir,
                       const char *const *fallback, spawn_notice_fn notice,
                       void *arg)
{
    struct strbuf log = STRBUF_INIT;
    char err[256];
    assert_int_equal(strbuf_printf(&log, "%s/forkserver.log", dir), 0);
    struct spawn_server_config cfg = {
        .python = BUILD_PYTHON,
        .model = SERVER_FIXTURE_MODEL,
        .log_path = strbuf_str(&log),
        .envp = env->vars,
        .fallback = fallback,
        .tries = 3,
        .notice = notice,
        .notice_arg = arg,
    };
    struct spawner *sp = spawn_forkserver_new(&cfg, err, sizeof err);
    assert_non_null(sp);
    strbuf_free(&log);
    return sp;
}

/* Returns the pid after "ppid " in text (the fork server of the test
 * model's process), or 0. */
static inline long server_fixture_ppid(const char *text)
{
    const char *p = text ? strstr(text, " ppid ") : NULL;
    return p ? strtol(p + strlen(" ppid "), NULL, 10) : 0;
}

#endif
