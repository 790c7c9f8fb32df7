/* test_evidence.c - the -w evidence ring and its rotating pcap writer: only
 * flagged flows are written, in order, cut to FA_EVIDENCE_SNAP; recycled
 * flow numbers, packets pushed out of a small ring and other link types
 * are handled and counted; files rotate at the size cap; stores of
 * several capture threads share one file, and an ICMP error another
 * thread received is written with the flow it refuses. Every test works
 * in its own temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence.h"

#define T0 1700000000000000ull
#define MAX_READ 8192
#define MAX_FLOWS 20000

/* Every packet carries its flow number and index in its first bytes. */
typedef struct pkt_read {
    uint64_t ts_us;
    uint32_t caplen, len;
    uint32_t flow, index;
    bool body_ok;
} pkt_read;

typedef struct fixture {
    char dir[64];
    char path[128];
    fa_evidence *e;
    pkt_read *pkts;
    int npkts;
} fixture;

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *de; (de = readdir(d));) {
        char p[512];
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (unlink(p) != 0)
            remove_tree(p);
    }
    closedir(d);
    rmdir(dir);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/fa-evidence-XXXXXX");
    fx->pkts = calloc(MAX_READ, sizeof *fx->pkts);
    if (!fx->pkts || !mkdtemp(fx->dir)) {
        free(fx->pkts);
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof fx->path, "%s/ev.pcap", fx->dir);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    fa_evidence_close(fx->e);
    remove_tree(fx->dir);
    free(fx->pkts);
    free(fx);
    return 0;
}

static fa_evidence *open_ev(fixture *fx, const char *path, uint32_t ring_mib, uint32_t file_mib, int keep)
{
    char err[256];
    fa_evidence_config cfg = {ring_mib, 1, file_mib, keep, MAX_FLOWS};
    fx->e = fa_evidence_open(path, DLT_EN10MB, &cfg, err, sizeof err);
    if (!fx->e)
        fail_msg("fa_evidence_open: %s", err);
    return fx->e;
}

/* A frame of caplen bytes (wire length len): flow number, index, then a
 * pattern that depends on both. */
static void frame(uint8_t *buf, uint32_t flow, uint32_t index, uint32_t caplen)
{
    memcpy(buf, &flow, 4);
    memcpy(buf + 4, &index, 4);
    for (uint32_t i = 8; i < caplen; i++)
        buf[i] = (uint8_t)(flow * 31 + index + i);
}

/* A packet of flow number flow in store e with FA_EV_* facts, whose
 * bytes say tag, index. */
static void put_as(fa_evidence *e, uint32_t flow, unsigned facts, uint32_t tag, uint32_t index, uint64_t ts,
                   uint32_t caplen)
{
    uint8_t buf[2048];
    assert_true(caplen <= sizeof buf && caplen >= 8);
    frame(buf, tag, index, caplen);
    fa_evidence_packet(e, DLT_EN10MB, flow, facts, ts, buf, caplen, caplen);
}

/* A packet of flow number flow with FA_EV_* facts. */
static void put_f(fa_evidence *e, uint32_t flow, unsigned facts, uint32_t index, uint64_t ts, uint32_t caplen)
{
    put_as(e, flow, facts, flow, index, ts, caplen);
}

static void put(fa_evidence *e, int dlt, uint32_t flow, uint32_t index, uint64_t ts, uint32_t caplen,
                uint32_t len)
{
    uint8_t buf[2048];
    assert_true(caplen <= sizeof buf && caplen >= 8);
    frame(buf, flow, index, caplen);
    fa_evidence_packet(e, dlt, flow, FA_EV_FOLLOWED, ts, buf, caplen, len);
}

/* Reads a pcap file into fx->pkts; returns the packet count. */
static int read_back(fixture *fx, const char *path)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, errbuf);
    if (!p)
        fail_msg("%s", errbuf);
    assert_int_equal(pcap_datalink(p), DLT_EN10MB);
    assert_int_equal(pcap_snapshot(p), FA_EVIDENCE_SNAP);
    struct pcap_pkthdr *h;
    const u_char *data;
    int n = 0;
    while (pcap_next_ex(p, &h, &data) == 1) {
        if (n == MAX_READ) {
            pcap_close(p);
            fail_msg("more than %d packets in %s", MAX_READ, path);
        }
        pkt_read *r = &fx->pkts[n++];
        r->ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
        r->caplen = h->caplen;
        r->len = h->len;
        memcpy(&r->flow, data, 4);
        memcpy(&r->index, data + 4, 4);
        r->body_ok = true;
        for (uint32_t i = 8; i < h->caplen; i++)
            r->body_ok &= data[i] == (uint8_t)(r->flow * 31 + r->index + i);
    }
    pcap_close(p);
    fx->npkts = n;
    return n;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void close_ev(fixture *fx)
{
    fa_evidence_close(fx->e);
    fx->e = NULL;
}

static void expect_pkt(const fixture *fx, int i, uint32_t flow, uint32_t index, uint64_t ts)
{
    const pkt_read *r = &fx->pkts[i];
    if (r->flow != flow || r->index != index || r->ts_us != ts)
        fail_msg("packet %d is flow %u #%u at %llu, expected flow %u #%u at %llu", i, r->flow, r->index,
                 (unsigned long long)r->ts_us, flow, index, (unsigned long long)ts);
    assert_true(r->body_ok);
}

static void test_only_flagged_flows(void **state)
{
    fixture *fx = *state;
    fa_evidence *e = open_ev(fx, fx->path, 1, 0, 0);
    /* three flows, interleaved */
    for (uint32_t i = 0; i < 5; i++)
        for (uint32_t f = 1; f <= 3; f++)
            put(e, DLT_EN10MB, f, i, T0 + i * 1000 + f, 60 + 10 * i, 60 + 10 * i);
    assert_int_equal(fa_evidence_flow(e, 3, T0 + 3, 5), 0);
    assert_int_equal(fa_evidence_flow(e, 1, T0 + 1, 5), 0);
    const fa_evidence_stats *st = fa_evidence_get_stats(e);
    assert_int_equal(st->flows_written, 2);
    assert_int_equal(st->packets_written, 10);
    assert_int_equal(st->packets_gone, 0);
    assert_int_equal(st->other_linktype, 0);
    assert_int_equal(st->files_rotated, 0);
    close_ev(fx);

    assert_int_equal(read_back(fx, fx->path), 10);
    for (uint32_t i = 0; i < 5; i++) {
        expect_pkt(fx, (int)i, 3, i, T0 + i * 1000 + 3);
        expect_pkt(fx, 5 + (int)i, 1, i, T0 + i * 1000 + 1);
        assert_int_equal(fx->pkts[i].caplen, 60 + 10 * i);
        assert_int_equal(fx->pkts[i].len, 60 + 10 * i);
    }
}

/* Frames longer than the snap are cut; the wire length stays. */
static void test_snap(void **state)
{
    fixture *fx = *state;
    fa_evidence *e = open_ev(fx, fx->path, 1, 0, 0);
    put(e, DLT_EN10MB, 9, 0, T0, 1500, 1500);
    put(e, DLT_EN10MB, 9, 1, T0 + 1, FA_EVIDENCE_SNAP, 9000);
    put(e, DLT_EN10MB, 9, 2, T0 + 2, FA_EVIDENCE_SNAP + 1, FA_EVIDENCE_SNAP + 1);
    put(e, DLT_EN10MB, 9, 3, T0 + 3, 100, 1514); /* cut by the capture's own snaplen */
    assert_int_equal(fa_evidence_flow(e, 9, T0, 4), 0);
    close_ev(fx);
    assert_int_equal(read_back(fx, fx->path), 4);
    static const uint32_t caplen[] = {FA_EVIDENCE_SNAP, FA_EVIDENCE_SNAP, FA_EVIDENCE_SNAP, 100};
    static const uint32_t len[] = {1500, 9000, FA_EVIDENCE_SNAP + 1, 1514};
    for (int i = 0; i < 4; i++) {
        expect_pkt(fx, i, 9, (uint32_t)i, T0 + (uint64_t)i);
        assert_int_equal(fx->pkts[i].caplen, caplen[i]);
        assert_int_equal(fx->pkts[i].len, len[i]);
    }
}

/* A flow number is a flow-table slot: once its flow ends it is given to
 * the next one, whose packets start at its own first_us. */
static void test_recycled_flow_number(void **state)
{
    fixture *fx = *state;
    fa_evidence *e = open_ev(fx, fx->path, 1, 0, 0);
    for (uint32_t i = 0; i < 4; i++)
        put(e, DLT_EN10MB, 7, i, T0 + i, 80, 80);      /* the old flow, not flagged */
    for (uint32_t i = 10; i < 13; i++)
        put(e, DLT_EN10MB, 7, i, T0 + 100 + i, 80, 80); /* the new one */
    assert_int_equal(fa_evidence_flow(e, 7, T0 + 110, 3), 0);
    assert_int_equal(fa_evidence_get_stats(e)->packets_written, 3);
    close_ev(fx);
    assert_int_equal(read_back(fx, fx->path), 3);
    for (int i = 0; i < 3; i++)
        expect_pkt(fx, i, 7, 10 + (uint32_t)i, T0 + 110 + (uint64_t)i);
}

/* A 1 MiB ring holds at most 1 MiB / FA_EVIDENCE_SNAP packets: the oldest
 * go, and are counted as gone when their flow is written; the key store
 * still has each flow's first packet and flow 1's two newest. */
static void test_small_ring(void **state)
{
    enum { N = 5000, MAX_SLOTS = (1 << 20) / FA_EVIDENCE_SNAP };
    fixture *fx = *state;
    fa_evidence *e = open_ev(fx, fx->path, 1, 0, 0);
    for (uint32_t i = 0; i < 10; i++)
        put(e, DLT_EN10MB, 1, i, T0 + i, 200, 200);
    for (uint32_t i = 0; i < N; i++)
        put(e, DLT_EN10MB, 2, i, T0 + 100 + i, 200, 200);
    assert_int_equal(fa_evidence_flow(e, 1, T0, 10), 0);
    const fa_evidence_stats *st = fa_evidence_get_stats(e);
    assert_int_equal(st->packets_written, 3);
    assert_int_equal(st->key_packets_written, 3);
    assert_int_equal(st->packets_gone, 7);
    assert_int_equal(fa_evidence_flow(e, 2, T0 + 100, N), 0);
    uint64_t kept = st->packets_written - 3 - 1;
    assert_true(kept > 1000 && kept <= MAX_SLOTS);
    assert_int_equal(st->key_packets_written, 4);
    assert_int_equal(st->packets_gone, 7 + N - kept - 1);
    assert_int_equal(st->flows_written, 2);
    assert_int_equal(st->flows_keys_lost, 0);
    close_ev(fx);
    /* flow 1's first and two newest, then flow 2's first and newest */
    assert_int_equal(read_back(fx, fx->path), (int)kept + 4);
    expect_pkt(fx, 0, 1, 0, T0);
    expect_pkt(fx, 1, 1, 8, T0 + 8);
    expect_pkt(fx, 2, 1, 9, T0 + 9);
    expect_pkt(fx, 3, 2, 0, T0 + 100);
    for (int i = 0; i < (int)kept; i++) {
        uint32_t index = N - (uint32_t)kept + (uint32_t)i;
        expect_pkt(fx, 4 + i, 2, index, T0 + 100 + index);
    }
}

/* Flow numbers 100 and up: a flood of one-packet flows, each ended
 * unflagged; the ring turns over many times. */
static void flood(fa_evidence *e, uint32_t flows, uint64_t ts)
{
    for (uint32_t i = 0; i < flows; i++) {
        put_f(e, 100 + i % 1000, 0, i, ts + i, 300);
        fa_evidence_release(e, 100 + i % 1000);
    }
}

/* A followed session flagged after a flood: its SYN, SYN-ACK, first
 * payload each way, FIN and RST survive in the key store, with the two
 * packets before the FIN; the handshake's ACK and the middle data are
 * gone. */
static void test_key_packets_survive_flood(void **state)
{
    fixture *fx = *state;
    fa_evidence *e = open_ev(fx, fx->path, 1, 0, 0);
    static const unsigned facts[] = {0, FA_EV_RESP, 0, FA_EV_PAYLOAD, FA_EV_RESP | FA_EV_PAYLOAD,
                                     FA_EV_PAYLOAD, FA_EV_PAYLOAD, FA_EV_RESP | FA_EV_PAYLOAD,
                                     FA_EV_PAYLOAD, FA_EV_FIN, FA_EV_RESP | FA_EV_RST};
    enum { NF = sizeof facts / sizeof facts[0] };
    for (uint32_t i = 0; i < NF; i++) {
        put_f(e, 1, facts[i] | FA_EV_FOLLOWED, i, T0 + i * 1000000u, 600);
        flood(e, 10000, T0 + i * 1000000u + 1);
    }
    assert_int_equal(fa_evidence_flow(e, 1, T0, NF), 0);
    const fa_evidence_stats *st = fa_evidence_get_stats(e);
    static const uint32_t want[] = {0, 1, 3, 4, 7, 8, 9, 10};
    enum { NW = sizeof want / sizeof want[0] };
    assert_int_equal(st->packets_written, NW);
    assert_int_equal(st->key_packets_written, NW);
    assert_int_equal(st->packets_gone, NF - NW);
    assert_int_equal(st->flows_keys_lost, 0);
    close_ev(fx);
    assert_int_equal(read_back(fx, fx->path), NW);
    for (int i = 0; i < NW; i++) {
        expect_pkt(fx, i, 1, want[i], T0 + want[i] * 1000000u);
        assert_int_equal(fx->pkts[i].caplen, 132);
        assert_int_equal(fx->pkts[i].len, 600);
    }
}

/* An ICMP error is the packet of its own flow (5) and charged to the
 * flow it refuses (1): written with flow 1, once, whether the ring still
 * has it or not. */
static void test_icmp_error_charged(void **state)
{
    fixture *fx = *state;
    fa_evidence *e = open_ev(fx, fx->path, 1, 0, 0);
    uint8_t buf[200];
    for (int pass = 0; pass < 2; pass++) {
        uint64_t t = T0 + (uint64_t)pass * 100000000u;
        put_f(e, 1, 0, 0, t, 80);
        flood(e, 10000, t + 1);
        frame(buf, 5, 1, sizeof buf);
        fa_evidence_packet(e, DLT_EN10MB, 5, 0, t + 20000, buf, sizeof buf, sizeof buf);
        fa_evidence_icmp_error(e, DLT_EN10MB, 1, t + 20000, buf, sizeof buf, sizeof buf);
        if (pass == 0)
            flood(e, 10000, t + 20001);
        assert_int_equal(fa_evidence_flow(e, 1, t, 1), 0);
        fa_evidence_release(e, 5);
    }
    close_ev(fx);
    assert_int_equal(read_back(fx, fx->path), 4);
    expect_pkt(fx, 0, 1, 0, T0);
    expect_pkt(fx, 1, 5, 1, T0 + 20000);
    expect_pkt(fx, 2, 1, 0, T0 + 100000000u);
    expect_pkt(fx, 3, 5, 1, T0 + 100020000u);
}

/* The store has 1 MiB / FA_EVIDENCE_KEY_SLOT slots: flows beyond it keep
 * no key packet and are counted when flagged; slots given back are used
 * again. */
static void test_key_store_full(void **state)
{
    enum { SLOTS = (1 << 20) / FA_EVIDENCE_KEY_SLOT };
    fixture *fx = *state;
    fa_evidence *e = open_ev(fx, fx->path, 1, 0, 0);
    for (uint32_t f = 0; f < SLOTS + 10; f++)
        put_f(e, f, 0, 0, T0 + f, 100);
    flood(e, 10000, T0 + SLOTS + 10);
    assert_int_equal(fa_evidence_flow(e, 0, T0, 1), 0);
    assert_int_equal(fa_evidence_flow(e, SLOTS + 5, T0 + SLOTS + 5, 1), 0);
    const fa_evidence_stats *st = fa_evidence_get_stats(e);
    assert_int_equal(st->packets_written, 1);
    assert_int_equal(st->flows_keys_lost, 1);
    assert_int_equal(st->flows_empty, 1);
    /* the slot flow 0 gave back is taken by a newcomer */
    put_f(e, SLOTS + 20, 0, 0, T0 + 2 * SLOTS, 100);
    flood(e, 10000, T0 + 2 * SLOTS + 1);
    assert_int_equal(fa_evidence_flow(e, SLOTS + 20, T0 + 2 * SLOTS, 1), 0);
    assert_int_equal(st->packets_written, 2);
    assert_int_equal(st->flows_keys_lost, 1);
}

/* With less than a quarter of the store free, a first payload is not
 * kept, a SYN and a RST still are. */
static void test_store_filling(void **state)
{
    enum { SLOTS = (1 << 20) / FA_EVIDENCE_KEY_SLOT, FULL = SLOTS - SLOTS / 4 + 1, X = FULL + 1 };
    fixture *fx = *state;
    fa_evidence *e = open_ev(fx, fx->path, 1, 0, 0);
    for (uint32_t f = 0; f < FULL; f++)
        put_f(e, f, 0, 0, T0 + f, 100);
    put_f(e, X, FA_EV_FOLLOWED, 0, T0 + X, 100);
    put_f(e, X, FA_EV_PAYLOAD | FA_EV_FOLLOWED, 1, T0 + X + 1, 100);
    put_f(e, X, FA_EV_RST | FA_EV_RESP | FA_EV_FOLLOWED, 2, T0 + X + 2, 100);
    flood(e, 10000, T0 + X + 3);
    assert_int_equal(fa_evidence_flow(e, X, T0 + X, 3), 0);
    const fa_evidence_stats *st = fa_evidence_get_stats(e);
    assert_int_equal(st->packets_written, 2);
    assert_int_equal(st->flows_keys_thin, 1);
    assert_int_equal(st->flows_keys_lost, 0);
    close_ev(fx);
    assert_int_equal(read_back(fx, fx->path), 2);
    expect_pkt(fx, 0, X, 0, T0 + X);
    expect_pkt(fx, 1, X, 2, T0 + X + 2);
}

static void test_other_link_type(void **state)
{
    fixture *fx = *state;
    fa_evidence *e = open_ev(fx, fx->path, 1, 0, 0);
    put(e, DLT_EN10MB, 4, 0, T0, 100, 100);
    put(e, DLT_RAW, 4, 1, T0 + 1, 100, 100);
    put(e, DLT_LINUX_SLL, 4, 2, T0 + 2, 100, 100);
    put(e, DLT_EN10MB, 4, 3, T0 + 3, 100, 100);
    assert_int_equal(fa_evidence_flow(e, 4, T0, 4), 0);
    const fa_evidence_stats *st = fa_evidence_get_stats(e);
    assert_int_equal(st->other_linktype, 2);
    assert_int_equal(st->packets_written, 2);
    assert_int_equal(st->packets_gone, 2);
    close_ev(fx);
    assert_int_equal(read_back(fx, fx->path), 2);
    expect_pkt(fx, 0, 4, 0, T0);
    expect_pkt(fx, 1, 4, 3, T0 + 3);
}

/* 45 flows of 200 cut packets (16 + 384 bytes each on file, 80000 bytes a
 * flow): a file passes 1 MiB with its 14th flow, so the writer rotates
 * three times and keeps two old files. */
static void test_rotation(void **state)
{
    enum { FLOWS = 45, PKTS = 200, PER_FILE = 14 };
    fixture *fx = *state;
    fa_evidence *e = open_ev(fx, fx->path, 1, 1, 2);
    uint64_t ts = T0;
    for (uint32_t f = 0; f < FLOWS; f++) {
        uint64_t first = ts;
        for (uint32_t i = 0; i < PKTS; i++)
            put(e, DLT_EN10MB, f % 8, i, ts++, 1000, 1000);
        assert_int_equal(fa_evidence_flow(e, f % 8, first, PKTS), 0);
    }
    const fa_evidence_stats *st = fa_evidence_get_stats(e);
    assert_int_equal(st->files_rotated, 3);
    assert_int_equal(st->packets_written, FLOWS * PKTS);
    assert_int_equal(st->packets_gone, 0);
    close_ev(fx);

    char p1[160], p2[160], p3[160];
    snprintf(p1, sizeof p1, "%s.1", fx->path);
    snprintf(p2, sizeof p2, "%s.2", fx->path);
    snprintf(p3, sizeof p3, "%s.3", fx->path);
    assert_true(exists(fx->path));
    assert_true(exists(p1));
    assert_true(exists(p2));
    assert_false(exists(p3));
    /* .2 is the second file written, .1 the third, FILE the last */
    assert_int_equal(read_back(fx, p2), PER_FILE * PKTS);
    expect_pkt(fx, 0, PER_FILE % 8, 0, T0 + PER_FILE * PKTS);
    assert_int_equal(read_back(fx, p1), PER_FILE * PKTS);
    expect_pkt(fx, 0, (2 * PER_FILE) % 8, 0, T0 + 2 * PER_FILE * PKTS);
    assert_int_equal(read_back(fx, fx->path), (FLOWS - 3 * PER_FILE) * PKTS);
    expect_pkt(fx, fx->npkts - 1, (FLOWS - 1) % 8, PKTS - 1, T0 + FLOWS * PKTS - 1);
    assert_int_equal(fx->pkts[0].caplen, FA_EVIDENCE_SNAP);
    assert_int_equal(fx->pkts[0].len, 1000);
}

/* When the next file cannot be opened the writer reports it, then and for
 * every later flow, without touching the closed file. */
static void test_rotation_failure(void **state)
{
    fixture *fx = *state;
    char sub[96], path[160];
    snprintf(sub, sizeof sub, "%s/sub", fx->dir);
    snprintf(path, sizeof path, "%s/ev.pcap", sub);
    assert_int_equal(mkdir(sub, 0700), 0);
    fa_evidence *e = open_ev(fx, path, 1, 1, 2);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(sub), 0);
    int rc = 0;
    uint64_t ts = T0;
    for (uint32_t f = 0; f < 14 && rc == 0; f++) {
        uint64_t first = ts;
        for (uint32_t i = 0; i < 200; i++)
            put(e, DLT_EN10MB, f, i, ts++, 1000, 1000);
        rc = fa_evidence_flow(e, f, first, 200);
    }
    assert_int_equal(rc, -1);
    put(e, DLT_EN10MB, 99, 0, ts, 100, 100);
    assert_int_equal(fa_evidence_flow(e, 99, ts, 1), -1);
    close_ev(fx);
}

/* Two stores, as two capture threads have, sharing one file; each store
 * opened on it as the run does. */
typedef struct pair {
    fa_evidence_file *file;
    fa_evidence *s[2];
} pair;

static void open_pair(pair *pr, const char *path, uint32_t file_mib, int keep)
{
    char err[256];
    fa_evidence_config cfg = {1, 1, file_mib, keep, MAX_FLOWS};
    pr->file = fa_evidence_file_open(path, DLT_EN10MB, &cfg, err, sizeof err);
    if (!pr->file)
        fail_msg("fa_evidence_file_open: %s", err);
    for (int i = 0; i < 2; i++)
        if (!(pr->s[i] = fa_evidence_new(pr->file, &cfg, err, sizeof err)))
            fail_msg("fa_evidence_new: %s", err);
}

static void close_pair(pair *pr, fa_evidence_stats *sum)
{
    *sum = (fa_evidence_stats){0};
    for (int i = 0; i < 2; i++) {
        fa_evidence_stats_add(sum, fa_evidence_get_stats(pr->s[i]));
        fa_evidence_close(pr->s[i]);
    }
    fa_evidence_file_close(pr->file);
}

/* Both stores number a flow 1, their packets interleaved in time: each
 * flow is written whole when it ends, from its own store, and the
 * counters add up. */
static void test_shared_file(void **state)
{
    fixture *fx = *state;
    pair pr;
    open_pair(&pr, fx->path, 0, 0);
    for (uint32_t i = 0; i < 3; i++) {
        put_as(pr.s[0], 1, i ? FA_EV_RESP : 0, 10, i, T0 + 10 * i, 100);
        put_as(pr.s[1], 1, i ? FA_EV_RESP : 0, 20, i, T0 + 10 * i + 5, 100);
    }
    assert_int_equal(fa_evidence_flow(pr.s[1], 1, T0, 3), 0);
    assert_int_equal(fa_evidence_flow(pr.s[0], 1, T0, 3), 0);
    fa_evidence_stats sum;
    close_pair(&pr, &sum);
    assert_int_equal(sum.flows_written, 2);
    assert_int_equal(sum.packets_written, 6);
    assert_int_equal(sum.packets_gone, 0);
    assert_int_equal(read_back(fx, fx->path), 6);
    for (int i = 0; i < 3; i++) {
        expect_pkt(fx, i, 20, (uint32_t)i, T0 + 10 * (uint64_t)i + 5);
        expect_pkt(fx, 3 + i, 10, (uint32_t)i, T0 + 10 * (uint64_t)i);
    }
}

/* An ICMP error (tag 5) that store 1's thread received and store 0's
 * charged to its flow 1 comes between the packets before and after it,
 * cut to FA_EVIDENCE_KEY_SNAP, once; the answer that followed it is a key
 * packet numbered as the error is, and is written once too. Second pass:
 * a flood has pushed the flow out of the ring, the key store has all
 * three. */
static void test_posted_icmp_error(void **state)
{
    fixture *fx = *state;
    pair pr;
    open_pair(&pr, fx->path, 0, 0);
    uint8_t err_frame[200];
    frame(err_frame, 5, 1, sizeof err_frame);
    for (int pass = 0; pass < 2; pass++) {
        uint64_t t = T0 + (uint64_t)pass * 100000000u;
        put_as(pr.s[0], 1, 0, 1, 0, t, 80);
        put_as(pr.s[1], 7, 0, 5, 1, t + 20, sizeof err_frame);
        fa_evidence_icmp_error_posted(pr.s[0], DLT_EN10MB, 1, t + 20, err_frame, sizeof err_frame,
                                      sizeof err_frame);
        put_as(pr.s[0], 1, FA_EV_RESP, 1, 2, t + 30, 80);
        if (pass == 1)
            flood(pr.s[0], 10000, t + 40);
        assert_int_equal(fa_evidence_flow(pr.s[0], 1, t, 2), 0);
        fa_evidence_release(pr.s[1], 7);
    }
    fa_evidence_stats sum;
    close_pair(&pr, &sum);
    assert_int_equal(sum.flows_written, 2);
    assert_int_equal(sum.key_packets_written, 1 + 3);
    assert_int_equal(read_back(fx, fx->path), 6);
    for (int pass = 0; pass < 2; pass++) {
        uint64_t t = T0 + (uint64_t)pass * 100000000u;
        expect_pkt(fx, 3 * pass, 1, 0, t);
        expect_pkt(fx, 3 * pass + 1, 5, 1, t + 20);
        assert_int_equal(fx->pkts[3 * pass + 1].caplen, FA_EVIDENCE_KEY_SNAP);
        assert_int_equal(fx->pkts[3 * pass + 1].len, sizeof err_frame);
        expect_pkt(fx, 3 * pass + 2, 1, 2, t + 30);
    }
}

/* The file rotates at its cap whichever store's flow crosses it; each
 * store counts the rotations its flows made, and they add up to the
 * file's: 45 flows of 80000 bytes on file rotate three times (as in
 * test_rotation), the stores taking turns three flows each. */
static void test_shared_rotation(void **state)
{
    enum { FLOWS = 45, PKTS = 200 };
    fixture *fx = *state;
    pair pr;
    open_pair(&pr, fx->path, 1, 2);
    uint64_t ts = T0;
    for (uint32_t f = 0; f < FLOWS; f++) {
        uint64_t first = ts;
        fa_evidence *e = pr.s[(f / 3) % 2];
        for (uint32_t i = 0; i < PKTS; i++)
            put(e, DLT_EN10MB, f % 8, i, ts++, 1000, 1000);
        assert_int_equal(fa_evidence_flow(e, f % 8, first, PKTS), 0);
    }
    assert_int_equal(fa_evidence_get_stats(pr.s[0])->files_rotated + fa_evidence_get_stats(pr.s[1])->files_rotated,
                     3);
    assert_true(fa_evidence_get_stats(pr.s[0])->files_rotated > 0);
    assert_true(fa_evidence_get_stats(pr.s[1])->files_rotated > 0);
    fa_evidence_stats sum;
    close_pair(&pr, &sum);
    assert_int_equal(sum.files_rotated, 3);
    assert_int_equal(sum.packets_written, FLOWS * PKTS);
    char p1[160];
    snprintf(p1, sizeof p1, "%s.1", fx->path);
    assert_int_equal(read_back(fx, p1), 14 * PKTS);
    assert_int_equal(read_back(fx, fx->path), (FLOWS - 3 * 14) * PKTS);
}

static void test_open_error(void **state)
{
    fixture *fx = *state;
    char err[256], path[160];
    snprintf(path, sizeof path, "%s/missing/ev.pcap", fx->dir);
    fa_evidence_config cfg = {1, 1, 0, 0, MAX_FLOWS};
    assert_null(fa_evidence_open(path, DLT_EN10MB, &cfg, err, sizeof err));
    assert_non_null(strstr(err, path));
    fa_evidence_close(NULL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_only_flagged_flows),
        T(test_snap),
        T(test_recycled_flow_number),
        T(test_small_ring),
        T(test_key_packets_survive_flood),
        T(test_icmp_error_charged),
        T(test_key_store_full),
        T(test_store_filling),
        T(test_other_link_type),
        T(test_rotation),
        T(test_rotation_failure),
        T(test_shared_file),
        T(test_posted_icmp_error),
        T(test_shared_rotation),
        T(test_open_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
