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

static bool name_is(const line *l, const char *name, line *value)
{
    size_t n = strlen(name);
    if (l->len <= n || l->p[n] != ':')
        return false;
    for (size_t i = 0; i < n; i++)
        if (tolower(l->p[i]) != name[i])
            return false;
    size_t v = n + 1;
    while (v < l->len && (l->p[v] == ' ' || l->p[v] == '\t'))
        v++;
    size_t e = l->len;
    while (e > v && (l->p[e - 1] == ' ' || l->p[e - 1] == '\t'))
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
        while (i < v->len && (v->p[i] == ' ' || v->p[i] == ','))
            i++;
        size_t s = i;
        while (i < v->len && v->p[i] != ',')
            i++;
        size_t e = i;
        while (e > s && v->p[e - 1] == ' ')
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

fa_http_result fa_http_parse_request(const uint8_t *buf, size_t len, fa_http_request *req)
{
    size_t pos = 0;
    line l, v;
    memset(req, 0, sizeof *req);
    if (!next_line(buf, len, &pos, &l))
        return FA_HTTP_NEED_MORE;
    const uint8_t *sp1 = memchr(l.p, ' ', l.len);
    if (!sp1)
        return FA_HTTP_NOT_HTTP;
    size_t mlen = (size_t)(sp1 - l.p);
    const uint8_t *target = sp1 + 1;
    const uint8_t *sp2 = memchr(target, ' ', l.len - mlen - 1);
    if (!sp2 || l.p + l.len - sp2 < 9 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
        return FA_HTTP_NOT_HTTP;
    copy_field(req->method, sizeof req->method, l.p, mlen);
    copy_field(req->path, sizeof req->path, target, (size_t)(sp2 - target));
    while (next_line(buf, len, &pos, &l) && l.len > 0) {
        if (name_is(&l, "upgrade", &v))
            req->upgrade_websocket = has_token(&v, "websocket");
        else if (name_is(&l, "sec-websocket-key", &v))
            req->has_key = v.len > 0;
        else if (name_is(&l, "host", &v))
            copy_field(req->host, sizeof req->host, v.p, v.len);
    }
    return FA_HTTP_DONE;
}

fa_http_result fa_http_parse_response(const uint8_t *buf, size_t len, fa_http_response *resp)
{
    size_t pos = 0;
    line l, v;
    memset(resp, 0, sizeof *resp);
    if (!next_line(buf, len, &pos, &l))
        return FA_HTTP_NEED_MORE;
    /* "HTTP/1.1 101 Switching Protocols" */
    if (l.len < 12 || memcmp(l.p, "HTTP/1.", 7) != 0 || l.p[8] != ' ' || !isdigit(l.p[9]) ||
        !isdigit(l.p[10]) || !isdigit(l.p[11]))
        return FA_HTTP_NOT_HTTP;
    resp->status = (l.p[9] - '0') * 100 + (l.p[10] - '0') * 10 + (l.p[11] - '0');
    while (next_line(buf, len, &pos, &l) && l.len > 0)
        if (name_is(&l, "upgrade", &v))
            resp->upgrade_websocket = has_token(&v, "websocket");
    return FA_HTTP_DONE;
}
