/* pktbuild.h - test-only packet builder: header fields written byte by byte
 * in network order into a bounded buffer, with the IPv4 header checksum.
 *
 * Lengths that depend on what follows (IPv4 total length, IPv6 payload
 * length, UDP length) are patched by the *_done() calls once the rest of the
 * packet is written. TCP and UDP checksums stay zero: the decoder does not
 * verify them. Overflowing the buffer is a bug in the test and aborts. */
#ifndef FA_TEST_PKTBUILD_H
#define FA_TEST_PKTBUILD_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PB_MAX 4096

typedef struct pb {
    uint8_t d[PB_MAX];
    size_t len;
} pb;

static inline void pb_init(pb *b)
{
    b->len = 0;
}

static inline void pb_room(const pb *b, size_t n)
{
    if (n > PB_MAX - b->len) {
        fprintf(stderr, "pktbuild: packet larger than %d bytes\n", PB_MAX);
        abort();
    }
}

static inline void pb_u8(pb *b, uint8_t v)
{
    pb_room(b, 1);
    b->d[b->len++] = v;
}

static inline void pb_be16(pb *b, uint16_t v)
{
    pb_u8(b, (uint8_t)(v >> 8));
    pb_u8(b, (uint8_t)v);
}

static inline void pb_be32(pb *b, uint32_t v)
{
    pb_be16(b, (uint16_t)(v >> 16));
    pb_be16(b, (uint16_t)v);
}

static inline void pb_le32(pb *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        pb_u8(b, (uint8_t)(v >> (8 * i)));
}

static inline void pb_bytes(pb *b, const void *p, size_t n)
{
    pb_room(b, n);
    memcpy(b->d + b->len, p, n);
    b->len += n;
}

static inline void pb_fill(pb *b, uint8_t v, size_t n)
{
    pb_room(b, n);
    memset(b->d + b->len, v, n);
    b->len += n;
}

static inline void pb_set_be16(pb *b, size_t off, uint16_t v)
{
    b->d[off] = (uint8_t)(v >> 8);
    b->d[off + 1] = (uint8_t)v;
}

static inline void pb_addr(pb *b, int af, const char *text)
{
    uint8_t a[16];
    if (inet_pton(af, text, a) != 1) {
        fprintf(stderr, "pktbuild: bad address %s\n", text);
        abort();
    }
    pb_bytes(b, a, af == AF_INET ? 4 : 16);
}

/* Ethernet addresses, then any 802.1Q/802.1ad tags (TPID, TCI), then the
 * ethertype. */
static inline void pb_ether_tagged(pb *b, const uint16_t *tpids, int ntags, uint16_t type)
{
    static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};
    pb_bytes(b, macs, sizeof macs);
    for (int i = 0; i < ntags; i++) {
        pb_be16(b, tpids[i]);
        pb_be16(b, (uint16_t)(100 + i));
    }
    pb_be16(b, type);
}

static inline void pb_ether(pb *b, uint16_t type)
{
    pb_ether_tagged(b, NULL, 0, type);
}

/* Linux cooked v1: | pkttype | hatype | halen | addr 8 | proto |. */
static inline void pb_sll(pb *b, uint16_t proto)
{
    pb_be16(b, 0);
    pb_be16(b, 1);
    pb_be16(b, 6);
    pb_fill(b, 0xaa, 8);
    pb_be16(b, proto);
}

/* Linux cooked v2: | proto | rsvd | ifindex | hatype | pkttype | halen | addr 8 |. */
static inline void pb_sll2(pb *b, uint16_t proto)
{
    pb_be16(b, proto);
    pb_be16(b, 0);
    pb_be32(b, 3);
    pb_be16(b, 1);
    pb_u8(b, 0);
    pb_u8(b, 6);
    pb_fill(b, 0xaa, 8);
}

static inline uint16_t pb_cksum(const uint8_t *p, size_t n)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* IPv4 header with opt_len bytes of NOP options (a multiple of 4); frag is
 * the flags/offset word. Returns the header's offset for pb_ipv4_done(). */
static inline size_t pb_ipv4(pb *b, const char *src, const char *dst, uint8_t proto, uint8_t ttl,
                             uint16_t id, uint16_t frag, size_t opt_len)
{
    size_t start = b->len;
    pb_u8(b, (uint8_t)(0x40 | ((20 + opt_len) / 4)));
    pb_u8(b, 0);
    pb_be16(b, 0);
    pb_be16(b, id);
    pb_be16(b, frag);
    pb_u8(b, ttl);
    pb_u8(b, proto);
    pb_be16(b, 0);
    pb_addr(b, AF_INET, src);
    pb_addr(b, AF_INET, dst);
    pb_fill(b, 0x01, opt_len);
    return start;
}

/* Sets the total length to everything written since start, and the
 * header checksum. */
static inline void pb_ipv4_done(pb *b, size_t start)
{
    size_t ihl = (size_t)(b->d[start] & 0x0f) * 4;
    pb_set_be16(b, start + 2, (uint16_t)(b->len - start));
    pb_set_be16(b, start + 10, 0);
    pb_set_be16(b, start + 10, pb_cksum(b->d + start, ihl));
}

static inline size_t pb_ipv6(pb *b, const char *src, const char *dst, uint8_t next, uint8_t hlim)
{
    size_t start = b->len;
    pb_be32(b, 0x60000000u);
    pb_be16(b, 0);
    pb_u8(b, next);
    pb_u8(b, hlim);
    pb_addr(b, AF_INET6, src);
    pb_addr(b, AF_INET6, dst);
    return start;
}

static inline void pb_ipv6_done(pb *b, size_t start)
{
    pb_set_be16(b, start + 4, (uint16_t)(b->len - start - 40));
}

/* Hop-by-hop, routing or destination options header of (len8 + 1) * 8
 * bytes, padded with Pad1 options. */
static inline void pb_ext6(pb *b, uint8_t next, uint8_t len8)
{
    pb_u8(b, next);
    pb_u8(b, len8);
    pb_fill(b, 0, (size_t)(len8 + 1) * 8 - 2);
}

/* Fragment header; offset8 counts 8-byte units. */
static inline void pb_frag6(pb *b, uint8_t next, uint16_t offset8, int more, uint32_t id)
{
    pb_u8(b, next);
    pb_u8(b, 0);
    pb_be16(b, (uint16_t)((offset8 << 3) | (more ? 1 : 0)));
    pb_be32(b, id);
}

/* TCP header of doff 32-bit words, options filled with NOPs. */
static inline void pb_tcp_doff(pb *b, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                               uint8_t flags, uint16_t win, uint8_t doff)
{
    pb_be16(b, sport);
    pb_be16(b, dport);
    pb_be32(b, seq);
    pb_be32(b, ack);
    pb_u8(b, (uint8_t)(doff << 4));
    pb_u8(b, flags);
    pb_be16(b, win);
    pb_be16(b, 0);
    pb_be16(b, 0);
    if (doff > 5)
        pb_fill(b, 0x01, (size_t)(doff - 5) * 4);
}

static inline void pb_tcp(pb *b, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                          uint8_t flags, uint16_t win)
{
    pb_tcp_doff(b, sport, dport, seq, ack, flags, win, 5);
}

/* UDP header; returns its offset for pb_udp_done(). */
static inline size_t pb_udp(pb *b, uint16_t sport, uint16_t dport)
{
    size_t start = b->len;
    pb_be16(b, sport);
    pb_be16(b, dport);
    pb_be16(b, 0);
    pb_be16(b, 0);
    return start;
}

static inline void pb_udp_done(pb *b, size_t start)
{
    pb_set_be16(b, start + 4, (uint16_t)(b->len - start));
}

/* ICMP or ICMPv6 header: type, code, zero checksum, 32-bit rest. */
static inline void pb_icmp(pb *b, uint8_t type, uint8_t code, uint32_t rest)
{
    pb_u8(b, type);
    pb_u8(b, code);
    pb_be16(b, 0);
    pb_be32(b, rest);
}

#endif
