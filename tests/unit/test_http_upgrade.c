/* test_http_upgrade.c - the WebSocket opening handshake parser: requests
 * split at every offset, header names and values in any case, bogus
 * request and status lines, oversized header blocks, and sanitised fields. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_upgrade.h"

#define REQUEST                                  \
    "GET /chat?room=1 HTTP/1.1\r\n"              \
    "Host: example.org:8080\r\n"                 \
    "Upgrade: websocket\r\n"                     \
    "Connection: Upgrade\r\n"                    \
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" \
    "Sec-WebSocket-Version: 13\r\n"              \
    "\r\n"

#define RESPONSE_101                               \
    "HTTP/1.1 101 Switching Protocols\r\n"         \
    "Upgrade: websocket\r\n"                       \
    "Connection: Upgrade\r\n"                      \
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" \
    "\r\n"

static const uint8_t *u8(const char *s)
{
    return (const uint8_t *)s;
}

static fa_http_result parse_req(const char *text, fa_http_request *req)
{
    return fa_http_parse_request(u8(text), strlen(text), req);
}

static fa_http_result parse_resp(const char *text, fa_http_response *resp)
{
    return fa_http_parse_response(u8(text), strlen(text), resp);
}

static void test_request_fields(void **state)
{
    (void)state;
    fa_http_request req;
    assert_int_equal(parse_req(REQUEST, &req), FA_HTTP_DONE);
    assert_true(req.upgrade_websocket);
    assert_true(req.has_key);
    assert_string_equal(req.method, "GET");
    assert_string_equal(req.path, "/chat?room=1");
    assert_string_equal(req.host, "example.org:8080");
}

/* Fed incrementally, as a stream arrives: no blank line, no parse. */
static void test_request_split_every_offset(void **state)
{
    (void)state;
    const char *text = REQUEST;
    size_t total = strlen(text);
    uint8_t buf[FA_HTTP_HEAD_MAX];
    for (size_t cut = 0; cut <= total; cut++) {
        size_t len = cut;
        memcpy(buf, text, cut);
        fa_http_request req;
        if (cut < total) {
            assert_int_equal(fa_http_head_length(buf, len), 0);
            assert_true(cut == 0 || fa_http_could_be_request(buf, len));
            if (fa_http_parse_request(buf, len, &req) != FA_HTTP_NEED_MORE)
                fail_msg("a request cut at %zu of %zu parsed as complete", cut, total);
        }
        memcpy(buf + len, text + cut, total - cut);
        len = total;
        assert_int_equal(fa_http_head_length(buf, len), total);
        assert_int_equal(fa_http_parse_request(buf, len, &req), FA_HTTP_DONE);
        assert_true(req.upgrade_websocket);
        assert_string_equal(req.host, "example.org:8080");
    }
}

/* Bytes after the blank line (a first frame) do not change the length. */
static void test_head_length_with_trailing_bytes(void **state)
{
    (void)state;
    char text[512];
    snprintf(text, sizeof text, "%s\x81\x05hello", RESPONSE_101);
    assert_int_equal(fa_http_head_length(u8(text), strlen(text)), strlen(RESPONSE_101));
    assert_int_equal(fa_http_head_length(u8("\r\n\r"), 3), 0);
    assert_int_equal(fa_http_head_length(u8("\r\n\r\n"), 4), 4);
    assert_int_equal(fa_http_head_length(u8(""), 0), 0);
}

static void expect_upgrade(const char *upgrade_line, bool expected)
{
    char text[512];
    fa_http_request req;
    snprintf(text, sizeof text, "GET / HTTP/1.1\r\nHost: h\r\n%s\r\nSec-WebSocket-Key: k\r\n\r\n", upgrade_line);
    assert_int_equal(parse_req(text, &req), FA_HTTP_DONE);
    if (req.upgrade_websocket != expected)
        fail_msg("'%s': expected upgrade_websocket %d", upgrade_line, expected);
}

static void test_case_insensitive(void **state)
{
    (void)state;
    expect_upgrade("UPGRADE: WebSocket", true);
    expect_upgrade("upgrade: websocket, h2c", true);
    expect_upgrade("Upgrade: h2c, WEBSOCKET", true);
    expect_upgrade("Upgrade:websocket", true);
    expect_upgrade("Upgrade: \twebsocket\t ", true);
    expect_upgrade("Upgrade: h2c,\twebsocket", true);
    expect_upgrade("Upgrade: h2c", false);
    expect_upgrade("Upgrade: websockets", false);
    expect_upgrade("Upgrade: web socket", false);
    expect_upgrade("Upgrade: ", false);
    expect_upgrade("X-Upgrade: websocket", false);
    expect_upgrade("Upgrade : websocket", false);

    fa_http_request req;
    assert_int_equal(parse_req("GET / HTTP/1.1\r\nHOST: Example.ORG\r\nsec-websocket-key: x\r\n"
                               "upgrade: WEBSOCKET\r\n\r\n", &req), FA_HTTP_DONE);
    assert_true(req.upgrade_websocket);
    assert_true(req.has_key);
    assert_string_equal(req.host, "Example.ORG");
}

/* Repeated fields form one comma-separated list (RFC 9110 5.3). */
static void test_repeated_upgrade_fields(void **state)
{
    (void)state;
    fa_http_request req;
    fa_http_response resp;
    assert_int_equal(parse_req("GET / HTTP/1.1\r\nUpgrade: websocket\r\nUpgrade: h2c\r\n\r\n", &req),
                     FA_HTTP_DONE);
    assert_true(req.upgrade_websocket);
    assert_int_equal(parse_req("GET / HTTP/1.1\r\nUpgrade: h2c\r\nUpgrade: websocket\r\n\r\n", &req),
                     FA_HTTP_DONE);
    assert_true(req.upgrade_websocket);
    assert_int_equal(parse_resp("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nUpgrade: foo\r\n\r\n", &resp),
                     FA_HTTP_DONE);
    assert_true(resp.upgrade_websocket);
}

static void test_missing_key(void **state)
{
    (void)state;
    fa_http_request req;
    assert_int_equal(parse_req("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n", &req), FA_HTTP_DONE);
    assert_true(req.upgrade_websocket);
    assert_false(req.has_key);
    assert_int_equal(parse_req("GET /ws HTTP/1.1\r\nSec-WebSocket-Key:  \r\nUpgrade: websocket\r\n\r\n", &req),
                     FA_HTTP_DONE);
    assert_false(req.has_key);
    assert_int_equal(parse_req("GET /ws HTTP/1.1\r\nHost: h\r\n\r\n", &req), FA_HTTP_DONE);
    assert_false(req.upgrade_websocket);
    assert_false(req.has_key);
    assert_string_equal(req.path, "/ws");
}

static void test_bogus_request_lines(void **state)
{
    (void)state;
    static const char *const bogus[] = {
        "GET /\r\n\r\n",
        "GET\r\n\r\n",
        "\r\n\r\n",
        "GET / FTP/1.0\r\n\r\n",
        "GET / HTTP/2\r\n\r\n",
        "GET / HTTP\r\n\r\n",
        "GET / HTTP/1.\r\n\r\n",
        " / HTTP/1.1\r\n\r\n",
        "GET  HTTP/1.1\r\n\r\n",
        "GET /a b HTTP/1.1\r\n\r\n",
        "\x16\x03\x01\x02\x05\r\n\r\n",
        NULL,
    };
    for (int i = 0; bogus[i]; i++) {
        fa_http_request req;
        if (parse_req(bogus[i], &req) != FA_HTTP_NOT_HTTP)
            fail_msg("request line %d accepted: '%s'", i, bogus[i]);
        assert_false(req.upgrade_websocket);
    }
    /* No line end at all: the request line is still coming. */
    fa_http_request req;
    assert_int_equal(parse_req("GET / HTTP/1.1", &req), FA_HTTP_NEED_MORE);
    assert_int_equal(fa_http_parse_request(u8(""), 0, &req), FA_HTTP_NEED_MORE);
}

static void test_could_be_request(void **state)
{
    (void)state;
    assert_true(fa_http_could_be_request(u8("G"), 1));
    assert_true(fa_http_could_be_request(u8("GE"), 2));
    assert_true(fa_http_could_be_request(u8("GET "), 4));
    assert_true(fa_http_could_be_request(u8("GET /x HTTP/1.1"), 15));
    assert_false(fa_http_could_be_request(u8(""), 0));
    assert_false(fa_http_could_be_request(u8("GET/"), 4));
    assert_false(fa_http_could_be_request(u8("get "), 4));
    assert_false(fa_http_could_be_request(u8("POST / HTTP/1.1"), 15));
    assert_false(fa_http_could_be_request(u8("\x16\x03\x01"), 3));
    assert_true(fa_http_could_be_response(u8("H"), 1));
    assert_true(fa_http_could_be_response(u8("HTTP/1.1 101"), 12));
    assert_false(fa_http_could_be_response(u8("HTTP/2 200"), 10));
    assert_false(fa_http_could_be_response(u8("SSH-2.0"), 7));
    assert_false(fa_http_could_be_response(u8(""), 0));
}

/* A header block with no end within FA_HTTP_HEAD_MAX is refused, not
 * read past the cap. */
static void test_oversized_head(void **state)
{
    (void)state;
    size_t len = FA_HTTP_HEAD_MAX + 1000;
    char *text = malloc(len + 1);
    assert_non_null(text);
    int n = snprintf(text, len + 1, "GET / HTTP/1.1\r\nUpgrade: websocket\r\nCookie: ");
    memset(text + n, 'a', len - (size_t)n - 4);
    memcpy(text + len - 4, "\r\n\r\n", 4);
    text[len] = '\0';
    fa_http_request req;
    assert_int_equal(fa_http_head_length(u8(text), len), len);
    assert_int_equal(fa_http_parse_request(u8(text), len, &req), FA_HTTP_TOO_LONG);
    assert_false(req.upgrade_websocket);
    assert_int_equal(fa_http_parse_request(u8(text), FA_HTTP_HEAD_MAX, &req), FA_HTTP_TOO_LONG);
    /* Just under the cap, a complete block is still read. */
    size_t fit = FA_HTTP_HEAD_MAX;
    memcpy(text + fit - 4, "\r\n\r\n", 4);
    assert_int_equal(fa_http_parse_request(u8(text), fit, &req), FA_HTTP_DONE);
    assert_true(req.upgrade_websocket);
    fa_http_response resp;
    memset(text + fit - 4, 'a', 4);
    memcpy(text, "HTTP/1.1 101 OK\r\n", 17);
    assert_int_equal(fa_http_parse_response(u8(text), len, &resp), FA_HTTP_TOO_LONG);
    free(text);
}

static void test_responses(void **state)
{
    (void)state;
    fa_http_response resp;
    assert_int_equal(parse_resp(RESPONSE_101, &resp), FA_HTTP_DONE);
    assert_int_equal(resp.status, 101);
    assert_true(resp.upgrade_websocket);

    static const struct {
        const char *text;
        int status;
        bool upgrade;
    } ok[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200, false},
        {"HTTP/1.1 400 Bad Request\r\n\r\n", 400, false},
        {"HTTP/1.1 404 Not Found\r\nUpgrade: websocket\r\n\r\n", 404, true},
        {"HTTP/1.0 101\r\nupgrade: WebSocket\r\n\r\n", 101, true},
        {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", 101, false},
        {NULL, 0, false},
    };
    for (int i = 0; ok[i].text; i++) {
        assert_int_equal(parse_resp(ok[i].text, &resp), FA_HTTP_DONE);
        assert_int_equal(resp.status, ok[i].status);
        assert_int_equal(resp.upgrade_websocket, ok[i].upgrade);
    }
    static const char *const bad[] = {
        "HTTP/1.1 1O1 Switching\r\n\r\n", "HTTP/2 101\r\n\r\n", "HTTP/1.1  101\r\n\r\n",
        "HTTP/1.1 10\r\n\r\n", "ICY 200 OK\r\n\r\n", "HTTP/1.1\r\n\r\n", NULL,
    };
    for (int i = 0; bad[i]; i++)
        if (parse_resp(bad[i], &resp) != FA_HTTP_NOT_HTTP)
            fail_msg("status line accepted: '%s'", bad[i]);
    assert_int_equal(parse_resp("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n", &resp),
                     FA_HTTP_NEED_MORE);
}

static void test_response_split_every_offset(void **state)
{
    (void)state;
    const char *text = RESPONSE_101;
    size_t total = strlen(text);
    for (size_t cut = 0; cut < total; cut++) {
        fa_http_response resp;
        assert_int_equal(fa_http_head_length(u8(text), cut), 0);
        assert_int_equal(fa_http_parse_response(u8(text), cut, &resp), FA_HTTP_NEED_MORE);
    }
}

/* Control characters and bytes >= 0x7f never reach the report. */
static void test_sanitised_fields(void **state)
{
    (void)state;
    fa_http_request req;
    const char *text = "GET /a\x01" "b\x7f" "c\xc3\xa9 HTTP/1.1\r\n"
                       "Host: ex\xc3\xa9mple.org\x1b[31m\r\n"
                       "Upgrade: websocket\r\n\r\n";
    assert_int_equal(parse_req(text, &req), FA_HTTP_DONE);
    assert_string_equal(req.path, "/a?b?c??");
    assert_string_equal(req.host, "ex??mple.org?[31m");
    for (const char *p = req.path; *p; p++)
        assert_true(*p >= 0x20 && *p < 0x7f);
}

static void test_long_fields_cut(void **state)
{
    (void)state;
    char path[300], text[600];
    memset(path, 'p', sizeof path - 1);
    path[0] = '/';
    path[sizeof path - 1] = '\0';
    snprintf(text, sizeof text, "VERYLONGMETHODNAME12345 %s HTTP/1.1\r\nHost: h\r\n\r\n", path);
    fa_http_request req;
    assert_int_equal(parse_req(text, &req), FA_HTTP_DONE);
    assert_int_equal(strlen(req.path), FA_HTTP_FIELD_MAX - 1);
    assert_memory_equal(req.path, path, FA_HTTP_FIELD_MAX - 1);
    assert_int_equal(strlen(req.method), sizeof req.method - 1);
    assert_string_equal(req.host, "h");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_fields),
        cmocka_unit_test(test_request_split_every_offset),
        cmocka_unit_test(test_head_length_with_trailing_bytes),
        cmocka_unit_test(test_case_insensitive),
        cmocka_unit_test(test_repeated_upgrade_fields),
        cmocka_unit_test(test_missing_key),
        cmocka_unit_test(test_bogus_request_lines),
        cmocka_unit_test(test_could_be_request),
        cmocka_unit_test(test_oversized_head),
        cmocka_unit_test(test_responses),
        cmocka_unit_test(test_response_split_every_offset),
        cmocka_unit_test(test_sanitised_fields),
        cmocka_unit_test(test_long_fields_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
