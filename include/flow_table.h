/* flow_table.h - the bounded table of active flows.
 *
 * Pipeline stage 3 (capture -> decode -> flow table -> detect -> report).
 * Flows live in a pool reserved for --max-flows records and recycled
 * through a free list, so the per-packet path allocates nothing (the hash
 * chains link slot numbers; their bucket array is made with the first
 * flow, sized for the cap, and doubled only if a chain reaches twenty
 * flows, to one bucket per slot at most). Each flow sits on one
 * least-recently-active list per timeout class; expiry walks the list
 * heads, eviction takes the oldest head. A finished flow is handed to the
 * caller's callback and then recycled: copy what you keep. */
#ifndef FLOWAUDIT_FLOW_TABLE_H
#define FLOWAUDIT_FLOW_TABLE_H

#include <stdint.h>

#include "decode.h"
#include "flow.h"

typedef enum fa_timeout_class {
    FA_TMO_TCP_ATTEMPT,      /* SYN sent, nothing back yet */
    FA_TMO_TCP_ESTABLISHED,  /* open (or mid-stream) TCP */
    FA_TMO_TCP_CLOSED,       /* FIN both ways or RST: linger for stragglers */
    FA_TMO_TCP_HALF_CLOSED,  /* one side sent FIN */
    FA_TMO_UDP,
    FA_TMO_ICMP,
    FA_TMO_OTHER,
    FA_TMO_COUNT
} fa_timeout_class;

/* Name used by --timeout NAME=SECONDS ("tcp-attempt", ...). */
const char *fa_timeout_class_name(fa_timeout_class c);
int fa_timeout_class_parse(const char *name);

typedef struct fa_flow_config {
    uint32_t max_flows;                /* pool cap; LRU eviction beyond */
    uint32_t timeout_s[FA_TMO_COUNT];  /* idle seconds per class */
    /* 0: a random hash seed per table, so that no one can aim traffic at
     * one chain; else this one, for runs that must repeat exactly (the
     * fuzz targets: the same input, the same chains, the same coverage). */
    uint64_t hash_seed;
} fa_flow_config;

/* Defaults: 262144 flows; tcp-attempt 30 s after the SYN, tcp-established
 * 7200 s idle (longer than the common middlebox idle timeouts, up to an
 * hour, so an idle but open connection is not split in two), tcp-closed 5 s, tcp-half-closed 300 s, udp 60 s,
 * icmp 60 s, other 60 s. */
void fa_flow_config_default(fa_flow_config *cfg);

typedef struct fa_flow_stats {
    uint64_t packets;             /* packets given to the table */
    uint64_t flows_created;
    uint64_t flows_ended[FA_END_REUSED + 1]; /* by fa_end_reason */
    uint64_t flows_active;
    uint64_t flows_peak;
    /* Flows ended by --max-flows are flows_ended[FA_END_EVICTED] when still
     * open, and counted here when they had already closed (FIN both ways
     * or RST) and only lingered: their end reason stays fin or rst_*. */
    uint64_t closed_reclaimed;
    uint64_t flows_continued;     /* connections picked up again after a timeout or eviction */
    uint64_t duplicates;          /* exact duplicate frames */
    uint64_t fragments_attributed;
    uint64_t fragments_unattributed; /* later fragment with no first fragment seen */
    uint64_t icmp_errors_attributed;
    uint64_t icmp_errors_unmatched;
    uint64_t icmp_errors_claimed; /* --workers: unmatched where they arrived, charged by another table */
    uint64_t pool_bytes;          /* flow records and their list and chain links touched (high-water mark) */
    uint64_t bucket_bytes;        /* the hash chains' bucket array */
} fa_flow_stats;

/* Memory of one flow slot: the record, its list links and its hash chain
 * link. */
#define FA_FLOW_SLOT_BYTES (sizeof(fa_flow) + 16)

typedef struct fa_flow_table fa_flow_table;

/* Called once for every flow that ends, before it is recycled. */
typedef void (*fa_flow_end_fn)(fa_flow *flow, void *ctx);

/* Returns a new table (free with fa_flow_table_free) or NULL when out of
 * memory. cfg is copied. */
fa_flow_table *fa_flow_table_new(const fa_flow_config *cfg, fa_flow_end_fn on_end, void *ctx);
void fa_flow_table_free(fa_flow_table *t);
/* Empties the table and makes it what fa_flow_table_new made, with the
 * same configuration, callback and hash seed: the same packets then give
 * the same flows, callbacks and counters. Flows still active are dropped
 * without their callback (fa_flow_table_flush first to have them). The
 * pool stays mapped, and the memory it has touched stays in use, so that
 * reuse costs no allocation. */
void fa_flow_table_reset(fa_flow_table *t);

/* Accounts one decoded packet. Returns the flow it belongs to (valid until
 * the next call) and sets *dir to 0 if the originator sent it, 1 if the
 * responder did; NULL when the packet belongs to no flow (an unattributed
 * fragment, or no memory for a new flow). Expires idle flows as packet time
 * advances. */
fa_flow *fa_flow_table_packet(fa_flow_table *t, const fa_packet *p, int *dir);

/* A packet's canonical key and its hash, worked out ahead of its turn so
 * that the memory it will touch can be fetched while earlier packets are
 * processed. Not valid for later fragments, whose ports depend on the
 * packets before them. */
typedef struct fa_flow_hint {
    fa_flow_key key;
    uint32_t hashv;
    bool sender_lo;
    bool valid;
} fa_flow_hint;

/* Ports that Zeek's analyzers register (and those below 1024): a first
 * packet sent from one of them was probably sent by the server. */
bool fa_flow_likely_server_port(uint16_t port);
/* The canonical key of a connection from (src, sport) to (dst, dport);
 * returns true when the source is the key's lower end (FA_FLOW_ORIG_IS_LO
 * for a flow it opened). For flows made outside the table (records.h). */
bool fa_flow_table_make_key(fa_flow_key *k, uint8_t proto, const fa_addr *src, uint16_t sport,
                            const fa_addr *dst, uint16_t dport);
/* Fills the hint. Reads only what is fixed when the table is made (the
 * hash seed), so another thread may call it while the table is in use. */
void fa_flow_table_key(const fa_flow_table *t, const fa_packet *p, fa_flow_hint *h);
/* Starts fetching the hint's hash bucket; a few packets later, when it
 * has arrived, fa_flow_table_prefetch starts fetching the flow record at
 * the head of its chain. Only hints to the CPU: the table may change
 * before the packet's turn. */
void fa_flow_table_prefetch_bucket(const fa_flow_table *t, const fa_flow_hint *h);
void fa_flow_table_prefetch(const fa_flow_table *t, const fa_flow_hint *h);
/* The flow at the head of the hint's chain as the table is now, most
 * often the hint's own flow, or NULL: for fetching what the stages after
 * the table will read of it. Not a lookup; valid until the table changes. */
const fa_flow *fa_flow_table_chain_head(const fa_flow_table *t, const fa_flow_hint *h);
/* fa_flow_table_packet with the key and hash from a hint made for p
 * (NULL: none). */
fa_flow *fa_flow_table_packet_hinted(fa_flow_table *t, const fa_packet *p, const fa_flow_hint *hint,
                                     int *dir);

/* Calls fn for every active flow that started at least age_us before
 * now_us (interim records of long-lived flows), in slot order. fn must
 * not end flows. */
void fa_flow_table_each_older(fa_flow_table *t, uint64_t now_us, uint64_t age_us,
                              void (*fn)(fa_flow *f, void *ctx), void *ctx);

/* A flow's slot number, stable while it is active (evidence ring key). */
uint32_t fa_flow_table_index(const fa_flow_table *t, const fa_flow *f);
/* The slot number of the active flow the last packet, an ICMP error, was
 * charged to (not the error's own flow); false when it charged none. */
bool fa_flow_table_charged(const fa_flow_table *t, uint32_t *index);
/* An ICMP error that another table received and could not charge (its
 * packet p carries the quote, type, code and time): charged here if this
 * table holds the flow it quotes. Returns true when it did, with the
 * flow's index (fa_flow_table_index) in *index. */
bool fa_flow_table_claim_icmp_error(fa_flow_table *t, const fa_packet *p, uint32_t *index);
/* Adds the counters of b to a (--workers: one summary for the tables):
 * sums, and the peaks and memory of the tables side by side. */
void fa_flow_stats_add(fa_flow_stats *a, const fa_flow_stats *b);

/* Ends every flow idle for longer than its class allows at time now_us. */
void fa_flow_table_expire(fa_flow_table *t, uint64_t now_us);
/* Ends every remaining flow with the given reason (end of input). */
void fa_flow_table_flush(fa_flow_table *t, fa_end_reason why);
const fa_flow_stats *fa_flow_table_stats(const fa_flow_table *t);

#endif
