/* tls_hello.h - the TLS ClientHello (RFC 8446 4.1.2, RFC 5246 7.4.1.2):
 * enough to name the server (SNI, RFC 6066) and the application protocol
 * (ALPN, RFC 7301) of a TLS connection. */
#ifndef FLOWAUDIT_TLS_HELLO_H
#define FLOWAUDIT_TLS_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FA_TLS_NAME_MAX 128
#define FA_TLS_ALPN_MAX 64
#define FA_TLS_EXT_MAX 64     /* extensions walked before giving up */

typedef enum fa_tls_result {
    FA_TLS_NOT_TLS,      /* not a TLS handshake record carrying a ClientHello */
    FA_TLS_PARTIAL,      /* a ClientHello, cut short: fields parsed so far are set */
    FA_TLS_OK,
} fa_tls_result;

typedef struct fa_tls_hello {
    uint16_t record_version;
    uint16_t hello_version;
    char sni[FA_TLS_NAME_MAX];      /* "" when absent */
    char alpn[FA_TLS_ALPN_MAX];     /* offered protocols, comma-separated */
} fa_tls_hello;

/* True when buf[0..len) can start a TLS handshake record (checked on as
 * few bytes as are present). */
bool fa_tls_could_be_hello(const uint8_t *buf, size_t len);

/* Parses a ClientHello from the first bytes of the client's stream. */
fa_tls_result fa_tls_parse_hello(const uint8_t *buf, size_t len, fa_tls_hello *out);

#endif
