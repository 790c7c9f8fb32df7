/* fuzz_decode.c - fuzz target: one frame through fa_decode, and a decoded
 * packet through a small flow table, then again as the reply, so the TCP
 * state machine and the ICMP/fragment attribution see hostile headers.
 *
 * Input: byte 0 picks the link type (fuzz_linktypes.h: byte 0 modulo the
 * table size) and how much of the frame the snaplen cut (byte 0 divided by
 * the table size, times 32 bytes: 0 for the seeds, which are whole frames);
 * bytes 1.. are the captured frame. */
#include "fuzz_target.h"
#include "fuzz_util.h"

#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "flow_table.h"
#include "fuzz_linktypes.h"

enum { FUZZ_FLOWS = 4, FUZZ_CUT_UNIT = 32 };
static const uint64_t fuzz_t0_us = 1700000000ull * 1000000ull;

static void on_end(fa_flow *flow, void *ctx)
{
    (void)flow;
    (*(unsigned *)ctx)++;
}

/* The reply to p: endpoints swapped, the rest as captured. */
static void reverse(const fa_packet *p, fa_packet *r)
{
    *r = *p;
    r->src = p->dst;
    r->dst = p->src;
    r->sport = p->dport;
    r->dport = p->sport;
    r->seq = p->ack;
    r->ack = p->seq;
    r->ts_us = p->ts_us + 1000;
}

/* The table is made once and reset after each packet, which leaves it as
 * new: making one per input (its fragment and resumption memory, its
 * pool) cost more than the rest of the input. */
static void track(const fa_packet *p)
{
    static fa_flow_table *t;
    static unsigned ended;
    if (!t) {
        fa_flow_config cfg;
        fa_flow_config_default(&cfg);
        cfg.max_flows = FUZZ_FLOWS;
        cfg.hash_seed = FUZZ_HASH_SEED;
        if (!(t = fa_flow_table_new(&cfg, on_end, &ended)))
            return;
    }
    fa_packet r;
    int dir;
    reverse(p, &r);
    fa_flow_table_packet(t, p, &dir);
    fa_flow_table_packet(t, &r, &dir);
    fa_flow_table_packet(t, p, &dir);
    fa_flow_table_flush(t, FA_END_EOF);
    if (fa_flow_table_stats(t)->flows_active != 0)
        abort();
    fa_flow_table_reset(t);
}

/* Decodes data[1..] as a frame of link type data[0] and tracks the packet. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int linktypes[] = FUZZ_LINKTYPES;
    const unsigned ntypes = sizeof linktypes / sizeof linktypes[0];
    if (size < 1 || size > UINT32_MAX / 2)
        return 0;
    int dlt = linktypes[data[0] % ntypes];
    if (!fa_decode_linktype_supported(dlt))
        abort();
    uint32_t caplen = (uint32_t)(size - 1);
    uint32_t wirelen = caplen + (uint32_t)(data[0] / ntypes) * FUZZ_CUT_UNIT;
    /* A private copy, so a read before or past the frame is caught. */
    uint8_t *frame = malloc(caplen ? caplen : 1);
    if (!frame)
        return 0;
    memcpy(frame, data + 1, caplen);
    fa_packet pkt;
    memset(&pkt, 0, sizeof pkt);
    fa_decode_result r = fa_decode(dlt, frame, caplen, wirelen, &pkt);
    if (r >= FA_DEC_COUNT || !fa_decode_result_name(r) || fa_decode_result_class(r) > 2)
        abort();
    if (r == FA_DEC_OK) {
        if (pkt.payload_caplen > caplen ||
            (pkt.payload_caplen && (pkt.payload < frame || pkt.payload > frame + caplen - pkt.payload_caplen)))
            abort();
        pkt.ts_us = fuzz_t0_us;
        track(&pkt);
    }
    free(frame);
    return 0;
}
