/* http_upgrade.h - the HTTP/1.1 WebSocket opening handshake (RFC 6455
 * section 4): the client's Upgrade request and the server's answer.
 *
 * Works on the first bytes of each direction of a TCP stream, collected in a
 * caller-owned buffer (bounded: see FA_HTTP_HEAD_MAX) so a request split
 * across segments is still read. No allocation. */
#ifndef FLOWAUDIT_HTTP_UPGRADE_H
#define FLOWAUDIT_HTTP_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Header blocks longer than this are not a WebSocket handshake we can use
 * (browsers send well under 1 KiB; the cap bounds memory per flow). */
#define FA_HTTP_HEAD_MAX 2048
#define FA_HTTP_FIELD_MAX 128

typedef enum fa_http_result {
    FA_HTTP_NEED_MORE,   /* no blank line yet: feed more bytes */
    FA_HTTP_DONE,        /* header block complete and parsed */
    FA_HTTP_NOT_HTTP,    /* the bytes cannot start an HTTP/1.x message */
    FA_HTTP_TOO_LONG,    /* no end of headers within FA_HTTP_HEAD_MAX */
} fa_http_result;

typedef struct fa_http_request {
    bool upgrade_websocket;   /* Upgrade: websocket (any case) */
    bool has_key;             /* Sec-WebSocket-Key present */
    char method[16];
    char path[FA_HTTP_FIELD_MAX];  /* cut to fit, NUL-terminated */
    char host[FA_HTTP_FIELD_MAX];
} fa_http_request;

typedef struct fa_http_response {
    int status;               /* 101 on success */
    bool upgrade_websocket;
} fa_http_response;

/* Returns the length of the header block (up to and including the blank
 * line) in buf[0..len), or 0 when it is not complete. */
size_t fa_http_head_length(const uint8_t *buf, size_t len);

/* True when buf[0..len) can begin an HTTP/1.x request / response (checked
 * on as few as 1 byte, so that non-HTTP streams are dropped early). */
bool fa_http_could_be_request(const uint8_t *buf, size_t len);
bool fa_http_could_be_response(const uint8_t *buf, size_t len);

/* Parse a complete header block (as delimited by fa_http_head_length). */
fa_http_result fa_http_parse_request(const uint8_t *buf, size_t len, fa_http_request *req);
fa_http_result fa_http_parse_response(const uint8_t *buf, size_t len, fa_http_response *resp);

#endif
