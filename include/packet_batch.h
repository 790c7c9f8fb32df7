/* packet_batch.h - captured frames waiting for decode and the flow table.
 *
 * The hand-over between capture and decode (capture -> batch -> decode ->
 * flow table -> detect -> report). The capture side copies each frame out
 * of libpcap's buffer, which libpcap reuses for the next packet; for files
 * that is all a second thread does (reader.h), while the first decodes and
 * processes the previous batch. Processing a batch looks ahead: a few
 * packets before a packet's turn it is decoded, its flow key worked out
 * and its hash bucket and flow record fetched, so the cache misses of a
 * busy flow table overlap instead of adding up (fa_run_batch). */
#ifndef FLOWAUDIT_PACKET_BATCH_H
#define FLOWAUDIT_PACKET_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "decode.h"
#include "flow_table.h"
#include "ws_detect.h"

/* Handing a batch from one thread to the other costs a lock and often a
 * wake-up: a thousand packets make that a small share. */
#define FA_BATCH_PACKETS 1024
/* Four times libpcap's largest snapshot length: any frame fits an empty
 * batch, and a thousand of the usual sizes fit one. */
#define FA_BATCH_ARENA (4u * 262144u)

typedef struct fa_batched {
    /* filled by the capture side */
    const uint8_t *frame;    /* the copy in the batch's arena */
    uint32_t caplen, wirelen;
    uint64_t ts_us;          /* FA_TS_INVALID when unrepresentable */
    int dlt;
    bool new_input;          /* the first packet of an input file */
    /* filled by the processing side, ahead of the packet's turn */
    uint8_t result;          /* fa_decode_result */
    fa_packet pkt;           /* valid when result is FA_DEC_OK */
    fa_flow_hint hint;       /* likewise */
} fa_batched;

typedef struct fa_batch {
    unsigned n;
    size_t arena_used;
    /* Files: the time of the frame read after the last one, from the same
     * file, which the flow clock may need to judge the last one's time;
     * FA_TS_INVALID when there is none (end of file, live capture). */
    uint64_t next_ts_us;
    fa_batched pkts[FA_BATCH_PACKETS];
    _Alignas(64) uint8_t arena[FA_BATCH_ARENA];
} fa_batch;

/* A batch made ready for filling, aligned as the arena needs (free() it),
 * or NULL when out of memory. */
fa_batch *fa_batch_new(void);
void fa_batch_reset(fa_batch *b);
/* Copies one frame in (cut to FA_BATCH_ARENA bytes, more than libpcap
 * ever hands out). Returns false, adding nothing, when the batch has no
 * room: hand it on and add the frame to a fresh one, where it always fits. */
bool fa_batch_add(fa_batch *b, int dlt, const uint8_t *data, uint32_t caplen, uint32_t len,
                  uint64_t ts_us);

/* The time, as read, of the packet after b->pkts[i] in the same file:
 * the next in the batch, or next_ts_us after the last; FA_TS_INVALID when
 * it is the first of another file or unknown. */
uint64_t fa_batch_next_ts(const fa_batch *b, unsigned i);
/* Readies packets for their turn, as the processing side calls it with
 * i = 0, 1, 2 ... before it processes b->pkts[i]: a frame's first line is
 * fetched 16 packets ahead; a packet is decoded, its flow key worked out
 * (fa_flow_table_key) and its hash bucket fetched 8 ahead; the flow record
 * at the head of the bucket's chain 4 ahead. Each fetch has a few packets'
 * work to arrive in. Once called for i, b->pkts[i] is decoded. */
void fa_batch_look_ahead(fa_batch *b, const fa_flow_table *t, unsigned i);
/* After fa_batch_look_ahead for packet i: starts fetching the detector's
 * state of the flow a packet a little further on belongs to. */
void fa_batch_look_ahead_app(const fa_batch *b, const fa_flow_table *t, const fa_ws *ws, unsigned i);

#endif
