/* Unit tests of the model check before a search (csrc/modelcheck.c): the
 * runner's --check for --model (a real /usr/bin/python3 with the project's
 * package; run from the project root, as make test-c does) and the program
 * and script lookup for --model-cmd. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "modelcheck.h"

extern char **environ;

static int check(const char *model, const char *cmd, char *info, char *err)
{
    char home[1024];
    assert_non_null(getcwd(home, sizeof home));
    struct modelcheck_config c = {
        .model = model,
        .model_cmd = cmd,
        .python = BUILD_PYTHON,
        .home = home,
        .environ = environ,
    };
    err[0] = '\0';
    return modelcheck_run(&c, info, 512, err, 512);
}

static void a_known_model_says_what_runs(void **state)
{
    (void)state;
    char info[512], err[512];
    assert_int_equal(check("example", NULL, info, err), 0);
    assert_non_null(strstr(info, "model example: module "
                                 "async_search.benchmarks.example, built in"));
}

static void an_unknown_model_is_refused_in_one_line(void **state)
{
    (void)state;
    char info[512], err[512];
    assert_int_equal(check("tc2", NULL, info, err), 2);
    assert_non_null(strstr(err, "--model tc2: unknown model 'tc2'"));
    assert_null(strchr(err, '\n'));
}

static void a_missing_interpreter_names_python(void **state)
{
    (void)state;
    char home[1024], info[512], err[512];
    assert_non_null(getcwd(home, sizeof home));
    struct modelcheck_config c = {"example", NULL,    "/nonexistent/python3",
                                  home,      environ, 0};
    assert_int_equal(modelcheck_run(&c, info, sizeof info, err, sizeof err), 2);
    assert_non_null(strstr(err, "--python /nonexistent/python3"));
}

static void model_cmd_programs_and_scripts_must_exist(void **state)
{
    (void)state;
    char info[512], err[512];
    assert_int_equal(check(NULL, "/bin/true --x", info, err), 0);
    assert_int_equal(check(NULL, "true", info, err), 0); /* found in PATH */
    assert_int_equal(check(NULL, "/nonexistent/m", info, err), 2);
    assert_non_null(strstr(err, "/nonexistent/m: no such file"));
    assert_int_equal(check(NULL, "no-such-program-xyz a", info, err), 2);
    assert_non_null(strstr(err, "not an executable file in PATH"));
    assert_int_equal(check(NULL, "/etc/passwd", info, err), 2);
    assert_int_equal(check(NULL, "python3 /nonexistent/m.py", info, err), 2);
    assert_non_null(strstr(err, "the script /nonexistent/m.py"));
    assert_int_equal(check(NULL, "python3 model.py", info, err), 2);
    assert_non_null(strstr(err, "relative path"));
    assert_int_equal(check(NULL, "./model.sh", info, err), 2);
    assert_int_equal(check(NULL, "python3 'a", info, err), 2);
    assert_non_null(strstr(err, "unterminated"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_known_model_says_what_runs),
        cmocka_unit_test(an_unknown_model_is_refused_in_one_line),
        cmocka_unit_test(a_missing_interpreter_names_python),
        cmocka_unit_test(model_cmd_programs_and_scripts_must_exist),
    };
    return UNIT_RUN(tests);
}
