/* fa_pcapgen.h - the scenarios' vocabulary for fa_pcapgen on top of
 * fa_pktbuild.h: hosts, TCP segments and conversations, link framing, the
 * frame clock and the pcap writer. Included by fa_pcapgen.c only. */
#ifndef FA_PCAPGEN_H
#define FA_PCAPGEN_H

#include "fa_pktbuild.h"

#include <pcap/pcap.h>

#define HDR_MAX 256
#define TAGS_MAX 10
#define PROTO_VRRP 112

/* One end of a conversation. `local` marks the capturing machine, which
 * Linux cooked captures record as "outgoing". */
struct host {
    uint8_t mac[6];
    bool v6;
    bool local;
    uint8_t ip[16];
};

/* Pseudo-header sum (RFC 768 / RFC 8200 section 8.1). */
static uint32_t pseudo_sum(const struct host *s, const struct host *d, uint8_t proto, size_t len)
{
    size_t alen = s->v6 ? 16 : 4;
    uint32_t sum = csum_add(0, s->ip, alen);
    sum = csum_add(sum, d->ip, alen);
    return sum + proto + (uint32_t)len;
}

/* Fills the checksum at b->d[off] over the whole buffer; ICMPv4 and VRRPv2
 * have no pseudo-header, and UDP sends a zero sum as 0xffff. */
static void l4_csum(struct buf *b, size_t off, const struct host *s, const struct host *d,
                    uint8_t proto, bool pseudo)
{
    uint16_t c;
    if (b->overflow)
        return;
    set_be16(b, off, 0);
    c = csum_fold(csum_add(pseudo ? pseudo_sum(s, d, proto, b->len) : 0, b->d, b->len));
    if (proto == IPPROTO_UDP && c == 0)
        c = 0xffff;
    set_be16(b, off, c);
}

/* One TCP segment as sent; kept so it can be retransmitted verbatim. */
struct seg {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    const void *data;
    size_t len;
};

/* SYNs carry an MSS option, as every real stack sends one. */
static void build_tcp(struct buf *b, const struct host *s, const struct host *d, const struct seg *t)
{
    bool syn = t->flags & TH_SYN;
    buf_reset(b);
    put_be16(b, t->sport);
    put_be16(b, t->dport);
    put_be32(b, t->seq);
    put_be32(b, t->ack);
    put_u8(b, (uint8_t)((syn ? 6 : 5) << 4));
    put_u8(b, t->flags);
    put_be16(b, 64240);
    put_be32(b, 0); /* checksum, urgent pointer */
    if (syn) {
        put_u8(b, 2);
        put_u8(b, 4);
        put_be16(b, s->v6 ? 1440 : 1460);
    }
    put_bytes(b, t->data, t->len);
    l4_csum(b, 16, s, d, IPPROTO_TCP, true);
}

static void build_udp(struct buf *b, const struct host *s, const struct host *d, uint16_t sport,
                      uint16_t dport, const void *data, size_t n)
{
    buf_reset(b);
    put_be16(b, sport);
    put_be16(b, dport);
    put_be16(b, (uint16_t)(8 + n));
    put_be16(b, 0);
    put_bytes(b, data, n);
    l4_csum(b, 6, s, d, IPPROTO_UDP, true);
}

/* ICMP for IPv4 senders, ICMPv6 (with pseudo-header) for IPv6 ones; `rest`
 * is the second header word (echo id/seq, unused for errors). */
static void build_icmp(struct buf *b, const struct host *s, const struct host *d, uint8_t type,
                       uint8_t code, uint32_t rest, const void *data, size_t n)
{
    buf_reset(b);
    put_u8(b, type);
    put_u8(b, code);
    put_be16(b, 0);
    put_be32(b, rest);
    put_bytes(b, data, n);
    l4_csum(b, 2, s, d, s->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, s->v6);
}

enum link {
    LINK_ETHER,
    LINK_VLAN,
    LINK_QINQ,
    LINK_SLL,
    LINK_SLL2,
    LINK_NULL,
    LINK_LOOP,
    LINK_RAW,
    LINK_IPV4,
    LINK_IPV6,
    LINK_WIFI
};

static const int link_dlt[] = {
    [LINK_ETHER] = DLT_EN10MB, [LINK_VLAN] = DLT_EN10MB,  [LINK_QINQ] = DLT_EN10MB,
    [LINK_SLL] = DLT_LINUX_SLL, [LINK_SLL2] = DLT_LINUX_SLL2, [LINK_NULL] = DLT_NULL,
    [LINK_LOOP] = DLT_LOOP,    [LINK_RAW] = DLT_RAW,       [LINK_IPV4] = DLT_IPV4,
    [LINK_IPV6] = DLT_IPV6,    [LINK_WIFI] = DLT_IEEE802_11,
};

struct tag {
    uint16_t tpid, vid;
};

/* An encapsulation around every frame of a scenario, set by the scenario
 * itself (see put_encap). */
enum encap {
    ENC_NONE,
    ENC_MPLS,      /* Ethernet 0x8847, two labels, IP */
    ENC_GRE,       /* IPv4 GRE, IP inside */
    ENC_GRE_KEY,   /* the same with a key (RFC 2890) */
    ENC_ERSPAN1,   /* GRE 0x88be, no sequence number, Ethernet inside */
    ENC_ERSPAN2,   /* GRE 0x88be with sequence number, ERSPAN II header */
    ENC_ERSPAN3,   /* GRE 0x22eb with sequence number, ERSPAN III header */
    ENC_VXLAN,     /* UDP 4789, VNI, Ethernet inside */
    ENC_GENEVE,    /* UDP 6081, AWS GWLB options, IP inside */
    ENC_GENEVE_ETH /* UDP 6081, no options, Ethernet inside */
};

/* The encapsulations that carry an Ethernet frame; the others bare IP. */
static const bool encap_ether[] = {
    [ENC_ERSPAN1] = true, [ENC_ERSPAN2] = true, [ENC_ERSPAN3] = true,
    [ENC_VXLAN] = true,   [ENC_GENEVE_ETH] = true,
};

/* Per-packet IP-layer extras; a zeroed ipx means defaults (TTL 64, DF set,
 * next IP ID, no options). */
struct ipx {
    uint8_t ttl;
    bool frag_set, id_set;
    uint16_t frag, id;      /* IPv4 flags+offset word and identification */
    uint8_t hdr[HDR_MAX];   /* IPv4 options, or an IPv6 extension chain */
    size_t hdrlen;
    uint8_t nh;             /* IPv6 Next Header naming hdr[0] */
};

/* Output state of one capture: link framing, clock and the frame being built. */
struct gen {
    pcap_t *pd;
    pcap_dumper_t *dump;
    enum link link;
    struct tag tags[TAGS_MAX];
    unsigned ntags;
    uint64_t now;            /* microseconds; timestamp of the next frame */
    uint64_t last;           /* timestamp of the frame last written */
    uint32_t gap;            /* default spacing between frames */
    uint16_t ip_id;
    enum encap encap;
    uint16_t outer_id;       /* IP IDs of the tunnel's outer headers */
    uint32_t outer_seq;      /* GRE sequence numbers */
    unsigned null6;          /* rotates DLT_NULL's AF_INET6 values */
    size_t l3off, l4off, l3len;
    unsigned long packets, flows; /* bench options */
    bool failed;
    struct buf l4;
    struct buf frame;
};

static void put_wifi(struct gen *g, const struct host *s, const struct host *d)
{
    static const uint8_t bssid[6] = {2, 0, 0, 0, 0, 0xaa};
    static const uint8_t snap[6] = {0xaa, 0xaa, 0x03, 0, 0, 0};
    struct buf *f = &g->frame;
    put_u8(f, 0x08); /* data frame */
    put_u8(f, s->local ? 0x01 : 0x02); /* to-DS from the station, from-DS to it */
    put_u8(f, 0x2c);
    put_u8(f, 0);
    put_bytes(f, s->local ? bssid : d->mac, 6);
    put_bytes(f, s->local ? s->mac : bssid, 6);
    put_bytes(f, s->local ? d->mac : s->mac, 6);
    put_u8(f, (uint8_t)(g->ip_id << 4));
    put_u8(f, (uint8_t)(g->ip_id >> 4));
    put_bytes(f, snap, sizeof snap);
    put_be16(f, s->v6 ? 0x86dd : 0x0800);
}

static void put_link(struct gen *g, const struct host *s, const struct host *d)
{
    /* NetBSD/OpenBSD, FreeBSD and Darwin disagree on AF_INET6. */
    static const uint32_t null_af6[3] = {24, 28, 30};
    struct buf *f = &g->frame;
    uint16_t etype = s->v6 ? 0x86dd : 0x0800;
    switch (g->link) {
    case LINK_ETHER:
    case LINK_VLAN:
    case LINK_QINQ:
        put_bytes(f, d->mac, 6);
        put_bytes(f, s->mac, 6);
        for (unsigned i = 0; i < g->ntags; i++) {
            put_be16(f, g->tags[i].tpid);
            put_be16(f, g->tags[i].vid);
        }
        put_be16(f, etype);
        break;
    case LINK_SLL:
        put_be16(f, s->local ? 4 : 0);
        put_be16(f, 1); /* ARPHRD_ETHER */
        put_be16(f, 6);
        put_bytes(f, s->mac, 6);
        put_fill(f, 0, 2);
        put_be16(f, etype);
        break;
    case LINK_SLL2:
        put_be16(f, etype);
        put_be16(f, 0);
        put_be32(f, 2); /* interface index */
        put_be16(f, 1);
        put_u8(f, s->local ? 4 : 0);
        put_u8(f, 6);
        put_bytes(f, s->mac, 6);
        put_fill(f, 0, 2);
        break;
    case LINK_NULL:
        put_le32(f, s->v6 ? null_af6[g->null6++ % 3] : 2);
        break;
    case LINK_LOOP:
        put_be32(f, s->v6 ? 24 : 2);
        break;
    case LINK_WIFI:
        put_wifi(g, s, d);
        break;
    case LINK_RAW:
    case LINK_IPV4:
    case LINK_IPV6:
        break;
    }
}

static void put_ip(struct gen *g, const struct host *s, const struct host *d, uint8_t proto,
                   size_t l4len, const struct ipx *x)
{
    struct buf *f = &g->frame;
    size_t hl = x ? x->hdrlen : 0;
    uint16_t id = x && x->id_set ? x->id : g->ip_id;
    uint8_t ttl = x && x->ttl ? x->ttl : 64;
    g->ip_id++;
    g->l3off = f->len;
    if (s->v6) {
        put_be32(f, 0x60000000);
        put_be16(f, (uint16_t)(hl + l4len));
        put_u8(f, hl ? x->nh : proto);
        put_u8(f, ttl);
        put_bytes(f, s->ip, 16);
        put_bytes(f, d->ip, 16);
    } else {
        put_u8(f, (uint8_t)(0x40 | (20 + hl) / 4));
        put_u8(f, 0);
        put_be16(f, (uint16_t)(20 + hl + l4len));
        put_be16(f, id);
        put_be16(f, x && x->frag_set ? x->frag : 0x4000);
        put_u8(f, ttl);
        put_u8(f, proto);
        put_be16(f, 0);
        put_bytes(f, s->ip, 4);
        put_bytes(f, d->ip, 4);
    }
    if (hl > 0)
        put_bytes(f, x->hdr, hl);
    g->l4off = f->len;
    if (!s->v6 && !f->overflow)
        set_be16(f, g->l3off + 10, csum_fold(csum_add(0, f->d + g->l3off, 20 + hl)));
}

/* Tunnel endpoints: a router or switch and the collector or appliance. */
static const struct host tep_a = {{2, 0, 0, 0, 0, 0x11}, false, false, {203, 0, 113, 11}};
static const struct host tep_b = {{2, 0, 0, 0, 0, 0x12}, false, false, {203, 0, 113, 12}};

/* The tunnel header after the outer IPv4 header, for an inner frame of n
 * bytes whose first byte is first (its IP version, when it is IP). */
static void put_tunnel_header(struct gen *g, size_t n, uint8_t first, bool from_a)
{
    /* AWS Gateway Load Balancer's options (class 0x0108): endpoint id,
     * attachment id, flow cookie. */
    static const uint8_t gwlb_opts[32] = {1, 8, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0xe1,
                                          1, 8, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0xa7,
                                          1, 8, 3, 1, 0x12, 0x34, 0x56, 0x78};
    struct buf *f = &g->frame;
    enum encap e = g->encap;
    size_t u = f->len;
    if (e >= ENC_VXLAN)
        pb_udp(f, from_a ? 51000 : 51001, e == ENC_VXLAN ? 4789 : 6081); /* source: a hash of the inner flow */
    if (e == ENC_VXLAN) {
        pb_vxlan(f, 0x08, 100);
    } else if (e >= ENC_GENEVE) {
        pb_geneve(f, 0, e == ENC_GENEVE ? sizeof gwlb_opts / 4 : 0, 0,
                  e == ENC_GENEVE_ETH ? 0x6558 : first >> 4 == 6 ? 0x86dd : 0x0800, 200);
        if (e == ENC_GENEVE)
            put_bytes(f, gwlb_opts, sizeof gwlb_opts);
    } else {
        bool seq = e == ENC_ERSPAN2 || e == ENC_ERSPAN3;
        uint16_t proto = e == ENC_ERSPAN3 ? 0x22eb : e >= ENC_ERSPAN1 ? 0x88be : first >> 4 == 6 ? 0x86dd : 0x0800;
        pb_gre(f, (uint16_t)((e == ENC_GRE_KEY ? 0x2000 : 0) | (seq ? 0x1000 : 0)), proto, 42, g->outer_seq);
        g->outer_seq += seq;
        if (e == ENC_ERSPAN2)
            pb_erspan2(f, 1, 1, 0);
        else if (e == ENC_ERSPAN3) /* FT 0 (Ethernet), hw id 1, granularity 01 (100 ns) */
            pb_erspan3(f, 2, 2, (uint32_t)((g->now - 1700000000ull * 1000000) * 10), 0x0012);
    }
    /* No UDP checksum, as RFC 7348 and RFC 8926 allow over IPv4. */
    if (e >= ENC_VXLAN)
        set_be16(f, u + 4, (uint16_t)(f->len - u + n));
}

/* Wraps the inner frame (IP, or Ethernet for the tunnels that carry it)
 * already in g->frame in the scenario's encapsulation: for MPLS, Ethernet
 * and two labels; otherwise Ethernet and IPv4 between the tunnel
 * endpoints, then the tunnel header. GRE and Geneve are tunnels both ways;
 * ERSPAN and VXLAN mirror sessions send every copy from tep_a to tep_b. */
static void put_encap(struct gen *g, const struct host *s, const struct host *d)
{
    static struct buf inner;
    struct buf *f = &g->frame;
    bool mirror = g->encap >= ENC_ERSPAN1 && g->encap <= ENC_VXLAN;
    bool from_a = mirror || s->local;
    const struct host *oa = from_a ? &tep_a : &tep_b, *ob = from_a ? &tep_b : &tep_a;
    inner = *f;
    buf_reset(f);
    if (g->encap == ENC_MPLS) {
        put_bytes(f, d->mac, 6);
        put_bytes(f, s->mac, 6);
        put_be16(f, 0x8847);
        pb_mpls(f, 16001, 0, 255);
        pb_mpls(f, 24005, 1, 64);
    } else {
        put_bytes(f, ob->mac, 6);
        put_bytes(f, oa->mac, 6);
        put_be16(f, 0x0800);
        size_t ip = f->len;
        put_u8(f, 0x45);
        put_u8(f, 0);
        put_be16(f, 0);
        put_be16(f, g->outer_id++);
        put_be16(f, 0x4000);
        put_u8(f, 255);
        put_u8(f, g->encap >= ENC_VXLAN ? IPPROTO_UDP : IPPROTO_GRE);
        put_be16(f, 0);
        put_bytes(f, oa->ip, 4);
        put_bytes(f, ob->ip, 4);
        put_tunnel_header(g, inner.len, inner.len ? inner.d[0] : 0, from_a);
        set_be16(f, ip + 2, (uint16_t)(f->len - ip + inner.len));
        if (!f->overflow)
            set_be16(f, ip + 10, csum_fold(csum_add(0, f->d + ip, 20)));
    }
    g->l3off += f->len;
    g->l4off += f->len;
    put_bytes(f, inner.d, inner.len);
    f->overflow |= inner.overflow;
}

/* Assembles link header, IP header and the n transport bytes at l4 into
 * g->frame without writing it, so callers may still corrupt it. */
static void frame_build(struct gen *g, const struct host *s, const struct host *d, uint8_t proto,
                        const uint8_t *l4, size_t n, const struct ipx *x)
{
    struct buf *f = &g->frame;
    enum link link = g->link;
    /* Inside a tunnel: the inner frame, Ethernet or bare IP. */
    if (g->encap != ENC_NONE && !encap_ether[g->encap])
        g->link = LINK_RAW;
    buf_reset(f);
    put_link(g, s, d);
    put_ip(g, s, d, proto, n, x);
    put_bytes(f, l4, n);
    g->l3len = f->len - g->l3off;
    if (link_dlt[g->link] == DLT_EN10MB && f->len < ETHER_MIN)
        put_fill(f, 0, ETHER_MIN - f->len);
    g->link = link;
    if (g->encap != ENC_NONE)
        put_encap(g, s, d);
}

static void dump_at(struct gen *g, uint64_t ts, uint32_t caplen, uint32_t len)
{
    struct pcap_pkthdr h;
    if (g->frame.overflow || g->l4.overflow || caplen > g->frame.len) {
        g->failed = true;
        return;
    }
    h.ts.tv_sec = (time_t)(ts / 1000000);
    h.ts.tv_usec = (suseconds_t)(ts % 1000000);
    h.caplen = caplen;
    h.len = len;
    pcap_dump((u_char *)g->dump, &h, g->frame.d);
}

/* Writes g->frame claiming an on-wire length len of which caplen bytes were
 * captured, then advances the clock. */
static void frame_write_cut(struct gen *g, uint32_t caplen, uint32_t len)
{
    dump_at(g, g->now, caplen, len);
    g->last = g->now;
    g->now += g->gap;
}

static void frame_write(struct gen *g)
{
    frame_write_cut(g, (uint32_t)g->frame.len, (uint32_t)g->frame.len);
}

/* Writes the last frame again, byte for byte, us microseconds after it: what
 * a SPAN port does when it sees a packet on both the ingress and egress port. */
static void frame_dup(struct gen *g, uint32_t us)
{
    dump_at(g, g->last + us, (uint32_t)g->frame.len, (uint32_t)g->frame.len);
}

static void gen_sleep(struct gen *g, uint64_t us)
{
    g->now += us;
}

/* Frames the transport bytes in g->l4 and writes them. */
static void send_l4(struct gen *g, const struct host *s, const struct host *d, uint8_t proto,
                    const struct ipx *x)
{
    frame_build(g, s, d, proto, g->l4.d, g->l4.len, x);
    frame_write(g);
}

static void udp_send(struct gen *g, const struct host *s, const struct host *d, uint16_t sport,
                     uint16_t dport, const void *data, size_t n)
{
    build_udp(&g->l4, s, d, sport, dport, data, n);
    send_l4(g, s, d, IPPROTO_UDP, NULL);
}

enum { CLI, SRV };

/* A TCP conversation: both ends, the next sequence number each will send,
 * and an optional hook that adds IP options or extension headers. */
struct conv {
    struct gen *g;
    const struct host *h[2];
    uint16_t port[2];
    uint32_t nxt[2];
    struct seg last[2];
    unsigned npkt;
    void (*hook)(const struct conv *c, int from, struct ipx *x);
};

static void conv_init(struct conv *c, struct gen *g, const struct host *cli, const struct host *srv,
                      uint16_t cport, uint16_t sport)
{
    memset(c, 0, sizeof *c);
    c->g = g;
    c->h[CLI] = cli;
    c->h[SRV] = srv;
    c->port[CLI] = cport;
    c->port[SRV] = sport;
    c->nxt[CLI] = 0x10000000u + (uint32_t)cport * 4099u;
    c->nxt[SRV] = 0xa0000000u + (uint32_t)cport * 8191u;
}

static void tcp_emit(struct conv *c, int from, const struct seg *t)
{
    struct ipx x;
    memset(&x, 0, sizeof x);
    if (c->hook)
        c->hook(c, from, &x);
    build_tcp(&c->g->l4, c->h[from], c->h[!from], t);
    send_l4(c->g, c->h[from], c->h[!from], IPPROTO_TCP, &x);
    c->last[from] = *t;
    c->npkt++;
}

/* Sends one segment with an explicit sequence number; acknowledges
 * everything the peer has sent when ACK is set. Does not advance nxt. */
static void tcp_seg(struct conv *c, int from, uint8_t flags, uint32_t seq, const void *data,
                    size_t len)
{
    struct seg t = {c->port[from], c->port[!from], seq, 0, flags, data, len};
    if (flags & TH_ACK)
        t.ack = c->nxt[!from];
    tcp_emit(c, from, &t);
}

static void tcp_send(struct conv *c, int from, uint8_t flags, const void *data, size_t len)
{
    tcp_seg(c, from, flags, c->nxt[from], data, len);
    c->nxt[from] += (uint32_t)len + ((flags & TH_SYN) ? 1 : 0) + ((flags & TH_FIN) ? 1 : 0);
}

/* Retransmits the last segment `from` sent: same header and payload, new IP ID. */
static void tcp_resend(struct conv *c, int from)
{
    struct seg t = c->last[from];
    tcp_emit(c, from, &t);
}

#endif
