/* tls_hello.c - reads SNI and ALPN from a TLS ClientHello.
 *
 *   record:    |type 22|version 16|length 16|
 *   handshake: |type 1|length 24|version 16|random 32|session id <0..32>|
 *              |cipher suites <2..2^16-2>|compression <1..2^8-1>|
 *              |extensions <0..2^16-1>: |type 16|length 16|data||
 */
#include "tls_hello.h"

#include <string.h>

#include "cursor.h"

#define TLS_HANDSHAKE 22
#define TLS_CLIENT_HELLO 1
#define EXT_SNI 0
#define EXT_ALPN 16

bool fa_tls_could_be_hello(const uint8_t *buf, size_t len)
{
    if (len >= 1 && buf[0] != TLS_HANDSHAKE)
        return false;
    if (len >= 2 && buf[1] != 3)
        return false;
    return !(len >= 6 && buf[5] != TLS_CLIENT_HELLO);
}

static bool skip_vec8(fa_cursor *c)
{
    uint8_t n;
    return fa_cursor_u8(c, &n) && fa_cursor_skip(c, n);
}

static bool skip_vec16(fa_cursor *c)
{
    uint16_t n;
    return fa_cursor_be16(c, &n) && fa_cursor_skip(c, n);
}

static void copy_name(char *dst, size_t cap, const uint8_t *src, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    for (size_t i = 0; i < n; i++)
        dst[i] = (src[i] > 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
    dst[n] = '\0';
}

/* server_name_list: |list length 16| |type 8|name length 16|name| ... */
static void read_sni(fa_cursor c, fa_tls_hello *out)
{
    uint16_t list, nlen;
    uint8_t type;
    if (!fa_cursor_be16(&c, &list) || !fa_cursor_u8(&c, &type) || type != 0 ||
        !fa_cursor_be16(&c, &nlen))
        return;
    copy_name(out->sni, sizeof out->sni, c.p, nlen < c.left ? nlen : c.left);
}

/* protocol_name_list: |list length 16| |length 8|name| ... */
static void read_alpn(fa_cursor c, fa_tls_hello *out)
{
    uint16_t list;
    uint8_t n;
    size_t used = 0;
    if (!fa_cursor_be16(&c, &list))
        return;
    while (fa_cursor_u8(&c, &n) && n > 0 && fa_cursor_has(&c, n)) {
        if (used + n + 2 >= sizeof out->alpn)
            break;
        if (used)
            out->alpn[used++] = ',';
        copy_name(out->alpn + used, sizeof out->alpn - used, c.p, n);
        used += n;
        fa_cursor_skip(&c, n);
    }
}

static fa_tls_result read_extensions(fa_cursor c, fa_tls_hello *out)
{
    uint16_t total;
    if (!fa_cursor_be16(&c, &total))
        return c.left ? FA_TLS_NOT_TLS : FA_TLS_OK; /* extensions are optional */
    fa_cursor exts = fa_cursor_take(&c, total);
    bool cut = exts.left < total;
    for (int i = 0; i < FA_TLS_EXT_MAX && exts.left > 0; i++) {
        uint16_t type, len;
        if (!fa_cursor_be16(&exts, &type) || !fa_cursor_be16(&exts, &len))
            return FA_TLS_PARTIAL;
        fa_cursor body = fa_cursor_take(&exts, len);
        if (type == EXT_SNI)
            read_sni(body, out);
        else if (type == EXT_ALPN)
            read_alpn(body, out);
        if (body.left < len)
            return FA_TLS_PARTIAL;
    }
    return cut ? FA_TLS_PARTIAL : FA_TLS_OK;
}

fa_tls_result fa_tls_parse_hello(const uint8_t *buf, size_t len, fa_tls_hello *out)
{
    fa_cursor c = fa_cursor_make(buf, len);
    uint8_t type, htype, hlen_hi;
    uint16_t rlen, hlen_lo;
    memset(out, 0, sizeof *out);
    if (!fa_cursor_u8(&c, &type) || type != TLS_HANDSHAKE || !fa_cursor_be16(&c, &out->record_version) ||
        (out->record_version >> 8) != 3 || !fa_cursor_be16(&c, &rlen))
        return FA_TLS_NOT_TLS;
    /* A ClientHello may span records; reading on past the first record's
     * end, within what was captured, covers the usual case. */
    if (!fa_cursor_u8(&c, &htype) || htype != TLS_CLIENT_HELLO)
        return FA_TLS_NOT_TLS;
    if (!fa_cursor_u8(&c, &hlen_hi) || !fa_cursor_be16(&c, &hlen_lo))
        return FA_TLS_PARTIAL;
    uint32_t hlen = ((uint32_t)hlen_hi << 16) | hlen_lo;
    fa_cursor hello = fa_cursor_take(&c, hlen);
    if (!fa_cursor_be16(&hello, &out->hello_version) || !fa_cursor_skip(&hello, 32) ||
        !skip_vec8(&hello) || !skip_vec16(&hello) || !skip_vec8(&hello))
        return FA_TLS_PARTIAL;
    return read_extensions(hello, out);
}
