/* decode_link.c - link layers: Ethernet with 802.1Q/802.1ad stacks, Linux
 * cooked v1/v2 (SLL, SLL2), BSD NULL/LOOP and raw IP, down to the IP header
 * or an MPLS label stack.
 *
 *   Ethernet:  | dst 6 | src 6 | type 2 | ([TPID 2|TCI 2] ... tags) | IP ...
 *   SLL:       | pkttype 2 | hatype 2 | halen 2 | addr 8 | proto 2 |
 *   SLL2:      | proto 2 | rsvd 2 | ifindex 4 | hatype 2 | pkttype 1 | halen 1 | addr 8 |
 *   NULL/LOOP: | address family 4 (host order / network order) |
 */
#include "decode.h"

#include <stddef.h>

#include "decode_internal.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define ETHERTYPE_MPLS 0x8847
#define ETHERTYPE_MPLS_MC 0x8848

static const struct result_info {
    const char *name;
    int cls;
} result_table[FA_DEC_COUNT] = {
#define FA_DEC_ROW(code, name, cls) [code] = {name, cls},
    FA_DECODE_RESULTS(FA_DEC_ROW)
#undef FA_DEC_ROW
};

const char *fa_decode_result_name(fa_decode_result r)
{
    return (unsigned)r < FA_DEC_COUNT ? result_table[r].name : "unknown";
}

int fa_decode_result_class(fa_decode_result r)
{
    return (unsigned)r < FA_DEC_COUNT ? result_table[r].cls : 2;
}

static const char *const encap_names[FA_ENCAP_KINDS] = {
#define FA_ENCAP_ROW(code, name) [code] = name,
    FA_ENCAPS(FA_ENCAP_ROW)
#undef FA_ENCAP_ROW
};

const char *fa_encap_name(fa_encap e)
{
    return (unsigned)e < FA_ENCAP_KINDS ? encap_names[e] : "unknown";
}

static fa_decode_result by_ethertype(uint16_t type, fa_cursor c, uint32_t wire_left, fa_packet *pkt)
{
    if (type == ETHERTYPE_IPV4 || type == ETHERTYPE_IPV6)
        return fa_decode_ip(c, wire_left, pkt);
    if (type == ETHERTYPE_MPLS || type == ETHERTYPE_MPLS_MC)
        return fa_decode_mpls(c, wire_left, pkt);
    return FA_DEC_NOT_IP;
}

fa_decode_result fa_decode_ether(fa_cursor c, uint32_t wirelen, fa_packet *pkt)
{
    uint16_t type;
    if (!fa_cursor_peek_be16(&c, 12, &type))
        return FA_DEC_TRUNC_LINK;
    fa_cursor_skip(&c, 14);
    uint32_t hdr = 14;
    for (int tags = 0; type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD;
         tags++) {
        if (tags == FA_VLAN_MAX)
            return FA_DEC_VLAN_TOO_DEEP;
        if (!fa_cursor_peek_be16(&c, 2, &type))
            return FA_DEC_TRUNC_LINK;
        fa_cursor_skip(&c, 4);
        hdr += 4;
    }
    if (type < 0x0600) /* 802.3 length field: LLC/SNAP, never IP here */
        return FA_DEC_NOT_IP;
    return by_ethertype(type, c, wirelen > hdr ? wirelen - hdr : 0, pkt);
}

static fa_decode_result decode_sll(fa_cursor c, uint32_t wirelen, fa_packet *pkt, size_t hdrlen,
                                   size_t proto_off)
{
    uint16_t type;
    if (!fa_cursor_peek_be16(&c, proto_off, &type) || !fa_cursor_skip(&c, hdrlen))
        return FA_DEC_TRUNC_LINK;
    return by_ethertype(type, c, wirelen > hdrlen ? wirelen - (uint32_t)hdrlen : 0, pkt);
}

/* BSD address families differ in their AF_INET6 value (24, 28 or 30, Linux
 * 10); AF_INET is 2 everywhere. */
static bool af_is_ip(uint32_t af)
{
    return af == 2 || af == 10 || af == 24 || af == 28 || af == 30;
}

static fa_decode_result decode_null(fa_cursor c, uint32_t wirelen, fa_packet *pkt, bool network_order)
{
    uint8_t b[4];
    for (size_t i = 0; i < 4; i++)
        if (!fa_cursor_peek_u8(&c, i, &b[i]))
            return FA_DEC_TRUNC_LINK;
    uint32_t be = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
    uint32_t le = ((uint32_t)b[3] << 24) | ((uint32_t)b[2] << 16) | ((uint32_t)b[1] << 8) | b[0];
    /* DLT_NULL is in the capturing host's byte order, which a file does not
     * record: accept either order. */
    bool ip = network_order ? af_is_ip(be) : (af_is_ip(be) || af_is_ip(le));
    if (!ip)
        return FA_DEC_NOT_IP;
    fa_cursor_skip(&c, 4);
    return fa_decode_ip(c, wirelen > 4 ? wirelen - 4 : 0, pkt);
}

static fa_decode_result decode_sll1(fa_cursor c, uint32_t wirelen, fa_packet *pkt)
{
    return decode_sll(c, wirelen, pkt, 16, 14);
}

static fa_decode_result decode_sll2(fa_cursor c, uint32_t wirelen, fa_packet *pkt)
{
    return decode_sll(c, wirelen, pkt, 20, 0);
}

static fa_decode_result decode_bsd_null(fa_cursor c, uint32_t wirelen, fa_packet *pkt)
{
    return decode_null(c, wirelen, pkt, false);
}

static fa_decode_result decode_bsd_loop(fa_cursor c, uint32_t wirelen, fa_packet *pkt)
{
    return decode_null(c, wirelen, pkt, true);
}

/* Every link type handled, for fa_decode and fa_decode_linktype_supported
 * alike. Closed by a NULL decoder, since DLT_NULL is 0. */
static const struct link_row {
    int dlt;
    fa_decode_result (*decode)(fa_cursor c, uint32_t wirelen, fa_packet *pkt);
} link_table[] = {
    {DLT_EN10MB, fa_decode_ether},
    {DLT_LINUX_SLL, decode_sll1},
    {DLT_LINUX_SLL2, decode_sll2},
    {DLT_NULL, decode_bsd_null},
    {DLT_LOOP, decode_bsd_loop},
    {DLT_RAW, fa_decode_ip},
    {DLT_IPV4, fa_decode_ip},
    {DLT_IPV6, fa_decode_ip},
    {0, NULL},
};

static const struct link_row *link_of(int dlt)
{
    for (const struct link_row *r = link_table; r->decode; r++)
        if (r->dlt == dlt)
            return r;
    return NULL;
}

void fa_packet_clear_transport(fa_packet *pkt)
{
    pkt->has_ports = false;
    pkt->icmp_error = false;
    pkt->tcp_flags = 0;
    pkt->seq = pkt->ack = 0;
    pkt->window = 0;
    pkt->payload = NULL;
    pkt->payload_caplen = pkt->payload_len = 0;
}

bool fa_decode_linktype_supported(int dlt)
{
    return link_of(dlt) != NULL;
}

fa_decode_result fa_decode(int dlt, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                           fa_packet *pkt)
{
    fa_cursor c = fa_cursor_make(data, caplen);
    pkt->caplen = caplen;
    pkt->wirelen = wirelen < caplen ? caplen : wirelen;
    pkt->fragment = false;
    pkt->first_fragment = false;
    pkt->encap = 0;
    pkt->encap_depth = 0;
    fa_packet_clear_transport(pkt);
    const struct link_row *link = link_of(dlt);
    return link ? link->decode(c, pkt->wirelen, pkt) : FA_DEC_BAD_LINK;
}
