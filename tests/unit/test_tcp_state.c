/* test_tcp_state.c - the TCP state machine through the flow table: each of
 * Zeek's conn_state values with its history, role flips, retransmission,
 * keep-alive, zero-window and odd-flag letters, and port reuse. The
 * expected strings are what Zeek writes to conn.log for the same packets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "flow_table.h"
#include "tcp_state.h"

#define CLIENT "10.0.0.1"
#define SERVER "10.0.0.2"
#define CPORT 40000
#define SPORT 443
#define CISN 1000u
#define SISN 5000u

#define FIN FA_TH_FIN
#define SYN FA_TH_SYN
#define RST FA_TH_RST
#define PSH FA_TH_PSH
#define ACK FA_TH_ACK

#define MAX_ENDED 8

typedef struct ended {
    fa_flow flow;
    char state[8];
} ended;

/* One table and the flows it has ended, as the end callback saw them. */
typedef struct conn {
    fa_flow_table *t;
    uint64_t ts;
    uint32_t frames;
    fa_addr client, server;
    int n_ended;
    ended done[MAX_ENDED];
} conn;

static void on_end(fa_flow *f, void *ctx)
{
    conn *c = ctx;
    if (c->n_ended == MAX_ENDED)
        fail_msg("more flows ended than expected");
    ended *e = &c->done[c->n_ended++];
    e->flow = *f;
    strncpy(e->state, fa_conn_state_name(fa_flow_conn_state(f)), sizeof e->state - 1);
    e->state[sizeof e->state - 1] = '\0';
}

static fa_addr parse(const char *text)
{
    fa_cidr c;
    assert_int_equal(fa_cidr_parse(text, &c), 0);
    return c.net;
}

static int setup(void **state)
{
    conn *c = calloc(1, sizeof *c);
    fa_flow_config cfg;
    fa_flow_config_default(&cfg);
    cfg.max_flows = 64;
    c->t = fa_flow_table_new(&cfg, on_end, c);
    if (!c->t)
        return -1;
    c->ts = 1700000000000000ull;
    c->client = parse(CLIENT);
    c->server = parse(SERVER);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    conn *c = *state;
    fa_flow_table_free(c->t);
    free(c);
    return 0;
}

/* Sends one TCP segment 1 ms after the previous one. from_client picks the
 * direction on the wire, whatever roles the table gives the endpoints. Each
 * segment is a distinct frame (its own hash) unless it is a span copy. */
static fa_flow *seg_win(conn *c, bool from_client, uint8_t flags, uint32_t seq, uint32_t ack,
                        uint32_t len, uint16_t win)
{
    fa_packet p;
    memset(&p, 0, sizeof p);
    c->ts += 1000;
    p.ts_us = c->ts;
    p.ipver = 4;
    p.proto = FA_PROTO_TCP;
    p.ttl = from_client ? 64 : 60;
    p.ip_len = 40 + len;
    p.src = from_client ? c->client : c->server;
    p.dst = from_client ? c->server : c->client;
    p.has_ports = true;
    p.sport = from_client ? CPORT : SPORT;
    p.dport = from_client ? SPORT : CPORT;
    p.tcp_flags = flags;
    p.seq = seq;
    p.ack = ack;
    p.window = win;
    p.payload_len = p.payload_caplen = len;
    p.frame_hash = 0x9e3779b9u * ++c->frames;
    int dir;
    fa_flow *f = fa_flow_table_packet(c->t, &p, &dir);
    assert_non_null(f);
    return f;
}

static fa_flow *seg(conn *c, bool from_client, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
    return seg_win(c, from_client, flags, seq, ack, len, 65535);
}

static void handshake(conn *c)
{
    seg(c, true, SYN, CISN, 0, 0);
    seg(c, false, SYN | ACK, SISN, CISN + 1, 0);
    seg(c, true, ACK, CISN + 1, SISN + 1, 0);
}

/* Ends every flow and checks the last one to end. */
static const ended *finish(conn *c, const char *state, const char *history)
{
    fa_flow_table_flush(c->t, FA_END_EOF);
    assert_true(c->n_ended > 0);
    const ended *e = &c->done[c->n_ended - 1];
    if (strcmp(e->state, state) != 0 || strcmp(e->flow.history, history) != 0)
        fail_msg("got %s \"%s\", expected %s \"%s\"", e->state, e->flow.history, state, history);
    return e;
}

/* The originator is the client unless the table flipped the roles. */
static void assert_orig_is(const fa_flow *f, const fa_addr *a, uint16_t port)
{
    assert_int_equal(fa_addr_cmp(fa_flow_addr(f, 0), a), 0);
    assert_int_equal(fa_flow_port(f, 0), port);
}

static void test_s0(void **state)
{
    conn *c = *state;
    seg(c, true, SYN, CISN, 0, 0);
    seg(c, true, SYN, CISN, 0, 0); /* the SYN retransmitted */
    const ended *e = finish(c, "S0", "S");
    assert_int_equal(e->flow.end_reason, FA_END_EOF);
    assert_int_equal(e->flow.dir[0].pkts, 2);
    assert_int_equal(e->flow.dir[1].pkts, 0);
}

static void test_s1(void **state)
{
    conn *c = *state;
    handshake(c);
    const ended *e = finish(c, "S1", "ShA");
    assert_orig_is(&e->flow, &c->client, CPORT);
}

static void test_sf(void **state)
{
    conn *c = *state;
    handshake(c);
    seg(c, true, PSH | ACK, CISN + 1, SISN + 1, 10);
    seg(c, false, PSH | ACK, SISN + 1, CISN + 11, 20);
    seg(c, true, FIN | ACK, CISN + 11, SISN + 21, 0);
    seg(c, false, FIN | ACK, SISN + 21, CISN + 12, 0);
    seg(c, true, ACK, CISN + 12, SISN + 22, 0);
    const ended *e = finish(c, "SF", "ShADdFf");
    assert_int_equal(e->flow.end_reason, FA_END_FIN);
    assert_int_equal(fa_flow_seq_bytes(&e->flow, 0), 10);
    assert_int_equal(fa_flow_seq_bytes(&e->flow, 1), 20);
    assert_int_equal(e->flow.dir[0].pkts, 5);
    assert_int_equal(e->flow.dir[1].pkts, 3);
}

static void test_rej(void **state)
{
    conn *c = *state;
    seg(c, true, SYN, CISN, 0, 0);
    seg(c, false, RST | ACK, 0, CISN + 1, 0);
    const ended *e = finish(c, "REJ", "Sr");
    assert_int_equal(e->flow.end_reason, FA_END_RST_RESP);
}

static void test_s2(void **state)
{
    conn *c = *state;
    handshake(c);
    seg(c, true, FIN | ACK, CISN + 1, SISN + 1, 0);
    finish(c, "S2", "ShAF");
}

static void test_s3(void **state)
{
    conn *c = *state;
    handshake(c);
    seg(c, false, FIN | ACK, SISN + 1, CISN + 1, 0);
    finish(c, "S3", "ShAf");
}

static void test_rsto(void **state)
{
    conn *c = *state;
    handshake(c);
    seg(c, true, RST, CISN + 1, 0, 0);
    const ended *e = finish(c, "RSTO", "ShAR");
    assert_int_equal(e->flow.end_reason, FA_END_RST_ORIG);
}

static void test_rstr(void **state)
{
    conn *c = *state;
    handshake(c);
    seg(c, true, PSH | ACK, CISN + 1, SISN + 1, 5);
    seg(c, false, RST, SISN + 1, 0, 0);
    const ended *e = finish(c, "RSTR", "ShADr");
    assert_int_equal(e->flow.end_reason, FA_END_RST_RESP);
}

static void test_rstos0(void **state)
{
    conn *c = *state;
    seg(c, true, SYN, CISN, 0, 0);
    seg(c, true, RST, CISN + 1, 0, 0);
    finish(c, "RSTOS0", "SR");
}

/* A SYN-ACK from a server port with no SYN seen: the table flips the roles
 * at once (Zeek's WantConnection), so the SYN-ACK is the responder's. */
static void test_rstrh(void **state)
{
    conn *c = *state;
    seg(c, false, SYN | ACK, SISN, CISN + 1, 0);
    seg(c, false, RST, SISN + 1, 0, 0);
    const ended *e = finish(c, "RSTRH", "^hr");
    assert_orig_is(&e->flow, &c->client, CPORT);
}

static void test_sh(void **state)
{
    conn *c = *state;
    seg(c, true, SYN, CISN, 0, 0);
    seg(c, true, FIN, CISN + 1, 0, 0);
    finish(c, "SH", "SF");
}

static void test_shr(void **state)
{
    conn *c = *state;
    seg(c, false, SYN | ACK, SISN, CISN + 1, 0);
    seg(c, false, FIN | ACK, SISN + 1, CISN + 1, 0);
    finish(c, "SHR", "^hf");
}

static void test_oth_midstream(void **state)
{
    conn *c = *state;
    seg(c, true, PSH | ACK, 777, 888, 10);
    seg(c, false, PSH | ACK, 888, 787, 10);
    const ended *e = finish(c, "OTH", "Dd");
    assert_orig_is(&e->flow, &c->client, CPORT);
    assert_int_equal(fa_flow_seq_bytes(&e->flow, 0), 10);
}

/* The capture starts at the SYN-ACK: flipped, then a whole conversation. */
static void test_midstream_syn_ack_flip(void **state)
{
    conn *c = *state;
    fa_flow *f = seg(c, false, SYN | ACK, SISN, CISN + 1, 0);
    assert_orig_is(f, &c->client, CPORT);
    seg(c, true, ACK, CISN + 1, SISN + 1, 0);
    seg(c, true, PSH | ACK, CISN + 1, SISN + 1, 10);
    seg(c, false, PSH | ACK, SISN + 1, CISN + 11, 30);
    seg(c, true, FIN | ACK, CISN + 11, SISN + 31, 0);
    seg(c, false, ACK, SISN + 31, CISN + 12, 0);
    seg(c, false, FIN | ACK, SISN + 31, CISN + 12, 0);
    seg(c, true, ACK, CISN + 12, SISN + 32, 0);
    const ended *e = finish(c, "SF", "^hADdFaf");
    assert_orig_is(&e->flow, &c->client, CPORT);
    assert_int_equal(e->flow.dir[0].pkts, 4);
    assert_int_equal(e->flow.dir[1].pkts, 4);
    assert_int_equal(fa_flow_seq_bytes(&e->flow, 1), 30);
}

static void test_retransmission(void **state)
{
    conn *c = *state;
    handshake(c);
    seg(c, true, PSH | ACK, CISN + 1, SISN + 1, 100);
    fa_flow *f = seg(c, true, PSH | ACK, CISN + 1, SISN + 1, 100);
    assert_int_equal(f->dir[0].retrans, 1);
    assert_int_equal(f->dir[0].keepalives, 0);
    seg(c, false, ACK, SISN + 1, CISN + 101, 0);
    const ended *e = finish(c, "S1", "ShADTa");
    assert_int_equal(e->flow.dir[0].retrans, 1);
    assert_int_equal(e->flow.dir[1].retrans, 0);
    assert_int_equal(fa_flow_seq_bytes(&e->flow, 0), 100);
}

/* Keep-alive probes re-send the byte before the next one: counted as
 * keep-alives, never as retransmitted data. */
static void test_keepalive(void **state)
{
    conn *c = *state;
    handshake(c);
    seg(c, true, PSH | ACK, CISN + 1, SISN + 1, 10);
    seg(c, false, ACK, SISN + 1, CISN + 11, 0);
    seg(c, true, ACK, CISN + 10, SISN + 1, 0);
    seg(c, false, ACK, SISN + 1, CISN + 11, 0);
    fa_flow *f = seg(c, true, ACK, CISN + 10, SISN + 1, 0);
    assert_int_equal(f->dir[0].keepalives, 2);
    assert_int_equal(f->dir[0].retrans, 0);
    const ended *e = finish(c, "S1", "ShADa");
    assert_int_equal(e->flow.dir[0].keepalives, 2);
    assert_int_equal(e->flow.dir[0].retrans, 0);
}

/* Windows probes with one garbage byte: Zeek logs that as a
 * retransmission ('T'), the retrans counter still leaves it out. */
static void test_keepalive_with_byte(void **state)
{
    conn *c = *state;
    handshake(c);
    seg(c, true, PSH | ACK, CISN + 1, SISN + 1, 10);
    seg(c, false, ACK, SISN + 1, CISN + 11, 0);
    fa_flow *f = seg(c, true, ACK, CISN + 10, SISN + 1, 1);
    assert_int_equal(f->dir[0].keepalives, 1);
    assert_int_equal(f->dir[0].retrans, 0);
    finish(c, "S1", "ShADaT");
}

static void test_zero_window(void **state)
{
    conn *c = *state;
    handshake(c);
    seg(c, true, PSH | ACK, CISN + 1, SISN + 1, 10);
    fa_flow *f = seg_win(c, false, ACK, SISN + 1, CISN + 11, 0, 0);
    assert_int_equal(f->dir[1].zero_windows, 1);
    seg_win(c, false, ACK, SISN + 1, CISN + 11, 0, 0);
    const ended *e = finish(c, "S1", "ShADaw");
    assert_int_equal(e->flow.dir[1].zero_windows, 2);
    assert_int_equal(e->flow.dir[0].zero_windows, 0);
}

static void test_fin_rst(void **state)
{
    conn *c = *state;
    handshake(c);
    seg(c, true, FIN | RST | ACK, CISN + 1, SISN + 1, 0);
    finish(c, "RSTO", "ShAI");
}

static void test_syn_fin(void **state)
{
    conn *c = *state;
    seg(c, true, SYN | FIN, CISN, 0, 0);
    finish(c, "SH", "Q");
}

/* A new SYN after a finished connection starts a new flow; the old one
 * ends with its own reason (the FIN exchange), counted once. */
static void test_port_reuse_after_fin(void **state)
{
    conn *c = *state;
    handshake(c);
    seg(c, true, FIN | ACK, CISN + 1, SISN + 1, 0);
    seg(c, false, FIN | ACK, SISN + 1, CISN + 2, 0);
    seg(c, true, ACK, CISN + 2, SISN + 2, 0);
    c->ts += 2000000;
    fa_flow *f = seg(c, true, SYN, 90000, 0, 0);
    assert_int_equal(c->n_ended, 1);
    const ended *first = &c->done[0];
    assert_string_equal(first->state, "SF");
    assert_string_equal(first->flow.history, "ShAFf");
    assert_true(first->flow.end_reason == FA_END_FIN || first->flow.end_reason == FA_END_REUSED);
    assert_string_equal(f->history, "S");
    assert_int_equal(f->dir[0].pkts, 1);
    assert_int_equal(f->dir[0].start_seq, 90000);
    const fa_flow_stats *st = fa_flow_table_stats(c->t);
    assert_int_equal(st->flows_created, 2);
    finish(c, "S0", "S");
    assert_int_equal(c->n_ended, 2);
}

static void test_port_reuse_after_reject(void **state)
{
    conn *c = *state;
    seg(c, true, SYN, CISN, 0, 0);
    seg(c, false, RST | ACK, 0, CISN + 1, 0);
    seg(c, true, SYN, CISN + 7777, 0, 0);
    assert_int_equal(c->n_ended, 1);
    assert_string_equal(c->done[0].state, "REJ");
    assert_int_equal(c->done[0].flow.end_reason, FA_END_RST_RESP);
    seg(c, false, SYN | ACK, SISN, CISN + 7778, 0);
    finish(c, "S1", "Sh");
}

/* A second segment in the same direction within the flow is no reuse. */
static void test_no_reuse_mid_connection(void **state)
{
    conn *c = *state;
    handshake(c);
    seg(c, true, PSH | ACK, CISN + 1, SISN + 1, 10);
    seg(c, true, SYN, CISN, 0, 0);
    assert_int_equal(c->n_ended, 0);
    assert_int_equal(fa_flow_table_stats(c->t)->flows_created, 1);
}

/* Zeek logs the 1st, 10th, 100th ... retransmission. */
static void test_retransmission_scaled(void **state)
{
    conn *c = *state;
    handshake(c);
    seg(c, true, PSH | ACK, CISN + 1, SISN + 1, 100);
    fa_flow *f = NULL;
    for (int i = 0; i < 10; i++)
        f = seg(c, true, PSH | ACK, CISN + 1, SISN + 1, 100);
    assert_int_equal(f->dir[0].retrans, 10);
    finish(c, "S1", "ShADTT");
}

static void test_repeated_rst_letters(void **state)
{
    conn *c = *state;
    handshake(c);
    seg(c, true, RST, CISN + 1, 0, 0);
    seg(c, true, RST, CISN + 501, 0, 0);
    seg(c, true, RST, CISN + 501, 0, 0);
    finish(c, "RSTO", "ShARR");
}

/* A FIN sent again after a RST at another sequence number: Zeek keeps
 * separate last-FIN and last-RST positions, so the repeat adds nothing.
 * (A path middlebox forging the client's RST produces exactly this.) */
static void test_fin_after_rst_letters(void **state)
{
    conn *c = *state;
    handshake(c);
    seg(c, true, FIN | ACK, CISN + 1, SISN + 1, 0);
    seg(c, true, RST, CISN + 2, 0, 0);
    seg(c, true, FIN | ACK, CISN + 1, SISN + 1, 0);
    finish(c, "RSTO", "ShAFR");
}

/* Some stacks ACK a SYN before answering it: no partial connection. */
static void test_ack_before_syn_ack(void **state)
{
    conn *c = *state;
    seg(c, true, SYN, CISN, 0, 0);
    seg(c, false, ACK, SISN, CISN + 1, 0);
    finish(c, "S0", "Sa");
}

/* A SYN with a new ISN while the first is unanswered is a new attempt
 * (Zeek's IsReuse: SYN_seq_jump). */
static void test_syn_new_isn_is_new_attempt(void **state)
{
    conn *c = *state;
    seg(c, true, SYN, CISN, 0, 0);
    seg(c, true, SYN, CISN + 100000, 0, 0);
    assert_int_equal(c->n_ended, 1);
    assert_string_equal(c->done[0].state, "S0");
    assert_string_equal(c->done[0].flow.history, "S");
    finish(c, "S0", "S");
    assert_int_equal(fa_flow_table_stats(c->t)->flows_created, 2);
}

/* The SYN-ACK seen before its SYN between two high ports (no port
 * heuristic applies): the SYN that matches it flips the roles. */
static void test_syn_ack_reversal(void **state)
{
    conn *c = *state;
    fa_packet p;
    memset(&p, 0, sizeof p);
    p.ts_us = c->ts;
    p.ipver = 4;
    p.proto = FA_PROTO_TCP;
    p.ttl = 64;
    p.ip_len = 40;
    p.has_ports = true;
    p.window = 1024;
    p.src = c->server;
    p.dst = c->client;
    p.sport = 40001;
    p.dport = CPORT;
    p.tcp_flags = SYN | ACK;
    p.seq = SISN;
    p.ack = CISN + 1;
    p.frame_hash = 1;
    int dir;
    assert_non_null(fa_flow_table_packet(c->t, &p, &dir));
    assert_int_equal(dir, 0);
    p.ts_us += 1000;
    p.src = c->client;
    p.dst = c->server;
    p.sport = CPORT;
    p.dport = 40001;
    p.tcp_flags = SYN;
    p.seq = CISN;
    p.ack = 0;
    p.frame_hash = 2;
    fa_flow *f = fa_flow_table_packet(c->t, &p, &dir);
    assert_non_null(f);
    assert_int_equal(dir, 0);
    const ended *e = finish(c, "S1", "Hs^");
    assert_orig_is(&e->flow, &c->client, CPORT);
    assert_int_equal(fa_flow_table_stats(c->t)->flows_created, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_s0),
        T(test_s1),
        T(test_sf),
        T(test_rej),
        T(test_s2),
        T(test_s3),
        T(test_rsto),
        T(test_rstr),
        T(test_rstos0),
        T(test_rstrh),
        T(test_sh),
        T(test_shr),
        T(test_oth_midstream),
        T(test_midstream_syn_ack_flip),
        T(test_retransmission),
        T(test_keepalive),
        T(test_keepalive_with_byte),
        T(test_zero_window),
        T(test_fin_rst),
        T(test_syn_fin),
        T(test_port_reuse_after_fin),
        T(test_port_reuse_after_reject),
        T(test_no_reuse_mid_connection),
        T(test_retransmission_scaled),
        T(test_repeated_rst_letters),
        T(test_fin_after_rst_letters),
        T(test_ack_before_syn_ack),
        T(test_syn_new_isn_is_new_attempt),
        T(test_syn_ack_reversal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
