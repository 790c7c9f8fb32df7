/* test_packet_batch.c - filling a batch: frames copied whole and in order,
 * each on its own cache line; full at FA_BATCH_PACKETS frames or when the
 * arena has no room, and then nothing is added; any frame libpcap can hand
 * over fits an empty batch; the look-ahead has decoded and keyed every
 * packet by its turn, whatever the batch's length. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <pcap/dlt.h>

#include "packet_batch.h"
#include "fa_pktbuild.h"

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

/* A batch of n frames, every seventh one not IP; the look-ahead is called
 * as fa_run_batch calls it and each packet checked at its turn. */
static void look_ahead_batch(fa_batch *b, unsigned n)
{
    fa_flow_config cfg;
    fa_flow_config_default(&cfg);
    fa_flow_table *t = fa_flow_table_new(&cfg, NULL, NULL);
    assert_non_null(t);
    fa_batch_reset(b);
    for (unsigned i = 0; i < n; i++) {
        struct buf f;
        buf_reset(&f);
        if (i % 7 == 3) {
            put_fill(&f, 0x00, 30);   /* IP version 0 */
        } else {
            size_t ip = pb_ipv4(&f, "192.0.2.1", "198.51.100.2", FA_PROTO_UDP, 64, (uint16_t)i, 0, 0);
            size_t u = pb_udp(&f, (uint16_t)(40000 + i), 53);
            put_fill(&f, 'q', 20);
            pb_udp_done(&f, u);
            pb_ipv4_done(&f, ip);
        }
        assert_true(fa_batch_add(b, DLT_RAW, f.d, (uint32_t)f.len, (uint32_t)f.len, 1000 + i));
    }
    for (unsigned i = 0; i < b->n; i++) {
        fa_batch_look_ahead(b, t, i);
        const fa_batched *e = &b->pkts[i];
        if (i % 7 == 3) {
            assert_int_not_equal(e->result, FA_DEC_OK);
            continue;
        }
        assert_int_equal(e->result, FA_DEC_OK);
        assert_int_equal(e->pkt.ts_us, 1000 + i);
        assert_int_equal(e->pkt.sport, 40000 + i);
        assert_true(e->hint.valid);
        int dir;
        fa_flow *fl = fa_flow_table_packet_hinted(t, &e->pkt, &e->hint, &dir);
        assert_non_null(fl);
        assert_int_equal(fa_flow_port(fl, 0), 40000 + i);
    }
    fa_flow_table_free(t);
}

static void test_look_ahead(void **state)
{
    fa_batch *b = *state;
    /* shorter than every look-ahead distance, between them, and long */
    const unsigned lengths[] = {0, 1, 3, 5, 9, 17, 300};
    for (size_t k = 0; k < sizeof lengths / sizeof lengths[0]; k++)
        look_ahead_batch(b, lengths[k]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_frames_copied_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_by_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_by_arena, setup, teardown),
        cmocka_unit_test_setup_teardown(test_look_ahead, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
