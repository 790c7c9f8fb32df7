/* evidence.c - the ring of recent packets, the store of each flow's key
 * packets, and the rotating evidence pcap. */
#include "evidence.h"

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    uint64_t ts_us;
    uint32_t flow;
    uint32_t caplen, len;      /* caplen here is what the slot holds */
    uint32_t back;             /* packets since the flow's previous one, 0: none in the ring */
    uint8_t data[FA_EVIDENCE_SNAP];
} slot;
_Static_assert(sizeof(slot) == 408, "ring slot size, as docs/ARCHITECTURE.md says");

/* A key packet: a packet that proves a verdict, kept apart from the ring
 * so that a flood does not push it out. Headers are enough for most (a
 * SYN, a RST, an ICMP error with its quote); the first payload keeps the
 * start of a request. */
#define KEY_SNAP FA_EVIDENCE_KEY_SNAP
/* Key slots are numbered from 1: 0 is none, so zeroed memory is an empty
 * entry and the per-flow table needs no pass to set it up. */
#define NONE 0

enum key_role {
    ROLE_FIRST = 0,      /* + direction: the first packet each way (SYN, SYN-ACK) */
    ROLE_PAYLOAD = 2,    /* + direction: the first payload each way */
    ROLE_RST = 4,
    ROLE_FIN = 5,
    ROLE_ICMP = 6,       /* the first ICMP error charged to the flow */
};

typedef struct key_slot {
    uint64_t ts_us;
    uint64_t seq;              /* the packet's number in arrival order */
    uint32_t next;             /* the flow's next key slot, or the next free one; NONE */
    uint32_t len;
    uint16_t caplen;
    /* another thread's packet (--workers): seq is this store's count when
     * it came, shared with the ring's next packet, which is another */
    bool posted;
    uint8_t data[KEY_SNAP];
} key_slot;
_Static_assert(sizeof(key_slot) == FA_EVIDENCE_KEY_SLOT, "key slot size");

/* Per flow-table slot: its key packets, and the two newest of its other
 * packets (what came just before a kill). */
typedef struct key_flow {
    uint64_t newest;           /* number + 1 of the flow's newest packet in the ring, 0: none */
    uint32_t head;             /* chain of key slots, newest first; NONE */
    uint32_t last[2];          /* NONE until used */
    uint8_t taken;             /* roles kept, bit per enum key_role */
    uint8_t lost;              /* a first packet, RST, FIN or ICMP error found no free slot */
    uint8_t thin;              /* a first payload or newest packet was not kept */
    uint8_t last_next;         /* which of last[] the next packet takes */
} key_flow;
_Static_assert(sizeof(key_flow) == 24, "key-store entry per flow slot, as docs/ARCHITECTURE.md says");

struct fa_evidence_file {
    char *path;
    int dlt;
    pcap_t *dead;
    pcap_dumper_t *out;        /* NULL after a failed rotation */
    uint64_t limit;
    int keep;
};

struct fa_evidence {
    fa_evidence_file *file;
    bool own_file;
    int dlt;
    slot *ring;
    uint32_t nslots, next;
    uint64_t stored;           /* packets ever put in the ring; packet n sits in ring[n % nslots] */
    uint32_t *found;           /* ring slots of the flow being written */
    key_slot *keys;
    uint32_t nkeys, keys_used, key_free, nfree;
    key_flow *flows;           /* one per flow-table slot */
    uint32_t nflows;
    fa_evidence_stats st;
};

static int open_file(fa_evidence_file *f, char *err, size_t errlen)
{
    f->out = pcap_dump_open(f->dead, f->path);
    if (!f->out) {
        /* libpcap names the file in its message. */
        snprintf(err, errlen, "%s", pcap_geterr(f->dead));
        return -1;
    }
    return 0;
}

fa_evidence_file *fa_evidence_file_open(const char *path, int dlt, const fa_evidence_config *cfg, char *err,
                                        size_t errlen)
{
    fa_evidence_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path)) || !(f->dead = pcap_open_dead(dlt, FA_EVIDENCE_SNAP))) {
        snprintf(err, errlen, "out of memory");
        fa_evidence_file_close(f);
        return NULL;
    }
    f->dlt = dlt;
    f->keep = cfg->keep;
    f->limit = (uint64_t)cfg->file_mib << 20;
    if (open_file(f, err, errlen) != 0) {
        fa_evidence_file_close(f);
        return NULL;
    }
    return f;
}

void fa_evidence_file_close(fa_evidence_file *f)
{
    if (!f)
        return;
    if (f->out)
        pcap_dump_close(f->out);
    if (f->dead)
        pcap_close(f->dead);
    free(f->path);
    free(f);
}

/* The key store: budget_mib of slots, taken as needed, and an entry per
 * flow slot; calloc's pages are backed only when first written, so a
 * large --max-flows costs address space until its flows come. */
static int open_keys(fa_evidence *e, uint32_t budget_mib, uint32_t max_flows)
{
    e->nkeys = (uint32_t)(((uint64_t)budget_mib << 20) / sizeof(key_slot));
    e->nflows = max_flows ? max_flows : 1;
    e->keys = calloc(e->nkeys, sizeof *e->keys);
    e->flows = calloc(e->nflows, sizeof *e->flows);
    e->nfree = e->nkeys;
    return e->keys && e->flows ? 0 : -1;
}

static key_slot *key_at(const fa_evidence *e, uint32_t id)
{
    return &e->keys[id - 1];
}

fa_evidence *fa_evidence_new(fa_evidence_file *file, const fa_evidence_config *cfg, char *err, size_t errlen)
{
    uint32_t ring_mib = cfg->ring_mib;
    fa_evidence *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->file = file;
    e->dlt = file->dlt;
    e->nslots = (uint32_t)(((uint64_t)(ring_mib ? ring_mib : 1) << 20) / sizeof(slot));
    e->ring = calloc(e->nslots, sizeof *e->ring);
    e->found = malloc((size_t)e->nslots * sizeof *e->found);
    if (!e->ring || !e->found || open_keys(e, cfg->keys_mib ? cfg->keys_mib : 1, cfg->max_flows) != 0) {
        snprintf(err, errlen, "out of memory for the evidence ring and key store");
        fa_evidence_close(e);
        return NULL;
    }
    return e;
}

fa_evidence *fa_evidence_open(const char *path, int dlt, const fa_evidence_config *cfg, char *err, size_t errlen)
{
    fa_evidence_file *file = fa_evidence_file_open(path, dlt, cfg, err, errlen);
    if (!file)
        return NULL;
    fa_evidence *e = fa_evidence_new(file, cfg, err, errlen);
    if (!e) {
        fa_evidence_file_close(file);
        return NULL;
    }
    e->own_file = true;
    return e;
}

void fa_evidence_close(fa_evidence *e)
{
    if (!e)
        return;
    if (e->own_file)
        fa_evidence_file_close(e->file);
    free(e->ring);
    free(e->found);
    free(e->keys);
    free(e->flows);
    free(e);
}

/* A free key slot, or NONE when the budget is spent. */
static uint32_t take_key(fa_evidence *e)
{
    uint32_t k = e->key_free;
    if (k != NONE)
        e->key_free = key_at(e, k)->next;
    else if (e->keys_used < e->nkeys)
        k = ++e->keys_used;
    if (k != NONE)
        e->nfree--;
    return k;
}

static void give_key(fa_evidence *e, uint32_t k)
{
    key_at(e, k)->next = e->key_free;
    e->key_free = k;
    e->nfree++;
}

static void fill_key(key_slot *s, uint64_t seq, bool posted, uint64_t ts_us, const uint8_t *data, uint32_t caplen,
                     uint32_t len)
{
    s->ts_us = ts_us;
    s->seq = seq;
    s->posted = posted;
    s->caplen = (uint16_t)(caplen < KEY_SNAP ? caplen : KEY_SNAP);
    s->len = len;
    memcpy(s->data, data, s->caplen);
}

/* Roles that prove a verdict on their own: they may take the last free
 * slots, the others only while a quarter of the store is free, so that
 * under a flood the store goes to more flows' SYNs and RSTs. */
#define ESSENTIAL ((1u << ROLE_FIRST) | (2u << ROLE_FIRST) | (1u << ROLE_RST) | (1u << ROLE_FIN) | (1u << ROLE_ICMP))

static bool room_for(const fa_evidence *e, unsigned roles)
{
    return (roles & ESSENTIAL) ? e->nfree > 0 : e->nfree > e->nkeys / 4;
}

/* The roles a packet would fill that its flow has not filled yet. */
static unsigned new_roles(const key_flow *kf, unsigned facts)
{
    int d = (facts & FA_EV_RESP) ? 1 : 0;
    unsigned roles = 1u << (ROLE_FIRST + d);
    if (facts & FA_EV_PAYLOAD)
        roles |= 1u << (ROLE_PAYLOAD + d);
    if (facts & FA_EV_RST)
        roles |= 1u << ROLE_RST;
    if (facts & FA_EV_FIN)
        roles |= 1u << ROLE_FIN;
    if (facts & FA_EV_ICMP_ERROR)
        roles = 1u << ROLE_ICMP;
    return roles & ~(unsigned)kf->taken;
}

/* Keeps the packet in the flow's key store: as a key packet when it fills
 * a role, else as one of the two newest. No free slot: counted as lost. */
static void keep_key(fa_evidence *e, uint32_t flow, unsigned facts, uint64_t seq, bool posted, uint64_t ts_us,
                     const uint8_t *data, uint32_t caplen, uint32_t len)
{
    if (flow >= e->nflows)
        return;
    key_flow *kf = &e->flows[flow];
    unsigned roles = new_roles(kf, facts);
    if (!roles && !(facts & FA_EV_FOLLOWED))
        return;
    uint32_t *last = &kf->last[kf->last_next];
    uint32_t k = NONE;
    if (!roles && *last != NONE)
        k = *last;
    else if (room_for(e, roles))
        k = take_key(e);
    if (k == NONE) {
        if (roles & ESSENTIAL)
            kf->lost = 1;
        else
            kf->thin = 1;
        return;
    }
    fill_key(key_at(e, k), seq, posted, ts_us, data, caplen, len);
    if (roles) {
        kf->taken |= (uint8_t)roles;
        key_at(e, k)->next = kf->head;
        kf->head = k;
    } else {
        *last = k;
        kf->last_next ^= 1;
    }
}

void fa_evidence_packet(fa_evidence *e, int dlt, uint32_t flow, unsigned facts, uint64_t ts_us,
                        const uint8_t *data, uint32_t caplen, uint32_t len)
{
    if (dlt != e->dlt) {
        e->st.other_linktype++;
        return;
    }
    keep_key(e, flow, facts & ~(unsigned)FA_EV_ICMP_ERROR, e->stored, false, ts_us, data, caplen, len);
    slot *s = &e->ring[e->next];
    /* Each packet points back to its flow's previous one, so a flow's
     * packets are found without a walk through the ring. */
    s->back = 0;
    if (flow < e->nflows) {
        key_flow *kf = &e->flows[flow];
        if (kf->newest && e->stored + 1 - kf->newest < e->nslots)
            s->back = (uint32_t)(e->stored + 1 - kf->newest);
        kf->newest = e->stored + 1;
    }
    e->next = (e->next + 1) % e->nslots;
    e->stored++;
    s->ts_us = ts_us;
    s->flow = flow;
    s->caplen = caplen < FA_EVIDENCE_SNAP ? caplen : FA_EVIDENCE_SNAP;
    s->len = len;
    memcpy(s->data, data, s->caplen);
}

void fa_evidence_icmp_error(fa_evidence *e, int dlt, uint32_t flow, uint64_t ts_us, const uint8_t *data,
                            uint32_t caplen, uint32_t len)
{
    /* Numbered as the packet the ring has just taken: the same packet. */
    if (dlt == e->dlt && e->stored > 0)
        keep_key(e, flow, FA_EV_ICMP_ERROR, e->stored - 1, false, ts_us, data, caplen, len);
}

void fa_evidence_icmp_error_posted(fa_evidence *e, int dlt, uint32_t flow, uint64_t ts_us, const uint8_t *data,
                                   uint32_t caplen, uint32_t len)
{
    /* The thread it reached counted it if its link type is another. */
    if (dlt == e->dlt)
        keep_key(e, flow, FA_EV_ICMP_ERROR, e->stored, true, ts_us, data, caplen, len);
}

/* path -> path.1 -> ... -> path.keep, the oldest dropped. */
static int rotate(fa_evidence_file *f)
{
    char from[4096], to[4096];
    pcap_dump_close(f->out);
    f->out = NULL;
    for (int i = f->keep; i >= 1; i--) {
        snprintf(to, sizeof to, "%s.%d", f->path, i);
        if (i == 1)
            snprintf(from, sizeof from, "%s", f->path);
        else
            snprintf(from, sizeof from, "%s.%d", f->path, i - 1);
        rename(from, to);
    }
    char err[256];
    return open_file(f, err, sizeof err);
}

/* Gives the flow's key slots back; the next flow in its table slot starts
 * afresh. */
void fa_evidence_release(fa_evidence *e, uint32_t flow)
{
    if (flow >= e->nflows)
        return;
    key_flow *kf = &e->flows[flow];
    for (uint32_t k = kf->head, next; k != NONE; k = next) {
        next = key_at(e, k)->next;
        give_key(e, k);
    }
    for (int i = 0; i < 2; i++)
        if (kf->last[i] != NONE)
            give_key(e, kf->last[i]);
    *kf = (key_flow){.head = NONE};
}

/* The ring slots of the flow's packets since first_us, oldest first, into
 * e->found; returns how many. The chain is followed while it stays in the
 * ring: packet n is gone once stored - n > nslots. */
static uint32_t chain(fa_evidence *e, uint32_t flow, uint64_t first_us, uint64_t *oldest_seq)
{
    uint64_t oldest = e->stored > e->nslots ? e->stored - e->nslots : 0;
    uint32_t n = 0;
    if (flow >= e->nflows || !e->flows[flow].newest)
        return 0;
    for (uint64_t seq = e->flows[flow].newest - 1; seq >= oldest;) {
        const slot *s = &e->ring[seq % e->nslots];
        if (s->flow != flow || s->ts_us < first_us)
            break;
        e->found[n++] = (uint32_t)(seq % e->nslots);
        if (!s->back || s->back > seq || n == e->nslots)
            break;
        seq -= s->back;
    }
    for (uint32_t i = 0; i < n / 2; i++) {
        uint32_t t = e->found[i];
        e->found[i] = e->found[n - 1 - i];
        e->found[n - 1 - i] = t;
    }
    *oldest_seq = oldest;
    return n;
}

/* Arrival order: a posted packet came before the ring's packet that
 * shares its number. */
static bool before(const key_slot *a, const key_slot *b)
{
    return a->seq < b->seq || (a->seq == b->seq && a->posted && !b->posted);
}

/* The flow's key packets since first_us, in arrival order; returns how
 * many (at most KEYS_PER_FLOW). */
#define KEYS_PER_FLOW 9
static size_t gather_keys(const fa_evidence *e, uint32_t flow, uint64_t first_us, const key_slot **out)
{
    size_t n = 0;
    if (flow >= e->nflows)
        return 0;
    const key_flow *kf = &e->flows[flow];
    uint32_t ids[KEYS_PER_FLOW];
    for (uint32_t k = kf->head; k != NONE && n < KEYS_PER_FLOW - 2; k = key_at(e, k)->next)
        ids[n++] = k;
    for (int i = 0; i < 2; i++)
        if (kf->last[i] != NONE)
            ids[n++] = kf->last[i];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const key_slot *s = key_at(e, ids[i]);
        if (s->ts_us < first_us)
            continue;
        size_t j = m++;
        for (; j > 0 && before(s, out[j - 1]); j--)
            out[j] = out[j - 1];
        out[j] = s;
    }
    return m;
}

static void dump(fa_evidence *e, uint64_t ts_us, const uint8_t *data, uint32_t caplen, uint32_t len)
{
    struct pcap_pkthdr h = {.caplen = caplen, .len = len};
    h.ts.tv_sec = (time_t)(ts_us / 1000000u);
    h.ts.tv_usec = (suseconds_t)(ts_us % 1000000u);
    pcap_dump((u_char *)e->file->out, &h, data);
}

/* Writes the flow's packets still in the ring, and before, between and
 * after them in arrival order its key packets the ring no longer holds
 * (or holds under another flow: an ICMP error). Returns how many were
 * written, *from_keys of them from the key store. */
static uint32_t write_flow(fa_evidence *e, uint32_t flow, uint64_t first_us, uint32_t *from_keys)
{
    const key_slot *keys[KEYS_PER_FLOW];
    size_t nk = gather_keys(e, flow, first_us, keys), ki = 0;
    uint64_t oldest = 0;
    uint32_t n = chain(e, flow, first_us, &oldest);
    *from_keys = 0;
    for (uint32_t i = 0; i < n; i++) {
        const slot *s = &e->ring[e->found[i]];
        /* the packet's number, from its slot and the ring's oldest */
        uint64_t seq = oldest + (e->found[i] + e->nslots - oldest % e->nslots) % e->nslots;
        for (; ki < nk && (keys[ki]->seq < seq || (keys[ki]->seq == seq && keys[ki]->posted)); ki++, (*from_keys)++)
            dump(e, keys[ki]->ts_us, keys[ki]->data, keys[ki]->caplen, keys[ki]->len);
        if (ki < nk && keys[ki]->seq == seq)
            ki++;
        dump(e, s->ts_us, s->data, s->caplen, s->len);
    }
    for (; ki < nk; ki++, (*from_keys)++)
        dump(e, keys[ki]->ts_us, keys[ki]->data, keys[ki]->caplen, keys[ki]->len);
    return n + *from_keys;
}

int fa_evidence_flow(fa_evidence *e, uint32_t flow, uint64_t first_us, uint32_t pkts)
{
    /* A failed rotation left no file open; the caller was told then. */
    fa_evidence_file *file = e->file;
    if (!file->out) {
        fa_evidence_release(e, flow);
        return -1;
    }
    uint32_t from_keys;
    uint32_t found = write_flow(e, flow, first_us, &from_keys);
    e->st.flows_written++;
    e->st.packets_written += found;
    e->st.key_packets_written += from_keys;
    if (pkts > found)
        e->st.packets_gone += pkts - found;
    if (flow < e->nflows && e->flows[flow].lost)
        e->st.flows_keys_lost++;
    else if (flow < e->nflows && e->flows[flow].thin)
        e->st.flows_keys_thin++;
    if (found == 0)
        e->st.flows_empty++;
    fa_evidence_release(e, flow);
    if (pcap_dump_flush(file->out) != 0)
        return -1;
    if (!file->limit || (uint64_t)pcap_dump_ftell64(file->out) < file->limit)
        return 0;
    e->st.files_rotated++;
    return rotate(file);
}

const fa_evidence_stats *fa_evidence_get_stats(const fa_evidence *e)
{
    return &e->st;
}

void fa_evidence_stats_add(fa_evidence_stats *a, const fa_evidence_stats *b)
{
    a->flows_written += b->flows_written;
    a->packets_written += b->packets_written;
    a->packets_gone += b->packets_gone;
    a->key_packets_written += b->key_packets_written;
    a->flows_keys_lost += b->flows_keys_lost;
    a->flows_keys_thin += b->flows_keys_thin;
    a->flows_empty += b->flows_empty;
    a->other_linktype += b->other_linktype;
    a->files_rotated += b->files_rotated;
}
