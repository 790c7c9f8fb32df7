/* run.c - the run core: sets up the stages, takes batches of frames from
 * a driver (pipeline.c for files, live.c for interfaces), writes a record
 * per finished flow, prints the reports. The drivers call it; it never
 * calls them. */
#include "run.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "capture.h"
#include "decode.h"
#include "flow_json.h"
#include "json_file.h"
#include "json_line.h"
#include "flow_table.h"
#include "html_report.h"
#include "reload.h"
#include "rules.h"
#include "site.h"
#include "summary.h"
#include "run_internal.h"
#include "ws_detect.h"

/* Every record carries a sequence number, so a log shipper following the
 * file can tell it missed nothing. A part writes through its run, whose
 * lock the caller holds. */
void fa_run_record(fa_run *ctx, json_t *o)
{
    ctx = ctx->top;
    if (ctx->json && !ctx->json_failed) {
        if (!o || json_object_set_new(o, "seq", json_integer((json_int_t)ctx->seq++)) != 0 ||
            fa_json_write_line(ctx->json, o) != 0)
            ctx->json_failed = true;
    }
    json_decref(o);
}

void fa_run_record_rec(fa_run *ctx, fa_json_rec *rec)
{
    ctx = ctx->top;
    if (ctx->json && !ctx->json_failed) {
        fa_json_rec_int(rec, "seq", (int64_t)ctx->seq++);
        fa_json_rec_close(rec);
        if (fa_json_rec_line(rec, ctx->json) != 0)
            ctx->json_failed = true;
    }
    fa_json_rec_reset(rec);
}

static int sink_put(void *arg, json_t *rec)
{
    fa_run *ctx = arg;
    fa_run_record(ctx, rec);
    return ctx->json_failed ? -1 : 0;
}

static int sink_put_rec(void *arg, fa_json_rec *rec)
{
    fa_run *ctx = arg;
    fa_run_record_rec(ctx, rec);
    return ctx->json_failed ? -1 : 0;
}

/* Did the audit put this flow on a websocket or long-lived row? */
static void rule_flags(const fa_run *ctx, const fa_flow_verdict *v, bool *ws, bool *ll)
{
    *ws = *ll = false;
    if (!ctx->audit || v->verdict != FA_VERDICT_DOCUMENTED)
        return;
    for (int i = 0; i < v->nrules; i++) {
        *ws |= ctx->rules->rules[v->rules[i]].websocket;
        *ll |= ctx->rules->rules[v->rules[i]].longlived;
    }
}

/* Flows worth keeping as evidence: what the audit flags, and kills. */
static bool flagged(const fa_run *ctx, const fa_flow_verdict *v, const fa_ws_session *session)
{
    if (session && fa_ws_ending_is_kill(session->ending))
        return true;
    if (!ctx->audit)
        return false;
    return v->verdict == FA_VERDICT_UNDOCUMENTED || v->verdict == FA_VERDICT_WRONG_DIRECTION ||
           (v->verdict == FA_VERDICT_DOCUMENTED && v->attempt != FA_ATTEMPT_SEEN);
}

/* A flagged flow's packets are written, under the run's lock with
 * --workers: the parts share one file; every flow's key packets are given
 * back to the store. */
static void save_evidence(fa_run *ctx, const fa_flow *f, bool write)
{
    uint32_t idx = fa_flow_table_index(ctx->flows, f);
    if (!write)
        fa_evidence_release(ctx->evidence, idx);
    else if (fa_evidence_flow(ctx->evidence, idx, f->first_us, f->dir[0].pkts + f->dir[1].pkts) != 0)
        ctx->top->evidence_failed = true;
}

/* The flow's own detector judges the session; the run's keeps it for the
 * report (for a run without parts, the same one). A part builds its flow
 * record before it takes the run's lock. */
/* A flow record the -j file's thread formats: the flow and its verdict as
 * they were at its end (json_file.h). */
typedef struct flow_job {
    fa_flow flow;
    fa_flow_verdict v;
    uint64_t seq;
    bool judged;
} flow_job;

/* Runs in the -j file's thread: reads the job and the rules, which do not
 * change while files are read (reloads are for live runs). */
static void format_flow_job(const void *arg_job, fa_json_rec *line, void *arg)
{
    const flow_job *job = arg_job;
    const fa_run *ctx = arg;
    fa_flow_json_as(line, &job->flow, "flow", NULL);
    if (job->judged)
        fa_audit_verdict_json(ctx->audit, &job->v, line);
    fa_json_rec_int(line, "seq", (int64_t)job->seq);
    fa_json_rec_close(line);
}

static void queue_flow_job(fa_run *top, const fa_flow *f, const fa_flow_verdict *v)
{
    flow_job job;
    job.flow = *f;
    job.judged = top->audit != NULL;
    if (job.judged)
        job.v = *v;
    job.seq = top->seq++;
    if (fa_json_file_job(top->json_jobs, &job) != 0)
        top->json_failed = true;
}

void fa_run_flow_end(fa_flow *f, void *arg)
{
    fa_run *ctx = arg, *top = ctx->top;
    fa_flow_verdict v;
    bool ws, ll;
    fa_summary_add_flow(&ctx->summary, f);
    if ((top->json || top->kafka) && !top->json_jobs)
        fa_flow_json_as(&ctx->line, f, "flow", top->from_sensor ? "sensor" : NULL);
    fa_run_lock(top);
    if (top->audit)
        fa_audit_flow(top->audit, f, &v);
    rule_flags(top, &v, &ws, &ll);
    fa_ws_session session;
    bool reported = fa_ws_judge_end(ctx->ws, f, ws, ll, &session);
    if (reported)
        fa_ws_note_session(top->ws, &session);
    if (ctx->evidence)
        save_evidence(ctx, f, flagged(top, &v, reported ? &session : NULL));
    if (top->json_jobs && !top->json_failed) {
        queue_flow_job(top, f, &v);
        if (reported && !top->json_failed)
            fa_run_record(top, fa_ws_session_json(&session));
    } else if ((top->json && !top->json_failed) || top->kafka) {
        if (top->audit)
            fa_audit_verdict_json(top->audit, &v, &ctx->line);
        if (top->from_sensor)
            fa_json_rec_str(&ctx->line, "sensor", top->from_sensor);
        if (top->kafka)
            fa_kafka_out_flow(top->kafka, &ctx->line);
        fa_run_record_rec(top, &ctx->line);
        if (reported && top->json && !top->json_failed)
            fa_run_record(top, fa_ws_session_json(&session));
    }
    fa_json_rec_reset(&ctx->line);
    fa_run_unlock(top);
}

void fa_run_flow(fa_run *ctx, fa_flow *f)
{
    if (!ctx->have_records || f->first_us < ctx->first_ts)
        ctx->first_ts = f->first_us;
    if (f->last_us > ctx->last_ts)
        ctx->last_ts = f->last_us;
    ctx->have_records = true;
    fa_run_flow_end(f, ctx);
}

/* -w opens its file with the link type of the first packet read. With
 * --workers the first part to read one opens the run's file, and each
 * part a store of its own, of the full sizes (its flow table has the
 * full --max-flows too), writing to it. */
static void open_evidence(fa_run *ctx, int dlt)
{
    char err[512];
    const fa_options *o = ctx->opts;
    fa_run *top = ctx->top;
    fa_evidence_config cfg = {o->evidence_ring_mib, o->evidence_keys_mib, o->evidence_file_mib, o->evidence_files,
                              o->flow.max_flows};
    bool told = false;
    fa_run_lock(top);
    if (top == ctx)
        ctx->evidence = fa_evidence_open(o->evidence_path, dlt, &cfg, err, sizeof err);
    else if (!top->evidence_file && !(told = top->evidence_failed))
        top->evidence_file = fa_evidence_file_open(o->evidence_path, dlt, &cfg, err, sizeof err);
    if (top != ctx && top->evidence_file)
        ctx->evidence = fa_evidence_new(top->evidence_file, &cfg, err, sizeof err);
    if (!ctx->evidence) {
        /* Another part has said why already. */
        if (!told)
            fprintf(stderr, "flowaudit: %s\n", err);
        ctx->evidence_failed = top->evidence_failed = true;
    }
    fa_run_unlock(top);
}

/* --interim for files: by capture time, as the packets go by. */
static void interim_by_packet_time(fa_run *ctx, uint64_t ts)
{
    uint64_t every = (uint64_t)ctx->opts->interim_s * 1000000u;
    if (!every)
        return;
    if (!ctx->next_interim_us)
        ctx->next_interim_us = ts + every;
    if (ts >= ctx->next_interim_us) {
        fa_run_interim(ctx, ts, (uint32_t)ctx->opts->interim_s);
        ctx->next_interim_us = ts + every;
    }
}

/* The ring keeps every packet; the key store what proves a verdict. */
static void keep_evidence(fa_run *ctx, const fa_batched *e, const fa_flow *f, int dir)
{
    const fa_packet *pkt = &e->pkt;
    unsigned facts = (dir ? FA_EV_RESP : 0) | (pkt->payload_len ? FA_EV_PAYLOAD : 0) |
                     ((pkt->tcp_flags & FA_TH_RST) ? FA_EV_RST : 0) | ((pkt->tcp_flags & FA_TH_FIN) ? FA_EV_FIN : 0) |
                     ((f->bits & FA_FLOW_HAS_APP) ? FA_EV_FOLLOWED : 0);
    uint32_t charged;
    fa_evidence_packet(ctx->evidence, e->dlt, fa_flow_table_index(ctx->flows, f), facts, e->ts_us, e->frame,
                       pkt->caplen, pkt->wirelen);
    if (fa_flow_table_charged(ctx->flows, &charged))
        fa_evidence_icmp_error(ctx->evidence, e->dlt, charged, e->ts_us, e->frame, pkt->caplen, pkt->wirelen);
}

/* Flow table, evidence and detectors, for one decoded packet. */
static void process(fa_run *ctx, const fa_batched *e)
{
    int dir;
    const fa_packet *pkt = &e->pkt;
    fa_flow *f = fa_flow_table_packet_hinted(ctx->flows, pkt, &e->hint, &dir);
    uint32_t charged;
    if (pkt->icmp_error && ctx->top != ctx && !fa_flow_table_charged(ctx->flows, &charged))
        fa_run_part_forward_icmp(ctx, e);
    if (f && (!pkt->fragment || pkt->first_fragment))
        fa_ws_packet(ctx->ws, f, dir, pkt);
    /* After the detector: it says whether it follows the flow. */
    if (f && ctx->evidence)
        keep_evidence(ctx, e, f, dir);
}

/* Puts packet i on the flow clock (clock.h); from here on it carries the
 * time it is processed at. Files: the next packet may confirm a jump;
 * live: the wall clock of the last poll. Returns false for a packet that
 * has no time to take. */
static bool place_in_time(fa_run *ctx, fa_batch *b, unsigned i, bool by_packet_time)
{
    fa_batched *e = &b->pkts[i];
    uint64_t at;
    fa_ts_kind k = fa_clock_place(&ctx->flow_clock, e->ts_us, fa_batch_next_ts(b, i), e->new_input,
                                  by_packet_time ? 0 : ctx->clock_us, &at);
    ctx->summary.ts[k]++;
    if (k == FA_TS_SKIPPED)
        return false;
    e->ts_us = e->pkt.ts_us = at;
    ctx->last_ts = ctx->flow_clock.now_us;
    return true;
}

void fa_run_batch(fa_run *ctx, fa_batch *b, bool by_packet_time)
{
    for (unsigned i = 0; i < b->n; i++) {
        fa_batched *e = &b->pkts[i];
        fa_batch_look_ahead(b, ctx->flows, i);
        fa_batch_look_ahead_app(b, ctx->flows, ctx->ws, i);
        if (ctx->opts->evidence_path && !ctx->evidence && !ctx->evidence_failed)
            open_evidence(ctx, e->dlt);
        ctx->summary.packets++;
        ctx->summary.bytes += e->wirelen;
        bool had_time = ctx->flow_clock.set;
        if (!place_in_time(ctx, b, i, by_packet_time))
            continue;
        /* The window starts at the first time the clock accepted, never at
         * a hostile stamp it refused. */
        if (!had_time)
            ctx->first_ts = e->ts_us;
        ctx->summary.decode[e->result]++;
        fa_summary_add_encap(&ctx->summary, e->pkt.encap);
        if (e->result == FA_DEC_OK) {
            if (e->pkt.payload_caplen < e->pkt.payload_len)
                ctx->summary.payload_cut++;
            process(ctx, e);
        }
        if (by_packet_time)
            interim_by_packet_time(ctx, e->ts_us);
    }
}

#define JSON_BUFFER (1u << 20)

static FILE *open_json(const char *path, const fa_signals *sig, fa_json_file **handle, char **buf, char *err,
                       size_t errlen)
{
    if (!path)
        return NULL;
    if (strcmp(path, "-") == 0)
        return stdout;
    static const atomic_int no_signals;
    FILE *f = fa_json_file_open(path, sig ? &sig->stop : &no_signals, handle, err, errlen);
    if (!f)
        return NULL;
    /* Reading files, a run writes hundreds of megabytes: stdio's default
     * block makes that one write() per 4 KiB. Live mode flushes after
     * every poll, so the buffer delays nothing there. glibc takes a size
     * only with a buffer. */
    *buf = malloc(JSON_BUFFER);
    if (*buf && setvbuf(f, *buf, _IOFBF, JSON_BUFFER) != 0) {
        free(*buf);
        *buf = NULL;
    }
    return f;
}

/* The detector follows ports of websocket and long-lived TCP rows. */
fa_ws *fa_run_new_detector(const fa_run *ctx)
{
    fa_ws_config cfg;
    fa_ws_config_default(&cfg);
    cfg.min_idle_s = ctx->opts->ws_min_idle_s;
    for (int i = 0; ctx->rules && i < ctx->rules->nrules; i++) {
        const fa_rule *r = &ctx->rules->rules[i];
        if ((r->websocket || r->longlived) && (r->transports & FA_TR_TCP))
            fa_ws_config_add_ports(&cfg, ctx->site ? fa_site_rule_dports(ctx->site, ctx->rules, i) : &r->dports);
    }
    return fa_ws_new(&cfg);
}

/* Reads rules and site from disk into fresh objects (all or nothing). */
static int load_rules_site(const fa_options *o, fa_ruleset **rules, fa_site **site, fa_audit **audit,
                           char *err, size_t errlen)
{
    *rules = fa_rules_new();
    *site = NULL;
    *audit = NULL;
    if (!*rules) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (fa_rules_load_dir(*rules, o->rules_dir ? o->rules_dir : fa_default_rules_dir(), err, errlen) == 0 &&
        (!o->site_path || (*site = fa_site_load_file(*rules, o->site_path, err, errlen)))) {
        if (*site && (*site)->warnings)
            fputs((*site)->warnings, stderr);
        if ((*audit = fa_audit_new(*rules, *site)))
            return 0;
        snprintf(err, errlen, "out of memory");
    }
    fa_site_free(*site);
    fa_rules_free(*rules);
    *rules = NULL;
    *site = NULL;
    return -1;
}

/* Loads the matrices and the site when an audit was asked for. */
static int load_config(fa_run *ctx, char *err, size_t errlen)
{
    const fa_options *o = ctx->opts;
    if ((o->rules_dir || o->site_path) &&
        load_rules_site(o, &ctx->rules, &ctx->site, &ctx->audit, err, errlen) != 0)
        return -1;
    if (!(ctx->ws = fa_run_new_detector(ctx))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static void free_config(fa_run *ctx)
{
    fa_ws_free(ctx->ws);
    fa_audit_free(ctx->audit);
    fa_site_free(ctx->site);
    fa_rules_free(ctx->rules);
}

/* The reload thread's loader: the same all-or-nothing load as at start. */
static int load_config_files(const fa_options *o, fa_config *c, char *err, size_t errlen)
{
    return load_rules_site(o, &c->rules, &c->site, &c->audit, err, errlen);
}

/* The window so far is reported under the configuration it was judged
 * by, and a new window starts with the new one. Flows still open are
 * judged at their end by the new matrices; the WebSocket detector keeps
 * following the ports it had. */
static void swap_config(fa_run *ctx, const fa_config *c)
{
    fa_run_report(ctx, false, NULL);
    ctx->window_start_us = ctx->clock_us > ctx->last_ts ? ctx->clock_us : ctx->last_ts;
    fa_audit_free(ctx->audit);
    fa_site_free(ctx->site);
    fa_rules_free(ctx->rules);
    ctx->rules = c->rules;
    ctx->site = c->site;
    ctx->audit = c->audit;
}

/* How a reload ended, on stderr and in a config_reload record. */
static void reload_ended(fa_run *ctx, bool ok, const char *why)
{
    if (ok)
        fprintf(stderr, "flowaudit: configuration reloaded\n");
    else
        fprintf(stderr, "flowaudit: reload failed, keeping the previous configuration: %s\n", why);
    if (ctx->json) {
        json_t *o = json_pack("{s:s, s:f, s:b}", "type", "config_reload", "ts", (double)ctx->clock_us / 1e6,
                              "ok", ok);
        if (o && !ok)
            json_object_set_new(o, "error.message", json_string(why));
        fa_run_record(ctx, o);
    }
}

bool fa_run_reload_start(fa_run *ctx)
{
    char why[512];
    if (ctx->reloading)
        return false;
    if (!ctx->audit)
        reload_ended(ctx, false, "no rules were loaded at start: nothing to reload");
    else if (!(ctx->reloading = fa_reload_start(ctx->opts, load_config_files, why, sizeof why)))
        reload_ended(ctx, false, why);
    return true;
}

bool fa_run_reload_ready(const fa_run *ctx)
{
    return ctx->reloading && fa_reload_done(ctx->reloading);
}

int fa_run_reload_poll(fa_run *ctx)
{
    char why[512];
    fa_config c;
    if (!ctx->reloading || !fa_reload_done(ctx->reloading))
        return -1;
    int rc = fa_reload_finish(ctx->reloading, &c, why, sizeof why);
    ctx->reloading = NULL;
    if (rc == 0)
        swap_config(ctx, &c);
    reload_ended(ctx, rc == 0, why);
    return rc == 0;
}

/* A reload still reading when the run ends is waited for and dropped. */
static void drop_reload(fa_run *ctx)
{
    fa_config c;
    char why[512];
    if (ctx->reloading && fa_reload_finish(ctx->reloading, &c, why, sizeof why) == 0) {
        fa_audit_free(c.audit);
        fa_site_free(c.site);
        fa_rules_free(c.rules);
    }
    ctx->reloading = NULL;
}

static void interim_record(fa_flow *f, void *arg)
{
    fa_run *ctx = arg;
    fa_flow_json(&ctx->line, f, "flow_update");
    fa_run_record_rec(ctx, &ctx->line);
}

/* Every active flow older than age_us, in the run's table or its parts'. */
static void each_older(fa_run *ctx, uint64_t now_us, uint64_t age_us, fa_flow_end_fn fn, void *arg)
{
    if (!ctx->nparts)
        fa_flow_table_each_older(ctx->flows, now_us, age_us, fn, arg);
    for (int i = 0; i < ctx->nparts; i++)
        fa_flow_table_each_older(ctx->parts[i]->flows, now_us, age_us, fn, arg);
}

void fa_run_interim(fa_run *ctx, uint64_t now_us, uint32_t age_s)
{
    if (ctx->json)
        each_older(ctx, now_us, (uint64_t)age_s * 1000000u, interim_record, ctx);
}

/* The run's store's counters, or its parts' summed. */
static void print_evidence(const fa_run *ctx, FILE *text)
{
    fa_evidence_stats sum = {0}, *st = &sum;
    if (ctx->evidence)
        fa_evidence_stats_add(&sum, fa_evidence_get_stats(ctx->evidence));
    fa_run_parts_evidence_sum(ctx, &sum);
    fprintf(text, "  evidence  %" PRIu64 " flagged flows, %" PRIu64 " packets written (%" PRIu64
                  " of them key packets kept apart; %" PRIu64 " already gone from the buffer, %" PRIu64
                  " of another link type); %u file rotations\n",
            st->flows_written, st->packets_written, st->key_packets_written, st->packets_gone, st->other_linktype,
            st->files_rotated);
    fprintf(text, "  evidence  %" PRIu64 " flagged flows lost a SYN, RST, FIN or ICMP error (key store full), %" PRIu64
                  " a first payload or last packet; %" PRIu64 " have no packet at all\n",
            st->flows_keys_lost, st->flows_keys_thin, st->flows_empty);
}

static FILE *text_out(const fa_run *ctx)
{
    /* With NDJSON on stdout the text goes to stderr, keeping stdout
     * machine-readable. */
    return ctx->json == stdout ? stderr : stdout;
}

/* libpcap's counters; with --workers, the sum and each thread's. */
static json_t *capture_json(const fa_capture_stats *st)
{
    return json_pack("{s:I, s:I, s:I}", "received", (json_int_t)st->received, "dropped", (json_int_t)st->dropped,
                     "if_dropped", (json_int_t)st->if_dropped);
}

static void report_marker(fa_run *ctx, bool final)
{
    json_t *o = json_pack("{s:s, s:o, s:b, s:f, s:f}", "type", "report", "ts", fa_json_time(ctx->sink.ts_us),
                          "final", final, "window_start", (double)ctx->window_start_us / 1e6, "window_end",
                          (double)(ctx->clock_us > ctx->last_ts ? ctx->clock_us : ctx->last_ts) / 1e6);
    if (o && ctx->live.valid) {
        json_t *cap = capture_json(&ctx->live);
        json_t *parts = ctx->nparts ? json_array() : NULL;
        for (int i = 0; parts && i < ctx->nparts; i++)
            json_array_append_new(parts, capture_json(&ctx->parts[i]->live));
        if (cap && parts)
            json_object_set_new(cap, "workers", parts);
        else
            json_decref(parts);
        json_object_set_new(o, "capture", cap);
    }
    if (o && ctx->opts->collect.netflow9)
        json_object_set_new(o, "export_packets_missed", json_integer(ctx->summary.export_missed));
    else if (o && ctx->opts->collect.set)
        json_object_set_new(o, "export_records_missed", json_integer((json_int_t)ctx->summary.export_records_missed));
    if (o && ctx->opts->collect.set && !ctx->opts->collect.tcp)
        json_object_set_new(o, "datagrams_dropped", json_integer((json_int_t)ctx->summary.socket_dropped));
    if (o && ctx->kafka)
        json_object_set_new(o, "records_not_published",
                            json_integer((json_int_t)fa_kafka_out_unpublished(ctx->kafka)));
    fa_run_record(ctx, o);
}

/* Live reports say how long the window was and whether the kernel lost
 * packets, which would make a "not seen" or "blocked" verdict doubtful. */
static void live_note(const fa_run *ctx, FILE *text)
{
    uint64_t end = ctx->clock_us > ctx->last_ts ? ctx->clock_us : ctx->last_ts;
    fprintf(text, "  window: %.0f s of live %s", (double)fa_time_since(end, ctx->window_start_us) / 1e6,
            ctx->opts->collect.set ? "collection" : "capture");
    if (ctx->live.valid && (ctx->live.dropped || ctx->live.if_dropped))
        fprintf(text, "; WARNING: %" PRIu64 " packets dropped by the kernel, %" PRIu64
                      " by the interface: a 'not seen' or 'blocked' verdict may be wrong",
                ctx->live.dropped, ctx->live.if_dropped);
    if (ctx->summary.export_missed)
        fprintf(text, "; WARNING: the exporter's sequence numbers show %" PRIu32 " export packets lost: a 'not"
                      " seen' or 'blocked' verdict may be wrong", ctx->summary.export_missed);
    if (ctx->summary.export_records_missed)
        fprintf(text, "; WARNING: the exporters' sequence numbers show %" PRIu64 " records lost: a 'not seen' or"
                      " 'blocked' verdict may be wrong", ctx->summary.export_records_missed);
    if (ctx->summary.socket_dropped)
        fprintf(text, "; WARNING: %" PRIu64 " datagrams dropped by the kernel (socket buffer full): a 'not seen'"
                      " or 'blocked' verdict may be wrong", ctx->summary.socket_dropped);
    if (fa_kafka_out_unpublished(ctx->kafka))
        fprintf(text, "; WARNING: %" PRIu64 " flow records not published to Kafka (queue full): the auditor's"
                      " verdicts for this sensor may be wrong", fa_kafka_out_unpublished(ctx->kafka));
    if (ctx->summary.waiting)
        fprintf(text, "; %" PRIu64 " flow records wait up to 60 s for their other direction or an unreachable,"
                      " not judged yet", ctx->summary.waiting);
    fputc('\n', text);
}

/* Runs that go on until stopped (live capture, collection, an auditor of
 * sensors) report by the wall clock, over windows. */
static bool windowed(const fa_options *o)
{
    return fa_options_live(o) || o->kafka_in;
}

/* The time a report describes, its records' "ts": the newest packet or
 * flow record (live: or the wall clock at the last poll, if later); 0 when
 * reading files gave neither. */
static uint64_t report_time(const fa_run *ctx)
{
    uint64_t end = ctx->clock_us > ctx->last_ts ? ctx->clock_us : ctx->last_ts;
    return ctx->summary.packets || ctx->have_records || windowed(ctx->opts) ? end : 0;
}

/* What the report says it audited: the inputs, the configuration and the
 * time the packets span (live, and an auditor of sensors: the window). */
static void set_scope(fa_run *ctx)
{
    const fa_options *o = ctx->opts;
    fa_audit_scope s = {
        .inputs = o->nifaces ? o->ifaces : o->collect.set ? &o->collect.text : o->kafka_in ? &o->kafka_in : o->files,
        .ninputs = o->nifaces ? o->nifaces : o->collect.set || o->kafka_in ? 1 : o->nfiles,
        .live = fa_options_live(o),
        .rules_dir = o->rules_dir ? o->rules_dir : fa_default_rules_dir(),
        .site_file = o->site_path,
        .first_us = windowed(o) ? ctx->window_start_us : ctx->first_ts,
        .last_us = report_time(ctx),
        .records = ctx->summary.record_formats != 0,
        .sampling = ctx->summary.sampling,
        .joined = ctx->summary.uniflows_joined / 2,
    };
    fa_audit_set_scope(ctx->audit, &s);
}

/* --html and --dot, rewritten whole at each report. */
static void write_pictures(fa_run *ctx)
{
    const fa_options *o = ctx->opts;
    char err[512];
    if ((o->html_path && fa_html_write_file(o->html_path, ctx->audit, ctx->ws, err, sizeof err) != 0) ||
        (o->dot_path && ctx->audit && fa_dot_write_file(o->dot_path, ctx->audit, err, sizeof err) != 0)) {
        fprintf(stderr, "flowaudit: %s\n", err);
        ctx->pictures_failed = true;
    }
}

static void judge_open(fa_flow *f, void *arg)
{
    fa_audit_open_flow(arg, f);
}

/* The audit report goes where the summary goes; its records follow the
 * flow records in the NDJSON stream. A live report also counts what the
 * flows still open have already shown (an answer, a refusal), then forgets
 * it, since those flows are judged again when they end. */
int fa_run_report(fa_run *ctx, bool final, fa_run_result *res)
{
    ctx->reports++;
    FILE *text = text_out(ctx);
    bool color = isatty(fileno(text)) && !getenv("NO_COLOR");
    bool quiet = ctx->opts->quiet;
    unsigned found = fa_ws_killed(ctx->ws) ? FA_FAIL_WS_KILLED : 0;
    int rc = 0;
    bool records = ctx->json && !ctx->json_failed;
    if (ctx->nparts)
        fa_run_parts_gather(ctx);
    ctx->sink.ts_us = report_time(ctx);
    if (records && windowed(ctx->opts) && (ctx->audit || fa_ws_sessions(ctx->ws)))
        report_marker(ctx, final);
    bool open_flows = ctx->audit && !final && fa_options_live(ctx->opts);
    if (ctx->audit) {
        set_scope(ctx);
        fa_audit_set_watch(ctx->audit, ctx->watch, ctx->watch_arg);
        if (open_flows) {
            fa_audit_checkpoint(ctx->audit);
            each_older(ctx, UINT64_MAX, 0, judge_open, ctx->audit);
        }
        fa_audit_finish(ctx->audit);
        found |= fa_audit_findings(ctx->audit);
        if (!quiet)
            rc |= fa_audit_print_text(ctx->audit, text, color);
        if (!quiet && fa_options_live(ctx->opts))
            live_note(ctx, text);
        if (records && fa_audit_json_records(ctx->audit, &ctx->sink) != 0)
            ctx->json_failed = true;
    }
    if (!quiet && (ctx->audit || fa_ws_sessions(ctx->ws))) {
        if (ctx->audit)
            fputc('\n', text);
        rc |= fa_ws_print_text(ctx->ws, text, color);
        if (ctx->summary.record_formats)
            fputs("  (flow records carry no packets: how a WebSocket or long-lived session ended is judged"
                  " from packets only)\n", text);
    }
    if (records && (ctx->audit || fa_ws_sessions(ctx->ws)) && fa_ws_json_records(ctx->ws, &ctx->sink) != 0)
        ctx->json_failed = true;
    write_pictures(ctx);
    if (open_flows)
        fa_audit_rollback(ctx->audit);
    if (res)
        res->findings = (found & ctx->opts->fail_on) != 0;
    fflush(text);
    return rc;
}

fa_run *fa_run_start(const fa_options *o, const fa_signals *sig, char *err, size_t errlen)
{
    fa_run *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ctx->opts = o;
    ctx->top = ctx;
    ctx->sink = (fa_json_sink){sink_put, sink_put_rec, ctx, 0};
    if (load_config(ctx, err, errlen) != 0)
        goto fail;
    fa_json_file *jf = NULL;
    ctx->json = open_json(o->json_path, sig, &jf, &ctx->json_buf, err, errlen);
    if (o->json_path && !ctx->json)
        goto fail;
    /* Reading files with the records going to a file only: the rules stay
     * as loaded until the end, so the flow records' formatting can leave
     * the processing thread (a tenth of its time on a busy capture). */
    if (jf && !o->nifaces && !o->collect.set && !o->kafka_in && !o->kafka_out) {
        fa_json_file_jobs(jf, sizeof(flow_job), format_flow_job, ctx);
        ctx->json_jobs = jf;
    }
    if (o->kafka_out && !(ctx->kafka = fa_kafka_out_open(o, sig, err, errlen))) {
        if (ctx->json && ctx->json != stdout)
            fclose(ctx->json);
        free(ctx->json_buf);
        goto fail;
    }
    ctx->flows = fa_flow_table_new(&o->flow, fa_run_flow_end, ctx);
    if (o->nifaces)
        ctx->batch = fa_batch_new();
    if (!ctx->flows || (o->nifaces && !ctx->batch) ||
        (o->nifaces && o->workers > 1 && fa_run_parts_new(ctx, o->workers, err, errlen) != 0)) {
        fa_flow_table_free(ctx->flows);
        free(ctx->batch);
        if (!ctx->nparts)
            snprintf(err, errlen, "out of memory for %u flows", o->flow.max_flows);
        fa_run_parts_free(ctx);
        char kerr[256];
        fa_kafka_out_close(ctx->kafka, kerr, sizeof kerr);
        if (ctx->json && ctx->json != stdout)
            fclose(ctx->json);
        free(ctx->json_buf);
        goto fail;
    }
    return ctx;
fail:
    free_config(ctx);
    free(ctx);
    return NULL;
}

/* Closes the evidence file and the NDJSON stream; a failed write turns a
 * good run into an error. */
static int close_outputs(fa_run *ctx, int rc, char *err, size_t errlen)
{
    const fa_options *o = ctx->opts;
    fa_evidence_close(ctx->evidence);
    fa_evidence_file_close(ctx->evidence_file);
    if (rc == 0 && ctx->evidence_failed) {
        snprintf(err, errlen, "%s: cannot write the evidence file", o->evidence_path);
        rc = -1;
    }
    if (ctx->json && fflush(ctx->json) != 0)
        ctx->json_failed = true;
    if (ctx->json && ctx->json != stdout && fclose(ctx->json) != 0)
        ctx->json_failed = true;
    free(ctx->json_buf);
    fa_json_rec_free(&ctx->line);
    if (rc == 0 && ctx->pictures_failed) {
        snprintf(err, errlen, "the --html or --dot file could not be written");
        rc = -1;
    }
    if (rc == 0 && ctx->json_failed) {
        snprintf(err, errlen, "%s: write failed", o->json_path);
        rc = -1;
    }
    if (rc == 0 && ctx->text_failed) {
        snprintf(err, errlen, "%s: write failed", text_out(ctx) == stdout ? "standard output" : "standard error");
        rc = -1;
    }
    return rc;
}

int fa_run_finish(fa_run *ctx, int rc, fa_run_result *res, char *err, size_t errlen)
{
    const fa_options *o = ctx->opts;
    res->findings = 0;
    drop_reload(ctx);
    fa_flow_table_flush(ctx->flows, FA_END_EOF);
    fa_run_parts_flush(ctx);
    FILE *text = text_out(ctx);
    if (fa_run_report(ctx, true, res) != 0)
        ctx->text_failed = true;
    /* An input that failed before its first packet has nothing to sum up. */
    if (!o->quiet && (rc == 0 || ctx->summary.packets > 0)) {
        if (ctx->audit || fa_ws_sessions(ctx->ws))
            fputc('\n', text);
        fa_flow_stats fs = *fa_flow_table_stats(ctx->flows);
        fa_run_parts_sum(ctx, &ctx->summary, &fs);
        fa_summary_print(&ctx->summary, &fs, ctx->live.valid ? &ctx->live : NULL, text);
        fa_run_parts_print(ctx, text);
        if (ctx->kafka)
            fprintf(text, "kafka     records not published %" PRIu64 " (the producer's queue was full)%s\n",
                    fa_kafka_out_unpublished(ctx->kafka),
                    fa_kafka_out_unpublished(ctx->kafka) ? ": the auditor's verdicts for this sensor may be wrong"
                                                         : "");
    }
    if (!o->quiet && (ctx->evidence || ctx->evidence_file))
        print_evidence(ctx, text);
    /* A report that did not reach its reader is no report: say so in the
     * exit status, as tcpdump does for a full disk. */
    if (fflush(text) != 0 || ferror(text))
        ctx->text_failed = true;
    fa_flow_table_free(ctx->flows);
    free(ctx->batch);
    fa_run_parts_free(ctx);
    if (ctx->json_jobs)
        fa_json_file_drain(ctx->json_jobs);
    free_config(ctx);
    char kerr[512];
    if (fa_kafka_out_close(ctx->kafka, kerr, sizeof kerr) != 0 && rc == 0) {
        snprintf(err, errlen, "%s", kerr);
        rc = -1;
    }
    rc = close_outputs(ctx, rc, err, errlen);
    free(ctx);
    return rc;
}
