/* packet_queue.c - a short FIFO of decoded packets whose frames live in a
 * ring of bytes: frames leave in the order they were added, so the free
 * space is always one or two contiguous runs around the frames in use. */
#include "packet_queue.h"

void fa_pq_init(fa_packet_queue *q)
{
    q->head = q->count = 0;
}

bool fa_pq_full(const fa_packet_queue *q)
{
    return q->count == FA_PQ_DEPTH;
}

bool fa_pq_empty(const fa_packet_queue *q)
{
    return q->count == 0;
}

fa_queued *fa_pq_at(fa_packet_queue *q, unsigned n)
{
    return n < q->count ? &q->slot[(q->head + n) % FA_PQ_DEPTH] : NULL;
}

/* Where a frame of len bytes can go: false when nowhere. */
static bool arena_place(const fa_packet_queue *q, size_t len, size_t *off)
{
    if (q->count == 0) {
        *off = 0;
        return len <= FA_PQ_ARENA;
    }
    const fa_queued *oldest = &q->slot[q->head];
    const fa_queued *newest = &q->slot[(q->head + q->count - 1) % FA_PQ_DEPTH];
    size_t used_from = oldest->frame_off, free_from = newest->frame_off + newest->frame_len;
    if (newest->frame_off < oldest->frame_off) {
        /* Wrapped: the free run lies between the newest and the oldest. */
        *off = free_from;
        return len <= used_from - free_from;
    }
    /* Not wrapped: free after the newest frame, and before the oldest. */
    if (len <= FA_PQ_ARENA - free_from) {
        *off = free_from;
        return true;
    }
    *off = 0;
    return len <= used_from;
}

fa_queued *fa_pq_reserve(fa_packet_queue *q, uint32_t caplen)
{
    if (fa_pq_full(q))
        return NULL;
    size_t off;
    if (!arena_place(q, caplen, &off))
        return NULL;
    fa_queued *s = &q->slot[(q->head + q->count) % FA_PQ_DEPTH];
    s->frame = q->arena + off;
    s->frame_off = off;
    s->frame_len = caplen;
    return s;
}

void fa_pq_commit(fa_packet_queue *q)
{
    q->count++;
}

fa_queued *fa_pq_pop(fa_packet_queue *q)
{
    if (q->count == 0)
        return NULL;
    fa_queued *s = &q->slot[q->head];
    q->head = (q->head + 1) % FA_PQ_DEPTH;
    q->count--;
    return s;
}
