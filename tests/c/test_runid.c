/* Unit tests of the R_I_J run ids (csrc/runid.c). */
#include "unit.h"

#include "runid.h"

static void format_and_parse_round_trip(void **state)
{
    (void)state;
    char buf[RUNID_MAX];
    long r, i, j;
    assert_int_equal(runid_format(buf, sizeof buf, 1, 2, 0), 0);
    assert_string_equal(buf, "1_2_0");
    assert_int_equal(runid_parse(buf, &r, &i, &j), 0);
    assert_int_equal(r, 1);
    assert_int_equal(i, 2);
    assert_int_equal(j, 0);
    assert_int_equal(runid_format(buf, sizeof buf, 12, 34567, 89), 0);
    assert_int_equal(runid_parse(buf, &r, &i, &j), 0);
    assert_int_equal(r * 1000000 + i * 100 + j, 12000000 + 3456700 + 89);
}

static void format_rejects_out_of_range_and_short_buffers(void **state)
{
    (void)state;
    char buf[RUNID_MAX], tiny[4];
    assert_int_equal(runid_format(buf, sizeof buf, 0, 1, 0), -1);
    assert_int_equal(runid_format(buf, sizeof buf, 1, 0, 0), -1);
    assert_int_equal(runid_format(buf, sizeof buf, 1, 1, -1), -1);
    assert_int_equal(runid_format(tiny, sizeof tiny, 1, 10, 0), -1);
}

static void parse_is_strict(void **state)
{
    (void)state;
    long r, i, j;
    const char *bad[] = {"",         "1_2",
                         "1_2_3_4",  "a_b_c",
                         "1_2_x",    "-1_2_3",
                         "1_02_3",   " 1_2_3",
                         "1_2_3 ",   "0_1_0",
                         "1_0_0",    "1__2",
                         "../1_2_3", "99999999999999999999_1_0"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++)
        assert_int_equal(runid_parse(bad[k], &r, &i, &j), -1);
    assert_int_equal(runid_parse("3_1_0", &r, &i, &j), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_and_parse_round_trip),
        cmocka_unit_test(format_rejects_out_of_range_and_short_buffers),
        cmocka_unit_test(parse_is_strict),
    };
    return UNIT_RUN(tests);
}
