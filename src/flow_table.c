/* flow_table.c - bounded hash table of active flows: lookup by canonical
 * key, per-direction accounting, expiry by class, LRU eviction, fragment and
 * ICMP-error attribution. */
#include "flow_table.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#include "tcp_state.h"

/* A flow is its record and its slot links (16 bytes) plus its share of
 * the bucket array (1 to 4 bytes): under 200 bytes of memory. */
_Static_assert(sizeof(fa_flow) <= 176, "a flow record must stay within 176 bytes");
/* lru_class 7 marks a free slot. */
_Static_assert(FA_TMO_COUNT < 8, "a timeout class fits the flow's 3-bit lru_class");
#define FREE_CLASS 7

static uint64_t mix_word(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 31);
}

/* The key is five 64-bit words; mixing them whole (murmur3's finaliser at
 * the end, so the low bits that pick a bucket depend on every input bit)
 * is several times cheaper than a byte-wise hash. The seed is random per
 * run, so that no one can send traffic that piles every flow into one
 * chain. */
static uint32_t key_hash(const fa_flow_key *k, uint64_t seed)
{
    uint64_t w[5];
    _Static_assert(sizeof w == sizeof *k, "the key is five words");
    memcpy(w, k, sizeof w);
    uint64_t h = mix_word(mix_word(mix_word(mix_word(mix_word(seed, w[0]), w[1]), w[2]), w[3]), w[4]);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return (uint32_t)h;
}

/* The bucket array starts at the size the cap needs, a quarter bucket per
 * flow: doubling it rehashes every flow. */
#define FLOWS_PER_BUCKET_LOG2 2
#define MIN_BUCKETS_LOG2 5
/* A chain that reaches this many flows doubles the buckets. With flows
 * coming and going all the time, a threshold of ten is met by chance in
 * most long runs even at one flow a bucket (a Poisson tail met over a
 * million insertions), doubling the bucket memory for nothing. Twenty is
 * beyond chance at the cap's four flows a bucket, and the random seed
 * keeps anyone from aiming traffic at one chain. The array never grows
 * past one bucket per slot, nor again after a doubling that left the
 * chain as long: keys that hash alike are not parted by more buckets. */
#define CHAIN_GROW 20

#define NIL UINT32_MAX
#define FRAG_SLOTS 1024
/* A span port's copy follows the original within microseconds; identical
 * bytes later than this are the host sending again. */
#define DUP_WINDOW_US 10000
#define EXPIRE_EVERY_US 1000000

typedef struct frag_slot {
    fa_addr src, dst;
    uint32_t id;
    uint8_t proto;
    bool used;
    uint16_t sport, dport;
} frag_slot;

/* A TCP connection whose flow was ended while still open (idle timeout,
 * eviction): if it speaks again, its sequence numbers say it is the same
 * connection, and the new flow is marked as continuing it. */
#define RECENT_SLOTS 4096
#define RESUME_WINDOW 1048576  /* bytes a resumed sender may have moved on */

typedef struct recent_slot {
    fa_flow_key key;
    uint32_t next_seq[2];        /* by canonical side: lo endpoint, hi endpoint */
    bool used;
} recent_slot;

typedef struct lru_list {
    uint32_t head, tail;
} lru_list;

/* A flow's neighbours in its expiry list (or the next free slot), and the
 * next flow in its hash chain with its hash. Kept out of the flow records
 * so that moving a flow in its list touches two of these small entries,
 * which mostly stay in the cache, instead of the records of two unrelated
 * flows, which mostly do not; and a chain is walked by comparing hashes
 * here, reading only the record whose hash matches. Chaining by slot
 * number instead of by pointer (uthash's 56-byte handle) is what keeps a
 * flow within 192 bytes. */
typedef struct slot_link {
    uint32_t prev, next;
    uint32_t chain;      /* next slot in the same bucket, NIL at the end */
    uint32_t hashv;
} slot_link;
_Static_assert(sizeof(fa_flow) + sizeof(slot_link) == FA_FLOW_SLOT_BYTES, "slot size");

struct fa_flow_table {
    fa_flow_config cfg;
    fa_flow_end_fn on_end;
    void *ctx;
    uint32_t *buckets;   /* first slot of each chain, NIL; made with the first flow */
    fa_flow *pool;       /* max_flows slots, reserved at once, touched lazily */
    slot_link *links;    /* one per pool slot, likewise */
    size_t pool_size, links_size;
    unsigned bucket_log2, initial_log2, max_log2;
    bool no_grow;        /* a doubling left a chain as long: no more */
    uint32_t used, free_head;
    lru_list lru[FA_TMO_COUNT];
    uint64_t now_us, next_expire_us;
    uint16_t now_s;      /* now_us in seconds, mod 2^16 (lru_stamp) */
    uint64_t seed;       /* of the key hash */
    uint32_t charged;    /* the flow the last packet's ICMP error was charged to, NIL */
    fa_flow_stats stats;
    frag_slot frags[FRAG_SLOTS];
    recent_slot recent[RECENT_SLOTS];
};

static const char *const tmo_names[FA_TMO_COUNT] = {
    "tcp-attempt", "tcp-established", "tcp-closed", "tcp-half-closed", "udp", "icmp", "other",
};

const char *fa_timeout_class_name(fa_timeout_class c)
{
    return (unsigned)c < FA_TMO_COUNT ? tmo_names[c] : "unknown";
}

int fa_timeout_class_parse(const char *name)
{
    for (int i = 0; i < FA_TMO_COUNT; i++)
        if (strcmp(name, tmo_names[i]) == 0)
            return i;
    return -1;
}

void fa_flow_config_default(fa_flow_config *cfg)
{
    static const uint32_t defaults[FA_TMO_COUNT] = {30, 7200, 5, 300, 60, 60, 60};
    cfg->max_flows = 262144;
    memcpy(cfg->timeout_s, defaults, sizeof defaults);
}

static fa_flow *flow_at(const fa_flow_table *t, uint32_t i)
{
    return &t->pool[i];
}

static uint32_t flow_index(const fa_flow_table *t, const fa_flow *f)
{
    return (uint32_t)(f - t->pool);
}

/* Address space for n bytes; the kernel backs pages only as they are first
 * used, so memory follows the number of flows ever active at once. */
static void *reserve(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    /* Flows are touched at random: huge pages spare a TLB miss per packet.
     * Only a hint; without transparent huge pages nothing changes. */
    madvise(p, n, MADV_HUGEPAGE);
    return p;
}

fa_flow_table *fa_flow_table_new(const fa_flow_config *cfg, fa_flow_end_fn on_end, void *ctx)
{
    fa_flow_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cfg = *cfg;
    if (t->cfg.max_flows == 0)
        t->cfg.max_flows = 1;
    t->pool_size = (size_t)t->cfg.max_flows * sizeof(fa_flow);
    t->links_size = (size_t)t->cfg.max_flows * sizeof(slot_link);
    t->pool = reserve(t->pool_size);
    t->links = reserve(t->links_size);
    if (!t->pool || !t->links) {
        if (t->pool)
            munmap(t->pool, t->pool_size);
        free(t);
        return NULL;
    }
    t->initial_log2 = MIN_BUCKETS_LOG2;
    while (((uint64_t)1 << (t->initial_log2 + FLOWS_PER_BUCKET_LOG2)) < t->cfg.max_flows)
        t->initial_log2++;
    t->max_log2 = t->initial_log2;
    while (((uint64_t)1 << t->max_log2) < t->cfg.max_flows)
        t->max_log2++;
    t->seed = t->cfg.hash_seed;
    if (!t->seed && getrandom(&t->seed, sizeof t->seed, 0) != sizeof t->seed)
        t->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)t;
    t->on_end = on_end;
    t->ctx = ctx;
    fa_flow_table_reset(t);
    return t;
}

/* Slots are handed out again from the first, as in a new table, so a flow
 * gets the slot number (the evidence ring's key) it would get there. The
 * seed stays: hints made with it remain right, and which bucket a flow
 * lands in changes no record. */
void fa_flow_table_reset(fa_flow_table *t)
{
    free(t->buckets);
    t->buckets = NULL;
    t->bucket_log2 = t->initial_log2;
    t->no_grow = false;
    t->used = 0;
    t->free_head = NIL;
    for (int c = 0; c < FA_TMO_COUNT; c++)
        t->lru[c].head = t->lru[c].tail = NIL;
    t->now_us = t->next_expire_us = 0;
    t->now_s = 0;
    t->charged = NIL;
    memset(&t->stats, 0, sizeof t->stats);
    memset(t->frags, 0, sizeof t->frags);
    memset(t->recent, 0, sizeof t->recent);
}

void fa_flow_table_free(fa_flow_table *t)
{
    if (!t)
        return;
    free(t->buckets);
    munmap(t->pool, t->pool_size);
    munmap(t->links, t->links_size);
    free(t);
}

const fa_flow_stats *fa_flow_table_stats(const fa_flow_table *t)
{
    return &t->stats;
}

static uint32_t *bucket_of(const fa_flow_table *t, uint32_t hashv)
{
    return &t->buckets[hashv & (uint32_t)(((uint64_t)1 << t->bucket_log2) - 1)];
}

static uint32_t chain_length(const fa_flow_table *t, uint32_t s)
{
    uint32_t n = 0;
    for (; s != NIL; s = t->links[s].chain)
        n++;
    return n;
}

/* A bucket array of 2^log2 chains, all empty; NULL when out of memory. */
static uint32_t *new_buckets(unsigned log2)
{
    size_t n = (size_t)1 << log2;
    uint32_t *b = malloc(n * sizeof *b);
    if (b)
        memset(b, 0xff, n * sizeof *b);
    return b;
}

/* Doubles the buckets, moving every flow to its chain in the new array
 * by the hash kept beside it: no record is read. Out of memory, the
 * table keeps its buckets and stops growing. */
static void grow_buckets(fa_flow_table *t)
{
    uint32_t *old = t->buckets;
    size_t n = (size_t)1 << t->bucket_log2;
    t->buckets = new_buckets(t->bucket_log2 + 1);
    if (!t->buckets) {
        t->buckets = old;
        t->no_grow = true;
        return;
    }
    t->bucket_log2++;
    for (size_t i = 0; i < n; i++) {
        uint32_t next;
        for (uint32_t s = old[i]; s != NIL; s = next) {
            uint32_t *head = bucket_of(t, t->links[s].hashv);
            next = t->links[s].chain;
            t->links[s].chain = *head;
            *head = s;
        }
    }
    free(old);
}

/* Puts slot idx at the head of its hash chain; false when the first
 * bucket array cannot be made. */
static bool chain_add(fa_flow_table *t, uint32_t idx, uint32_t hashv)
{
    if (!t->buckets && !(t->buckets = new_buckets(t->bucket_log2)))
        return false;
    uint32_t *head = bucket_of(t, hashv);
    t->links[idx].chain = *head;
    t->links[idx].hashv = hashv;
    *head = idx;
    if (t->no_grow || chain_length(t, idx) < CHAIN_GROW)
        return true;
    if (t->bucket_log2 >= t->max_log2) {
        t->no_grow = true;
        return true;
    }
    grow_buckets(t);
    if (chain_length(t, *bucket_of(t, hashv)) >= CHAIN_GROW)
        t->no_grow = true;
    return true;
}

static void chain_del(fa_flow_table *t, uint32_t idx)
{
    uint32_t *p = bucket_of(t, t->links[idx].hashv);
    while (*p != idx)
        p = &t->links[*p].chain;
    *p = t->links[idx].chain;
}

static void lru_unlink(fa_flow_table *t, const fa_flow *f, uint32_t idx)
{
    lru_list *l = &t->lru[f->lru_class];
    slot_link *k = &t->links[idx];
    if (k->prev != NIL)
        t->links[k->prev].next = k->next;
    else
        l->head = k->next;
    if (k->next != NIL)
        t->links[k->next].prev = k->prev;
    else
        l->tail = k->prev;
}

static void lru_append(fa_flow_table *t, fa_flow *f, uint32_t idx, fa_timeout_class c)
{
    lru_list *l = &t->lru[c];
    f->lru_class = c & 0x7;
    f->lru_stamp = t->now_s;
    t->links[idx].prev = l->tail;
    t->links[idx].next = NIL;
    if (l->tail != NIL)
        t->links[l->tail].next = idx;
    else
        l->head = idx;
    l->tail = idx;
}

static fa_timeout_class class_of(const fa_flow *f)
{
    switch (f->key.proto) {
    case FA_PROTO_TCP:
        /* Zeek deletes a connection soon after the close also when one
         * side closed and the other never sent anything. */
        if (fa_tcp_closed(f) ||
            (fa_tcp_closing(f) &&
             (f->dir[0].state == FA_EP_INACTIVE || f->dir[1].state == FA_EP_INACTIVE)))
            return FA_TMO_TCP_CLOSED;
        if (fa_tcp_closing(f))
            return FA_TMO_TCP_HALF_CLOSED;
        if (f->dir[1].state == FA_EP_INACTIVE &&
            (f->dir[0].state == FA_EP_SYN_SENT || f->dir[0].state == FA_EP_SYN_ACK_SENT))
            return FA_TMO_TCP_ATTEMPT;
        return FA_TMO_TCP_ESTABLISHED;
    case FA_PROTO_UDP:
        return FA_TMO_UDP;
    case FA_PROTO_ICMP: case FA_PROTO_ICMP6:
        return FA_TMO_ICMP;
    default:
        return FA_TMO_OTHER;
    }
}

/* The reason a TCP connection ended on its own, or fallback otherwise. */
static fa_end_reason natural_end(const fa_flow *f, fa_end_reason fallback)
{
    if (f->key.proto != FA_PROTO_TCP)
        return fallback;
    if (f->dir[0].state == FA_EP_RESET)
        return FA_END_RST_ORIG;
    if (f->dir[1].state == FA_EP_RESET)
        return FA_END_RST_RESP;
    if (f->dir[0].state == FA_EP_CLOSED && f->dir[1].state == FA_EP_CLOSED)
        return FA_END_FIN;
    return fallback;
}

static recent_slot *recent_for(fa_flow_table *t, const fa_flow_key *k)
{
    /* A fixed seed: which connections share a slot must not change from
     * run to run, or neither would the records. */
    return &t->recent[key_hash(k, 0) % RECENT_SLOTS];
}

static void remember_open(fa_flow_table *t, const fa_flow *f)
{
    recent_slot *r = recent_for(t, &f->key);
    bool orig_lo = f->bits & FA_FLOW_ORIG_IS_LO;
    r->key = f->key;
    r->next_seq[orig_lo ? 0 : 1] = f->dir[0].last_seq;
    r->next_seq[orig_lo ? 1 : 0] = f->dir[1].last_seq;
    r->used = true;
}

/* A mid-stream segment whose sequence number carries on where a recently
 * ended open connection stopped. */
static bool resumes(fa_flow_table *t, const fa_flow_key *k, bool sender_lo, const fa_packet *p)
{
    recent_slot *r = recent_for(t, k);
    if (!r->used || memcmp(&r->key, k, sizeof *k) != 0 || (p->tcp_flags & FA_TH_SYN))
        return false;
    uint32_t ahead = p->seq - r->next_seq[sender_lo ? 0 : 1];
    r->used = false;
    return ahead < RESUME_WINDOW || (uint32_t)-ahead < RESUME_WINDOW;
}

static void end_flow(fa_flow_table *t, fa_flow *f, fa_end_reason why)
{
    uint32_t idx = flow_index(t, f);
    if (idx == t->charged)
        t->charged = NIL;
    f->end_reason = natural_end(f, why) & 0xf;
    if (f->key.proto == FA_PROTO_TCP && (f->end_reason == FA_END_IDLE || f->end_reason == FA_END_EVICTED) &&
        !fa_tcp_closing(f))
        remember_open(t, f);
    if (t->on_end)
        t->on_end(f, t->ctx);
    t->stats.flows_ended[f->end_reason]++;
    /* A flow that had closed on its own keeps fin or rst_* as its end
     * reason: the cap only cut its linger short. */
    if (why == FA_END_EVICTED && f->end_reason != FA_END_EVICTED)
        t->stats.closed_reclaimed++;
    chain_del(t, idx);
    lru_unlink(t, f, idx);
    f->lru_class = FREE_CLASS;
    t->links[idx].next = t->free_head;
    t->free_head = idx;
    /* Emptied, the table starts again from the buckets a new one makes:
     * what a run of short bursts costs does not depend on its past. */
    if (--t->stats.flows_active == 0 && (t->bucket_log2 != t->initial_log2 || t->no_grow)) {
        free(t->buckets);
        t->buckets = NULL;
        t->bucket_log2 = t->initial_log2;
        t->no_grow = false;
    }
}

/* A free slot: recycled, then a never-used one, and at the cap the least
 * recently active flow is evicted. */
static fa_flow *take_slot(fa_flow_table *t, uint32_t *idx)
{
    if (t->free_head == NIL && t->used == t->cfg.max_flows) {
        uint32_t victim = NIL;
        for (int c = 0; c < FA_TMO_COUNT; c++) {
            uint32_t h = t->lru[c].head;
            if (h != NIL && (victim == NIL || flow_at(t, h)->last_us < flow_at(t, victim)->last_us))
                victim = h;
        }
        end_flow(t, flow_at(t, victim), FA_END_EVICTED);
    }
    if (t->free_head != NIL) {
        *idx = t->free_head;
        t->free_head = t->links[*idx].next;
        return flow_at(t, *idx);
    }
    *idx = t->used++;
    t->stats.pool_bytes = (uint64_t)t->used * FA_FLOW_SLOT_BYTES;
    return flow_at(t, *idx);
}

/* An address as two numbers that order as its bytes do. */
static void addr_words(const fa_addr *a, uint64_t *hi, uint64_t *lo)
{
    memcpy(hi, a->b, 8);
    memcpy(lo, a->b + 8, 8);
    *hi = be64toh(*hi);
    *lo = be64toh(*lo);
}

/* Builds the canonical key, the lower (address, port) endpoint first;
 * returns true when (src, sport) is that end. Called for every packet:
 * whole-word compares rather than memcmp. */
static bool make_key(fa_flow_key *k, uint8_t proto, const fa_addr *src, uint16_t sport,
                     const fa_addr *dst, uint16_t dport)
{
    uint64_t sh, sl, dh, dl;
    addr_words(src, &sh, &sl);
    addr_words(dst, &dh, &dl);
    bool src_lo = sh != dh ? sh < dh : sl != dl ? sl < dl : sport <= dport;
    k->lo_addr = src_lo ? *src : *dst;
    k->hi_addr = src_lo ? *dst : *src;
    k->lo_port = src_lo ? sport : dport;
    k->hi_port = src_lo ? dport : sport;
    k->proto = proto;
    memset(k->pad, 0, sizeof k->pad);
    return src_lo;
}

bool fa_flow_table_make_key(fa_flow_key *k, uint8_t proto, const fa_addr *src, uint16_t sport,
                            const fa_addr *dst, uint16_t dport)
{
    return make_key(k, proto, src, sport, dst, dport);
}

bool fa_flow_likely_server_port(uint16_t port)
{
    static const uint16_t known[] = {1080, 1194, 1433, 1521, 1723, 1812, 1813, 2049, 3128, 3306,
                                     3389, 4172, 5060, 5061, 5222, 5432, 5900, 6379, 6667, 8000,
                                     8080, 8443, 8888, 9200, 27017};
    if (port < 1024)
        return port != 0;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i] == port)
            return true;
    return false;
}

static bool is_v4_broadcast(const fa_addr *a)
{
    static const uint8_t bcast[4] = {255, 255, 255, 255};
    return fa_addr_is_v4(a) && memcmp(a->b + 12, bcast, sizeof bcast) == 0;
}

/* Zeek's WantConnection: a flow first seen without a bare SYN is flipped
 * when the sender's port looks like the server's; NewConn never flips a
 * packet sent to the IPv4 broadcast address. */
static bool first_packet_flips(const fa_packet *p)
{
    if (!p->has_ports || p->proto == FA_PROTO_ICMP || p->proto == FA_PROTO_ICMP6 ||
        is_v4_broadcast(&p->dst))
        return false;
    bool src_srv = fa_flow_likely_server_port(p->sport), dst_srv = fa_flow_likely_server_port(p->dport);
    if (p->proto == FA_PROTO_TCP) {
        uint8_t fl = p->tcp_flags;
        if ((fl & FA_TH_SYN) && !(fl & FA_TH_ACK))
            return false;
        if (!src_srv)
            return false;
        return dst_srv ? (!(fl & FA_TH_SYN) && p->dport > p->sport) : true;
    }
    return src_srv && !dst_srv;
}

static fa_flow *new_flow(fa_flow_table *t, const fa_flow_key *k, uint32_t hashv, bool sender_lo,
                         const fa_packet *p)
{
    uint32_t idx;
    fa_flow *f = take_slot(t, &idx);
    if (!f)
        return NULL;
    memset(f, 0, sizeof *f);
    f->key = *k;
    f->first_us = f->last_us = p->ts_us;
    bool flip = first_packet_flips(p);
    if (sender_lo != flip)
        f->bits |= FA_FLOW_ORIG_IS_LO;
    if (flip)
        fa_history_add(f, 0, '^');
    if (k->proto == FA_PROTO_TCP && resumes(t, k, sender_lo, p)) {
        f->bits |= FA_FLOW_CONTINUED;
        t->stats.flows_continued++;
    }
    if (!chain_add(t, idx, hashv)) {
        f->lru_class = FREE_CLASS;
        t->links[idx].next = t->free_head;
        t->free_head = idx;
        return NULL;
    }
    lru_append(t, f, idx, class_of(f));
    t->stats.bucket_bytes = (uint64_t)sizeof *t->buckets << t->bucket_log2;
    t->stats.flows_created++;
    if (++t->stats.flows_active > t->stats.flows_peak)
        t->stats.flows_peak = t->stats.flows_active;
    return f;
}

static void make_hint(const fa_flow_table *t, fa_flow_hint *h, uint8_t proto, const fa_addr *src,
                      uint16_t sport, const fa_addr *dst, uint16_t dport)
{
    h->sender_lo = make_key(&h->key, proto, src, sport, dst, dport);
    h->hashv = key_hash(&h->key, t->seed);
}

static void packet_hint(const fa_flow_table *t, const fa_packet *p, fa_flow_hint *h)
{
    make_hint(t, h, p->proto, &p->src, p->has_ports ? p->sport : 0, &p->dst, p->has_ports ? p->dport : 0);
}

static fa_flow *lookup(fa_flow_table *t, const fa_flow_hint *h)
{
    if (!t->buckets)
        return NULL;
    for (uint32_t s = *bucket_of(t, h->hashv); s != NIL; s = t->links[s].chain)
        if (t->links[s].hashv == h->hashv && memcmp(&flow_at(t, s)->key, &h->key, sizeof h->key) == 0)
            return flow_at(t, s);
    return NULL;
}

void fa_flow_table_key(const fa_flow_table *t, const fa_packet *p, fa_flow_hint *h)
{
    /* A later fragment's ports come from its first fragment, which may
     * not have been processed yet. */
    h->valid = !p->fragment || p->first_fragment;
    if (h->valid)
        packet_hint(t, p, h);
}

void fa_flow_table_prefetch_bucket(const fa_flow_table *t, const fa_flow_hint *h)
{
    if (h->valid && t->buckets)
        __builtin_prefetch(bucket_of(t, h->hashv));
}

void fa_flow_table_prefetch(const fa_flow_table *t, const fa_flow_hint *h)
{
    uint32_t head = h->valid && t->buckets ? *bucket_of(t, h->hashv) : NIL;
    if (head == NIL)
        return;
    /* The head of the chain is the flow itself more often than not
     * (chains average one or two flows); its record is read and written
     * throughout, so every line of it is fetched. */
    const char *rec = (const char *)flow_at(t, head);
    for (size_t off = 0; off < sizeof(fa_flow); off += 64)
        __builtin_prefetch(rec + off, 1);
    __builtin_prefetch(rec + sizeof(fa_flow) - 1, 1);
    __builtin_prefetch(&t->links[head], 1);
}

const fa_flow *fa_flow_table_chain_head(const fa_flow_table *t, const fa_flow_hint *h)
{
    uint32_t head = h->valid && t->buckets ? *bucket_of(t, h->hashv) : NIL;
    return head == NIL ? NULL : flow_at(t, head);
}

static frag_slot *frag_slot_for(fa_flow_table *t, const fa_packet *p)
{
    uint32_t h = p->frag_id * 2654435761u;
    for (int i = 12; i < 16; i++)
        h = (h ^ p->src.b[i] ^ ((uint32_t)p->dst.b[i] << 8)) * 16777619u;
    return &t->frags[(h ^ p->proto) % FRAG_SLOTS];
}

static bool frag_matches(const frag_slot *s, const fa_packet *p)
{
    return s->used && s->id == p->frag_id && s->proto == p->proto &&
           fa_addr_cmp(&s->src, &p->src) == 0 && fa_addr_cmp(&s->dst, &p->dst) == 0;
}

/* Later fragments carry no ports (nor ICMP type and code): borrow them
 * from the first fragment. */
static bool resolve_fragment(fa_flow_table *t, fa_packet *p)
{
    frag_slot *s = frag_slot_for(t, p);
    if (p->first_fragment) {
        *s = (frag_slot){.src = p->src, .dst = p->dst, .id = p->frag_id, .proto = p->proto,
                         .used = true, .sport = p->sport, .dport = p->dport};
        return true;
    }
    bool ported = p->proto == FA_PROTO_TCP || p->proto == FA_PROTO_UDP ||
                  p->proto == FA_PROTO_ICMP || p->proto == FA_PROTO_ICMP6;
    if (p->has_ports || !ported)
        return true;
    if (!frag_matches(s, p)) {
        t->stats.fragments_unattributed++;
        return false;
    }
    p->sport = s->sport;
    p->dport = s->dport;
    p->has_ports = true;
    t->stats.fragments_attributed++;
    return true;
}

/* The flow an ICMP error quotes, charged with it; NULL when the table
 * does not hold it. */
static fa_flow *charge_icmp_error(fa_flow_table *t, const fa_packet *p)
{
    const fa_icmp_quote *q = &p->quote;
    fa_flow_hint h;
    make_hint(t, &h, q->proto, &q->src, q->has_ports ? q->sport : 0, &q->dst, q->has_ports ? q->dport : 0);
    fa_flow *f = lookup(t, &h);
    if (!f)
        return NULL;
    t->stats.icmp_errors_attributed++;
    if (f->icmp_errors < UINT8_MAX)
        f->icmp_errors++;
    f->icmp_type = p->icmp_type;
    f->icmp_code = p->icmp_code;
    /* The quoted packet's sender is the one that was refused. */
    bool quoted_from_orig = fa_addr_cmp(&q->src, fa_flow_addr(f, 0)) == 0;
    f->bits = (uint8_t)((f->bits & ~FA_FLOW_ICMP_FROM_RESP) | (quoted_from_orig ? FA_FLOW_ICMP_FROM_RESP : 0));
    return f;
}

static void attribute_icmp_error(fa_flow_table *t, const fa_packet *p)
{
    fa_flow *f = charge_icmp_error(t, p);
    if (f)
        t->charged = flow_index(t, f);
    else
        t->stats.icmp_errors_unmatched++;
}

bool fa_flow_table_claim_icmp_error(fa_flow_table *t, const fa_packet *p, uint32_t *index)
{
    fa_flow *f = charge_icmp_error(t, p);
    if (!f)
        return false;
    t->stats.icmp_errors_claimed++;
    *index = flow_index(t, f);
    return true;
}

void fa_flow_stats_add(fa_flow_stats *a, const fa_flow_stats *b)
{
    a->packets += b->packets;
    a->flows_created += b->flows_created;
    for (int r = 0; r <= FA_END_REUSED; r++)
        a->flows_ended[r] += b->flows_ended[r];
    a->flows_active += b->flows_active;
    a->flows_peak += b->flows_peak;
    a->closed_reclaimed += b->closed_reclaimed;
    a->flows_continued += b->flows_continued;
    a->duplicates += b->duplicates;
    a->fragments_attributed += b->fragments_attributed;
    a->fragments_unattributed += b->fragments_unattributed;
    a->icmp_errors_attributed += b->icmp_errors_attributed;
    a->icmp_errors_unmatched += b->icmp_errors_unmatched;
    a->icmp_errors_claimed += b->icmp_errors_claimed;
    a->pool_bytes += b->pool_bytes;
    a->bucket_bytes += b->bucket_bytes;
}

/* Accounts the packet to direction d; returns true if it is an exact
 * duplicate of the previous frame that way. */
static bool account(fa_flow *f, int d, const fa_packet *p, fa_flow_stats *st)
{
    bool dup = false;
    fa_flow_dir *dir = &f->dir[d];
    /* As Zeek, a TCP connection's last time stops once both sides have
     * sent their FIN or RST, so stray ACKs after that do not stretch its
     * duration; packets after a one-sided RST still do. */
    bool finished = f->key.proto == FA_PROTO_TCP && fa_tcp_both_closed(f);
    uint16_t h16 = (uint16_t)(p->frame_hash ^ (p->frame_hash >> 16));
    if (dir->pkts && dir->last_hash == h16 && p->ts_us - f->last_us < DUP_WINDOW_US) {
        if (dir->dups < UINT16_MAX)
            dir->dups++;
        st->duplicates++;
        dup = true;
    }
    dir->last_hash = h16;
    /* The TTL range leaves RSTs out so that a forged RST stands out
     * against the sender's real packets. The first RST is kept: an
     * injector fires before the endpoint answers the dead connection with
     * RSTs of its own, and the WebSocket detector judges the same one. */
    if (p->tcp_flags & FA_TH_RST) {
        if (!(dir->flags & FA_TH_RST))
            dir->ttl_rst = p->ttl;
    } else if (dir->ttl_max == 0 || p->ttl < dir->ttl_min) {
        dir->ttl_min = p->ttl;
        if (p->ttl > dir->ttl_max)
            dir->ttl_max = p->ttl;
    } else if (p->ttl > dir->ttl_max) {
        dir->ttl_max = p->ttl;
    }
    dir->pkts++;
    dir->ip_bytes += p->ip_len;
    if (f->key.proto != FA_PROTO_TCP)
        dir->payload += p->payload_len;
    dir->flags |= p->tcp_flags;
    if (p->ts_us > f->last_us && !finished)
        f->last_us = p->ts_us;
    return dup;
}

static void update_protocol(fa_flow *f, int *d, const fa_packet *p)
{
    if (f->key.proto == FA_PROTO_TCP) {
        *d = fa_tcp_update(f, *d, p);
        return;
    }
    f->dir[*d].state = FA_EP_ACTIVE;
    if (f->key.proto == FA_PROTO_UDP)
        fa_history_check(f, *d, 16, 'D');
}

/* Zeek's timers: an unanswered attempt is dropped a fixed time after its
 * SYN (AttemptTimer), any other connection once it has been idle for the
 * limit (the inactivity timer fires when the idle time reaches it). */
static bool timed_out(const fa_flow_table *t, const fa_flow *f, uint64_t now_us)
{
    uint64_t limit = (uint64_t)t->cfg.timeout_s[f->lru_class] * 1000000u;
    uint64_t since = f->lru_class == FA_TMO_TCP_ATTEMPT ? f->first_us : f->last_us;
    return now_us >= since && now_us - since >= limit;
}

static void maybe_expire(fa_flow_table *t, uint64_t ts)
{
    if (ts > t->now_us) {
        t->now_us = ts;
        t->now_s = (uint16_t)(ts / 1000000u);
    }
    if (t->now_us >= t->next_expire_us) {
        fa_flow_table_expire(t, t->now_us);
        t->next_expire_us = t->now_us + EXPIRE_EVERY_US;
    }
}

fa_flow *fa_flow_table_packet(fa_flow_table *t, const fa_packet *pkt, int *dir)
{
    return fa_flow_table_packet_hinted(t, pkt, NULL, dir);
}

fa_flow *fa_flow_table_packet_hinted(fa_flow_table *t, const fa_packet *pkt, const fa_flow_hint *hint,
                                     int *dir)
{
    t->stats.packets++;
    t->charged = NIL;
    maybe_expire(t, pkt->ts_us);
    /* Only a later fragment is changed (given its first fragment's ports):
     * the copy is made for fragments alone. */
    fa_packet frag;
    const fa_packet *p = pkt;
    if (pkt->fragment) {
        frag = *pkt;
        if (!resolve_fragment(t, &frag))
            return NULL;
        p = &frag;
    }
    if (p->icmp_error)
        attribute_icmp_error(t, p);

    fa_flow_hint own;
    if (!hint || !hint->valid) {
        packet_hint(t, p, &own);
        hint = &own;
    }
    bool sender_lo = hint->sender_lo;
    fa_flow *f = lookup(t, hint);
    /* Zeek runs due timers before it looks at a packet, so a connection
     * whose time ran out between two expiry sweeps ends before this packet
     * rather than absorbing it. */
    if (f && timed_out(t, f, p->ts_us)) {
        end_flow(t, f, FA_END_IDLE);
        f = NULL;
    }
    if (f && f->key.proto == FA_PROTO_TCP && fa_tcp_is_reuse(f, p)) {
        end_flow(t, f, FA_END_REUSED);
        f = NULL;
    }
    if (!f) {
        f = new_flow(t, &hint->key, hint->hashv, sender_lo, p);
        if (!f)
            return NULL;
    }
    int d = (sender_lo == ((f->bits & FA_FLOW_ORIG_IS_LO) != 0)) ? 0 : 1;
    bool dup = account(f, d, p, &t->stats);
    uint32_t retrans = f->dir[d].retrans;
    uint8_t state0 = f->dir[0].state, state1 = f->dir[1].state;
    /* A later fragment has no transport header to drive the state machine. */
    if (!p->fragment || p->first_fragment)
        update_protocol(f, &d, p);
    /* Zeek's fields count a span copy as a retransmission ('T'), and so do
     * ours; the host did not send it again, so its own counter does not. */
    if (dup)
        f->dir[d].retrans = retrans;

    /* The class follows from the endpoint states alone. Moving a flow to
     * its list's tail costs two list entries; once a second is enough,
     * since expiry runs once a second and so is no more than a second
     * late. */
    fa_timeout_class c = f->lru_class;
    if (f->dir[0].state != state0 || f->dir[1].state != state1)
        c = class_of(f);
    if (c != f->lru_class || f->lru_stamp != t->now_s) {
        uint32_t idx = flow_index(t, f);
        lru_unlink(t, f, idx);
        lru_append(t, f, idx, c);
    }
    *dir = d;
    return f;
}

uint32_t fa_flow_table_index(const fa_flow_table *t, const fa_flow *f)
{
    return flow_index(t, f);
}

bool fa_flow_table_charged(const fa_flow_table *t, uint32_t *index)
{
    *index = t->charged;
    return t->charged != NIL;
}

void fa_flow_table_each_older(fa_flow_table *t, uint64_t now_us, uint64_t age_us,
                              void (*fn)(fa_flow *f, void *ctx), void *ctx)
{
    for (uint32_t i = 0; i < t->used; i++) {
        fa_flow *f = flow_at(t, i);
        if (f->lru_class != FREE_CLASS && now_us >= f->first_us && now_us - f->first_us >= age_us)
            fn(f, ctx);
    }
}

void fa_flow_table_expire(fa_flow_table *t, uint64_t now_us)
{
    /* The lists are in order of last activity. An attempt still active
     * but past its deadline waits for its next packet or a later sweep:
     * its record is the same either way. */
    for (int c = 0; c < FA_TMO_COUNT; c++) {
        uint64_t limit = (uint64_t)t->cfg.timeout_s[c] * 1000000u;
        while (t->lru[c].head != NIL) {
            fa_flow *f = flow_at(t, t->lru[c].head);
            if (now_us < f->last_us || now_us - f->last_us < limit)
                break;
            end_flow(t, f, FA_END_IDLE);
        }
    }
}

void fa_flow_table_flush(fa_flow_table *t, fa_end_reason why)
{
    for (int c = 0; c < FA_TMO_COUNT; c++)
        while (t->lru[c].head != NIL)
            end_flow(t, flow_at(t, t->lru[c].head), why);
}
