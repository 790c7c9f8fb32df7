/* test_decode.c - the packet decoder: every link type, IPv4 options, IPv6
 * extension chains, fragments, ICMP errors and their quotes, MPLS, GRE,
 * ERSPAN, VXLAN and Geneve with their depth caps, each malformed field,
 * and truncation at every offset (each cut in its own exact-size heap
 * copy so the address sanitizer sees any read past the captured bytes). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pcap/dlt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "fa_pktbuild.h"

#define C4 "10.0.0.1"
#define S4 "10.0.0.2"
#define R4 "192.0.2.254"
#define C6 "2001:db8::1"
#define S6 "2001:db8::2"
#define R6 "2001:db8:ffff::1"

#define ET_IPV4 0x0800
#define ET_IPV6 0x86dd
#define ET_ARP 0x0806
#define ET_VLAN 0x8100
#define ET_QINQ 0x88a8
#define ET_QINQ_OLD 0x9100

#define PROTO_OSPF 89
#define ET_MPLS 0x8847
#define ET_MPLS_MC 0x8848
#define ET_TEB 0x6558
#define ET_ERSPAN 0x88be
#define ET_ERSPAN3 0x22eb
#define T4 "203.0.113.11" /* tunnel endpoints */
#define U4 "203.0.113.12"
#define EXT_HOP 0
#define EXT_ROUTING 43
#define EXT_FRAG 44
#define EXT_AH 51
#define EXT_DST 60

/* ---- decoding helpers ------------------------------------------------- */

/* Copies the first caplen bytes of b into a heap block of exactly that size
 * and decodes it with the wire length of the whole frame. The copy is
 * returned through *copy (pkt->payload points into it); free it. */
static fa_decode_result decode_cut(int dlt, const struct buf *b, size_t caplen, fa_packet *pkt,
                                   uint8_t **copy)
{
    assert_false(b->overflow);
    uint8_t *p = malloc(caplen);
    *copy = p;
    if (!p && caplen)
        fail_msg("out of memory");
    if (caplen)
        memcpy(p, b->d, caplen);
    memset(pkt, 0, sizeof *pkt);
    return fa_decode(dlt, p, (uint32_t)caplen, (uint32_t)b->len, pkt);
}

/* Decodes the whole frame; payload pointers are not usable afterwards. */
static fa_decode_result decode(int dlt, const struct buf *b, fa_packet *pkt)
{
    uint8_t *copy;
    fa_decode_result r = decode_cut(dlt, b, b->len, pkt, &copy);
    free(copy);
    return r;
}

static void expect(int dlt, const struct buf *b, fa_decode_result want)
{
    fa_packet pkt;
    fa_decode_result r = decode(dlt, b, &pkt);
    if (r != want)
        fail_msg("decoded as %s, expected %s", fa_decode_result_name(r), fa_decode_result_name(want));
}

static void assert_addr(const fa_addr *a, const char *text)
{
    fa_cidr c;
    assert_int_equal(fa_cidr_parse(text, &c), 0);
    char buf[FA_ADDR_STRLEN];
    if (fa_addr_cmp(a, &c.net) != 0)
        fail_msg("address %s, expected %s", fa_addr_str(a, buf, sizeof buf), text);
}

/* ---- frame builders (appending after whatever link header is there) ---- */

/* IPv4 TCP 10.0.0.1:40000 -> 10.0.0.2:443, PSH|ACK, with n payload bytes. */
static void put_tcp4(struct buf *b, size_t n)
{
    size_t ip = pb_ipv4(b, C4, S4, 6, 64, 0x1234, 0x4000, 0);
    pb_tcp(b, 40000, 443, 1000, 2000, TH_PSH | TH_ACK, 8192);
    put_fill(b, 'x', n);
    pb_ipv4_done(b, ip);
}

/* IPv4 UDP 10.0.0.1:40001 -> 10.0.0.2:53 with n payload bytes. */
static void put_udp4(struct buf *b, size_t n)
{
    size_t ip = pb_ipv4(b, C4, S4, 17, 64, 0x2345, 0, 0);
    size_t u = pb_udp(b, 40001, 53);
    put_fill(b, 'u', n);
    pb_udp_done(b, u);
    pb_ipv4_done(b, ip);
}

/* IPv6 TCP [2001:db8::1]:40000 -> [2001:db8::2]:443. */
static void put_tcp6(struct buf *b, size_t n)
{
    size_t ip = pb_ipv6(b, C6, S6, 6, 64);
    pb_tcp(b, 40000, 443, 1000, 2000, TH_ACK, 4096);
    put_fill(b, 'x', n);
    pb_ipv6_done(b, ip);
}

static void put_udp6(struct buf *b, size_t n)
{
    size_t ip = pb_ipv6(b, C6, S6, 17, 64);
    size_t u = pb_udp(b, 40001, 53);
    put_fill(b, 'u', n);
    pb_udp_done(b, u);
    pb_ipv6_done(b, ip);
}

static void check_tcp4(const fa_packet *p, uint32_t payload)
{
    assert_int_equal(p->ipver, 4);
    assert_int_equal(p->proto, FA_PROTO_TCP);
    assert_int_equal(p->ttl, 64);
    assert_int_equal(p->ip_id, 0x1234);
    assert_int_equal(p->ip_len, 40 + payload);
    assert_addr(&p->src, C4);
    assert_addr(&p->dst, S4);
    assert_true(p->has_ports);
    assert_int_equal(p->sport, 40000);
    assert_int_equal(p->dport, 443);
    assert_int_equal(p->seq, 1000);
    assert_int_equal(p->ack, 2000);
    assert_int_equal(p->window, 8192);
    assert_int_equal(p->tcp_flags, TH_PSH | TH_ACK);
    assert_false(p->fragment);
    assert_false(p->icmp_error);
    assert_int_equal(p->payload_len, payload);
    assert_int_equal(p->payload_caplen, payload);
}

static void check_udp4(const fa_packet *p, uint32_t payload)
{
    assert_int_equal(p->ipver, 4);
    assert_int_equal(p->proto, FA_PROTO_UDP);
    assert_addr(&p->src, C4);
    assert_addr(&p->dst, S4);
    assert_true(p->has_ports);
    assert_int_equal(p->sport, 40001);
    assert_int_equal(p->dport, 53);
    assert_int_equal(p->payload_len, payload);
}

static void check_tcp6(const fa_packet *p, uint32_t payload)
{
    assert_int_equal(p->ipver, 6);
    assert_int_equal(p->proto, FA_PROTO_TCP);
    assert_int_equal(p->ttl, 64);
    assert_int_equal(p->ip_id, 0);
    assert_addr(&p->src, C6);
    assert_addr(&p->dst, S6);
    assert_true(p->has_ports);
    assert_int_equal(p->sport, 40000);
    assert_int_equal(p->dport, 443);
    assert_int_equal(p->tcp_flags, TH_ACK);
    assert_int_equal(p->window, 4096);
    assert_int_equal(p->payload_len, payload);
}

static void check_udp6(const fa_packet *p, uint32_t payload)
{
    assert_int_equal(p->ipver, 6);
    assert_int_equal(p->proto, FA_PROTO_UDP);
    assert_addr(&p->src, C6);
    assert_addr(&p->dst, S6);
    assert_true(p->has_ports);
    assert_int_equal(p->sport, 40001);
    assert_int_equal(p->dport, 53);
    assert_int_equal(p->payload_len, payload);
}

/* ---- result table and link types ------------------------------------- */

static void test_result_names(void **state)
{
    (void)state;
    assert_string_equal(fa_decode_result_name(FA_DEC_OK), "ok");
    assert_string_equal(fa_decode_result_name(FA_DEC_TRUNC_TCP), "truncated_tcp");
    assert_string_equal(fa_decode_result_name(FA_DEC_BAD_ICMP_QUOTE), "bad_icmp_quote");
    assert_string_equal(fa_decode_result_name(FA_DEC_BAD_GENEVE_LEN), "bad_geneve_length");
    assert_string_equal(fa_decode_result_name(FA_DEC_COUNT), "unknown");
    assert_int_equal(fa_decode_result_class(FA_DEC_TRUNC_VXLAN), 1);
    assert_int_equal(fa_decode_result_class(FA_DEC_ENCAP_TOO_DEEP), 2);
    assert_string_equal(fa_encap_name(FA_ENCAP_MPLS), "mpls");
    assert_string_equal(fa_encap_name(FA_ENCAP_GENEVE), "geneve");
    assert_string_equal(fa_encap_name(FA_ENCAP_KINDS), "unknown");
    assert_int_equal(fa_decode_result_class(FA_DEC_OK), 0);
    assert_int_equal(fa_decode_result_class(FA_DEC_NOT_IP), 0);
    assert_int_equal(fa_decode_result_class(FA_DEC_TRUNC_IPV6_EXT), 1);
    assert_int_equal(fa_decode_result_class(FA_DEC_BAD_FRAGMENT), 2);
    assert_int_equal(fa_decode_result_class(FA_DEC_COUNT), 2);
}

static void test_linktypes_supported(void **state)
{
    (void)state;
    const int yes[] = {DLT_EN10MB, DLT_NULL, DLT_RAW, DLT_LOOP, DLT_LINUX_SLL,
                       DLT_LINUX_SLL2, DLT_IPV4, DLT_IPV6};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_true(fa_decode_linktype_supported(yes[i]));
    assert_false(fa_decode_linktype_supported(DLT_PPP));
    assert_false(fa_decode_linktype_supported(DLT_IEEE802_11));
    assert_false(fa_decode_linktype_supported(-1));
}

static void test_unsupported_linktype(void **state)
{
    (void)state;
    struct buf b;
    buf_reset(&b);
    put_tcp4(&b, 0);
    expect(DLT_IEEE802_11, &b, FA_DEC_BAD_LINK);
    expect(DLT_PPP, &b, FA_DEC_BAD_LINK);
}

static void test_ethernet_tcp4(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    uint8_t *copy;
    buf_reset(&b);
    pb_ether(&b, ET_IPV4);
    put_tcp4(&b, 10);
    assert_int_equal(decode_cut(DLT_EN10MB, &b, b.len, &pkt, &copy), FA_DEC_OK);
    check_tcp4(&pkt, 10);
    assert_int_equal(pkt.caplen, 64);
    assert_int_equal(pkt.wirelen, 64);
    assert_ptr_equal(pkt.payload, copy + 54);
    assert_memory_equal(pkt.payload, "xxxxxxxxxx", 10);
    free(copy);
}

static void test_ethernet_not_ip(void **state)
{
    (void)state;
    struct buf b;
    buf_reset(&b);
    pb_ether(&b, ET_ARP);
    put_fill(&b, 0, 28);
    expect(DLT_EN10MB, &b, FA_DEC_NOT_IP);
    /* 802.3 length field with LLC behind */
    buf_reset(&b);
    pb_ether(&b, 46);
    put_fill(&b, 0x42, 46);
    expect(DLT_EN10MB, &b, FA_DEC_NOT_IP);
}

static void test_vlan_8021q(void **state)
{
    (void)state;
    const uint16_t tag[] = {ET_VLAN};
    struct buf b;
    fa_packet pkt;
    uint8_t *copy;
    buf_reset(&b);
    pb_ether_tagged(&b, tag, 1, ET_IPV4);
    put_tcp4(&b, 3);
    assert_int_equal(decode_cut(DLT_EN10MB, &b, b.len, &pkt, &copy), FA_DEC_OK);
    check_tcp4(&pkt, 3);
    assert_ptr_equal(pkt.payload, copy + 58);
    free(copy);
}

static void test_vlan_qinq(void **state)
{
    (void)state;
    const uint16_t ad[] = {ET_QINQ, ET_VLAN};
    const uint16_t old[] = {ET_QINQ_OLD, ET_VLAN};
    struct buf b;
    fa_packet pkt;
    uint8_t *copy;
    buf_reset(&b);
    pb_ether_tagged(&b, ad, 2, ET_IPV6);
    put_udp6(&b, 7);
    assert_int_equal(decode_cut(DLT_EN10MB, &b, b.len, &pkt, &copy), FA_DEC_OK);
    check_udp6(&pkt, 7);
    assert_ptr_equal(pkt.payload, copy + 14 + 8 + 40 + 8);
    free(copy);

    buf_reset(&b);
    pb_ether_tagged(&b, old, 2, ET_IPV4);
    put_tcp4(&b, 0);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    check_tcp4(&pkt, 0);
}

static void test_vlan_too_deep(void **state)
{
    (void)state;
    uint16_t tags[FA_VLAN_MAX + 1];
    for (int i = 0; i <= FA_VLAN_MAX; i++)
        tags[i] = i == 0 ? ET_QINQ : ET_VLAN;
    struct buf b;
    fa_packet pkt;
    buf_reset(&b);
    pb_ether_tagged(&b, tags, FA_VLAN_MAX, ET_IPV4);
    put_tcp4(&b, 0);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    check_tcp4(&pkt, 0);

    buf_reset(&b);
    pb_ether_tagged(&b, tags, FA_VLAN_MAX + 1, ET_IPV4);
    put_tcp4(&b, 0);
    expect(DLT_EN10MB, &b, FA_DEC_VLAN_TOO_DEEP);
    assert_int_equal(fa_decode_result_class(FA_DEC_VLAN_TOO_DEEP), 2);
}

static void test_linux_sll(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    uint8_t *copy;
    buf_reset(&b);
    pb_sll(&b, ET_IPV4);
    put_tcp4(&b, 4);
    assert_int_equal(decode_cut(DLT_LINUX_SLL, &b, b.len, &pkt, &copy), FA_DEC_OK);
    check_tcp4(&pkt, 4);
    assert_ptr_equal(pkt.payload, copy + 16 + 40);
    free(copy);

    buf_reset(&b);
    pb_sll(&b, ET_IPV6);
    put_tcp6(&b, 0);
    assert_int_equal(decode(DLT_LINUX_SLL, &b, &pkt), FA_DEC_OK);
    check_tcp6(&pkt, 0);

    buf_reset(&b);
    pb_sll(&b, ET_ARP);
    put_fill(&b, 0, 28);
    expect(DLT_LINUX_SLL, &b, FA_DEC_NOT_IP);

    buf_reset(&b);
    put_fill(&b, 0, 15);
    expect(DLT_LINUX_SLL, &b, FA_DEC_TRUNC_LINK);
}

static void test_linux_sll2(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    uint8_t *copy;
    buf_reset(&b);
    pb_sll2(&b, ET_IPV6);
    put_udp6(&b, 12);
    assert_int_equal(decode_cut(DLT_LINUX_SLL2, &b, b.len, &pkt, &copy), FA_DEC_OK);
    check_udp6(&pkt, 12);
    assert_ptr_equal(pkt.payload, copy + 20 + 48);
    free(copy);

    buf_reset(&b);
    pb_sll2(&b, ET_IPV4);
    put_tcp4(&b, 0);
    assert_int_equal(decode(DLT_LINUX_SLL2, &b, &pkt), FA_DEC_OK);
    check_tcp4(&pkt, 0);

    buf_reset(&b);
    put_fill(&b, 0, 19);
    expect(DLT_LINUX_SLL2, &b, FA_DEC_TRUNC_LINK);
}

/* DLT_NULL in either byte order, DLT_LOOP in network order only. */
static void null_frame(struct buf *b, uint32_t af, int little_endian)
{
    buf_reset(b);
    if (little_endian)
        put_le32(b, af);
    else
        put_be32(b, af);
    if (af == 2)
        put_tcp4(b, 0);
    else
        put_tcp6(b, 0);
}

static void test_null_and_loop(void **state)
{
    (void)state;
    const uint32_t afs[] = {2, 24, 28, 30};
    struct buf b;
    fa_packet pkt;
    for (size_t i = 0; i < sizeof afs / sizeof afs[0]; i++) {
        for (int le = 0; le < 2; le++) {
            null_frame(&b, afs[i], le);
            assert_int_equal(decode(DLT_NULL, &b, &pkt), FA_DEC_OK);
            if (afs[i] == 2)
                check_tcp4(&pkt, 0);
            else
                check_tcp6(&pkt, 0);
            /* DLT_LOOP is always network order */
            fa_decode_result r = decode(DLT_LOOP, &b, &pkt);
            assert_int_equal(r, le ? FA_DEC_NOT_IP : FA_DEC_OK);
        }
    }
    null_frame(&b, 7, 1);
    expect(DLT_NULL, &b, FA_DEC_NOT_IP);
    buf_reset(&b);
    put_fill(&b, 0, 3);
    expect(DLT_NULL, &b, FA_DEC_TRUNC_LINK);
    expect(DLT_LOOP, &b, FA_DEC_TRUNC_LINK);
}

static void test_raw_ip(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    uint8_t *copy;
    const int v4_dlts[] = {DLT_RAW, DLT_IPV4};
    const int v6_dlts[] = {DLT_RAW, DLT_IPV6};
    for (int i = 0; i < 2; i++) {
        buf_reset(&b);
        put_tcp4(&b, 5);
        assert_int_equal(decode_cut(v4_dlts[i], &b, b.len, &pkt, &copy), FA_DEC_OK);
        check_tcp4(&pkt, 5);
        assert_ptr_equal(pkt.payload, copy + 40);
        free(copy);

        buf_reset(&b);
        put_tcp6(&b, 5);
        assert_int_equal(decode_cut(v6_dlts[i], &b, b.len, &pkt, &copy), FA_DEC_OK);
        check_tcp6(&pkt, 5);
        assert_ptr_equal(pkt.payload, copy + 60);
        free(copy);
    }
    buf_reset(&b);
    put_tcp4(&b, 0);
    b.d[0] = 0x55;
    expect(DLT_RAW, &b, FA_DEC_BAD_IP_VERSION);
}

/* ---- IPv4 options, IPv6 extension headers ----------------------------- */

static void test_ipv4_options(void **state)
{
    (void)state;
    for (unsigned ihl = 6; ihl <= 15; ihl++) {
        struct buf b;
        fa_packet pkt;
        uint8_t *copy;
        buf_reset(&b);
        pb_ether(&b, ET_IPV4);
        size_t ip = pb_ipv4(&b, C4, S4, 6, 64, 0x1234, 0x4000, (ihl - 5) * 4);
        pb_tcp(&b, 40000, 443, 1000, 2000, TH_PSH | TH_ACK, 8192);
        put_fill(&b, 'x', 6);
        pb_ipv4_done(&b, ip);
        assert_int_equal(decode_cut(DLT_EN10MB, &b, b.len, &pkt, &copy), FA_DEC_OK);
        assert_int_equal(pkt.ip_len, ihl * 4 + 26);
        assert_int_equal(pkt.sport, 40000);
        assert_int_equal(pkt.dport, 443);
        assert_int_equal(pkt.seq, 1000);
        assert_int_equal(pkt.payload_len, 6);
        assert_ptr_equal(pkt.payload, copy + 14 + ihl * 4 + 20);
        free(copy);
    }
}

/* hop-by-hop -> routing -> destination options -> upper layer */
static void ext_chain_frame(struct buf *b, uint8_t upper, size_t n)
{
    buf_reset(b);
    pb_ether(b, ET_IPV6);
    size_t ip = pb_ipv6(b, C6, S6, EXT_HOP, 64);
    pb_ext6(b, EXT_ROUTING, 0);
    pb_ext6(b, EXT_DST, 1);
    pb_ext6(b, upper, 0);
    if (upper == FA_PROTO_TCP) {
        pb_tcp(b, 40000, 443, 1000, 2000, TH_ACK, 4096);
        put_fill(b, 'x', n);
    } else {
        size_t u = pb_udp(b, 40001, 53);
        put_fill(b, 'u', n);
        pb_udp_done(b, u);
    }
    pb_ipv6_done(b, ip);
}

static void test_ipv6_ext_chain(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    uint8_t *copy;
    ext_chain_frame(&b, FA_PROTO_TCP, 9);
    assert_int_equal(decode_cut(DLT_EN10MB, &b, b.len, &pkt, &copy), FA_DEC_OK);
    check_tcp6(&pkt, 9);
    assert_int_equal(pkt.ip_len, 40 + 32 + 20 + 9);
    assert_ptr_equal(pkt.payload, copy + 14 + 40 + 32 + 20);
    free(copy);

    ext_chain_frame(&b, FA_PROTO_UDP, 3);
    assert_int_equal(decode_cut(DLT_EN10MB, &b, b.len, &pkt, &copy), FA_DEC_OK);
    check_udp6(&pkt, 3);
    assert_ptr_equal(pkt.payload, copy + 14 + 40 + 32 + 8);
    free(copy);
}

static void test_ipv6_ah(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    uint8_t *copy;
    buf_reset(&b);
    size_t ip = pb_ipv6(&b, C6, S6, EXT_AH, 64);
    /* AH: its length counts 4-octet units minus 2 (RFC 4302): 1 -> 12 bytes */
    put_u8(&b, FA_PROTO_UDP);
    put_u8(&b, 1);
    put_be16(&b, 0);
    put_be32(&b, 0x100);
    put_be32(&b, 1);
    size_t u = pb_udp(&b, 40001, 53);
    put_fill(&b, 'u', 4);
    pb_udp_done(&b, u);
    pb_ipv6_done(&b, ip);
    assert_int_equal(decode_cut(DLT_RAW, &b, b.len, &pkt, &copy), FA_DEC_OK);
    check_udp6(&pkt, 4);
    assert_ptr_equal(pkt.payload, copy + 40 + 12 + 8);
    free(copy);
}

static void dst_opts_chain(struct buf *b, int count)
{
    buf_reset(b);
    size_t ip = pb_ipv6(b, C6, S6, EXT_DST, 64);
    for (int i = 0; i < count; i++)
        pb_ext6(b, i + 1 < count ? EXT_DST : FA_PROTO_TCP, 0);
    pb_tcp(b, 40000, 443, 1000, 2000, TH_ACK, 4096);
    pb_ipv6_done(b, ip);
}

static void test_ipv6_ext_too_long(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    dst_opts_chain(&b, FA_IPV6_EXT_MAX);
    assert_int_equal(decode(DLT_RAW, &b, &pkt), FA_DEC_OK);
    check_tcp6(&pkt, 0);
    dst_opts_chain(&b, FA_IPV6_EXT_MAX + 1);
    expect(DLT_RAW, &b, FA_DEC_IPV6_EXT_TOO_LONG);
}

static void test_ipv6_ext_past_claimed(void **state)
{
    (void)state;
    struct buf b;
    /* a 24-byte hop-by-hop header in a payload that claims 16 bytes */
    buf_reset(&b);
    pb_ipv6(&b, C6, S6, EXT_HOP, 64);
    pb_ext6(&b, FA_PROTO_TCP, 2);
    pb_tcp(&b, 40000, 443, 1, 0, TH_SYN, 1024);
    set_be16(&b, 4, 16);
    expect(DLT_RAW, &b, FA_DEC_BAD_IPV6_EXT);
    /* the second header would start 1 byte before the claimed end */
    buf_reset(&b);
    pb_ipv6(&b, C6, S6, EXT_HOP, 64);
    pb_ext6(&b, EXT_DST, 0);
    pb_ext6(&b, FA_PROTO_TCP, 0);
    pb_tcp(&b, 40000, 443, 1, 0, TH_SYN, 1024);
    set_be16(&b, 4, 9);
    expect(DLT_RAW, &b, FA_DEC_BAD_IPV6_EXT);
}

static void test_ipv6_ext_past_captured(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    uint8_t *copy;
    buf_reset(&b);
    size_t ip = pb_ipv6(&b, C6, S6, EXT_HOP, 64);
    pb_ext6(&b, FA_PROTO_TCP, 4);
    pb_tcp(&b, 40000, 443, 1, 0, TH_SYN, 1024);
    pb_ipv6_done(&b, ip);
    assert_int_equal(decode(DLT_RAW, &b, &pkt), FA_DEC_OK);
    const size_t cuts[] = {41, 42, 60, 79};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        assert_int_equal(decode_cut(DLT_RAW, &b, cuts[i], &pkt, &copy), FA_DEC_TRUNC_IPV6_EXT);
        free(copy);
    }
    assert_int_equal(decode_cut(DLT_RAW, &b, 80, &pkt, &copy), FA_DEC_TRUNC_TCP);
    free(copy);
}

/* ---- fragments -------------------------------------------------------- */

static void frag4(struct buf *b, uint8_t proto, uint16_t frag, size_t l4_bytes, int with_udp_header)
{
    buf_reset(b);
    pb_ether(b, ET_IPV4);
    size_t ip = pb_ipv4(b, C4, S4, proto, 64, 0x4242, frag, 0);
    if (with_udp_header) {
        pb_udp(b, 40001, 53);
        set_be16(b, b->len - 4, 1008); /* the whole datagram's length */
        put_fill(b, 'u', l4_bytes - 8);
    } else {
        put_fill(b, 'f', l4_bytes);
    }
    pb_ipv4_done(b, ip);
}

static void test_ipv4_fragments(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    frag4(&b, FA_PROTO_UDP, 0x2000, 208, 1);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    assert_true(pkt.fragment);
    assert_true(pkt.first_fragment);
    assert_int_equal(pkt.frag_id, 0x4242);
    check_udp4(&pkt, 200);

    frag4(&b, FA_PROTO_UDP, 26, 800, 0);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    assert_true(pkt.fragment);
    assert_false(pkt.first_fragment);
    assert_false(pkt.has_ports);
    assert_int_equal(pkt.frag_id, 0x4242);
    assert_int_equal(pkt.proto, FA_PROTO_UDP);
    assert_int_equal(pkt.ip_len, 820);

    /* RFC 1858: an offset of one unit can only rewrite the TCP header */
    frag4(&b, FA_PROTO_TCP, 0x2000 | 1, 64, 0);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_FRAGMENT);
    frag4(&b, FA_PROTO_UDP, 0x2000 | 1, 64, 0);
    expect(DLT_EN10MB, &b, FA_DEC_OK);
    frag4(&b, FA_PROTO_TCP, 2, 64, 0);
    expect(DLT_EN10MB, &b, FA_DEC_OK);
}

/* A first fragment too short for its transport header is an evasion
 * (RFC 1858, RFC 7112), not a capture cut by the snaplen. */
static void test_tiny_first_fragment(void **state)
{
    (void)state;
    struct buf b;
    frag4(&b, FA_PROTO_TCP, 0x2000, 8, 0);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_FRAGMENT);

    buf_reset(&b);
    size_t ip = pb_ipv6(&b, C6, S6, EXT_FRAG, 64);
    pb_frag6(&b, FA_PROTO_TCP, 0, 1, 7);
    put_fill(&b, 'f', 8);
    pb_ipv6_done(&b, ip);
    expect(DLT_RAW, &b, FA_DEC_BAD_FRAGMENT);
}

static void frag6(struct buf *b, uint8_t proto, uint16_t off8, int more, size_t l4_bytes, int with_udp_header)
{
    buf_reset(b);
    pb_ether(b, ET_IPV6);
    size_t ip = pb_ipv6(b, C6, S6, EXT_HOP, 64);
    pb_ext6(b, EXT_FRAG, 0);
    pb_frag6(b, proto, off8, more, 0xdeadbeef);
    if (with_udp_header) {
        pb_udp(b, 40001, 53);
        set_be16(b, b->len - 4, 1008);
        put_fill(b, 'u', l4_bytes - 8);
    } else {
        put_fill(b, 'f', l4_bytes);
    }
    pb_ipv6_done(b, ip);
}

static void test_ipv6_fragments(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    frag6(&b, FA_PROTO_UDP, 0, 1, 208, 1);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    assert_true(pkt.fragment);
    assert_true(pkt.first_fragment);
    assert_int_equal(pkt.frag_id, 0xdeadbeef);
    check_udp6(&pkt, 200);

    frag6(&b, FA_PROTO_UDP, 26, 0, 800, 0);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    assert_true(pkt.fragment);
    assert_false(pkt.first_fragment);
    assert_false(pkt.has_ports);
    assert_int_equal(pkt.proto, FA_PROTO_UDP);
    assert_int_equal(pkt.frag_id, 0xdeadbeef);

    /* an atomic fragment (offset 0, no more) is a whole datagram */
    frag6(&b, FA_PROTO_UDP, 0, 0, 20, 1);
    set_be16(&b, 14 + 40 + 8 + 8 + 4, 20);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    assert_false(pkt.fragment);
    check_udp6(&pkt, 12);

    frag6(&b, FA_PROTO_TCP, 1, 1, 64, 0);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_FRAGMENT);
    frag6(&b, FA_PROTO_UDP, 1, 1, 64, 0);
    expect(DLT_EN10MB, &b, FA_DEC_OK);
}

/* ---- ICMP ------------------------------------------------------------- */

/* The datagram an ICMP error refers to. */
static void orig_udp4(struct buf *q)
{
    buf_reset(q);
    size_t ip = pb_ipv4(q, C4, S4, FA_PROTO_UDP, 63, 7, 0, 0);
    size_t u = pb_udp(q, 40000, 9999);
    put_fill(q, 'q', 32);
    pb_udp_done(q, u);
    pb_ipv4_done(q, ip);
}

static void orig_tcp4(struct buf *q)
{
    buf_reset(q);
    size_t ip = pb_ipv4(q, C4, S4, FA_PROTO_TCP, 63, 8, 0x4000, 0);
    pb_tcp(q, 40002, 3389, 77, 0, TH_SYN, 64240);
    pb_ipv4_done(q, ip);
}

static void orig_tcp6(struct buf *q, int with_dstopts)
{
    buf_reset(q);
    size_t ip = pb_ipv6(q, C6, S6, with_dstopts ? EXT_DST : FA_PROTO_TCP, 63);
    if (with_dstopts)
        pb_ext6(q, FA_PROTO_TCP, 0);
    pb_tcp(q, 40003, 8443, 77, 0, TH_SYN, 64240);
    pb_ipv6_done(q, ip);
}

/* Ethernet/IPv4 ICMP message from src to dst quoting quote_len bytes of q. */
static void icmp4_frame(struct buf *b, const char *src, const char *dst, uint8_t type, uint8_t code,
                        const struct buf *q, size_t quote_len)
{
    buf_reset(b);
    pb_ether(b, ET_IPV4);
    size_t ip = pb_ipv4(b, src, dst, FA_PROTO_ICMP, 250, 99, 0, 0);
    pb_icmp(b, type, code, 0);
    put_bytes(b, q->d, quote_len);
    pb_ipv4_done(b, ip);
}

static void icmp6_frame(struct buf *b, const char *src, const char *dst, uint8_t type, uint8_t code,
                        const struct buf *q, size_t quote_len)
{
    buf_reset(b);
    pb_ether(b, ET_IPV6);
    size_t ip = pb_ipv6(b, src, dst, FA_PROTO_ICMP6, 250);
    pb_icmp(b, type, code, 0);
    put_bytes(b, q->d, quote_len);
    pb_ipv6_done(b, ip);
}

static void test_icmp_port_unreachable_udp(void **state)
{
    (void)state;
    struct buf b, q;
    fa_packet pkt;
    orig_udp4(&q);
    icmp4_frame(&b, S4, C4, 3, 3, &q, q.len);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    assert_int_equal(pkt.proto, FA_PROTO_ICMP);
    assert_true(pkt.icmp_error);
    assert_int_equal(pkt.icmp_type, 3);
    assert_int_equal(pkt.icmp_code, 3);
    assert_true(pkt.has_ports);
    assert_int_equal(pkt.sport, 3);
    assert_int_equal(pkt.dport, 3);
    assert_addr(&pkt.src, S4);
    assert_addr(&pkt.dst, C4);
    assert_addr(&pkt.quote.src, C4);
    assert_addr(&pkt.quote.dst, S4);
    assert_int_equal(pkt.quote.proto, FA_PROTO_UDP);
    assert_true(pkt.quote.has_ports);
    assert_int_equal(pkt.quote.sport, 40000);
    assert_int_equal(pkt.quote.dport, 9999);
}

static void test_icmp_admin_prohibited_tcp(void **state)
{
    (void)state;
    struct buf b, q;
    fa_packet pkt;
    orig_tcp4(&q);
    icmp4_frame(&b, R4, C4, 3, 13, &q, 28);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    assert_true(pkt.icmp_error);
    assert_int_equal(pkt.sport, 3);
    assert_int_equal(pkt.dport, 13);
    assert_addr(&pkt.src, R4);
    assert_addr(&pkt.quote.src, C4);
    assert_addr(&pkt.quote.dst, S4);
    assert_int_equal(pkt.quote.proto, FA_PROTO_TCP);
    assert_true(pkt.quote.has_ports);
    assert_int_equal(pkt.quote.sport, 40002);
    assert_int_equal(pkt.quote.dport, 3389);
}

static void test_icmp_time_exceeded(void **state)
{
    (void)state;
    struct buf b, q;
    fa_packet pkt;
    orig_udp4(&q);
    icmp4_frame(&b, R4, C4, 11, 0, &q, 28);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    assert_true(pkt.icmp_error);
    assert_int_equal(pkt.icmp_type, 11);
    assert_int_equal(pkt.sport, 11);
    assert_int_equal(pkt.dport, 0);
    assert_int_equal(pkt.quote.proto, FA_PROTO_UDP);
    assert_int_equal(pkt.quote.sport, 40000);
    assert_int_equal(pkt.quote.dport, 9999);
    assert_int_equal(pkt.payload_len, 28);
}

static void test_icmp6_unreachable_tcp(void **state)
{
    (void)state;
    for (int ext = 0; ext < 2; ext++) {
        struct buf b, q;
        fa_packet pkt;
        orig_tcp6(&q, ext);
        icmp6_frame(&b, R6, C6, 1, 1, &q, q.len);
        assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
        assert_int_equal(pkt.proto, FA_PROTO_ICMP6);
        assert_true(pkt.icmp_error);
        assert_int_equal(pkt.icmp_type, 1);
        assert_int_equal(pkt.icmp_code, 1);
        assert_int_equal(pkt.sport, 1);
        assert_int_equal(pkt.dport, 1);
        assert_addr(&pkt.quote.src, C6);
        assert_addr(&pkt.quote.dst, S6);
        assert_int_equal(pkt.quote.proto, FA_PROTO_TCP);
        assert_true(pkt.quote.has_ports);
        assert_int_equal(pkt.quote.sport, 40003);
        assert_int_equal(pkt.quote.dport, 8443);
    }
}

/* An unreachable answering a ping is charged to the ping's flow, so the
 * quoted ICMP gets Zeek's type/counterpart ports. */
static void test_icmp_quoting_icmp(void **state)
{
    (void)state;
    struct buf b, q;
    fa_packet pkt;
    buf_reset(&q);
    size_t ip = pb_ipv4(&q, C4, S4, FA_PROTO_ICMP, 63, 5, 0, 0);
    pb_icmp(&q, 8, 0, 0x00010001);
    put_fill(&q, 'p', 56);
    pb_ipv4_done(&q, ip);
    icmp4_frame(&b, R4, C4, 3, 10, &q, 28);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    assert_int_equal(pkt.quote.proto, FA_PROTO_ICMP);
    assert_true(pkt.quote.has_ports);
    assert_int_equal(pkt.quote.sport, 8);
    assert_int_equal(pkt.quote.dport, 0);

    buf_reset(&q);
    ip = pb_ipv6(&q, C6, S6, FA_PROTO_ICMP6, 63);
    pb_icmp(&q, 128, 0, 0x00010001);
    pb_ipv6_done(&q, ip);
    icmp6_frame(&b, R6, C6, 1, 1, &q, q.len);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    assert_int_equal(pkt.quote.proto, FA_PROTO_ICMP6);
    assert_true(pkt.quote.has_ports);
    assert_int_equal(pkt.quote.sport, 128);
    assert_int_equal(pkt.quote.dport, 129);
}

static void icmp_keyed(int v6, uint8_t type, uint8_t code, uint16_t sport, uint16_t dport)
{
    struct buf b;
    fa_packet pkt;
    buf_reset(&b);
    size_t ip = v6 ? pb_ipv6(&b, C6, S6, FA_PROTO_ICMP6, 64)
                   : pb_ipv4(&b, C4, S4, FA_PROTO_ICMP, 64, 1, 0, 0);
    pb_icmp(&b, type, code, 0x12340001);
    put_fill(&b, 'p', 56);
    if (v6)
        pb_ipv6_done(&b, ip);
    else
        pb_ipv4_done(&b, ip);
    assert_int_equal(decode(DLT_RAW, &b, &pkt), FA_DEC_OK);
    assert_false(pkt.icmp_error);
    assert_true(pkt.has_ports);
    assert_int_equal(pkt.icmp_type, type);
    assert_int_equal(pkt.icmp_code, code);
    if (pkt.sport != sport || pkt.dport != dport)
        fail_msg("ICMP%s type %u code %u keyed %u/%u, expected %u/%u", v6 ? "v6" : "", type, code,
                 pkt.sport, pkt.dport, sport, dport);
    assert_int_equal(pkt.payload_len, 56);
}

/* Zeek's ICMP4_counterpart / ICMP6_counterpart. */
static void test_icmp_echo_keying(void **state)
{
    (void)state;
    icmp_keyed(0, 8, 0, 8, 0);
    icmp_keyed(0, 0, 0, 0, 8);
    icmp_keyed(0, 13, 0, 13, 14);
    icmp_keyed(0, 14, 0, 14, 13);
    icmp_keyed(0, 15, 0, 15, 16);
    icmp_keyed(0, 17, 0, 17, 18);
    icmp_keyed(0, 10, 0, 10, 9);
    icmp_keyed(0, 9, 0, 9, 10);
    icmp_keyed(0, 5, 1, 5, 1);
    icmp_keyed(1, 128, 0, 128, 129);
    icmp_keyed(1, 129, 0, 129, 128);
    icmp_keyed(1, 133, 0, 133, 134);
    icmp_keyed(1, 136, 0, 136, 135);
    icmp_keyed(1, 130, 0, 130, 131);
    icmp_keyed(1, 139, 0, 139, 140);
    icmp_keyed(1, 140, 0, 140, 139);
    icmp_keyed(1, 144, 0, 144, 145);
    icmp_keyed(1, 145, 0, 145, 144);
    icmp_keyed(1, 200, 7, 200, 7);
}

static void test_icmp_quote_garbage(void **state)
{
    (void)state;
    struct buf b, q;
    orig_udp4(&q);
    /* a quote shorter than an IP header, all of it captured */
    icmp4_frame(&b, R4, C4, 3, 1, &q, 10);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_ICMP_QUOTE);
    /* quoted version 6 inside ICMPv4 */
    q.d[0] = 0x65;
    icmp4_frame(&b, R4, C4, 3, 1, &q, 28);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_ICMP_QUOTE);
    /* quoted IHL 3 */
    q.d[0] = 0x43;
    icmp4_frame(&b, R4, C4, 3, 1, &q, 28);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_ICMP_QUOTE);
    /* quoted IHL 15 but only 28 bytes quoted */
    q.d[0] = 0x4f;
    icmp4_frame(&b, R4, C4, 3, 1, &q, 28);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_ICMP_QUOTE);
    /* an ICMPv6 error quoting IPv4 */
    orig_udp4(&q);
    icmp6_frame(&b, R6, C6, 1, 4, &q, q.len);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_ICMP_QUOTE);
    /* an ICMPv6 error quoting 20 bytes */
    orig_tcp6(&q, 0);
    icmp6_frame(&b, R6, C6, 1, 4, &q, 20);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_ICMP_QUOTE);
    assert_int_equal(fa_decode_result_class(FA_DEC_BAD_ICMP_QUOTE), 2);
}

/* A quote that stops after the IP header is short, not broken: the error
 * is kept, without ports. */
static void test_icmp_quote_without_ports(void **state)
{
    (void)state;
    struct buf b, q;
    fa_packet pkt;
    orig_udp4(&q);
    icmp4_frame(&b, R4, C4, 3, 1, &q, 20);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    assert_true(pkt.icmp_error);
    assert_int_equal(pkt.quote.proto, FA_PROTO_UDP);
    assert_false(pkt.quote.has_ports);
}

/* ---- malformed fields ------------------------------------------------- */

static void test_bad_ipv4(void **state)
{
    (void)state;
    struct buf b;
    /* IHL 4 */
    buf_reset(&b);
    put_tcp4(&b, 0);
    b.d[0] = 0x44;
    expect(DLT_RAW, &b, FA_DEC_BAD_IPV4_IHL);
    /* total length 19 < IHL 20 */
    buf_reset(&b);
    put_tcp4(&b, 0);
    set_be16(&b, 2, 19);
    expect(DLT_RAW, &b, FA_DEC_BAD_IPV4_LEN);
    /* total length 22 < IHL 24 */
    buf_reset(&b);
    size_t ip = pb_ipv4(&b, C4, S4, 6, 64, 1, 0, 4);
    pb_tcp(&b, 1, 2, 3, 4, TH_SYN, 5);
    pb_ipv4_done(&b, ip);
    set_be16(&b, 2, 22);
    expect(DLT_RAW, &b, FA_DEC_BAD_IPV4_LEN);
    /* total length larger than the frame on the wire */
    buf_reset(&b);
    pb_ether(&b, ET_IPV4);
    put_tcp4(&b, 10);
    set_be16(&b, 16, 51);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_IPV4_LEN);
    set_be16(&b, 16, 50);
    expect(DLT_EN10MB, &b, FA_DEC_OK);
}

static void test_bad_tcp(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    /* data offset 4 */
    buf_reset(&b);
    put_tcp4(&b, 8);
    b.d[32] = 0x40;
    expect(DLT_RAW, &b, FA_DEC_BAD_TCP_DOFF);
    /* data offset 15 (60 bytes) in a 28-byte segment */
    b.d[32] = 0xf0;
    expect(DLT_RAW, &b, FA_DEC_BAD_TCP_DOFF);
    /* data offset 7 exactly fills the segment: valid, no payload */
    b.d[32] = 0x70;
    assert_int_equal(decode(DLT_RAW, &b, &pkt), FA_DEC_OK);
    assert_int_equal(pkt.payload_len, 0);
    /* an IP datagram that claims only 10 bytes of TCP */
    buf_reset(&b);
    put_tcp4(&b, 0);
    set_be16(&b, 2, 30);
    expect(DLT_RAW, &b, FA_DEC_BAD_TCP_DOFF);
}

static void test_bad_udp(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    /* UDP length 7 */
    buf_reset(&b);
    put_udp4(&b, 10);
    set_be16(&b, 24, 7);
    expect(DLT_RAW, &b, FA_DEC_BAD_UDP_LEN);
    /* UDP length longer than the IP payload */
    set_be16(&b, 24, 19);
    expect(DLT_RAW, &b, FA_DEC_BAD_UDP_LEN);
    /* UDP length shorter than the IP payload: trailing bytes are not data */
    set_be16(&b, 24, 12);
    assert_int_equal(decode(DLT_RAW, &b, &pkt), FA_DEC_OK);
    assert_int_equal(pkt.payload_len, 4);
    assert_int_equal(pkt.payload_caplen, 4);
    /* an IP datagram with 6 bytes of UDP */
    buf_reset(&b);
    put_udp4(&b, 0);
    set_be16(&b, 2, 26);
    expect(DLT_RAW, &b, FA_DEC_BAD_UDP_LEN);
}

static void test_bad_ipv6_len(void **state)
{
    (void)state;
    struct buf b;
    buf_reset(&b);
    pb_ether(&b, ET_IPV6);
    put_tcp6(&b, 10);
    set_be16(&b, 18, 31);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_IPV6_LEN);
    set_be16(&b, 18, 0);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_IPV6_LEN);
    set_be16(&b, 18, 30);
    expect(DLT_EN10MB, &b, FA_DEC_OK);
}

static void test_short_frames(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    buf_reset(&b);
    pb_ether(&b, ET_IPV4);
    put_tcp4(&b, 0);
    uint8_t *copy;
    assert_int_equal(decode_cut(DLT_EN10MB, &b, 13, &pkt, &copy), FA_DEC_TRUNC_LINK);
    free(copy);
    buf_reset(&b);
    const int dlts[] = {DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP,
                        DLT_RAW, DLT_IPV4, DLT_IPV6};
    for (size_t i = 0; i < sizeof dlts / sizeof dlts[0]; i++) {
        fa_decode_result r = decode(dlts[i], &b, &pkt);
        if (fa_decode_result_class(r) != 1)
            fail_msg("empty frame of link type %d: %s", dlts[i], fa_decode_result_name(r));
        assert_int_equal(pkt.caplen, 0);
    }
    /* a wire length below the captured length is taken as the captured */
    buf_reset(&b);
    put_tcp4(&b, 0);
    assert_int_equal(fa_decode(DLT_RAW, b.d, (uint32_t)b.len, 10, &pkt), FA_DEC_OK);
    assert_int_equal(pkt.wirelen, b.len);
}

/* ---- truncation at every offset --------------------------------------- */

/* Every cut before hdr_end must be reported as truncated (never OK, never
 * malformed); every later cut decodes, with payload_caplen the bytes kept
 * after payload_off and payload_len the full claim. */
static void every_cut(int dlt, const struct buf *b, size_t hdr_end, size_t payload_off, uint32_t payload_len)
{
    for (size_t cut = 0; cut < b->len; cut++) {
        fa_packet pkt;
        uint8_t *copy;
        fa_decode_result r = decode_cut(dlt, b, cut, &pkt, &copy);
        bool truncated = fa_decode_result_class(r) == 1;
        bool payload_ok = r == FA_DEC_OK && pkt.payload == copy + payload_off &&
                          pkt.payload_caplen == cut - payload_off && pkt.payload_len == payload_len;
        free(copy);
        if (cut < hdr_end && !truncated)
            fail_msg("cut at %zu of %zu: %s, expected a truncation", cut, b->len, fa_decode_result_name(r));
        if (cut >= hdr_end && !payload_ok)
            fail_msg("cut at %zu of %zu: %s, payload %u of %u bytes", cut, b->len, fa_decode_result_name(r),
                     pkt.payload_caplen, pkt.payload_len);
    }
}

static void test_truncation_tcp4(void **state)
{
    (void)state;
    struct buf b;
    buf_reset(&b);
    pb_ether(&b, ET_IPV4);
    size_t ip = pb_ipv4(&b, C4, S4, 6, 64, 1, 0x4000, 8);
    pb_tcp_doff(&b, 40000, 443, 1, 2, TH_ACK, 100, 8);
    put_fill(&b, 'x', 20);
    pb_ipv4_done(&b, ip);
    every_cut(DLT_EN10MB, &b, 14 + 28 + 32, 14 + 28 + 32, 20);
}

static void test_truncation_ipv6_ext(void **state)
{
    (void)state;
    const uint16_t tags[] = {ET_QINQ, ET_VLAN};
    struct buf b;
    buf_reset(&b);
    pb_ether_tagged(&b, tags, 2, ET_IPV6);
    size_t ip = pb_ipv6(&b, C6, S6, EXT_HOP, 64);
    pb_ext6(&b, EXT_ROUTING, 1);
    pb_ext6(&b, EXT_FRAG, 0);
    pb_frag6(&b, EXT_DST, 0, 1, 99);
    pb_ext6(&b, FA_PROTO_TCP, 2);
    pb_tcp(&b, 40000, 443, 1, 2, TH_ACK, 100);
    put_fill(&b, 'x', 16);
    pb_ipv6_done(&b, ip);
    size_t hdr = 22 + 40 + 16 + 8 + 8 + 24 + 20;
    every_cut(DLT_EN10MB, &b, hdr, hdr, 16);
}

static void test_truncation_icmp(void **state)
{
    (void)state;
    struct buf b, q;
    orig_udp4(&q);
    icmp4_frame(&b, R4, C4, 3, 3, &q, 28);
    /* the quoted ports end 4 bytes into the quoted UDP header */
    every_cut(DLT_EN10MB, &b, 14 + 20 + 8 + 20 + 4, 14 + 20 + 8, 28);

    orig_tcp6(&q, 1);
    icmp6_frame(&b, R6, C6, 1, 4, &q, 40 + 8 + 8);
    every_cut(DLT_EN10MB, &b, 14 + 40 + 8 + 40 + 8 + 4, 14 + 40 + 8, 56);
}

static void test_truncation_sll2_udp(void **state)
{
    (void)state;
    struct buf b;
    buf_reset(&b);
    pb_sll2(&b, ET_IPV4);
    put_udp4(&b, 30);
    every_cut(DLT_LINUX_SLL2, &b, 20 + 28, 20 + 28, 30);
}

/* ---- payload bounds: snaplen cuts and Ethernet padding ----------------- */

static void test_snaplen_payload(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    uint8_t *copy;
    buf_reset(&b);
    pb_ether(&b, ET_IPV4);
    put_tcp4(&b, 1000);
    assert_int_equal(decode_cut(DLT_EN10MB, &b, 54 + 100, &pkt, &copy), FA_DEC_OK);
    assert_int_equal(pkt.caplen, 154);
    assert_int_equal(pkt.wirelen, 1054);
    assert_int_equal(pkt.ip_len, 1040);
    assert_int_equal(pkt.payload_len, 1000);
    assert_int_equal(pkt.payload_caplen, 100);
    assert_ptr_equal(pkt.payload, copy + 54);
    free(copy);

    buf_reset(&b);
    pb_ether(&b, ET_IPV4);
    put_udp4(&b, 1000);
    assert_int_equal(decode_cut(DLT_EN10MB, &b, 42 + 10, &pkt, &copy), FA_DEC_OK);
    assert_int_equal(pkt.payload_len, 1000);
    assert_int_equal(pkt.payload_caplen, 10);
    free(copy);

    /* an echo request cut by the snaplen still claims its whole payload */
    buf_reset(&b);
    pb_ether(&b, ET_IPV4);
    size_t ip = pb_ipv4(&b, C4, S4, FA_PROTO_ICMP, 64, 1, 0, 0);
    pb_icmp(&b, 8, 0, 1);
    put_fill(&b, 'p', 1000);
    pb_ipv4_done(&b, ip);
    assert_int_equal(decode_cut(DLT_EN10MB, &b, 42 + 10, &pkt, &copy), FA_DEC_OK);
    assert_int_equal(pkt.payload_len, 1000);
    assert_int_equal(pkt.payload_caplen, 10);
    free(copy);
}

static void pad_to_60(struct buf *b)
{
    if (b->len < 60)
        put_fill(b, 0, 60 - b->len);
}

static void test_ethernet_padding(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    buf_reset(&b);
    pb_ether(&b, ET_IPV4);
    put_tcp4(&b, 0);
    pad_to_60(&b);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    assert_int_equal(pkt.ip_len, 40);
    assert_int_equal(pkt.payload_len, 0);
    assert_int_equal(pkt.payload_caplen, 0);

    buf_reset(&b);
    pb_ether(&b, ET_IPV4);
    put_udp4(&b, 2);
    pad_to_60(&b);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    assert_int_equal(pkt.payload_len, 2);
    assert_int_equal(pkt.payload_caplen, 2);

    buf_reset(&b);
    pb_ether(&b, ET_IPV4);
    size_t ip = pb_ipv4(&b, C4, S4, FA_PROTO_ICMP, 64, 1, 0, 0);
    pb_icmp(&b, 8, 0, 1);
    put_fill(&b, 'p', 4);
    pb_ipv4_done(&b, ip);
    pad_to_60(&b);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    assert_int_equal(pkt.payload_len, 4);
    assert_int_equal(pkt.payload_caplen, 4);

    buf_reset(&b);
    pb_ether(&b, ET_IPV4);
    ip = pb_ipv4(&b, C4, S4, PROTO_OSPF, 64, 1, 0, 0);
    put_fill(&b, 'o', 4);
    pb_ipv4_done(&b, ip);
    pad_to_60(&b);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    assert_int_equal(pkt.proto, PROTO_OSPF);
    assert_false(pkt.has_ports);
    assert_int_equal(pkt.payload_len, 4);
    assert_int_equal(pkt.payload_caplen, 4);

    buf_reset(&b);
    pb_ether(&b, ET_IPV6);
    put_tcp6(&b, 0);
    put_fill(&b, 0, 6);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    assert_int_equal(pkt.payload_len, 0);
    assert_int_equal(pkt.payload_caplen, 0);
}

static void test_frame_hash(void **state)
{
    (void)state;
    struct buf b;
    fa_packet a, c;
    buf_reset(&b);
    pb_ether(&b, ET_IPV4);
    put_tcp4(&b, 10);
    assert_int_equal(decode(DLT_EN10MB, &b, &a), FA_DEC_OK);
    assert_int_equal(decode(DLT_EN10MB, &b, &c), FA_DEC_OK);
    assert_int_equal(a.frame_hash, c.frame_hash);
    set_be16(&b, 18, 0x1235); /* next IP id, as a retransmission has */
    assert_int_equal(decode(DLT_EN10MB, &b, &c), FA_DEC_OK);
    assert_int_not_equal(a.frame_hash, c.frame_hash);
}

/* ---- encapsulations ---------------------------------------------------- */

#define BIT(e) (1u << (e))

/* Ethernet and an outer IPv4 header T4 -> U4 of protocol proto with the
 * flags/offset word frag; returns the header's offset for pb_ipv4_done. */
static size_t outer4(struct buf *b, uint8_t proto, uint16_t frag)
{
    buf_reset(b);
    pb_ether(b, ET_IPV4);
    return pb_ipv4(b, T4, U4, proto, 255, 7, frag, 0);
}

/* Inner packets a tunnel carries, each with n payload bytes. */
typedef void (*inner_fn)(struct buf *b, size_t n);

static void put_eth_tcp4(struct buf *b, size_t n)
{
    pb_ether(b, ET_IPV4);
    put_tcp4(b, n);
}

static void put_eth_tcp6(struct buf *b, size_t n)
{
    pb_ether(b, ET_IPV6);
    put_tcp6(b, n);
}

static void put_mpls_tcp4(struct buf *b, size_t n)
{
    pb_mpls(b, 16, 1, 64);
    put_tcp4(b, n);
}

static void put_eth_ospf(struct buf *b, size_t n)
{
    pb_ether(b, ET_IPV4);
    size_t ip = pb_ipv4(b, C4, S4, PROTO_OSPF, 64, 1, 0, 0);
    put_fill(b, 'o', n);
    pb_ipv4_done(b, ip);
}

static void mpls_frame(struct buf *b, uint16_t type, int labels, inner_fn inner, size_t n)
{
    buf_reset(b);
    pb_ether(b, type);
    for (int i = 0; i < labels; i++)
        pb_mpls(b, (uint32_t)(16 + i), i == labels - 1, 64);
    inner(b, n);
}

static void gre_frame(struct buf *b, uint16_t flags, uint16_t type, inner_fn inner, size_t n)
{
    size_t ip = outer4(b, FA_PROTO_GRE, 0x4000);
    pb_gre(b, flags, type, 42, 7);
    inner(b, n);
    pb_ipv4_done(b, ip);
}

/* ERSPAN II (type3 false) or III with the given version; word is type
 * III's |P|FT|hw id|D|Gra|O| word, and with O an 8-byte subheader follows. */
static void erspan_frame(struct buf *b, bool type3, uint8_t version, uint16_t word, inner_fn inner,
                         size_t n)
{
    size_t ip = outer4(b, FA_PROTO_GRE, 0x4000);
    pb_gre(b, 0x1000, type3 ? ET_ERSPAN3 : ET_ERSPAN, 0, 7);
    if (type3)
        pb_erspan3(b, version, 2, 12345, word);
    else
        pb_erspan2(b, version, 1, 0);
    if (type3 && (word & 1))
        put_fill(b, 0xee, 8);
    inner(b, n);
    pb_ipv4_done(b, ip);
}

static void vxlan_frame(struct buf *b, uint16_t sport, uint16_t dport, uint8_t flags, inner_fn inner,
                        size_t n)
{
    size_t ip = outer4(b, FA_PROTO_UDP, 0x4000);
    size_t u = pb_udp(b, sport, dport);
    pb_vxlan(b, flags, 100);
    inner(b, n);
    pb_udp_done(b, u);
    pb_ipv4_done(b, ip);
}

/* Geneve with opt_words words of (zero) options. */
static void geneve_frame(struct buf *b, uint8_t version, uint8_t opt_words, uint8_t flags, uint16_t type,
                         inner_fn inner, size_t n)
{
    size_t ip = outer4(b, FA_PROTO_UDP, 0x4000);
    size_t u = pb_udp(b, 51000, 6081);
    pb_geneve(b, version, opt_words, flags, type, 200);
    put_fill(b, 0, (size_t)opt_words * 4);
    inner(b, n);
    pb_udp_done(b, u);
    pb_ipv4_done(b, ip);
}

/* Decodes b whole; on FA_DEC_OK checks that the inner IPv4 TCP packet of
 * n payload bytes was found at payload_off, through the encapsulations
 * encap, depth layers deep. */
static void expect_inner4(const struct buf *b, size_t n, size_t payload_off, unsigned encap, int depth)
{
    fa_packet pkt;
    uint8_t *copy;
    fa_decode_result r = decode_cut(DLT_EN10MB, b, b->len, &pkt, &copy);
    if (r != FA_DEC_OK)
        fail_msg("decoded as %s", fa_decode_result_name(r));
    check_tcp4(&pkt, (uint32_t)n);
    assert_ptr_equal(pkt.payload, copy + payload_off);
    assert_int_equal(pkt.encap, encap);
    assert_int_equal(pkt.encap_depth, depth);
    free(copy);
}

/* The tunnel was not followed: the packet is the outer one, T4 -> U4. */
static void expect_outer(const struct buf *b, uint8_t proto)
{
    fa_packet pkt;
    assert_int_equal(decode(DLT_EN10MB, b, &pkt), FA_DEC_OK);
    assert_int_equal(pkt.proto, proto);
    assert_addr(&pkt.src, T4);
    assert_addr(&pkt.dst, U4);
    assert_int_equal(pkt.encap, 0);
    assert_int_equal(pkt.encap_depth, 0);
    assert_int_equal(pkt.payload_len, b->len - 34 - (proto == FA_PROTO_UDP ? 8 : 0));
}

static void test_mpls(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    mpls_frame(&b, ET_MPLS, 2, put_tcp4, 5);
    expect_inner4(&b, 5, 14 + 8 + 40, BIT(FA_ENCAP_MPLS), 1);
    mpls_frame(&b, ET_MPLS_MC, 1, put_tcp6, 3);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    check_tcp6(&pkt, 3);
    /* the same stack behind a cooked header */
    buf_reset(&b);
    pb_sll(&b, ET_MPLS);
    pb_mpls(&b, 3, 1, 1);
    put_tcp4(&b, 0);
    assert_int_equal(decode(DLT_LINUX_SLL, &b, &pkt), FA_DEC_OK);
    check_tcp4(&pkt, 0);
    /* the cap on labels */
    mpls_frame(&b, ET_MPLS, FA_MPLS_MAX, put_tcp4, 0);
    expect_inner4(&b, 0, 14 + 4 * FA_MPLS_MAX + 40, BIT(FA_ENCAP_MPLS), 1);
    mpls_frame(&b, ET_MPLS, FA_MPLS_MAX + 1, put_tcp4, 0);
    expect(DLT_EN10MB, &b, FA_DEC_MPLS_TOO_DEEP);
    /* a pseudowire control word (first nibble 0) is not IP */
    mpls_frame(&b, ET_MPLS, 1, put_eth_tcp4, 0);
    set_u8(&b, 18, 0x00);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_NOT_IP);
    assert_int_equal(pkt.encap, BIT(FA_ENCAP_MPLS));
}

static void test_mpls_malformed(void **state)
{
    (void)state;
    struct buf b;
    /* the frame ends before the bottom of the stack */
    buf_reset(&b);
    pb_ether(&b, ET_MPLS);
    for (int i = 0; i < 3; i++)
        pb_mpls(&b, 16, 0, 64);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_MPLS);
    /* a bottom of the stack with nothing under it */
    buf_reset(&b);
    pb_ether(&b, ET_MPLS);
    pb_mpls(&b, 16, 1, 64);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_MPLS);
    /* an inner IPv4 header claiming more than the frame carried */
    mpls_frame(&b, ET_MPLS, 1, put_tcp4, 0);
    set_be16(&b, 14 + 4 + 2, 100);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_IPV4_LEN);
}

static void test_gre(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    uint8_t *copy;
    gre_frame(&b, 0, ET_IPV4, put_tcp4, 3);
    expect_inner4(&b, 3, 14 + 20 + 4 + 40, BIT(FA_ENCAP_GRE), 1);
    /* checksum, key and sequence number (RFC 2890) */
    gre_frame(&b, 0xb000, ET_IPV6, put_tcp6, 2);
    assert_int_equal(decode_cut(DLT_EN10MB, &b, b.len, &pkt, &copy), FA_DEC_OK);
    check_tcp6(&pkt, 2);
    assert_ptr_equal(pkt.payload, copy + 14 + 20 + 16 + 60);
    free(copy);
    /* reserved bits 6-12 are ignored on receipt */
    gre_frame(&b, 0x03f8, ET_IPV4, put_tcp4, 0);
    expect_inner4(&b, 0, 14 + 20 + 4 + 40, BIT(FA_ENCAP_GRE), 1);
    gre_frame(&b, 0x2000, ET_MPLS, put_mpls_tcp4, 0);
    expect_inner4(&b, 0, 14 + 20 + 8 + 4 + 40, BIT(FA_ENCAP_GRE) | BIT(FA_ENCAP_MPLS), 2);
    gre_frame(&b, 0, ET_TEB, put_eth_tcp4, 1);
    expect_inner4(&b, 1, 14 + 20 + 4 + 14 + 40, BIT(FA_ENCAP_GRE), 1);
    /* an inner protocol without ports does not keep the outer's facts */
    gre_frame(&b, 0, ET_TEB, put_eth_ospf, 4);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    assert_int_equal(pkt.proto, PROTO_OSPF);
    assert_false(pkt.has_ports);
    assert_int_equal(pkt.payload_len, 4);
}

static void test_gre_not_followed(void **state)
{
    (void)state;
    struct buf b;
    /* version 1 is PPTP (key, sequence, ack), carrying PPP */
    gre_frame(&b, 0x3081, 0x880b, put_tcp4, 0);
    expect_outer(&b, FA_PROTO_GRE);
    gre_frame(&b, 0, 0x880b, put_tcp4, 0);
    expect_outer(&b, FA_PROTO_GRE);
    /* an outer fragment: the tunnel's flow is the outer one */
    size_t ip = outer4(&b, FA_PROTO_GRE, 0x2000);
    pb_gre(&b, 0, ET_IPV4, 0, 0);
    put_tcp4(&b, 0);
    pb_ipv4_done(&b, ip);
    expect_outer(&b, FA_PROTO_GRE);
}

static void test_gre_malformed(void **state)
{
    (void)state;
    static const uint16_t discard[] = {0x4000, 0x0800, 0x0400};
    struct buf b;
    for (size_t i = 0; i < sizeof discard / sizeof discard[0]; i++) {
        gre_frame(&b, discard[i], ET_IPV4, put_tcp4, 0);
        expect(DLT_EN10MB, &b, FA_DEC_BAD_GRE_FLAGS);
    }
    /* shorter than the base header */
    size_t ip = outer4(&b, FA_PROTO_GRE, 0x4000);
    put_be16(&b, 0);
    pb_ipv4_done(&b, ip);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_GRE_LEN);
    /* a key announced and not there */
    ip = outer4(&b, FA_PROTO_GRE, 0x4000);
    put_be16(&b, 0x2000);
    put_be16(&b, ET_IPV4);
    pb_ipv4_done(&b, ip);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_GRE_LEN);
    /* too little left for the inner packet announced */
    ip = outer4(&b, FA_PROTO_GRE, 0x4000);
    pb_gre(&b, 0, ET_IPV4, 0, 0);
    put_fill(&b, 0x45, 10);
    pb_ipv4_done(&b, ip);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_GRE_LEN);
    /* the inner IPv4 header claims more than the outer one carries */
    gre_frame(&b, 0, ET_IPV4, put_tcp4, 0);
    set_be16(&b, 14 + 20 + 4 + 2, 100);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_IPV4_LEN);
}

static void test_erspan(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    const unsigned both = BIT(FA_ENCAP_GRE) | BIT(FA_ENCAP_ERSPAN);
    /* type I: GRE without sequence number, the frame at once */
    gre_frame(&b, 0, ET_ERSPAN, put_eth_tcp4, 1);
    expect_inner4(&b, 1, 14 + 20 + 4 + 14 + 40, both, 1);
    gre_frame(&b, 0x2000, ET_ERSPAN, put_eth_tcp4, 1);
    expect_inner4(&b, 1, 14 + 20 + 8 + 14 + 40, both, 1);
    erspan_frame(&b, false, 1, 0, put_eth_tcp4, 2);
    expect_inner4(&b, 2, 14 + 20 + 8 + 8 + 14 + 40, both, 1);
    erspan_frame(&b, true, 2, 0x0000, put_eth_tcp4, 2);
    expect_inner4(&b, 2, 14 + 20 + 8 + 12 + 14 + 40, both, 1);
    /* O: the platform subheader */
    erspan_frame(&b, true, 2, 0x0001, put_eth_tcp4, 2);
    expect_inner4(&b, 2, 14 + 20 + 8 + 20 + 14 + 40, both, 1);
    /* frame type 2: an IP packet without Ethernet header */
    erspan_frame(&b, true, 2, 2 << 10, put_tcp4, 0);
    expect_inner4(&b, 0, 14 + 20 + 8 + 12 + 40, both, 1);
    erspan_frame(&b, true, 2, 2 << 10, put_tcp6, 0);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    check_tcp6(&pkt, 0);
    /* a reserved frame type is not followed */
    erspan_frame(&b, true, 2, 1 << 10, put_eth_tcp4, 0);
    expect_outer(&b, FA_PROTO_GRE);
}

static void test_erspan_malformed(void **state)
{
    (void)state;
    struct buf b;
    erspan_frame(&b, false, 2, 0, put_eth_tcp4, 0);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_ERSPAN_VERSION);
    erspan_frame(&b, true, 1, 0, put_eth_tcp4, 0);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_ERSPAN_VERSION);
    /* type II header cut short by the outer length */
    size_t ip = outer4(&b, FA_PROTO_GRE, 0x4000);
    pb_gre(&b, 0x1000, ET_ERSPAN, 0, 1);
    put_be32(&b, 0x10000001);
    pb_ipv4_done(&b, ip);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_ERSPAN_LEN);
    /* O set and the subheader missing */
    ip = outer4(&b, FA_PROTO_GRE, 0x4000);
    pb_gre(&b, 0x1000, ET_ERSPAN3, 0, 1);
    pb_erspan3(&b, 2, 2, 0, 0x0001);
    pb_ipv4_done(&b, ip);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_ERSPAN_LEN);
    /* no room for an Ethernet header */
    ip = outer4(&b, FA_PROTO_GRE, 0x4000);
    pb_gre(&b, 0, ET_ERSPAN, 0, 0);
    put_fill(&b, 0, 10);
    pb_ipv4_done(&b, ip);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_ERSPAN_LEN);
}

static void test_vxlan(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    vxlan_frame(&b, 51000, 4789, 0x08, put_eth_tcp4, 4);
    expect_inner4(&b, 4, 14 + 20 + 8 + 8 + 14 + 40, BIT(FA_ENCAP_VXLAN), 1);
    /* reserved bits (here the group policy extension's G) are ignored */
    vxlan_frame(&b, 51000, 4789, 0x88, put_eth_tcp6, 0);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    check_tcp6(&pkt, 0);
    /* the outer UDP ports are not the inner packet's */
    vxlan_frame(&b, 51000, 4789, 0x08, put_eth_ospf, 4);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    assert_int_equal(pkt.proto, PROTO_OSPF);
    assert_false(pkt.has_ports);
    /* only the destination port names the tunnel */
    vxlan_frame(&b, 4789, 51000, 0x08, put_eth_tcp4, 0);
    expect_outer(&b, FA_PROTO_UDP);
    size_t ip = outer4(&b, FA_PROTO_UDP, 0x2000);
    size_t u = pb_udp(&b, 51000, 4789);
    pb_vxlan(&b, 0x08, 1);
    put_eth_tcp4(&b, 0);
    pb_udp_done(&b, u);
    pb_ipv4_done(&b, ip);
    expect_outer(&b, FA_PROTO_UDP);
}

static void test_vxlan_malformed(void **state)
{
    (void)state;
    struct buf b;
    vxlan_frame(&b, 51000, 4789, 0x00, put_eth_tcp4, 0);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_VXLAN_FLAGS);
    size_t ip = outer4(&b, FA_PROTO_UDP, 0x4000);
    size_t u = pb_udp(&b, 51000, 4789);
    put_fill(&b, 0x08, 6);
    pb_udp_done(&b, u);
    pb_ipv4_done(&b, ip);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_VXLAN_LEN);
    ip = outer4(&b, FA_PROTO_UDP, 0x4000);
    u = pb_udp(&b, 51000, 4789);
    pb_vxlan(&b, 0x08, 1);
    put_fill(&b, 0, 13);
    pb_udp_done(&b, u);
    pb_ipv4_done(&b, ip);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_VXLAN_LEN);
}

static void test_geneve(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    geneve_frame(&b, 0, 8, 0, ET_IPV4, put_tcp4, 2);
    expect_inner4(&b, 2, 14 + 20 + 8 + 8 + 32 + 40, BIT(FA_ENCAP_GENEVE), 1);
    geneve_frame(&b, 0, 0, 0, ET_IPV6, put_tcp6, 1);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_OK);
    check_tcp6(&pkt, 1);
    /* C: critical options present; decoding the payload needs none of them */
    geneve_frame(&b, 0, 1, 0x40, ET_TEB, put_eth_tcp4, 0);
    expect_inner4(&b, 0, 14 + 20 + 8 + 8 + 4 + 14 + 40, BIT(FA_ENCAP_GENEVE), 1);
    geneve_frame(&b, 0, 0, 0, ET_MPLS, put_mpls_tcp4, 0);
    expect_inner4(&b, 0, 14 + 20 + 8 + 8 + 4 + 40, BIT(FA_ENCAP_GENEVE) | BIT(FA_ENCAP_MPLS), 2);
    /* not followed: a control message, a protocol type not decoded */
    geneve_frame(&b, 0, 0, 0x80, ET_IPV4, put_tcp4, 0);
    expect_outer(&b, FA_PROTO_UDP);
    geneve_frame(&b, 0, 0, 0, 0x88cc, put_tcp4, 0);
    expect_outer(&b, FA_PROTO_UDP);
}

static void test_geneve_malformed(void **state)
{
    (void)state;
    struct buf b;
    geneve_frame(&b, 1, 0, 0, ET_IPV4, put_tcp4, 0);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_GENEVE_VERSION);
    /* options beyond the datagram */
    geneve_frame(&b, 0, 0, 0, ET_IPV4, put_tcp4, 0);
    set_u8(&b, 14 + 20 + 8, 63);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_GENEVE_LEN);
    size_t ip = outer4(&b, FA_PROTO_UDP, 0x4000);
    size_t u = pb_udp(&b, 51000, 6081);
    put_fill(&b, 0, 4);
    pb_udp_done(&b, u);
    pb_ipv4_done(&b, ip);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_GENEVE_LEN);
    /* an IP payload smaller than an IPv4 header */
    ip = outer4(&b, FA_PROTO_UDP, 0x4000);
    u = pb_udp(&b, 51000, 6081);
    pb_geneve(&b, 0, 0, 0, ET_IPV4, 1);
    put_fill(&b, 0x45, 19);
    pb_udp_done(&b, u);
    pb_ipv4_done(&b, ip);
    expect(DLT_EN10MB, &b, FA_DEC_BAD_GENEVE_LEN);
}

/* layers GRE headers, each in its own outer IPv4 header, around put_tcp4. */
static void gre_nest(struct buf *b, int layers)
{
    if (layers == 0) {
        put_tcp4(b, 0);
        return;
    }
    size_t ip = pb_ipv4(b, T4, U4, FA_PROTO_GRE, 255, 7, 0, 0);
    pb_gre(b, 0, ET_IPV4, 0, 0);
    gre_nest(b, layers - 1);
    pb_ipv4_done(b, ip);
}

/* MPLS, GRE with ERSPAN II, VXLAN and Geneve, one inside the other, with
 * what the Geneve header carries written by inner. */
static void every_kind(struct buf *b, uint16_t geneve_type, inner_fn inner)
{
    buf_reset(b);
    pb_ether(b, ET_MPLS);
    pb_mpls(b, 16, 1, 64);
    size_t ip1 = pb_ipv4(b, T4, U4, FA_PROTO_GRE, 255, 1, 0, 0);
    pb_gre(b, 0x1000, ET_ERSPAN, 0, 1);
    pb_erspan2(b, 1, 1, 0);
    pb_ether(b, ET_IPV4);
    size_t ip2 = pb_ipv4(b, T4, U4, FA_PROTO_UDP, 255, 2, 0, 0);
    size_t u2 = pb_udp(b, 51000, 4789);
    pb_vxlan(b, 0x08, 1);
    pb_ether(b, ET_IPV4);
    size_t ip3 = pb_ipv4(b, T4, U4, FA_PROTO_UDP, 255, 3, 0, 0);
    size_t u3 = pb_udp(b, 51000, 6081);
    pb_geneve(b, 0, 0, 0, geneve_type, 1);
    inner(b, 0);
    pb_udp_done(b, u3);
    pb_ipv4_done(b, ip3);
    pb_udp_done(b, u2);
    pb_ipv4_done(b, ip2);
    pb_ipv4_done(b, ip1);
}

static void test_encap_depth(void **state)
{
    (void)state;
    struct buf b;
    fa_packet pkt;
    buf_reset(&b);
    pb_ether(&b, ET_IPV4);
    gre_nest(&b, FA_ENCAP_MAX);
    expect_inner4(&b, 0, b.len, BIT(FA_ENCAP_GRE), FA_ENCAP_MAX);
    buf_reset(&b);
    pb_ether(&b, ET_IPV4);
    gre_nest(&b, FA_ENCAP_MAX + 1);
    expect(DLT_EN10MB, &b, FA_DEC_ENCAP_TOO_DEEP);

    every_kind(&b, ET_IPV4, put_tcp4);
    expect_inner4(&b, 0, b.len, 0x1f, 4);
    every_kind(&b, ET_MPLS, put_mpls_tcp4);
    assert_int_equal(decode(DLT_EN10MB, &b, &pkt), FA_DEC_ENCAP_TOO_DEEP);
    /* the layers passed are still known, for the summary */
    assert_int_equal(pkt.encap, 0x1f);
}

static void test_truncation_tunnels(void **state)
{
    (void)state;
    struct buf b;
    mpls_frame(&b, ET_MPLS, 3, put_tcp4, 20);
    every_cut(DLT_EN10MB, &b, 14 + 12 + 40, 14 + 12 + 40, 20);
    gre_frame(&b, 0xb000, ET_IPV6, put_tcp6, 20);
    every_cut(DLT_EN10MB, &b, 14 + 20 + 16 + 60, 14 + 20 + 16 + 60, 20);
    erspan_frame(&b, true, 2, 0x0001, put_eth_tcp4, 20);
    every_cut(DLT_EN10MB, &b, 14 + 20 + 8 + 20 + 14 + 40, 14 + 20 + 8 + 20 + 14 + 40, 20);
    erspan_frame(&b, false, 1, 0, put_eth_tcp4, 20);
    every_cut(DLT_EN10MB, &b, 14 + 20 + 8 + 8 + 14 + 40, 14 + 20 + 8 + 8 + 14 + 40, 20);
    vxlan_frame(&b, 51000, 4789, 0x08, put_eth_tcp4, 20);
    every_cut(DLT_EN10MB, &b, 14 + 20 + 8 + 8 + 14 + 40, 14 + 20 + 8 + 8 + 14 + 40, 20);
    geneve_frame(&b, 0, 8, 0, ET_IPV4, put_tcp4, 20);
    every_cut(DLT_EN10MB, &b, 14 + 20 + 8 + 8 + 32 + 40, 14 + 20 + 8 + 8 + 32 + 40, 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_result_names),
        cmocka_unit_test(test_linktypes_supported),
        cmocka_unit_test(test_unsupported_linktype),
        cmocka_unit_test(test_ethernet_tcp4),
        cmocka_unit_test(test_ethernet_not_ip),
        cmocka_unit_test(test_vlan_8021q),
        cmocka_unit_test(test_vlan_qinq),
        cmocka_unit_test(test_vlan_too_deep),
        cmocka_unit_test(test_linux_sll),
        cmocka_unit_test(test_linux_sll2),
        cmocka_unit_test(test_null_and_loop),
        cmocka_unit_test(test_raw_ip),
        cmocka_unit_test(test_ipv4_options),
        cmocka_unit_test(test_ipv6_ext_chain),
        cmocka_unit_test(test_ipv6_ah),
        cmocka_unit_test(test_ipv6_ext_too_long),
        cmocka_unit_test(test_ipv6_ext_past_claimed),
        cmocka_unit_test(test_ipv6_ext_past_captured),
        cmocka_unit_test(test_ipv4_fragments),
        cmocka_unit_test(test_tiny_first_fragment),
        cmocka_unit_test(test_ipv6_fragments),
        cmocka_unit_test(test_icmp_port_unreachable_udp),
        cmocka_unit_test(test_icmp_admin_prohibited_tcp),
        cmocka_unit_test(test_icmp_time_exceeded),
        cmocka_unit_test(test_icmp6_unreachable_tcp),
        cmocka_unit_test(test_icmp_quoting_icmp),
        cmocka_unit_test(test_icmp_echo_keying),
        cmocka_unit_test(test_icmp_quote_garbage),
        cmocka_unit_test(test_icmp_quote_without_ports),
        cmocka_unit_test(test_bad_ipv4),
        cmocka_unit_test(test_bad_tcp),
        cmocka_unit_test(test_bad_udp),
        cmocka_unit_test(test_bad_ipv6_len),
        cmocka_unit_test(test_short_frames),
        cmocka_unit_test(test_truncation_tcp4),
        cmocka_unit_test(test_truncation_ipv6_ext),
        cmocka_unit_test(test_truncation_icmp),
        cmocka_unit_test(test_truncation_sll2_udp),
        cmocka_unit_test(test_snaplen_payload),
        cmocka_unit_test(test_ethernet_padding),
        cmocka_unit_test(test_frame_hash),
        cmocka_unit_test(test_mpls),
        cmocka_unit_test(test_mpls_malformed),
        cmocka_unit_test(test_gre),
        cmocka_unit_test(test_gre_not_followed),
        cmocka_unit_test(test_gre_malformed),
        cmocka_unit_test(test_erspan),
        cmocka_unit_test(test_erspan_malformed),
        cmocka_unit_test(test_vxlan),
        cmocka_unit_test(test_vxlan_malformed),
        cmocka_unit_test(test_geneve),
        cmocka_unit_test(test_geneve_malformed),
        cmocka_unit_test(test_encap_depth),
        cmocka_unit_test(test_truncation_tunnels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
