/* records_ipfix.c - IPFIX files (RFC 5655: IPFIX messages one after the
 * other) as flows, read with libfixbuf, which handles the templates and
 * RFC 5103 biflows: every record is copied into one internal template
 * (struct ipfix_rec) whose elements the exporter's template may lack
 * (then zero).
 *
 * A record gives each side's packets and the union of the TCP flags it
 * sent (tcpControlBits and reverseTcpControlBits; YAF's enterprise
 * elements are not read); the flags become endpoint states (side_state) from which
 * tcp_state.c's conn_state follows, and a history of the letters the
 * flags prove (S h F f R r), so the audit judges the flow as it judges a
 * captured one: a SYN answered by nothing is S0 (blocked), a SYN answered
 * by a RST is REJ (rejected), an answered handshake is seen. A firewall's
 * "flow denied" (firewallEvent 3, NSEL's event 3) is a block by the
 * firewall itself: nothing came back. A uniflow exporter (no reverse
 * elements in its template) sends each direction as a record of its own:
 * the two are joined by their connection (canonical key) before they are
 * judged; a direction whose partner never came is judged alone. */
#include "records_internal.h"

#include <fixbuf/public.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "clock.h"
#include "decode.h"
#include "flow_table.h"

/* The internal template: 8-byte elements first, so the struct has no
 * padding the template does not have. */
typedef struct ipfix_rec {
    uint64_t start_ms, end_ms;
    uint64_t start_us_ntp, end_us_ntp, start_ns_ntp, end_ns_ntp; /* NTP format (RFC 7011 6.1.9, 6.1.10) */
    uint64_t sys_init_ms;
    uint64_t octets, packets, octets_total, packets_total;
    uint64_t r_octets, r_packets, r_octets_total, r_packets_total;
    uint8_t src6[16], dst6[16];
    uint32_t src4, dst4;
    uint32_t sampling, sampling_pkt, sampler_random;
    uint32_t start_s, end_s, start_up_ms, end_up_ms;
    uint16_t sport, dport, icmp4, icmp6;
    uint8_t proto, flags, r_flags, fw_event, nsel_event;
    uint8_t pad[7];
} ipfix_rec;

static fbInfoElementSpec_t rec_spec[] = {
    {"flowStartMilliseconds", 8, 0},   {"flowEndMilliseconds", 8, 0},
    {"flowStartMicroseconds", 8, 0},   {"flowEndMicroseconds", 8, 0},
    {"flowStartNanoseconds", 8, 0},    {"flowEndNanoseconds", 8, 0},
    {"systemInitTimeMilliseconds", 8, 0},
    {"octetDeltaCount", 8, 0},         {"packetDeltaCount", 8, 0},
    {"octetTotalCount", 8, 0},         {"packetTotalCount", 8, 0},
    {"reverseOctetDeltaCount", 8, 0},  {"reversePacketDeltaCount", 8, 0},
    {"reverseOctetTotalCount", 8, 0},  {"reversePacketTotalCount", 8, 0},
    {"sourceIPv6Address", 16, 0},      {"destinationIPv6Address", 16, 0},
    {"sourceIPv4Address", 4, 0},       {"destinationIPv4Address", 4, 0},
    {"samplingInterval", 4, 0},        {"samplingPacketInterval", 4, 0},
    {"samplerRandomInterval", 4, 0},
    {"flowStartSeconds", 4, 0},        {"flowEndSeconds", 4, 0},
    {"flowStartSysUpTime", 4, 0},      {"flowEndSysUpTime", 4, 0},
    {"sourceTransportPort", 2, 0},     {"destinationTransportPort", 2, 0},
    {"icmpTypeCodeIPv4", 2, 0},        {"icmpTypeCodeIPv6", 2, 0},
    {"protocolIdentifier", 1, 0},      {"tcpControlBits", 1, 0},
    {"reverseTcpControlBits", 1, 0},   {"firewallEvent", 1, 0},
    {"NF_F_FW_EVENT", 1, 0},           {"paddingOctets", 7, 0},
    FB_IESPEC_NULL,
};

_Static_assert(sizeof(ipfix_rec) == 15 * 8 + 32 + 8 + 12 + 16 + 8 + 12, "ipfix_rec matches rec_spec");

/* Elements whose presence in the exporter's template makes it a biflow
 * exporter (RFC 5103). */
static fbInfoElementSpec_t reverse_spec[] = {
    {"reversePacketDeltaCount", 0, 0}, {"reversePacketTotalCount", 0, 0}, FB_IESPEC_NULL,
};

#define FW_DENIED 3 /* firewallEvent and NSEL's NF_F_FW_EVENT: "flow denied" */

/* Uniflows waiting for the other direction; beyond this many a
 * direction is judged alone at once. */
#define PENDING_MAX 65536

/* A uniflow waiting for its other direction since it arrived. */
typedef struct waiting {
    fa_flow f;
    uint64_t arrival_us;
    UT_hash_handle hh;         /* by f.key */
} waiting;

struct fa_ipfix {
    fbInfoModel_t *model;
    waiting *pending;
    size_t npending;
    fa_record_emit emit;
    void *arg;
    fa_ipfix_stats st;
};

static bool ip_of(const ipfix_rec *r, fa_addr *src, fa_addr *dst)
{
    static const uint8_t zero[16];
    if (r->src4 || r->dst4) {
        uint8_t s[4] = {r->src4 >> 24, r->src4 >> 16, r->src4 >> 8, r->src4};
        uint8_t d[4] = {r->dst4 >> 24, r->dst4 >> 16, r->dst4 >> 8, r->dst4};
        fa_addr_from_v4(src, s);
        fa_addr_from_v4(dst, d);
        return true;
    }
    if (!memcmp(r->src6, zero, 16) && !memcmp(r->dst6, zero, 16))
        return false;
    fa_addr_from_v6(src, r->src6);
    fa_addr_from_v6(dst, r->dst6);
    return true;
}

/* ICMP is keyed as the tracker keys it: type as the source port, code as
 * the destination port. Exporters put type and code in icmpTypeCode, or
 * (type << 8 | code) in the destination port. */
static void ports_of(const ipfix_rec *r, uint16_t *sport, uint16_t *dport)
{
    uint16_t tc = r->icmp4 ? r->icmp4 : r->icmp6 ? r->icmp6 : r->dport;
    bool icmp = r->proto == FA_PROTO_ICMP || r->proto == FA_PROTO_ICMP6;
    *sport = icmp ? tc >> 8 : r->sport;
    *dport = icmp ? tc & 0xff : r->dport;
}

static uint64_t pick(uint64_t delta, uint64_t total)
{
    return delta ? delta : total;
}

/* Seconds between the NTP era (1900) and the Unix epoch. */
#define NTP_UNIX_S 2208988800u

/* An NTP timestamp (seconds since 1900, 32-bit fraction) in Unix
 * microseconds; 0 when it is none or before 1970. */
static uint64_t ntp_us(uint64_t v)
{
    uint64_t s = v >> 32;
    if (s <= NTP_UNIX_S)
        return 0;
    return (s - NTP_UNIX_S) * 1000000u + (((v & 0xffffffffu) * 1000000u) >> 32);
}

/* The record's start and end in Unix microseconds, from whichever time
 * elements its template has: milliseconds, microseconds, nanoseconds,
 * seconds, or the exporter's uptime with its boot time in the same
 * record. A missing end is the start. False when none gives a start. */
static bool rec_times(const ipfix_rec *r, uint64_t *first_us, uint64_t *last_us)
{
    uint64_t s = 0, e = 0;
    if (r->start_ms)
        s = r->start_ms * 1000u, e = r->end_ms * 1000u;
    else if (r->start_us_ntp)
        s = ntp_us(r->start_us_ntp), e = ntp_us(r->end_us_ntp);
    else if (r->start_ns_ntp)
        s = ntp_us(r->start_ns_ntp), e = ntp_us(r->end_ns_ntp);
    else if (r->start_s)
        s = r->start_s * 1000000ull, e = r->end_s * 1000000ull;
    else if (r->sys_init_ms && (r->start_up_ms || r->end_up_ms))
        s = (r->sys_init_ms + r->start_up_ms) * 1000u, e = (r->sys_init_ms + r->end_up_ms) * 1000u;
    if (!s || s > FA_TS_MAX_US || e > FA_TS_MAX_US)
        return false;
    *first_us = s;
    *last_us = e > s ? e : s;
    return true;
}

/* One record as a flow, orig = the record's source: FA_IPFIX_UNIFLOW
 * when made (the caller tells a biflow by its template), else why not. */
static fa_ipfix_kind rec_to_flow(const ipfix_rec *r, fa_flow *f)
{
    fa_addr src, dst;
    uint16_t sport, dport;
    memset(f, 0, sizeof *f);
    if (!ip_of(r, &src, &dst))
        return FA_IPFIX_BAD;
    if (!rec_times(r, &f->first_us, &f->last_us))
        return FA_IPFIX_UNTIMED;
    ports_of(r, &sport, &dport);
    if (fa_flow_table_make_key(&f->key, r->proto, &src, sport, &dst, dport))
        f->bits |= FA_FLOW_ORIG_IS_LO;
    f->bits |= FA_FLOW_RECORD;
    f->dir[0].pkts = (uint32_t)(pick(r->packets, r->packets_total) > UINT32_MAX ? UINT32_MAX : pick(r->packets, r->packets_total));
    f->dir[1].pkts = (uint32_t)(pick(r->r_packets, r->r_packets_total) > UINT32_MAX ? UINT32_MAX : pick(r->r_packets, r->r_packets_total));
    f->dir[0].ip_bytes = pick(r->octets, r->octets_total);
    f->dir[1].ip_bytes = pick(r->r_octets, r->r_octets_total);
    f->dir[0].flags = r->flags;
    f->dir[1].flags = r->r_flags;
    if (r->fw_event == FW_DENIED || r->nsel_event == FW_DENIED) {
        f->bits |= FA_FLOW_DENIED;
        f->dir[1].pkts = 0;
        f->dir[1].ip_bytes = 0;
        f->dir[1].flags = 0;
    }
    return FA_IPFIX_UNIFLOW;
}

/* A side's endpoint state from the flags it sent; handshake: both sent
 * a SYN. Zeek's states, as tcp_state.c computes conn_state from them. */
static uint8_t side_state(const fa_flow_dir *d, bool handshake)
{
    if (!d->pkts)
        return FA_EP_INACTIVE;
    if (d->flags & FA_TH_RST)
        return FA_EP_RESET;
    if (d->flags & FA_TH_FIN)
        return FA_EP_CLOSED;
    if (d->flags & FA_TH_SYN)
        return handshake ? FA_EP_ESTABLISHED : FA_EP_SYN_SENT;
    return FA_EP_PARTIAL;
}

/* The history letters the flags prove, in Zeek's order of a connection
 * (S h F f R r): enough for the initiator and for RSTOS0; pure ACKs and
 * data cannot be told from a union of flags. */
static void flags_history(fa_flow *f)
{
    static const struct { int dir; uint8_t flag; char letter; } letters[] = {
        {0, FA_TH_SYN, 'S'}, {1, FA_TH_SYN, 'h'}, {0, FA_TH_FIN, 'F'},
        {1, FA_TH_FIN, 'f'}, {0, FA_TH_RST, 'R'}, {1, FA_TH_RST, 'r'}, {0, 0, 0},
    };
    int n = 0;
    for (int i = 0; letters[i].letter; i++)
        if (f->dir[letters[i].dir].pkts && (f->dir[letters[i].dir].flags & letters[i].flag))
            f->history[n++] = letters[i].letter;
    f->history[n] = '\0';
}

static void finish_flow(fa_flow *f, bool opener_known)
{
    if (f->key.proto == FA_PROTO_TCP) {
        bool handshake = (f->dir[0].flags & FA_TH_SYN) && (f->dir[1].flags & FA_TH_SYN);
        for (int d = 0; d < 2; d++)
            f->dir[d].state = side_state(&f->dir[d], handshake);
        flags_history(f);
    } else {
        for (int d = 0; d < 2; d++)
            f->dir[d].state = f->dir[d].pkts ? FA_EP_ACTIVE : FA_EP_INACTIVE;
    }
    /* Zeek's mark for a direction guessed: the audit then knows no
     * initiator. */
    if (!opener_known) {
        size_t n = strlen(f->history);
        memmove(f->history + 1, f->history, n < FA_HISTORY_MAX ? n + 1 : FA_HISTORY_MAX);
        f->history[0] = '^';
        f->history[FA_HISTORY_MAX] = '\0';
    }
    f->end_reason = (f->dir[0].flags | f->dir[1].flags) & FA_TH_RST ? FA_END_RST_ORIG : FA_END_IDLE;
    if (f->end_reason == FA_END_RST_ORIG && !(f->dir[0].flags & FA_TH_RST))
        f->end_reason = FA_END_RST_RESP;
    else if (f->end_reason == FA_END_IDLE && (f->dir[0].flags & f->dir[1].flags & FA_TH_FIN))
        f->end_reason = FA_END_FIN;
}

/* The originator of two joined directions: the side that sent a SYN
 * when the other sent none, or a SYN and no ACK when the other sent
 * both; else the one that started first. Exporters that stamp seconds
 * give both sides one start: then a side sending from a likely server
 * port (Zeek's list) is the server; with none or both, the lower port is
 * taken for the server, a guess (*known false). */
static bool second_is_orig(const fa_flow *first, const fa_flow *second, bool *known)
{
    bool s1 = first->dir[0].flags & FA_TH_SYN, s2 = second->dir[0].flags & FA_TH_SYN;
    bool a1 = first->dir[0].flags & FA_TH_ACK, a2 = second->dir[0].flags & FA_TH_ACK;
    uint16_t p1 = fa_flow_port(first, 0), p2 = fa_flow_port(second, 0);
    *known = true;
    if (s1 && s2 && a1 != a2)
        return a1; /* the SYN-ACK's sender answered */
    if (s1 != s2)
        return s2;
    if (second->first_us != first->first_us)
        return second->first_us < first->first_us;
    bool srv1 = fa_flow_likely_server_port(p1), srv2 = fa_flow_likely_server_port(p2);
    *known = srv1 != srv2;
    return *known ? srv1 : p1 < p2;
}

/* Two uniflows of one connection as one flow, in *into; false when who
 * opened it is not known. */
static bool join(fa_flow *into, const fa_flow *other)
{
    fa_flow o = *into, r = *other;
    bool known;
    if (second_is_orig(into, other, &known)) {
        o = *other;
        r = *into;
    }
    *into = o;
    into->dir[1] = r.dir[0];
    into->joined = 1;
    into->bits |= r.bits & FA_FLOW_DENIED;
    if (r.first_us < into->first_us)
        into->first_us = r.first_us;
    if (r.last_us > into->last_us)
        into->last_us = r.last_us;
    return known;
}

/* Same direction again (an exporter's active timeout cut it): summed. */
static void add_same(fa_flow *into, const fa_flow *more)
{
    into->dir[0].pkts = into->dir[0].pkts > UINT32_MAX - more->dir[0].pkts ? UINT32_MAX
                                                                           : into->dir[0].pkts + more->dir[0].pkts;
    into->dir[0].ip_bytes += more->dir[0].ip_bytes;
    into->dir[0].flags |= more->dir[0].flags;
    into->bits |= more->bits & FA_FLOW_DENIED;
    if (more->first_us < into->first_us)
        into->first_us = more->first_us;
    if (more->last_us > into->last_us)
        into->last_us = more->last_us;
}

static void emit(fa_ipfix *x, fa_flow *f, bool opener_known)
{
    finish_flow(f, opener_known);
    x->st.denied += (f->bits & FA_FLOW_DENIED) != 0;
    x->emit(x->arg, f);
}

/* Whether two records' times overlap or lie within the window. */
static bool within_window(const fa_flow *a, const fa_flow *b)
{
    return b->first_us <= a->last_us + FA_RECORD_WINDOW_US && a->first_us <= b->last_us + FA_RECORD_WINDOW_US;
}

/* A uniflow: joined with its other direction when that waits already,
 * else it waits (or, the table full, is judged alone). A waiting record
 * of the same connection too far apart in time is another flow: it is
 * judged alone and the new one waits in its place. */
static void uniflow(fa_ipfix *x, fa_flow *f, uint64_t arrival_us)
{
    waiting *p;
    HASH_FIND(hh, x->pending, &f->key, sizeof f->key, p);
    if (p && !within_window(&p->f, f)) {
        x->st.alone++;
        emit(x, &p->f, true);
        p->f = *f;
        p->arrival_us = arrival_us;
        return;
    }
    if (p && (p->f.bits & FA_FLOW_ORIG_IS_LO) == (f->bits & FA_FLOW_ORIG_IS_LO)) {
        add_same(&p->f, f);
        return;
    }
    if (p) {
        HASH_DEL(x->pending, p);
        x->npending--;
        x->st.joined += 2;
        emit(x, &p->f, join(&p->f, f));
        free(p);
        return;
    }
    if (x->npending < PENDING_MAX && (p = malloc(sizeof *p))) {
        bool oom = false;
        p->f = *f;
        p->arrival_us = arrival_us;
#undef uthash_nonfatal_oom
#define uthash_nonfatal_oom(obj) (oom = true)
        HASH_ADD(hh, x->pending, f.key, sizeof p->f.key, p);
        if (!oom) {
            x->npending++;
            return;
        }
        free(p);
    }
    x->st.alone++;
    emit(x, f, true);
}

void fa_ipfix_expire(fa_ipfix *x, uint64_t before_us)
{
    waiting *p, *tmp;
    HASH_ITER(hh, x->pending, p, tmp) {
        if (p->arrival_us >= before_us)
            continue;
        HASH_DEL(x->pending, p);
        x->npending--;
        x->st.alone++;
        emit(x, &p->f, true);
        free(p);
    }
}

size_t fa_ipfix_waiting(const fa_ipfix *x)
{
    return x->npending;
}

/* The largest sampling interval a record announces; 0: none. */
static uint32_t sampling_of(const ipfix_rec *r)
{
    uint32_t n = r->sampling > r->sampling_pkt ? r->sampling : r->sampling_pkt;
    return n > r->sampler_random ? n : r->sampler_random;
}

bool fa_ipfix_next(fBuf_t *b, fa_ipfix_item *it, GError **gerr)
{
    ipfix_rec r;
    size_t len = sizeof r;
    uint16_t ext;
    memset(&r, 0, sizeof r);
    if (!fBufNext(b, (uint8_t *)&r, &len, gerr))
        return false;
    fbTemplate_t *t = fBufGetCollectionTemplate(b, &ext);
    it->sampling = sampling_of(&r);
    if (t && fbTemplateGetOptionsScope(t) > 0) {
        it->kind = FA_IPFIX_OPTIONS;
        return true;
    }
    fa_ipfix_kind k = rec_to_flow(&r, &it->flow);
    if (k != FA_IPFIX_UNIFLOW) {
        it->kind = k;
        return true;
    }
    bool biflow = t && (fbTemplateContainsElementByName(t, &reverse_spec[0]) ||
                        fbTemplateContainsElementByName(t, &reverse_spec[1]));
    it->kind = biflow ? FA_IPFIX_BIFLOW : FA_IPFIX_UNIFLOW;
    return true;
}

void fa_ipfix_take(fa_ipfix *x, fa_ipfix_item *it)
{
    if (it->sampling > x->st.sampling)
        x->st.sampling = it->sampling;
    switch (it->kind) {
    case FA_IPFIX_OPTIONS:
        x->st.options++;
        break;
    case FA_IPFIX_BAD:
        x->st.malformed++;
        break;
    case FA_IPFIX_UNTIMED:
        x->st.malformed++;
        x->st.untimed++;
        break;
    case FA_IPFIX_BIFLOW:
        x->st.records++;
        emit(x, &it->flow, true);
        break;
    case FA_IPFIX_UNIFLOW:
        x->st.records++;
        x->st.uniflows++;
        uniflow(x, &it->flow, it->arrival_us);
        break;
    }
}

fa_ipfix *fa_ipfix_new(fa_record_emit fn, void *arg)
{
    fa_ipfix *x = calloc(1, sizeof *x);
    if (!x || !(x->model = fbInfoModelAlloc())) {
        free(x);
        return NULL;
    }
    x->emit = fn;
    x->arg = arg;
    return x;
}

fbSession_t *fa_ipfix_session(fbInfoModel_t *model, uint16_t *tid, GError **gerr)
{
    fbSession_t *s = fbSessionAlloc(model);
    fbTemplate_t *t = fbTemplateAlloc(model);
    if (!fbTemplateAppendSpecArray(t, rec_spec, 0, gerr) ||
        !(*tid = fbSessionAddTemplate(s, TRUE, FB_TID_AUTO, t, gerr))) {
        fbTemplateFreeUnused(t);
        fbSessionFree(s);
        return NULL;
    }
    return s;
}

/* A buffer reading in through the internal template; NULL with err. */
static fBuf_t *open_buf(fa_ipfix *x, FILE *in, GError **gerr)
{
    uint16_t tid;
    fbSession_t *s = fa_ipfix_session(x->model, &tid, gerr);
    if (!s)
        return NULL;
    fBuf_t *b = fBufAllocForCollection(s, fbCollectorAllocFP(NULL, in));
    if (!fBufSetInternalTemplate(b, tid, gerr)) {
        fBufFree(b);
        return NULL;
    }
    return b;
}

/* Errors in a row after which a file is given up: fixbuf reads message
 * by message, so a bad message is skipped, but a file of them is not
 * IPFIX. */
#define ERRORS_IN_ROW_MAX 64

/* libfixbuf reads a file message by message: where the file stands after
 * a record is the end of its message, and the end before it changed the
 * message's start. The first message with a malformed record or set goes
 * into *fr (offsets unknown, -1, on a pipe). */
static void note_offset(fa_ipfix *x, FILE *in, uint64_t malformed_before, long *start, long *end,
                        fa_ipfix_file *fr)
{
    long pos = ftell(in);
    if (pos != *end) {
        *start = *end;
        *end = pos;
    }
    if (fr->first_bad < 0 && x->st.malformed > malformed_before)
        fr->first_bad = *start;
}

int fa_ipfix_read(fa_ipfix *x, FILE *in, const volatile atomic_int *stop, fa_ipfix_file *fr, char *err,
                  size_t errlen)
{
    GError *gerr = NULL;
    fBuf_t *b = open_buf(x, in, &gerr);
    int rc = 0;
    unsigned in_row = 0;
    fa_ipfix_item it = {.arrival_us = 0};
    uint64_t records_before = x->st.records;
    long start = ftell(in), end = start;
    fr->first_bad = -1;
    while (b && !*stop) {
        uint64_t malformed_before = x->st.malformed;
        if (fa_ipfix_next(b, &it, &gerr)) {
            in_row = 0;
            fa_ipfix_take(x, &it);
            note_offset(x, in, malformed_before, &start, &end, fr);
            continue;
        }
        if (g_error_matches(gerr, FB_ERROR_DOMAIN, FB_ERROR_EOF))
            break;
        x->st.malformed++;
        note_offset(x, in, malformed_before, &start, &end, fr);
        if (++in_row == ERRORS_IN_ROW_MAX || g_error_matches(gerr, FB_ERROR_DOMAIN, FB_ERROR_IO)) {
            rc = -1;
            break;
        }
        g_clear_error(&gerr);
    }
    fr->records = x->st.records - records_before;
    if (!b || rc != 0)
        snprintf(err, errlen, "not readable as IPFIX: %s", gerr ? gerr->message : "out of memory");
    g_clear_error(&gerr);
    if (b)
        fBufFree(b);
    return b ? rc : -1;
}

void fa_ipfix_finish(fa_ipfix *x, fa_ipfix_stats *st)
{
    fa_ipfix_expire(x, UINT64_MAX);
    *st = x->st;
    fbInfoModelFree(x->model);
    free(x);
}
