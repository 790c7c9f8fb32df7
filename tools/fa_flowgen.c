/* fa_flowgen.c - writes a deterministic Ethernet capture from a
 * line-oriented flow spec, so sample captures are reviewed as text.
 *
 * Usage: fa_flowgen SPEC.flows OUT.pcap
 *
 * One flow per line; '#' starts a comment that runs to the end of the line:
 *
 *   at SECONDS PROTO SRC[:SPORT] -> DST[:DPORT] OUTCOME [bytes N]
 *
 *   SECONDS  offset from 1700000000.000000, up to 6 decimals ("at 2.5")
 *   PROTO    tcp, udp, icmp (ICMPv6 between IPv6 hosts) or proto:N
 *            (IP protocol N, 0-255, other than 1, 6, 17 and 58)
 *   SRC/DST  192.0.2.10, 192.0.2.10:443, 2001:db8::5, [2001:db8::5]:443;
 *            both ends of one family. tcp and udp need DPORT; SPORT
 *            defaults to 40000 + (line number % 25536). icmp and proto:N
 *            take no ports.
 *   OUTCOME  ok          tcp: handshake, request of N bytes, response of
 *                        2N, FIN both ways; udp: request + reply (2N);
 *                        icmp: echo request + reply
 *            open        tcp: handshake and data, never closed
 *            drop        tcp: SYN at +0, +1 and +3 s, unanswered; udp and
 *                        icmp: two requests 1 s apart, unanswered
 *            reset       tcp: SYN answered by RST/ACK from DST
 *            icmp-admin  tcp or udp: the first packet answered by DST with
 *                        ICMP 3/13 (ICMPv6 1/1) quoting its IP header and
 *                        first 8 transport bytes
 *            icmp-port   the same with ICMP 3/3 (ICMPv6 1/4)
 *            echo        icmp: echo request + reply
 *            send        one packet: a SYN, a UDP datagram, an echo
 *                        request, a VRRPv2 advertisement for proto:112 over
 *                        IPv4, or N payload bytes for another proto:N
 *   bytes N  request size, 0-1000000; default 200 (56 for icmp). UDP data
 *            larger than one datagram is split; ICMP and proto:N take one.
 *
 * Frames of one flow are 1 ms apart (except drop's retries); all frames are
 * sorted by time, ties kept in spec order. MACs are 02:00 followed by the
 * last 4 address bytes (multicast and broadcast map as on a wire); TCP ISNs
 * and IPv4 IDs are derived from the line number; every checksum is correct.
 * Errors are printed as file:line: message, exit status 2. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fa_pktbuild.h"

#define EPOCH_S 1700000000ull
#define STEP_US 1000u
#define ETH_LEN 14
#define MTU 1500
#define FRAME_MAX (ETH_LEN + MTU)
#define LINE_MAX_LEN 4096
#define BYTES_MAX 1000000u
#define MAX_AT_S 100000000ull

#define P_ICMP 1
#define P_TCP 6
#define P_UDP 17
#define P_ICMP6 58
#define P_VRRP 112

enum outcome { OC_OK, OC_OPEN, OC_DROP, OC_RESET, OC_ICMP_ADMIN, OC_ICMP_PORT, OC_ECHO, OC_SEND };

static const struct { const char *name; enum outcome oc; } outcome_names[] = {
    {"ok", OC_OK},         {"open", OC_OPEN},           {"drop", OC_DROP},
    {"reset", OC_RESET},   {"icmp-admin", OC_ICMP_ADMIN}, {"icmp-port", OC_ICMP_PORT},
    {"echo", OC_ECHO},     {"send", OC_SEND},           {NULL, OC_OK},
};

struct ep {
    bool v6;
    bool has_port;
    uint16_t port;
    uint8_t ip[16];
};

struct spec {
    unsigned line;
    uint64_t ts_us;
    uint8_t proto;
    struct ep src, dst;
    enum outcome oc;
    uint32_t bytes;
};

struct frame {
    uint64_t ts_us;
    size_t seq;
    uint32_t len;
    uint8_t *data;
};

/* Every frame of the capture, kept until sorted and written. */
struct frames {
    struct frame *v;
    size_t n, cap;
    bool oom;
};

/* One flow being generated: its spec, its clock and its IP ID counter. */
struct flowctx {
    struct frames *out;
    const struct spec *sp;
    uint64_t t;
    uint16_t ip_id;
};

struct tcpconn {
    struct flowctx *c;
    const struct ep *end[2];
    uint32_t seq[2];
};

/* ---- checksums and headers ---------------------------------------------- */

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, (uint16_t)(v >> 16));
    wr16(p + 2, (uint16_t)v);
}

static void mac_of(const struct ep *e, uint8_t mac[6])
{
    const uint8_t *ip = e->ip;
    static const uint8_t bcast[4] = {255, 255, 255, 255};
    if (!e->v6 && memcmp(ip, bcast, 4) == 0) {
        memset(mac, 0xff, 6);
    } else if (!e->v6 && ip[0] >= 224 && ip[0] <= 239) {
        const uint8_t m[6] = {0x01, 0x00, 0x5e, (uint8_t)(ip[1] & 0x7f), ip[2], ip[3]};
        memcpy(mac, m, 6);
    } else if (e->v6 && ip[0] == 0xff) {
        const uint8_t m[6] = {0x33, 0x33, ip[12], ip[13], ip[14], ip[15]};
        memcpy(mac, m, 6);
    } else {
        const uint8_t *low = e->v6 ? ip + 12 : ip;
        const uint8_t m[6] = {0x02, 0x00, low[0], low[1], low[2], low[3]};
        memcpy(mac, m, 6);
    }
}

static size_t put_eth(uint8_t *p, const struct ep *s, const struct ep *d)
{
    mac_of(d, p);
    mac_of(s, p + 6);
    wr16(p + 12, s->v6 ? 0x86dd : 0x0800);
    return ETH_LEN;
}

/* IPv4 with DF for TCP, as stacks doing path MTU discovery send it. */
static size_t put_ip(struct flowctx *c, uint8_t *p, const struct ep *s, const struct ep *d,
                     uint8_t proto, size_t l4len, uint8_t ttl)
{
    if (s->v6) {
        wr32(p, 0x60000000u);
        wr16(p + 4, (uint16_t)l4len);
        p[6] = proto;
        p[7] = ttl;
        memcpy(p + 8, s->ip, 16);
        memcpy(p + 24, d->ip, 16);
        return 40;
    }
    memset(p, 0, 20);
    p[0] = 0x45;
    wr16(p + 2, (uint16_t)(20 + l4len));
    wr16(p + 4, c->ip_id++);
    wr16(p + 6, proto == P_TCP ? 0x4000 : 0);
    p[8] = ttl;
    p[9] = proto;
    memcpy(p + 12, s->ip, 4);
    memcpy(p + 16, d->ip, 4);
    wr16(p + 10, csum_fold(csum_add(0, p, 20)));
    return 20;
}

/* Fills the L4 checksum at csum_off; TCP, UDP and ICMPv6 cover a
 * pseudo-header, ICMPv4 and VRRP do not. */
static void l4_checksum(uint8_t *l4, size_t len, size_t csum_off, const struct ep *s,
                        const struct ep *d, uint8_t proto)
{
    uint32_t sum = 0;
    if (proto == P_TCP || proto == P_UDP || proto == P_ICMP6) {
        size_t alen = s->v6 ? 16 : 4;
        sum = csum_add(csum_add(0, s->ip, alen), d->ip, alen) + proto + (uint32_t)len;
    }
    wr16(l4 + csum_off, 0);
    uint16_t c = csum_fold(csum_add(sum, l4, len));
    if (proto == P_UDP && c == 0)
        c = 0xffff;
    wr16(l4 + csum_off, c);
}

/* ---- frame store ---------------------------------------------------------- */

static long store(struct frames *out, uint64_t ts, const uint8_t *data, size_t len)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 256;
        struct frame *v = realloc(out->v, cap * sizeof *v);
        if (!v) {
            out->oom = true;
            return -1;
        }
        out->v = v;
        out->cap = cap;
    }
    uint8_t *copy = malloc(len);
    if (!copy) {
        out->oom = true;
        return -1;
    }
    memcpy(copy, data, len);
    out->v[out->n] = (struct frame){ts, out->n, (uint32_t)len, copy};
    return (long)out->n++;
}

/* Wraps l4 (its checksum field at csum_off, or none when csum_off < 0) in
 * IP and Ethernet and stores it at the flow's clock, which then moves on a
 * step. Returns the frame's index, or -1 when out of memory. */
static long emit(struct flowctx *c, const struct ep *s, const struct ep *d, uint8_t proto,
                 uint8_t *l4, size_t l4len, int csum_off, uint8_t ttl)
{
    uint8_t f[FRAME_MAX];
    if (csum_off >= 0)
        l4_checksum(l4, l4len, (size_t)csum_off, s, d, proto);
    size_t n = put_eth(f, s, d);
    n += put_ip(c, f + n, s, d, proto, l4len, ttl);
    memcpy(f + n, l4, l4len);
    n += l4len;
    if (n < ETHER_MIN) {
        memset(f + n, 0, ETHER_MIN - n);
        n = ETHER_MIN;
    }
    long idx = store(c->out, c->t, f, n);
    c->t += STEP_US;
    return idx;
}

static void fill_payload(uint8_t *p, size_t n, size_t offset)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)('a' + (offset + i) % 26);
}

static size_t max_l4(const struct ep *e)
{
    return MTU - (e->v6 ? 40u : 20u);
}

/* ---- TCP ------------------------------------------------------------------ */

static void tcp_init(struct tcpconn *t, struct flowctx *c)
{
    t->c = c;
    t->end[0] = &c->sp->src;
    t->end[1] = &c->sp->dst;
    t->seq[0] = c->sp->line * 0x01000193u + 0x10000u;
    t->seq[1] = c->sp->line * 0x00100003u + 0x80000000u;
}

/* One segment from end `from` carrying len pattern bytes (data_off into
 * its stream); SYNs carry an MSS option. */
static long tcp_seg(struct tcpconn *t, int from, uint8_t flags, size_t len, size_t data_off)
{
    uint8_t seg[MTU];
    const struct ep *s = t->end[from], *d = t->end[1 - from];
    size_t hl = (flags & TH_SYN) ? 24 : 20;
    memset(seg, 0, hl);
    wr16(seg, s->port);
    wr16(seg + 2, d->port);
    wr32(seg + 4, t->seq[from]);
    wr32(seg + 8, (flags & TH_ACK) ? t->seq[1 - from] : 0);
    seg[12] = (uint8_t)((hl / 4) << 4);
    seg[13] = flags;
    wr16(seg + 14, 64240);
    if (flags & TH_SYN) {
        seg[20] = 2;
        seg[21] = 4;
        wr16(seg + 22, (uint16_t)(max_l4(s) - 20));
    }
    fill_payload(seg + hl, len, data_off);
    return emit(t->c, s, d, P_TCP, seg, hl + len, 16, 64);
}

static void tcp_send(struct tcpconn *t, int from, uint8_t flags)
{
    tcp_seg(t, from, flags, 0, 0);
    t->seq[from] += (flags & (TH_SYN | TH_FIN)) ? 1u : 0u;
}

/* total bytes from `from` in full-size segments, then the peer's ACK. */
static void tcp_data(struct tcpconn *t, int from, size_t total)
{
    size_t mss = max_l4(t->end[from]) - 20, done = 0;
    while (done < total) {
        size_t n = total - done < mss ? total - done : mss;
        tcp_seg(t, from, (uint8_t)(TH_ACK | (done + n == total ? TH_PSH : 0)), n, done);
        t->seq[from] += (uint32_t)n;
        done += n;
    }
    if (total)
        tcp_send(t, 1 - from, TH_ACK);
}

static void tcp_handshake(struct tcpconn *t)
{
    tcp_send(t, 0, TH_SYN);
    tcp_send(t, 1, TH_SYN | TH_ACK);
    tcp_send(t, 0, TH_ACK);
}

/* ---- ICMP ----------------------------------------------------------------- */

static void icmp_echo(struct flowctx *c, int from, uint16_t seqno, size_t len)
{
    uint8_t m[MTU];
    const struct spec *sp = c->sp;
    const struct ep *s = from ? &sp->dst : &sp->src, *d = from ? &sp->src : &sp->dst;
    uint8_t proto = s->v6 ? P_ICMP6 : P_ICMP;
    memset(m, 0, 8);
    m[0] = s->v6 ? (from ? 129 : 128) : (from ? 0 : 8);
    wr16(m + 4, (uint16_t)sp->line);
    wr16(m + 6, seqno);
    fill_payload(m + 8, len, 0);
    emit(c, s, d, proto, m, 8 + len, 2, 64);
}

/* DST refuses frame `idx` (sent by SRC): an unreachable quoting the
 * refused packet's IP header and its first 8 transport bytes. */
static void icmp_refuse(struct flowctx *c, long idx, bool admin)
{
    const struct spec *sp = c->sp;
    const struct frame *f = &c->out->v[idx];
    bool v6 = sp->src.v6;
    size_t quote = (v6 ? 40u : 20u) + 8u;
    uint8_t m[8 + 48];
    memset(m, 0, 8);
    m[0] = v6 ? 1 : 3;
    m[1] = v6 ? (admin ? 1 : 4) : (admin ? 13 : 3);
    memcpy(m + 8, f->data + ETH_LEN, quote);
    emit(c, &sp->dst, &sp->src, v6 ? P_ICMP6 : P_ICMP, m, 8 + quote, 2, 64);
}

/* ---- flows ---------------------------------------------------------------- */

static void gen_tcp(struct flowctx *c)
{
    struct tcpconn t;
    tcp_init(&t, c);
    size_t n = c->sp->bytes;
    switch (c->sp->oc) {
    case OC_OK:
    case OC_OPEN:
        tcp_handshake(&t);
        tcp_data(&t, 0, n);
        tcp_data(&t, 1, 2 * n);
        if (c->sp->oc == OC_OK) {
            tcp_send(&t, 0, TH_FIN | TH_ACK);
            tcp_send(&t, 1, TH_FIN | TH_ACK);
            tcp_send(&t, 0, TH_ACK);
        }
        break;
    case OC_DROP:
        for (int i = 0; i < 3; i++) {
            c->t = c->sp->ts_us + (i == 0 ? 0u : i == 1 ? 1000000u : 3000000u);
            tcp_seg(&t, 0, TH_SYN, 0, 0);
        }
        break;
    case OC_RESET:
        tcp_send(&t, 0, TH_SYN);
        t.seq[1] = 0;
        tcp_send(&t, 1, TH_RST | TH_ACK);
        break;
    case OC_ICMP_ADMIN:
    case OC_ICMP_PORT: {
        long idx = tcp_seg(&t, 0, TH_SYN, 0, 0);
        if (idx >= 0)
            icmp_refuse(c, idx, c->sp->oc == OC_ICMP_ADMIN);
        break;
    }
    default:
        tcp_seg(&t, 0, TH_SYN, 0, 0);
        break;
    }
}

/* total bytes from `from` as datagrams of at most one MTU each; returns
 * the first one's frame index. */
static long udp_data(struct flowctx *c, int from, size_t total)
{
    uint8_t d[MTU];
    const struct spec *sp = c->sp;
    const struct ep *s = from ? &sp->dst : &sp->src, *r = from ? &sp->src : &sp->dst;
    size_t max = max_l4(s) - 8, done = 0;
    long first = -1;
    do {
        size_t n = total - done < max ? total - done : max;
        wr16(d, s->port);
        wr16(d + 2, r->port);
        wr16(d + 4, (uint16_t)(8 + n));
        fill_payload(d + 8, n, done);
        long idx = emit(c, s, r, P_UDP, d, 8 + n, 6, 64);
        if (first < 0)
            first = idx;
        done += n;
    } while (done < total);
    return first;
}

static void gen_udp(struct flowctx *c)
{
    size_t n = c->sp->bytes;
    long idx;
    switch (c->sp->oc) {
    case OC_OK:
        udp_data(c, 0, n);
        udp_data(c, 1, 2 * n);
        break;
    case OC_DROP:
        udp_data(c, 0, n);
        c->t = c->sp->ts_us + 1000000u;
        udp_data(c, 0, n);
        break;
    case OC_ICMP_ADMIN:
    case OC_ICMP_PORT:
        idx = udp_data(c, 0, n);
        if (idx >= 0)
            icmp_refuse(c, idx, c->sp->oc == OC_ICMP_ADMIN);
        break;
    default:
        udp_data(c, 0, n);
        break;
    }
}

static void gen_icmp(struct flowctx *c)
{
    size_t n = c->sp->bytes;
    switch (c->sp->oc) {
    case OC_OK:
    case OC_ECHO:
        icmp_echo(c, 0, 1, n);
        icmp_echo(c, 1, 1, n);
        break;
    case OC_DROP:
        icmp_echo(c, 0, 1, n);
        c->t = c->sp->ts_us + 1000000u;
        icmp_echo(c, 0, 2, n);
        break;
    default:
        icmp_echo(c, 0, 1, n);
        break;
    }
}

/* VRRPv2 (RFC 3768) from SRC for virtual router 1, whose address is SRC's
 * /24 with host part 254; anything else is a pattern payload. */
static void gen_other(struct flowctx *c)
{
    uint8_t m[MTU];
    const struct spec *sp = c->sp;
    if (sp->proto == P_VRRP && !sp->src.v6) {
        const uint8_t v[16] = {0x21, 1, 100, 1, 0, 1, 0, 0,
                               sp->src.ip[0], sp->src.ip[1], sp->src.ip[2], 254};
        memcpy(m, v, sizeof v);
        emit(c, &sp->src, &sp->dst, P_VRRP, m, sizeof v, 6, 255);
        return;
    }
    fill_payload(m, sp->bytes, 0);
    emit(c, &sp->src, &sp->dst, sp->proto, m, sp->bytes, -1, 64);
}

static void gen_flow(struct frames *out, const struct spec *sp)
{
    struct flowctx c = {out, sp, sp->ts_us, (uint16_t)(sp->line * 64u)};
    if (sp->proto == P_TCP)
        gen_tcp(&c);
    else if (sp->proto == P_UDP)
        gen_udp(&c);
    else if (sp->proto == P_ICMP)
        gen_icmp(&c);
    else
        gen_other(&c);
}

/* ---- spec parsing ----------------------------------------------------------- */

struct perr {
    char msg[160];
};

static bool fail(struct perr *e, const char *msg, const char *word)
{
    if (word)
        snprintf(e->msg, sizeof e->msg, "%s '%.60s'", msg, word);
    else
        snprintf(e->msg, sizeof e->msg, "%s", msg);
    return false;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    if (!isdigit((unsigned char)s[0]))
        return false;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > max)
        return false;
    *out = v;
    return true;
}

/* "12" or "12.345678" as microseconds, without floating point. */
static bool parse_seconds(const char *s, uint64_t *us)
{
    char whole[16];
    const char *dot = strchr(s, '.');
    size_t wl = dot ? (size_t)(dot - s) : strlen(s);
    unsigned long w, frac = 0;
    if (wl == 0 || wl >= sizeof whole)
        return false;
    memcpy(whole, s, wl);
    whole[wl] = '\0';
    if (!parse_uint(whole, MAX_AT_S, &w))
        return false;
    if (dot) {
        size_t fl = strlen(dot + 1);
        if (fl == 0 || fl > 6 || !parse_uint(dot + 1, 999999, &frac))
            return false;
        for (; fl < 6; fl++)
            frac *= 10;
    }
    *us = (EPOCH_S + w) * 1000000u + frac;
    return true;
}

static bool parse_proto(const char *s, uint8_t *proto, struct perr *e)
{
    unsigned long n;
    if (strcmp(s, "tcp") == 0)
        *proto = P_TCP;
    else if (strcmp(s, "udp") == 0)
        *proto = P_UDP;
    else if (strcmp(s, "icmp") == 0)
        *proto = P_ICMP;
    else if (strncmp(s, "proto:", 6) != 0 || !parse_uint(s + 6, 255, &n))
        return fail(e, "bad protocol (tcp, udp, icmp or proto:N)", s);
    else if (n == P_TCP || n == P_UDP || n == P_ICMP || n == P_ICMP6)
        return fail(e, "write this protocol by name (tcp, udp, icmp)", s);
    else
        *proto = (uint8_t)n;
    return true;
}

/* ADDR, ADDR:PORT (IPv4) or ADDR, [ADDR]:PORT (IPv6). */
static bool parse_ep(const char *s, struct ep *ep, struct perr *e)
{
    char host[64];
    const char *port = NULL;
    size_t hl;
    bool bracketed = s[0] == '[';
    memset(ep, 0, sizeof *ep);
    if (bracketed) {
        const char *close = strchr(s, ']');
        if (!close || (close[1] != '\0' && close[1] != ':'))
            return fail(e, "bad bracketed address", s);
        hl = (size_t)(close - s - 1);
        s++;
        port = close[1] == ':' ? close + 2 : NULL;
    } else {
        const char *colon = strchr(s, ':');
        bool v6 = colon && strchr(colon + 1, ':');
        hl = v6 || !colon ? strlen(s) : (size_t)(colon - s);
        port = v6 || !colon ? NULL : colon + 1;
    }
    if (hl == 0 || hl >= sizeof host)
        return fail(e, "bad address", s);
    memcpy(host, s, hl);
    host[hl] = '\0';
    if (inet_pton(AF_INET, host, ep->ip) == 1)
        ep->v6 = false;
    else if (inet_pton(AF_INET6, host, ep->ip) == 1)
        ep->v6 = true;
    else
        return fail(e, "bad address", host);
    if (bracketed && !ep->v6)
        return fail(e, "brackets are for IPv6 addresses", host);
    if (port) {
        unsigned long p;
        if (!parse_uint(port, 65535, &p) || p == 0)
            return fail(e, "bad port (1-65535)", port);
        ep->port = (uint16_t)p;
        ep->has_port = true;
    }
    return true;
}

static bool outcome_fits(uint8_t proto, enum outcome oc)
{
    switch (oc) {
    case OC_OK: return proto == P_TCP || proto == P_UDP || proto == P_ICMP;
    case OC_OPEN: case OC_RESET: return proto == P_TCP;
    case OC_DROP: return proto == P_TCP || proto == P_UDP || proto == P_ICMP;
    case OC_ICMP_ADMIN: case OC_ICMP_PORT: return proto == P_TCP || proto == P_UDP;
    case OC_ECHO: return proto == P_ICMP;
    default: return true;
    }
}

static bool parse_outcome(const char *s, uint8_t proto, struct spec *sp, struct perr *e)
{
    int i = 0;
    while (outcome_names[i].name && strcmp(outcome_names[i].name, s) != 0)
        i++;
    if (!outcome_names[i].name)
        return fail(e, "unknown outcome (ok, open, drop, reset, icmp-admin, icmp-port, echo, send)",
                    s);
    if (!outcome_fits(proto, outcome_names[i].oc))
        return fail(e, "outcome does not apply to this protocol:", s);
    sp->oc = outcome_names[i].oc;
    return true;
}

/* Largest request one flow of this kind can carry. */
static unsigned long bytes_limit(const struct spec *sp)
{
    if (sp->proto == P_TCP || sp->proto == P_UDP)
        return BYTES_MAX;
    if (sp->proto == P_ICMP)
        return max_l4(&sp->src) - 8;
    return max_l4(&sp->src);
}

static bool check_ports(struct spec *sp, struct perr *e)
{
    bool ports = sp->proto == P_TCP || sp->proto == P_UDP;
    if (sp->src.v6 != sp->dst.v6)
        return fail(e, "source and destination are of different address families", NULL);
    if (!ports && (sp->src.has_port || sp->dst.has_port))
        return fail(e, "icmp and proto:N flows take no ports", NULL);
    if (ports && !sp->dst.has_port)
        return fail(e, "tcp and udp flows need a destination port", NULL);
    if (ports && !sp->src.has_port) {
        sp->src.port = (uint16_t)(40000u + sp->line % 25536u);
        sp->src.has_port = true;
    }
    return true;
}

static bool parse_words(char **w, int n, struct spec *sp, struct perr *e)
{
    unsigned long b;
    if (n != 7 && n != 9)
        return fail(e, "expected: at SECONDS PROTO SRC -> DST OUTCOME [bytes N]", NULL);
    if (strcmp(w[0], "at") != 0)
        return fail(e, "expected 'at', got", w[0]);
    if (!parse_seconds(w[1], &sp->ts_us))
        return fail(e, "bad time (seconds, up to 6 decimals)", w[1]);
    if (!parse_proto(w[2], &sp->proto, e) || !parse_ep(w[3], &sp->src, e))
        return false;
    if (strcmp(w[4], "->") != 0)
        return fail(e, "expected '->', got", w[4]);
    if (!parse_ep(w[5], &sp->dst, e) || !parse_outcome(w[6], sp->proto, sp, e) ||
        !check_ports(sp, e))
        return false;
    sp->bytes = sp->proto == P_ICMP ? 56 : sp->proto == P_VRRP ? 0 : 200;
    if (n == 9) {
        if (strcmp(w[7], "bytes") != 0)
            return fail(e, "expected 'bytes', got", w[7]);
        if (!parse_uint(w[8], bytes_limit(sp), &b))
            return fail(e, "bad byte count (too large for one packet of this kind?)", w[8]);
        sp->bytes = (uint32_t)b;
    }
    return true;
}

/* Splits a line at blanks after cutting its comment. Returns the number
 * of words, or -1 when there are more than max. */
static int split(char *line, char **w, int max)
{
    int n = 0;
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    for (char *save, *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
        if (n == max)
            return -1;
        w[n++] = t;
    }
    return n;
}

/* ---- main ------------------------------------------------------------------- */

static int line_error(const char *file, unsigned line, const char *msg)
{
    fprintf(stderr, "%s:%u: %s\n", file, line, msg);
    return 2;
}

static int read_spec(const char *file, struct frames *out)
{
    char line[LINE_MAX_LEN + 2];
    unsigned lineno = 0;
    FILE *fp = fopen(file, "r");
    if (!fp) {
        fprintf(stderr, "%s: %s\n", file, strerror(errno));
        return 2;
    }
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, fp)) {
        char *w[10];
        struct spec sp = {0};
        struct perr e = {{0}};
        sp.line = ++lineno;
        if (!strchr(line, '\n') && !feof(fp)) {
            rc = line_error(file, lineno, "line too long");
            break;
        }
        int n = split(line, w, 10);
        if (n == 0)
            continue;
        if (n < 0 || !parse_words(w, n, &sp, &e))
            rc = line_error(file, lineno, n < 0 ? "too many words" : e.msg);
        else
            gen_flow(out, &sp);
        if (out->oom)
            rc = line_error(file, lineno, "out of memory");
    }
    if (rc == 0 && ferror(fp)) {
        fprintf(stderr, "%s: read error\n", file);
        rc = 2;
    }
    fclose(fp);
    return rc;
}

static int frame_cmp(const void *a, const void *b)
{
    const struct frame *x = a, *y = b;
    if (x->ts_us != y->ts_us)
        return x->ts_us < y->ts_us ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int write_pcap(const char *file, struct frames *fr)
{
    pcap_t *pd = pcap_open_dead(DLT_EN10MB, 65535);
    if (!pd) {
        fprintf(stderr, "%s: pcap_open_dead failed\n", file);
        return 2;
    }
    pcap_dumper_t *d = pcap_dump_open(pd, file);
    if (!d) {
        fprintf(stderr, "%s\n", pcap_geterr(pd));
        pcap_close(pd);
        return 2;
    }
    if (fr->n > 0)
        qsort(fr->v, fr->n, sizeof *fr->v, frame_cmp);
    for (size_t i = 0; i < fr->n; i++) {
        struct pcap_pkthdr h;
        memset(&h, 0, sizeof h);
        h.ts.tv_sec = (time_t)(fr->v[i].ts_us / 1000000u);
        h.ts.tv_usec = (suseconds_t)(fr->v[i].ts_us % 1000000u);
        h.caplen = h.len = fr->v[i].len;
        pcap_dump((u_char *)d, &h, fr->v[i].data);
    }
    int rc = pcap_dump_flush(d) == 0 ? 0 : 2;
    if (rc)
        fprintf(stderr, "%s: write error\n", file);
    pcap_dump_close(d);
    pcap_close(pd);
    return rc;
}

int main(int argc, char **argv)
{
    struct frames fr = {NULL, 0, 0, false};
    if (argc != 3) {
        fprintf(stderr, "usage: fa_flowgen SPEC.flows OUT.pcap\n");
        return 2;
    }
    int rc = read_spec(argv[1], &fr);
    if (rc == 0)
        rc = write_pcap(argv[2], &fr);
    for (size_t i = 0; i < fr.n; i++)
        free(fr.v[i].data);
    free(fr.v);
    return rc;
}
