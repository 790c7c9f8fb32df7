/* http_upgrade.c - reads the WebSocket opening handshake (RFC 6455 4.1,
 * 4.2.2) from raw header bytes: request line, status line and the few
 * header fields that matter, case-insensitively (RFC 9110 5.1). */
#include "http_upgrade.h"

#include <ctype.h>
#include <string.h>

size_t fa_http_head_length(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i + 3 < len; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
            return i + 4;
    return 0;
}

static bool prefix_ok(const uint8_t *buf, size_t len, const char *word)
{
    size_t n = strlen(word);
    size_t k = len < n ? len : n;
    return memcmp(buf, word, k) == 0;
}

bool fa_http_could_be_request(const uint8_t *buf, size_t len)
{
    /* A WebSocket handshake is always a GET (RFC 6455 4.1). */
    return len > 0 && prefix_ok(buf, len, "GET ");
}

bool fa_http_could_be_response(const uint8_t *buf, size_t len)
{
    return len > 0 && prefix_ok(buf, len, "HTTP/1.");
}

/* One line of the block: [start, end) without the CRLF. */
typedef struct line {
    const uint8_t *p;
    size_t len;
} line;

static bool next_line(const uint8_t *buf, size_t len, size_t *pos, line *out)
{
    size_t i = *pos;
    while (i + 1 < len && !(buf[i] == '\r' && buf[i + 1] == '\n'))
        i++;
    if (i + 1 >= len)
        return false;
    out->p = buf + *pos;
    out->len = i - *pos;
    *pos = i + 2;
    return true;
}

static bool is_ows(uint8_t c)
{
    return c == ' ' || c == '\t';
}

static bool name_is(const line *l, const char *name, line *value)
{
    size_t n = strlen(name);
    if (l->len <= n || l->p[n] != ':')
        return false;
    for (size_t i = 0; i < n; i++)
        if (tolower(l->p[i]) != name[i])
            return false;
    size_t v = n + 1;
    while (v < l->len && is_ows(l->p[v]))
        v++;
    size_t e = l->len;
    while (e > v && is_ows(l->p[e - 1]))
        e--;
    value->p = l->p + v;
    value->len = e - v;
    return true;
}

/* True when a comma-separated header value lists token (any case). */
static bool has_token(const line *v, const char *token)
{
    size_t n = strlen(token), i = 0;
    while (i < v->len) {
        while (i < v->len && (is_ows(v->p[i]) || v->p[i] == ','))
            i++;
        size_t s = i;
        while (i < v->len && v->p[i] != ',')
            i++;
        size_t e = i;
        while (e > s && is_ows(v->p[e - 1]))
            e--;
        if (e - s == n) {
            size_t k = 0;
            while (k < n && tolower(v->p[s + k]) == token[k])
                k++;
            if (k == n)
                return true;
        }
    }
    return false;
}

static void copy_field(char *dst, size_t cap, const uint8_t *src, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    for (size_t i = 0; i < n; i++)
        dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
    dst[n] = '\0';
}

/* Where the header block ends within the first FA_HTTP_HEAD_MAX bytes,
 * or why it cannot be read yet. */
static fa_http_result head_block(const uint8_t *buf, size_t len, size_t *hlen)
{
    *hlen = fa_http_head_length(buf, len);
    if (*hlen)
        return FA_HTTP_DONE;
    return len == FA_HTTP_HEAD_MAX ? FA_HTTP_TOO_LONG : FA_HTTP_NEED_MORE;
}

/* "METHOD SP request-target SP HTTP/1.x", both words non-empty. */
static bool request_line(const line *l, fa_http_request *req)
{
    const uint8_t *sp1 = memchr(l->p, ' ', l->len);
    if (!sp1 || sp1 == l->p)
        return false;
    size_t mlen = (size_t)(sp1 - l->p);
    const uint8_t *target = sp1 + 1;
    const uint8_t *sp2 = memchr(target, ' ', l->len - mlen - 1);
    if (!sp2 || sp2 == target || l->p + l->len - sp2 < 9 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
        return false;
    copy_field(req->method, sizeof req->method, l->p, mlen);
    copy_field(req->path, sizeof req->path, target, (size_t)(sp2 - target));
    return true;
}

fa_http_result fa_http_parse_request(const uint8_t *buf, size_t len, fa_http_request *req)
{
    size_t pos = 0, hlen;
    line l, v;
    memset(req, 0, sizeof *req);
    if (len > FA_HTTP_HEAD_MAX)
        len = FA_HTTP_HEAD_MAX;
    if (next_line(buf, len, &pos, &l) && !request_line(&l, req))
        return FA_HTTP_NOT_HTTP;
    fa_http_result r = head_block(buf, len, &hlen);
    if (r != FA_HTTP_DONE) {
        memset(req, 0, sizeof *req);
        return r;
    }
    /* Repeated fields are one comma-separated list (RFC 9110 5.3). */
    while (next_line(buf, hlen, &pos, &l) && l.len > 0) {
        if (name_is(&l, "upgrade", &v))
            req->upgrade_websocket |= has_token(&v, "websocket");
        else if (name_is(&l, "sec-websocket-key", &v))
            req->has_key |= v.len > 0;
        else if (name_is(&l, "host", &v))
            copy_field(req->host, sizeof req->host, v.p, v.len);
    }
    return FA_HTTP_DONE;
}

/* "HTTP/1.x 101 Switching Protocols": three digits, then the end or a
 * space. */
static bool status_line(const line *l, fa_http_response *resp)
{
    if (l->len < 12 || memcmp(l->p, "HTTP/1.", 7) != 0 || !isdigit(l->p[7]) || l->p[8] != ' ' ||
        !isdigit(l->p[9]) || !isdigit(l->p[10]) || !isdigit(l->p[11]) || (l->len > 12 && l->p[12] != ' '))
        return false;
    resp->status = (l->p[9] - '0') * 100 + (l->p[10] - '0') * 10 + (l->p[11] - '0');
    return true;
}

fa_http_result fa_http_parse_response(const uint8_t *buf, size_t len, fa_http_response *resp)
{
    size_t pos = 0, hlen;
    line l, v;
    memset(resp, 0, sizeof *resp);
    if (len > FA_HTTP_HEAD_MAX)
        len = FA_HTTP_HEAD_MAX;
    if (next_line(buf, len, &pos, &l) && !status_line(&l, resp))
        return FA_HTTP_NOT_HTTP;
    fa_http_result r = head_block(buf, len, &hlen);
    if (r != FA_HTTP_DONE) {
        memset(resp, 0, sizeof *resp);
        return r;
    }
    while (next_line(buf, hlen, &pos, &l) && l.len > 0)
        if (name_is(&l, "upgrade", &v))
            resp->upgrade_websocket |= has_token(&v, "websocket");
    return FA_HTTP_DONE;
}
