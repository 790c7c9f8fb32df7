/* decode_internal.h - hand-offs between the decoder's files (link -> IP ->
 * transport). Not part of the public API. */
#ifndef FLOWAUDIT_DECODE_INTERNAL_H
#define FLOWAUDIT_DECODE_INTERNAL_H

#include "cursor.h"
#include "decode.h"

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

/* Walks IPv6 extension headers starting with *next; claimed is the payload
 * length the IPv6 header announces. On return the cursor is at the
 * upper-layer header, *next is its protocol and *consumed the bytes skipped.
 * A fragment header fills frag_out's fragment fields (NULL to ignore). */
fa_decode_result fa_ipv6_walk_ext(fa_cursor *c, uint32_t claimed, uint8_t *next,
                                  uint32_t *consumed, fa_packet *frag_out);

#endif
