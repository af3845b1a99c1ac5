/* check_safety_loader.c - a plugin of ABI major 0 (older than any engine) is
 * refused like one of a newer major: the check is "not equal", not "greater". */
#include <stdio.h>
#include <string.h>

#include "ports/loader.h"
#include "testutil.h"

START_TEST(a_plugin_of_abi_major_0_is_refused)
{
    loaded_plugin p;
    char err[1024] = "";
    ck_assert_int_eq(loader_open(test_buildpath("tests/fixtures/plugins/.libs/fx-major0.so"),
                                 ALD_PLUGIN_PLC, &p, err, sizeof err),
                     -1);
    ck_assert_ptr_null(p.handle);
    ck_assert_msg(strstr(err, "ABI 0.") && strstr(err, "engine speaks ABI 1."), "%s", err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("safety: loader");
    TCase *tc = tcase_create("abi");
    tcase_add_test(tc, a_plugin_of_abi_major_0_is_refused);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
