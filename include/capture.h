/* capture.h - packet sources: pcap/pcapng files (or stdin) and live
 * interfaces, through libpcap. Pipeline stage 1.
 *
 * Follows libpcap's contract: an opaque handle, a caller-supplied error
 * buffer, 0 for success and -1 for errors. Packet data returned by
 * fa_capture_next is valid only until the next call. */
#ifndef FLOWAUDIT_CAPTURE_H
#define FLOWAUDIT_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fa_capture fa_capture;

typedef struct fa_capture_opts {
    const char *filter;   /* BPF expression, NULL for none */
    int snaplen;          /* live: bytes kept per packet */
    int buffer_mib;       /* live: kernel buffer, 0 for libpcap's default */
    bool promisc;         /* live: promiscuous mode */
    bool immediate;       /* live: deliver packets as they arrive */
} fa_capture_opts;

/* Default live snaplen: enough for the HTTP upgrade headers, a TLS
 * ClientHello and WebSocket frame headers after the TCP/IP headers. */
#define FA_DEFAULT_SNAPLEN 2048

typedef struct fa_capture_stats {
    bool valid;           /* live captures only */
    uint64_t received, dropped, if_dropped;
} fa_capture_stats;

typedef enum fa_next {
    FA_NEXT_PACKET = 1,
    FA_NEXT_TIMEOUT = 0,  /* live: no packet before the read timeout */
    FA_NEXT_EOF = -1,
    FA_NEXT_ERROR = -2,
} fa_next;

/* Opens a savefile ("-" for stdin). Returns 0 or -1 with err set. */
int fa_capture_open_file(fa_capture **out, const char *path, const fa_capture_opts *opts,
                         char *err, size_t errlen);
/* Opens a live interface. Returns 0 or -1 with err set. */
int fa_capture_open_live(fa_capture **out, const char *iface, const fa_capture_opts *opts,
                         char *err, size_t errlen);
void fa_capture_close(fa_capture *c);

int fa_capture_datalink(const fa_capture *c);
/* "EN10MB (Ethernet)" style name of the link type. Static or per-handle
 * storage. */
const char *fa_capture_datalink_name(const fa_capture *c);

/* Reads the next packet; *ts_us is FA_TS_INVALID (clock.h) when the
 * record's time cannot be represented. On FA_NEXT_ERROR err holds
 * libpcap's message. */
fa_next fa_capture_next(fa_capture *c, const uint8_t **data, uint32_t *caplen, uint32_t *len,
                        uint64_t *ts_us, char *err, size_t errlen);

/* Live: a descriptor to poll() for readability, or -1. */
int fa_capture_selectable_fd(fa_capture *c);
/* Live: fa_capture_next returns FA_NEXT_TIMEOUT at once when no packet is
 * waiting. Returns 0 or -1 with err set. */
int fa_capture_set_nonblock(fa_capture *c, char *err, size_t errlen);

/* Live, Linux: joins the handle to a PACKET_FANOUT group in hash mode
 * with defragmentation, so both directions of a flow reach the same
 * member. *group 0 asks the kernel for a new group and returns its id;
 * give that id to join the others. Returns 0 or -1 with err set. */
int fa_capture_join_fanout(fa_capture *c, uint16_t *group, char *err, size_t errlen);
/* Savefiles: bytes consumed and total size (0 when unknown, e.g. stdin). */
void fa_capture_progress(const fa_capture *c, uint64_t *done, uint64_t *total);
/* Live: libpcap's counters. */
void fa_capture_stats_get(fa_capture *c, fa_capture_stats *st);

#endif
