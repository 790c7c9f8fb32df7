/* test_packet_queue.c - the queue between decode and the flow table:
 * first in, first out; frames never overlap in the arena, also when it
 * wraps; a full queue or arena refuses until packets leave; a frame longer
 * than the arena is refused even when the queue is empty. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "packet_queue.h"

static int setup(void **state)
{
    fa_packet_queue *q = malloc(sizeof *q);
    if (!q)
        return -1;
    fa_pq_init(q);
    *state = q;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

/* Queues a frame of len bytes, all of them the byte tag; false when refused. */
static bool push(fa_packet_queue *q, uint32_t len, uint8_t tag)
{
    fa_queued *s = fa_pq_reserve(q, len);
    if (!s)
        return false;
    memset(s->frame, tag, len);
    s->pkt.caplen = len;
    s->dlt = tag;
    fa_pq_commit(q);
    return true;
}

/* Takes the head out and checks it is the frame pushed with tag. */
static void pop_expect(fa_packet_queue *q, uint8_t tag)
{
    fa_queued *s = fa_pq_pop(q);
    assert_non_null(s);
    assert_int_equal(s->dlt, tag);
    for (uint32_t i = 0; i < s->pkt.caplen; i++)
        if (s->frame[i] != tag)
            fail_msg("frame %u was overwritten at byte %u", tag, i);
}

static void test_fifo_and_depth(void **state)
{
    fa_packet_queue *q = *state;
    assert_true(fa_pq_empty(q));
    for (unsigned i = 0; i < FA_PQ_DEPTH; i++)
        assert_true(push(q, 60, (uint8_t)i));
    assert_true(fa_pq_full(q));
    assert_false(push(q, 60, 99));
    assert_int_equal(fa_pq_at(q, 1)->dlt, 1);
    assert_null(fa_pq_at(q, FA_PQ_DEPTH));
    for (unsigned i = 0; i < FA_PQ_DEPTH; i++)
        pop_expect(q, (uint8_t)i);
    assert_true(fa_pq_empty(q));
    assert_null(fa_pq_pop(q));
}

static void test_arena_full_then_wraps(void **state)
{
    fa_packet_queue *q = *state;
    uint32_t big = FA_PQ_ARENA / 3;
    assert_true(push(q, big, 1));
    assert_true(push(q, big, 2));
    assert_true(push(q, big, 3));
    /* A third of the arena is left at no end: refused until one leaves. */
    assert_false(push(q, big, 4));
    pop_expect(q, 1);
    /* Now it fits before the oldest frame, at the start of the arena. */
    assert_true(push(q, big, 4));
    assert_false(push(q, 16, 5));
    pop_expect(q, 2);
    assert_true(push(q, 16, 5));
    pop_expect(q, 3);
    pop_expect(q, 4);
    pop_expect(q, 5);
}

static void test_too_long_for_the_arena(void **state)
{
    fa_packet_queue *q = *state;
    assert_false(push(q, FA_PQ_ARENA + 1, 1));
    assert_true(push(q, FA_PQ_ARENA, 2));
    assert_false(push(q, 1, 3));
    pop_expect(q, 2);
}

/* Random sizes, pushes and pops against a model FIFO: every frame comes
 * out whole and in order. */
static void test_random_against_model(void **state)
{
    fa_packet_queue *q = *state;
    uint8_t model[FA_PQ_DEPTH];
    unsigned head = 0, count = 0;
    uint8_t tag = 0;
    srand(7);
    for (int step = 0; step < 200000; step++) {
        if (count && (rand() % 2 || count == FA_PQ_DEPTH)) {
            pop_expect(q, model[head]);
            head = (head + 1) % FA_PQ_DEPTH;
            count--;
            continue;
        }
        uint32_t len = rand() % 4 == 0 ? (uint32_t)(rand() % (FA_PQ_ARENA / 2)) : (uint32_t)(rand() % 1600);
        if (push(q, len, tag)) {
            model[(head + count) % FA_PQ_DEPTH] = tag++;
            count++;
        } else {
            assert_true(count > 0);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fifo_and_depth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arena_full_then_wraps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_long_for_the_arena, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_against_model, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
