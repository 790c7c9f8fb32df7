/* decode_internal.h - hand-offs between the decoder's files (link -> IP ->
 * transport, and tunnel -> link or IP for an inner packet). Not part of the
 * public API. */
#ifndef FLOWAUDIT_DECODE_INTERNAL_H
#define FLOWAUDIT_DECODE_INTERNAL_H

#include "cursor.h"
#include "decode.h"

/* c: cursor at an Ethernet header inside a tunnel; wire_left as below. */
fa_decode_result fa_decode_ether(fa_cursor c, uint32_t wire_left, fa_packet *pkt);

/* Forgets the transport facts of an outer packet before its inner packet
 * is decoded into the same fa_packet. */
void fa_packet_clear_transport(fa_packet *pkt);

/* ip: cursor at the IP header, wire_left: bytes of the frame on the wire
 * from that point (to detect lengths that lie). */
fa_decode_result fa_decode_ip(fa_cursor ip, uint32_t wire_left, fa_packet *pkt);
fa_decode_result fa_decode_ipv4(fa_cursor ip, uint32_t wire_left, fa_packet *pkt);
fa_decode_result fa_decode_ipv6(fa_cursor ip, uint32_t wire_left, fa_packet *pkt);

/* l4: cursor over the captured transport bytes; l4_len: transport length
 * claimed by the IP header. */
fa_decode_result fa_decode_transport(fa_cursor l4, uint32_t l4_len, fa_packet *pkt);
fa_decode_result fa_decode_icmp(fa_cursor l4, fa_packet *pkt);
fa_decode_result fa_decode_icmp6(fa_cursor l4, fa_packet *pkt);

/* Tunnels (decode_tunnel.c). Each returns FA_DEC_OK without touching pkt
 * when the packet is to stay the outer one (a tunnel kind not decoded),
 * and otherwise the result of its own checks or of the inner packet.
 * mpls: cursor at the first label stack entry. gre: l4 and l4_len as for
 * fa_decode_transport. udp_tunnel: the UDP payload and the length the UDP
 * header claims for it, for a datagram to pkt->dport. */
fa_decode_result fa_decode_mpls(fa_cursor c, uint32_t wire_left, fa_packet *pkt);
fa_decode_result fa_decode_gre(fa_cursor l4, uint32_t l4_len, fa_packet *pkt);
fa_decode_result fa_decode_udp_tunnel(fa_cursor c, uint32_t len, fa_packet *pkt);

/* Walks IPv6 extension headers starting with *next; claimed is the payload
 * length the IPv6 header announces. On return the cursor is at the
 * upper-layer header, *next is its protocol and *consumed the bytes skipped.
 * A fragment header fills frag_out's fragment fields (NULL to ignore). */
fa_decode_result fa_ipv6_walk_ext(fa_cursor *c, uint32_t claimed, uint8_t *next,
                                  uint32_t *consumed, fa_packet *frag_out);

#endif
