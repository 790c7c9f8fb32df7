/* fuzz_pipeline.c - fuzz target: the input is a whole pcap or pcapng file,
 * read by libpcap from memory and run through what src/pipeline.c does per
 * packet and at the end: batches with look-ahead, decode, flow table,
 * WebSocket/TLS detector, summary, NDJSON records, and a port audit against
 * the shipped rules with one of the shipped sites, or without a site
 * against one product's rules, picked by the input size. */
#include "fuzz_target.h"

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "audit.h"
#include "clock.h"
#include "decode.h"
#include "flow_json.h"
#include "json_line.h"
#include "flow_table.h"
#include "fuzz_util.h"
#include "packet_batch.h"
#include "site.h"
#include "summary.h"
#include "ws_detect.h"

/* Few slots, so long inputs reach the eviction path. */
enum { FUZZ_FLOWS = 16 };

/* The shipped products: sites/NAME.site, rules/NAME.rules. */
static const char *const products[] = {"app-layering", "hyworks", "pcoip", "psw", "ras"};
#define NSITES (sizeof products / sizeof products[0])

/* The stages of one site choice, built on the first input that picks it
 * and reset after each input, which leaves them as new ones: no input
 * allocates the audit's port states, the detector's buffers or the
 * table's pool, fragment and resumption memory again. */
typedef struct run {
    const fa_ruleset *rs;
    fa_summary summary;
    const fa_site *site;
    fa_flow_table *table;
    fa_audit *audit;
    fa_ws *ws;
    fa_clock clock;
    fa_json_rec line;
} run;

/* The shipped site of choice pick; the caller keeps it for the life of
 * the process. Aborts when it does not load. */
static const fa_site *shipped_site(const fa_ruleset *rs, size_t pick)
{
    char path[4096], err[512];
    snprintf(path, sizeof path, "%s/sites/%s.site", FA_FUZZ_SOURCE_DIR, products[pick]);
    const fa_site *site = fa_site_load_file(rs, path, err, sizeof err);
    if (!site) {
        fprintf(stderr, "cannot load %s: %s\n", path, err);
        abort();
    }
    return site;
}

/* Product k's rules alone, kept for the life of the process. Without a
 * site every rule given is in force and has its report records: one
 * product's rules take the same paths as all five products' 291, whose
 * records were most of an input's time. Aborts when they do not load. */
static const fa_ruleset *product_rules(size_t k)
{
    char path[4096], err[512];
    fa_ruleset *rs = fa_rules_new();
    snprintf(path, sizeof path, "%s/rules/%s.rules", FA_FUZZ_SOURCE_DIR, products[k]);
    if (!rs || fa_rules_load_file(rs, path, err, sizeof err) != 0) {
        fprintf(stderr, "cannot load %s: %s\n", path, rs ? err : "out of memory");
        abort();
    }
    return rs;
}

/* As the pipeline configures it: the ports of websocket and long-lived
 * TCP rows, as the site may have moved them; few states, so long inputs
 * run out of them. */
static fa_ws *new_detector(const fa_ruleset *rs, const fa_site *site)
{
    fa_ws_config cfg;
    fa_ws_config_default(&cfg);
    cfg.max_flows = FUZZ_FLOWS;
    for (int i = 0; i < rs->nrules; i++) {
        const fa_rule *r = &rs->rules[i];
        if ((r->websocket || r->longlived) && (r->transports & FA_TR_TCP))
            fa_ws_config_add_ports(&cfg, site ? fa_site_rule_dports(site, rs, i) : &r->dports);
    }
    return fa_ws_new(&cfg);
}

static void on_flow_end(fa_flow *f, void *arg)
{
    run *r = arg;
    fa_flow_verdict v;
    bool ws = false, ll = false;
    fa_summary_add_flow(&r->summary, f);
    fa_audit_flow(r->audit, f, &v);
    for (int i = 0; v.verdict == FA_VERDICT_DOCUMENTED && i < v.nrules; i++) {
        ws |= r->rs->rules[v.rules[i]].websocket;
        ll |= r->rs->rules[v.rules[i]].longlived;
    }
    fa_ws_session s;
    json_t *session = fa_ws_flow_end(r->ws, f, ws, ll, &s) ? fa_ws_session_json(&s) : NULL;
    fa_flow_json(&r->line, f, "flow");
    fa_audit_verdict_json(r->audit, &v, &r->line);
    fa_json_rec_close(&r->line);
    fa_json_rec_line(&r->line, fuzz_sink());
    if (session)
        fa_json_write_line(fuzz_sink(), session);
    json_decref(session);
}

/* As fa_run_batch in src/pipeline.c: packets readied ahead of their turn,
 * then processed with their hints. */
static void handle_batch(run *r, fa_flow_table *t, fa_batch *b)
{
    for (unsigned i = 0; i < b->n; i++) {
        fa_batched *e = &b->pkts[i];
        fa_batch_look_ahead(b, t, i);
        fa_batch_look_ahead_app(b, t, r->ws, i);
        r->summary.packets++;
        r->summary.bytes += e->wirelen;
        uint64_t at;
        fa_ts_kind k = fa_clock_place(&r->clock, e->ts_us, fa_batch_next_ts(b, i), e->new_input, 0, &at);
        r->summary.ts[k]++;
        if (k == FA_TS_SKIPPED)
            continue;
        e->ts_us = e->pkt.ts_us = at;
        r->summary.decode[e->result]++;
        if (e->result != FA_DEC_OK)
            continue;
        if (e->pkt.payload_caplen < e->pkt.payload_len)
            r->summary.payload_cut++;
        int dir;
        fa_flow *f = fa_flow_table_packet_hinted(t, &e->pkt, &e->hint, &dir);
        if (f && (!e->pkt.fragment || e->pkt.first_fragment))
            fa_ws_packet(r->ws, f, dir, &e->pkt);
    }
    fa_batch_reset(b);
}

/* The stages for choice pick (below NSITES: all rules with that site;
 * from NSITES on: product pick - NSITES's rules, no site), built on first
 * use; after that as the previous input's stages_reset left them. NULL
 * when out of memory. */
static run *stages_for(size_t pick)
{
    static run runs[2 * NSITES];
    run *r = &runs[pick];
    if (r->table)
        return r;
    fa_flow_config cfg;
    fa_flow_config_default(&cfg);
    cfg.max_flows = FUZZ_FLOWS;
    cfg.hash_seed = FUZZ_HASH_SEED;
    if (!r->rs && pick < NSITES) {
        r->rs = fuzz_shipped_rules();
        r->site = shipped_site(r->rs, pick);
    } else if (!r->rs) {
        r->rs = product_rules(pick - NSITES);
    }
    if (!r->audit && !(r->audit = fa_audit_new(r->rs, r->site)))
        return NULL;
    if (!r->ws && !(r->ws = new_detector(r->rs, r->site)))
        return NULL;
    r->table = fa_flow_table_new(&cfg, on_flow_end, r);
    return r->table ? r : NULL;
}

/* Makes the stages what new ones would be. Done at the end of an input
 * rather than before the next, so that each input frees what it allocated
 * (the table's hash, the audit's aggregates): libFuzzer runs an input
 * again and looks for leaks whenever one frees less than it allocates. */
static void stages_reset(run *r)
{
    fa_flow_table_reset(r->table);
    fa_audit_reset(r->audit);
    fa_ws_reset(r->ws);
    r->summary = (fa_summary){0};
    r->clock = (fa_clock){0};
}

static void read_all(run *r, pcap_t *p)
{
    static fa_batch *b;
    if (!b && !(b = fa_batch_new()))
        return;
    fa_flow_table *t = r->table;
    int dlt = pcap_datalink(p);
    struct pcap_pkthdr *h;
    const u_char *data;
    bool first = true;
    while (pcap_next_ex(p, &h, &data) == 1) {
        uint64_t ts = fa_ts_from_parts((int64_t)h->ts.tv_sec, (int64_t)h->ts.tv_usec);
        if (!fa_batch_add(b, dlt, data, h->caplen, h->len, ts)) {
            b->next_ts_us = ts;
            handle_batch(r, t, b);
            fa_batch_add(b, dlt, data, h->caplen, h->len, ts);
        }
        b->pkts[b->n - 1].new_input = first;
        first = false;
    }
    handle_batch(r, t, b);
    fa_flow_table_flush(t, FA_END_EOF);
    fa_audit_finish(r->audit);
    fa_audit_print_text(r->audit, fuzz_sink(), false);
    fa_audit_write_json(r->audit, fuzz_sink());
    fa_ws_print_text(r->ws, fuzz_sink(), false);
    fa_ws_write_json(r->ws, fuzz_sink());
    fa_summary_print(&r->summary, fa_flow_table_stats(t), NULL, fuzz_sink());
}

/* Reads data as a capture file and runs every packet through the pipeline. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char perr[PCAP_ERRBUF_SIZE];
    if (size == 0)
        return 0;
    /* One stdio buffer for every input's stream instead of one malloc'd
     * and filled by ASan per input; pcap_close closes the stream before
     * the next input. */
    static char inbuf[1 << 16];
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f)
        return 0;
    if (setvbuf(f, inbuf, _IOFBF, sizeof inbuf) != 0) {
        fclose(f);
        return 0;
    }
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, perr);
    if (!p) {
        fclose(f);
        return 0;
    }
    run *r;
    /* One input in NSITES + 1 has no site; those cycle through the
     * products. */
    size_t pick = size % (NSITES + 1);
    if (pick == NSITES)
        pick += size / (NSITES + 1) % NSITES;
    if (fa_decode_linktype_supported(pcap_datalink(p)) && (r = stages_for(pick))) {
        read_all(r, p);
        stages_reset(r);
    }
    pcap_close(p);
    return 0;
}
