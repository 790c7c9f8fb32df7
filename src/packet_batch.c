/* packet_batch.c - filling a batch (frames copied end to end) and
 * readying its packets ahead of their turn. */
#include "packet_batch.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(FA_BATCH_ARENA >= 262144u, "a frame of libpcap's largest snapshot length must fit");

fa_batch *fa_batch_new(void)
{
    fa_batch *b = aligned_alloc(_Alignof(fa_batch), sizeof *b);
    if (b)
        fa_batch_reset(b);
    return b;
}

#define FRAME_AHEAD 16
#define BUCKET_AHEAD 8
#define RECORD_AHEAD 4

static void prepare(fa_batched *e, const fa_flow_table *t)
{
    e->result = (uint8_t)fa_decode(e->dlt, e->frame, e->caplen, e->wirelen, &e->pkt);
    if (e->result != FA_DEC_OK)
        return;
    e->pkt.ts_us = e->ts_us;
    fa_flow_table_key(t, &e->pkt, &e->hint);
    fa_flow_table_prefetch_bucket(t, &e->hint);
}

void fa_batch_look_ahead(fa_batch *b, const fa_flow_table *t, unsigned i)
{
    if (i == 0)
        for (unsigned k = 0; k < b->n && k < BUCKET_AHEAD; k++)
            prepare(&b->pkts[k], t);
    /* Two lines: an IPv6 TCP header ends at byte 74 of an Ethernet
     * frame, and the duplicate check hashes the first 64 bytes of IP. */
    if (i + FRAME_AHEAD < b->n) {
        const fa_batched *e = &b->pkts[i + FRAME_AHEAD];
        __builtin_prefetch(e->frame);
        if (e->caplen > 64)
            __builtin_prefetch(e->frame + 64);
    }
    if (i + BUCKET_AHEAD < b->n)
        prepare(&b->pkts[i + BUCKET_AHEAD], t);
    if (i + RECORD_AHEAD < b->n && b->pkts[i + RECORD_AHEAD].result == FA_DEC_OK)
        fa_flow_table_prefetch(t, &b->pkts[i + RECORD_AHEAD].hint);
}

/* Two packets ahead the flow's record has arrived (fetched at four), so
 * the detector's state it points to can be fetched in turn: the
 * detector's first read of it was a fifth of the processing thread's time
 * on a capture with 50,000 active flows. */
#define APP_AHEAD 2

void fa_batch_look_ahead_app(const fa_batch *b, const fa_flow_table *t, const fa_ws *ws, unsigned i)
{
    if (i + APP_AHEAD >= b->n || b->pkts[i + APP_AHEAD].result != FA_DEC_OK)
        return;
    const fa_flow *f = fa_flow_table_chain_head(t, &b->pkts[i + APP_AHEAD].hint);
    if (f)
        fa_ws_prefetch(ws, f);
}

uint64_t fa_batch_next_ts(const fa_batch *b, unsigned i)
{
    if (i + 1 < b->n)
        return b->pkts[i + 1].new_input ? FA_TS_INVALID : b->pkts[i + 1].ts_us;
    return b->next_ts_us;
}

void fa_batch_reset(fa_batch *b)
{
    b->n = 0;
    b->arena_used = 0;
    b->next_ts_us = FA_TS_INVALID;
}

bool fa_batch_add(fa_batch *b, int dlt, const uint8_t *data, uint32_t caplen, uint32_t len,
                  uint64_t ts_us)
{
    /* libpcap hands out at most 262144 bytes for the link types flowaudit
     * reads; anything longer would be cut here, not lost. */
    if (caplen > FA_BATCH_ARENA)
        caplen = FA_BATCH_ARENA;
    if (b->n == FA_BATCH_PACKETS || caplen > FA_BATCH_ARENA - b->arena_used)
        return false;
    fa_batched *e = &b->pkts[b->n++];
    uint8_t *copy = b->arena + b->arena_used;
    memcpy(copy, data, caplen);
    /* Frames start on cache lines: a frame's headers are one miss. */
    b->arena_used += ((size_t)caplen + 63) & ~(size_t)63;
    if (b->arena_used > FA_BATCH_ARENA)
        b->arena_used = FA_BATCH_ARENA;
    e->frame = copy;
    e->caplen = caplen;
    e->wirelen = len;
    e->ts_us = ts_us;
    e->dlt = dlt;
    e->new_input = false;
    return true;
}
