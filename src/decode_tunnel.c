/* decode_tunnel.c - encapsulations a span source uses, down to the inner
 * packet: MPLS label stacks (RFC 3032), GRE (RFC 2784, key and sequence
 * number RFC 2890) carrying IP, MPLS, Ethernet (0x6558) or ERSPAN types I,
 * II and III (draft-foschiano-erspan-03), VXLAN (RFC 7348, UDP 4789) and
 * Geneve (RFC 8926, UDP 6081).
 *
 *   MPLS:       |label 20|TC 3|S 1|TTL 8| ... until S = 1 |IPv4 or IPv6 (first nibble)|
 *   GRE:        |C|R|K|S|s|recur 3|flags 5|ver 3|protocol type 16|
 *               |checksum 16|reserved 16| if C |key 32| if K |sequence 32| if S
 *   ERSPAN I:   GRE 0x88be without S, the mirrored Ethernet frame at once
 *   ERSPAN II:  GRE 0x88be with S:
 *               |ver 4 (1)|VLAN 12|COS 3|En 2|T 1|session 10|reserved 12|index 20|
 *   ERSPAN III: GRE 0x22eb:
 *               |ver 4 (2)|VLAN 12|COS 3|BSO 2|T 1|session 10|timestamp 32|
 *               |SGT 16|P 1|FT 5|hw id 6|D 1|Gra 2|O 1| (+ 8 platform bytes if O)
 *   VXLAN:      |R R R R I R R R|reserved 24|VNI 24|reserved 8|Ethernet ...
 *   Geneve:     |ver 2|opt len 6|O 1|C 1|rsvd 6|protocol type 16|VNI 24|rsvd 8|
 *               |options opt len * 4|Ethernet, IPv4 or IPv6 ...
 *
 * Each header is checked in a fixed order: the length the outer header
 * claims (malformed when the tunnel header, or the smallest inner packet it
 * announces, does not fit), then the captured bytes (truncated), then its
 * fields. A header that is valid but announces what is not decoded here
 * (PPTP's GRE version 1, other protocol types, Geneve control messages,
 * ERSPAN III frame types other than Ethernet and IP) leaves the packet as
 * the outer one, tracked as before. A tunnel carried in an outer IP
 * fragment is left as the outer packet too: later fragments carry no
 * tunnel header to follow, and all of them belong to one outer flow. */
#include "decode_internal.h"

#define GRE_CSUM 0x8000
#define GRE_ROUTING 0x4000
#define GRE_KEY 0x2000
#define GRE_SEQ 0x1000
#define GRE_SSR 0x0800
#define GRE_RECUR_HIGH 0x0400 /* bit 5; bits 6-12 are ignored on receipt */
#define GRE_VERSION 0x0007

#define PT_IPV4 0x0800
#define PT_IPV6 0x86dd
#define PT_MPLS 0x8847
#define PT_MPLS_MC 0x8848
#define PT_TEB 0x6558 /* transparent Ethernet bridging */
#define PT_ERSPAN 0x88be
#define PT_ERSPAN3 0x22eb

#define VXLAN_I 0x08
#define GENEVE_O 0x80

enum inner { INNER_NONE, INNER_ETHER, INNER_IP, INNER_MPLS };

/* Protocol types GRE and Geneve share (ethertypes) and what they carry. */
static const struct proto_row {
    uint16_t type;
    enum inner inner;
} proto_table[] = {
    {PT_IPV4, INNER_IP}, {PT_IPV6, INNER_IP}, {PT_MPLS, INNER_MPLS},
    {PT_MPLS_MC, INNER_MPLS}, {PT_TEB, INNER_ETHER}, {0, INNER_NONE},
};

/* The smallest inner packet of each kind: an Ethernet header, an IPv4
 * header, one label stack entry. */
static const struct inner_row {
    uint32_t min;
    fa_decode_result (*decode)(fa_cursor c, uint32_t wire_left, fa_packet *pkt);
} inner_table[] = {
    [INNER_ETHER] = {14, fa_decode_ether},
    [INNER_IP] = {20, fa_decode_ip},
    [INNER_MPLS] = {4, fa_decode_mpls},
};

static enum inner inner_of(uint16_t type)
{
    const struct proto_row *r = proto_table;
    while (r->type && r->type != type)
        r++;
    return r->inner;
}

#define BIT(e) ((uint8_t)(1u << (e)))

/* Enters one more encapsulation layer, marking the kinds in bits (ERSPAN
 * comes with its GRE header); false beyond FA_ENCAP_MAX. The transport
 * facts of the outer packet are cleared, so an inner protocol without
 * ports does not inherit the outer UDP ports. */
static bool enter(fa_packet *pkt, uint8_t bits)
{
    if (pkt->encap_depth == FA_ENCAP_MAX)
        return false;
    pkt->encap_depth++;
    pkt->encap |= bits;
    fa_packet_clear_transport(pkt);
    return true;
}

/* Enters the layer marked bits and decodes the inner packet of kind k
 * behind its header of hlen bytes (already checked to fit the claimed and
 * captured bytes). bad: the layer's length result, for an inner packet
 * the claimed length cannot hold. */
static fa_decode_result descend(uint8_t bits, enum inner k, fa_cursor c, uint32_t claimed, uint32_t hlen,
                                fa_decode_result bad, fa_packet *pkt)
{
    if (claimed - hlen < inner_table[k].min)
        return bad;
    if (!enter(pkt, bits))
        return FA_DEC_ENCAP_TOO_DEEP;
    fa_cursor_skip(&c, hlen);
    return inner_table[k].decode(c, claimed - hlen, pkt);
}

fa_decode_result fa_decode_mpls(fa_cursor c, uint32_t wire_left, fa_packet *pkt)
{
    uint32_t used = 0;
    uint8_t b;
    for (int n = 0;; n++) {
        if (n == FA_MPLS_MAX)
            return FA_DEC_MPLS_TOO_DEEP;
        if (wire_left - used < 4)
            return FA_DEC_BAD_MPLS; /* the frame ends before the bottom of the stack */
        if (!fa_cursor_peek_u8(&c, 2, &b) || !fa_cursor_skip(&c, 4))
            return FA_DEC_TRUNC_MPLS;
        used += 4;
        if (b & 0x01) /* S: bottom of the stack */
            break;
    }
    if (wire_left == used)
        return FA_DEC_BAD_MPLS; /* a stack with nothing under it */
    if (!enter(pkt, BIT(FA_ENCAP_MPLS)))
        return FA_DEC_ENCAP_TOO_DEEP;
    /* RFC 3032 leaves the payload's protocol to the label's binding, which
     * a capture does not show; guess it from the version nibble as Zeek
     * and Wireshark do. */
    if (!fa_cursor_peek_u8(&c, 0, &b))
        return FA_DEC_TRUNC_MPLS;
    if ((b >> 4) != 4 && (b >> 4) != 6)
        return FA_DEC_NOT_IP;
    return fa_decode_ip(c, wire_left - used, pkt);
}

/* ERSPAN behind a GRE header of glen bytes: type I has no header of its
 * own, II 8 bytes with version 1, III 12 (20 with the platform
 * subheader) with version 2 and a frame type. */
static fa_decode_result erspan(uint16_t type, uint16_t gre_flags, fa_cursor c, uint32_t claimed,
                               uint32_t glen, fa_packet *pkt)
{
    bool type3 = type == PT_ERSPAN3;
    uint32_t hlen = type3 ? 12 : (gre_flags & GRE_SEQ) ? 8 : 0;
    enum inner k = INNER_ETHER;
    uint8_t v;
    uint16_t w;
    if (claimed - glen < hlen)
        return FA_DEC_BAD_ERSPAN_LEN;
    if (!fa_cursor_has(&c, glen + hlen))
        return FA_DEC_TRUNC_ERSPAN;
    if (hlen > 0 && fa_cursor_peek_u8(&c, glen, &v) && (v >> 4) != (type3 ? 2 : 1))
        return FA_DEC_BAD_ERSPAN_VERSION;
    if (type3 && fa_cursor_peek_be16(&c, glen + 10, &w)) {
        hlen += (w & 0x0001) ? 8 : 0; /* O: the platform-specific subheader follows */
        if (claimed - glen < hlen)
            return FA_DEC_BAD_ERSPAN_LEN;
        if (!fa_cursor_has(&c, glen + hlen))
            return FA_DEC_TRUNC_ERSPAN;
        uint32_t ft = (w >> 10) & 0x1f; /* frame type: 0 Ethernet, 2 IP */
        k = ft == 0 ? INNER_ETHER : ft == 2 ? INNER_IP : INNER_NONE;
        if (k == INNER_NONE)
            return FA_DEC_OK;
    }
    return descend(BIT(FA_ENCAP_GRE) | BIT(FA_ENCAP_ERSPAN), k, c, claimed, glen + hlen, FA_DEC_BAD_ERSPAN_LEN, pkt);
}

fa_decode_result fa_decode_gre(fa_cursor l4, uint32_t l4_len, fa_packet *pkt)
{
    uint16_t flags, type;
    if (l4_len < 4)
        return FA_DEC_BAD_GRE_LEN;
    if (!fa_cursor_peek_be16(&l4, 2, &type))
        return FA_DEC_TRUNC_GRE;
    fa_cursor_peek_be16(&l4, 0, &flags);
    if (flags & GRE_VERSION)
        return FA_DEC_OK; /* version 1 is PPTP's PPP carrier (RFC 2637) */
    /* RFC 2784 section 2.3: a receiver that does not implement RFC 1701
     * discards a packet with any of bits 1-5 set; RFC 2890 gave bits 2 and
     * 3 to the key and sequence number. */
    if (flags & (GRE_ROUTING | GRE_SSR | GRE_RECUR_HIGH))
        return FA_DEC_BAD_GRE_FLAGS;
    uint32_t glen = 4 + ((flags & GRE_CSUM) ? 4 : 0) + ((flags & GRE_KEY) ? 4 : 0) +
                    ((flags & GRE_SEQ) ? 4 : 0);
    if (l4_len < glen)
        return FA_DEC_BAD_GRE_LEN;
    if (!fa_cursor_has(&l4, glen))
        return FA_DEC_TRUNC_GRE;
    if (type == PT_ERSPAN || type == PT_ERSPAN3)
        return erspan(type, flags, l4, l4_len, glen, pkt);
    enum inner k = inner_of(type);
    if (k == INNER_NONE)
        return FA_DEC_OK;
    return descend(BIT(FA_ENCAP_GRE), k, l4, l4_len, glen, FA_DEC_BAD_GRE_LEN, pkt);
}

static fa_decode_result vxlan(fa_cursor c, uint32_t len, fa_packet *pkt)
{
    uint8_t flags;
    if (len < 8)
        return FA_DEC_BAD_VXLAN_LEN;
    if (!fa_cursor_has(&c, 8))
        return FA_DEC_TRUNC_VXLAN;
    fa_cursor_peek_u8(&c, 0, &flags);
    /* RFC 7348 section 5: the I flag MUST be set; the other bits are
     * reserved and ignored (the group policy extension uses some). */
    if (!(flags & VXLAN_I))
        return FA_DEC_BAD_VXLAN_FLAGS;
    return descend(BIT(FA_ENCAP_VXLAN), INNER_ETHER, c, len, 8, FA_DEC_BAD_VXLAN_LEN, pkt);
}

static fa_decode_result geneve(fa_cursor c, uint32_t len, fa_packet *pkt)
{
    uint8_t vo, flags;
    uint16_t type;
    if (len < 8)
        return FA_DEC_BAD_GENEVE_LEN;
    if (!fa_cursor_has(&c, 8))
        return FA_DEC_TRUNC_GENEVE;
    fa_cursor_peek_u8(&c, 0, &vo);
    fa_cursor_peek_u8(&c, 1, &flags);
    fa_cursor_peek_be16(&c, 2, &type);
    /* RFC 8926 section 3.4: a packet of an unknown version is dropped. */
    if ((vo >> 6) != 0)
        return FA_DEC_BAD_GENEVE_VERSION;
    uint32_t hlen = 8 + (uint32_t)(vo & 0x3f) * 4;
    if (len < hlen)
        return FA_DEC_BAD_GENEVE_LEN;
    if (!fa_cursor_has(&c, hlen))
        return FA_DEC_TRUNC_GENEVE;
    enum inner k = inner_of(type);
    /* A control message (O) is the tunnel endpoints' own traffic. */
    if (k == INNER_NONE || (flags & GENEVE_O))
        return FA_DEC_OK;
    return descend(BIT(FA_ENCAP_GENEVE), k, c, len, hlen, FA_DEC_BAD_GENEVE_LEN, pkt);
}

/* UDP tunnels by destination port, the port the encapsulating end sends
 * to (its source port is a hash of the inner flow). */
static const struct udp_tunnel_row {
    uint16_t port;
    fa_decode_result (*decode)(fa_cursor c, uint32_t len, fa_packet *pkt);
} udp_tunnel_table[] = {
    {4789, vxlan},
    {6081, geneve},
    {0, NULL},
};

fa_decode_result fa_decode_udp_tunnel(fa_cursor c, uint32_t len, fa_packet *pkt)
{
    for (const struct udp_tunnel_row *r = udp_tunnel_table; r->decode; r++)
        if (r->port == pkt->dport)
            return r->decode(c, len, pkt);
    return FA_DEC_OK;
}
