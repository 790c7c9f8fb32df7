/* packet_queue.h - decoded packets waiting a few places for the flow table.
 *
 * Sits between decode and the flow table (capture -> decode -> queue ->
 * flow table -> detect -> report). On a busy table each packet's hash
 * bucket and flow record are cache misses, one after the other; waiting in
 * the queue lets the flow table fetch them while the packets ahead are
 * processed, so the misses overlap instead of adding up. Packets leave in
 * the order they came, so nothing downstream can tell the queue is there.
 *
 * libpcap reuses its buffer for the next packet, so a frame is copied into
 * the queue's arena and decoded from the copy. */
#ifndef FLOWAUDIT_PACKET_QUEUE_H
#define FLOWAUDIT_PACKET_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "flow_table.h"

/* Places in the queue. A packet's bucket is fetched when it enters, its
 * flow record halfway through, and it is processed on leaving: each fetch
 * has the time of a few packets' work to arrive. */
#define FA_PQ_DEPTH 16
/* Frames in the queue share this many bytes; a longer frame is processed
 * at once, without queueing. */
#define FA_PQ_ARENA (128u * 1024u)

typedef struct fa_queued {
    fa_packet pkt;           /* decoded from frame */
    fa_flow_hint hint;
    uint8_t *frame;          /* the copy in the arena */
    size_t frame_off;
    uint32_t frame_len;
    int dlt;
} fa_queued;

typedef struct fa_packet_queue {
    fa_queued slot[FA_PQ_DEPTH];
    unsigned head, count;
    uint8_t arena[FA_PQ_ARENA];
} fa_packet_queue;

void fa_pq_init(fa_packet_queue *q);
bool fa_pq_full(const fa_packet_queue *q);
bool fa_pq_empty(const fa_packet_queue *q);

/* Room for a frame of caplen bytes at the tail: the slot to fill, its
 * frame pointing at caplen free bytes of the arena. NULL when the queue or
 * the arena is full (take packets out first) or the frame can never fit. */
fa_queued *fa_pq_reserve(fa_packet_queue *q, uint32_t caplen);
/* Adds the slot fa_pq_reserve returned; without this it is not queued. */
void fa_pq_commit(fa_packet_queue *q);
/* The packet n places behind the head (0 = next out), or NULL. */
fa_queued *fa_pq_at(fa_packet_queue *q, unsigned n);
/* Takes the head out. Its frame stays valid until the next reserve. */
fa_queued *fa_pq_pop(fa_packet_queue *q);

#endif
