/* test_run_parts.c - the run core's side of --workers, without a capture:
 * an ICMP error one part received is charged by the part holding the flow
 * it quotes, only once that part has seen as late a packet or a second
 * has passed; two parts ending flows at once write one stream whose seq
 * numbers run 0, 1, 2...; the summed counters count every flow once; with
 * -w the parts' flagged flows go to one file, the ICMP error with the
 * flow it refuses. Packets are built as bytes and handed to the parts in
 * batches, as the capture threads do. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_pktbuild.h"
#include "options.h"
#include "run_internal.h"

#define T0 1700000000000000ull
#define SEC 1000000ull
#define FLOWS_PER_THREAD 2000

typedef struct fixture {
    fa_options o;
    fa_run *run;
    char json[64];
    char pcap[64];
    char rules[512];
} fixture;

static int start(void **state, bool evidence)
{
    fixture *fx = calloc(1, sizeof *fx);
    snprintf(fx->json, sizeof fx->json, "/tmp/fa-parts-%d.ndjson", (int)getpid());
    snprintf(fx->pcap, sizeof fx->pcap, "/tmp/fa-parts-%d.pcap", (int)getpid());
    const char *src = getenv("FLOWAUDIT_SRC");
    snprintf(fx->rules, sizeof fx->rules, "%s/tests/integration/live/workers-rules", src ? src : ".");
    char *argv[] = {"flowaudit", "-q", "-i", "lo", "--workers", "2", "-j", fx->json,
                    "-w", fx->pcap, "--rules", fx->rules, NULL};
    char err[512];
    if (fa_options_parse(&fx->o, evidence ? 12 : 8, argv, err, sizeof err) != 0)
        fail_msg("%s", err);
    fx->run = fa_run_start(&fx->o, NULL, err, sizeof err);
    if (!fx->run)
        fail_msg("%s", err);
    assert_int_equal(fx->run->nparts, 2);
    *state = fx;
    return 0;
}

static int setup(void **state)
{
    return start(state, false);
}

/* -w, and the live test's rules: every flow here is flagged. */
static int setup_evidence(void **state)
{
    return start(state, true);
}

static int teardown(void **state)
{
    fixture *fx = *state;
    unlink(fx->json);
    unlink(fx->pcap);
    fa_options_free(&fx->o);
    free(fx);
    return 0;
}

static void finish(fixture *fx)
{
    fa_run_result res;
    char err[512];
    if (fa_run_finish(fx->run, 0, &res, err, sizeof err) != 0)
        fail_msg("%s", err);
}

static void syn(struct buf *b, const char *src, const char *dst, uint16_t sport, uint16_t dport)
{
    buf_reset(b);
    size_t ip = pb_ipv4(b, src, dst, FA_PROTO_TCP, 64, sport, 0x4000, 0);
    pb_tcp(b, sport, dport, 1, 0, FA_TH_SYN, 65535);
    pb_ipv4_done(b, ip);
}

/* An ICMP error from a router quoting the packet q. */
static void icmp_error(struct buf *b, const struct buf *q, uint8_t code)
{
    buf_reset(b);
    size_t ip = pb_ipv4(b, "198.51.100.1", "198.51.100.10", FA_PROTO_ICMP, 64, 7, 0, 0);
    pb_icmp(b, 3, code, 0);
    put_bytes(b, q->d, q->len < 28 ? q->len : 28);
    pb_ipv4_done(b, ip);
}

/* One frame handed to a part as its capture thread would. */
static void give(fa_run *part, const struct buf *b, uint64_t ts)
{
    assert_false(b->overflow);
    assert_true(fa_batch_add(part->batch, DLT_RAW, b->d, (uint32_t)b->len, (uint32_t)b->len, ts));
    fa_run_batch(part, part->batch, false);
    fa_batch_reset(part->batch);
}

static json_t *records(const fixture *fx, size_t *n)
{
    FILE *f = fopen(fx->json, "r");
    assert_non_null(f);
    json_t *all = json_array();
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        json_t *o = json_loads(line, 0, NULL);
        assert_non_null(o);
        json_array_append_new(all, o);
    }
    fclose(f);
    *n = json_array_size(all);
    return all;
}

static json_t *flow_to(json_t *all, int port)
{
    size_t i;
    json_t *o;
    json_array_foreach(all, i, o) {
        if (strcmp(json_string_value(json_object_get(o, "type")), "flow") == 0 &&
            json_integer_value(json_object_get(o, "id.resp_p")) == port)
            return o;
    }
    fail_msg("no flow to port %d", port);
    return NULL;
}

/* The SYNs went to part 0, their refusals to part 1. */
static void test_icmp_error_reaches_holder(void **state)
{
    fixture *fx = *state;
    fa_run *p0 = fx->run->parts[0], *p1 = fx->run->parts[1];
    struct buf q, e, other;
    syn(&q, "198.51.100.10", "192.0.2.10", 40000, 9300);
    give(p0, &q, T0);
    icmp_error(&e, &q, 3);
    give(p1, &e, T0 + 100);
    assert_int_equal(fa_flow_table_stats(p1->flows)->icmp_errors_unmatched, 1);
    assert_int_equal(p0->inbox->n, 1);

    /* part 0 has seen nothing as late, and less than a second passed */
    fa_run_part_tick(p0, T0 + 500000);
    assert_int_equal(p0->inbox->n, 1);
    /* a later packet of its own: every packet before it was read */
    syn(&other, "198.51.100.11", "192.0.2.10", 40001, 9001);
    give(p0, &other, T0 + 200);
    fa_run_part_tick(p0, T0 + 500000);
    assert_int_equal(p0->inbox->n, 0);
    assert_int_equal(p0->inbox->claimed, 1);

    /* a second refusal, with no later packet: charged once it is a second old */
    syn(&q, "198.51.100.10", "192.0.2.10", 40002, 9301);
    give(p0, &q, T0 + 300);
    icmp_error(&e, &q, 13);
    give(p1, &e, T0 + 10 * SEC);
    fa_run_part_tick(p0, T0 + 10 * SEC + 999999);
    assert_int_equal(p0->inbox->n, 1);
    fa_run_part_tick(p0, T0 + 11 * SEC);
    assert_int_equal(p0->inbox->claimed, 2);

    /* one that no part holds is charged by none, and stays unmatched */
    syn(&q, "198.51.100.12", "192.0.2.10", 40003, 9400);
    icmp_error(&e, &q, 3);
    give(p1, &e, T0 + 12 * SEC);
    finish(fx);

    size_t n;
    json_t *all = records(fx, &n);
    json_t *f = flow_to(all, 9300);
    assert_int_equal(json_integer_value(json_object_get(f, "icmp_errors")), 1);
    assert_int_equal(json_integer_value(json_object_get(f, "icmp_code")), 3);
    f = flow_to(all, 9301);
    assert_int_equal(json_integer_value(json_object_get(f, "icmp_code")), 13);
    assert_null(json_object_get(flow_to(all, 9001), "icmp_errors"));
    json_decref(all);
}

typedef struct ender {
    fa_run *part;
    int base;
} ender;

/* A capture thread's flows, each a SYN answered by a RST. */
static void *end_flows(void *arg)
{
    ender *e = arg;
    struct buf b;
    for (int i = 0; i < FLOWS_PER_THREAD; i++) {
        uint16_t port = (uint16_t)(e->base + i);
        syn(&b, "198.51.100.10", "192.0.2.10", port, 80);
        give(e->part, &b, T0 + (uint64_t)i * 10000);
        buf_reset(&b);
        size_t ip = pb_ipv4(&b, "192.0.2.10", "198.51.100.10", FA_PROTO_TCP, 64, 1, 0x4000, 0);
        pb_tcp(&b, 80, port, 0, 2, FA_TH_RST | FA_TH_ACK, 0);
        pb_ipv4_done(&b, ip);
        give(e->part, &b, T0 + (uint64_t)i * 10000 + 5);
        /* 20 s of packet time: the tcp-closed linger (5 s) ends most of
         * the flows in this thread, while the other ends its own */
    }
    return NULL;
}

static void test_records_in_order_from_two_threads(void **state)
{
    fixture *fx = *state;
    pthread_t t[2];
    ender e[2] = {{fx->run->parts[0], 10000}, {fx->run->parts[1], 20000}};
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, end_flows, &e[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    finish(fx);
    size_t n, i;
    json_t *all = records(fx, &n), *o;
    assert_int_equal(n, 2 * FLOWS_PER_THREAD);
    json_array_foreach(all, i, o) {
        assert_int_equal(json_integer_value(json_object_get(o, "seq")), (json_int_t)i);
        assert_string_equal(json_string_value(json_object_get(o, "conn_state")), "REJ");
    }
    json_decref(all);
}

/* The packets of an evidence file, whole. */
typedef struct read_pkt {
    uint32_t caplen, len;
    uint8_t data[FA_EVIDENCE_SNAP];
} read_pkt;

static int read_evidence(const char *path, read_pkt *out, int max)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, errbuf);
    if (!p)
        fail_msg("%s", errbuf);
    assert_int_equal(pcap_datalink(p), DLT_RAW);
    struct pcap_pkthdr *h;
    const u_char *data;
    int n = 0;
    while (pcap_next_ex(p, &h, &data) == 1) {
        assert_true(n < max && h->caplen <= FA_EVIDENCE_SNAP);
        out[n].caplen = h->caplen;
        out[n].len = h->len;
        memcpy(out[n++].data, data, h->caplen);
    }
    pcap_close(p);
    return n;
}

static bool same(const read_pkt *r, const struct buf *b)
{
    return r->caplen == b->len && r->len == b->len && memcmp(r->data, b->d, b->len) == 0;
}

/* Flagged flows of both parts in the one file; the refusal part 1
 * received is written with the SYN it refuses, which part 0 holds. */
static void test_evidence_of_both_parts(void **state)
{
    fixture *fx = *state;
    fa_run *p0 = fx->run->parts[0], *p1 = fx->run->parts[1];
    struct buf q, e, own, later;
    syn(&q, "198.51.100.10", "192.0.2.10", 40000, 9300);
    give(p0, &q, T0);
    icmp_error(&e, &q, 3);
    give(p1, &e, T0 + 100);
    syn(&own, "198.51.100.11", "192.0.2.10", 40001, 9400);
    give(p1, &own, T0 + 200);
    syn(&later, "198.51.100.12", "192.0.2.10", 40002, 9400);
    give(p0, &later, T0 + 300);
    fa_run_part_tick(p0, T0 + 500000);
    assert_int_equal(p0->inbox->claimed, 1);
    fa_run_parts_flush(fx->run);
    fa_evidence_stats st = {0};
    fa_run_parts_evidence_sum(fx->run, &st);
    assert_int_equal(st.flows_written, 3);
    assert_int_equal(st.packets_written, 4);
    assert_int_equal(st.key_packets_written, 1);
    finish(fx);

    read_pkt r[8];
    int n = read_evidence(fx->pcap, r, 8);
    assert_int_equal(n, 4);
    int syn_at = -1, icmp = 0, own_seen = 0, later_seen = 0;
    for (int i = 0; i < n; i++) {
        if (same(&r[i], &q))
            syn_at = i;
        icmp += same(&r[i], &e);
        own_seen += same(&r[i], &own);
        later_seen += same(&r[i], &later);
    }
    assert_int_equal(icmp, 1);
    assert_int_equal(own_seen, 1);
    assert_int_equal(later_seen, 1);
    assert_true(syn_at >= 0 && syn_at + 1 < n);
    assert_true(same(&r[syn_at + 1], &e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_icmp_error_reaches_holder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_evidence_of_both_parts, setup_evidence, teardown),
        cmocka_unit_test_setup_teardown(test_records_in_order_from_two_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
