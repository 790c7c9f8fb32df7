/* test_records_join.c - uniflow records joined into one flow
 * (records_ipfix.c, fa_ipfix_take and fa_ipfix_expire): the two
 * directions of a connection make one flow marked joined, whose opener is
 * the side that sent the SYN; a direction that waited past the window is
 * judged alone and never joined with a late partner; the same direction
 * twice is summed; a biflow is judged at once; options records only carry
 * the sampling interval. Expected values by hand from docs/detection.md,
 * "Flow records as input". */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "decode.h"
#include "flow.h"
#include "flow_table.h"
#include "records_internal.h"

#define MAX_OUT 8

typedef struct sink {
    fa_flow out[MAX_OUT];
    int n;
} sink;

static void collect(void *arg, fa_flow *f)
{
    sink *s = arg;
    assert_true(s->n < MAX_OUT);
    s->out[s->n++] = *f;
}

/* A uniflow record: src:sport -> dst:dport with flags, at t seconds. */
static fa_ipfix_item uni(uint8_t src, uint16_t sport, uint8_t dst, uint16_t dport, uint8_t flags, uint64_t t,
                         uint64_t arrival_s)
{
    fa_ipfix_item it;
    fa_addr a, b;
    uint8_t va[4] = {192, 0, 2, src}, vb[4] = {192, 0, 2, dst};
    memset(&it, 0, sizeof it);
    fa_addr_from_v4(&a, va);
    fa_addr_from_v4(&b, vb);
    if (fa_flow_table_make_key(&it.flow.key, FA_PROTO_TCP, &a, sport, &b, dport))
        it.flow.bits |= FA_FLOW_ORIG_IS_LO;
    it.flow.bits |= FA_FLOW_RECORD;
    it.flow.first_us = it.flow.last_us = t * 1000000u;
    it.flow.dir[0].pkts = 1;
    it.flow.dir[0].ip_bytes = 60;
    it.flow.dir[0].flags = flags;
    it.kind = FA_IPFIX_UNIFLOW;
    it.arrival_us = arrival_s * 1000000u;
    return it;
}

static void test_join_and_window(void **state)
{
    (void)state;
    sink s = {.n = 0};
    fa_ipfix_stats st;
    fa_ipfix *x = fa_ipfix_new(collect, &s);
    assert_non_null(x);
    /* The answer first, then the SYN: one flow, opened by .1. */
    fa_ipfix_item a = uni(2, 443, 1, 40000, FA_TH_SYN | FA_TH_ACK, 10, 100);
    fa_ipfix_item b = uni(1, 40000, 2, 443, FA_TH_SYN, 10, 101);
    fa_ipfix_take(x, &a);
    assert_int_equal(fa_ipfix_waiting(x), 1);
    fa_ipfix_take(x, &b);
    assert_int_equal(s.n, 1);
    assert_int_equal(fa_ipfix_waiting(x), 0);
    assert_true(s.out[0].joined);
    assert_int_equal(fa_flow_port(&s.out[0], 0), 40000);
    assert_int_equal(fa_flow_port(&s.out[0], 1), 443);
    assert_string_equal(fa_conn_state_name(fa_flow_conn_state(&s.out[0])), "S1");
    /* A SYN that waited past the window is judged alone (S0, not
     * joined); its partner arriving later is alone too. */
    fa_ipfix_item c = uni(1, 40001, 2, 443, FA_TH_SYN, 20, 200);
    fa_ipfix_take(x, &c);
    fa_ipfix_expire(x, 200u * 1000000u);
    assert_int_equal(s.n, 1);
    fa_ipfix_expire(x, 201u * 1000000u);
    assert_int_equal(s.n, 2);
    assert_false(s.out[1].joined);
    assert_string_equal(fa_conn_state_name(fa_flow_conn_state(&s.out[1])), "S0");
    fa_ipfix_item d = uni(2, 443, 1, 40001, FA_TH_SYN | FA_TH_ACK, 20, 262);
    fa_ipfix_take(x, &d);
    assert_int_equal(s.n, 2);
    assert_int_equal(fa_ipfix_waiting(x), 1);
    /* The same direction twice (an active timeout cut it): summed, still
     * waiting; the end of the input judges it alone. */
    fa_ipfix_item e = uni(2, 443, 1, 40001, FA_TH_FIN, 21, 263);
    fa_ipfix_take(x, &e);
    assert_int_equal(fa_ipfix_waiting(x), 1);
    fa_ipfix_finish(x, &st);
    assert_int_equal(s.n, 3);
    assert_false(s.out[2].joined);
    assert_int_equal(s.out[2].dir[0].pkts + s.out[2].dir[1].pkts, 2);
    assert_int_equal(st.records, 5);
    assert_int_equal(st.uniflows, 5);
    assert_int_equal(st.joined, 2);
    assert_int_equal(st.alone, 2);
}

static void test_biflow_and_options(void **state)
{
    (void)state;
    sink s = {.n = 0};
    fa_ipfix_stats st;
    fa_ipfix *x = fa_ipfix_new(collect, &s);
    assert_non_null(x);
    fa_ipfix_item bi = uni(1, 40000, 2, 443, FA_TH_SYN, 10, 1);
    bi.kind = FA_IPFIX_BIFLOW;
    bi.flow.dir[1].pkts = 1;
    bi.flow.dir[1].flags = FA_TH_RST | FA_TH_ACK;
    fa_ipfix_take(x, &bi);
    assert_int_equal(s.n, 1);
    assert_false(s.out[0].joined);
    assert_string_equal(fa_conn_state_name(fa_flow_conn_state(&s.out[0])), "REJ");
    fa_ipfix_item opt = {.kind = FA_IPFIX_OPTIONS, .sampling = 4};
    fa_ipfix_item bad = {.kind = FA_IPFIX_BAD};
    fa_ipfix_take(x, &opt);
    fa_ipfix_take(x, &bad);
    fa_ipfix_finish(x, &st);
    assert_int_equal(s.n, 1);
    assert_int_equal(st.records, 1);
    assert_int_equal(st.options, 1);
    assert_int_equal(st.malformed, 1);
    assert_int_equal(st.sampling, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_and_window),
        cmocka_unit_test(test_biflow_and_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
