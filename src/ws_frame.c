/* ws_frame.c - incremental WebSocket frame header reader (RFC 6455 5.2). */
#include "ws_frame.h"

#include <string.h>

void fa_ws_reader_init(fa_ws_reader *r)
{
    memset(r, 0, sizeof *r);
}

void fa_ws_reader_gap(fa_ws_reader *r)
{
    r->lost = true;
}

/* Header size once the first two bytes are known. */
static size_t header_size(const uint8_t *h)
{
    size_t n = 2;
    uint8_t len7 = h[1] & 0x7f;
    if (len7 == 126)
        n += 2;
    else if (len7 == 127)
        n += 8;
    if (h[1] & 0x80)
        n += 4;
    return n;
}

static bool opcode_valid(uint8_t op)
{
    return op <= FA_WS_BINARY || (op >= FA_WS_CLOSE && op <= FA_WS_PONG);
}

static void start_frame(fa_ws_reader *r)
{
    const uint8_t *h = r->hdr;
    uint8_t len7 = h[1] & 0x7f;
    size_t p = 2;
    uint64_t len = len7;
    if (len7 == 126) {
        len = ((uint64_t)h[2] << 8) | h[3];
        p = 4;
    } else if (len7 == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = (len << 8) | h[2 + i];
        p = 10;
    }
    r->fin = h[0] & 0x80;
    r->opcode = h[0] & 0x0f;
    r->masked = h[1] & 0x80;
    if (r->masked)
        memcpy(r->mask, h + p, 4);
    r->remaining = len;
    r->offset = 0;
    r->st.frames++;
    bool control = r->opcode >= FA_WS_CLOSE;
    /* Control frames are at most 125 bytes and never fragmented (5.5); a
     * 64-bit length has its top bit clear (5.2). RSV1 marks a compressed
     * message under permessage-deflate (RFC 7692 6), so it is legal on the
     * first frame of a data message; RSV2 and RSV3 have no registered use. */
    bool rsv_ok = !(h[0] & 0x30) && (!(h[0] & 0x40) || r->opcode == FA_WS_TEXT || r->opcode == FA_WS_BINARY);
    if (!opcode_valid(r->opcode) || (control && (len > 125 || !r->fin)) || !rsv_ok || (len >> 63))
        r->st.bad_frames++;
    if (r->opcode == FA_WS_PING)
        r->st.pings++;
    else if (r->opcode == FA_WS_PONG)
        r->st.pongs++;
    else if (r->opcode == FA_WS_CLOSE)
        r->st.close_seen = true;
    else if (r->fin && opcode_valid(r->opcode))
        r->st.messages++;
}

/* Close code: the first two payload bytes, unmasked (5.5.1). */
static void take_payload(fa_ws_reader *r, const uint8_t *data, size_t n)
{
    if (r->opcode == FA_WS_CLOSE) {
        for (size_t i = 0; i < n && r->offset + i < 2; i++) {
            uint64_t at = r->offset + i;
            r->close_bytes[at] = data[i] ^ (r->masked ? r->mask[at % 4] : 0);
        }
        if (r->offset < 2 && r->offset + n >= 2)
            r->st.close_code = (uint16_t)((r->close_bytes[0] << 8) | r->close_bytes[1]);
    } else if (r->opcode <= FA_WS_BINARY) {
        r->st.payload += n;
    }
    r->offset += n;
    r->remaining -= n;
}

uint32_t fa_ws_reader_feed(fa_ws_reader *r, const uint8_t *data, size_t len)
{
    uint32_t headers = 0;
    size_t pos = 0;
    while (!r->lost && pos < len) {
        if (r->remaining > 0) {
            size_t n = len - pos;
            if ((uint64_t)n > r->remaining)
                n = (size_t)r->remaining;
            take_payload(r, data + pos, n);
            pos += n;
            continue;
        }
        r->hdr[r->hdr_len++] = data[pos++];
        if (r->hdr_len < 2 || r->hdr_len < header_size(r->hdr))
            continue;
        start_frame(r);
        r->hdr_len = 0;
        headers++;
    }
    return headers;
}
