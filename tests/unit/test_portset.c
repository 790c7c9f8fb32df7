/* test_portset.c - port set parsing, matching and canonical formatting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "portset.h"

static void parse_ok(const char *text, fa_portset *ps)
{
    const char *why = NULL;
    int rc = fa_portset_parse(text, ps, &why);
    if (rc != 0)
        fail_msg("'%s' refused: %s", text, why);
}

static void assert_format(const char *text, const char *expect)
{
    fa_portset ps;
    char buf[512];
    parse_ok(text, &ps);
    fa_portset_format(&ps, buf, sizeof buf);
    assert_string_equal(buf, expect);
}

static void test_single_and_list(void **state)
{
    (void)state;
    fa_portset ps;
    parse_ok("443", &ps);
    assert_false(ps.any);
    assert_int_equal(ps.count, 1);
    assert_true(fa_portset_contains(&ps, 443));
    assert_false(fa_portset_contains(&ps, 442));
    assert_false(fa_portset_contains(&ps, 444));
    assert_false(fa_portset_is_empty(&ps));

    parse_ok("80,443", &ps);
    assert_int_equal(ps.count, 2);
    assert_true(fa_portset_contains(&ps, 80));
    assert_true(fa_portset_contains(&ps, 443));
    assert_false(fa_portset_contains(&ps, 81));
}

static void test_ranges_and_edges(void **state)
{
    (void)state;
    fa_portset ps;
    parse_ok("49152-65535", &ps);
    assert_int_equal(ps.ranges[0].lo, 49152);
    assert_int_equal(ps.ranges[0].hi, 65535);
    assert_true(fa_portset_contains(&ps, 49152));
    assert_true(fa_portset_contains(&ps, 65535));
    assert_false(fa_portset_contains(&ps, 49151));
    assert_false(fa_portset_contains(&ps, 0));

    parse_ok("65535", &ps);
    assert_true(fa_portset_contains(&ps, 65535));
    assert_false(fa_portset_contains(&ps, 65534));

    parse_ok("1", &ps);
    assert_true(fa_portset_contains(&ps, 1));
    assert_false(fa_portset_contains(&ps, 0));

    parse_ok("1-65535", &ps);
    assert_true(fa_portset_contains(&ps, 1));
    assert_true(fa_portset_contains(&ps, 65535));
    assert_false(fa_portset_contains(&ps, 0));

    parse_ok("7-7", &ps);
    assert_true(fa_portset_contains(&ps, 7));
    assert_false(fa_portset_contains(&ps, 8));

    parse_ok("1024-5000,8080", &ps);
    assert_true(fa_portset_contains(&ps, 3000));
    assert_true(fa_portset_contains(&ps, 8080));
    assert_false(fa_portset_contains(&ps, 5001));
}

static void test_any_and_none(void **state)
{
    (void)state;
    fa_portset ps;
    parse_ok("*", &ps);
    assert_true(ps.any);
    assert_true(fa_portset_contains(&ps, 1));
    assert_true(fa_portset_contains(&ps, 65535));
    assert_false(fa_portset_is_empty(&ps));

    parse_ok("-", &ps);
    assert_false(ps.any);
    assert_int_equal(ps.count, 0);
    assert_true(fa_portset_is_empty(&ps));
    assert_false(fa_portset_contains(&ps, 80));
}

static void test_format(void **state)
{
    (void)state;
    assert_format("443", "443");
    assert_format("443,80", "80,443");
    assert_format("8080,1024-5000", "1024-5000,8080");
    assert_format("7-7", "7");
    assert_format("65535", "65535");
    assert_format("*", "*");
    assert_format("-", "-");
    assert_format("0443", "443");

    fa_portset ps;
    char small[6];
    parse_ok("80,443,8443", &ps);
    fa_portset_format(&ps, small, sizeof small);
    assert_string_equal(small, "80,44");
}

static void test_max_items(void **state)
{
    (void)state;
    char text[512] = "";
    size_t used = 0;
    for (int i = 1; i <= FA_PORTSET_MAX; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "%s%d", i > 1 ? "," : "",
                                 i * 10);
    fa_portset ps;
    parse_ok(text, &ps);
    assert_int_equal(ps.count, FA_PORTSET_MAX);
    assert_true(fa_portset_contains(&ps, 320));
    char back[512];
    fa_portset_format(&ps, back, sizeof back);
    assert_string_equal(back, text);

    snprintf(text + used, sizeof text - used, ",999");
    const char *why = NULL;
    assert_int_equal(fa_portset_parse(text, &ps, &why), -1);
    assert_string_equal(why, "too many items (limit 32)");
}

static void assert_refused(const char *text, const char *reason)
{
    fa_portset ps;
    memset(&ps, 0x5a, sizeof ps);
    fa_portset before = ps;
    const char *why = NULL;
    if (fa_portset_parse(text, &ps, &why) != -1)
        fail_msg("'%s' was accepted", text);
    assert_non_null(why);
    assert_string_equal(why, reason);
    assert_memory_equal(&ps, &before, sizeof ps);
}

static void test_errors(void **state)
{
    (void)state;
    assert_refused("0", "port 0 is not allowed");
    assert_refused("0-10", "port 0 is not allowed");
    assert_refused("65536", "port out of range (1-65535)");
    assert_refused("99999999999999999999", "port out of range (1-65535)");
    assert_refused("100-50", "range has its low end above its high end");
    assert_refused("", "empty item");
    assert_refused("80,", "empty item");
    assert_refused(",80", "empty item");
    assert_refused("80,,443", "empty item");
    assert_refused("http", "not a port number");
    assert_refused("+80", "not a port number");
    assert_refused("80-", "missing port number");
    assert_refused("-80", "missing port number");
    assert_refused("1-2-3", "not a port number");
    assert_refused("*,80", "not a port number");
    assert_refused("-,80", "missing port number");
    assert_refused("80,80", "ports listed twice or ranges overlap");
    assert_refused("100-200,150", "ports listed twice or ranges overlap");
    assert_refused("100-200,200-300", "ports listed twice or ranges overlap");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_and_list),
        cmocka_unit_test(test_ranges_and_edges),
        cmocka_unit_test(test_any_and_none),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_max_items),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
