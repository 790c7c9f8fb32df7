/* decode_ip.c - IPv4 (RFC 791, with options) and IPv6 (RFC 8200, with
 * extension headers and fragments).
 *
 *   IPv4: |ver 4|ihl 4|tos 8|total length 16|id 16|flags 3|frag off 13|
 *         |ttl 8|proto 8|checksum 16|src 32|dst 32|options (ihl*4-20)|
 *   IPv6: |ver 4|class 8|flow 20|payload length 16|next 8|hop limit 8|
 *         |src 128|dst 128|extension headers ...|
 *
 * The transport cursor is clamped to the smaller of the captured bytes and
 * the length the IP header claims, so Ethernet padding never reads as
 * payload and a lying length never reads past the capture. */
#include "decode_internal.h"

#include <string.h>

#define IPV4_MF 0x2000
#define IPV4_OFFMASK 0x1fff

enum { EXT_HOPOPTS = 0, EXT_ROUTING = 43, EXT_FRAGMENT = 44, EXT_AH = 51,
       EXT_DSTOPTS = 60, EXT_MOBILITY = 135, EXT_HIP = 139, EXT_SHIM6 = 140 };

/* A hash of the first bytes of the datagram: enough to tell a span-port
 * duplicate (identical bytes) from a retransmission (new IP id, timestamps). */
static uint32_t datagram_hash(const fa_cursor *ip)
{
    uint64_t w[8] = {0};
    size_t n = ip->left < sizeof w ? ip->left : sizeof w;
    if (n == sizeof w)
        memcpy(w, ip->p, sizeof w);  /* the usual case, a fixed-size copy */
    else
        memcpy(w, ip->p, n);
    /* Four independent products rather than one chain of eight steps; a
     * final mix spreads every byte over the bits that are compared. */
    uint64_t h = n + (w[0] ^ 0x9e3779b97f4a7c15ull) * (w[1] ^ 0xbf58476d1ce4e5b9ull) +
                 (w[2] ^ 0x94d049bb133111ebull) * (w[3] ^ 0xff51afd7ed558ccdull) +
                 (w[4] ^ 0xc4ceb9fe1a85ec53ull) * (w[5] ^ 0x2545f4914f6cdd1dull) +
                 (w[6] ^ 0x9fb21c651e98df25ull) * (w[7] ^ 0xd6e8feb86659fd93ull);
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

fa_decode_result fa_decode_ip(fa_cursor ip, uint32_t wire_left, fa_packet *pkt)
{
    uint8_t v;
    if (!fa_cursor_peek_u8(&ip, 0, &v))
        return FA_DEC_TRUNC_IPV4;
    pkt->frame_hash = datagram_hash(&ip);
    switch (v >> 4) {
    case 4:
        return fa_decode_ipv4(ip, wire_left, pkt);
    case 6:
        return fa_decode_ipv6(ip, wire_left, pkt);
    default:
        return FA_DEC_BAD_IP_VERSION;
    }
}

fa_decode_result fa_decode_ipv4(fa_cursor ip, uint32_t wire_left, fa_packet *pkt)
{
    uint8_t vihl, ttl, proto;
    uint16_t total, id, frag;
    if (!fa_cursor_has(&ip, 20))
        return FA_DEC_TRUNC_IPV4;
    fa_cursor_peek_u8(&ip, 0, &vihl);
    fa_cursor_peek_be16(&ip, 2, &total);
    fa_cursor_peek_be16(&ip, 4, &id);
    fa_cursor_peek_be16(&ip, 6, &frag);
    fa_cursor_peek_u8(&ip, 8, &ttl);
    fa_cursor_peek_u8(&ip, 9, &proto);

    uint32_t ihl = (uint32_t)(vihl & 0x0f) * 4;
    if (ihl < 20)
        return FA_DEC_BAD_IPV4_IHL;
    if (total < ihl || total > wire_left)
        return FA_DEC_BAD_IPV4_LEN;
    if (!fa_cursor_has(&ip, ihl))
        return FA_DEC_TRUNC_IPV4;

    pkt->ipver = 4;
    pkt->proto = proto;
    pkt->ttl = ttl;
    pkt->ip_id = id;
    pkt->ip_len = total;
    fa_addr_from_v4(&pkt->src, ip.p + 12);
    fa_addr_from_v4(&pkt->dst, ip.p + 16);

    uint32_t offset = frag & IPV4_OFFMASK;
    pkt->fragment = offset != 0 || (frag & IPV4_MF) != 0;
    pkt->first_fragment = pkt->fragment && offset == 0;
    pkt->frag_id = id;

    fa_cursor_skip(&ip, ihl);
    fa_cursor l4 = fa_cursor_take(&ip, total - ihl);
    if (offset != 0) {
        /* RFC 1858: an offset of 8 bytes into TCP can only rewrite its
         * header; such fragments are an evasion, not traffic. */
        if (offset == 1 && proto == FA_PROTO_TCP)
            return FA_DEC_BAD_FRAGMENT;
        return FA_DEC_OK;
    }
    return fa_decode_transport(l4, total - ihl, pkt);
}

static bool is_ext_header(uint8_t next)
{
    switch (next) {
    case EXT_HOPOPTS: case EXT_ROUTING: case EXT_FRAGMENT: case EXT_AH:
    case EXT_DSTOPTS: case EXT_MOBILITY: case EXT_HIP: case EXT_SHIM6:
        return true;
    default:
        return false;
    }
}

/* Reads one fragment header (RFC 8200 4.5): |next|rsvd|offset 13|res 2|M|id 32|
 * and returns its offset in 8-byte units. */
static uint16_t note_fragment(const fa_cursor *c, fa_packet *out)
{
    uint16_t offm;
    uint32_t id;
    fa_cursor_peek_be16(c, 2, &offm);
    fa_cursor_peek_be32(c, 4, &id);
    out->fragment = (offm & 0xfff9) != 0;
    out->first_fragment = out->fragment && (offm >> 3) == 0;
    out->frag_id = id;
    return (uint16_t)(offm >> 3);
}

fa_decode_result fa_ipv6_walk_ext(fa_cursor *c, uint32_t claimed, uint8_t *next,
                                  uint32_t *consumed, fa_packet *frag_out)
{
    *consumed = 0;
    for (int n = 0; is_ext_header(*next); n++) {
        uint8_t nh, len8;
        if (n == FA_IPV6_EXT_MAX)
            return FA_DEC_IPV6_EXT_TOO_LONG;
        if (claimed - *consumed < 2)
            return FA_DEC_BAD_IPV6_EXT;
        if (!fa_cursor_peek_u8(c, 0, &nh) || !fa_cursor_peek_u8(c, 1, &len8))
            return FA_DEC_TRUNC_IPV6_EXT;
        uint32_t len = *next == EXT_FRAGMENT ? 8
                     : *next == EXT_AH      ? ((uint32_t)len8 + 2) * 4
                                            : ((uint32_t)len8 + 1) * 8;
        if (len > claimed - *consumed)
            return FA_DEC_BAD_IPV6_EXT;
        if (!fa_cursor_has(c, len))
            return FA_DEC_TRUNC_IPV6_EXT;
        if (*next == EXT_FRAGMENT && frag_out) {
            uint16_t offset = note_fragment(c, frag_out);
            if (offset == 1 && nh == FA_PROTO_TCP)
                return FA_DEC_BAD_FRAGMENT; /* RFC 1858, as for IPv4 */
            if (frag_out->fragment && !frag_out->first_fragment) {
                *next = nh;
                *consumed += len;
                fa_cursor_skip(c, len);
                return FA_DEC_OK; /* the rest is not a header */
            }
        }
        fa_cursor_skip(c, len);
        *consumed += len;
        *next = nh;
    }
    return FA_DEC_OK;
}

fa_decode_result fa_decode_ipv6(fa_cursor ip, uint32_t wire_left, fa_packet *pkt)
{
    uint16_t plen;
    uint8_t next, hlim;
    if (!fa_cursor_has(&ip, 40))
        return FA_DEC_TRUNC_IPV6;
    fa_cursor_peek_be16(&ip, 4, &plen);
    fa_cursor_peek_u8(&ip, 6, &next);
    fa_cursor_peek_u8(&ip, 7, &hlim);
    /* A zero payload length means a jumbogram (RFC 2675), which no
     * Ethernet-sized capture carries: treat it as a lie. */
    if ((plen == 0 && next != 59) || (uint32_t)plen + 40 > wire_left)
        return FA_DEC_BAD_IPV6_LEN;

    pkt->ipver = 6;
    pkt->ttl = hlim;
    pkt->ip_id = 0;
    pkt->ip_len = (uint32_t)plen + 40;
    fa_addr_from_v6(&pkt->src, ip.p + 8);
    fa_addr_from_v6(&pkt->dst, ip.p + 24);
    fa_cursor_skip(&ip, 40);

    fa_cursor body = fa_cursor_take(&ip, plen);
    uint32_t ext_len;
    fa_decode_result r = fa_ipv6_walk_ext(&body, plen, &next, &ext_len, pkt);
    if (r != FA_DEC_OK)
        return r;
    pkt->proto = next;
    if (pkt->fragment && !pkt->first_fragment)
        return FA_DEC_OK;
    return fa_decode_transport(body, plen - ext_len, pkt);
}
