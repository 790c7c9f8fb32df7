/* test_json_line.c - the NDJSON line writer: seconds to the microsecond
 * whatever their size, strings escaped as jansson escapes them, records
 * larger than the stack buffer, a failed write reported; a record written
 * member by member gives the same bytes as the jansson object. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "json_line.h"

/* The line fa_json_write_line writes for o (o is released). */
static char *line_of(json_t *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(fa_json_write_line(f, o), 0);
    assert_int_equal(fclose(f), 0);
    json_decref(o);
    return buf;
}

static void expect_real(double v, const char *want)
{
    char *got = line_of(json_pack("{s:f}", "s", v));
    char line[96];
    snprintf(line, sizeof line, "{\"s\":%s}\n", want);
    assert_string_equal(got, line);
    free(got);
}

/* The values the issue found printed with seventeen digits, and the ones
 * around them: a timestamp keeps all its microseconds, a duration shows
 * only the decimals it has. */
static void test_seconds(void **state)
{
    (void)state;
    expect_real(0.607018, "0.607018");
    expect_real(8.008316, "8.008316");
    expect_real(1795315783.058616, "1795315783.058616");
    expect_real((double)1795315783058616ull / 1e6, "1795315783.058616");
    expect_real(8.008319999999999, "8.00832");
    expect_real(0.6070179999999999, "0.607018");
    expect_real(7e-6, "0.000007");
    expect_real(300.0, "300.0");
    expect_real(0.0, "0.0");
    expect_real(1700000000.5, "1700000000.5");
    expect_real(4e-7, "0.0");
}

/* %.6f, trailing zeros dropped: what every real must print as, whichever
 * way the writer takes. */
static void expect_as_printf(double v)
{
    char want[400];
    int n = snprintf(want, sizeof want, "{\"s\":%.6f", v);
    while (want[n - 1] == '0' && want[n - 2] != '.')
        n--;
    snprintf(want + n, sizeof want - (size_t)n, "}\n");
    char *got = line_of(json_pack("{s:f}", "s", v));
    assert_string_equal(got, want);
    free(got);
}

/* Whole microseconds of every size a timestamp or duration takes, the
 * half-microsecond ties printf settles, values that are no microsecond
 * at all, negative, huge and tiny ones. */
static void test_same_as_printf(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t us = x % 4000000000000000ull >> (x % 48);
        expect_as_printf((double)us / 1e6);
        expect_as_printf(((double)us + 0.5) / 1e6);
        expect_as_printf((double)(x >> 11) / 9007199254740992.0 * 1e4);
        expect_as_printf(-(double)us / 1e6);
    }
    expect_as_printf(4503599627.370496);
    expect_as_printf(1e300);
    expect_as_printf(5e-7);
    expect_as_printf(1.5e-6);
    expect_as_printf(2.5e-6);
}

/* Byte for byte what jansson's own dumper writes for everything but reals. */
static void test_same_as_jansson(void **state)
{
    (void)state;
    char s[160];
    int n = 0;
    for (int c = 1; c < 128; c++)
        s[n++] = (char)c;
    s[n++] = (char)0xc3;
    s[n++] = (char)0xa9;
    s[n] = '\0';
    json_t *o = json_pack("{s:s, s:[], s:{}, s:I, s:b, s:b, s:n, s:[i, {s:s}], s:s#}", "text", s, "empty_a",
                          "empty_o", "i", (json_int_t)-9007199254740993LL, "t", 1, "f", 0, "n", "a", 1,
                          "k", "v", "nul", "a\0b", (int)3);
    char *want = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_non_null(want);
    char *got = line_of(o);
    size_t wl = strlen(want);
    assert_int_equal(strlen(got), wl + 1);
    assert_memory_equal(got, want, wl);
    assert_int_equal(got[wl], '\n');
    free(want);
    free(got);
}

/* A record past the stack buffer moves to the heap and stays whole. */
static void test_long_record(void **state)
{
    (void)state;
    json_t *arr = json_array();
    for (int i = 0; i < 3000; i++)
        json_array_append_new(arr, json_pack("{s:i, s:f}", "n", i, "ts", 1700000000.25));
    json_t *o = json_pack("{s:o}", "pairs", arr);
    char *want = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    char *got = line_of(o);
    assert_true(strlen(got) > 50000);
    json_error_t err;
    json_t *back = json_loads(got, 0, &err);
    assert_non_null(back);
    assert_int_equal(json_array_size(json_object_get(back, "pairs")), 3000);
    json_decref(back);
    assert_int_equal(strlen(got), strlen(want) + 1);
    free(want);
    free(got);
}

static void test_write_error(void **state)
{
    (void)state;
    FILE *f = fopen("/dev/full", "w");
    if (!f)
        skip();
    setvbuf(f, NULL, _IONBF, 0);
    json_t *o = json_pack("{s:s}", "type", "flow");
    assert_int_equal(fa_json_write_line(f, o), -1);
    json_decref(o);
    fclose(f);
}

/* The line a record writes (the record is emptied, its buffer kept). */
static char *rec_line(fa_json_rec *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(fa_json_rec_line(r, f), 0);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(r->len, 0);
    return buf;
}

/* Every kind of member, nested objects and arrays, empty ones, escapes,
 * and the same record again in the same (reused) buffer. */
static void test_rec_as_object(void **state)
{
    (void)state;
    char s[160];
    int n = 0;
    for (int c = 1; c < 128; c++)
        s[n++] = (char)c;
    s[n] = '\0';
    json_t *o = json_pack("{s:s, s:I, s:I, s:f, s:f, s:n, s:b, s:b, s:n, s:f, s:[], s:{}, s:[s, i, {s:s}, []],"
                          " s:{s:{s:i}}}",
                          "text", s, "i", (json_int_t)INT64_MIN, "u", (json_int_t)1234567890123, "ts",
                          1700000000.123456, "d", 300.0, "t0", "t", 1, "f", 0, "none", "t1", 0.000007,
                          "ea", "eo", "arr", "x\"y", -5, "k", "v", "obj", "in", "n", 0);
    char *want = line_of(o);
    char small[8];
    fa_json_rec r;
    fa_json_rec_init(&r, small, sizeof small);
    for (int round = 0; round < 2; round++) {
        fa_json_rec_open(&r, NULL);
        fa_json_rec_str(&r, "text", s);
        fa_json_rec_int(&r, "i", INT64_MIN);
        fa_json_rec_int(&r, "u", 1234567890123);
        fa_json_rec_seconds(&r, "ts", 1700000000.123456);
        fa_json_rec_seconds(&r, "d", 300.0);
        fa_json_rec_time(&r, "t0", 0);
        fa_json_rec_bool(&r, "t", true);
        fa_json_rec_bool(&r, "f", false);
        fa_json_rec_str_or_null(&r, "none", NULL);
        fa_json_rec_time(&r, "t1", 7);
        fa_json_rec_array(&r, "ea");
        fa_json_rec_array_end(&r);
        fa_json_rec_open(&r, "eo");
        fa_json_rec_close(&r);
        fa_json_rec_array(&r, "arr");
        fa_json_rec_str_or_null(&r, NULL, "x\"y");
        fa_json_rec_int(&r, NULL, -5);
        fa_json_rec_open(&r, NULL);
        fa_json_rec_str(&r, "k", "v");
        fa_json_rec_close(&r);
        fa_json_rec_array(&r, NULL);
        fa_json_rec_array_end(&r);
        fa_json_rec_array_end(&r);
        fa_json_rec_open(&r, "obj");
        fa_json_rec_open(&r, "in");
        fa_json_rec_int(&r, "n", 0);
        fa_json_rec_close(&r);
        fa_json_rec_close(&r);
        fa_json_rec_close(&r);
        char *got = rec_line(&r);
        assert_string_equal(got, want);
        free(got);
        assert_true(r.heap);
    }
    fa_json_rec_free(&r);
    free(want);
}

/* A record of many members grows its buffer and stays whole; reset
 * forgets a half-written one. */
static void test_rec_grows(void **state)
{
    (void)state;
    fa_json_rec r = {0};
    fa_json_rec_open(&r, NULL);
    fa_json_rec_str(&r, "half", "written");
    fa_json_rec_reset(&r);
    fa_json_rec_open(&r, NULL);
    fa_json_rec_array(&r, "n");
    for (int i = 0; i < 20000; i++)
        fa_json_rec_int(&r, NULL, i);
    fa_json_rec_array_end(&r);
    fa_json_rec_close(&r);
    char *got = rec_line(&r);
    json_error_t err;
    json_t *back = json_loads(got, 0, &err);
    assert_non_null(back);
    json_t *arr = json_object_get(back, "n");
    assert_int_equal(json_object_size(back), 1);
    assert_int_equal(json_array_size(arr), 20000);
    assert_int_equal(json_integer_value(json_array_get(arr, 19999)), 19999);
    json_decref(back);
    free(got);
    fa_json_rec_free(&r);
}

/* Microseconds printed from the integer give what the double gives, at
 * every size, on both sides of 2^32 s where the integer path ends. */
static void test_rec_micros(void **state)
{
    (void)state;
    fa_json_rec a = {0}, b = {0};
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 40000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t us = i < 1000 ? 4294967296000000ull - 500 + (uint64_t)i : x >> (x % 64);
        fa_json_rec_micros(&a, "t", us);
        fa_json_rec_seconds(&b, "t", (double)us / 1e6);
        fa_json_rec_close(&a);
        fa_json_rec_close(&b);
        if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
            fail_msg("%llu us: %.*s, not %.*s", (unsigned long long)us, (int)a.len, a.p, (int)b.len, b.p);
        fa_json_rec_reset(&a);
        fa_json_rec_reset(&b);
    }
    fa_json_rec_micros(&a, NULL, 1700000000250000ull);
    fa_json_rec_micros(&a, NULL, 0);
    fa_json_rec_micros(&a, NULL, 300000000);
    assert_int_equal(a.len, strlen("1700000000.25,0.0,300.0"));
    assert_memory_equal(a.p, "1700000000.25,0.0,300.0", a.len);
    fa_json_rec_free(&a);
    fa_json_rec_free(&b);
}

static void test_rec_write_error(void **state)
{
    (void)state;
    FILE *f = fopen("/dev/full", "w");
    if (!f)
        skip();
    setvbuf(f, NULL, _IONBF, 0);
    fa_json_rec r = {0};
    fa_json_rec_open(&r, NULL);
    fa_json_rec_str(&r, "type", "flow");
    fa_json_rec_close(&r);
    assert_int_equal(fa_json_rec_line(&r, f), -1);
    assert_int_equal(r.len, 0);
    fa_json_rec_free(&r);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seconds),
        cmocka_unit_test(test_same_as_printf),
        cmocka_unit_test(test_same_as_jansson),
        cmocka_unit_test(test_long_record),
        cmocka_unit_test(test_write_error),
        cmocka_unit_test(test_rec_as_object),
        cmocka_unit_test(test_rec_grows),
        cmocka_unit_test(test_rec_micros),
        cmocka_unit_test(test_rec_write_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
