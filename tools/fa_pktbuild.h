/* fa_pktbuild.h - the one packet builder of the capture generators
 * (fa_pcapgen, fa_flowgen) and the unit tests: a bounded byte buffer,
 * fields written in network byte order, Internet checksums, and link, IP,
 * tunnel and transport headers written field by field.
 *
 * Each tools .c file is its own program and each test its own executable,
 * so the functions are static inline: a user compiles only what it calls.
 * Nothing is cast to a struct. Writing past BUF_MAX sets `overflow` and
 * writes nothing; the caller checks it once the packet is built. */
#ifndef FA_PKTBUILD_H
#define FA_PKTBUILD_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define BUF_MAX 4096
#define ETHER_MIN 60 /* shortest Ethernet frame without FCS; shorter ones get padded */

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10

/* A byte buffer that refuses to grow past BUF_MAX and remembers that it did. */
struct buf {
    uint8_t d[BUF_MAX];
    size_t len;
    bool overflow;
};

static inline void buf_reset(struct buf *b)
{
    b->len = 0;
    b->overflow = false;
}

static inline bool buf_room(struct buf *b, size_t n)
{
    if (n > sizeof b->d - b->len) {
        b->overflow = true;
        return false;
    }
    return true;
}

static inline void put_u8(struct buf *b, uint8_t v)
{
    if (buf_room(b, 1))
        b->d[b->len++] = v;
}

static inline void put_be16(struct buf *b, uint16_t v)
{
    put_u8(b, (uint8_t)(v >> 8));
    put_u8(b, (uint8_t)v);
}

static inline void put_be32(struct buf *b, uint32_t v)
{
    put_be16(b, (uint16_t)(v >> 16));
    put_be16(b, (uint16_t)v);
}

static inline void put_le32(struct buf *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        put_u8(b, (uint8_t)(v >> (8 * i)));
}

static inline void put_bytes(struct buf *b, const void *p, size_t n)
{
    if (n > 0 && buf_room(b, n)) {
        memcpy(b->d + b->len, p, n);
        b->len += n;
    }
}

static inline void put_fill(struct buf *b, uint8_t v, size_t n)
{
    if (buf_room(b, n)) {
        memset(b->d + b->len, v, n);
        b->len += n;
    }
}

static inline void set_u8(struct buf *b, size_t off, uint8_t v)
{
    if (off < b->len)
        b->d[off] = v;
    else
        b->overflow = true;
}

static inline void set_be16(struct buf *b, size_t off, uint16_t v)
{
    set_u8(b, off, (uint8_t)(v >> 8));
    set_u8(b, off + 1, (uint8_t)v);
}

/* RFC 1071 one's-complement sum, folded at the end by csum_fold. */
static inline uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static inline uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* ---- headers from literal fields ---------------------------------------
 * Addresses are given as text; lengths that depend on what follows (IPv4
 * total length, IPv6 payload length, UDP length) are patched by the *_done()
 * calls once the rest of the packet is written. A bad address text sets
 * `overflow` too. */

static inline void pb_addr(struct buf *b, int af, const char *text)
{
    uint8_t a[16];
    if (inet_pton(af, text, a) != 1)
        b->overflow = true;
    else
        put_bytes(b, a, af == AF_INET ? 4 : 16);
}

/* Ethernet addresses, then any 802.1Q/802.1ad tags (TPID, TCI), then the
 * ethertype. */
static inline void pb_ether_tagged(struct buf *b, const uint16_t *tpids, int ntags,
                                   uint16_t type)
{
    static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};
    put_bytes(b, macs, sizeof macs);
    for (int i = 0; i < ntags; i++) {
        put_be16(b, tpids[i]);
        put_be16(b, (uint16_t)(100 + i));
    }
    put_be16(b, type);
}

static inline void pb_ether(struct buf *b, uint16_t type)
{
    pb_ether_tagged(b, NULL, 0, type);
}

/* Linux cooked v1: | pkttype | hatype | halen | addr 8 | proto |. */
static inline void pb_sll(struct buf *b, uint16_t proto)
{
    put_be16(b, 0);
    put_be16(b, 1);
    put_be16(b, 6);
    put_fill(b, 0xaa, 8);
    put_be16(b, proto);
}

/* Linux cooked v2: | proto | rsvd | ifindex | hatype | pkttype | halen | addr 8 |. */
static inline void pb_sll2(struct buf *b, uint16_t proto)
{
    put_be16(b, proto);
    put_be16(b, 0);
    put_be32(b, 3);
    put_be16(b, 1);
    put_u8(b, 0);
    put_u8(b, 6);
    put_fill(b, 0xaa, 8);
}

/* IPv4 header with opt_len bytes of NOP options (a multiple of 4); frag is
 * the flags/offset word. Returns the header's offset for pb_ipv4_done(). */
static inline size_t pb_ipv4(struct buf *b, const char *src, const char *dst, uint8_t proto,
                             uint8_t ttl, uint16_t id, uint16_t frag, size_t opt_len)
{
    size_t start = b->len;
    put_u8(b, (uint8_t)(0x40 | ((20 + opt_len) / 4)));
    put_u8(b, 0);
    put_be16(b, 0);
    put_be16(b, id);
    put_be16(b, frag);
    put_u8(b, ttl);
    put_u8(b, proto);
    put_be16(b, 0);
    pb_addr(b, AF_INET, src);
    pb_addr(b, AF_INET, dst);
    put_fill(b, 0x01, opt_len);
    return start;
}

/* Sets the total length to everything written since start, and the
 * header checksum. */
static inline void pb_ipv4_done(struct buf *b, size_t start)
{
    size_t ihl = (size_t)(b->d[start] & 0x0f) * 4;
    set_be16(b, start + 2, (uint16_t)(b->len - start));
    set_be16(b, start + 10, 0);
    set_be16(b, start + 10, csum_fold(csum_add(0, b->d + start, ihl)));
}

static inline size_t pb_ipv6(struct buf *b, const char *src, const char *dst, uint8_t next,
                             uint8_t hlim)
{
    size_t start = b->len;
    put_be32(b, 0x60000000u);
    put_be16(b, 0);
    put_u8(b, next);
    put_u8(b, hlim);
    pb_addr(b, AF_INET6, src);
    pb_addr(b, AF_INET6, dst);
    return start;
}

static inline void pb_ipv6_done(struct buf *b, size_t start)
{
    set_be16(b, start + 4, (uint16_t)(b->len - start - 40));
}

/* Hop-by-hop, routing or destination options header of (len8 + 1) * 8
 * bytes, padded with Pad1 options. */
static inline void pb_ext6(struct buf *b, uint8_t next, uint8_t len8)
{
    put_u8(b, next);
    put_u8(b, len8);
    put_fill(b, 0, (size_t)(len8 + 1) * 8 - 2);
}

/* Fragment header; offset8 counts 8-byte units. */
static inline void pb_frag6(struct buf *b, uint8_t next, uint16_t offset8, int more, uint32_t id)
{
    put_u8(b, next);
    put_u8(b, 0);
    put_be16(b, (uint16_t)((offset8 << 3) | (more ? 1 : 0)));
    put_be32(b, id);
}

/* TCP header of doff 32-bit words, options filled with NOPs. */
static inline void pb_tcp_doff(struct buf *b, uint16_t sport, uint16_t dport, uint32_t seq,
                               uint32_t ack, uint8_t flags, uint16_t win, uint8_t doff)
{
    put_be16(b, sport);
    put_be16(b, dport);
    put_be32(b, seq);
    put_be32(b, ack);
    put_u8(b, (uint8_t)(doff << 4));
    put_u8(b, flags);
    put_be16(b, win);
    put_be16(b, 0);
    put_be16(b, 0);
    if (doff > 5)
        put_fill(b, 0x01, (size_t)(doff - 5) * 4);
}

static inline void pb_tcp(struct buf *b, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                          uint8_t flags, uint16_t win)
{
    pb_tcp_doff(b, sport, dport, seq, ack, flags, win, 5);
}

/* UDP header; returns its offset for pb_udp_done(). */
static inline size_t pb_udp(struct buf *b, uint16_t sport, uint16_t dport)
{
    size_t start = b->len;
    put_be16(b, sport);
    put_be16(b, dport);
    put_be16(b, 0);
    put_be16(b, 0);
    return start;
}

static inline void pb_udp_done(struct buf *b, size_t start)
{
    set_be16(b, start + 4, (uint16_t)(b->len - start));
}

/* ---- tunnel headers --------------------------------------------------- */

/* MPLS label stack entry (RFC 3032): label, TC 0, bottom-of-stack, TTL. */
static inline void pb_mpls(struct buf *b, uint32_t label, int bottom, uint8_t ttl)
{
    put_be32(b, (label & 0xfffffu) << 12 | (bottom ? 0x100u : 0) | ttl);
}

/* GRE header (RFC 2784, RFC 2890): the flags-and-version word and protocol
 * type, then a zero checksum and reserved word when 0x8000 is set, the key
 * when 0x2000 is, the sequence number when 0x1000 is. */
static inline void pb_gre(struct buf *b, uint16_t flags, uint16_t proto, uint32_t key, uint32_t seq)
{
    put_be16(b, flags);
    put_be16(b, proto);
    if (flags & 0x8000)
        put_be32(b, 0);
    if (flags & 0x2000)
        put_be32(b, key);
    if (flags & 0x1000)
        put_be32(b, seq);
}

/* ERSPAN type II header: version (1 for a valid one), VLAN 0, COS 0,
 * session id, index. */
static inline void pb_erspan2(struct buf *b, uint8_t version, uint16_t session, uint32_t index)
{
    put_be32(b, (uint32_t)(version & 0xf) << 28 | (session & 0x3ffu));
    put_be32(b, index & 0xfffffu);
}

/* ERSPAN type III header: version (2 for a valid one), VLAN 0, COS 0,
 * session id, timestamp, SGT 0, and the word |P|FT 5|hw id 6|D|Gra 2|O|.
 * With O set the caller writes the 8-byte platform subheader after it. */
static inline void pb_erspan3(struct buf *b, uint8_t version, uint16_t session, uint32_t ts,
                              uint16_t word)
{
    put_be32(b, (uint32_t)(version & 0xf) << 28 | (session & 0x3ffu));
    put_be32(b, ts);
    put_be16(b, 0);
    put_be16(b, word);
}

/* VXLAN header (RFC 7348): flags (0x08: the VNI is valid), VNI. */
static inline void pb_vxlan(struct buf *b, uint8_t flags, uint32_t vni)
{
    put_u8(b, flags);
    put_fill(b, 0, 3);
    put_be32(b, (vni & 0xffffffu) << 8);
}

/* Geneve header (RFC 8926) announcing opt_words 4-byte words of options,
 * which the caller writes after it; flags 0x80 is O, 0x40 C. */
static inline void pb_geneve(struct buf *b, uint8_t version, uint8_t opt_words, uint8_t flags,
                             uint16_t proto, uint32_t vni)
{
    put_u8(b, (uint8_t)(version << 6 | (opt_words & 0x3f)));
    put_u8(b, flags);
    put_be16(b, proto);
    put_be32(b, (vni & 0xffffffu) << 8);
}

/* ICMP or ICMPv6 header: type, code, zero checksum, 32-bit rest. */
static inline void pb_icmp(struct buf *b, uint8_t type, uint8_t code, uint32_t rest)
{
    put_u8(b, type);
    put_u8(b, code);
    put_be16(b, 0);
    put_be32(b, rest);
}

#endif
