/* test_flow_table.c - the flow table: canonical keys and directions, UDP
 * roles, the --max-flows cap, idle expiry per timeout class, flushing,
 * duplicate frames, ICMP-error and fragment attribution, TTL bookkeeping,
 * a reset table behaving as a new one, hash chains (collisions, deletion,
 * growth, keys that all hash alike).
 * Packets are built as bytes and run through the decoder, as in a capture. */
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
#include "tcp_state.h"

#define T0 1700000000000000ull
#define SEC 1000000ull

#define FIN FA_TH_FIN
#define SYN FA_TH_SYN
#define RST FA_TH_RST
#define PSH FA_TH_PSH
#define ACK FA_TH_ACK

#define MAX_ENDED 32

typedef struct ended {
    fa_flow flow;
    char state[8];
} ended;

/* A table and the flows it has ended, in order. */
typedef struct table {
    fa_flow_table *t;
    int n_ended;
    ended done[MAX_ENDED];
} table;

static void on_end(fa_flow *f, void *ctx)
{
    table *tb = ctx;
    if (tb->n_ended == MAX_ENDED)
        fail_msg("more flows ended than expected");
    ended *e = &tb->done[tb->n_ended++];
    e->flow = *f;
    strncpy(e->state, fa_conn_state_name(fa_flow_conn_state(f)), sizeof e->state - 1);
    e->state[sizeof e->state - 1] = '\0';
}

/* Opens the fixture's table with a cap of max_flows; teardown frees it,
 * also when an assertion ends the test early. */
static table *table_open(void **state, uint32_t max_flows)
{
    table *tb = *state;
    fa_flow_config cfg;
    fa_flow_config_default(&cfg);
    cfg.max_flows = max_flows;
    tb->t = fa_flow_table_new(&cfg, on_end, tb);
    assert_non_null(tb->t);
    return tb;
}

static int setup(void **state)
{
    *state = calloc(1, sizeof(table));
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    table *tb = *state;
    fa_flow_table_free(tb->t);
    free(tb);
    return 0;
}

static const fa_flow_stats *stats(const table *tb)
{
    return fa_flow_table_stats(tb->t);
}

/* Decodes a raw IP datagram and gives it to the table at time ts. */
static fa_flow *feed(table *tb, const struct buf *b, uint64_t ts, int *dir)
{
    fa_packet p;
    assert_false(b->overflow);
    fa_decode_result r = fa_decode(DLT_RAW, b->d, (uint32_t)b->len, (uint32_t)b->len, &p);
    if (r != FA_DEC_OK)
        fail_msg("test packet did not decode: %s", fa_decode_result_name(r));
    p.ts_us = ts;
    int d = -1;
    fa_flow *f = fa_flow_table_packet(tb->t, &p, &d);
    if (dir)
        *dir = d;
    return f;
}

/* IPv4 TCP segment; ip_id makes each frame distinct on the wire. */
static void tcp4(struct buf *b, const char *src, const char *dst, uint16_t sport, uint16_t dport,
                 uint8_t flags, uint32_t seq, uint32_t ack, size_t len, uint8_t ttl, uint16_t ip_id)
{
    buf_reset(b);
    size_t ip = pb_ipv4(b, src, dst, FA_PROTO_TCP, ttl, ip_id, 0x4000, 0);
    pb_tcp(b, sport, dport, seq, ack, flags, 65535);
    put_fill(b, 'x', len);
    pb_ipv4_done(b, ip);
}

static void udp4(struct buf *b, const char *src, const char *dst, uint16_t sport, uint16_t dport, size_t len)
{
    buf_reset(b);
    size_t ip = pb_ipv4(b, src, dst, FA_PROTO_UDP, 64, 1, 0, 0);
    size_t u = pb_udp(b, sport, dport);
    put_fill(b, 'u', len);
    pb_udp_done(b, u);
    pb_ipv4_done(b, ip);
}

static fa_flow *tcp_at(table *tb, uint64_t ts, const char *src, const char *dst, uint16_t sport,
                       uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack, int *dir)
{
    struct buf b;
    tcp4(&b, src, dst, sport, dport, flags, seq, ack, 0, 64, (uint16_t)(ts / 1000));
    return feed(tb, &b, ts, dir);
}

static fa_flow *udp_at(table *tb, uint64_t ts, const char *src, const char *dst, uint16_t sport,
                       uint16_t dport, int *dir)
{
    struct buf b;
    udp4(&b, src, dst, sport, dport, 20);
    return feed(tb, &b, ts, dir);
}

/* SYN, SYN-ACK, ACK between 10.0.0.1:sport and 10.0.0.2:443 from ts on. */
static void handshake(table *tb, uint64_t ts, uint16_t sport)
{
    tcp_at(tb, ts, "10.0.0.1", "10.0.0.2", sport, 443, SYN, 100, 0, NULL);
    tcp_at(tb, ts + 1000, "10.0.0.2", "10.0.0.1", 443, sport, SYN | ACK, 500, 101, NULL);
    tcp_at(tb, ts + 2000, "10.0.0.1", "10.0.0.2", sport, 443, ACK, 101, 501, NULL);
}

static const ended *ended_with_port(const table *tb, uint16_t orig_port)
{
    for (int i = 0; i < tb->n_ended; i++)
        if (fa_flow_port(&tb->done[i].flow, 0) == orig_port)
            return &tb->done[i];
    fail_msg("no ended flow from port %u", orig_port);
    return NULL;
}

static fa_addr addr(const char *text)
{
    fa_cidr c;
    assert_int_equal(fa_cidr_parse(text, &c), 0);
    return c.net;
}

/* ---- layout, names ---------------------------------------------------- */

static void test_flow_record_size(void **state)
{
    (void)state;
    assert_true(FA_FLOW_SLOT_BYTES <= 192);
}

static void test_timeout_names(void **state)
{
    (void)state;
    assert_string_equal(fa_timeout_class_name(FA_TMO_TCP_ATTEMPT), "tcp-attempt");
    assert_string_equal(fa_timeout_class_name(FA_TMO_TCP_ESTABLISHED), "tcp-established");
    assert_string_equal(fa_timeout_class_name(FA_TMO_COUNT), "unknown");
    assert_int_equal(fa_timeout_class_parse("tcp-half-closed"), FA_TMO_TCP_HALF_CLOSED);
    assert_int_equal(fa_timeout_class_parse("udp"), FA_TMO_UDP);
    assert_int_equal(fa_timeout_class_parse("tcp"), -1);
    fa_flow_config cfg;
    fa_flow_config_default(&cfg);
    assert_int_equal(cfg.max_flows, 262144);
    assert_int_equal(cfg.timeout_s[FA_TMO_TCP_ATTEMPT], 30);
    assert_int_equal(cfg.timeout_s[FA_TMO_TCP_ESTABLISHED], 7200);
    assert_int_equal(cfg.timeout_s[FA_TMO_TCP_CLOSED], 5);
    assert_int_equal(cfg.timeout_s[FA_TMO_UDP], 60);
}

/* ---- keys and directions ---------------------------------------------- */

static void test_canonical_key(void **state)
{
    table *tb = table_open(state, 16);
    int d;
    fa_flow *f = tcp_at(tb, T0, "10.0.0.1", "10.0.0.2", 40000, 443, SYN, 1, 0, &d);
    assert_int_equal(d, 0);
    fa_flow *g = tcp_at(tb, T0 + 1000, "10.0.0.2", "10.0.0.1", 443, 40000, SYN | ACK, 9, 2, &d);
    assert_ptr_equal(f, g);
    assert_int_equal(d, 1);
    fa_addr lo = addr("10.0.0.1"), hi = addr("10.0.0.2");
    assert_int_equal(fa_addr_cmp(&f->key.lo_addr, &lo), 0);
    assert_int_equal(fa_addr_cmp(&f->key.hi_addr, &hi), 0);
    assert_int_equal(f->key.lo_port, 40000);
    assert_int_equal(f->key.hi_port, 443);
    assert_int_equal(f->key.proto, FA_PROTO_TCP);
    assert_true(f->bits & FA_FLOW_ORIG_IS_LO);

    /* the originator holds the higher address */
    g = tcp_at(tb, T0 + 2000, "10.0.0.9", "10.0.0.2", 40001, 443, SYN, 1, 0, &d);
    assert_ptr_not_equal(f, g);
    assert_int_equal(d, 0);
    fa_addr nine = addr("10.0.0.9");
    assert_int_equal(fa_addr_cmp(fa_flow_addr(g, 0), &nine), 0);
    assert_int_equal(fa_flow_port(g, 0), 40001);
    assert_int_equal(fa_flow_port(g, 1), 443);
    assert_false(g->bits & FA_FLOW_ORIG_IS_LO);
    fa_flow *h = tcp_at(tb, T0 + 3000, "10.0.0.2", "10.0.0.9", 443, 40001, SYN | ACK, 7, 2, &d);
    assert_ptr_equal(g, h);
    assert_int_equal(d, 1);

    /* one host talking to itself: the ports tell the directions apart */
    f = udp_at(tb, T0 + 4000, "127.0.0.1", "127.0.0.1", 50000, 50001, &d);
    assert_int_equal(d, 0);
    g = udp_at(tb, T0 + 5000, "127.0.0.1", "127.0.0.1", 50001, 50000, &d);
    assert_ptr_equal(f, g);
    assert_int_equal(d, 1);
    assert_int_equal(stats(tb)->flows_created, 3);
    assert_int_equal(stats(tb)->packets, 6);
}

static void test_udp_roles(void **state)
{
    table *tb = table_open(state, 16);
    int d;
    udp_at(tb, T0, "10.0.0.1", "10.0.0.2", 40000, 9999, &d);
    assert_int_equal(d, 0);

    udp_at(tb, T0, "10.0.0.1", "10.0.0.3", 40001, 53, NULL);
    udp_at(tb, T0 + 1000, "10.0.0.3", "10.0.0.1", 53, 40001, &d);
    assert_int_equal(d, 1);

    /* a reply seen without its query: port 53 is the server's side */
    fa_flow *f = udp_at(tb, T0 + 2000, "10.0.0.4", "10.0.0.1", 53, 40002, &d);
    assert_int_equal(d, 1);
    fa_addr client = addr("10.0.0.1");
    assert_int_equal(fa_addr_cmp(fa_flow_addr(f, 0), &client), 0);
    assert_int_equal(fa_flow_port(f, 0), 40002);

    /* two high ports: the first sender stays the originator */
    udp_at(tb, T0 + 3000, "10.0.0.5", "10.0.0.1", 40003, 40004, &d);
    assert_int_equal(d, 0);

    fa_flow_table_flush(tb->t, FA_END_EOF);
    assert_int_equal(tb->n_ended, 4);
    const ended *e = ended_with_port(tb, 40000);
    assert_string_equal(e->state, "S0");
    assert_string_equal(e->flow.history, "D");
    e = ended_with_port(tb, 40001);
    assert_string_equal(e->state, "SF");
    assert_string_equal(e->flow.history, "Dd");
    e = ended_with_port(tb, 40002);
    assert_string_equal(e->state, "SHR");
    assert_string_equal(e->flow.history, "^d");
    e = ended_with_port(tb, 40003);
    assert_string_equal(e->state, "S0");
    assert_int_equal(e->flow.end_reason, FA_END_EOF);
}

/* ---- the --max-flows cap ---------------------------------------------- */

static void test_max_flows_eviction(void **state)
{
    table *tb = table_open(state, 4);
    for (uint16_t i = 0; i < 10; i++) {
        fa_flow *f = udp_at(tb, T0 + i * SEC, "10.0.0.1", "10.0.0.2", (uint16_t)(41000 + i), 9999, NULL);
        assert_non_null(f);
        assert_true(stats(tb)->flows_active <= 4);
    }
    const fa_flow_stats *st = stats(tb);
    assert_int_equal(st->flows_created, 10);
    assert_int_equal(st->closed_reclaimed, 0);
    assert_int_equal(st->flows_ended[FA_END_EVICTED], 6);
    assert_int_equal(st->flows_active, 4);
    assert_int_equal(st->flows_peak, 4);
    assert_true(st->pool_bytes <= 4 * FA_FLOW_SLOT_BYTES);
    assert_int_equal(tb->n_ended, 6);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(tb->done[i].flow.end_reason, FA_END_EVICTED);
        assert_int_equal(fa_flow_port(&tb->done[i].flow, 0), 41000 + i);
    }
    fa_flow_table_flush(tb->t, FA_END_EOF);
    assert_int_equal(tb->n_ended, 10);
    assert_int_equal(stats(tb)->flows_ended[FA_END_EOF], 4);
    assert_int_equal(stats(tb)->flows_active, 0);
}

/* The victim is the least recently active flow, not the oldest created. */
static void test_eviction_is_lru(void **state)
{
    table *tb = table_open(state, 3);
    udp_at(tb, T0, "10.0.0.1", "10.0.0.2", 41000, 9999, NULL);
    udp_at(tb, T0 + SEC, "10.0.0.1", "10.0.0.2", 41001, 9999, NULL);
    tcp_at(tb, T0 + 2 * SEC, "10.0.0.1", "10.0.0.2", 41002, 443, SYN, 1, 0, NULL);
    udp_at(tb, T0 + 3 * SEC, "10.0.0.1", "10.0.0.2", 41000, 9999, NULL);
    udp_at(tb, T0 + 4 * SEC, "10.0.0.1", "10.0.0.2", 41003, 9999, NULL);
    assert_int_equal(tb->n_ended, 1);
    assert_int_equal(fa_flow_port(&tb->done[0].flow, 0), 41001);
    tcp_at(tb, T0 + 5 * SEC, "10.0.0.1", "10.0.0.2", 41004, 443, SYN, 1, 0, NULL);
    assert_int_equal(tb->n_ended, 2);
    assert_int_equal(fa_flow_port(&tb->done[1].flow, 0), 41002);
    assert_string_equal(tb->done[1].state, "S0");
}

/* ---- idle expiry per timeout class ------------------------------------ */

static void test_idle_expiry_by_class(void **state)
{
    table *tb = table_open(state, 16);
    tcp_at(tb, T0, "10.0.0.1", "10.0.0.2", 40000, 443, SYN, 1, 0, NULL); /* attempt: 30 s */
    handshake(tb, T0, 40001);                                             /* established: 7200 s */
    udp_at(tb, T0, "10.0.0.1", "10.0.0.2", 40002, 9999, NULL);           /* udp: 60 s */

    fa_flow_table_expire(tb->t, T0 + 29 * SEC);
    assert_int_equal(tb->n_ended, 0);
    fa_flow_table_expire(tb->t, T0 + 31 * SEC);
    assert_int_equal(tb->n_ended, 1);
    assert_int_equal(fa_flow_port(&tb->done[0].flow, 0), 40000);
    assert_int_equal(tb->done[0].flow.end_reason, FA_END_IDLE);
    assert_string_equal(tb->done[0].state, "S0");

    fa_flow_table_expire(tb->t, T0 + 59 * SEC);
    assert_int_equal(tb->n_ended, 1);
    fa_flow_table_expire(tb->t, T0 + 61 * SEC);
    assert_int_equal(tb->n_ended, 2);
    assert_int_equal(fa_flow_port(&tb->done[1].flow, 0), 40002);

    fa_flow_table_expire(tb->t, T0 + 7199 * SEC);
    assert_int_equal(tb->n_ended, 2);
    fa_flow_table_expire(tb->t, T0 + 7201 * SEC);
    assert_int_equal(tb->n_ended, 3);
    assert_int_equal(fa_flow_port(&tb->done[2].flow, 0), 40001);
    assert_int_equal(tb->done[2].flow.end_reason, FA_END_IDLE);
    assert_string_equal(tb->done[2].state, "S1");
    assert_int_equal(stats(tb)->flows_ended[FA_END_IDLE], 3);
}

/* Packet time drives expiry: a packet long after the others ends them. */
static void test_expiry_driven_by_packets(void **state)
{
    table *tb = table_open(state, 16);
    tcp_at(tb, T0, "10.0.0.1", "10.0.0.2", 40000, 443, SYN, 1, 0, NULL);
    handshake(tb, T0, 40001);
    udp_at(tb, T0 + 40 * SEC, "10.0.0.1", "10.0.0.2", 40002, 9999, NULL);
    assert_int_equal(tb->n_ended, 1);
    assert_int_equal(fa_flow_port(&tb->done[0].flow, 0), 40000);
    assert_int_equal(stats(tb)->flows_active, 2);
}

/* A closed connection lingers briefly and then ends for its own reason. */
static void test_closed_and_half_closed(void **state)
{
    table *tb = table_open(state, 16);
    handshake(tb, T0, 40000);
    tcp_at(tb, T0 + 3000, "10.0.0.1", "10.0.0.2", 40000, 443, FIN | ACK, 101, 501, NULL);
    tcp_at(tb, T0 + 4000, "10.0.0.2", "10.0.0.1", 443, 40000, FIN | ACK, 501, 102, NULL);
    tcp_at(tb, T0 + 5000, "10.0.0.1", "10.0.0.2", 40000, 443, ACK, 102, 502, NULL);
    handshake(tb, T0, 40001);
    tcp_at(tb, T0 + 3000, "10.0.0.1", "10.0.0.2", 40001, 443, FIN | ACK, 101, 501, NULL);

    fa_flow_table_expire(tb->t, T0 + 6 * SEC);
    assert_int_equal(tb->n_ended, 1);
    assert_int_equal(fa_flow_port(&tb->done[0].flow, 0), 40000);
    assert_int_equal(tb->done[0].flow.end_reason, FA_END_FIN);
    assert_string_equal(tb->done[0].state, "SF");

    fa_flow_table_expire(tb->t, T0 + 299 * SEC);
    assert_int_equal(tb->n_ended, 1);
    fa_flow_table_expire(tb->t, T0 + 301 * SEC);
    assert_int_equal(tb->n_ended, 2);
    assert_string_equal(tb->done[1].state, "S2");
    assert_int_equal(tb->done[1].flow.end_reason, FA_END_IDLE);
}

static void test_flush_at_eof(void **state)
{
    table *tb = table_open(state, 16);
    udp_at(tb, T0, "10.0.0.1", "10.0.0.2", 40000, 9999, NULL);
    handshake(tb, T0, 40001);
    tcp_at(tb, T0 + 3000, "10.0.0.2", "10.0.0.1", 443, 40001, RST, 501, 0, NULL);
    handshake(tb, T0, 40002);
    fa_flow_table_flush(tb->t, FA_END_EOF);
    assert_int_equal(tb->n_ended, 3);
    assert_int_equal(ended_with_port(tb, 40000)->flow.end_reason, FA_END_EOF);
    assert_int_equal(ended_with_port(tb, 40001)->flow.end_reason, FA_END_RST_RESP);
    assert_int_equal(ended_with_port(tb, 40002)->flow.end_reason, FA_END_EOF);
    assert_string_equal(fa_end_reason_name(FA_END_EOF), "end_of_input");
    const fa_flow_stats *st = stats(tb);
    assert_int_equal(st->flows_ended[FA_END_EOF], 2);
    assert_int_equal(st->flows_ended[FA_END_RST_RESP], 1);
    assert_int_equal(st->flows_active, 0);
}

/* ---- duplicates -------------------------------------------------------- */

/* A span port copying one frame twice is not a retransmission. */
static void test_duplicate_frame(void **state)
{
    table *tb = table_open(state, 16);
    handshake(tb, T0, 40000);
    struct buf b;
    tcp4(&b, "10.0.0.1", "10.0.0.2", 40000, 443, PSH | ACK, 101, 501, 100, 64, 77);
    feed(tb, &b, T0 + 10000, NULL);
    fa_flow *f = feed(tb, &b, T0 + 10050, NULL);
    assert_int_equal(stats(tb)->duplicates, 1);
    assert_int_equal(f->dir[0].dups, 1);
    /* Zeek logs the copy as a retransmission ('T'); the host's own
     * retransmission counter does not count it. */
    assert_int_equal(f->dir[0].retrans, 0);
    assert_non_null(strchr(f->history, 'T'));

    /* the same segment sent again, as a new frame: a retransmission */
    tcp4(&b, "10.0.0.1", "10.0.0.2", 40000, 443, PSH | ACK, 101, 501, 100, 64, 78);
    f = feed(tb, &b, T0 + 300000, NULL);
    assert_int_equal(stats(tb)->duplicates, 1);
    assert_int_equal(f->dir[0].retrans, 1);
}

/* An open connection whose flow timed out is recognised when it speaks
 * again where it left off; a stranger on the same ports is not. */
static void test_resumed_connection_is_continued(void **state)
{
    table *tb = table_open(state, 16);
    handshake(tb, T0, 40000);
    fa_flow_table_expire(tb->t, T0 + 8000 * SEC);
    assert_int_equal(tb->n_ended, 1);
    assert_int_equal(tb->done[0].flow.end_reason, FA_END_IDLE);

    fa_flow *f = tcp_at(tb, T0 + 9000 * SEC, "10.0.0.1", "10.0.0.2", 40000, 443, ACK, 101, 501, NULL);
    assert_true(f->bits & FA_FLOW_CONTINUED);
    assert_int_equal(stats(tb)->flows_continued, 1);

    handshake(tb, T0, 40001);
    fa_flow_table_expire(tb->t, T0 + 8000 * SEC);
    f = tcp_at(tb, T0 + 9000 * SEC, "10.0.0.1", "10.0.0.2", 40001, 443, ACK, 3000000000u, 501, NULL);
    assert_false(f->bits & FA_FLOW_CONTINUED);
    assert_int_equal(stats(tb)->flows_continued, 1);
}

/* Identical bytes far apart in time are not a span artefact. */
static void test_identical_frame_later_is_no_duplicate(void **state)
{
    table *tb = table_open(state, 16);
    struct buf b;
    udp4(&b, "10.0.0.1", "10.0.0.2", 40000, 9999, 20);
    feed(tb, &b, T0, NULL);
    fa_flow *f = feed(tb, &b, T0 + 5 * SEC, NULL);
    assert_int_equal(stats(tb)->duplicates, 0);
    assert_int_equal(f->dir[0].dups, 0);
    assert_int_equal(f->dir[0].pkts, 2);
}

/* ---- ICMP errors ------------------------------------------------------- */

static void icmp_error(struct buf *b, const char *from, const char *to, uint8_t type, uint8_t code, const struct buf *quoted)
{
    buf_reset(b);
    size_t ip = pb_ipv4(b, from, to, FA_PROTO_ICMP, 250, 3, 0, 0);
    pb_icmp(b, type, code, 0);
    put_bytes(b, quoted->d, quoted->len < 28 ? quoted->len : 28);
    pb_ipv4_done(b, ip);
}

static void test_icmp_error_attribution(void **state)
{
    table *tb = table_open(state, 16);
    struct buf q, b;
    udp4(&q, "10.0.0.1", "10.0.0.2", 40000, 9999, 20);
    fa_flow *f = feed(tb, &q, T0, NULL);
    assert_int_equal(f->icmp_errors, 0);
    icmp_error(&b, "10.0.0.2", "10.0.0.1", 3, 3, &q);
    feed(tb, &b, T0 + 1000, NULL);
    f = feed(tb, &q, T0 + 2000, NULL);
    assert_int_equal(f->icmp_errors, 1);
    assert_int_equal(f->icmp_type, 3);
    assert_int_equal(f->icmp_code, 3);
    assert_true(f->bits & FA_FLOW_ICMP_FROM_RESP);
    assert_int_equal(f->dir[0].pkts, 2);
    assert_int_equal(f->dir[1].pkts, 0);
    assert_string_equal(fa_conn_state_name(fa_flow_conn_state(f)), "S0");

    /* a firewall refusing a SYN with 3/13 */
    tcp4(&q, "10.0.0.1", "10.0.0.2", 40001, 3389, SYN, 1, 0, 0, 64, 9);
    feed(tb, &q, T0 + 3000, NULL);
    icmp_error(&b, "192.0.2.254", "10.0.0.1", 3, 13, &q);
    feed(tb, &b, T0 + 4000, NULL);
    f = feed(tb, &q, T0 + 5000, NULL); /* the SYN sent again */
    assert_int_equal(f->icmp_errors, 1);
    assert_int_equal(f->icmp_type, 3);
    assert_int_equal(f->icmp_code, 13);
    assert_string_equal(f->history, "S");

    /* an error about a flow never seen */
    udp4(&q, "10.0.0.1", "10.0.0.7", 40002, 9999, 20);
    icmp_error(&b, "10.0.0.7", "10.0.0.1", 3, 3, &q);
    feed(tb, &b, T0 + 6000, NULL);
    const fa_flow_stats *st = stats(tb);
    assert_int_equal(st->icmp_errors_attributed, 2);
    assert_int_equal(st->icmp_errors_unmatched, 1);
}

/* --workers: an error that another table received is charged here only
 * if this table holds the quoted flow; merged counters count it once. */
static void test_icmp_error_claimed(void **state)
{
    table *tb = table_open(state, 16);
    struct buf q, b;
    tcp4(&q, "10.0.0.1", "10.0.0.2", 40001, 3389, SYN, 1, 0, 0, 64, 9);
    feed(tb, &q, T0, NULL);
    icmp_error(&b, "192.0.2.254", "10.0.0.1", 3, 13, &q);
    fa_packet p;
    assert_int_equal(fa_decode(DLT_RAW, b.d, (uint32_t)b.len, (uint32_t)b.len, &p), FA_DEC_OK);
    p.ts_us = T0 + 1000;
    assert_true(p.icmp_error);
    uint32_t idx;
    assert_true(fa_flow_table_claim_icmp_error(tb->t, &p, &idx));
    fa_flow *f = feed(tb, &q, T0 + 2000, NULL);
    assert_int_equal(idx, fa_flow_table_index(tb->t, f));
    assert_int_equal(f->icmp_errors, 1);
    assert_int_equal(f->icmp_code, 13);
    assert_true(f->bits & FA_FLOW_ICMP_FROM_RESP); /* the originator was refused */

    /* the table that received it counted it unmatched */
    fa_flow_stats sum = *stats(tb);
    fa_flow_stats there = {0};
    there.icmp_errors_unmatched = 1;
    there.flows_created = 1;
    fa_flow_stats_add(&sum, &there);
    assert_int_equal(sum.icmp_errors_claimed, 1);
    assert_int_equal(sum.icmp_errors_attributed, 1);
    assert_int_equal(sum.icmp_errors_unmatched - sum.icmp_errors_claimed, 0);
    assert_int_equal(sum.flows_created, 2);

    /* a table without the flow leaves it alone and counts nothing */
    udp4(&q, "10.0.0.1", "10.0.0.7", 40002, 9999, 20);
    icmp_error(&b, "10.0.0.7", "10.0.0.1", 3, 3, &q);
    assert_int_equal(fa_decode(DLT_RAW, b.d, (uint32_t)b.len, (uint32_t)b.len, &p), FA_DEC_OK);
    assert_false(fa_flow_table_claim_icmp_error(tb->t, &p, &idx));
    assert_int_equal(stats(tb)->icmp_errors_claimed, 1);
    assert_int_equal(stats(tb)->icmp_errors_unmatched, 0);
}

/* A host unreachable answering a ping is charged to the ping. */
static void test_icmp_error_about_ping(void **state)
{
    table *tb = table_open(state, 16);
    struct buf q, b;
    buf_reset(&q);
    size_t ip = pb_ipv4(&q, "10.0.0.1", "10.0.0.2", FA_PROTO_ICMP, 64, 5, 0, 0);
    pb_icmp(&q, 8, 0, 0x00010001);
    put_fill(&q, 'p', 56);
    pb_ipv4_done(&q, ip);
    fa_flow *f = feed(tb, &q, T0, NULL);
    assert_int_equal(fa_flow_port(f, 0), 8);
    assert_int_equal(fa_flow_port(f, 1), 0);
    icmp_error(&b, "192.0.2.254", "10.0.0.1", 3, 1, &q);
    feed(tb, &b, T0 + 1000, NULL);
    f = feed(tb, &q, T0 + 2000, NULL);
    assert_int_equal(f->icmp_errors, 1);
    assert_int_equal(f->icmp_code, 1);
    assert_int_equal(stats(tb)->icmp_errors_attributed, 1);
}

/* ---- fragments --------------------------------------------------------- */

static void udp_fragments(struct buf *first, struct buf *later, const char *src, uint16_t id)
{
    buf_reset(first);
    size_t ip = pb_ipv4(first, src, "10.0.0.2", FA_PROTO_UDP, 64, id, 0x2000, 0);
    size_t u = pb_udp(first, 40000, 4172);
    put_fill(first, 'u', 1472);
    pb_udp_done(first, u);
    set_be16(first, u + 4, 8 + 1472 + 500);
    pb_ipv4_done(first, ip);
    buf_reset(later);
    ip = pb_ipv4(later, src, "10.0.0.2", FA_PROTO_UDP, 64, id, 185, 0);
    put_fill(later, 'v', 500);
    pb_ipv4_done(later, ip);
}

static void test_fragment_attribution(void **state)
{
    table *tb = table_open(state, 16);
    struct buf first, later;
    udp_fragments(&first, &later, "10.0.0.1", 0x7777);
    fa_flow *f = feed(tb, &first, T0, NULL);
    fa_flow *g = feed(tb, &later, T0 + 10, NULL);
    assert_ptr_equal(f, g);
    assert_int_equal(g->dir[0].pkts, 2);
    assert_int_equal(g->dir[0].ip_bytes, 1500 + 520);
    assert_int_equal(g->key.proto, FA_PROTO_UDP);
    assert_int_equal(fa_flow_port(g, 1), 4172);
    assert_int_equal(stats(tb)->fragments_attributed, 1);
    assert_int_equal(stats(tb)->flows_created, 1);

    /* a later fragment whose first fragment was never seen */
    udp_fragments(&first, &later, "10.0.0.3", 0x8888);
    assert_null(feed(tb, &later, T0 + 20, NULL));
    assert_int_equal(stats(tb)->fragments_unattributed, 1);
    assert_int_equal(stats(tb)->flows_created, 1);
}

/* A large ping is fragmented too; its tail belongs to the ping's flow. */
static void test_icmp_fragment_attribution(void **state)
{
    table *tb = table_open(state, 16);
    struct buf first, later;
    buf_reset(&first);
    size_t ip = pb_ipv4(&first, "10.0.0.1", "10.0.0.2", FA_PROTO_ICMP, 64, 0x4444, 0x2000, 0);
    pb_icmp(&first, 8, 0, 0x00020001);
    put_fill(&first, 'p', 1472);
    pb_ipv4_done(&first, ip);
    buf_reset(&later);
    ip = pb_ipv4(&later, "10.0.0.1", "10.0.0.2", FA_PROTO_ICMP, 64, 0x4444, 185, 0);
    put_fill(&later, 'p', 528);
    pb_ipv4_done(&later, ip);
    fa_flow *f = feed(tb, &first, T0, NULL);
    fa_flow *g = feed(tb, &later, T0 + 10, NULL);
    assert_ptr_equal(f, g);
    assert_int_equal(g->dir[0].pkts, 2);
    assert_int_equal(stats(tb)->flows_created, 1);
}

/* ---- TTLs and byte counts ---------------------------------------------- */

static void test_ttl_and_bytes(void **state)
{
    table *tb = table_open(state, 16);
    struct buf b;
    const uint8_t orig_ttls[] = {64, 61, 63};
    tcp4(&b, "10.0.0.1", "10.0.0.2", 40000, 443, SYN, 100, 0, 0, orig_ttls[0], 1);
    feed(tb, &b, T0, NULL);
    tcp4(&b, "10.0.0.2", "10.0.0.1", 443, 40000, SYN | ACK, 500, 101, 0, 120, 2);
    feed(tb, &b, T0 + 1000, NULL);
    tcp4(&b, "10.0.0.1", "10.0.0.2", 40000, 443, PSH | ACK, 101, 501, 30, orig_ttls[1], 3);
    feed(tb, &b, T0 + 2000, NULL);
    tcp4(&b, "10.0.0.1", "10.0.0.2", 40000, 443, PSH | ACK, 131, 501, 20, orig_ttls[2], 4);
    feed(tb, &b, T0 + 3000, NULL);
    /* a RST in the server's name that arrives with another TTL */
    tcp4(&b, "10.0.0.2", "10.0.0.1", 443, 40000, RST, 501, 0, 0, 50, 5);
    fa_flow *f = feed(tb, &b, T0 + 4000, NULL);

    assert_int_equal(f->dir[0].ttl_min, 61);
    assert_int_equal(f->dir[0].ttl_max, 64);
    assert_int_equal(f->dir[0].ttl_rst, 0);
    assert_int_equal(f->dir[1].ttl_min, 120);
    assert_int_equal(f->dir[1].ttl_max, 120);
    assert_int_equal(f->dir[1].ttl_rst, 50);
    assert_int_equal(fa_flow_rst_origin(f, 1), FA_RST_MIDDLEBOX);
    assert_int_equal(fa_flow_rst_origin(f, 0), FA_RST_NONE);

    assert_int_equal(f->dir[0].pkts, 3);
    assert_int_equal(f->dir[1].pkts, 2);
    assert_int_equal(f->dir[0].ip_bytes, 40 + 70 + 60);
    assert_int_equal(f->dir[1].ip_bytes, 80);
    assert_int_equal(fa_flow_seq_bytes(f, 0), 50);
    assert_int_equal(f->dir[0].flags, SYN | PSH | ACK);
    assert_int_equal(f->dir[1].flags, SYN | ACK | RST);
    assert_int_equal(f->first_us, T0);
    assert_int_equal(f->last_us, T0 + 4000);
    assert_string_equal(fa_conn_state_name(fa_flow_conn_state(f)), "RSTR");
}

/* With flows coming and going at two or three flows a bucket, some chain
 * reaches ten flows by chance within a few thousand insertions; a
 * threshold of ten (uthash's default) would then double the buckets. The
 * table's, twenty, stays put. */
static void on_end_count(fa_flow *f, void *ctx)
{
    (void)f;
    (*(unsigned *)ctx)++;
}

static void test_buckets_not_doubled_by_churn(void **state)
{
    (void)state;
    fa_flow_config cfg;
    fa_flow_config_default(&cfg);
    cfg.max_flows = 4096;                   /* 1024 buckets */
    cfg.timeout_s[FA_TMO_UDP] = 2;          /* 2000 to 3000 flows open at a time */
    unsigned n_ended = 0;
    fa_flow_table *t = fa_flow_table_new(&cfg, on_end_count, &n_ended);
    assert_non_null(t);
    struct buf b;
    for (unsigned i = 0; i < 100000; i++) {
        char src[32];
        snprintf(src, sizeof src, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        udp4(&b, src, "10.255.0.1", (uint16_t)(1024 + i % 60000), 53, 10);
        fa_packet p;
        assert_int_equal(fa_decode(DLT_RAW, b.d, (uint32_t)b.len, (uint32_t)b.len, &p), FA_DEC_OK);
        p.ts_us = T0 + (uint64_t)i * 1000;
        int d;
        assert_non_null(fa_flow_table_packet(t, &p, &d));
    }
    const fa_flow_stats *st = fa_flow_table_stats(t);
    assert_true(st->flows_peak > 1900 && st->flows_peak < 3100); /* expiry sweeps once a second */
    assert_true(n_ended > 90000);
    assert_int_equal(st->bucket_bytes, 1024 * 4);
    fa_flow_table_free(t);
}

/* ---- hash chains ------------------------------------------------------- */

/* A table fed UDP flows from 10.a.b.c:5000 to 10.255.0.1:53, key i being
 * the source's low 24 bits, and the keys of the flows it ended, in order. */
typedef struct chain_fx {
    fa_flow_table *t;
    unsigned n_ended;
    uint32_t ended[512];
} chain_fx;

static void on_end_key(fa_flow *f, void *ctx)
{
    chain_fx *fx = ctx;
    const fa_addr *a = fa_flow_addr(f, 0);
    if (fx->n_ended == sizeof fx->ended / sizeof fx->ended[0])
        fail_msg("more flows ended than expected");
    fx->ended[fx->n_ended++] = (uint32_t)a->b[13] << 16 | (uint32_t)a->b[14] << 8 | a->b[15];
}

static void chain_open(chain_fx *fx, uint32_t max_flows)
{
    fa_flow_config cfg;
    fa_flow_config_default(&cfg);
    cfg.max_flows = max_flows;
    memset(fx, 0, sizeof *fx);
    fx->t = fa_flow_table_new(&cfg, on_end_key, fx);
    assert_non_null(fx->t);
}

static void chain_packet(struct buf *b, fa_packet *p, uint32_t i, uint64_t ts)
{
    char src[32];
    snprintf(src, sizeof src, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    udp4(b, src, "10.255.0.1", 5000, 53, 8);
    assert_int_equal(fa_decode(DLT_RAW, b->d, (uint32_t)b->len, (uint32_t)b->len, p), FA_DEC_OK);
    p->ts_us = ts;
}

static uint32_t chain_hash(const chain_fx *fx, uint32_t i)
{
    struct buf b;
    fa_packet p;
    fa_flow_hint h;
    chain_packet(&b, &p, i, 0);
    fa_flow_table_key(fx->t, &p, &h);
    assert_true(h.valid);
    return h.hashv;
}

/* n keys from i = 1 on whose hashes, masked, equal want: with the mask of
 * the largest bucket array the table can have (one bucket per slot), they
 * share a chain at every size. */
static void keys_alike(const chain_fx *fx, uint32_t mask, uint32_t want, uint32_t *keys, unsigned n)
{
    unsigned k = 0;
    for (uint32_t i = 1; k < n && i < (1u << 24); i++)
        if ((chain_hash(fx, i) & mask) == want)
            keys[k++] = i;
    assert_int_equal(k, n);
}

/* Feeds key i at ts; returns whether it made a new flow. The flow found
 * must be key i's, the packet its originator's. */
static bool chain_feed(chain_fx *fx, uint32_t i, uint64_t ts)
{
    struct buf b;
    fa_packet p;
    chain_packet(&b, &p, i, ts);
    uint64_t created = fa_flow_table_stats(fx->t)->flows_created;
    int d = -1;
    fa_flow *f = fa_flow_table_packet(fx->t, &p, &d);
    assert_non_null(f);
    assert_int_equal(d, 0);
    assert_int_equal(fa_addr_cmp(fa_flow_addr(f, 0), &p.src), 0);
    return fa_flow_table_stats(fx->t)->flows_created != created;
}

static void count_flow(fa_flow *f, void *ctx)
{
    (void)f;
    ++*(unsigned *)ctx;
}

static unsigned active_flows(chain_fx *fx)
{
    unsigned n = 0;
    fa_flow_table_each_older(fx->t, UINT64_MAX, 0, count_flow, &n);
    assert_int_equal(n, fa_flow_table_stats(fx->t)->flows_active);
    return n;
}

/* Ten flows in one chain: each packet finds its own flow. */
static void test_chain_collisions(void **state)
{
    (void)state;
    chain_fx fx;
    chain_open(&fx, 64);
    uint32_t keys[10];
    keys_alike(&fx, 63, chain_hash(&fx, 1) & 63, keys, 10);
    for (int i = 0; i < 10; i++)
        assert_true(chain_feed(&fx, keys[i], T0 + (uint64_t)i));
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 10; i++)
            assert_false(chain_feed(&fx, keys[i], T0 + 100 + (uint64_t)i));
    const fa_flow_stats *st = fa_flow_table_stats(fx.t);
    assert_int_equal(st->flows_created, 10);
    assert_int_equal(st->packets, 30);
    assert_int_equal(st->bucket_bytes, 32 * 4); /* a quarter bucket per slot, four bytes each */
    assert_int_equal(active_flows(&fx), 10);
    fa_flow_table_free(fx.t);
}

/* The first, a middle and the last flow of one chain time out; the others
 * stay found, and the ended ones come back as new flows. */
static void test_chain_delete_middle(void **state)
{
    (void)state;
    chain_fx fx;
    chain_open(&fx, 64);
    uint32_t keys[10];
    keys_alike(&fx, 63, chain_hash(&fx, 7) & 63, keys, 10);
    for (int i = 0; i < 10; i++)
        assert_true(chain_feed(&fx, keys[i], T0));
    for (int i = 0; i < 10; i++)
        if (i != 0 && i != 5 && i != 9)
            assert_false(chain_feed(&fx, keys[i], T0 + 30 * SEC));
    /* udp times out after 60 s idle: only the three left alone */
    assert_false(chain_feed(&fx, keys[1], T0 + 61 * SEC));
    assert_int_equal(fx.n_ended, 3);
    assert_int_equal(fx.ended[0], keys[0]);
    assert_int_equal(fx.ended[1], keys[5]);
    assert_int_equal(fx.ended[2], keys[9]);
    assert_int_equal(active_flows(&fx), 7);
    for (int i = 0; i < 10; i++)
        assert_int_equal(chain_feed(&fx, keys[i], T0 + 62 * SEC), i == 0 || i == 5 || i == 9);
    assert_int_equal(fa_flow_table_stats(fx.t)->flows_created, 13);
    assert_int_equal(active_flows(&fx), 10);
    fa_flow_table_free(fx.t);
}

/* A full table whose last flow makes a chain of twenty doubles its
 * buckets, to one per slot and no further, and keeps every flow. */
static void test_chain_growth_while_full(void **state)
{
    (void)state;
    chain_fx fx;
    chain_open(&fx, 64);
    uint32_t want = chain_hash(&fx, 3) & 31;
    uint32_t alike[20], others[44];
    keys_alike(&fx, 31, want, alike, 20);
    unsigned n = 0;
    for (uint32_t i = 1u << 20; n < 44; i++)
        if ((chain_hash(&fx, i) & 31) != want)
            others[n++] = i;
    for (int i = 0; i < 44; i++)
        assert_true(chain_feed(&fx, others[i], T0 + (uint64_t)i));
    for (int i = 0; i < 19; i++)
        assert_true(chain_feed(&fx, alike[i], T0 + 100 + (uint64_t)i));
    const fa_flow_stats *st = fa_flow_table_stats(fx.t);
    assert_int_equal(st->bucket_bytes, 32 * 4);
    assert_true(chain_feed(&fx, alike[19], T0 + 200));
    assert_int_equal(st->flows_active, 64);
    assert_int_equal(st->bucket_bytes, 64 * 4);
    assert_int_equal(fx.n_ended, 0);
    for (int i = 0; i < 20; i++)
        assert_false(chain_feed(&fx, alike[i], T0 + 300 + (uint64_t)i));
    for (int i = 0; i < 44; i++)
        assert_false(chain_feed(&fx, others[i], T0 + 400 + (uint64_t)i));
    assert_int_equal(st->flows_created, 64);
    assert_int_equal(st->bucket_bytes, 64 * 4);
    assert_int_equal(active_flows(&fx), 64);
    /* a chain of twenty at one bucket per slot: no further doubling,
     * though one would part these keys */
    uint32_t more[20];
    keys_alike(&fx, 63, chain_hash(&fx, 9) & 63, more, 20);
    for (int i = 0; i < 20; i++)
        chain_feed(&fx, more[i], T0 + 500 + (uint64_t)i);
    for (int i = 0; i < 20; i++)
        assert_false(chain_feed(&fx, more[i], T0 + 600 + (uint64_t)i));
    assert_int_equal(st->bucket_bytes, 64 * 4);
    /* emptied, it starts again from a quarter bucket per slot */
    fa_flow_table_flush(fx.t, FA_END_EOF);
    assert_true(chain_feed(&fx, alike[0], T0 + 700));
    assert_int_equal(st->bucket_bytes, 32 * 4);
    assert_false(chain_feed(&fx, alike[0], T0 + 701));
    fa_flow_table_free(fx.t);
}

/* At the cap a new flow evicts the least recently active one, wherever it
 * sits in its chain, and the rest of that chain stays found. */
static void test_chain_eviction_at_cap(void **state)
{
    (void)state;
    chain_fx fx;
    chain_open(&fx, 16);
    uint32_t keys[17];
    keys_alike(&fx, 31, chain_hash(&fx, 11) & 31, keys, 17);
    for (int i = 0; i < 16; i++)
        assert_true(chain_feed(&fx, keys[i], T0 + (uint64_t)i * SEC));
    /* keys[7] becomes the least recently active: the others move on */
    for (int i = 0; i < 16; i++)
        if (i != 7)
            assert_false(chain_feed(&fx, keys[i], T0 + 20 * SEC + (uint64_t)i * SEC));
    assert_true(chain_feed(&fx, keys[16], T0 + 40 * SEC));
    assert_int_equal(fx.n_ended, 1);
    assert_int_equal(fx.ended[0], keys[7]);
    assert_int_equal(fa_flow_table_stats(fx.t)->flows_ended[FA_END_EVICTED], 1);
    for (int i = 0; i < 17; i++)
        if (i != 7)
            assert_false(chain_feed(&fx, keys[i], T0 + 41 * SEC));
    /* keys[0] is now the oldest */
    assert_true(chain_feed(&fx, keys[7], T0 + 42 * SEC));
    assert_int_equal(fx.n_ended, 2);
    assert_int_equal(fx.ended[1], keys[0]);
    assert_int_equal(active_flows(&fx), 16);
    fa_flow_table_free(fx.t);
}

/* Keys that share one chain at every bucket count, as traffic aimed at a
 * known seed would: one doubling is tried and no more, bucket memory
 * stays bounded, lookups and eviction stay right. */
static void test_chain_hostile_keys(void **state)
{
    (void)state;
    chain_fx fx;
    chain_open(&fx, 256);
    enum { N = 300 };
    uint32_t keys[N];
    keys_alike(&fx, 255, chain_hash(&fx, 5) & 255, keys, N);
    for (int i = 0; i < N; i++)
        assert_true(chain_feed(&fx, keys[i], T0 + (uint64_t)i));
    const fa_flow_stats *st = fa_flow_table_stats(fx.t);
    assert_int_equal(st->bucket_bytes, 128 * 4); /* 64 buckets, doubled once */
    assert_int_equal(st->flows_active, 256);
    assert_int_equal(fx.n_ended, N - 256);
    for (unsigned i = 0; i < fx.n_ended; i++)
        assert_int_equal(fx.ended[i], keys[i]);
    for (int i = N - 256; i < N; i++)
        assert_false(chain_feed(&fx, keys[i], T0 + 1000 + (uint64_t)i));
    assert_int_equal(st->flows_created, N);
    assert_int_equal(st->bucket_bytes, 128 * 4);
    fa_flow_table_flush(fx.t, FA_END_EOF);
    assert_int_equal(fx.n_ended, N);
    for (unsigned i = N - 256; i < N; i++)
        assert_int_equal(fx.ended[i], keys[i]);
    assert_int_equal(active_flows(&fx), 0);
    fa_flow_table_free(fx.t);
}

typedef struct keyed_hash {
    uint32_t hashv, key;
} keyed_hash;

static int by_hash(const void *a, const void *b)
{
    const keyed_hash *x = a, *y = b;
    return x->hashv != y->hashv ? (x->hashv < y->hashv ? -1 : 1) : (x->key < y->key ? -1 : x->key > y->key);
}

/* Two keys with the same 32-bit hash (a birthday search over 2^19 keys
 * finds about 32 such pairs): told apart by the key itself. */
static void test_chain_same_hash(void **state)
{
    (void)state;
    chain_fx fx;
    chain_open(&fx, 64);
    enum { N = 1 << 19 };
    keyed_hash *h = malloc(N * sizeof *h);
    assert_non_null(h);
    for (uint32_t i = 0; i < N; i++)
        h[i] = (keyed_hash){chain_hash(&fx, i + 1), i + 1};
    qsort(h, N, sizeof *h, by_hash);
    uint32_t a = 0, b = 0;
    for (uint32_t i = 1; i < N && !a; i++)
        if (h[i].hashv == h[i - 1].hashv)
            a = h[i - 1].key, b = h[i].key;
    free(h);
    assert_true(a != 0);
    assert_true(chain_feed(&fx, a, T0));
    assert_true(chain_feed(&fx, b, T0 + 30 * SEC));
    assert_false(chain_feed(&fx, a, T0 + 31 * SEC));
    assert_false(chain_feed(&fx, b, T0 + 32 * SEC));
    /* a times out (idle 60 s), b stays */
    assert_false(chain_feed(&fx, b, T0 + 91 * SEC + SEC / 2));
    assert_int_equal(fx.n_ended, 1);
    assert_int_equal(fx.ended[0], a);
    assert_false(chain_feed(&fx, b, T0 + 92 * SEC));
    assert_true(chain_feed(&fx, a, T0 + 93 * SEC));
    assert_int_equal(active_flows(&fx), 2);
    fa_flow_table_free(fx.t);
}

/* ---- hints made ahead (the packet queue) ------------------------------- */

#define AHEAD_PACKETS 9

/* Two TCP connections on one 5-tuple (the second reuses it), a
 * fragmented UDP datagram and a ping, decoded in capture order. */
static void ahead_packets(fa_packet pkts[AHEAD_PACKETS], struct buf bufs[AHEAD_PACKETS])
{
    int n = 0;
    tcp4(&bufs[n++], "10.0.0.1", "10.0.0.2", 40000, 443, SYN, 100, 0, 0, 64, 1);
    udp_fragments(&bufs[n], &bufs[n + 1], "10.0.0.5", 0x4242);
    n += 2;
    tcp4(&bufs[n++], "10.0.0.2", "10.0.0.1", 443, 40000, SYN | ACK, 500, 101, 0, 64, 2);
    tcp4(&bufs[n++], "10.0.0.1", "10.0.0.2", 40000, 443, PSH | ACK, 101, 501, 30, 64, 3);
    tcp4(&bufs[n++], "10.0.0.1", "10.0.0.2", 40000, 443, FIN | ACK, 131, 501, 0, 64, 4);
    tcp4(&bufs[n++], "10.0.0.2", "10.0.0.1", 443, 40000, FIN | ACK, 501, 132, 0, 64, 5);
    tcp4(&bufs[n++], "10.0.0.1", "10.0.0.2", 40000, 443, SYN, 9000, 0, 0, 64, 6);
    buf_reset(&bufs[n]);
    size_t ip = pb_ipv4(&bufs[n], "10.0.0.1", "10.0.0.9", FA_PROTO_ICMP, 64, 7, 0, 0);
    pb_icmp(&bufs[n], 8, 0, 0x12340001);
    put_fill(&bufs[n], 'p', 56);
    pb_ipv4_done(&bufs[n++], ip);
    assert_int_equal(n, AHEAD_PACKETS);
    for (int i = 0; i < n; i++) {
        uint32_t len = (uint32_t)bufs[i].len;
        fa_decode_result r = fa_decode(DLT_RAW, bufs[i].d, len, len, &pkts[i]);
        assert_int_equal(r, FA_DEC_OK);
        pkts[i].ts_us = T0 + (uint64_t)i * 1000;
    }
}

/* Hints made for every packet before the first is processed, and the
 * records fetched at random moments, give the records a table without
 * hints gives: a hint stays right while earlier packets create, end and
 * replace flows. */
static void test_hints_made_ahead(void **state)
{
    table *plain = table_open(state, 16);
    table ahead = {0};
    fa_flow_config cfg;
    fa_flow_config_default(&cfg);
    ahead.t = fa_flow_table_new(&cfg, on_end, &ahead);
    assert_non_null(ahead.t);

    fa_packet pkts[AHEAD_PACKETS];
    struct buf bufs[AHEAD_PACKETS];
    fa_flow_hint hints[AHEAD_PACKETS];
    ahead_packets(pkts, bufs);
    for (int i = 0; i < AHEAD_PACKETS; i++)
        fa_flow_table_key(ahead.t, &pkts[i], &hints[i]);
    assert_false(hints[2].valid); /* the later fragment */
    for (int i = 0; i < AHEAD_PACKETS; i++) {
        int d1, d2;
        fa_flow_table_prefetch_bucket(ahead.t, &hints[(i + 5) % AHEAD_PACKETS]);
        fa_flow_table_prefetch(ahead.t, &hints[(i + 3) % AHEAD_PACKETS]);
        fa_flow *f1 = fa_flow_table_packet(plain->t, &pkts[i], &d1);
        fa_flow *f2 = fa_flow_table_packet_hinted(ahead.t, &pkts[i], &hints[i], &d2);
        assert_non_null(f1);
        assert_non_null(f2);
        /* Right after its packet a flow heads its chain (chains take new
         * flows at the head, and a found one is the only one here). */
        if (hints[i].valid)
            assert_ptr_equal(fa_flow_table_chain_head(ahead.t, &hints[i]), f2);
        assert_int_equal(d1, d2);
        assert_memory_equal(&f1->key, &f2->key, sizeof f1->key);
    }
    fa_flow_table_flush(plain->t, FA_END_EOF);
    fa_flow_table_flush(ahead.t, FA_END_EOF);
    assert_int_equal(plain->n_ended, 4);
    assert_int_equal(ahead.n_ended, plain->n_ended);
    for (int i = 0; i < plain->n_ended; i++) {
        const fa_flow *a = &plain->done[i].flow, *b = &ahead.done[i].flow;
        assert_memory_equal(&a->key, &b->key, sizeof a->key);
        assert_string_equal(plain->done[i].state, ahead.done[i].state);
        assert_string_equal(a->history, b->history);
        assert_int_equal(a->dir[0].pkts, b->dir[0].pkts);
        assert_int_equal(a->dir[1].pkts, b->dir[1].pkts);
        assert_int_equal(a->dir[0].ip_bytes, b->dir[0].ip_bytes);
        assert_int_equal(a->end_reason, b->end_reason);
    }
    assert_int_equal(ahead.done[0].flow.end_reason, FA_END_FIN); /* ended by the reuse */
    fa_flow_table_free(ahead.t);
}

/* ---- reset ------------------------------------------------------------ */

/* What a reset must forget: a first fragment, a connection ended while
 * open (its sequence numbers kept for a resumption), flows still active
 * in a full table, and packet time hours ahead of what follows. */
static void leave_traces(table *tb)
{
    struct buf first, later;
    udp_fragments(&first, &later, "10.0.0.1", 0x7777);
    feed(tb, &first, T0, NULL);
    handshake(tb, T0, 40000);
    fa_flow_table_expire(tb->t, T0 + 8000 * SEC);
    for (uint16_t port = 50000; port < 50006; port++)
        udp_at(tb, T0 + 8000 * SEC, "10.0.0.5", "10.0.0.6", port, 53, NULL);
}

/* A later fragment and a mid-stream segment that the traces would
 * explain, then enough flows to evict; *slots gets each flow's slot. */
static void run_after(table *tb, uint32_t slots[8])
{
    struct buf first, later;
    udp_fragments(&first, &later, "10.0.0.1", 0x7777);
    assert_null(feed(tb, &later, T0 + 10, NULL));
    int n = 0;
    fa_flow *f = tcp_at(tb, T0 + 20, "10.0.0.1", "10.0.0.2", 40000, 443, ACK, 101, 501, NULL);
    slots[n++] = fa_flow_table_index(tb->t, f);
    for (uint16_t port = 60000; port < 60005; port++) {
        f = udp_at(tb, T0 + 30 + port, "10.0.0.7", "10.0.0.8", port, 53, NULL);
        slots[n++] = fa_flow_table_index(tb->t, f);
    }
    handshake(tb, T0 + 100 * SEC, 40001);
    slots[n++] = fa_flow_table_index(tb->t, tcp_at(tb, T0 + 101 * SEC, "10.0.0.1", "10.0.0.2", 40001, 443,
                                                   FIN | ACK, 101, 501, NULL));
    slots[n] = UINT32_MAX;
    fa_flow_table_flush(tb->t, FA_END_EOF);
}

/* A reset table gives a new table's records, slot numbers and counters,
 * whatever it held before; flows it drops are not passed to the callback. */
static void test_reset_is_new(void **state)
{
    table *reused = table_open(state, 4);
    table fresh = {0};
    fa_flow_config cfg;
    fa_flow_config_default(&cfg);
    cfg.max_flows = 4;
    fresh.t = fa_flow_table_new(&cfg, on_end, &fresh);
    assert_non_null(fresh.t);

    leave_traces(reused);
    int ended_before = reused->n_ended;
    assert_int_equal(stats(reused)->flows_active, 4);
    fa_flow_table_reset(reused->t);
    assert_int_equal(reused->n_ended, ended_before);
    reused->n_ended = 0;

    uint32_t slots_fresh[8], slots_reused[8];
    run_after(&fresh, slots_fresh);
    run_after(reused, slots_reused);
    assert_memory_equal(slots_reused, slots_fresh, sizeof slots_fresh);
    assert_memory_equal(stats(reused), fa_flow_table_stats(fresh.t), sizeof(fa_flow_stats));
    assert_int_equal(stats(reused)->fragments_unattributed, 1);
    assert_int_equal(stats(reused)->flows_continued, 0);
    assert_int_equal(reused->n_ended, fresh.n_ended);
    for (int i = 0; i < fresh.n_ended; i++) {
        const fa_flow *a = &fresh.done[i].flow, *b = &reused->done[i].flow;
        assert_memory_equal(&a->key, &b->key, sizeof a->key);
        assert_string_equal(fresh.done[i].state, reused->done[i].state);
        assert_string_equal(a->history, b->history);
        assert_int_equal(a->bits, b->bits);
        assert_int_equal(a->first_us, b->first_us);
        assert_int_equal(a->last_us, b->last_us);
        assert_int_equal(a->dir[0].pkts, b->dir[0].pkts);
        assert_int_equal(a->dir[1].pkts, b->dir[1].pkts);
        assert_int_equal(a->end_reason, b->end_reason);
    }
    fa_flow_table_free(fresh.t);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flow_record_size),
        cmocka_unit_test(test_timeout_names),
        T(test_canonical_key),
        T(test_udp_roles),
        T(test_max_flows_eviction),
        T(test_eviction_is_lru),
        T(test_idle_expiry_by_class),
        T(test_expiry_driven_by_packets),
        T(test_closed_and_half_closed),
        T(test_flush_at_eof),
        T(test_duplicate_frame),
        T(test_identical_frame_later_is_no_duplicate),
        T(test_resumed_connection_is_continued),
        T(test_icmp_error_attribution),
        T(test_icmp_error_claimed),
        T(test_icmp_error_about_ping),
        T(test_fragment_attribution),
        T(test_hints_made_ahead),
        cmocka_unit_test(test_buckets_not_doubled_by_churn),
        cmocka_unit_test(test_chain_collisions),
        cmocka_unit_test(test_chain_delete_middle),
        cmocka_unit_test(test_chain_growth_while_full),
        cmocka_unit_test(test_chain_eviction_at_cap),
        cmocka_unit_test(test_chain_hostile_keys),
        cmocka_unit_test(test_chain_same_hash),
        T(test_icmp_fragment_attribution),
        T(test_ttl_and_bytes),
        T(test_reset_is_new),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
