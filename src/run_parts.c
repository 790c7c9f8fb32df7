/* run_parts.c - the run core's side of --workers: a part per capture
 * thread (a run core of its own that writes no report), the lock they
 * share, ICMP errors handed to the part that holds the flow they quote,
 * and the parts' counters summed for reports and the summary. The
 * threads themselves are the driver's (workers.c). */
#include "run_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A part waits for an ICMP error from another part until it has itself
 * processed a packet as late, or this long after it by the wall clock:
 * enough for the kernel to retire the block holding the quoted flow's
 * packets (the read timeout is 200 ms) and for the thread to read it. */
#define SETTLE_US 1000000u
#define EXPIRE_EVERY_US 1000000u

void fa_run_lock(fa_run *ctx)
{
    if (ctx->nparts)
        pthread_mutex_lock(&ctx->lock);
}

void fa_run_unlock(fa_run *ctx)
{
    if (ctx->nparts)
        pthread_mutex_unlock(&ctx->lock);
}

static void part_free(fa_run *p)
{
    if (!p)
        return;
    fa_flow_table_free(p->flows);
    fa_evidence_close(p->evidence);
    fa_ws_free(p->ws);
    free(p->batch);
    fa_json_rec_free(&p->line);
    if (p->inbox)
        pthread_mutex_destroy(&p->inbox->mu);
    free(p->inbox);
    free(p);
}

/* Rules, site and audit stay the run's: a reload swaps them there, while
 * the parts are stopped. */
static fa_run *part_new(fa_run *top)
{
    fa_run *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->opts = top->opts;
    p->top = top;
    p->flows = fa_flow_table_new(&top->opts->flow, fa_run_flow_end, p);
    p->ws = fa_run_new_detector(top);
    p->batch = fa_batch_new();
    p->inbox = calloc(1, sizeof *p->inbox);
    if (!p->flows || !p->ws || !p->batch || !p->inbox) {
        part_free(p);
        return NULL;
    }
    pthread_mutex_init(&p->inbox->mu, NULL);
    return p;
}

int fa_run_parts_new(fa_run *ctx, int n, char *err, size_t errlen)
{
    for (int i = 0; i < n; i++) {
        if (!(ctx->parts[i] = part_new(ctx))) {
            snprintf(err, errlen, "out of memory for %d workers of %u flows", n, ctx->opts->flow.max_flows);
            fa_run_parts_free(ctx);
            return -1;
        }
        ctx->nparts = i + 1;
    }
    pthread_mutex_init(&ctx->lock, NULL);
    return 0;
}

void fa_run_parts_free(fa_run *ctx)
{
    if (!ctx->nparts)
        return;
    for (int i = 0; i < ctx->nparts; i++)
        part_free(ctx->parts[i]);
    pthread_mutex_destroy(&ctx->lock);
    ctx->nparts = 0;
}

/* The kernel's fanout hash cannot be computed here (its seed is the
 * kernel's), so the part that holds the quoted flow is not known: every
 * other part gets the error, and only the holder charges it. */
void fa_run_part_forward_icmp(fa_run *part, const fa_batched *e)
{
    fa_run *top = part->top;
    const fa_packet *p = &e->pkt;
    fa_icmp_note note = {.quote = p->quote, .ts_us = p->ts_us, .type = p->icmp_type, .code = p->icmp_code,
                         .dlt = e->dlt, .caplen = e->caplen, .len = e->wirelen};
    memcpy(note.frame, e->frame, e->caplen < sizeof note.frame ? e->caplen : sizeof note.frame);
    for (int i = 0; i < top->nparts; i++) {
        fa_inbox *in = top->parts[i]->inbox;
        if (top->parts[i] == part)
            continue;
        pthread_mutex_lock(&in->mu);
        if (in->n == FA_INBOX_SLOTS) {
            in->lost++;
        } else {
            in->notes[(in->head + in->n++) % FA_INBOX_SLOTS] = note;
            in->posted++;
        }
        pthread_mutex_unlock(&in->mu);
    }
}

/* Charges the notes whose time has come (all of them with now_us
 * UINT64_MAX); they arrive in about the order of their times. */
static void claim_notes(fa_run *part, uint64_t now_us)
{
    fa_inbox *in = part->inbox;
    pthread_mutex_lock(&in->mu);
    while (in->n) {
        const fa_icmp_note *n = &in->notes[in->head];
        if (n->ts_us > part->last_ts && (now_us < SETTLE_US || now_us - SETTLE_US < n->ts_us))
            break;
        fa_packet p;
        memset(&p, 0, sizeof p);
        p.quote = n->quote;
        p.ts_us = n->ts_us;
        p.icmp_type = n->type;
        p.icmp_code = n->code;
        p.icmp_error = true;
        uint32_t flow;
        if (fa_flow_table_claim_icmp_error(part->flows, &p, &flow)) {
            in->claimed++;
            if (part->evidence)
                fa_evidence_icmp_error_posted(part->evidence, n->dlt, flow, n->ts_us, n->frame, n->caplen, n->len);
        }
        in->head = (in->head + 1) % FA_INBOX_SLOTS;
        in->n--;
    }
    pthread_mutex_unlock(&in->mu);
}

void fa_run_part_tick(fa_run *part, uint64_t now_us)
{
    claim_notes(part, now_us);
    if (now_us >= part->next_expire_us) {
        fa_flow_table_expire(part->flows, now_us);
        part->next_expire_us = now_us + EXPIRE_EVERY_US;
    }
}

void fa_run_parts_gather(fa_run *ctx)
{
    fa_capture_stats sum = {.valid = true};
    fa_ws *ws[FA_MAX_WORKERS];
    for (int i = 0; i < ctx->nparts; i++) {
        const fa_run *p = ctx->parts[i];
        if (p->last_ts > ctx->last_ts)
            ctx->last_ts = p->last_ts;
        sum.valid &= p->live.valid;
        sum.received += p->live.received;
        sum.dropped += p->live.dropped;
        sum.if_dropped += p->live.if_dropped;
        ws[i] = p->ws;
    }
    ctx->live = sum;
    fa_ws_sum_drops(ctx->ws, ws, ctx->nparts);
}

void fa_run_parts_flush(fa_run *ctx)
{
    for (int i = 0; i < ctx->nparts; i++)
        claim_notes(ctx->parts[i], UINT64_MAX);
    for (int i = 0; i < ctx->nparts; i++)
        fa_flow_table_flush(ctx->parts[i]->flows, FA_END_EOF);
}

static void add(uint64_t *a, const uint64_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] += b[i];
}

#define ADD_ARRAY(a, b) add((a), (b), sizeof(a) / sizeof((a)[0]))

static void summary_add(fa_summary *a, const fa_summary *b)
{
    a->packets += b->packets;
    a->bytes += b->bytes;
    ADD_ARRAY(a->decode, b->decode);
    ADD_ARRAY(a->ts, b->ts);
    a->payload_cut += b->payload_cut;
    a->encapsulated += b->encapsulated;
    ADD_ARRAY(a->encap, b->encap);
    ADD_ARRAY(a->flows_by_proto, b->flows_by_proto);
    ADD_ARRAY(a->tcp_states, b->tcp_states);
    ADD_ARRAY(a->udp_states, b->udp_states);
}

void fa_run_parts_sum(const fa_run *ctx, fa_summary *s, fa_flow_stats *fs)
{
    for (int i = 0; i < ctx->nparts; i++) {
        summary_add(s, &ctx->parts[i]->summary);
        fa_flow_stats_add(fs, fa_flow_table_stats(ctx->parts[i]->flows));
    }
    /* An error another part charged was first counted unmatched where it
     * arrived. */
    fs->icmp_errors_unmatched -= fs->icmp_errors_claimed;
}

void fa_run_parts_evidence_sum(const fa_run *ctx, fa_evidence_stats *st)
{
    for (int i = 0; i < ctx->nparts; i++)
        if (ctx->parts[i]->evidence)
            fa_evidence_stats_add(st, fa_evidence_get_stats(ctx->parts[i]->evidence));
}

void fa_run_parts_print(const fa_run *ctx, FILE *out)
{
    for (int i = 0; i < ctx->nparts; i++) {
        const fa_run *p = ctx->parts[i];
        const fa_flow_stats *fs = fa_flow_table_stats(p->flows);
        fprintf(out, "  worker %d: %" PRIu64 " packets, %" PRIu64 " flows, peak active %" PRIu64
                     "; kernel received %" PRIu64
                     ", dropped %" PRIu64 ", if_dropped %" PRIu64 "; left unread from before the fanout group"
                     " was complete %" PRIu64 "; icmp errors posted to it %" PRIu64 ", charged %" PRIu64
                     ", lost (inbox full) %" PRIu64 "\n",
                i + 1, p->summary.packets, fs->flows_created, fs->flows_peak, p->live.received, p->live.dropped, p->live.if_dropped,
                p->start_skipped, p->inbox->posted, p->inbox->claimed, p->inbox->lost);
    }
}
