/* decode_icmp.c - ICMP (RFC 792) and ICMPv6 (RFC 4443), including the
 * original header quoted inside error messages, so that an unreachable or
 * administratively-prohibited answer can be charged to the flow it refused.
 *
 *   |type 8|code 8|checksum 16|rest of header 32|quoted IP header + 8 bytes|
 *
 * ICMP flows are keyed as Zeek keys them: the "source port" is the type and
 * the "destination port" the counterpart type for request/reply pairs (echo
 * request 8 <-> reply 0) or the code otherwise. */
#include "decode_internal.h"

static const uint8_t icmp4_pairs[][2] = {{8, 0}, {13, 14}, {15, 16}, {17, 18}, {10, 9}};
static const uint8_t icmp6_pairs[][2] = {{128, 129}, {133, 134}, {135, 136}, {130, 131},
                                         {139, 140}, {144, 145}};
#define N_ICMP4_PAIRS (sizeof icmp4_pairs / sizeof icmp4_pairs[0])
#define N_ICMP6_PAIRS (sizeof icmp6_pairs / sizeof icmp6_pairs[0])

static bool counterpart(const uint8_t (*pairs)[2], size_t n, uint8_t type, uint8_t *other)
{
    for (size_t i = 0; i < n; i++) {
        if (pairs[i][0] == type) { *other = pairs[i][1]; return true; }
        if (pairs[i][1] == type) { *other = pairs[i][0]; return true; }
    }
    return false;
}

static uint16_t icmp_dport(const uint8_t (*pairs)[2], size_t n, uint8_t type, uint8_t code)
{
    uint8_t other;
    return counterpart(pairs, n, type, &other) ? other : code;
}

static void key_icmp(fa_packet *pkt, const uint8_t (*pairs)[2], size_t n)
{
    pkt->sport = pkt->icmp_type;
    pkt->dport = icmp_dport(pairs, n, pkt->icmp_type, pkt->icmp_code);
    pkt->has_ports = true;
}

/* The quote holds at least the original IP header and 8 transport bytes
 * (RFC 792); routers often quote more, snaplen may have cut it. A quoted
 * ICMP message (icmp_proto) gets the ports its own flow is keyed by, so an
 * error answering a ping finds the ping's flow. */
static void quote_ports(fa_cursor q, uint8_t icmp_proto, const uint8_t (*pairs)[2], size_t n,
                        fa_icmp_quote *out)
{
    uint8_t type, code;
    out->has_ports = false;
    if ((out->proto == FA_PROTO_TCP || out->proto == FA_PROTO_UDP) &&
        fa_cursor_peek_be16(&q, 0, &out->sport) && fa_cursor_peek_be16(&q, 2, &out->dport))
        out->has_ports = true;
    if (out->proto == icmp_proto && fa_cursor_peek_u8(&q, 0, &type) && fa_cursor_peek_u8(&q, 1, &code)) {
        out->sport = type;
        out->dport = icmp_dport(pairs, n, type, code);
        out->has_ports = true;
    }
}

static fa_decode_result quote_v4(fa_cursor q, fa_icmp_quote *out)
{
    uint8_t vihl;
    if (!fa_cursor_has(&q, 20))
        return FA_DEC_BAD_ICMP_QUOTE;
    fa_cursor_peek_u8(&q, 0, &vihl);
    uint32_t ihl = (uint32_t)(vihl & 0x0f) * 4;
    if ((vihl >> 4) != 4 || ihl < 20 || !fa_cursor_has(&q, ihl))
        return FA_DEC_BAD_ICMP_QUOTE;
    fa_cursor_peek_u8(&q, 9, &out->proto);
    fa_addr_from_v4(&out->src, q.p + 12);
    fa_addr_from_v4(&out->dst, q.p + 16);
    fa_cursor_skip(&q, ihl);
    quote_ports(q, FA_PROTO_ICMP, icmp4_pairs, N_ICMP4_PAIRS, out);
    return FA_DEC_OK;
}

static fa_decode_result quote_v6(fa_cursor q, fa_icmp_quote *out)
{
    uint8_t v, next;
    uint16_t plen;
    if (!fa_cursor_has(&q, 40) || !fa_cursor_peek_u8(&q, 0, &v) || (v >> 4) != 6)
        return FA_DEC_BAD_ICMP_QUOTE;
    fa_cursor_peek_be16(&q, 4, &plen);
    fa_cursor_peek_u8(&q, 6, &next);
    fa_addr_from_v6(&out->src, q.p + 8);
    fa_addr_from_v6(&out->dst, q.p + 24);
    fa_cursor_skip(&q, 40);
    uint32_t consumed;
    /* Quotes are cut short by design, so run out of bytes = no ports. */
    if (fa_ipv6_walk_ext(&q, plen, &next, &consumed, NULL) != FA_DEC_OK) {
        out->proto = next;
        out->has_ports = false;
        return FA_DEC_OK;
    }
    out->proto = next;
    quote_ports(q, FA_PROTO_ICMP6, icmp6_pairs, N_ICMP6_PAIRS, out);
    return FA_DEC_OK;
}

static fa_decode_result read_type_code(fa_cursor *l4, fa_packet *pkt)
{
    if (!fa_cursor_has(l4, 8))
        return FA_DEC_TRUNC_ICMP;
    fa_cursor_peek_u8(l4, 0, &pkt->icmp_type);
    fa_cursor_peek_u8(l4, 1, &pkt->icmp_code);
    fa_cursor_skip(l4, 8);
    pkt->payload = l4->p;
    pkt->payload_caplen = pkt->payload_len = (uint32_t)l4->left;
    return FA_DEC_OK;
}

fa_decode_result fa_decode_icmp(fa_cursor l4, fa_packet *pkt)
{
    fa_decode_result r = read_type_code(&l4, pkt);
    if (r != FA_DEC_OK)
        return r;
    key_icmp(pkt, icmp4_pairs, N_ICMP4_PAIRS);
    /* 3 unreachable, 11 time exceeded, 12 parameter problem */
    if (pkt->icmp_type == 3 || pkt->icmp_type == 11 || pkt->icmp_type == 12) {
        pkt->icmp_error = true;
        return quote_v4(l4, &pkt->quote);
    }
    return FA_DEC_OK;
}

fa_decode_result fa_decode_icmp6(fa_cursor l4, fa_packet *pkt)
{
    fa_decode_result r = read_type_code(&l4, pkt);
    if (r != FA_DEC_OK)
        return r;
    key_icmp(pkt, icmp6_pairs, N_ICMP6_PAIRS);
    /* 1 unreachable, 2 packet too big, 3 time exceeded, 4 parameter problem */
    if (pkt->icmp_type >= 1 && pkt->icmp_type <= 4) {
        pkt->icmp_error = true;
        return quote_v6(l4, &pkt->quote);
    }
    return FA_DEC_OK;
}
