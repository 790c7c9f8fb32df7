/* decode.h - link, tunnel, IP and transport decoding of one captured frame.
 *
 * Pipeline stage 2 (capture -> decode -> flow table -> detect -> report).
 * fa_decode() fills a fa_packet from the frame bytes without allocating and
 * without reading outside the captured length. A frame that cannot be used
 * yields one fa_decode_result naming why; truncated (cut by the snaplen) and
 * malformed (fields that lie) are distinct results. */
#ifndef FLOWAUDIT_DECODE_H
#define FLOWAUDIT_DECODE_H

#include <pcap/dlt.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

/* Link types an older libpcap's dlt.h may not name yet. */
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

/* X-macro: result code, counter name, class (0 ok/ignored, 1 truncated,
 * 2 malformed). The table keeps enum and names in step. */
#define FA_DECODE_RESULTS(X)                                   \
    X(FA_DEC_OK, "ok", 0)                                      \
    X(FA_DEC_NOT_IP, "not_ip", 0)                              \
    X(FA_DEC_TRUNC_LINK, "truncated_link", 1)                  \
    X(FA_DEC_TRUNC_IPV4, "truncated_ipv4", 1)                  \
    X(FA_DEC_TRUNC_IPV6, "truncated_ipv6", 1)                  \
    X(FA_DEC_TRUNC_IPV6_EXT, "truncated_ipv6_ext", 1)          \
    X(FA_DEC_TRUNC_TCP, "truncated_tcp", 1)                    \
    X(FA_DEC_TRUNC_UDP, "truncated_udp", 1)                    \
    X(FA_DEC_TRUNC_ICMP, "truncated_icmp", 1)                  \
    X(FA_DEC_TRUNC_MPLS, "truncated_mpls", 1)                  \
    X(FA_DEC_TRUNC_GRE, "truncated_gre", 1)                    \
    X(FA_DEC_TRUNC_ERSPAN, "truncated_erspan", 1)              \
    X(FA_DEC_TRUNC_VXLAN, "truncated_vxlan", 1)                \
    X(FA_DEC_TRUNC_GENEVE, "truncated_geneve", 1)              \
    X(FA_DEC_BAD_LINK, "bad_link_header", 2)                   \
    X(FA_DEC_VLAN_TOO_DEEP, "vlan_stack_too_deep", 2)          \
    X(FA_DEC_BAD_IP_VERSION, "bad_ip_version", 2)              \
    X(FA_DEC_BAD_IPV4_IHL, "bad_ipv4_ihl", 2)                  \
    X(FA_DEC_BAD_IPV4_LEN, "bad_ipv4_total_length", 2)         \
    X(FA_DEC_BAD_IPV6_LEN, "bad_ipv6_payload_length", 2)       \
    X(FA_DEC_IPV6_EXT_TOO_LONG, "ipv6_ext_chain_too_long", 2)  \
    X(FA_DEC_BAD_IPV6_EXT, "bad_ipv6_ext_header", 2)           \
    X(FA_DEC_BAD_FRAGMENT, "bad_fragment", 2)                  \
    X(FA_DEC_BAD_TCP_DOFF, "bad_tcp_data_offset", 2)           \
    X(FA_DEC_BAD_UDP_LEN, "bad_udp_length", 2)                 \
    X(FA_DEC_BAD_ICMP_QUOTE, "bad_icmp_quote", 2)              \
    X(FA_DEC_ENCAP_TOO_DEEP, "encapsulation_too_deep", 2)      \
    X(FA_DEC_MPLS_TOO_DEEP, "mpls_stack_too_deep", 2)          \
    X(FA_DEC_BAD_MPLS, "bad_mpls_stack", 2)                    \
    X(FA_DEC_BAD_GRE_FLAGS, "bad_gre_flags", 2)                \
    X(FA_DEC_BAD_GRE_LEN, "bad_gre_length", 2)                 \
    X(FA_DEC_BAD_ERSPAN_VERSION, "bad_erspan_version", 2)      \
    X(FA_DEC_BAD_ERSPAN_LEN, "bad_erspan_length", 2)           \
    X(FA_DEC_BAD_VXLAN_FLAGS, "bad_vxlan_flags", 2)            \
    X(FA_DEC_BAD_VXLAN_LEN, "bad_vxlan_length", 2)             \
    X(FA_DEC_BAD_GENEVE_VERSION, "bad_geneve_version", 2)      \
    X(FA_DEC_BAD_GENEVE_LEN, "bad_geneve_length", 2)

typedef enum fa_decode_result {
#define FA_DEC_ENUM(code, name, cls) code,
    FA_DECODE_RESULTS(FA_DEC_ENUM)
#undef FA_DEC_ENUM
    FA_DEC_COUNT
} fa_decode_result;

/* Counter name ("truncated_tcp") and class (0 ok, 1 truncated, 2 malformed). */
const char *fa_decode_result_name(fa_decode_result r);
int fa_decode_result_class(fa_decode_result r);

#define FA_VLAN_MAX 4          /* stacked tags accepted before giving up */
#define FA_IPV6_EXT_MAX 8      /* extension headers followed before giving up */
#define FA_ENCAP_MAX 4         /* encapsulation layers (MPLS, GRE, VXLAN, Geneve) entered */
#define FA_MPLS_MAX 16         /* MPLS label stack entries read before giving up */

/* Encapsulations a packet was decoded through, one bit each (fa_packet.encap);
 * ERSPAN is carried in GRE, so an ERSPAN packet has both bits. */
#define FA_ENCAPS(X)                  \
    X(FA_ENCAP_MPLS, "mpls")          \
    X(FA_ENCAP_GRE, "gre")            \
    X(FA_ENCAP_ERSPAN, "erspan")      \
    X(FA_ENCAP_VXLAN, "vxlan")        \
    X(FA_ENCAP_GENEVE, "geneve")

typedef enum fa_encap {
#define FA_ENCAP_ENUM(code, name) code,
    FA_ENCAPS(FA_ENCAP_ENUM)
#undef FA_ENCAP_ENUM
    FA_ENCAP_KINDS
} fa_encap;

/* Counter name of an encapsulation ("vxlan"); "unknown" out of range. */
const char *fa_encap_name(fa_encap e);

enum fa_tcp_flag_bits {
    FA_TH_FIN = 0x01, FA_TH_SYN = 0x02, FA_TH_RST = 0x04, FA_TH_PSH = 0x08,
    FA_TH_ACK = 0x10, FA_TH_URG = 0x20, FA_TH_ECE = 0x40, FA_TH_CWR = 0x80,
};

enum { FA_PROTO_ICMP = 1, FA_PROTO_TCP = 6, FA_PROTO_UDP = 17, FA_PROTO_GRE = 47, FA_PROTO_ICMP6 = 58 };

/* The header quoted inside an ICMP error: enough to find the flow it hit. */
typedef struct fa_icmp_quote {
    fa_addr src, dst;
    uint16_t sport, dport;
    uint8_t proto;
    bool has_ports;
} fa_icmp_quote;

typedef struct fa_packet {
    uint64_t ts_us;            /* capture time, microseconds since the epoch */
    uint32_t caplen, wirelen;  /* frame as captured / as on the wire */

    uint8_t ipver;             /* 4 or 6 */
    uint8_t proto;             /* IP protocol (after IPv6 extension headers) */
    uint8_t ttl;               /* TTL or hop limit */
    uint8_t encap;             /* bit (1 << fa_encap) per encapsulation passed; valid on any result */
    uint8_t encap_depth;       /* encapsulation layers entered */
    uint16_t ip_id;            /* IPv4 identification (0 for IPv6) */
    uint32_t ip_len;           /* IP datagram length claimed by the header */
    fa_addr src, dst;

    bool has_ports;            /* false for later fragments and portless protocols */
    uint16_t sport, dport;     /* for ICMP: type and code, as Zeek logs them */

    bool fragment;             /* part of a fragmented datagram */
    bool first_fragment;       /* offset 0: carries the transport header */
    uint32_t frag_id;          /* IPv4 id or IPv6 fragment identification */

    uint8_t tcp_flags;
    uint32_t seq, ack;
    uint16_t window;

    uint8_t icmp_type, icmp_code;
    bool icmp_error;           /* unreachable / time exceeded / too big / param problem */
    fa_icmp_quote quote;       /* valid when icmp_error */

    const uint8_t *payload;    /* transport payload as captured */
    uint32_t payload_caplen;   /* captured payload bytes */
    uint32_t payload_len;      /* payload bytes claimed by the headers */

    uint32_t frame_hash;       /* hash of the IP datagram bytes, for duplicates */
} fa_packet;

/* Link types handled, as pcap DLT values. */
bool fa_decode_linktype_supported(int dlt);

/* Decodes one frame of link type dlt, through any MPLS, GRE (ERSPAN),
 * VXLAN or Geneve encapsulation, to the innermost IP packet, whose
 * addresses and ports fill pkt. On FA_DEC_OK, pkt is filled and
 * pkt->payload points into data (valid as long as data is). Any other result
 * leaves pkt partly filled (pkt->encap excepted) and must not be used for
 * flow tracking. */
fa_decode_result fa_decode(int dlt, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                           fa_packet *pkt);

#endif
