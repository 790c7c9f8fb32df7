/* test_summary.c - the summary's counters agree with the end reasons: a
 * flow ended by --max-flows after it had closed is counted under fin, not
 * as evicted, and the summary's "evicted" is the end_reason count; packets
 * are counted once under each encapsulation they passed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pcap/dlt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "flow_table.h"
#include "fa_pktbuild.h"
#include "summary.h"

#define T0 1700000000000000ull
#define MS 1000ull

typedef struct run {
    fa_flow_table *t;
    fa_summary s;
} run;

static void on_end(fa_flow *f, void *ctx)
{
    fa_summary_add_flow(&((run *)ctx)->s, f);
}

static void feed(run *r, const struct buf *b, uint64_t ts)
{
    fa_packet p;
    assert_false(b->overflow);
    assert_int_equal(fa_decode(DLT_RAW, b->d, (uint32_t)b->len, (uint32_t)b->len, &p), FA_DEC_OK);
    p.ts_us = ts;
    int d;
    assert_non_null(fa_flow_table_packet(r->t, &p, &d));
}

static void tcp_at(run *r, uint64_t ts, bool from_client, uint8_t flags, uint32_t seq, uint32_t ack)
{
    struct buf b;
    buf_reset(&b);
    size_t ip = pb_ipv4(&b, from_client ? "10.0.0.1" : "10.0.0.2", from_client ? "10.0.0.2" : "10.0.0.1",
                        FA_PROTO_TCP, 64, (uint16_t)(ts / MS), 0x4000, 0);
    pb_tcp(&b, from_client ? 40000 : 443, from_client ? 443 : 40000, seq, ack, flags, 65535);
    pb_ipv4_done(&b, ip);
    feed(r, &b, ts);
}

static void udp_at(run *r, uint64_t ts, uint16_t sport)
{
    struct buf b;
    buf_reset(&b);
    size_t ip = pb_ipv4(&b, "10.0.0.3", "10.0.0.4", FA_PROTO_UDP, 64, 1, 0, 0);
    size_t u = pb_udp(&b, sport, 53);
    put_fill(&b, 'u', 20);
    pb_udp_done(&b, u);
    pb_ipv4_done(&b, ip);
    feed(r, &b, ts);
}

/* The summary printed into a buffer the caller frees. */
static char *print(const run *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    fa_summary_print(&r->s, fa_flow_table_stats(r->t), NULL, f);
    fclose(f);
    return text;
}

/* A closed connection lingering for tcp-closed is pushed out by a UDP
 * flow at a cap of one, then the UDP flow by another: one flow cut short
 * (evicted) and one closed flow reclaimed early (fin). */
static void test_evicted_matches_end_reasons(void **state)
{
    (void)state;
    run r = {0};
    fa_flow_config cfg;
    fa_flow_config_default(&cfg);
    cfg.max_flows = 1;
    r.t = fa_flow_table_new(&cfg, on_end, &r);
    assert_non_null(r.t);
    tcp_at(&r, T0, true, FA_TH_SYN, 100, 0);
    tcp_at(&r, T0 + 1 * MS, false, FA_TH_SYN | FA_TH_ACK, 500, 101);
    tcp_at(&r, T0 + 2 * MS, true, FA_TH_ACK, 101, 501);
    tcp_at(&r, T0 + 3 * MS, true, FA_TH_FIN | FA_TH_ACK, 101, 501);
    tcp_at(&r, T0 + 4 * MS, false, FA_TH_FIN | FA_TH_ACK, 501, 102);
    tcp_at(&r, T0 + 5 * MS, true, FA_TH_ACK, 102, 502);
    udp_at(&r, T0 + 6 * MS, 41000);
    udp_at(&r, T0 + 7 * MS, 41001);
    const fa_flow_stats *st = fa_flow_table_stats(r.t);
    assert_int_equal(st->flows_ended[FA_END_FIN], 1);
    assert_int_equal(st->flows_ended[FA_END_EVICTED], 1);
    assert_int_equal(st->closed_reclaimed, 1);
    char *text = print(&r);
    assert_non_null(strstr(text, "; evicted 1\n"));
    assert_non_null(strstr(text, "  ended: fin=1 evicted=1\n"));
    assert_non_null(strstr(text, "  at the cap 1 closed flows ended before their linger was over"));
    free(text);
    fa_flow_table_free(r.t);
}

/* Raw IPv4 GRE carrying ERSPAN type I (the Ethernet frame at once), then
 * UDP 10.0.0.3 -> 10.0.0.4 port 53. */
static void erspan_udp(struct buf *b)
{
    buf_reset(b);
    size_t outer = pb_ipv4(b, "203.0.113.11", "203.0.113.12", FA_PROTO_GRE, 255, 1, 0, 0);
    pb_gre(b, 0, 0x88be, 0, 0);
    pb_ether(b, 0x0800);
    size_t ip = pb_ipv4(b, "10.0.0.3", "10.0.0.4", FA_PROTO_UDP, 64, 1, 0, 0);
    size_t u = pb_udp(b, 41000, 53);
    pb_udp_done(b, u);
    pb_ipv4_done(b, ip);
    pb_ipv4_done(b, outer);
}

static void test_encapsulations(void **state)
{
    (void)state;
    run r = {0};
    fa_flow_config cfg;
    fa_flow_config_default(&cfg);
    r.t = fa_flow_table_new(&cfg, on_end, &r);
    assert_non_null(r.t);
    udp_at(&r, T0, 41000);
    char *text = print(&r);
    assert_null(strstr(text, "encapsulated"));
    free(text);
    struct buf b;
    erspan_udp(&b);
    fa_packet p;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(fa_decode(DLT_RAW, b.d, (uint32_t)b.len, (uint32_t)b.len, &p), FA_DEC_OK);
        fa_summary_add_encap(&r.s, p.encap);
    }
    fa_summary_add_encap(&r.s, 0);
    text = print(&r);
    assert_non_null(strstr(text, "\n  encapsulated 2 packets: gre=2 erspan=2\nflows "));
    free(text);
    fa_flow_table_free(r.t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evicted_matches_end_reasons),
        cmocka_unit_test(test_encapsulations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
