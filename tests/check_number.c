/* check_number.c - ald/number.h: only a plain decimal number is a number. */
#include <check.h>
#include <math.h>

#include "ald/number.h"
#include "testutil.h"

START_TEST(plain_decimal_numbers_parse)
{
    static const struct {
        const char *text;
        double want;
    } ok[] = {{"0", 0},      {"120", 120},   {"-3.5", -3.5}, {"+2", 2},
              {".5", 0.5},   {"5.", 5},      {"1e3", 1000},  {"2.5E-1", 0.25},
              {"007", 7},    {"-0", 0}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        double v = -99;
        ck_assert_msg(ald_parse_number(ok[i].text, &v) == 0, "refused \"%s\"", ok[i].text);
        ck_assert_msg(v == ok[i].want, "\"%s\" gave %g", ok[i].text, v);
    }
}
END_TEST

START_TEST(anything_else_is_refused_and_leaves_the_output_alone)
{
    static const char *const bad[] = {"",     "abc",  "120abc", " 12",   "12 ",  "0x10",
                                      "nan",  "NaN",  "inf",    "-inf",  "1e",   "e5",
                                      "+",    ".",    "1.2.3",  "1e400", "--1",  "1,5",
                                      "12\n", "½"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = 42;
        ck_assert_msg(ald_parse_number(bad[i], &v) == -1, "accepted \"%s\"", bad[i]);
        ck_assert(v == 42);
    }
    double v = 42;
    ck_assert_int_eq(ald_parse_number(NULL, &v), -1);
}
END_TEST

START_TEST(whole_numbers_are_recognised)
{
    ck_assert(ald_number_is_whole(3));
    ck_assert(ald_number_is_whole(-64));
    ck_assert(!ald_number_is_whole(1.5));
    ck_assert(!ald_number_is_whole(NAN));
    ck_assert(!ald_number_is_whole(INFINITY));
    ck_assert(!ald_number_is_whole(1e300));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("number");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, plain_decimal_numbers_parse);
    tcase_add_test(tc, anything_else_is_refused_and_leaves_the_output_alone);
    tcase_add_test(tc, whole_numbers_are_recognised);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
