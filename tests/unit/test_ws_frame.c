/* test_ws_frame.c - the incremental WebSocket frame header reader: every
 * payload length encoding, masked and unmasked, headers split across feeds
 * at every offset, fragmented messages, control frames, close codes,
 * reserved bits and opcodes, and stream gaps. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ws_frame.h"

#define FIN 0x80
#define RSV1 0x40
#define RSV2 0x20
#define RSV3 0x10

static const uint8_t mask_key[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Writes one frame into out: header, then (when payload is not NULL) the
 * payload, masked with mask_key when masked. Returns the bytes written. */
static size_t frame(uint8_t *out, uint8_t b0, bool masked, uint64_t len, const uint8_t *payload)
{
    size_t n = 0;
    out[n++] = b0;
    uint8_t m = masked ? 0x80 : 0;
    if (len < 126) {
        out[n++] = (uint8_t)(m | len);
    } else if (len <= 0xffff) {
        out[n++] = m | 126;
        out[n++] = (uint8_t)(len >> 8);
        out[n++] = (uint8_t)len;
    } else {
        out[n++] = m | 127;
        for (int i = 7; i >= 0; i--)
            out[n++] = (uint8_t)(len >> (8 * i));
    }
    if (masked) {
        memcpy(out + n, mask_key, 4);
        n += 4;
    }
    if (payload) {
        for (uint64_t i = 0; i < len; i++)
            out[n + i] = (uint8_t)(payload[i] ^ (masked ? mask_key[i % 4] : 0));
        n += (size_t)len;
    }
    return n;
}

static size_t header_size(uint64_t len, bool masked)
{
    return 2 + (len < 126 ? 0 : len <= 0xffff ? 2 : 8) + (masked ? 4 : 0);
}

static void check_length(uint64_t len, bool masked)
{
    uint8_t hdr[14];
    fa_ws_reader r;
    fa_ws_reader_init(&r);
    size_t hs = frame(hdr, FIN | FA_WS_BINARY, masked, len, NULL);
    assert_int_equal(hs, header_size(len, masked));
    /* One byte short: still waiting for the header. */
    assert_int_equal(fa_ws_reader_feed(&r, hdr, hs - 1), 0);
    assert_int_equal(r.st.frames, 0);
    assert_int_equal(fa_ws_reader_feed(&r, hdr + hs - 1, 1), 1);
    assert_int_equal(r.st.frames, 1);
    assert_int_equal(r.hdr_len, 0);
    assert_true(r.remaining == len);
    assert_int_equal(r.masked, masked);
    assert_int_equal(r.opcode, FA_WS_BINARY);
    assert_true(r.fin);
    if (masked)
        assert_memory_equal(r.mask, mask_key, 4);
    assert_int_equal(r.st.bad_frames, 0);
    assert_int_equal(r.st.messages, 1);

    /* The payload is skipped and the next header found right after it. */
    size_t chunk = len < 70000 ? (size_t)len : 70000;
    uint8_t *body = calloc(1, chunk + 2);
    assert_non_null(body);
    body[chunk] = FIN | FA_WS_PING;
    body[chunk + 1] = 0;
    uint32_t headers = fa_ws_reader_feed(&r, body, chunk + (chunk == len ? 2 : 0));
    if (chunk == len) {
        assert_int_equal(headers, 1);
        assert_int_equal(r.st.pings, 1);
        assert_int_equal(r.st.frames, 2);
    } else {
        assert_int_equal(headers, 0);
        assert_true(r.remaining == len - chunk);
    }
    assert_true(r.st.payload == chunk);
    assert_int_equal(r.st.bad_frames, 0);
    free(body);
}

static void test_length_encodings(void **state)
{
    (void)state;
    static const uint64_t lengths[] = {0, 1, 125, 126, 127, 65535, 65536, (1ull << 32) + 5};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        check_length(lengths[i], false);
        check_length(lengths[i], true);
    }
}

/* Lengths need not use the shortest form (Zeek's oversized close frame
 * says 258 with the 64-bit form). */
static void test_non_minimal_length(void **state)
{
    (void)state;
    const uint8_t hdr[] = {FIN | FA_WS_TEXT, 127, 0, 0, 0, 0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'};
    fa_ws_reader r;
    fa_ws_reader_init(&r);
    assert_int_equal(fa_ws_reader_feed(&r, hdr, sizeof hdr), 1);
    assert_true(r.remaining == 0);
    assert_true(r.st.payload == 5);
    assert_int_equal(r.st.bad_frames, 0);
}

/* RFC 6455 5.2: the most significant bit of a 64-bit length is 0. */
static void test_length_msb_set(void **state)
{
    (void)state;
    const uint8_t hdr[] = {FIN | FA_WS_BINARY, 127, 0x80, 0, 0, 0, 0, 0, 0, 1};
    fa_ws_reader r;
    fa_ws_reader_init(&r);
    assert_int_equal(fa_ws_reader_feed(&r, hdr, sizeof hdr), 1);
    assert_int_equal(r.st.bad_frames, 1);
}

typedef struct stream {
    uint8_t b[1024];
    size_t len;
} stream;

/* Text, a fragmented binary message with a ping between its fragments,
 * a pong and a masked close with code 1001 and a reason. */
static void build_stream(stream *s)
{
    uint8_t data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    s->len = 0;
    s->len += frame(s->b + s->len, FIN | FA_WS_TEXT, true, 5, (const uint8_t *)"hello");
    s->len += frame(s->b + s->len, FA_WS_BINARY, false, 300, data);
    s->len += frame(s->b + s->len, FIN | FA_WS_PING, true, 4, (const uint8_t *)"ping");
    s->len += frame(s->b + s->len, FA_WS_CONT, true, 200, data);
    s->len += frame(s->b + s->len, FIN | FA_WS_CONT, false, 10, data);
    s->len += frame(s->b + s->len, FIN | FA_WS_PONG, false, 0, data);
    const uint8_t close[] = {0x03, 0xe9, 'b', 'y', 'e'};
    s->len += frame(s->b + s->len, FIN | FA_WS_CLOSE, true, sizeof close, close);
}

static void check_stream_stats(const fa_ws_reader *r)
{
    assert_false(r->lost);
    assert_int_equal(r->st.frames, 7);
    assert_int_equal(r->st.messages, 2);
    assert_int_equal(r->st.pings, 1);
    assert_int_equal(r->st.pongs, 1);
    assert_true(r->st.payload == 5 + 300 + 200 + 10);
    assert_true(r->st.close_seen);
    assert_int_equal(r->st.close_code, 1001);
    assert_int_equal(r->st.bad_frames, 0);
    assert_int_equal(r->hdr_len, 0);
    assert_true(r->remaining == 0);
}

static void test_split_every_offset(void **state)
{
    (void)state;
    stream s;
    build_stream(&s);
    for (size_t cut = 0; cut <= s.len; cut++) {
        fa_ws_reader r;
        fa_ws_reader_init(&r);
        uint32_t h = fa_ws_reader_feed(&r, s.b, cut);
        h += fa_ws_reader_feed(&r, s.b + cut, s.len - cut);
        assert_int_equal(h, 7);
        check_stream_stats(&r);
    }
    for (size_t a = 0; a < s.len; a += 3) {
        size_t b = a + (s.len - a) / 2;
        fa_ws_reader r;
        fa_ws_reader_init(&r);
        fa_ws_reader_feed(&r, s.b, a);
        fa_ws_reader_feed(&r, s.b + a, b - a);
        fa_ws_reader_feed(&r, s.b + b, s.len - b);
        check_stream_stats(&r);
    }
    fa_ws_reader r;
    fa_ws_reader_init(&r);
    for (size_t i = 0; i < s.len; i++)
        fa_ws_reader_feed(&r, s.b + i, 1);
    check_stream_stats(&r);
}

static void test_fragmented_message(void **state)
{
    (void)state;
    uint8_t b[64];
    size_t n = 0;
    n += frame(b + n, FA_WS_TEXT, true, 3, (const uint8_t *)"abc");
    n += frame(b + n, FA_WS_CONT, true, 3, (const uint8_t *)"def");
    n += frame(b + n, FIN | FA_WS_CONT, true, 2, (const uint8_t *)"gh");
    fa_ws_reader r;
    fa_ws_reader_init(&r);
    assert_int_equal(fa_ws_reader_feed(&r, b, n), 3);
    assert_int_equal(r.st.frames, 3);
    assert_int_equal(r.st.messages, 1);
    assert_true(r.st.payload == 8);
    assert_int_equal(r.st.bad_frames, 0);
}

static void test_ping_pong_counts(void **state)
{
    (void)state;
    uint8_t b[256];
    size_t n = 0;
    for (int i = 0; i < 5; i++)
        n += frame(b + n, FIN | FA_WS_PING, i % 2, 4, (const uint8_t *)"Zeek");
    for (int i = 0; i < 3; i++)
        n += frame(b + n, FIN | FA_WS_PONG, false, 0, NULL);
    n += frame(b + n, FIN | FA_WS_PING, false, 125, NULL);
    fa_ws_reader r;
    fa_ws_reader_init(&r);
    fa_ws_reader_feed(&r, b, n);
    assert_int_equal(r.st.pings, 6);
    assert_int_equal(r.st.pongs, 3);
    assert_int_equal(r.st.messages, 0);
    assert_true(r.st.payload == 0);
    assert_int_equal(r.st.bad_frames, 0);
    assert_true(r.remaining == 125);
    assert_int_equal(r.st.frames, 9);
}

static void test_close_codes(void **state)
{
    (void)state;
    fa_ws_reader r;
    uint8_t b[64];
    const uint8_t code1000[] = {0x03, 0xe8};

    fa_ws_reader_init(&r);
    fa_ws_reader_feed(&r, b, frame(b, FIN | FA_WS_CLOSE, false, 0, NULL));
    assert_true(r.st.close_seen);
    assert_int_equal(r.st.close_code, 0);

    fa_ws_reader_init(&r);
    fa_ws_reader_feed(&r, b, frame(b, FIN | FA_WS_CLOSE, false, 2, code1000));
    assert_true(r.st.close_seen);
    assert_int_equal(r.st.close_code, 1000);

    /* Masked: the wire bytes are not the code. */
    fa_ws_reader_init(&r);
    size_t n = frame(b, FIN | FA_WS_CLOSE, true, 2, code1000);
    assert_int_not_equal(b[n - 2], 0x03);
    fa_ws_reader_feed(&r, b, n);
    assert_int_equal(r.st.close_code, 1000);

    /* Masked, code bytes in separate feeds. */
    fa_ws_reader_init(&r);
    fa_ws_reader_feed(&r, b, n - 1);
    assert_true(r.st.close_seen);
    fa_ws_reader_feed(&r, b + n - 1, 1);
    assert_int_equal(r.st.close_code, 1000);

    /* A one-byte close payload gives no code. */
    fa_ws_reader_init(&r);
    fa_ws_reader_feed(&r, b, frame(b, FIN | FA_WS_CLOSE, true, 1, code1000));
    assert_true(r.st.close_seen);
    assert_int_equal(r.st.close_code, 0);
}

static void test_bad_control_frames(void **state)
{
    (void)state;
    uint8_t b[400] = {0};
    uint8_t close[258];
    memset(close, 'C', sizeof close);
    close[0] = 0x03;
    close[1] = 0xe8;
    fa_ws_reader r;

    fa_ws_reader_init(&r);
    fa_ws_reader_feed(&r, b, frame(b, FIN | FA_WS_PING, false, 126, b + 200));
    assert_int_equal(r.st.bad_frames, 1);
    assert_int_equal(r.st.pings, 1);

    /* Zeek's oversized-close-frame capture: 258 bytes, still a close. */
    fa_ws_reader_init(&r);
    fa_ws_reader_feed(&r, b, frame(b, FIN | FA_WS_CLOSE, false, sizeof close, close));
    assert_int_equal(r.st.bad_frames, 1);
    assert_true(r.st.close_seen);
    assert_int_equal(r.st.close_code, 1000);

    /* Control frames are never fragmented. */
    fa_ws_reader_init(&r);
    fa_ws_reader_feed(&r, b, frame(b, FA_WS_PING, false, 0, NULL));
    assert_int_equal(r.st.bad_frames, 1);
}

static void test_reserved_opcodes(void **state)
{
    (void)state;
    uint8_t b[64];
    size_t n = 0;
    for (uint8_t op = 3; op <= 7; op++)
        n += frame(b + n, FIN | op, false, 0, NULL);
    for (uint8_t op = 0xb; op <= 0xf; op++)
        n += frame(b + n, FIN | op, true, 0, NULL);
    fa_ws_reader r;
    fa_ws_reader_init(&r);
    assert_int_equal(fa_ws_reader_feed(&r, b, n), 10);
    assert_int_equal(r.st.frames, 10);
    assert_int_equal(r.st.bad_frames, 10);
    assert_int_equal(r.st.messages, 0);
    assert_int_equal(r.st.pings + r.st.pongs, 0);
    assert_false(r.st.close_seen);
}

/* RSV1 marks a compressed message under permessage-deflate (RFC 7692
 * 6): legal on the first frame of a data message only. */
static void test_reserved_bits(void **state)
{
    (void)state;
    static const struct {
        uint8_t b0;
        uint32_t bad;
    } cases[] = {
        {FIN | RSV1 | FA_WS_TEXT, 0},   {FIN | RSV1 | FA_WS_BINARY, 0}, {FIN | RSV2 | FA_WS_TEXT, 1},
        {FIN | RSV3 | FA_WS_BINARY, 1}, {FIN | RSV1 | FA_WS_PING, 1},   {FIN | RSV1 | FA_WS_CONT, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t b[16];
        fa_ws_reader r;
        fa_ws_reader_init(&r);
        fa_ws_reader_feed(&r, b, frame(b, cases[i].b0, true, 0, NULL));
        if (r.st.bad_frames != cases[i].bad)
            fail_msg("first byte 0x%02x: %u bad frames, expected %u", cases[i].b0, r.st.bad_frames, cases[i].bad);
    }
}

static void test_gap_loses_boundaries(void **state)
{
    (void)state;
    stream s;
    build_stream(&s);
    fa_ws_reader r;
    fa_ws_reader_init(&r);
    assert_int_equal(fa_ws_reader_feed(&r, s.b, 8), 1);
    fa_ws_reader_gap(&r);
    assert_true(r.lost);
    assert_int_equal(fa_ws_reader_feed(&r, s.b + 8, s.len - 8), 0);
    assert_int_equal(r.st.frames, 1);
    assert_int_equal(r.st.messages, 1);
    assert_false(r.st.close_seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_length_encodings),
        cmocka_unit_test(test_non_minimal_length),
        cmocka_unit_test(test_length_msb_set),
        cmocka_unit_test(test_split_every_offset),
        cmocka_unit_test(test_fragmented_message),
        cmocka_unit_test(test_ping_pong_counts),
        cmocka_unit_test(test_close_codes),
        cmocka_unit_test(test_bad_control_frames),
        cmocka_unit_test(test_reserved_opcodes),
        cmocka_unit_test(test_reserved_bits),
        cmocka_unit_test(test_gap_loses_boundaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
