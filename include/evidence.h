/* evidence.h - -w FILE: the packets of flagged flows (undocumented, wrong
 * direction, blocked, rejected, WebSocket kills) saved to a pcap file for
 * later evidence.
 *
 * A flow's verdict is known only when it ends, so recent packets wait in a
 * fixed ring (memory bounded by its size, each packet cut to
 * FA_EVIDENCE_SNAP bytes); when a flagged flow ends, its packets still in
 * the ring are written. Files are rotated at a size cap, keeping a fixed
 * number, like tcpdump -C/-W. */
#ifndef FLOWAUDIT_EVIDENCE_H
#define FLOWAUDIT_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#define FA_EVIDENCE_SNAP 384

typedef struct fa_evidence fa_evidence;

typedef struct fa_evidence_stats {
    uint64_t flows_written;
    uint64_t packets_written;
    uint64_t packets_gone;     /* of written flows: already pushed out of the ring */
    uint64_t other_linktype;   /* packets of another link type than the file's */
    uint32_t files_rotated;
} fa_evidence_stats;

/* Opens path for writing with link type dlt. ring_mib: packet ring size;
 * file_mib: rotate when a file reaches it (0: never); keep: rotated files
 * kept (path.1 ... path.keep). Returns NULL with err set. */
fa_evidence *fa_evidence_open(const char *path, int dlt, uint32_t ring_mib, uint32_t file_mib, int keep,
                              char *err, size_t errlen);
/* Closes the file; NULL is allowed. */
void fa_evidence_close(fa_evidence *e);

/* Keeps a packet of flow number flow in the ring. */
void fa_evidence_packet(fa_evidence *e, int dlt, uint32_t flow, uint64_t ts_us, const uint8_t *data,
                        uint32_t caplen, uint32_t len);
/* Flow number flow, which started at first_us and had pkts packets, was
 * flagged as it ended: writes its packets still in the ring. Returns 0 or
 * -1 on a write error. */
int fa_evidence_flow(fa_evidence *e, uint32_t flow, uint64_t first_us, uint32_t pkts);

const fa_evidence_stats *fa_evidence_get_stats(const fa_evidence *e);

#endif
