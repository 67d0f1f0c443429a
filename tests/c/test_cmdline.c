/* Unit tests of command-line words (csrc/cmdline.c): splitting like a shell
 * without expansion, and building argv arrays from const strings. */
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

static void append_copies_const_words(void **state)
{
    (void)state;
    const char *model = "tc1";
    char **w = NULL;
    size_t n = 0;
    assert_int_equal(cmdline_append(&w, &n, "/usr/bin/python3"), 0);
    assert_int_equal(cmdline_append(&w, &n, model), 0);
    assert_int_equal(n, 2);
    assert_string_equal(w[0], "/usr/bin/python3");
    assert_string_equal(w[1], "tc1");
    assert_true(w[1] != model); /* a copy, owned by the array */
    assert_null(w[2]);
    cmdline_free(w);
    cmdline_free(NULL);
}

static void join_borrows_the_words_of_both_parts(void **state)
{
    (void)state;
    char **head = NULL;
    size_t n = 0;
    char params[] = "/run/1_0_0/params.json";
    char *const tail[] = {params, NULL};
    assert_int_equal(cmdline_append(&head, &n, "python3"), 0);
    assert_int_equal(cmdline_append(&head, &n, "run.py"), 0);
    char **argv = cmdline_join(head, tail);
    assert_non_null(argv);
    assert_ptr_equal(argv[0], head[0]);
    assert_ptr_equal(argv[1], head[1]);
    assert_ptr_equal(argv[2], params);
    assert_null(argv[3]);
    free(argv);
    argv = cmdline_join(NULL, tail);
    assert_ptr_equal(argv[0], params);
    assert_null(argv[1]);
    free(argv);
    argv = cmdline_join(head, NULL);
    assert_ptr_equal(argv[1], head[1]);
    assert_null(argv[2]);
    free(argv);
    cmdline_free(head);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_words_like_a_shell_without_expansion),
        cmocka_unit_test(
            split_keeps_empty_quoted_words_and_rejects_a_lone_backslash),
        cmocka_unit_test(append_copies_const_words),
        cmocka_unit_test(join_borrows_the_words_of_both_parts),
    };
    return UNIT_RUN(tests);
}
