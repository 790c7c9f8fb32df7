/* ws_frame.h - WebSocket frame headers (RFC 6455 section 5.2), read from a
 * TCP byte stream segment by segment, without keeping payloads.
 *
 *   |FIN|RSV1-3|opcode 4|MASK|len 7|(ext len 16/64)|(mask key 32)|payload|
 *
 * The reader keeps at most one partial header (14 bytes) and the number of
 * payload bytes still to skip, so its state is small and bounded whatever
 * the frame sizes. */
#ifndef FLOWAUDIT_WS_FRAME_H
#define FLOWAUDIT_WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fa_ws_opcode {
    FA_WS_CONT = 0x0, FA_WS_TEXT = 0x1, FA_WS_BINARY = 0x2,
    FA_WS_CLOSE = 0x8, FA_WS_PING = 0x9, FA_WS_PONG = 0xa,
};

typedef struct fa_ws_dir_stats {
    uint32_t frames;
    uint32_t messages;        /* data messages completed (FIN on text/binary/continuation) */
    uint32_t pings, pongs;
    uint64_t payload;         /* data payload bytes */
    bool close_seen;
    uint16_t close_code;      /* 0: none given (or not captured) */
    uint32_t bad_frames;      /* reserved opcodes, control frames > 125 bytes, ... */
} fa_ws_dir_stats;

typedef struct fa_ws_reader {
    uint8_t hdr[14];
    uint8_t hdr_len;          /* bytes of a header collected so far */
    uint8_t opcode;           /* current frame */
    bool fin;
    bool masked;
    uint8_t mask[4];
    uint64_t remaining;       /* payload bytes of the current frame still to come */
    uint64_t offset;          /* payload bytes of the current frame already seen */
    uint8_t close_bytes[2];   /* first two payload bytes of a close frame */
    bool lost;                /* a gap in the stream: frame boundaries unknown */
    fa_ws_dir_stats st;
} fa_ws_reader;

void fa_ws_reader_init(fa_ws_reader *r);

/* Feeds the next in-order bytes of the stream. Returns the number of
 * frames whose header completed in these bytes. */
uint32_t fa_ws_reader_feed(fa_ws_reader *r, const uint8_t *data, size_t len);

/* The stream skipped bytes (capture loss or snaplen): frame boundaries are
 * lost for good in this direction. */
void fa_ws_reader_gap(fa_ws_reader *r);

#endif
