/* test_packet_batch.c - filling a batch: frames copied whole and in order,
 * each on its own cache line; full at FA_BATCH_PACKETS frames or when the
 * arena has no room, and then nothing is added; any frame libpcap can hand
 * over fits an empty batch. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "packet_batch.h"

#define MAX_SNAPLEN 262144u

static uint8_t frame[FA_BATCH_ARENA + 1];

static int setup(void **state)
{
    fa_batch *b = fa_batch_new();
    if (!b)
        return -1;
    *state = b;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static void test_frames_copied_in_order(void **state)
{
    fa_batch *b = *state;
    for (unsigned i = 0; i < 100; i++) {
        memset(frame, (int)i, 60 + i);
        assert_true(fa_batch_add(b, 1, frame, 60 + i, 1500, 1000 + i));
    }
    memset(frame, 0xee, sizeof frame);
    assert_int_equal(b->n, 100);
    for (unsigned i = 0; i < 100; i++) {
        const fa_batched *e = &b->pkts[i];
        assert_int_equal(e->caplen, 60 + i);
        assert_int_equal(e->wirelen, 1500);
        assert_int_equal(e->ts_us, 1000 + i);
        assert_int_equal(e->dlt, 1);
        assert_int_equal((uintptr_t)(e->frame - b->arena) % 64, 0);
        for (unsigned k = 0; k < e->caplen; k++)
            if (e->frame[k] != (uint8_t)i)
                fail_msg("frame %u byte %u was overwritten", i, k);
    }
}

static void test_full_by_count(void **state)
{
    fa_batch *b = *state;
    for (unsigned i = 0; i < FA_BATCH_PACKETS; i++)
        assert_true(fa_batch_add(b, 1, frame, 0, 0, i));
    assert_false(fa_batch_add(b, 1, frame, 1, 1, 0));
    assert_int_equal(b->n, FA_BATCH_PACKETS);
    fa_batch_reset(b);
    assert_int_equal(b->n, 0);
    assert_true(fa_batch_add(b, 1, frame, 1, 1, 0));
}

static void test_full_by_arena(void **state)
{
    fa_batch *b = *state;
    unsigned added = 0;
    while (fa_batch_add(b, 1, frame, MAX_SNAPLEN, MAX_SNAPLEN, 0))
        added++;
    assert_int_equal(added, FA_BATCH_ARENA / MAX_SNAPLEN);
    assert_int_equal(b->n, added);
    /* an empty batch takes the largest frame; a frame ending inside a
     * line leaves the rest of the line unused */
    fa_batch_reset(b);
    for (unsigned i = 1; i < FA_BATCH_ARENA / MAX_SNAPLEN; i++)
        assert_true(fa_batch_add(b, 1, frame, MAX_SNAPLEN, MAX_SNAPLEN, 0));
    assert_true(fa_batch_add(b, 1, frame, MAX_SNAPLEN - 65, MAX_SNAPLEN, 0));
    assert_false(fa_batch_add(b, 1, frame, 65, 65, 0));
    assert_true(fa_batch_add(b, 1, frame, 64, 64, 0));
    assert_false(fa_batch_add(b, 1, frame, 1, 1, 0));
    /* longer than the arena: cut to it, so an empty batch still takes it */
    fa_batch_reset(b);
    assert_true(fa_batch_add(b, 1, frame, FA_BATCH_ARENA + 1, FA_BATCH_ARENA + 1, 0));
    assert_int_equal(b->pkts[0].caplen, FA_BATCH_ARENA);
    assert_int_equal(b->pkts[0].wirelen, FA_BATCH_ARENA + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_frames_copied_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_by_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_by_arena, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
