/* test_ws_detect.c - WebSocket lifecycle tracking and kill classification,
 * driven with crafted packet sequences through a real flow table: one test
 * per ending (clean, forged RST, RSTs both ways, endpoint RST, black hole,
 * idle close, endpoint close, still open, failed upgrade), idle closes
 * under any timeout told from endpoint closes, the idle time before a RST,
 * the first RST judged, keep-alive pings, handshakes split, coalesced or
 * retransmitted, sequence wrap, sessions on rule-marked ports, TLS hellos
 * split across segments, the idle timeout estimates per group of kills,
 * and a reset detector behaving as a new one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow_table.h"
#include "portset.h"
#include "ws_detect.h"

#define FIN FA_TH_FIN
#define SYN FA_TH_SYN
#define RST FA_TH_RST
#define PSH FA_TH_PSH
#define ACK FA_TH_ACK

#define C 0 /* client: the originator */
#define S 1 /* server */

#define MAX_RECS 8
#define SEC 1000000ull

#define REQUEST                                       \
    "GET /ws?room=7 HTTP/1.1\r\n"                     \
    "Host: chat.example.org:8765\r\n"                 \
    "Upgrade: websocket\r\n"                          \
    "Connection: Upgrade\r\n"                         \
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" \
    "Sec-WebSocket-Version: 13\r\n"                   \
    "\r\n"

#define RESPONSE                                           \
    "HTTP/1.1 101 Switching Protocols\r\n"                 \
    "Upgrade: websocket\r\n"                               \
    "Connection: Upgrade\r\n"                              \
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" \
    "\r\n"

/* One detector on one flow table, and the session records it returned. */
typedef struct sim {
    fa_flow_table *t;
    fa_ws *ws;
    bool rule_ws;
    uint64_t now;
    fa_addr addr[2];
    uint16_t port[2];
    uint32_t next[2];   /* next sequence number each side sends */
    uint8_t ttl[2];
    uint16_t ip_id[2];
    uint32_t frames;
    int nrec;
    json_t *rec[MAX_RECS];
} sim;

static void on_end(fa_flow *f, void *ctx)
{
    sim *s = ctx;
    fa_ws_session session;
    if (!fa_ws_flow_end(s->ws, f, s->rule_ws, false, &session))
        return;
    /* Checked through the record the writer makes of the facts. */
    json_t *rec = fa_ws_session_json(&session);
    assert_non_null(rec);
    if (s->nrec == MAX_RECS)
        fail_msg("more sessions than expected");
    s->rec[s->nrec++] = rec;
}

static fa_addr parse(const char *text)
{
    fa_cidr c;
    assert_int_equal(fa_cidr_parse(text, &c), 0);
    return c.net;
}

/* min_idle_s: the --ws-min-idle floor, 0 for the default.
 * longlived: responder ports of websocket / long-lived rules, or NULL. */
static sim *sim_new_ports(double min_idle_s, const char *longlived)
{
    sim *s = calloc(1, sizeof *s);
    assert_non_null(s);
    fa_flow_config fcfg;
    fa_flow_config_default(&fcfg);
    fcfg.max_flows = 64;
    s->t = fa_flow_table_new(&fcfg, on_end, s);
    fa_ws_config wcfg;
    fa_ws_config_default(&wcfg);
    if (min_idle_s > 0)
        wcfg.min_idle_s = min_idle_s;
    if (longlived) {
        fa_portset ps;
        const char *why = NULL;
        assert_int_equal(fa_portset_parse(longlived, &ps, &why), 0);
        fa_ws_config_add_ports(&wcfg, &ps);
    }
    s->ws = fa_ws_new(&wcfg);
    assert_non_null(s->t);
    assert_non_null(s->ws);
    s->now = 1700000000 * SEC;
    s->addr[C] = parse("198.51.100.10");
    s->addr[S] = parse("192.0.2.10");
    s->port[C] = 40001;
    s->port[S] = 8765;
    s->ttl[C] = 64;
    s->ttl[S] = 63;
    s->ip_id[C] = 1000;
    s->ip_id[S] = 5000;
    return s;
}

static sim *sim_new(double min_idle_s)
{
    return sim_new_ports(min_idle_s, NULL);
}

static void sim_free(sim *s)
{
    for (int i = 0; i < s->nrec; i++)
        json_decref(s->rec[i]);
    fa_flow_table_free(s->t);
    fa_ws_free(s->ws);
    free(s);
}

static void wait_us(sim *s, uint64_t us)
{
    s->now += us;
}

/* Sends one segment from side d with an explicit sequence number and TTL;
 * ACK segments acknowledge everything the peer has sent. */
static void send_raw(sim *s, int d, uint8_t flags, uint32_t seq, const void *data, size_t len, uint8_t ttl)
{
    fa_packet p;
    memset(&p, 0, sizeof p);
    p.ts_us = s->now;
    p.ipver = 4;
    p.proto = FA_PROTO_TCP;
    p.ttl = ttl;
    /* Forged RSTs carry an IP id of their own; an endpoint's are next in line. */
    p.ip_id = ttl == s->ttl[d] ? s->ip_id[d]++ : 0;
    p.src = s->addr[d];
    p.dst = s->addr[1 - d];
    p.has_ports = true;
    p.sport = s->port[d];
    p.dport = s->port[1 - d];
    p.tcp_flags = flags;
    p.seq = seq;
    p.ack = (flags & ACK) ? s->next[1 - d] : 0;
    p.window = 65535;
    p.payload = data;
    p.payload_caplen = p.payload_len = (uint32_t)len;
    p.ip_len = 40 + (uint32_t)len;
    p.caplen = p.wirelen = 14 + p.ip_len;
    p.frame_hash = ++s->frames * 2654435761u;
    int dir = -1;
    fa_flow *f = fa_flow_table_packet(s->t, &p, &dir);
    assert_non_null(f);
    assert_int_equal(dir, d);
    fa_ws_packet(s->ws, f, dir, &p);
}

static void send_seg(sim *s, int d, uint8_t flags, const void *data, size_t len)
{
    send_raw(s, d, flags, s->next[d], data, len, s->ttl[d]);
    s->next[d] += (uint32_t)len + ((flags & SYN) ? 1 : 0) + ((flags & FIN) ? 1 : 0);
}

static void send_ack(sim *s, int d)
{
    send_seg(s, d, ACK, NULL, 0);
}

static void send_text(sim *s, int d, const char *text)
{
    send_seg(s, d, PSH | ACK, text, strlen(text));
}

/* A new connection from client port cport with the given initial
 * sequence numbers: three-way handshake. */
static void connect_isn(sim *s, uint16_t cport, uint32_t cisn, uint32_t sisn)
{
    s->port[C] = cport;
    s->next[C] = cisn;
    s->next[S] = sisn;
    send_seg(s, C, SYN, NULL, 0);
    wait_us(s, 100);
    send_seg(s, S, SYN | ACK, NULL, 0);
    wait_us(s, 100);
    send_ack(s, C);
    wait_us(s, 1000);
}

static void connect_from(sim *s, uint16_t cport)
{
    connect_isn(s, cport, 1000000u + cport, 7000000u + cport);
}

static void upgrade(sim *s)
{
    send_text(s, C, REQUEST);
    wait_us(s, 200);
    send_ack(s, S);
    wait_us(s, 800);
    send_text(s, S, RESPONSE);
    wait_us(s, 100);
    send_ack(s, C);
    wait_us(s, 1000);
}

static const uint8_t mask_key[4] = {0x11, 0x22, 0x33, 0x44};

/* A frame as side d sends it (the client masks). Returns its length. */
static size_t ws_frame(uint8_t *out, int d, uint8_t b0, const void *payload, size_t n)
{
    size_t k = 0;
    out[k++] = b0;
    out[k++] = (uint8_t)((d == C ? 0x80 : 0) | n);
    assert_true(n < 126);
    if (d == C) {
        memcpy(out + k, mask_key, 4);
        k += 4;
    }
    for (size_t i = 0; i < n; i++)
        out[k + i] = (uint8_t)(((const uint8_t *)payload)[i] ^ (d == C ? mask_key[i % 4] : 0));
    return k + n;
}

/* Side d sends one frame; the peer acknowledges it 0.5 ms later. */
static void frame_acked(sim *s, int d, uint8_t b0, const void *payload, size_t n)
{
    uint8_t b[200];
    send_seg(s, d, PSH | ACK, b, ws_frame(b, d, b0, payload, n));
    wait_us(s, 500);
    send_ack(s, 1 - d);
    wait_us(s, 500);
}

static void message(sim *s, int d, const char *text)
{
    frame_acked(s, d, 0x81, text, strlen(text));
}

static void close_frame(sim *s, int d, uint16_t code)
{
    const uint8_t payload[] = {(uint8_t)(code >> 8), (uint8_t)code, 'b', 'y', 'e'};
    frame_acked(s, d, 0x88, payload, sizeof payload);
}

/* Server greets, client sends, server echoes; the last data is 1 ms old
 * when this returns. */
static void chat(sim *s)
{
    message(s, S, "hello from server");
    wait_us(s, 100000);
    message(s, C, "message 1");
    message(s, S, "echo: message 1");
}

/* A WebSocket from client port 40001 that chats, then is quiet for
 * idle_us. */
static void quiet_session(sim *s, uint64_t idle_us)
{
    connect_from(s, 40001);
    upgrade(s);
    chat(s);
    wait_us(s, idle_us);
}

static void fin_exchange(sim *s, int first)
{
    send_seg(s, first, FIN | ACK, NULL, 0);
    wait_us(s, 300);
    send_seg(s, 1 - first, FIN | ACK, NULL, 0);
    wait_us(s, 300);
    send_ack(s, first);
}

/* Ends the capture and returns the one session record. */
static json_t *only_session(sim *s)
{
    fa_flow_table_flush(s->t, FA_END_EOF);
    if (s->nrec != 1)
        fail_msg("%d session records, expected 1", s->nrec);
    return s->rec[0];
}

static const char *jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        fail_msg("%s is not a string", key);
    return json_string_value(v);
}

static double jnum(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        fail_msg("%s is not a number", key);
    return json_number_value(v);
}

static bool jnull(const json_t *o, const char *key)
{
    return json_is_null(json_object_get(o, key));
}

static void expect_ending(const json_t *rec, const char *ending, const char *side)
{
    if (strcmp(jstr(rec, "ending"), ending) != 0)
        fail_msg("ending %s, expected %s (evidence: %s)", jstr(rec, "ending"), ending, jstr(rec, "evidence"));
    if (side)
        assert_string_equal(jstr(rec, "side"), side);
    else
        assert_true(jnull(rec, "side"));
    bool kill = strncmp(ending, "killed_", 7) == 0;
    assert_int_equal(json_is_true(json_object_get(rec, "killed")), kill);
}

static void expect_idle(const json_t *rec, double seconds)
{
    double got = jnum(rec, "idle_before_end");
    if (got < seconds - 0.01 || got > seconds + 0.01)
        fail_msg("idle_before_end %.3f, expected %.3f", got, seconds);
}

static json_t *summary_json(const fa_ws *ws);
static const json_t *estimate_for(const json_t *summary, const char *ending, const char *server_net);
static void expect_estimate(const json_t *e, double seconds, const char *is, int kills, int clustered);
static bool has_hint(const json_t *estimate, double seconds);

static void test_clean_close(void **state)
{
    (void)state;
    sim *s = sim_new(30);
    connect_from(s, 40001);
    upgrade(s);
    chat(s);
    close_frame(s, C, 1000);
    close_frame(s, S, 1001);
    fin_exchange(s, S);
    json_t *rec = only_session(s);
    expect_ending(rec, "clean", NULL);
    assert_string_equal(jstr(rec, "kind"), "websocket");
    assert_string_equal(jstr(rec, "confidence"), "high");
    assert_string_equal(jstr(rec, "client_h"), "198.51.100.10");
    assert_string_equal(jstr(rec, "server_h"), "192.0.2.10");
    assert_int_equal(jnum(rec, "client_p"), 40001);
    assert_int_equal(jnum(rec, "server_p"), 8765);
    assert_string_equal(jstr(rec, "http_host"), "chat.example.org:8765");
    assert_string_equal(jstr(rec, "http_path"), "/ws?room=7");
    assert_int_equal(jnum(rec, "http_status"), 101);
    assert_int_equal(jnum(rec, "client_close_code"), 1000);
    assert_int_equal(jnum(rec, "server_close_code"), 1001);
    assert_int_equal(jnum(rec, "client_messages"), 1);
    assert_int_equal(jnum(rec, "server_messages"), 2);
    assert_false(json_is_true(json_object_get(rec, "client_frames_unparsed")));
    assert_string_equal(jstr(rec, "evidence"), "close codes 1000/1001");
    assert_int_equal(fa_ws_sessions(s->ws), 1);
    assert_int_equal(fa_ws_killed(s->ws), 0);
    sim_free(s);

    /* Zeek's broker capture: a close frame one way, then FINs. */
    s = sim_new(30);
    connect_from(s, 40001);
    upgrade(s);
    chat(s);
    close_frame(s, C, 1000);
    fin_exchange(s, C);
    rec = only_session(s);
    expect_ending(rec, "clean", NULL);
    assert_int_equal(jnum(rec, "client_close_code"), 1000);
    assert_true(jnull(rec, "server_close_code"));
    assert_string_equal(jstr(rec, "evidence"), "close codes 1000/-");
    sim_free(s);
}

/* The ws-rst-inject capture: after the idle, the client's data draws a
 * RST in the server's name whose TTL is not the server's. */
static void test_rst_forged(void **state)
{
    (void)state;
    sim *s = sim_new(30);
    connect_from(s, 40001);
    upgrade(s);
    chat(s);
    wait_us(s, 40 * SEC);
    uint8_t b[64];
    send_seg(s, C, PSH | ACK, b, ws_frame(b, C, 0x81, "after idle", 10));
    wait_us(s, 37);
    send_raw(s, S, RST, s->next[S], NULL, 0, 64);
    json_t *rec = only_session(s);
    expect_ending(rec, "killed_rst_injected", "server");
    expect_idle(rec, 40);
    assert_non_null(strstr(jstr(rec, "evidence"), "TTL 64"));
    assert_int_equal(fa_ws_killed(s->ws), 1);
    sim_free(s);
}

/* An injector resets both ends at once: both RSTs carry the endpoints'
 * own TTLs, but their timing gives them away. */
static void test_rst_both_ways(void **state)
{
    (void)state;
    sim *s = sim_new(30);
    connect_from(s, 40001);
    upgrade(s);
    chat(s);
    wait_us(s, 40 * SEC);
    send_raw(s, C, RST | ACK, s->next[C], NULL, 0, s->ttl[C]);
    wait_us(s, 400);
    send_raw(s, S, RST | ACK, s->next[S], NULL, 0, s->ttl[S]);
    json_t *rec = only_session(s);
    expect_ending(rec, "killed_rst_injected", "client");
    expect_idle(rec, 40);
    assert_non_null(strstr(jstr(rec, "evidence"), "both ends"));
    sim_free(s);

    /* 5 ms apart: not one injector. The first RST fits its sender, answers
     * no data and ends the longest silence: an idle timer's, judged as a
     * FIN would be. */
    s = sim_new(30);
    connect_from(s, 40001);
    upgrade(s);
    chat(s);
    wait_us(s, 40 * SEC);
    send_raw(s, C, RST | ACK, s->next[C], NULL, 0, s->ttl[C]);
    wait_us(s, 5000);
    send_raw(s, S, RST | ACK, s->next[S], NULL, 0, s->ttl[S]);
    json_t *idle = only_session(s);
    expect_ending(idle, "killed_idle_close", "client");
    assert_null(strstr(jstr(idle, "evidence"), "both ends"));
    sim_free(s);
}

static void test_rst_from_endpoint(void **state)
{
    (void)state;
    sim *s = sim_new(30);
    connect_from(s, 40001);
    upgrade(s);
    chat(s);
    wait_us(s, 2 * SEC);
    send_raw(s, S, RST | ACK, s->next[S], NULL, 0, s->ttl[S]);
    json_t *rec = only_session(s);
    expect_ending(rec, "closed_by_endpoint", "server");
    assert_non_null(strstr(jstr(rec, "evidence"), "matches"));
    assert_int_equal(fa_ws_killed(s->ws), 0);
    sim_free(s);

    /* With the default floor: the server resets in answer to data, as the
     * stack of a process that closed its socket does. */
    s = sim_new(0);
    quiet_session(s, 2 * SEC);
    uint8_t b[64];
    send_seg(s, C, PSH | ACK, b, ws_frame(b, C, 0x81, "anyone?", 7));
    wait_us(s, 100);
    send_raw(s, S, RST | ACK, s->next[S], NULL, 0, s->ttl[S]);
    rec = only_session(s);
    expect_ending(rec, "closed_by_endpoint", "server");
    expect_idle(rec, 2);
    sim_free(s);
}

/* The ws-blackhole capture: after the idle, the client's data is sent
 * again and again and never acknowledged. */
static void blackhole(sim *s, int retransmissions)
{
    connect_from(s, 40001);
    upgrade(s);
    chat(s);
    wait_us(s, 40 * SEC);
    uint8_t b[64];
    size_t n = ws_frame(b, C, 0x81, "after idle", 10);
    uint32_t seq = s->next[C];
    send_seg(s, C, PSH | ACK, b, n);
    uint64_t rto = 200000;
    for (int i = 0; i < retransmissions; i++) {
        wait_us(s, rto);
        rto *= 2;
        send_raw(s, C, PSH | ACK, seq, b, n, s->ttl[C]);
    }
}

static void test_black_hole(void **state)
{
    (void)state;
    sim *s = sim_new(30);
    blackhole(s, 7);
    json_t *rec = only_session(s);
    expect_ending(rec, "killed_black_hole", "client");
    expect_idle(rec, 40);
    assert_non_null(strstr(jstr(rec, "evidence"), "7 retransmissions"));
    assert_int_equal(jnum(rec, "client_messages"), 2);
    sim_free(s);

    /* Twice is enough. */
    s = sim_new(30);
    blackhole(s, 2);
    rec = only_session(s);
    expect_ending(rec, "killed_black_hole", "client");
    expect_idle(rec, 40);
    sim_free(s);

    /* Once is a lost packet, not a black hole. */
    s = sim_new(30);
    blackhole(s, 1);
    expect_ending(only_session(s), "still_open", NULL);
    sim_free(s);

    /* Acknowledged in the end: the path works. */
    s = sim_new(30);
    blackhole(s, 3);
    wait_us(s, 1000);
    send_ack(s, S);
    expect_ending(only_session(s), "still_open", NULL);
    sim_free(s);
}

/* A quiet session closed by FINs, side first's first; returns its record. */
static json_t *fin_after(sim *s, uint64_t idle_us, int first)
{
    quiet_session(s, idle_us);
    fin_exchange(s, first);
    return only_session(s);
}

/* The ws-nginx-idle capture: a proxy closes after its read timeout with a
 * FIN and no close frame. */
static void test_idle_close(void **state)
{
    (void)state;
    sim *s = sim_new(30);
    json_t *rec = fin_after(s, 45 * SEC, S);
    expect_ending(rec, "killed_idle_close", "server");
    expect_idle(rec, 45);
    assert_true(jnull(rec, "client_close_code"));
    assert_true(jnull(rec, "server_close_code"));
    sim_free(s);

    /* Under a floor set above the idle time: the endpoint closed. */
    s = sim_new(60);
    expect_ending(fin_after(s, 45 * SEC, S), "closed_by_endpoint", "server");
    sim_free(s);
}

static void test_fin_soon_after_data(void **state)
{
    (void)state;
    sim *s = sim_new(30);
    json_t *rec = fin_after(s, SEC, C);
    expect_ending(rec, "closed_by_endpoint", "client");
    expect_idle(rec, 1.0);
    sim_free(s);
}

/* A FIN stamped half a second before the last message (two span ports
 * merged, clocks apart): no silence came before it, however the times
 * subtract. */
static void test_fin_stamped_before_data(void **state)
{
    (void)state;
    sim *s = sim_new(30);
    connect_from(s, 40001);
    upgrade(s);
    chat(s);
    s->now -= SEC / 2;
    fin_exchange(s, C);
    json_t *rec = only_session(s);
    expect_ending(rec, "closed_by_endpoint", "client");
    expect_idle(rec, 0);
    sim_free(s);
}

/* Fresh data on the FIN itself: the endpoint was alive and chose to close,
 * however long the session had been quiet before. */
static void test_fin_with_data_after_idle(void **state)
{
    (void)state;
    sim *s = sim_new(30);
    connect_from(s, 40001);
    upgrade(s);
    chat(s);
    wait_us(s, 45 * SEC);
    uint8_t b[64];
    send_seg(s, S, FIN | PSH | ACK, b, ws_frame(b, S, 0x81, "goodbye", 7));
    wait_us(s, 300);
    send_seg(s, C, FIN | ACK, NULL, 0);
    wait_us(s, 300);
    send_ack(s, S);
    json_t *rec = only_session(s);
    expect_ending(rec, "closed_by_endpoint", "server");
    assert_int_equal(jnum(rec, "server_messages"), 3);
    sim_free(s);
}

/* The ws-nginx-idle-5s capture: a proxy with a 5 s read timeout. With the
 * default options its close is a kill: the FIN ends the longest silence
 * of the session, and 5 s is above the noise floor. */
static void test_idle_close_short_timeout(void **state)
{
    (void)state;
    sim *s = sim_new(0);
    json_t *rec = fin_after(s, 5 * SEC, S);
    expect_ending(rec, "killed_idle_close", "server");
    expect_idle(rec, 5);
    assert_int_equal(jnum(rec, "killer_ttl"), 63);
    assert_non_null(strstr(jstr(rec, "evidence"), "longest silence"));
    sim_free(s);

    /* The same 5 s, but the session had already been silent 10 s and
     * lived: no middlebox cuts at 5 s there, the endpoint closed. */
    s = sim_new(0);
    quiet_session(s, 10 * SEC);
    message(s, C, "message 2");
    message(s, S, "echo: message 2");
    wait_us(s, 5 * SEC);
    fin_exchange(s, S);
    rec = only_session(s);
    expect_ending(rec, "closed_by_endpoint", "server");
    expect_idle(rec, 5);
    assert_non_null(strstr(jstr(rec, "evidence"), "silent 10.0 s before"));
    sim_free(s);

    /* Under the noise floor: a FIN half a second after the last data. */
    s = sim_new(0);
    expect_ending(fin_after(s, SEC / 2, C), "closed_by_endpoint", "client");
    sim_free(s);
}

/* Azure Load Balancer's reset after its 4-minute idle timeout: no data
 * resumes, the RST itself ends the silence, and the idle time before it
 * is reported. A TTL that gives it away makes it a forged RST; one that
 * fits the server still makes it an idle timer's, since it answered no
 * data and ended the longest silence: an idle close, at the timeout. */
static void test_rst_after_idle(void **state)
{
    (void)state;
    for (int forged = 0; forged < 2; forged++) {
        sim *s = sim_new(0);
        quiet_session(s, 240 * SEC);
        send_raw(s, S, RST | ACK, s->next[S], NULL, 0, forged ? 64 : s->ttl[S]);
        json_t *rec = only_session(s);
        expect_ending(rec, forged ? "killed_rst_injected" : "killed_idle_close", "server");
        expect_idle(rec, 240);
        json_t *sum = summary_json(s->ws);
        const json_t *e = estimate_for(sum, jstr(rec, "ending"), "192.0.2.0/24");
        expect_estimate(e, 240, forged ? "upper_bound" : "approximate", 1, 1);
        assert_true(has_hint(e, 240));
        json_decref(sum);
        sim_free(s);
    }

    /* A forged RST the client ignored (its sequence number was off), then
     * more talk and a close: the RST's idle is the silence before it, not
     * what was left after the data that followed. */
    sim *s = sim_new(0);
    quiet_session(s, 240 * SEC);
    send_raw(s, S, RST, s->next[S] + 100000, NULL, 0, 64);
    wait_us(s, SEC);
    message(s, C, "still here");
    json_t *rec = only_session(s);
    expect_ending(rec, "killed_rst_injected", "server");
    expect_idle(rec, 240);
    assert_non_null(strstr(jstr(rec, "evidence"), "seq ACK+100000"));
    sim_free(s);
}

/* The ws-rst-endpoint-rst capture: a RST forged in the server's name
 * (TTL 64), then the server's own (TTL 63). The first is judged; both
 * are kept. */
static void test_first_rst_judged(void **state)
{
    (void)state;
    sim *s = sim_new(0);
    quiet_session(s, 3 * SEC);
    uint8_t b[64];
    send_seg(s, C, PSH | ACK, b, ws_frame(b, C, 0x81, "after idle", 10));
    wait_us(s, 40);
    send_raw(s, S, RST, s->next[S], NULL, 0, 64);
    wait_us(s, SEC);
    send_raw(s, S, RST | ACK, s->next[S], NULL, 0, s->ttl[S]);
    json_t *rec = only_session(s);
    expect_ending(rec, "killed_rst_injected", "server");
    expect_idle(rec, 3);
    assert_int_equal(jnum(rec, "killer_ttl"), 64);
    assert_int_equal(jnum(rec, "server_rsts"), 2);
    assert_int_equal(jnum(rec, "client_rsts"), 0);
    const json_t *first = json_object_get(rec, "server_rst_first"), *last = json_object_get(rec, "server_rst_last");
    assert_int_equal(jnum(first, "ttl"), 64);
    assert_int_equal(jnum(last, "ttl"), 63);
    assert_int_equal(jnum(first, "ip_id"), 0);
    assert_int_equal(jnum(first, "seq_vs_ack"), 0);
    assert_int_equal(jnum(last, "seq_vs_ack"), 0);
    assert_non_null(strstr(jstr(rec, "evidence"), "RST with TTL 64"));
    assert_non_null(strstr(jstr(rec, "evidence"), "2 RSTs, last TTL 63"));
    sim_free(s);

    /* The other way round: the endpoint reset first (in answer to data),
     * whatever came after. */
    s = sim_new(0);
    quiet_session(s, 3 * SEC);
    send_seg(s, C, PSH | ACK, b, ws_frame(b, C, 0x81, "after idle", 10));
    wait_us(s, 100);
    send_raw(s, S, RST | ACK, s->next[S], NULL, 0, s->ttl[S]);
    wait_us(s, SEC);
    send_raw(s, S, RST, s->next[S], NULL, 0, 64);
    rec = only_session(s);
    expect_ending(rec, "closed_by_endpoint", "server");
    assert_int_equal(jnum(json_object_get(rec, "server_rst_last"), "ttl"), 64);
    sim_free(s);
}

static void test_still_open(void **state)
{
    (void)state;
    sim *s = sim_new(30);
    connect_from(s, 40001);
    upgrade(s);
    chat(s);
    wait_us(s, 100 * SEC);
    json_t *rec = only_session(s);
    expect_ending(rec, "still_open", NULL);
    assert_string_equal(jstr(rec, "evidence"), "");
    sim_free(s);
}

static void test_failed_upgrade(void **state)
{
    (void)state;
    sim *s = sim_new(30);
    connect_from(s, 40001);
    send_text(s, C, REQUEST);
    wait_us(s, 500);
    send_text(s, S, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    wait_us(s, 500);
    send_ack(s, C);
    fin_exchange(s, S);
    json_t *rec = only_session(s);
    expect_ending(rec, "failed_upgrade", NULL);
    assert_int_equal(jnum(rec, "http_status"), 404);
    assert_non_null(strstr(jstr(rec, "evidence"), "404"));
    sim_free(s);

    /* No answer at all. */
    s = sim_new(30);
    connect_from(s, 40001);
    send_text(s, C, REQUEST);
    wait_us(s, 500);
    send_ack(s, S);
    rec = only_session(s);
    expect_ending(rec, "failed_upgrade", NULL);
    assert_true(jnull(rec, "http_status"));
    sim_free(s);
}

/* The ws-pings capture, longer: pings every second keep a quiet session
 * alive, so neither its clean close nor an endpoint's FIN is a kill. */
static void pings(sim *s, int count)
{
    connect_from(s, 40001);
    upgrade(s);
    message(s, C, "message 1");
    message(s, S, "echo: message 1");
    for (int i = 0; i < count; i++) {
        wait_us(s, SEC - 2000);
        uint8_t b[32];
        send_seg(s, C, PSH | ACK, b, ws_frame(b, C, 0x89, "\x01\x02\x03\x04", 4));
        wait_us(s, 300);
        send_seg(s, S, PSH | ACK, b, ws_frame(b, S, 0x8a, "\x01\x02\x03\x04", 4));
        wait_us(s, 300);
        send_ack(s, C);
    }
}

static void test_pings_keep_alive(void **state)
{
    (void)state;
    sim *s = sim_new(2);
    pings(s, 10);
    wait_us(s, 700000);
    close_frame(s, C, 1000);
    close_frame(s, S, 1000);
    fin_exchange(s, S);
    json_t *rec = only_session(s);
    expect_ending(rec, "clean", NULL);
    assert_int_equal(jnum(rec, "client_pings"), 10);
    assert_int_equal(jnum(rec, "server_pongs"), 10);
    assert_int_equal(jnum(rec, "client_messages"), 1);
    assert_true(jnum(rec, "duration") > 10);
    sim_free(s);

    s = sim_new(2);
    pings(s, 10);
    wait_us(s, SEC);
    fin_exchange(s, S);
    expect_ending(only_session(s), "closed_by_endpoint", "server");
    sim_free(s);
}

static void expect_upgraded(sim *s)
{
    chat(s);
    json_t *rec = only_session(s);
    expect_ending(rec, "still_open", NULL);
    assert_string_equal(jstr(rec, "http_host"), "chat.example.org:8765");
    assert_string_equal(jstr(rec, "http_path"), "/ws?room=7");
    assert_int_equal(jnum(rec, "http_status"), 101);
    assert_int_equal(jnum(rec, "client_messages"), 1);
    assert_int_equal(jnum(rec, "server_messages"), 2);
}

static void test_split_request(void **state)
{
    (void)state;
    const char *req = REQUEST;
    size_t len = strlen(req);
    sim *s = sim_new(30);
    connect_from(s, 40001);
    send_seg(s, C, ACK, req, 10);
    wait_us(s, 100);
    send_seg(s, C, ACK, req + 10, 40);
    wait_us(s, 100);
    send_seg(s, C, PSH | ACK, req + 50, len - 50);
    wait_us(s, 100);
    send_ack(s, S);
    send_text(s, S, RESPONSE);
    send_ack(s, C);
    expect_upgraded(s);
    sim_free(s);

    for (size_t cut = 1; cut < len; cut++) {
        s = sim_new(30);
        connect_from(s, 40001);
        send_seg(s, C, ACK, req, cut);
        wait_us(s, 100);
        send_seg(s, C, PSH | ACK, req + cut, len - cut);
        wait_us(s, 100);
        send_ack(s, S);
        send_text(s, S, RESPONSE);
        send_ack(s, C);
        expect_upgraded(s);
        sim_free(s);
    }
}

/* Zeek's reply-ping-coalesced capture: the server's first frame rides in
 * the segment that ends the 101 response, wherever that segment starts. */
static void test_first_frame_coalesced(void **state)
{
    (void)state;
    const char *resp = RESPONSE;
    size_t rlen = strlen(resp);
    uint8_t seg[512];
    memcpy(seg, resp, rlen);
    size_t n = rlen + ws_frame(seg + rlen, S, 0x89, "Zeek", 4);
    for (size_t cut = 0; cut < rlen; cut++) {
        sim *s = sim_new(30);
        connect_from(s, 40001);
        send_text(s, C, REQUEST);
        if (cut)
            send_seg(s, S, ACK, seg, cut);
        send_seg(s, S, PSH | ACK, seg + cut, n - cut);
        send_ack(s, C);
        frame_acked(s, C, 0x8a, "Zeek", 4);
        message(s, S, "Hello Zeek!");
        message(s, C, "Hello there!");
        close_frame(s, S, 1000);
        close_frame(s, C, 1000);
        fin_exchange(s, C);
        json_t *rec = only_session(s);
        expect_ending(rec, "clean", NULL);
        if (jnum(rec, "server_pings") != 1)
            fail_msg("101 split at %zu: server ping not counted", cut);
        assert_int_equal(jnum(rec, "client_pongs"), 1);
        assert_int_equal(jnum(rec, "server_messages"), 1);
        assert_int_equal(jnum(rec, "client_messages"), 1);
        assert_int_equal(jnum(rec, "server_close_code"), 1000);
        sim_free(s);
    }
}

/* Segments sent again (whole, or overlapping new data) are read once. */
static void test_retransmitted_segments(void **state)
{
    (void)state;
    sim *s = sim_new(30);
    connect_from(s, 40001);
    uint32_t req_seq = s->next[C];
    send_text(s, C, REQUEST);
    wait_us(s, 200000);
    send_raw(s, C, PSH | ACK, req_seq, REQUEST, strlen(REQUEST), s->ttl[C]);
    send_ack(s, S);
    uint32_t resp_seq = s->next[S];
    send_text(s, S, RESPONSE);
    wait_us(s, 200000);
    send_raw(s, S, PSH | ACK, resp_seq, RESPONSE, strlen(RESPONSE), s->ttl[S]);
    send_ack(s, C);

    uint8_t b[128];
    size_t a = ws_frame(b, C, 0x81, "first", 5);
    uint32_t seq = s->next[C];
    send_seg(s, C, PSH | ACK, b, a);
    wait_us(s, 200000);
    /* The retransmission carries the next frame too. */
    size_t both = a + ws_frame(b + a, C, 0x81, "second", 6);
    send_raw(s, C, PSH | ACK, seq, b, both, s->ttl[C]);
    s->next[C] = seq + (uint32_t)both;
    send_ack(s, S);
    message(s, S, "reply");
    json_t *rec = only_session(s);
    expect_ending(rec, "still_open", NULL);
    assert_string_equal(jstr(rec, "http_host"), "chat.example.org:8765");
    assert_int_equal(jnum(rec, "client_messages"), 2);
    assert_int_equal(jnum(rec, "server_messages"), 1);
    sim_free(s);
}

/* Sequence numbers wrap inside the handshake and the frames; a segment
 * half the sequence space away is neither new data nor a crash. */
static void test_sequence_edges(void **state)
{
    (void)state;
    sim *s = sim_new(30);
    connect_isn(s, 40001, 0xffffffc0u, 0xfffffff0u);
    upgrade(s);
    chat(s);
    uint8_t b[64];
    size_t n = ws_frame(b, C, 0x81, "far away", 8);
    send_raw(s, C, PSH | ACK, s->next[C] + 0x80000000u, b, n, s->ttl[C]);
    send_raw(s, C, PSH | ACK, s->next[C] + 0x7fffffffu, b, n, s->ttl[C]);
    send_ack(s, S);
    message(s, C, "message 2");
    close_frame(s, C, 1000);
    close_frame(s, S, 1000);
    fin_exchange(s, S);
    json_t *rec = only_session(s);
    assert_string_equal(jstr(rec, "http_host"), "chat.example.org:8765");
    assert_int_equal(jnum(rec, "server_messages"), 2);
    assert_int_equal(jnum(rec, "server_close_code"), 1000);
    sim_free(s);
}

/* On a port a rule marks websocket, the flow is followed from its SYN;
 * its first client bytes still show it is a WebSocket (or TLS). */
static void test_rule_port_websocket(void **state)
{
    (void)state;
    sim *s = sim_new_ports(30, "8765");
    connect_from(s, 40001);
    upgrade(s);
    chat(s);
    close_frame(s, C, 1000);
    close_frame(s, S, 1000);
    fin_exchange(s, S);
    json_t *rec = only_session(s);
    assert_string_equal(jstr(rec, "kind"), "websocket");
    assert_string_equal(jstr(rec, "http_host"), "chat.example.org:8765");
    expect_ending(rec, "clean", NULL);
    assert_int_equal(jnum(rec, "client_close_code"), 1000);
    sim_free(s);

    /* Anything else on such a port is a long-lived TCP session. */
    s = sim_new_ports(30, "8765");
    connect_from(s, 40001);
    send_text(s, C, "\x01\x02hello");
    send_text(s, S, "\x01\x02world");
    wait_us(s, 90 * SEC);
    fin_exchange(s, S);
    rec = only_session(s);
    assert_string_equal(jstr(rec, "kind"), "long-lived");
    expect_ending(rec, "killed_idle_close", "server");
    sim_free(s);
}

/* A header block longer than the handshake buffer is not followed. */
static void test_oversized_request(void **state)
{
    (void)state;
    sim *s = sim_new(30);
    connect_from(s, 40001);
    char req[3000];
    int n = snprintf(req, sizeof req, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nCookie: ");
    memset(req + n, 'c', sizeof req - (size_t)n);
    memcpy(req + sizeof req - 4, "\r\n\r\n", 4);
    send_seg(s, C, ACK, req, 1400);
    send_seg(s, C, PSH | ACK, req + 1400, sizeof req - 1400);
    send_ack(s, S);
    send_text(s, S, RESPONSE);
    send_ack(s, C);
    chat(s);
    fa_flow_table_flush(s->t, FA_END_EOF);
    assert_int_equal(s->nrec, 0);
    assert_int_equal(fa_ws_sessions(s->ws), 0);
    sim_free(s);
}

/* An ordinary HTTP request is not a candidate for long. */
static void test_plain_http_ignored(void **state)
{
    (void)state;
    sim *s = sim_new(30);
    connect_from(s, 40001);
    send_text(s, C, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    send_text(s, S, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    fin_exchange(s, C);
    fa_flow_table_flush(s->t, FA_END_EOF);
    assert_int_equal(s->nrec, 0);
    sim_free(s);
}

/* A minimal ClientHello carrying SNI and ALPN h2,http/1.1. */
static size_t client_hello(uint8_t *b, const char *sni)
{
    static const uint8_t alpn[] = {0, 16, 0, 14, 0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    size_t sn = strlen(sni), k = 0;
    const size_t sni_ext = 9 + sn, exts = sni_ext + sizeof alpn;
    const size_t body = 2 + 32 + 1 + 6 + 2 + 2 + exts;
    const uint8_t head[] = {22, 3, 1, (uint8_t)((body + 4) >> 8), (uint8_t)(body + 4), 1, 0,
                            (uint8_t)(body >> 8), (uint8_t)body, 3, 3};
    memcpy(b, head, sizeof head);
    k = sizeof head;
    memset(b + k, 0x5a, 32);
    k += 32;
    const uint8_t mid[] = {0, 0, 4, 0x13, 0x01, 0x13, 0x02, 1, 0, (uint8_t)(exts >> 8), (uint8_t)exts,
                           0, 0, (uint8_t)((sn + 5) >> 8), (uint8_t)(sn + 5), (uint8_t)((sn + 3) >> 8),
                           (uint8_t)(sn + 3), 0, (uint8_t)(sn >> 8), (uint8_t)sn};
    memcpy(b + k, mid, sizeof mid);
    k += sizeof mid;
    memcpy(b + k, sni, sn);
    k += sn;
    memcpy(b + k, alpn, sizeof alpn);
    return k + sizeof alpn;
}

/* A ClientHello split across two segments at any offset still names the
 * server; a TLS row marked websocket makes a session that lasted a minute
 * reportable. */
static void test_tls_hello_split(void **state)
{
    (void)state;
    uint8_t hello[256];
    size_t n = client_hello(hello, "chat.example.org");
    for (size_t cut = 0; cut < n; cut++) {
        sim *s = sim_new(30);
        s->rule_ws = true;
        s->port[S] = 443;
        connect_from(s, 40001);
        if (cut)
            send_seg(s, C, ACK, hello, cut);
        send_seg(s, C, PSH | ACK, hello + cut, n - cut);
        send_ack(s, S);
        send_seg(s, S, PSH | ACK, "\x16\x03\x03\x00\x02\x02\x00", 7);
        send_ack(s, C);
        wait_us(s, 61 * SEC);
        fin_exchange(s, C);
        json_t *rec = only_session(s);
        assert_string_equal(jstr(rec, "kind"), "tls");
        assert_string_equal(jstr(rec, "confidence"), "medium");
        if (strcmp(jstr(rec, "sni"), "chat.example.org") != 0)
            fail_msg("hello split at %zu: sni '%s'", cut, jstr(rec, "sni"));
        assert_string_equal(jstr(rec, "alpn"), "h2,http/1.1");
        expect_ending(rec, "clean", NULL);
        sim_free(s);
    }
}

/* TLS on a websocket row: a short session is not reported unless killed. */
static void test_tls_short(void **state)
{
    (void)state;
    uint8_t hello[256];
    size_t n = client_hello(hello, "chat.example.org");
    sim *s = sim_new(30);
    s->rule_ws = true;
    s->port[S] = 443;
    connect_from(s, 40001);
    send_seg(s, C, PSH | ACK, hello, n);
    send_seg(s, S, PSH | ACK, "\x16\x03\x03\x00\x02\x02\x00", 7);
    wait_us(s, SEC);
    fin_exchange(s, C);
    fa_flow_table_flush(s->t, FA_END_EOF);
    assert_int_equal(s->nrec, 0);
    sim_free(s);

    s = sim_new(30);
    s->rule_ws = true;
    s->port[S] = 443;
    connect_from(s, 40001);
    send_seg(s, C, PSH | ACK, hello, n);
    send_seg(s, S, PSH | ACK, "\x16\x03\x03\x00\x02\x02\x00", 7);
    send_ack(s, C);
    wait_us(s, 20 * SEC);
    send_seg(s, C, PSH | ACK, "\x17\x03\x03\x00\x01\x00", 6);
    wait_us(s, 40);
    send_raw(s, S, RST, s->next[S], NULL, 0, 64);
    json_t *rec = only_session(s);
    expect_ending(rec, "killed_rst_injected", "server");
    expect_idle(rec, 20);
    assert_string_equal(jstr(rec, "sni"), "chat.example.org");
    sim_free(s);
}

/* One idle-closed session on its own client port. */
static void idle_kill(sim *s, uint16_t cport, double idle_s)
{
    connect_from(s, cport);
    upgrade(s);
    chat(s);
    wait_us(s, (uint64_t)(idle_s * 1e6));
    fin_exchange(s, S);
    wait_us(s, 10 * SEC);
}

/* One session killed by a forged RST after idle_s of silence. */
static void rst_kill(sim *s, uint16_t cport, double idle_s)
{
    connect_from(s, cport);
    upgrade(s);
    chat(s);
    wait_us(s, (uint64_t)(idle_s * 1e6));
    uint8_t b[64];
    send_seg(s, C, PSH | ACK, b, ws_frame(b, C, 0x81, "after idle", 10));
    wait_us(s, 40);
    send_raw(s, S, RST, s->next[S], NULL, 0, 64);
    wait_us(s, 10 * SEC);
}

static json_t *summary_json(const fa_ws *ws)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(fa_ws_write_json(ws, f), 0);
    rewind(f);
    json_error_t err;
    json_t *o = json_loadf(f, 0, &err);
    fclose(f);
    if (!o)
        fail_msg("ws_summary is not JSON: %s", err.text);
    return o;
}

static char *summary_text(const fa_ws *ws, char *out, size_t cap)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(fa_ws_print_text(ws, f, false), 0);
    rewind(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    fclose(f);
    return out;
}

static bool has_hint(const json_t *estimate, double seconds)
{
    const json_t *hints = json_object_get(estimate, "hints"), *h;
    size_t i;
    json_array_foreach(hints, i, h)
        if (json_number_value(json_object_get(h, "seconds")) == seconds)
            return true;
    return false;
}

/* The summary's estimate for kills of that kind on the path to that
 * server network; fails when there is none, or more than one. */
static const json_t *estimate_for(const json_t *summary, const char *ending, const char *server_net)
{
    const json_t *all = json_object_get(summary, "timeout_estimates"), *e, *found = NULL;
    size_t i;
    json_array_foreach(all, i, e)
        if (strcmp(jstr(e, "ending"), ending) == 0 && strcmp(jstr(e, "server_net"), server_net) == 0) {
            if (found)
                fail_msg("two estimates for %s to %s", ending, server_net);
            found = e;
        }
    if (!found)
        fail_msg("no estimate for %s to %s", ending, server_net);
    return found;
}

static void expect_estimate(const json_t *e, double seconds, const char *is, int kills, int clustered)
{
    double got = jnum(e, "seconds");
    if (got < seconds - 0.1 || got > seconds + 0.1)
        fail_msg("estimate %.1f s, expected %.1f s", got, seconds);
    assert_string_equal(jstr(e, "is"), is);
    assert_int_equal(jnum(e, "kills"), kills);
    assert_int_equal(jnum(e, "clustered"), clustered);
}

/* Idle closes and a forged RST on one path: each kind has its estimate,
 * and the RST is not dropped because idle closes were seen. */
static void test_timeout_estimate(void **state)
{
    (void)state;
    char text[8192];
    sim *s = sim_new(0);
    idle_kill(s, 40001, 60.0);
    idle_kill(s, 40002, 59.5);
    idle_kill(s, 40003, 60.5);
    rst_kill(s, 40004, 300);
    fa_flow_table_flush(s->t, FA_END_EOF);
    assert_int_equal(fa_ws_killed(s->ws), 4);
    json_t *sum = summary_json(s->ws);
    assert_string_equal(jstr(sum, "type"), "ws_summary");
    assert_int_equal(jnum(sum, "sessions"), 4);
    assert_int_equal(jnum(sum, "killed_sessions"), 4);
    assert_int_equal(jnum(json_object_get(sum, "endings"), "killed_idle_close"), 3);
    assert_int_equal(jnum(json_object_get(sum, "endings"), "killed_rst_injected"), 1);
    assert_int_equal(json_array_size(json_object_get(sum, "timeout_estimates")), 2);
    const json_t *idle = estimate_for(sum, "killed_idle_close", "192.0.2.0/24");
    expect_estimate(idle, 60, "approximate", 3, 3);
    assert_string_equal(jstr(idle, "client_net"), "198.51.100.0/24");
    assert_string_equal(jstr(idle, "side"), "server");
    assert_int_equal(jnum(idle, "killer_ttl"), 63);
    assert_int_equal(jnum(idle, "killer_hops"), 1);
    assert_true(has_hint(idle, 60));
    assert_false(has_hint(idle, 300));
    const json_t *rst = estimate_for(sum, "killed_rst_injected", "192.0.2.0/24");
    expect_estimate(rst, 300, "upper_bound", 1, 1);
    assert_int_equal(jnum(rst, "killer_ttl"), 64);
    assert_int_equal(jnum(rst, "killer_hops"), 0);
    assert_true(has_hint(rst, 300));
    json_decref(sum);
    summary_text(s->ws, text, sizeof text);
    assert_non_null(strstr(text, "4 sessions: killed_rst_injected=1 killed_idle_close=3"));
    assert_non_null(strstr(text, "198.51.100.0/24 -> 192.0.2.0/24 server side, TTL 63 (1 hop), "
                                 "killed_idle_close: about 60.0 s (3 of 3 kills within 20%)"));
    assert_non_null(strstr(text, "TTL 64 (0 hops), killed_rst_injected: at most 300.0 s (1 of 1 kills"));
    assert_non_null(strstr(text, "hint: 60 s"));
    sim_free(s);

    /* Only kills noticed when traffic resumed: an upper bound. */
    s = sim_new(0);
    rst_kill(s, 40001, 250);
    rst_kill(s, 40002, 245);
    rst_kill(s, 40003, 600);
    fa_flow_table_flush(s->t, FA_END_EOF);
    sum = summary_json(s->ws);
    assert_int_equal(json_array_size(json_object_get(sum, "timeout_estimates")), 1);
    rst = estimate_for(sum, "killed_rst_injected", "192.0.2.0/24");
    expect_estimate(rst, 250, "upper_bound", 3, 2);
    assert_true(has_hint(rst, 240));
    assert_false(has_hint(rst, 60));
    json_decref(sum);
    summary_text(s->ws, text, sizeof text);
    assert_non_null(strstr(text, "at most 250.0 s (2 of 3 kills within 20%)"));
    sim_free(s);

    /* No kill, no estimate. */
    s = sim_new(0);
    connect_from(s, 40001);
    upgrade(s);
    chat(s);
    fa_flow_table_flush(s->t, FA_END_EOF);
    sum = summary_json(s->ws);
    assert_int_equal(json_array_size(json_object_get(sum, "timeout_estimates")), 0);
    json_decref(sum);
    sim_free(s);
}

/* Two middleboxes: a 5 s proxy in front of one network, a 60 s one in
 * front of another, and a black hole on the first path. One estimate each;
 * a single median over all of them would describe neither. */
static void test_timeout_estimate_per_path(void **state)
{
    (void)state;
    sim *s = sim_new(0);
    idle_kill(s, 40001, 5.0);
    idle_kill(s, 40002, 5.1);
    s->addr[S] = parse("203.0.113.10");
    idle_kill(s, 40003, 60.0);
    idle_kill(s, 40004, 60.2);
    idle_kill(s, 40005, 59.9);
    s->addr[S] = parse("192.0.2.10");
    blackhole(s, 3);
    fa_flow_table_flush(s->t, FA_END_EOF);
    json_t *sum = summary_json(s->ws);
    assert_int_equal(json_array_size(json_object_get(sum, "timeout_estimates")), 3);
    expect_estimate(estimate_for(sum, "killed_idle_close", "192.0.2.0/24"), 5.1, "approximate", 2, 2);
    expect_estimate(estimate_for(sum, "killed_idle_close", "203.0.113.0/24"), 60, "approximate", 3, 3);
    const json_t *bh = estimate_for(sum, "killed_black_hole", "192.0.2.0/24");
    expect_estimate(bh, 40, "upper_bound", 1, 1);
    assert_string_equal(jstr(bh, "side"), "client");
    assert_true(jnull(bh, "killer_ttl"));
    assert_int_equal(jnum(sum, "kills_not_grouped"), 0);
    json_decref(sum);
    sim_free(s);
}

/* ---- reset ------------------------------------------------------------ */

/* From a fixed start: a WebSocket killed by a forged RST after 40 s of
 * silence, then one closed cleanly, then the end of the capture. */
static void kill_and_close(sim *s)
{
    s->now = 1700000000 * SEC;
    s->frames = 0;
    s->ip_id[C] = s->ip_id[S] = 0;
    quiet_session(s, 40 * SEC);
    uint8_t b[64];
    send_seg(s, C, PSH | ACK, b, ws_frame(b, C, 0x81, "after idle", 10));
    wait_us(s, 37);
    send_raw(s, S, RST, s->next[S], NULL, 0, 64);
    connect_from(s, 40002);
    upgrade(s);
    chat(s);
    close_frame(s, C, 1000);
    close_frame(s, S, 1000);
    fin_exchange(s, S);
    fa_flow_table_flush(s->t, FA_END_EOF);
}

/* A detector reset (with its table) gives a new detector's session
 * records, report and summary, whatever it followed before: sessions
 * ended and kills counted, a handshake half collected, a session open. */
static void test_reset_is_new(void **state)
{
    (void)state;
    sim *fresh = sim_new(30), *reused = sim_new(30);
    kill_and_close(reused);
    connect_from(reused, 40003);
    send_seg(reused, C, PSH | ACK, REQUEST, 20);
    fa_flow_table_reset(reused->t);
    fa_ws_reset(reused->ws);
    for (int i = 0; i < reused->nrec; i++)
        json_decref(reused->rec[i]);
    reused->nrec = 0;

    kill_and_close(fresh);
    kill_and_close(reused);
    assert_int_equal(fresh->nrec, 2);
    assert_int_equal(reused->nrec, fresh->nrec);
    for (int i = 0; i < fresh->nrec; i++)
        assert_true(json_equal(reused->rec[i], fresh->rec[i]));
    json_t *sum_fresh = summary_json(fresh->ws), *sum_reused = summary_json(reused->ws);
    assert_true(json_equal(sum_reused, sum_fresh));
    json_decref(sum_fresh);
    json_decref(sum_reused);
    char text_fresh[8192], text_reused[8192];
    assert_string_equal(summary_text(reused->ws, text_reused, sizeof text_reused),
                        summary_text(fresh->ws, text_fresh, sizeof text_fresh));
    assert_int_equal(fa_ws_sessions(reused->ws), 2);
    assert_int_equal(fa_ws_killed(reused->ws), 1);
    sim_free(fresh);
    sim_free(reused);
}

/* The port bitmap holds exactly the ports of the sets added, whatever
 * their shape; never port 0. */
static void test_longlived_ports(void **state)
{
    (void)state;
    static const char *const sets[] = {"*", "-", "443", "1-3,65535", "80,443,8000-8100,49152-65535"};
    for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++) {
        fa_portset ps, other;
        const char *why = NULL;
        assert_int_equal(fa_portset_parse(sets[k], &ps, &why), 0);
        assert_int_equal(fa_portset_parse("22", &other, &why), 0);
        fa_ws_config cfg;
        fa_ws_config_default(&cfg);
        memset(cfg.longlived_ports, 0, sizeof cfg.longlived_ports);
        fa_ws_config_add_ports(&cfg, &ps);
        fa_ws_config_add_ports(&cfg, &other);
        assert_false(cfg.longlived_ports[0] & 1);
        for (uint32_t port = 1; port < 65536; port++) {
            bool set = cfg.longlived_ports[port / 8] & (1u << (port % 8));
            if (set != (fa_portset_contains(&ps, (uint16_t)port) || port == 22))
                fail_msg("%s: port %u %s", sets[k], port, set ? "set" : "not set");
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_longlived_ports),
        cmocka_unit_test(test_clean_close),
        cmocka_unit_test(test_rst_forged),
        cmocka_unit_test(test_rst_both_ways),
        cmocka_unit_test(test_rst_from_endpoint),
        cmocka_unit_test(test_black_hole),
        cmocka_unit_test(test_idle_close),
        cmocka_unit_test(test_fin_soon_after_data),
        cmocka_unit_test(test_fin_stamped_before_data),
        cmocka_unit_test(test_fin_with_data_after_idle),
        cmocka_unit_test(test_idle_close_short_timeout),
        cmocka_unit_test(test_rst_after_idle),
        cmocka_unit_test(test_first_rst_judged),
        cmocka_unit_test(test_still_open),
        cmocka_unit_test(test_failed_upgrade),
        cmocka_unit_test(test_pings_keep_alive),
        cmocka_unit_test(test_split_request),
        cmocka_unit_test(test_first_frame_coalesced),
        cmocka_unit_test(test_retransmitted_segments),
        cmocka_unit_test(test_sequence_edges),
        cmocka_unit_test(test_rule_port_websocket),
        cmocka_unit_test(test_oversized_request),
        cmocka_unit_test(test_plain_http_ignored),
        cmocka_unit_test(test_tls_hello_split),
        cmocka_unit_test(test_tls_short),
        cmocka_unit_test(test_timeout_estimate),
        cmocka_unit_test(test_timeout_estimate_per_path),
        cmocka_unit_test(test_reset_is_new),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
