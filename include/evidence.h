/* evidence.h - -w FILE: the packets of flagged flows (undocumented, wrong
 * direction, blocked, rejected, WebSocket kills) saved to a pcap file for
 * later evidence.
 *
 * A flow's verdict is known only when it ends, so recent packets wait in a
 * fixed ring (memory bounded by its size, each packet cut to
 * FA_EVIDENCE_SNAP bytes); when a flagged flow ends, its packets still in
 * the ring are written. Under a flood the ring turns over in moments, so
 * the packets that prove a verdict are also kept apart, per flow, in a
 * store of fixed size: the first packet each way (the SYN and what
 * answered it), the first RST, the first FIN, the first ICMP error charged
 * to the flow, and while more than a quarter of the store is free, the
 * first payload each way and, for a session the WebSocket detector
 * follows, its two newest other packets (what came just before a kill);
 * each cut to 132 bytes.
 * Files are rotated at a size cap, keeping a fixed number, like tcpdump
 * -C/-W. With --workers each capture thread has a store of its own (ring
 * and key store, indexed by its flow table's numbers) and all of them
 * write to one file, a flow at a time. */
#ifndef FLOWAUDIT_EVIDENCE_H
#define FLOWAUDIT_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#define FA_EVIDENCE_SNAP 384
/* Bytes of a key packet kept in the store. */
#define FA_EVIDENCE_KEY_SNAP 132
/* Bytes of one key packet in the store, its 132 bytes included. */
#define FA_EVIDENCE_KEY_SLOT 160

/* What a packet is to its flow, for fa_evidence_packet. */
enum {
    FA_EV_RESP = 1,         /* sent by the responder */
    FA_EV_PAYLOAD = 2,      /* carries payload */
    FA_EV_RST = 4,
    FA_EV_FIN = 8,
    FA_EV_FOLLOWED = 16,    /* a session the WebSocket detector follows */
    FA_EV_ICMP_ERROR = 32,  /* internal: an ICMP error charged to the flow */
};

typedef struct fa_evidence fa_evidence;
/* The pcap file (and its rotated predecessors) stores write to. */
typedef struct fa_evidence_file fa_evidence_file;

typedef struct fa_evidence_stats {
    uint64_t flows_written;
    uint64_t packets_written;
    uint64_t packets_gone;     /* of written flows: in neither the ring nor the key store */
    uint64_t key_packets_written; /* of packets_written: from the key store */
    uint64_t flows_keys_lost;  /* written flows missing a first packet, RST, FIN or ICMP error: store full */
    uint64_t flows_keys_thin;  /* written flows missing a first payload or last packet: store filling */
    uint64_t flows_empty;      /* written flows none of whose packets was left */
    uint64_t other_linktype;   /* packets of another link type than the file's */
    uint32_t files_rotated;
} fa_evidence_stats;

typedef struct fa_evidence_config {
    uint32_t ring_mib;         /* the ring of recent packets */
    uint32_t keys_mib;         /* the key store */
    uint32_t file_mib;         /* rotate when a file reaches it (0: never) */
    int keep;                  /* rotated files kept (path.1 ... path.keep) */
    uint32_t max_flows;        /* flow numbers are below it (24 bytes each) */
} fa_evidence_config;

/* Opens path for writing with link type dlt, rotated at cfg's file_mib
 * into cfg's keep files. Returns NULL with err set. */
fa_evidence_file *fa_evidence_file_open(const char *path, int dlt, const fa_evidence_config *cfg, char *err,
                                        size_t errlen);
/* Closes the file; NULL is allowed. Every store writing to it must be
 * closed first. */
void fa_evidence_file_close(fa_evidence_file *file);

/* A store (ring and key store, all its memory allocated here) writing
 * flagged flows to file, which it does not own: stores sharing a file
 * must not call fa_evidence_flow at the same time (--workers: the run's
 * lock). Its link type is the file's. Returns NULL with err set. */
fa_evidence *fa_evidence_new(fa_evidence_file *file, const fa_evidence_config *cfg, char *err, size_t errlen);
/* A store with a file of its own: fa_evidence_file_open, then
 * fa_evidence_new. Returns NULL with err set. */
fa_evidence *fa_evidence_open(const char *path, int dlt, const fa_evidence_config *cfg, char *err, size_t errlen);
/* Frees the store and, when it has its own, closes its file; NULL is
 * allowed. */
void fa_evidence_close(fa_evidence *e);

/* Keeps a packet of flow number flow in the ring and, when it fills one
 * of the flow's key roles or is its newest, in the key store. facts:
 * FA_EV_* bits. */
void fa_evidence_packet(fa_evidence *e, int dlt, uint32_t flow, unsigned facts, uint64_t ts_us,
                        const uint8_t *data, uint32_t caplen, uint32_t len);
/* The packet just given to fa_evidence_packet is an ICMP error charged to
 * flow number flow (another than its own): kept as that flow's. */
void fa_evidence_icmp_error(fa_evidence *e, int dlt, uint32_t flow, uint64_t ts_us, const uint8_t *data,
                            uint32_t caplen, uint32_t len);
/* An ICMP error another store's thread received and this one's charged
 * to flow number flow (--workers): kept as that flow's, written after the
 * packets this store had taken when it came. data: at least
 * min(caplen, FA_EVIDENCE_KEY_SNAP) bytes. */
void fa_evidence_icmp_error_posted(fa_evidence *e, int dlt, uint32_t flow, uint64_t ts_us, const uint8_t *data,
                                   uint32_t caplen, uint32_t len);
/* Flow number flow, which started at first_us and had pkts packets, was
 * flagged as it ended: writes its packets still in the ring or the key
 * store, in arrival order, and releases its key packets. Returns 0 or -1
 * on a write error. */
int fa_evidence_flow(fa_evidence *e, uint32_t flow, uint64_t first_us, uint32_t pkts);
/* Flow number flow ended unflagged: its key packets are released. */
void fa_evidence_release(fa_evidence *e, uint32_t flow);

/* The store's counters; files_rotated counts the rotations its flows
 * made, so the sum over stores sharing a file is the file's. */
const fa_evidence_stats *fa_evidence_get_stats(const fa_evidence *e);
/* Adds b's counters to a's. */
void fa_evidence_stats_add(fa_evidence_stats *a, const fa_evidence_stats *b);

#endif
