/* pipeline.c - the main loop: read each input, decode, track flows, write
 * a record per finished flow, print the summary. */
#include "pipeline.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "capture.h"
#include "decode.h"
#include "flow_json.h"
#include "flow_table.h"
#include "rules.h"
#include "site.h"
#include "summary.h"
#include "ws_detect.h"

typedef struct run_ctx {
    const fa_options *opts;
    FILE *json;
    bool json_failed;
    fa_summary summary;
    fa_flow_table *flows;
    fa_ruleset *rules;       /* NULL: no audit, flows only */
    fa_site *site;           /* NULL: port-only audit */
    fa_audit *audit;
    fa_ws *ws;
    uint64_t last_ts;
    bool show_progress;
    struct timespec progress_at;
    uint64_t progress_pkts;
} run_ctx;

static void write_record(run_ctx *ctx, json_t *o)
{
    if (ctx->json && !ctx->json_failed && (!o || fa_json_write_line(ctx->json, o) != 0))
        ctx->json_failed = true;
    json_decref(o);
}

/* Did the audit put this flow on a websocket or long-lived row? */
static void rule_flags(const run_ctx *ctx, const fa_flow_verdict *v, bool *ws, bool *ll)
{
    *ws = *ll = false;
    if (!ctx->audit || v->verdict != FA_VERDICT_DOCUMENTED)
        return;
    for (int i = 0; i < v->nrules; i++) {
        *ws |= ctx->rules->rules[v->rules[i]].websocket;
        *ll |= ctx->rules->rules[v->rules[i]].longlived;
    }
}

static void on_flow_end(fa_flow *f, void *arg)
{
    run_ctx *ctx = arg;
    fa_flow_verdict v;
    bool ws, ll;
    fa_summary_add_flow(&ctx->summary, f);
    if (ctx->audit)
        fa_audit_flow(ctx->audit, f, &v);
    rule_flags(ctx, &v, &ws, &ll);
    json_t *session = fa_ws_flow_end(ctx->ws, f, ws, ll);
    if (!ctx->json || ctx->json_failed) {
        json_decref(session);
        return;
    }
    json_t *o = fa_flow_to_json(f);
    if (o && ctx->audit)
        fa_audit_verdict_json(ctx->audit, &v, o);
    write_record(ctx, o);
    if (session)
        write_record(ctx, session);
}

static double elapsed(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* At most twice a second: "12.3/100.0 MB (12%), 345678 pkt/s". */
static void show_progress(run_ctx *ctx, fa_capture *cap, bool final)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double dt = elapsed(&ctx->progress_at, &now);
    if (!final && dt < 0.5)
        return;
    uint64_t done, total;
    fa_capture_progress(cap, &done, &total);
    double rate = dt > 0 ? (double)(ctx->summary.packets - ctx->progress_pkts) / dt : 0;
    if (total)
        fprintf(stderr, "\r%.1f/%.1f MB (%.0f%%), %.0f pkt/s   ", done / 1e6, total / 1e6,
                100.0 * (double)done / (double)total, rate);
    else
        fprintf(stderr, "\r%.1f MB, %.0f pkt/s   ", done / 1e6, rate);
    if (final)
        fputc('\n', stderr);
    ctx->progress_at = now;
    ctx->progress_pkts = ctx->summary.packets;
}

static void handle_packet(run_ctx *ctx, int dlt, const uint8_t *data, uint32_t caplen, uint32_t len,
                          uint64_t ts)
{
    fa_packet pkt;
    ctx->summary.packets++;
    ctx->summary.bytes += len;
    if (ts < ctx->last_ts)
        ctx->summary.ts_backwards++;
    else
        ctx->last_ts = ts;
    fa_decode_result r = fa_decode(dlt, data, caplen, len, &pkt);
    ctx->summary.decode[r]++;
    if (r != FA_DEC_OK)
        return;
    pkt.ts_us = ts;
    if (pkt.payload_caplen < pkt.payload_len)
        ctx->summary.payload_cut++;
    int dir;
    fa_flow *f = fa_flow_table_packet(ctx->flows, &pkt, &dir);
    if (f)
        fa_ws_packet(ctx->ws, f, dir, &pkt);
}

static int read_capture(run_ctx *ctx, fa_capture *cap, volatile sig_atomic_t *stop, char *err,
                        size_t errlen)
{
    int dlt = fa_capture_datalink(cap);
    const uint8_t *data;
    uint32_t caplen, len;
    uint64_t ts;
    for (;;) {
        if (*stop)
            return 0;
        fa_next n = fa_capture_next(cap, &data, &caplen, &len, &ts, err, errlen);
        if (n == FA_NEXT_EOF)
            break;
        if (n == FA_NEXT_ERROR)
            return -1;
        if (n == FA_NEXT_PACKET)
            handle_packet(ctx, dlt, data, caplen, len, ts);
        if (ctx->show_progress && (ctx->summary.packets & 4095) == 0)
            show_progress(ctx, cap, false);
    }
    if (ctx->show_progress)
        show_progress(ctx, cap, true);
    return 0;
}

static int read_inputs(run_ctx *ctx, volatile sig_atomic_t *stop, fa_capture_stats *live,
                       char *err, size_t errlen)
{
    const fa_options *o = ctx->opts;
    if (o->iface) {
        fa_capture *cap;
        if (fa_capture_open_live(&cap, o->iface, &o->capture, err, errlen) != 0)
            return -1;
        ctx->summary.files = 0;
        int rc = read_capture(ctx, cap, stop, err, errlen);
        fa_capture_stats_get(cap, live);
        fa_capture_close(cap);
        return rc;
    }
    for (int i = 0; i < o->nfiles && !*stop; i++) {
        fa_capture *cap;
        if (fa_capture_open_file(&cap, o->files[i], &o->capture, err, errlen) != 0)
            return -1;
        ctx->summary.files++;
        ctx->show_progress = o->progress == 1 || (o->progress == -1 && isatty(STDERR_FILENO) &&
                                                   strcmp(o->files[i], "-") != 0);
        clock_gettime(CLOCK_MONOTONIC, &ctx->progress_at);
        size_t n = strlen(o->files[i]);
        int rc = read_capture(ctx, cap, stop, err, errlen);
        fa_capture_close(cap);
        if (rc != 0) {
            /* Keep libpcap's message, name the file. */
            char msg[512];
            snprintf(msg, sizeof msg, "%.*s: %s", (int)n, o->files[i], err);
            snprintf(err, errlen, "%s", msg);
            return -1;
        }
    }
    return 0;
}

static FILE *open_json(const char *path, char *err, size_t errlen)
{
    if (!path)
        return NULL;
    if (strcmp(path, "-") == 0)
        return stdout;
    FILE *f = fopen(path, "w");
    if (!f)
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return f;
}

/* The detector follows ports of websocket and long-lived TCP rows. */
static int start_detector(run_ctx *ctx, char *err, size_t errlen)
{
    fa_ws_config cfg;
    fa_ws_config_default(&cfg);
    cfg.min_idle_s = ctx->opts->ws_min_idle_s;
    for (int i = 0; ctx->rules && i < ctx->rules->nrules; i++) {
        const fa_rule *r = &ctx->rules->rules[i];
        if ((r->websocket || r->longlived) && (r->transports & FA_TR_TCP))
            fa_ws_config_add_ports(&cfg, ctx->site ? fa_site_rule_dports(ctx->site, ctx->rules, i) : &r->dports);
    }
    if (!(ctx->ws = fa_ws_new(&cfg))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* Loads the matrices and the site when an audit was asked for. */
static int load_config(run_ctx *ctx, char *err, size_t errlen)
{
    const fa_options *o = ctx->opts;
    if (!o->rules_dir && !o->site_path)
        return start_detector(ctx, err, errlen);
    ctx->rules = fa_rules_new();
    if (!ctx->rules) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (fa_rules_load_dir(ctx->rules, o->rules_dir ? o->rules_dir : fa_default_rules_dir(), err, errlen) != 0)
        return -1;
    if (o->site_path && !(ctx->site = fa_site_load_file(ctx->rules, o->site_path, err, errlen)))
        return -1;
    if (!(ctx->audit = fa_audit_new(ctx->rules, ctx->site))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return start_detector(ctx, err, errlen);
}

static void free_config(run_ctx *ctx)
{
    fa_ws_free(ctx->ws);
    fa_audit_free(ctx->audit);
    fa_site_free(ctx->site);
    fa_rules_free(ctx->rules);
}

/* The audit report goes where the summary goes; its records follow the
 * flow records in the NDJSON stream. */
static int finish_audit(run_ctx *ctx, FILE *text, fa_pipeline_result *res)
{
    bool color = isatty(fileno(text)) && !getenv("NO_COLOR");
    unsigned found = fa_ws_killed(ctx->ws) ? FA_FAIL_WS_KILLED : 0;
    int rc = 0;
    if (ctx->audit) {
        fa_audit_finish(ctx->audit);
        found |= fa_audit_findings(ctx->audit);
        if (!ctx->opts->quiet)
            rc |= fa_audit_print_text(ctx->audit, text, color);
        if (ctx->json && !ctx->json_failed && fa_audit_write_json(ctx->audit, ctx->json) != 0)
            ctx->json_failed = true;
    }
    if (!ctx->opts->quiet && (ctx->audit || fa_ws_sessions(ctx->ws))) {
        if (ctx->audit)
            fputc('\n', text);
        rc |= fa_ws_print_text(ctx->ws, text, color);
    }
    if (ctx->json && !ctx->json_failed && (ctx->audit || fa_ws_sessions(ctx->ws)) &&
        fa_ws_write_json(ctx->ws, ctx->json) != 0)
        ctx->json_failed = true;
    res->findings = (found & ctx->opts->fail_on) != 0;
    return rc;
}

int fa_pipeline_run(const fa_options *o, volatile sig_atomic_t *stop, fa_pipeline_result *res,
                    char *err, size_t errlen)
{
    run_ctx ctx = {.opts = o};
    fa_capture_stats live = {0};
    res->findings = 0;
    if (load_config(&ctx, err, errlen) != 0) {
        free_config(&ctx);
        return -1;
    }
    ctx.json = open_json(o->json_path, err, errlen);
    if (o->json_path && !ctx.json) {
        free_config(&ctx);
        return -1;
    }
    ctx.flows = fa_flow_table_new(&o->flow, on_flow_end, &ctx);
    if (!ctx.flows) {
        snprintf(err, errlen, "out of memory for %u flows", o->flow.max_flows);
        if (ctx.json && ctx.json != stdout)
            fclose(ctx.json);
        free_config(&ctx);
        return -1;
    }
    int rc = read_inputs(&ctx, stop, &live, err, errlen);
    fa_flow_table_flush(ctx.flows, FA_END_EOF);
    /* With NDJSON on stdout the summary goes to stderr, keeping stdout
     * machine-readable. */
    FILE *text = ctx.json == stdout ? stderr : stdout;
    if (finish_audit(&ctx, text, res) != 0)
        ctx.json_failed = true;
    /* An input that failed before its first packet has nothing to sum up. */
    if (!o->quiet && (rc == 0 || ctx.summary.packets > 0)) {
        if (ctx.audit || fa_ws_sessions(ctx.ws))
            fputc('\n', text);
        fa_summary_print(&ctx.summary, fa_flow_table_stats(ctx.flows), live.valid ? &live : NULL, text);
    }
    fa_flow_table_free(ctx.flows);
    free_config(&ctx);
    if (ctx.json && fflush(ctx.json) != 0)
        ctx.json_failed = true;
    if (ctx.json && ctx.json != stdout && fclose(ctx.json) != 0)
        ctx.json_failed = true;
    if (rc == 0 && ctx.json_failed) {
        snprintf(err, errlen, "%s: write failed", o->json_path);
        rc = -1;
    }
    return rc;
}
