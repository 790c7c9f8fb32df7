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

/* cut: the capture ended inside the hello, so a field that runs past the
 * end was truncated; in a complete hello the same field lies. */
static fa_tls_result read_extensions(fa_cursor c, bool cut, fa_tls_hello *out)
{
    uint16_t total;
    if (c.left == 0)
        return cut ? FA_TLS_PARTIAL : FA_TLS_OK; /* extensions are optional */
    if (!fa_cursor_be16(&c, &total))
        return cut ? FA_TLS_PARTIAL : FA_TLS_NOT_TLS;
    fa_cursor exts = fa_cursor_take(&c, total);
    bool exts_cut = exts.left < total;
    fa_tls_result short_field = exts_cut ? FA_TLS_PARTIAL : FA_TLS_NOT_TLS;
    if (exts_cut && !cut)
        return FA_TLS_NOT_TLS;
    for (int i = 0; i < FA_TLS_EXT_MAX && exts.left > 0; i++) {
        uint16_t type, len;
        if (!fa_cursor_be16(&exts, &type) || !fa_cursor_be16(&exts, &len))
            return short_field;
        fa_cursor body = fa_cursor_take(&exts, len);
        if (type == EXT_SNI)
            read_sni(body, out);
        else if (type == EXT_ALPN)
            read_alpn(body, out);
        if (body.left < len)
            return short_field;
    }
    return exts_cut ? FA_TLS_PARTIAL : FA_TLS_OK;
}

static fa_tls_result read_hello(const uint8_t *buf, size_t len, fa_tls_hello *out)
{
    fa_cursor c = fa_cursor_make(buf, len);
    uint8_t hlen_hi;
    uint16_t hlen_lo;
    /* Record and handshake types were checked by fa_tls_could_be_hello;
     * from here on, running out of bytes means the hello was cut. A
     * ClientHello may span records; reading on past the first record's
     * end, within what was captured, covers the usual case. */
    if (!fa_cursor_skip(&c, 1) || !fa_cursor_be16(&c, &out->record_version) || !fa_cursor_skip(&c, 3) ||
        !fa_cursor_u8(&c, &hlen_hi) || !fa_cursor_be16(&c, &hlen_lo))
        return FA_TLS_PARTIAL;
    uint32_t hlen = ((uint32_t)hlen_hi << 16) | hlen_lo;
    fa_cursor hello = fa_cursor_take(&c, hlen);
    bool cut = hello.left < hlen;
    if (!fa_cursor_be16(&hello, &out->hello_version) || !fa_cursor_skip(&hello, 32) ||
        !skip_vec8(&hello) || !skip_vec16(&hello) || !skip_vec8(&hello))
        return cut ? FA_TLS_PARTIAL : FA_TLS_NOT_TLS;
    return read_extensions(hello, cut, out);
}

fa_tls_result fa_tls_parse_hello(const uint8_t *buf, size_t len, fa_tls_hello *out)
{
    memset(out, 0, sizeof *out);
    if (len == 0 || !fa_tls_could_be_hello(buf, len))
        return FA_TLS_NOT_TLS;
    fa_tls_result r = read_hello(buf, len, out);
    if (r == FA_TLS_NOT_TLS)
        memset(out, 0, sizeof *out);
    return r;
}
