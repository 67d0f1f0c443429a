/* Unit tests of command-line words (csrc/cmdline.c): splitting like a shell
 * without expansion. */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "cmdline.h"

static void split_words_like_a_shell_without_expansion(void **state)
{
    (void)state;
    char **w;
    size_t n;
    char err[256];
    assert_int_equal(
        cmdline_split(
            "  python3  -u 'my model.py' \"a \\\"b\\\" $HOME\" c\\ d ", &w, &n,
            err, sizeof err),
        0);
    assert_int_equal(n, 5);
    assert_string_equal(w[0], "python3");
    assert_string_equal(w[1], "-u");
    assert_string_equal(w[2], "my model.py");
    assert_string_equal(w[3], "a \"b\" $HOME");
    assert_string_equal(w[4], "c d");
    assert_null(w[5]);
    cmdline_free(w);
    assert_int_equal(
        cmdline_split("echo $(touch /tmp/x);rm", &w, &n, err, sizeof err), 0);
    assert_int_equal(n, 3); /* blanks split words; nothing else is special */
    assert_string_equal(w[1], "$(touch");
    assert_string_equal(w[2], "/tmp/x);rm");
    cmdline_free(w);
    assert_int_equal(cmdline_split("a 'b", &w, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "unterminated"));
    assert_int_equal(cmdline_split("   ", &w, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "empty"));
}

static void
split_keeps_empty_quoted_words_and_rejects_a_lone_backslash(void **state)
{
    (void)state;
    char **w;
    size_t n;
    char err[256];
    assert_int_equal(cmdline_split("a '' \"\"b", &w, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(w[1], "");
    assert_string_equal(w[2], "b");
    cmdline_free(w);
    assert_int_equal(cmdline_split("a \\", &w, &n, err, sizeof err), -1);
    assert_non_null(strstr(err, "lone backslash"));
    assert_null(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_words_like_a_shell_without_expansion),
        cmocka_unit_test(
            split_keeps_empty_quoted_words_and_rejects_a_lone_backslash),
    };
    return UNIT_RUN(tests);
}
