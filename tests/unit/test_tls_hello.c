/* test_tls_hello.c - ClientHello SNI and ALPN: a browser-like hello, the
 * same cut at every offset (each prefix in an exact-size heap buffer so
 * the sanitizers see any overread), hellos without extensions, lying
 * lengths, long names and input that is not TLS. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tls_hello.h"

#define SNI "www.example.com"

typedef struct buf {
    uint8_t d[4096];
    size_t len;
} buf;

static void put8(buf *b, uint8_t v)
{
    assert_true(b->len < sizeof b->d);
    b->d[b->len++] = v;
}

static void put16(buf *b, uint16_t v)
{
    put8(b, (uint8_t)(v >> 8));
    put8(b, (uint8_t)v);
}

static void put(buf *b, const void *p, size_t n)
{
    assert_true(n <= sizeof b->d - b->len);
    memcpy(b->d + b->len, p, n);
    b->len += n;
}

/* Patches a big-endian length of width bytes at off to cover everything
 * written after it. */
static void patch_len(buf *b, size_t off, int width)
{
    size_t v = b->len - off - (size_t)width;
    for (int i = 0; i < width; i++)
        b->d[off + (size_t)i] = (uint8_t)(v >> (8 * (width - 1 - i)));
}

static void ext_sni(buf *e, const char *name)
{
    size_t n = strlen(name);
    put16(e, 0);
    put16(e, (uint16_t)(n + 5));
    put16(e, (uint16_t)(n + 3));
    put8(e, 0);
    put16(e, (uint16_t)n);
    put(e, name, n);
}

/* protos: names separated by ','. */
static void ext_alpn(buf *e, const char *protos)
{
    put16(e, 16);
    size_t len_at = e->len;
    put16(e, 0);
    size_t list_at = e->len;
    put16(e, 0);
    for (const char *p = protos; *p;) {
        size_t n = strcspn(p, ",");
        put8(e, (uint8_t)n);
        put(e, p, n);
        p += n + (p[n] == ',');
    }
    patch_len(e, list_at, 2);
    patch_len(e, len_at, 2);
}

static void ext_opaque(buf *e, uint16_t type, size_t n)
{
    put16(e, type);
    put16(e, (uint16_t)n);
    for (size_t i = 0; i < n; i++)
        put8(e, (uint8_t)(i * 13 + type));
}

/* A TLS 1.3 ClientHello as a browser sends it. exts: the extension block
 * bytes, or NULL for a hello without one. */
static void hello(buf *b, const buf *exts)
{
    b->len = 0;
    put8(b, 22);
    put16(b, 0x0301);
    put16(b, 0);
    put8(b, 1);
    put8(b, 0);
    put16(b, 0);
    put16(b, 0x0303);
    for (int i = 0; i < 32; i++)
        put8(b, (uint8_t)(0xa0 + i));
    put8(b, 32);
    for (int i = 0; i < 32; i++)
        put8(b, (uint8_t)i);
    static const uint16_t suites[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xcca9};
    put16(b, sizeof suites);
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        put16(b, suites[i]);
    put8(b, 1);
    put8(b, 0);
    if (exts) {
        put16(b, (uint16_t)exts->len);
        put(b, exts->d, exts->len);
    }
    patch_len(b, 3, 2);
    patch_len(b, 6, 3);
}

static void browser_extensions(buf *e)
{
    e->len = 0;
    ext_opaque(e, 0x0a0a, 0);
    ext_sni(e, SNI);
    ext_opaque(e, 23, 0);
    ext_opaque(e, 10, 10);
    ext_alpn(e, "h2,http/1.1");
    ext_opaque(e, 51, 107);
    ext_opaque(e, 43, 7);
    ext_opaque(e, 21, 200);
}

static void test_browser_hello(void **state)
{
    (void)state;
    buf e, b;
    browser_extensions(&e);
    hello(&b, &e);
    fa_tls_hello h;
    assert_true(fa_tls_could_be_hello(b.d, b.len));
    assert_int_equal(fa_tls_parse_hello(b.d, b.len, &h), FA_TLS_OK);
    assert_string_equal(h.sni, SNI);
    assert_string_equal(h.alpn, "h2,http/1.1");
    assert_int_equal(h.record_version, 0x0301);
    assert_int_equal(h.hello_version, 0x0303);
}

/* Every prefix of the hello: never read past it, never claim more than it
 * holds, and say it is a cut ClientHello. */
static void test_truncated_every_offset(void **state)
{
    (void)state;
    buf e, b;
    browser_extensions(&e);
    hello(&b, &e);
    for (size_t cut = 0; cut < b.len; cut++) {
        uint8_t *p = malloc(cut ? cut : 1);
        assert_non_null(p);
        memcpy(p, b.d, cut);
        fa_tls_hello h;
        fa_tls_result r = fa_tls_parse_hello(p, cut, &h);
        assert_true(fa_tls_could_be_hello(p, cut));
        if (cut > 0 && r != FA_TLS_PARTIAL)
            fail_msg("hello cut at %zu of %zu: result %d, not partial", cut, b.len, r);
        assert_int_equal(strncmp(h.sni, SNI, strlen(h.sni)), 0);
        assert_true(strlen(h.alpn) < sizeof h.alpn);
        assert_true(h.alpn[0] == '\0' || strcmp(h.alpn, "h2") == 0 || strcmp(h.alpn, "h2,http/1.1") == 0);
        free(p);
    }
    fa_tls_hello h;
    assert_int_equal(fa_tls_parse_hello(b.d, 0, &h), FA_TLS_NOT_TLS);
}

/* Bytes after the hello (the next record) do not matter. */
static void test_trailing_bytes(void **state)
{
    (void)state;
    buf e, b;
    browser_extensions(&e);
    hello(&b, &e);
    put(&b, "\x14\x03\x03\x00\x01\x01", 6);
    fa_tls_hello h;
    assert_int_equal(fa_tls_parse_hello(b.d, b.len, &h), FA_TLS_OK);
    assert_string_equal(h.sni, SNI);
}

static void test_missing_extensions(void **state)
{
    (void)state;
    buf b, e;
    fa_tls_hello h;
    hello(&b, NULL);
    assert_int_equal(fa_tls_parse_hello(b.d, b.len, &h), FA_TLS_OK);
    assert_string_equal(h.sni, "");
    assert_string_equal(h.alpn, "");

    e.len = 0;
    hello(&b, &e);
    assert_int_equal(fa_tls_parse_hello(b.d, b.len, &h), FA_TLS_OK);
    assert_string_equal(h.sni, "");

    ext_opaque(&e, 10, 8);
    ext_opaque(&e, 13, 20);
    hello(&b, &e);
    assert_int_equal(fa_tls_parse_hello(b.d, b.len, &h), FA_TLS_OK);
    assert_string_equal(h.sni, "");
    assert_string_equal(h.alpn, "");

    e.len = 0;
    ext_alpn(&e, "http/1.1");
    hello(&b, &e);
    assert_int_equal(fa_tls_parse_hello(b.d, b.len, &h), FA_TLS_OK);
    assert_string_equal(h.sni, "");
    assert_string_equal(h.alpn, "http/1.1");
}

static void test_not_tls(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t len;
    } cases[] = {
        {"GET / HTTP/1.1\r\n\r\n", 18},
        {"SSH-2.0-OpenSSH_9.2\r\n", 21},
        {"\x17\x03\x03\x00\x10", 5},                     /* application data */
        {"\x16\x02\x00\x00\x10\x01", 6},                 /* not version 3.x */
        {"\x16\x03\x03\x00\x04\x02\x00\x00\x00", 9},     /* ServerHello */
        {"\x80\x2e\x01\x00\x02", 5},                     /* SSLv2 framing */
        {NULL, 0},
    };
    for (int i = 0; cases[i].bytes; i++) {
        const uint8_t *p = (const uint8_t *)cases[i].bytes;
        fa_tls_hello h;
        assert_false(fa_tls_could_be_hello(p, cases[i].len));
        if (fa_tls_parse_hello(p, cases[i].len, &h) != FA_TLS_NOT_TLS)
            fail_msg("case %d parsed as a ClientHello", i);
        assert_string_equal(h.sni, "");
    }
    const uint8_t one[] = {22};
    assert_true(fa_tls_could_be_hello(one, 1));
}

/* Lengths that claim more than the complete hello holds are not a
 * ClientHello cut by the capture. */
static void test_lying_lengths(void **state)
{
    (void)state;
    buf e, b;
    fa_tls_hello h;
    e.len = 0;
    ext_sni(&e, SNI);
    hello(&b, &e);
    size_t ext_len_at = b.len - e.len + 2;  /* first extension's length */
    b.d[ext_len_at] = 0x40;
    assert_int_equal(fa_tls_parse_hello(b.d, b.len, &h), FA_TLS_NOT_TLS);

    hello(&b, &e);
    size_t sid_at = 5 + 4 + 2 + 32;
    b.d[sid_at] = 0xff;
    assert_int_equal(fa_tls_parse_hello(b.d, b.len, &h), FA_TLS_NOT_TLS);

    /* An SNI name longer than its extension: clamped, never overread. */
    hello(&b, &e);
    b.d[b.len - strlen(SNI) - 1] = 0xff;
    uint8_t *p = malloc(b.len);
    assert_non_null(p);
    memcpy(p, b.d, b.len);
    fa_tls_parse_hello(p, b.len, &h);
    assert_string_equal(h.sni, SNI);
    free(p);
}

static void test_long_names_cut(void **state)
{
    (void)state;
    char name[300];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    buf e, b;
    fa_tls_hello h;
    e.len = 0;
    ext_sni(&e, name);
    ext_alpn(&e, "h2,http/1.1,spdy/3.1,webrtc,c-webrtc,ftp,imap,pop3,managesieve,coap,xmpp-client,"
                 "xmpp-server,acme-tls/1,mqtt");
    hello(&b, &e);
    assert_int_equal(fa_tls_parse_hello(b.d, b.len, &h), FA_TLS_OK);
    assert_int_equal(strlen(h.sni), FA_TLS_NAME_MAX - 1);
    assert_true(strlen(h.alpn) < FA_TLS_ALPN_MAX);
    assert_int_equal(strncmp(h.alpn, "h2,http/1.1,spdy/3.1,", 21), 0);
    assert_true(h.alpn[strlen(h.alpn) - 1] != ',');
}

static void test_sni_sanitised(void **state)
{
    (void)state;
    buf e, b;
    fa_tls_hello h;
    e.len = 0;
    ext_sni(&e, "a b\x1b[1m\xc3\xa9.org");
    hello(&b, &e);
    assert_int_equal(fa_tls_parse_hello(b.d, b.len, &h), FA_TLS_OK);
    assert_string_equal(h.sni, "a?b?[1m??.org");
}

/* The extension walk is capped: many empty extensions before the SNI end
 * the walk, they do not loop or crash. */
static void test_extension_cap(void **state)
{
    (void)state;
    buf e, b;
    fa_tls_hello h;
    e.len = 0;
    for (int i = 0; i < FA_TLS_EXT_MAX + 10; i++)
        ext_opaque(&e, (uint16_t)(0x1000 + i), 0);
    ext_sni(&e, SNI);
    hello(&b, &e);
    fa_tls_result r = fa_tls_parse_hello(b.d, b.len, &h);
    assert_true(r == FA_TLS_OK || r == FA_TLS_PARTIAL);
    assert_string_equal(h.sni, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_browser_hello),
        cmocka_unit_test(test_truncated_every_offset),
        cmocka_unit_test(test_trailing_bytes),
        cmocka_unit_test(test_missing_extensions),
        cmocka_unit_test(test_not_tls),
        cmocka_unit_test(test_lying_lengths),
        cmocka_unit_test(test_long_names_cut),
        cmocka_unit_test(test_sni_sanitised),
        cmocka_unit_test(test_extension_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
