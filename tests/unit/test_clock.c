/* test_clock.c - the flow clock: times libpcap can hand out that do not fit
 * (negative seconds, microseconds of a million or more, the largest
 * values), lone packets far ahead or behind, jumps confirmed by the next
 * packet, by a new file or by the wall clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"

#define T0 1700000000000000ull
#define SEC 1000000ull
#define HOUR (3600 * SEC)

#define NONE FA_TS_INVALID

/* Places ts on c for a file (no wall clock), the next packet of the file
 * stamped next; checks the kind and the time the packet is processed at. */
static void place(fa_clock *c, uint64_t ts, uint64_t next, bool new_input, fa_ts_kind want, uint64_t want_at)
{
    uint64_t at = 12345;
    fa_ts_kind k = fa_clock_place(c, ts, next, new_input, 0, &at);
    assert_string_equal(fa_ts_kind_name(k), fa_ts_kind_name(want));
    if (k != FA_TS_SKIPPED)
        assert_int_equal(at, want_at);
    else
        assert_int_equal(at, 12345);
}

static void test_parts(void **state)
{
    (void)state;
    assert_int_equal(fa_ts_from_parts(0, 0), 0);
    assert_int_equal(fa_ts_from_parts(1700000000, 999999), T0 + 999999);
    /* 0xffffffff read as a signed 32-bit second count */
    assert_int_equal(fa_ts_from_parts(-1, 0), FA_TS_INVALID);
    assert_int_equal(fa_ts_from_parts(INT32_MIN, 0), FA_TS_INVALID);
    assert_int_equal(fa_ts_from_parts(INT64_MIN, INT64_MIN), FA_TS_INVALID);
    assert_int_equal(fa_ts_from_parts(0, -1), FA_TS_INVALID);
    assert_int_equal(fa_ts_from_parts(1700000000, 1000000), FA_TS_INVALID);
    assert_int_equal(fa_ts_from_parts(1700000000, UINT32_MAX), FA_TS_INVALID);
    /* the largest second count of a 32-bit unsigned field, 2106 */
    assert_int_equal(fa_ts_from_parts(UINT32_MAX, 0), (uint64_t)UINT32_MAX * SEC);
    assert_int_equal(fa_ts_from_parts(253402300799, 999999), FA_TS_MAX_US);
    assert_int_equal(fa_ts_from_parts(253402300800, 0), FA_TS_INVALID);
    /* a 64-bit pcapng time: seconds whose microseconds overflow 2^64 */
    assert_int_equal(fa_ts_from_parts(INT64_MAX, 999999), FA_TS_INVALID);
    assert_int_equal(fa_ts_from_parts((int64_t)(UINT64_MAX / SEC) + 1, 0), FA_TS_INVALID);
    assert_int_equal(fa_time_since(T0, T0 + 1), 0);
    assert_int_equal(fa_time_since(T0 + 1, T0), 1);
    assert_int_equal(fa_time_since(UINT64_MAX, 0), UINT64_MAX);
}

/* One packet stamped 0x7fffffff in the middle of a capture moves nothing:
 * the packet after it is back on the clock's time line. */
static void test_lone_far_ahead(void **state)
{
    (void)state;
    fa_clock c = {0};
    uint64_t far = 0x7fffffffull * SEC;
    place(&c, T0, T0 + SEC, true, FA_TS_IN_ORDER, T0);
    place(&c, T0 + SEC, far, false, FA_TS_IN_ORDER, T0 + SEC);
    place(&c, far, T0 + 2 * SEC, false, FA_TS_FAR_AHEAD, T0 + SEC);
    place(&c, T0 + 2 * SEC, NONE, false, FA_TS_IN_ORDER, T0 + 2 * SEC);
    assert_int_equal(c.now_us, T0 + 2 * SEC);
    /* An hour exactly is a step, an hour and a microsecond a jump. */
    place(&c, T0 + 2 * SEC + HOUR, NONE, false, FA_TS_IN_ORDER, T0 + 2 * SEC + HOUR);
    place(&c, T0 + 2 * SEC + 2 * HOUR + 1, NONE, false, FA_TS_FAR_AHEAD, T0 + 2 * SEC + HOUR);
}

/* What does not confirm a jump: the end of the file, a next packet within
 * a step of the clock, more than a step behind this one, or invalid. */
static void test_unconfirmed(void **state)
{
    (void)state;
    fa_clock c = {0};
    place(&c, T0, NONE, false, FA_TS_IN_ORDER, T0);
    place(&c, T0 + 10 * HOUR, NONE, false, FA_TS_FAR_AHEAD, T0);
    place(&c, T0 + 10 * HOUR, T0 + HOUR, false, FA_TS_FAR_AHEAD, T0);
    place(&c, T0 + 10 * HOUR, T0 + HOUR + 1, false, FA_TS_FAR_AHEAD, T0);
    place(&c, T0 + 10 * HOUR, T0 + 9 * HOUR - 1, false, FA_TS_FAR_AHEAD, T0);
    place(&c, T0 + 10 * HOUR, FA_TS_MAX_US + 1, false, FA_TS_FAR_AHEAD, T0);
    place(&c, UINT32_MAX * SEC, FA_TS_MAX_US, false, FA_TS_JUMP, UINT32_MAX * SEC);
    assert_int_equal(c.now_us, UINT32_MAX * SEC);
}

/* A real silence of two hours: the packet after the first one on the
 * other side confirms it. */
static void test_confirmed_jump(void **state)
{
    (void)state;
    fa_clock c = {0};
    place(&c, T0, T0 + 2 * HOUR, false, FA_TS_IN_ORDER, T0);
    place(&c, T0 + 2 * HOUR, T0 + 2 * HOUR + SEC, false, FA_TS_JUMP, T0 + 2 * HOUR);
    place(&c, T0 + 2 * HOUR + SEC, NONE, false, FA_TS_IN_ORDER, T0 + 2 * HOUR + SEC);
    /* sparse packets hours apart confirm one another */
    place(&c, T0 + 5 * HOUR, T0 + 9 * HOUR, false, FA_TS_JUMP, T0 + 5 * HOUR);
    /* the next may be a little older than this one: reordering */
    place(&c, T0 + 9 * HOUR, T0 + 9 * HOUR - HOUR, false, FA_TS_JUMP, T0 + 9 * HOUR);
    /* the largest valid time can be reached, and nothing beyond it */
    place(&c, FA_TS_MAX_US, FA_TS_MAX_US, false, FA_TS_JUMP, FA_TS_MAX_US);
    place(&c, FA_TS_INVALID, NONE, false, FA_TS_BAD, FA_TS_MAX_US);
    place(&c, FA_TS_MAX_US + 1, NONE, false, FA_TS_BAD, FA_TS_MAX_US);
}

/* Files read one after the other: the next file may start a day later. */
static void test_new_input(void **state)
{
    (void)state;
    fa_clock c = {0};
    place(&c, T0, NONE, true, FA_TS_IN_ORDER, T0);
    place(&c, T0 + 24 * HOUR, NONE, true, FA_TS_JUMP, T0 + 24 * HOUR);
    /* a file that starts a day before the clock does not rewind it */
    place(&c, T0, T0, true, FA_TS_FAR_BEHIND, T0 + 24 * HOUR);
    place(&c, T0 + 24 * HOUR - SEC, NONE, true, FA_TS_BACKWARDS, T0 + 24 * HOUR - SEC);
    assert_int_equal(c.now_us, T0 + 24 * HOUR);
}

static void test_behind(void **state)
{
    (void)state;
    fa_clock c = {0};
    place(&c, T0, NONE, false, FA_TS_IN_ORDER, T0);
    place(&c, T0 - SEC, NONE, false, FA_TS_BACKWARDS, T0 - SEC);
    place(&c, T0 - HOUR, NONE, false, FA_TS_BACKWARDS, T0 - HOUR);
    place(&c, T0 - HOUR - 1, T0 - HOUR - 1, false, FA_TS_FAR_BEHIND, T0);
    place(&c, 0, 0, false, FA_TS_FAR_BEHIND, T0);
    assert_int_equal(c.now_us, T0);
}

/* Invalid before any valid time: skipped; after: at the clock. */
static void test_invalid_first(void **state)
{
    (void)state;
    fa_clock c = {0};
    place(&c, FA_TS_INVALID, 0, true, FA_TS_SKIPPED, 0);
    assert_false(c.set);
    place(&c, 0, NONE, false, FA_TS_IN_ORDER, 0);
    place(&c, FA_TS_INVALID, NONE, false, FA_TS_BAD, 0);
}

/* Live: the clock starts at the wall clock, which alone confirms jumps. */
static void test_live(void **state)
{
    (void)state;
    fa_clock c = {0};
    uint64_t at, far = 0x7fffffffull * SEC;
    assert_int_equal(fa_clock_place(&c, far, far, false, T0, &at), FA_TS_FAR_AHEAD);
    assert_int_equal(at, T0);
    assert_int_equal(fa_clock_place(&c, far, far, false, T0, &at), FA_TS_FAR_AHEAD);
    assert_int_equal(fa_clock_place(&c, T0 + SEC, NONE, false, T0, &at), FA_TS_IN_ORDER);
    assert_int_equal(at, T0 + SEC);
    /* two hours of silence: the wall clock has moved on too */
    assert_int_equal(fa_clock_place(&c, T0 + 2 * HOUR, NONE, false, T0 + 2 * HOUR - SEC, &at), FA_TS_JUMP);
    assert_int_equal(at, T0 + 2 * HOUR);
    assert_int_equal(fa_clock_place(&c, FA_TS_INVALID, NONE, false, T0 + 2 * HOUR, &at), FA_TS_BAD);
    assert_int_equal(at, T0 + 2 * HOUR);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parts),
        cmocka_unit_test(test_lone_far_ahead),
        cmocka_unit_test(test_unconfirmed),
        cmocka_unit_test(test_confirmed_jump),
        cmocka_unit_test(test_new_input),
        cmocka_unit_test(test_behind),
        cmocka_unit_test(test_invalid_first),
        cmocka_unit_test(test_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
