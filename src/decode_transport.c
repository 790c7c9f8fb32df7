/* decode_transport.c - TCP (RFC 9293) and UDP (RFC 768) headers; other IP
 * protocols become portless protocol-level packets. GRE, and UDP to the
 * VXLAN and Geneve ports, go on to decode_tunnel.c unless the outer packet
 * is a fragment.
 *
 *   TCP: |sport 16|dport 16|seq 32|ack 32|doff 4|rsvd 4|flags 8|win 16|
 *        |checksum 16|urgent 16|options (doff*4-20)|data|
 *   UDP: |sport 16|dport 16|length 16|checksum 16|data|
 */
#include "decode_internal.h"

static void set_payload(fa_packet *pkt, fa_cursor c, uint32_t claimed)
{
    pkt->payload = c.p;
    pkt->payload_caplen = (uint32_t)(c.left < claimed ? c.left : claimed);
    pkt->payload_len = claimed;
}

static fa_decode_result decode_tcp(fa_cursor c, uint32_t l4_len, fa_packet *pkt)
{
    uint8_t offx, flags;
    /* A first fragment too short for the header is the RFC 1858 evasion,
     * not a snaplen cut. */
    if (l4_len < 20)
        return pkt->fragment ? FA_DEC_BAD_FRAGMENT : FA_DEC_BAD_TCP_DOFF;
    if (!fa_cursor_has(&c, 20))
        return FA_DEC_TRUNC_TCP;
    fa_cursor_peek_be16(&c, 0, &pkt->sport);
    fa_cursor_peek_be16(&c, 2, &pkt->dport);
    fa_cursor_peek_be32(&c, 4, &pkt->seq);
    fa_cursor_peek_be32(&c, 8, &pkt->ack);
    fa_cursor_peek_u8(&c, 12, &offx);
    fa_cursor_peek_u8(&c, 13, &flags);
    fa_cursor_peek_be16(&c, 14, &pkt->window);

    uint32_t doff = (uint32_t)(offx >> 4) * 4;
    if (doff < 20 || doff > l4_len)
        return FA_DEC_BAD_TCP_DOFF;
    if (!fa_cursor_skip(&c, doff))
        return FA_DEC_TRUNC_TCP;
    pkt->tcp_flags = flags;
    pkt->has_ports = true;
    set_payload(pkt, c, l4_len - doff);
    return FA_DEC_OK;
}

static fa_decode_result decode_udp(fa_cursor c, uint32_t l4_len, fa_packet *pkt)
{
    uint16_t ulen;
    if (l4_len < 8)
        return pkt->fragment ? FA_DEC_BAD_FRAGMENT : FA_DEC_BAD_UDP_LEN;
    if (!fa_cursor_has(&c, 8))
        return FA_DEC_TRUNC_UDP;
    fa_cursor_peek_be16(&c, 0, &pkt->sport);
    fa_cursor_peek_be16(&c, 2, &pkt->dport);
    fa_cursor_peek_be16(&c, 4, &ulen);
    /* A first fragment carries only part of the datagram the UDP length
     * describes, so only an unfragmented datagram can be held to it. */
    if (ulen < 8 || (!pkt->fragment && ulen > l4_len))
        return FA_DEC_BAD_UDP_LEN;
    fa_cursor_skip(&c, 8);
    pkt->has_ports = true;
    set_payload(pkt, c, pkt->fragment ? l4_len - 8 : (uint32_t)ulen - 8);
    if (pkt->fragment)
        return FA_DEC_OK;
    return fa_decode_udp_tunnel(fa_cursor_take(&c, (uint32_t)ulen - 8), (uint32_t)ulen - 8, pkt);
}

/* The ICMP decoders see only the captured bytes (l4), so the claimed
 * payload length is set here, and an error whose quote the snaplen cut
 * before its ports counts as truncated, not as a malformed quote. */
static fa_decode_result finish_icmp(fa_decode_result r, fa_cursor l4, uint32_t l4_len, fa_packet *pkt)
{
    bool cut = l4.left < l4_len;
    if (cut && (r == FA_DEC_BAD_ICMP_QUOTE || (r == FA_DEC_OK && pkt->icmp_error && !pkt->quote.has_ports)))
        return FA_DEC_TRUNC_ICMP;
    if (r == FA_DEC_OK)
        pkt->payload_len = l4_len - 8;
    return r;
}

fa_decode_result fa_decode_transport(fa_cursor l4, uint32_t l4_len, fa_packet *pkt)
{
    switch (pkt->proto) {
    case FA_PROTO_TCP:
        return decode_tcp(l4, l4_len, pkt);
    case FA_PROTO_UDP:
        return decode_udp(l4, l4_len, pkt);
    case FA_PROTO_ICMP:
        return pkt->ipver == 4 ? finish_icmp(fa_decode_icmp(l4, pkt), l4, l4_len, pkt) : FA_DEC_OK;
    case FA_PROTO_ICMP6:
        return pkt->ipver == 6 ? finish_icmp(fa_decode_icmp6(l4, pkt), l4, l4_len, pkt) : FA_DEC_OK;
    default:
        set_payload(pkt, l4, l4_len);
        if (pkt->proto == FA_PROTO_GRE && !pkt->fragment)
            return fa_decode_gre(l4, l4_len, pkt);
        return FA_DEC_OK;
    }
}
