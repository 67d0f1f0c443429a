/* Unit tests of experiment ids (csrc/expid.c): the first free EXPnnn under a
 * root, what counts as taken, the errors, and which ids are valid. Each test
 * works in its own temporary directory. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "unit.h"

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "expid.h"

#define ERR_LEN 512
#define ROOT_LEN 256 /* the temporary root; paths under it fit PATH_MAX */

struct tmp {
    char root[ROOT_LEN];
};

static int tmp_setup(void **state)
{
    struct tmp *t = calloc(1, sizeof *t);
    if (t == NULL)
        return -1;
    const char *base = getenv("TMPDIR");
    snprintf(t->root, sizeof t->root, "%s/test_expid.XXXXXX",
             base && *base ? base : "/tmp");
    if (mkdtemp(t->root) == NULL) {
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

static int tmp_remove(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int tmp_teardown(void **state)
{
    struct tmp *t = *state;
    int rc = nftw(t->root, tmp_remove, 16, FTW_DEPTH | FTW_PHYS);
    free(t);
    return rc;
}

/* Creates ROOT/name as a directory. */
static void make_dir(const struct tmp *t, const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", t->root, name);
    assert_int_equal(mkdir(path, 0777), 0);
}

static const char *next(const struct tmp *t, char *path, size_t len)
{
    char err[ERR_LEN] = "";
    if (expid_next(t->root, path, len, err, sizeof err) != 0)
        fail_msg("expid_next: %s", err);
    return expid_name(path);
}

static void numbers_from_zero_and_fills_gaps(void **state)
{
    struct tmp *t = *state;
    char path[PATH_MAX], want[2 * ROOT_LEN];
    assert_string_equal(next(t, path, sizeof path), "EXP000");
    snprintf(want, sizeof want, "%s/EXP000", t->root);
    assert_string_equal(path, want);
    make_dir(t, "EXP000");
    make_dir(t, "EXP001");
    make_dir(t, "EXP003");
    make_dir(t, "my-run"); /* other names do not count */
    assert_string_equal(next(t, path, sizeof path), "EXP002");
    make_dir(t, "EXP002");
    assert_string_equal(next(t, path, sizeof path), "EXP004");
    /* nothing was created */
    struct stat st;
    snprintf(want, sizeof want, "%s/EXP004", t->root);
    assert_int_equal(stat(want, &st), -1);
}

static void files_and_dangling_links_are_taken(void **state)
{
    struct tmp *t = *state;
    char path[PATH_MAX], target[2 * ROOT_LEN];
    snprintf(path, sizeof path, "%s/EXP000", t->root);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(path, sizeof path, "%s/EXP001", t->root);
    snprintf(target, sizeof target, "%s/nowhere", t->root);
    assert_int_equal(symlink(target, path), 0);
    assert_string_equal(next(t, path, sizeof path), "EXP002");
}

static void a_missing_root_is_empty(void **state)
{
    struct tmp *t = *state;
    char path[PATH_MAX], err[ERR_LEN] = "", root[2 * ROOT_LEN];
    snprintf(root, sizeof root, "%s/not/yet", t->root);
    assert_int_equal(expid_next(root, path, sizeof path, err, sizeof err), 0);
    assert_string_equal(expid_name(path), "EXP000");
    struct stat st;
    assert_int_equal(stat(root, &st), -1);
}

static void a_relative_root_stays_relative(void **state)
{
    struct tmp *t = *state;
    char path[PATH_MAX], err[ERR_LEN] = "", cwd[PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(t->root), 0);
    make_dir(t, EXPID_ROOT);
    make_dir(t, EXPID_ROOT "/EXP000");
    int rc = expid_next(EXPID_ROOT, path, sizeof path, err, sizeof err);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, 0);
    assert_string_equal(path, "experiments/EXP001");
}

static void errors_are_one_line(void **state)
{
    struct tmp *t = *state;
    char path[PATH_MAX], err[ERR_LEN] = "", root[2 * ROOT_LEN], tiny[8];
    snprintf(root, sizeof root, "%s/file", t->root);
    FILE *f = fopen(root, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(expid_next(root, path, sizeof path, err, sizeof err), -1);
    assert_non_null(strstr(err, "it is not a directory"));
    assert_non_null(strstr(err, root));
    assert_null(strchr(err, '\n'));
    assert_int_equal(expid_next(t->root, tiny, sizeof tiny, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "the path is too long"));
    assert_int_equal(expid_next("", path, sizeof path, err, sizeof err), -1);
}

static void four_digits_after_999(void **state)
{
    struct tmp *t = *state;
    char path[PATH_MAX], name[16];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "EXP%03d", i);
        make_dir(t, name);
    }
    assert_string_equal(next(t, path, sizeof path), "EXP1000");
}

/* The original workflow's EXP_SUFFIX: ids with the suffix are numbered
 * among themselves; a suffix that would make an invalid id is refused. */
static void a_suffix_numbers_its_own_ids(void **state)
{
    struct tmp *t = *state;
    char path[PATH_MAX], err[ERR_LEN] = "";
    make_dir(t, "EXP000");
    make_dir(t, "EXP001");
    make_dir(t, "EXP000_big");
    assert_int_equal(
        expid_next_suffix(t->root, "_big", path, sizeof path, err, sizeof err),
        0);
    assert_string_equal(expid_name(path), "EXP001_big");
    assert_int_equal(
        expid_next_suffix(t->root, "", path, sizeof path, err, sizeof err), 0);
    assert_string_equal(expid_name(path), "EXP002");
    assert_int_equal(
        expid_next_suffix(t->root, "/x", path, sizeof path, err, sizeof err),
        -1);
    assert_non_null(strstr(err, "suffix '/x' cannot end an experiment id"));
    assert_null(strchr(err, '\n'));
    char longest[EXPID_NAME_MAX + 1];
    memset(longest, 'a', EXPID_NAME_MAX - 8);
    longest[EXPID_NAME_MAX - 8] = '\0';
    assert_int_equal(
        expid_next_suffix(t->root, longest, path, sizeof path, err, sizeof err),
        0);
    assert_int_equal(expid_check(expid_name(path), "x", err, sizeof err), 0);
    longest[EXPID_NAME_MAX - 8] = 'a';
    longest[EXPID_NAME_MAX - 7] = '\0';
    assert_int_equal(
        expid_next_suffix(t->root, longest, path, sizeof path, err, sizeof err),
        -1);
}

static void valid_ids(void **state)
{
    (void)state;
    char err[ERR_LEN] = "";
    char longest[EXPID_NAME_MAX + 2];
    assert_int_equal(expid_check("EXP_001.b-2", "x", err, sizeof err), 0);
    assert_int_equal(expid_check("...", "x", err, sizeof err), 0);
    memset(longest, 'a', EXPID_NAME_MAX);
    longest[EXPID_NAME_MAX] = '\0';
    assert_int_equal(expid_check(longest, "x", err, sizeof err), 0);
    longest[EXPID_NAME_MAX] = 'a';
    longest[EXPID_NAME_MAX + 1] = '\0';
    assert_int_equal(expid_check(longest, "x", err, sizeof err), -1);
    const char *bad[] = {"", ".", "..", "a/b", "../x", "a b", "é", "x\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(expid_check(bad[i], "EXPID", err, sizeof err), -1);
    assert_int_equal(expid_check("../x", "--exp-id", err, sizeof err), -1);
    assert_string_equal(err, "--exp-id: '../x' is not a valid experiment id "
                             "(allowed: 1 to 100 letters, digits, '.', '_' "
                             "or '-'; not '.' or '..')");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(numbers_from_zero_and_fills_gaps,
                                        tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(files_and_dangling_links_are_taken,
                                        tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(a_missing_root_is_empty, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(a_relative_root_stays_relative,
                                        tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(errors_are_one_line, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(four_digits_after_999, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(a_suffix_numbers_its_own_ids, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test(valid_ids),
    };
    return UNIT_RUN(tests);
}
