/* fa_pcapgen.c - writes deterministic synthetic captures (one scenario per
 * file) for flowaudit's regression tests, and a large one for benchmarks.
 *
 * Usage: fa_pcapgen --list | fa_pcapgen SCENARIO OUTFILE [bench options].
 * Same input, same bytes: timestamps start at 1700000000.000000, and MACs,
 * IP IDs, sequence numbers and the bench PRNG seed are fixed. Addresses come
 * from the documentation ranges (RFC 5737, RFC 3849). */
#include "fa_pcapgen.h"

#include <stdio.h>
#include <stdlib.h>

static const struct host cli4 = {{2, 0, 0, 0, 0, 1}, false, true, {192, 0, 2, 10}};
static const struct host srv4 = {{2, 0, 0, 0, 0, 2}, false, false, {198, 51, 100, 20}};
static const struct host gone4 = {{2, 0, 0, 0, 0, 3}, false, false, {198, 51, 100, 99}};
static const struct host rtr4 = {{2, 0, 0, 0, 0, 0xfe}, false, false, {203, 0, 113, 1}};
static const struct host cli6 = {
    {2, 0, 0, 0, 0, 1}, true, true, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}};
static const struct host srv6 = {
    {2, 0, 0, 0, 0, 2}, true, false, {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20}};
static const struct host rtr6 = {
    {2, 0, 0, 0, 0, 0xfe}, true, false, {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};

static const char http_req[] = "GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n";
static const char http_rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
static const char probe[] = "probe-0123456789";

/* ---- TCP building blocks ---------------------------------------------- */

static void conv_open(struct conv *c)
{
    tcp_send(c, CLI, TH_SYN, NULL, 0);
    tcp_send(c, SRV, TH_SYN | TH_ACK, NULL, 0);
    tcp_send(c, CLI, TH_ACK, NULL, 0);
}

static void conv_data(struct conv *c)
{
    tcp_send(c, CLI, TH_PSH | TH_ACK, http_req, sizeof http_req - 1);
    tcp_send(c, SRV, TH_PSH | TH_ACK, http_rsp, sizeof http_rsp - 1);
    tcp_send(c, CLI, TH_ACK, NULL, 0);
}

static void conv_close(struct conv *c)
{
    tcp_send(c, CLI, TH_FIN | TH_ACK, NULL, 0);
    tcp_send(c, SRV, TH_FIN | TH_ACK, NULL, 0);
    tcp_send(c, CLI, TH_ACK, NULL, 0);
}

/* The nine-packet conversation every link-type scenario carries. */
static void conv_full(struct gen *g, const struct host *cli, const struct host *srv, uint16_t cport,
                      void (*hook)(const struct conv *, int, struct ipx *))
{
    struct conv c;
    conv_init(&c, g, cli, srv, cport, 80);
    c.hook = hook;
    conv_open(&c);
    conv_data(&c);
    conv_close(&c);
}

/* ---- link types ------------------------------------------------------- */

static void sc_conv4(struct gen *g)
{
    conv_full(g, &cli4, &srv4, 49152, NULL);
}

static void sc_conv6(struct gen *g)
{
    conv_full(g, &cli6, &srv6, 49153, NULL);
}

static void sc_conv46(struct gen *g)
{
    sc_conv4(g);
    sc_conv6(g);
}

static void sc_wifi(struct gen *g)
{
    struct conv c;
    conv_init(&c, g, &cli4, &srv4, 49152, 80);
    conv_open(&c);
}

/* ---- IPv6 extension headers and IPv4 options -------------------------- */

static void put_padn6(struct buf *b)
{
    put_u8(b, 1);
    put_u8(b, 4);
    put_be32(b, 0);
}

/* Hop-by-hop, segment routing (type 4, segments left 0, the one segment
 * being the final destination) and destination options, then proto. */
static void v6_exts(struct ipx *x, const struct host *dst, uint8_t proto)
{
    struct buf b;
    buf_reset(&b);
    put_u8(&b, IPPROTO_ROUTING);
    put_u8(&b, 0);
    put_padn6(&b);
    put_u8(&b, IPPROTO_DSTOPTS);
    put_u8(&b, 2);   /* (2 + 1) * 8 = 24 bytes */
    put_u8(&b, 4);   /* routing type: SRH */
    put_u8(&b, 0);   /* segments left */
    put_be32(&b, 0); /* last entry, flags, tag */
    put_bytes(&b, dst->ip, 16);
    put_u8(&b, proto);
    put_u8(&b, 0);
    put_padn6(&b);
    memcpy(x->hdr, b.d, b.len);
    x->hdrlen = b.len;
    x->nh = IPPROTO_HOPOPTS;
}

static void v6_exts_hook(const struct conv *c, int from, struct ipx *x)
{
    v6_exts(x, c->h[!from], IPPROTO_TCP);
}

static void sc_ipv6_ext(struct gen *g)
{
    struct ipx x;
    conv_full(g, &cli6, &srv6, 49160, v6_exts_hook);
    memset(&x, 0, sizeof x);
    v6_exts(&x, &srv6, IPPROTO_UDP);
    build_udp(&g->l4, &cli6, &srv6, 49161, 5002, probe, sizeof probe - 1);
    send_l4(g, &cli6, &srv6, IPPROTO_UDP, &x);
}

/* Cycles record route (IHL 15), router alert (IHL 6) and timestamp (IHL 8). */
static void v4_opts_hook(const struct conv *c, int from, struct ipx *x)
{
    static const uint8_t ra[4] = {148, 4, 0, 0};
    static const uint8_t ts[12] = {68, 12, 5, 0};
    (void)from;
    memset(x->hdr, 0, 40);
    switch (c->npkt % 3) {
    case 0:
        x->hdr[0] = 7;
        x->hdr[1] = 39;
        x->hdr[2] = 4;
        x->hdrlen = 40; /* 39 bytes of option, then end-of-list */
        break;
    case 1:
        memcpy(x->hdr, ra, sizeof ra);
        x->hdrlen = sizeof ra;
        break;
    default:
        memcpy(x->hdr, ts, sizeof ts);
        x->hdrlen = sizeof ts;
        break;
    }
}

static void sc_ipv4_opts(struct gen *g)
{
    conv_full(g, &cli4, &srv4, 49170, v4_opts_hook);
}

/* ---- fragments -------------------------------------------------------- */

/* Sends the datagram in g->l4 as three fragments in the given order. */
static void send_frags(struct gen *g, const struct host *s, const struct host *d, uint32_t id,
                       const unsigned order[3])
{
    size_t chunk = s->v6 ? 1448 : 1480;
    struct ipx x;
    for (int i = 0; i < 3; i++) {
        size_t off = order[i] * chunk;
        size_t n = g->l4.len - off < chunk ? g->l4.len - off : chunk;
        bool more = off + n < g->l4.len;
        memset(&x, 0, sizeof x);
        if (s->v6) {
            struct buf b;
            buf_reset(&b);
            put_u8(&b, IPPROTO_UDP);
            put_u8(&b, 0);
            put_be16(&b, (uint16_t)(off | more));
            put_be32(&b, id);
            memcpy(x.hdr, b.d, b.len);
            x.hdrlen = b.len;
            x.nh = IPPROTO_FRAGMENT;
        } else {
            x.frag_set = x.id_set = true;
            x.frag = (uint16_t)(off / 8 | (more ? 0x2000 : 0));
            x.id = (uint16_t)id;
        }
        frame_build(g, s, d, IPPROTO_UDP, g->l4.d + off, n, &x);
        frame_write(g);
    }
}

static void frag_pair(struct gen *g, const struct host *cli, const struct host *srv)
{
    static const unsigned in_order[3] = {0, 1, 2}, last_first[3] = {2, 0, 1};
    uint8_t big[3000], ack[64];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)i;
    memset(ack, 0x61, sizeof ack);
    for (int k = 0; k < 2; k++) {
        uint16_t cport = (uint16_t)(50000 + k);
        build_udp(&g->l4, cli, srv, cport, 5001, big, sizeof big);
        send_frags(g, cli, srv, 0xf00du + (uint32_t)k, k == 0 ? in_order : last_first);
        udp_send(g, srv, cli, 5001, cport, ack, sizeof ack);
    }
}

static void sc_frag_v4(struct gen *g)
{
    frag_pair(g, &cli4, &srv4);
}

static void sc_frag_v6(struct gen *g)
{
    frag_pair(g, &cli6, &srv6);
}

/* ---- ICMP ------------------------------------------------------------- */

/* Answers the packet just written with an ICMP error from `from` quoting its
 * first `quote` bytes (IP header included). */
static void icmp_reply(struct gen *g, const struct host *from, const struct host *to, uint8_t type,
                       uint8_t code, size_t quote)
{
    uint8_t orig[BUF_MAX];
    size_t n = g->l3len < quote ? g->l3len : quote;
    memcpy(orig, g->frame.d + g->l3off, n);
    build_icmp(&g->l4, from, to, type, code, 0, orig, n);
    send_l4(g, from, to, from->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, NULL);
}

static void echo_pair(struct gen *g, const struct host *a, const struct host *b)
{
    uint8_t data[56];
    bool v6 = a->v6;
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(0x10 + i);
    build_icmp(&g->l4, a, b, v6 ? 128 : 8, 0, 0x0d1e0001, data, sizeof data);
    send_l4(g, a, b, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, NULL);
    build_icmp(&g->l4, b, a, v6 ? 129 : 0, 0, 0x0d1e0001, data, sizeof data);
    send_l4(g, b, a, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP, NULL);
}

static void sc_icmp(struct gen *g)
{
    struct conv c;
    struct ipx ttl1;
    udp_send(g, &cli4, &srv4, 50100, 5002, probe, sizeof probe - 1);
    icmp_reply(g, &srv4, &cli4, 3, 3, 28);
    conv_init(&c, g, &cli4, &srv4, 50101, 3389);
    tcp_send(&c, CLI, TH_SYN, NULL, 0);
    icmp_reply(g, &rtr4, &cli4, 3, 13, 28);
    conv_init(&c, g, &cli4, &gone4, 50102, 22);
    tcp_send(&c, CLI, TH_SYN, NULL, 0);
    icmp_reply(g, &rtr4, &cli4, 3, 1, 28);
    memset(&ttl1, 0, sizeof ttl1);
    ttl1.ttl = 1;
    build_udp(&g->l4, &cli4, &srv4, 50103, 33434, probe, sizeof probe - 1);
    send_l4(g, &cli4, &srv4, IPPROTO_UDP, &ttl1);
    icmp_reply(g, &rtr4, &cli4, 11, 0, 28);
    udp_send(g, &cli6, &srv6, 50104, 5002, probe, sizeof probe - 1);
    icmp_reply(g, &srv6, &cli6, 1, 4, 1232);
    conv_init(&c, g, &cli6, &srv6, 50105, 3389);
    tcp_send(&c, CLI, TH_SYN, NULL, 0);
    icmp_reply(g, &rtr6, &cli6, 1, 1, 1232);
    echo_pair(g, &cli4, &srv4);
    echo_pair(g, &cli6, &srv6);
}

/* ---- one scenario per Zeek conn_state --------------------------------- */

/* Handshake plus one exchange; the state scenarios differ only after it. */
static void established(struct conv *c, struct gen *g, uint16_t cport)
{
    conv_init(c, g, &cli4, &srv4, cport, 80);
    conv_open(c);
    conv_data(c);
}

static void sc_s0(struct gen *g)
{
    struct conv c;
    conv_init(&c, g, &cli4, &srv4, 49200, 80);
    tcp_send(&c, CLI, TH_SYN, NULL, 0);
    gen_sleep(g, 1000000);
    tcp_resend(&c, CLI);
    gen_sleep(g, 2000000);
    tcp_resend(&c, CLI);
}

static void sc_s1(struct gen *g)
{
    struct conv c;
    established(&c, g, 49201);
}

static void sc_sf(struct gen *g)
{
    struct conv c;
    established(&c, g, 49202);
    conv_close(&c);
}

static void sc_rej(struct gen *g)
{
    struct conv c;
    conv_init(&c, g, &cli4, &srv4, 49203, 80);
    tcp_send(&c, CLI, TH_SYN, NULL, 0);
    tcp_seg(&c, SRV, TH_RST | TH_ACK, 0, NULL, 0);
}

static void sc_s2(struct gen *g)
{
    struct conv c;
    established(&c, g, 49204);
    tcp_send(&c, CLI, TH_FIN | TH_ACK, NULL, 0);
}

static void sc_s3(struct gen *g)
{
    struct conv c;
    established(&c, g, 49205);
    tcp_send(&c, SRV, TH_FIN | TH_ACK, NULL, 0);
}

static void sc_rsto(struct gen *g)
{
    struct conv c;
    established(&c, g, 49206);
    tcp_send(&c, CLI, TH_RST | TH_ACK, NULL, 0);
}

static void sc_rstr(struct gen *g)
{
    struct conv c;
    established(&c, g, 49207);
    tcp_send(&c, SRV, TH_RST | TH_ACK, NULL, 0);
}

static void sc_rstos0(struct gen *g)
{
    struct conv c;
    conv_init(&c, g, &cli4, &srv4, 49208, 80);
    tcp_send(&c, CLI, TH_SYN, NULL, 0);
    tcp_send(&c, CLI, TH_RST, NULL, 0);
}

/* The server's SYN-ACK is the first packet seen: the client's SYN was missed. */
static void sc_rstrh(struct gen *g)
{
    struct conv c;
    conv_init(&c, g, &cli4, &srv4, 49209, 80);
    c.nxt[CLI]++; /* as if the SYN had been sent */
    tcp_send(&c, SRV, TH_SYN | TH_ACK, NULL, 0);
    tcp_send(&c, SRV, TH_RST, NULL, 0);
}

static void sc_sh(struct gen *g)
{
    struct conv c;
    conv_init(&c, g, &cli4, &srv4, 49210, 80);
    tcp_send(&c, CLI, TH_SYN, NULL, 0);
    tcp_send(&c, CLI, TH_FIN, NULL, 0);
}

static void sc_shr(struct gen *g)
{
    struct conv c;
    conv_init(&c, g, &cli4, &srv4, 49211, 80);
    c.nxt[CLI]++;
    tcp_send(&c, SRV, TH_SYN | TH_ACK, NULL, 0);
    tcp_send(&c, SRV, TH_FIN | TH_ACK, NULL, 0);
}

/* Capture started in the middle of an established connection. */
static void sc_oth(struct gen *g)
{
    struct conv c;
    conv_init(&c, g, &cli4, &srv4, 49212, 80);
    conv_data(&c);
}

static void sc_udp(struct gen *g)
{
    static const uint8_t q[] = {0x1a, 0x2b, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
                                0, 1, 0, 1};
    static const uint8_t a[] = {0x1a, 0x2b, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
                                7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
                                0, 1, 0, 1, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10,
                                0, 4, 203, 0, 113, 80};
    udp_send(g, &cli4, &srv4, 50053, 53, q, sizeof q);
    udp_send(g, &srv4, &cli4, 53, 50053, a, sizeof a);
}

/* ---- VRRP ------------------------------------------------------------- */

/* VRRPv2 (RFC 3768) sums the message alone; VRRPv3 (RFC 5798) adds the
 * pseudo-header. Both go to 224.0.0.18 with TTL 255 from the virtual MAC. */
static void vrrp_advert(struct gen *g, int version, uint8_t vrid, uint8_t vip_last)
{
    struct host src = {{0, 0, 0x5e, 0, 1, vrid}, false, false, {192, 0, 2, 2}};
    static const struct host group = {{1, 0, 0x5e, 0, 0, 0x12}, false, false, {224, 0, 0, 18}};
    const uint8_t vip[4] = {192, 0, 2, vip_last};
    struct buf *b = &g->l4;
    struct ipx x;
    buf_reset(b);
    put_u8(b, (uint8_t)(version << 4 | 1));
    put_u8(b, vrid);
    put_u8(b, 100); /* priority */
    put_u8(b, 1);   /* address count */
    if (version == 2) {
        put_u8(b, 0); /* no authentication */
        put_u8(b, 1); /* advertisement interval, seconds */
        put_be16(b, 0);
        put_bytes(b, vip, 4);
        put_fill(b, 0, 8);
    } else {
        put_be16(b, 100); /* advertisement interval, centiseconds */
        put_be16(b, 0);
        put_bytes(b, vip, 4);
    }
    l4_csum(b, 6, &src, &group, PROTO_VRRP, version == 3);
    memset(&x, 0, sizeof x);
    x.ttl = 255;
    send_l4(g, &src, &group, PROTO_VRRP, &x);
}

static void sc_vrrp(struct gen *g)
{
    for (int i = 0; i < 3; i++) {
        vrrp_advert(g, 2, 1, 1);
        vrrp_advert(g, 3, 2, 254);
        gen_sleep(g, 1000000);
    }
}

/* ---- SPAN duplicates, keep-alives, retransmission --------------------- */

static void sc_dup_keepalive(struct gen *g)
{
    uint8_t d100[100], d200[200], d300[300], zero = 0;
    struct conv c;
    memset(d100, 'a', sizeof d100);
    memset(d200, 'b', sizeof d200);
    memset(d300, 'c', sizeof d300);
    conv_init(&c, g, &cli4, &srv4, 49400, 443);
    conv_open(&c);
    tcp_send(&c, CLI, TH_PSH | TH_ACK, d100, sizeof d100);
    frame_dup(g, 37);
    tcp_send(&c, SRV, TH_ACK, NULL, 0);
    tcp_send(&c, SRV, TH_PSH | TH_ACK, d200, sizeof d200);
    frame_dup(g, 55);
    tcp_send(&c, CLI, TH_ACK, NULL, 0);
    gen_sleep(g, 45000000);
    tcp_seg(&c, CLI, TH_ACK, c.nxt[CLI] - 1, NULL, 0);
    tcp_send(&c, SRV, TH_ACK, NULL, 0);
    gen_sleep(g, 45000000);
    tcp_seg(&c, SRV, TH_ACK, c.nxt[SRV] - 1, &zero, 1);
    tcp_send(&c, CLI, TH_ACK, NULL, 0);
    tcp_send(&c, CLI, TH_PSH | TH_ACK, d300, sizeof d300);
    gen_sleep(g, 200000);
    tcp_resend(&c, CLI);
    tcp_send(&c, SRV, TH_ACK, NULL, 0);
    frame_dup(g, 90);
    conv_close(&c);
}

/* ---- malformed -------------------------------------------------------- */

static const uint8_t junk16[16] = "0123456789abcdef";

/* Builds (without writing) a small UDP packet for the malformed cases. */
static void udp_build(struct gen *g, const struct host *s, const struct host *d, uint16_t sport)
{
    build_udp(&g->l4, s, d, sport, 5002, junk16, sizeof junk16);
    frame_build(g, s, d, IPPROTO_UDP, g->l4.d, g->l4.len, NULL);
}

static void fix_ip4_csum(struct gen *g)
{
    size_t ihl = (size_t)(g->frame.d[g->l3off] & 0x0f) * 4;
    set_be16(&g->frame, g->l3off + 10, 0);
    set_be16(&g->frame, g->l3off + 10, csum_fold(csum_add(0, g->frame.d + g->l3off, ihl)));
}

/* Recomputes the transport checksum after a header field was corrupted, so
 * that field stays the only thing wrong. */
static void fix_l4_csum(struct gen *g, const struct host *s, const struct host *d, uint8_t proto,
                        size_t off)
{
    size_t n = g->l3off + g->l3len - g->l4off;
    set_be16(&g->frame, g->l4off + off, 0);
    set_be16(&g->frame, g->l4off + off,
             csum_fold(csum_add(pseudo_sum(s, d, proto, n), g->frame.d + g->l4off, n)));
}

static void mal_ip4(struct gen *g)
{
    uint8_t big[400];
    struct seg t = {40004, 80, 0x5000, 0x6000, TH_PSH | TH_ACK, big, sizeof big};
    buf_reset(&g->frame);
    put_bytes(&g->frame, srv4.mac, 6);
    put_bytes(&g->frame, cli4.mac, 4);
    frame_write(g);
    udp_build(g, &cli4, &srv4, 40002);
    set_u8(&g->frame, g->l3off, 0x43);
    fix_ip4_csum(g);
    frame_write(g);
    udp_build(g, &cli4, &srv4, 40003);
    set_be16(&g->frame, g->l3off + 2, 16);
    fix_ip4_csum(g);
    frame_write(g);
    memset(big, 'x', sizeof big);
    build_tcp(&g->l4, &cli4, &srv4, &t);
    frame_build(g, &cli4, &srv4, IPPROTO_TCP, g->l4.d, g->l4.len, NULL);
    frame_write_cut(g, 74, (uint32_t)g->frame.len);
    udp_build(g, &cli4, &srv4, 40005);
    set_be16(&g->frame, g->l3off + 2, 1000);
    fix_ip4_csum(g);
    frame_write(g);
}

static void mal_l4(struct gen *g)
{
    static const uint8_t garbage[4] = {0xde, 0xad, 0xbe, 0xef};
    struct seg t = {40006, 80, 0x7000, 0x8000, TH_PSH | TH_ACK, junk16, 8};
    for (int i = 0; i < 2; i++) {
        t.sport = (uint16_t)(40006 + i);
        build_tcp(&g->l4, &cli4, &srv4, &t);
        frame_build(g, &cli4, &srv4, IPPROTO_TCP, g->l4.d, g->l4.len, NULL);
        set_u8(&g->frame, g->l4off + 12, i == 0 ? 0x40 : 0xf0);
        fix_l4_csum(g, &cli4, &srv4, IPPROTO_TCP, 16);
        frame_write(g);
    }
    for (int i = 0; i < 2; i++) {
        udp_build(g, &cli4, &srv4, (uint16_t)(40008 + i));
        set_be16(&g->frame, g->l4off + 4, i == 0 ? 4 : 200);
        set_be16(&g->frame, g->l4off + 6, 0); /* no checksum, legal for IPv4 */
        frame_write(g);
    }
    build_icmp(&g->l4, &srv4, &cli4, 3, 3, 0, garbage, sizeof garbage);
    send_l4(g, &srv4, &cli4, IPPROTO_ICMP, NULL);
}

static void mal_ip6(struct gen *g)
{
    struct ipx x;
    udp_build(g, &cli6, &srv6, 40011);
    set_be16(&g->frame, g->l3off + 4, 500);
    frame_write(g);
    memset(&x, 0, sizeof x);
    x.nh = IPPROTO_DSTOPTS;
    for (size_t i = 0; i < 20; i++) {
        uint8_t *h = x.hdr + 8 * i;
        h[0] = i == 19 ? IPPROTO_UDP : IPPROTO_DSTOPTS;
        h[2] = 1; /* PadN covering the rest of the header */
        h[3] = 4;
    }
    x.hdrlen = 160;
    build_udp(&g->l4, &cli6, &srv6, 40012, 5002, junk16, sizeof junk16);
    send_l4(g, &cli6, &srv6, IPPROTO_UDP, &x);
    memset(&x, 0, sizeof x);
    x.nh = IPPROTO_HOPOPTS;
    x.hdr[0] = IPPROTO_UDP;
    x.hdr[1] = 30; /* 248 bytes claimed, 8 present */
    x.hdr[2] = 1;
    x.hdr[3] = 4;
    x.hdrlen = 8;
    frame_build(g, &cli6, &srv6, IPPROTO_UDP, NULL, 0, &x);
    frame_write(g);
}

static void mal_misc(struct gen *g)
{
    static const uint8_t one = 0x42;
    struct ipx x;
    buf_reset(&g->frame);
    frame_write_cut(g, 0, 0);
    memset(&x, 0, sizeof x);
    x.frag_set = x.id_set = true;
    x.id = 0x7777;
    x.frag = 0x2000;
    build_udp(&g->l4, &cli4, &srv4, 40014, 5002, junk16, sizeof junk16);
    send_l4(g, &cli4, &srv4, IPPROTO_UDP, &x);
    x.frag = 1; /* 8 bytes in, inside the first fragment */
    frame_build(g, &cli4, &srv4, IPPROTO_UDP, &one, 1, &x);
    frame_write(g);
    g->ntags = TAGS_MAX;
    for (unsigned i = 0; i < TAGS_MAX; i++)
        g->tags[i] = (struct tag){0x8100, (uint16_t)(i + 1)};
    udp_build(g, &cli4, &srv4, 40016);
    frame_write(g);
    g->ntags = 0;
    udp_build(g, &cli4, &srv4, 40017);
    frame_write(g);
    g->now -= g->gap + 1500000; /* the next frame is stamped 1.5 s earlier */
    udp_build(g, &cli4, &srv4, 40018);
    frame_write(g);
}

static void sc_malformed(struct gen *g)
{
    mal_ip4(g);
    mal_l4(g);
    mal_ip6(g);
    mal_misc(g);
}

/* ---- benchmark -------------------------------------------------------- */

/* One active flow of the benchmark mix. conv points into h, so bflow_fix
 * must run after a bflow is moved. */
struct bflow {
    struct host h[2];
    struct conv c;
    bool udp;
    unsigned step, ndata;
};

static uint64_t xorshift64(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void bflow_fix(struct bflow *f)
{
    f->c.h[CLI] = &f->h[CLI];
    f->c.h[SRV] = &f->h[SRV];
}

/* Starts flow number id: 30% IPv6, 1 in 8 UDP; the client address and port
 * are derived from id so no two of the first 7 million flows share a 5-tuple. */
static void bflow_start(struct bflow *f, struct gen *g, uint64_t *rng, uint32_t id, unsigned mean)
{
    static const uint16_t tcp_ports[] = {443, 80, 22, 3389, 8443, 4172, 5001};
    static const uint16_t udp_ports[] = {53, 4172, 3391, 443};
    uint64_t r = xorshift64(rng);
    bool v6 = r % 10 < 3;
    uint16_t cport;
    f->udp = (r >> 8) % 8 == 0;
    f->h[CLI] = v6 ? cli6 : cli4;
    f->h[SRV] = v6 ? srv6 : srv4;
    if (v6) {
        for (int i = 0; i < 4; i++)
            f->h[CLI].ip[12 + i] = (uint8_t)(id >> (24 - 8 * i));
        f->h[SRV].ip[15] = (uint8_t)(1 + (r >> 16) % 250);
        cport = (uint16_t)(32768 + id % 28000);
    } else {
        f->h[CLI].ip[3] = (uint8_t)(1 + id % 250);
        if ((r >> 24) & 1)
            memcpy(f->h[SRV].ip, rtr4.ip, 3);
        f->h[SRV].ip[3] = (uint8_t)(1 + (r >> 16) % 250);
        cport = (uint16_t)(32768 + (id / 250) % 28000);
    }
    conv_init(&f->c, g, &f->h[CLI], &f->h[SRV], cport,
              f->udp ? udp_ports[(r >> 32) % 4] : tcp_ports[(r >> 32) % 7]);
    f->c.nxt[CLI] = (uint32_t)xorshift64(rng);
    f->c.nxt[SRV] = (uint32_t)xorshift64(rng);
    /* Uniform on 1..2k-1 has mean k: UDP flows average `mean` packets, TCP
     * ones 6 control packets plus mean - 6 data segments. */
    if (f->udp)
        f->ndata = (unsigned)(1 + (r >> 40) % (2 * mean - 1));
    else
        f->ndata = mean > 7 ? (unsigned)(1 + (r >> 40) % (2 * (mean - 6) - 1)) : 1;
    f->step = 0;
}

/* Emits the flow's next packet; returns false once the flow is over. */
static bool bflow_step(struct bflow *f, uint64_t *rng, const uint8_t *pat)
{
    static const uint8_t close_flags[3] = {TH_FIN | TH_ACK, TH_FIN | TH_ACK, TH_ACK};
    static const uint8_t open_flags[3] = {TH_SYN, TH_SYN | TH_ACK, TH_ACK};
    struct conv *c = &f->c;
    uint64_t r = xorshift64(rng);
    size_t hdr = (f->h[CLI].v6 ? 40 : 20) + (f->udp ? 8 : 20);
    size_t n = 60 + r % 1441 - hdr; /* IP packets of 60..1500 bytes */
    unsigned s = f->step++;
    int from = (s == 0 || (r >> 32) % 4 == 0) ? CLI : SRV;
    if (f->udp) {
        udp_send(c->g, c->h[from], c->h[!from], c->port[from], c->port[!from], pat, n);
        return f->step < f->ndata;
    }
    if (s < 3)
        tcp_send(c, s % 2 ? SRV : CLI, open_flags[s], NULL, 0);
    else if (s < 3 + f->ndata)
        tcp_send(c, s == 3 ? CLI : from, TH_PSH | TH_ACK, pat, n);
    else
        tcp_send(c, (s - 3 - f->ndata) % 2 ? SRV : CLI, close_flags[s - 3 - f->ndata], NULL, 0);
    return s < 5 + f->ndata;
}

static void sc_bench(struct gen *g)
{
    size_t nslots = g->flows < 10000 ? g->flows : 10000, active = 0;
    struct bflow *slot = calloc(nslots, sizeof *slot);
    unsigned mean = (unsigned)(g->packets / g->flows);
    uint64_t rng = 0x9e3779b97f4a7c15u;
    uint32_t started = 0;
    unsigned long sent;
    uint8_t pat[1500];
    if (slot == NULL) {
        g->failed = true;
        return;
    }
    for (size_t i = 0; i < sizeof pat; i++)
        pat[i] = (uint8_t)(i * 7);
    mean = mean < 1 ? 1 : mean;
    while (active < nslots)
        bflow_start(&slot[active++], g, &rng, started++, mean);
    g->gap = 1;
    for (sent = 0; sent < g->packets && active > 0 && !g->failed; sent++) {
        size_t j = xorshift64(&rng) % active;
        gen_sleep(g, xorshift64(&rng) % 19);
        if (bflow_step(&slot[j], &rng, pat))
            continue;
        if (started < g->flows) {
            bflow_start(&slot[j], g, &rng, started++, mean);
        } else {
            slot[j] = slot[--active];
            bflow_fix(&slot[j]);
        }
    }
    fprintf(stderr, "fa_pcapgen: bench: %lu packets, %lu flows\n", sent, (unsigned long)started);
    free(slot);
}

/* ---- encapsulations (the outer framing is put_encap's) ---------------- */

/* The standard conversation inside each encapsulation, one per client
 * port: IPv4 first, then IPv6 when v6. */
static void encap_convs(struct gen *g, const enum encap *encs, size_t n, unsigned v6_from)
{
    g->outer_id = 0x2000;
    for (size_t i = 0; i < n; i++) {
        g->encap = encs[i];
        conv_full(g, i >= v6_from ? &cli6 : &cli4, i >= v6_from ? &srv6 : &srv4,
                  (uint16_t)(49200 + i), NULL);
    }
    g->encap = ENC_NONE;
}

static void sc_encap_mpls(struct gen *g)
{
    static const enum encap e[] = {ENC_MPLS, ENC_MPLS};
    encap_convs(g, e, 2, 1);
}

static void sc_encap_gre(struct gen *g)
{
    static const enum encap e[] = {ENC_GRE, ENC_GRE_KEY};
    encap_convs(g, e, 2, 1);
}

static void sc_encap_erspan(struct gen *g)
{
    static const enum encap e[] = {ENC_ERSPAN1, ENC_ERSPAN2, ENC_ERSPAN3};
    encap_convs(g, e, 3, 2);
}

static void sc_encap_vxlan(struct gen *g)
{
    static const enum encap e[] = {ENC_VXLAN, ENC_VXLAN};
    encap_convs(g, e, 2, 1);
}

static void sc_encap_geneve(struct gen *g)
{
    static const enum encap e[] = {ENC_GENEVE, ENC_GENEVE_ETH};
    encap_convs(g, e, 2, 1);
}

/* ---- driver ----------------------------------------------------------- */

struct scenario {
    const char *name;
    enum link link;
    const char *desc;
    void (*fn)(struct gen *g);
};

static const struct scenario scenarios[] = {
    {"link-ether", LINK_ETHER, "Ethernet II, one IPv4 TCP conversation", sc_conv4},
    {"link-vlan", LINK_VLAN, "802.1Q VLAN 100, one IPv4 TCP conversation", sc_conv4},
    {"link-qinq", LINK_QINQ, "802.1ad 0x88a8 VLAN 200 over 802.1Q VLAN 100", sc_conv4},
    {"link-sll", LINK_SLL, "Linux cooked v1 (DLT_LINUX_SLL)", sc_conv4},
    {"link-sll2", LINK_SLL2, "Linux cooked v2 (DLT_LINUX_SLL2)", sc_conv4},
    {"link-null", LINK_NULL, "DLT_NULL little-endian AF, IPv4 (2) and IPv6 (24/28/30)", sc_conv46},
    {"link-loop", LINK_LOOP, "DLT_LOOP big-endian AF, IPv4 (2) and IPv6 (24)", sc_conv46},
    {"link-raw", LINK_RAW, "DLT_RAW, IPv4 and IPv6 conversations", sc_conv46},
    {"link-ipv4", LINK_IPV4, "DLT_IPV4 (228), IPv4 conversation", sc_conv4},
    {"link-ipv6", LINK_IPV6, "DLT_IPV6 (229), IPv6 conversation", sc_conv6},
    {"link-unsupported", LINK_WIFI, "DLT_IEEE802_11 (105) handshake, must be rejected", sc_wifi},
    {"ipv6-ext", LINK_ETHER, "IPv6 TCP with hop-by-hop, SRH and dest-options, plus UDP", sc_ipv6_ext},
    {"ipv4-options", LINK_ETHER, "IPv4 TCP with record-route, router-alert, timestamp options", sc_ipv4_opts},
    {"frag-v4", LINK_ETHER, "3000-byte UDP in 3 IPv4 fragments, in order and last-first", sc_frag_v4},
    {"frag-v6", LINK_ETHER, "3000-byte UDP in 3 IPv6 fragments, in order and last-first", sc_frag_v6},
    {"icmp-errors", LINK_ETHER, "ICMP/ICMPv6 unreachables and time exceeded quoting flows, echo", sc_icmp},
    {"state-S0", LINK_ETHER, "SYN, retransmitted twice, no answer", sc_s0},
    {"state-S1", LINK_ETHER, "handshake and data, never closed", sc_s1},
    {"state-SF", LINK_ETHER, "handshake, data, FIN both ways", sc_sf},
    {"state-REJ", LINK_ETHER, "SYN answered by RST-ACK", sc_rej},
    {"state-S2", LINK_ETHER, "established, FIN from originator only", sc_s2},
    {"state-S3", LINK_ETHER, "established, FIN from responder only", sc_s3},
    {"state-RSTO", LINK_ETHER, "established, originator resets", sc_rsto},
    {"state-RSTR", LINK_ETHER, "established, responder resets", sc_rstr},
    {"state-RSTOS0", LINK_ETHER, "SYN then RST from originator, no SYN-ACK", sc_rstos0},
    {"state-RSTRH", LINK_ETHER, "SYN-ACK then RST from responder, no SYN seen", sc_rstrh},
    {"state-SH", LINK_ETHER, "SYN then FIN from originator, no SYN-ACK", sc_sh},
    {"state-SHR", LINK_ETHER, "SYN-ACK then FIN from responder, no SYN seen", sc_shr},
    {"state-OTH", LINK_ETHER, "midstream data only, no SYN/FIN/RST", sc_oth},
    {"udp-basic", LINK_ETHER, "DNS query and response over UDP", sc_udp},
    {"vrrp", LINK_ETHER, "VRRPv2 and VRRPv3 adverts to 224.0.0.18 (IP proto 112)", sc_vrrp},
    {"tcp-dup-keepalive", LINK_ETHER, "SPAN duplicates, keep-alives, one retransmission", sc_dup_keepalive},
    {"encap-mpls", LINK_ETHER, "MPLS, two labels: IPv4 and IPv6 conversations", sc_encap_mpls},
    {"encap-gre", LINK_ETHER, "GRE both ways: IPv4 conversation, IPv6 with a GRE key", sc_encap_gre},
    {"encap-erspan", LINK_ETHER, "ERSPAN I and II (IPv4), III (IPv6) mirror sessions", sc_encap_erspan},
    {"encap-vxlan", LINK_ETHER, "VXLAN mirror (UDP 4789, VNI 100): IPv4, IPv6", sc_encap_vxlan},
    {"encap-geneve", LINK_ETHER, "Geneve both ways (UDP 6081): IPv4 with GWLB options, IPv6 in Ethernet", sc_encap_geneve},
    {"malformed", LINK_ETHER, "one broken packet per frame, see pcaps/synthetic/README.md", sc_malformed},
    {"bench", LINK_ETHER, "large IPv4/IPv6 TCP+UDP mix [--packets N] [--flows M]", sc_bench},
    {NULL, LINK_ETHER, NULL, NULL},
};

static int gen_open(struct gen *g, const struct scenario *sc, const char *path)
{
    g->link = sc->link;
    g->now = 1700000000ull * 1000000;
    g->gap = 1000;
    g->ip_id = 0x1000;
    if (sc->link == LINK_VLAN) {
        g->tags[g->ntags++] = (struct tag){0x8100, 100};
    } else if (sc->link == LINK_QINQ) {
        g->tags[g->ntags++] = (struct tag){0x88a8, 200};
        g->tags[g->ntags++] = (struct tag){0x8100, 100};
    }
    g->pd = pcap_open_dead(link_dlt[sc->link], 65535);
    if (g->pd == NULL) {
        fprintf(stderr, "fa_pcapgen: pcap_open_dead failed\n");
        return -1;
    }
    g->dump = pcap_dump_open(g->pd, path);
    if (g->dump == NULL) {
        fprintf(stderr, "fa_pcapgen: %s\n", pcap_geterr(g->pd));
        pcap_close(g->pd);
        return -1;
    }
    return 0;
}

static int gen_close(struct gen *g, const char *path)
{
    int rc = 0;
    if (pcap_dump_flush(g->dump) != 0) {
        fprintf(stderr, "fa_pcapgen: %s: write error\n", path);
        rc = -1;
    }
    if (g->failed) {
        fprintf(stderr, "fa_pcapgen: %s: a frame did not fit the build buffer\n", path);
        rc = -1;
    }
    pcap_dump_close(g->dump);
    pcap_close(g->pd);
    return rc;
}

static int parse_count(const char *s, unsigned long *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v == 0 || v > 100000000ul)
        return -1;
    *out = v;
    return 0;
}

/* Reads bench's [--packets N] [--flows M]; other scenarios take no options. */
static int parse_opts(struct gen *g, const struct scenario *sc, int argc, char **argv)
{
    g->packets = 2000000;
    g->flows = 200000;
    for (int i = 0; i < argc; i += 2) {
        unsigned long *dst = strcmp(argv[i], "--packets") == 0 ? &g->packets
                             : strcmp(argv[i], "--flows") == 0 ? &g->flows
                                                               : NULL;
        if (sc->fn != sc_bench || dst == NULL || i + 1 >= argc || parse_count(argv[i + 1], dst) != 0) {
            fprintf(stderr, "fa_pcapgen: bad option '%s' for %s\n", argv[i], sc->name);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct gen g;
    const struct scenario *sc;
    memset(&g, 0, sizeof g);
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (sc = scenarios; sc->name != NULL; sc++)
            printf("%-18s %s\n", sc->name, sc->desc);
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: fa_pcapgen --list | fa_pcapgen SCENARIO OUTFILE [--packets N] [--flows M]\n");
        return 2;
    }
    for (sc = scenarios; sc->name != NULL && strcmp(sc->name, argv[1]) != 0; sc++)
        ;
    if (sc->name == NULL) {
        fprintf(stderr, "fa_pcapgen: unknown scenario '%s' (see --list)\n", argv[1]);
        return 2;
    }
    if (parse_opts(&g, sc, argc - 3, argv + 3) != 0)
        return 2;
    if (gen_open(&g, sc, argv[2]) != 0)
        return 1;
    sc->fn(&g);
    return gen_close(&g, argv[2]) == 0 ? 0 : 1;
}
