/* json_line.c - serialises a record into one buffer and writes it with a
 * single fwrite. jansson's own dumper prints reals with printf's %g at
 * one precision for the whole document, which cannot give both a
 * timestamp's sixteen digits and a short duration's six decimals
 * (8.008316000000001), and it writes token by token. Strings are escaped
 * exactly as jansson escapes them without flags, so only reals differ.
 * The records made per flow are written member by member into the same
 * buffer (fa_json_rec), without a jansson object to build and free. */
#include "json_line.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Most records fit here; a rule record with many pairs grows onto the
 * heap. */
#define LINE_STACK 4096

/* jansson's documents are built by the program, but cap the nesting
 * anyway so a mistake cannot overflow the stack. */
#define MAX_DEPTH 16

/* The slow side of reserve: the buffer grows (onto the heap, doubling);
 * false, and the record marked failed, when memory runs out. */
static bool grow(fa_json_rec *b, size_t n)
{
    if (b->failed)
        return false;
    size_t cap = b->cap * 2 > b->len + n ? b->cap * 2 : b->len + n;
    if (cap < 256)
        cap = 256;
    char *p = b->heap ? realloc(b->p, cap) : malloc(cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    if (!b->heap && b->len)
        memcpy(p, b->p, b->len);
    b->p = p;
    b->cap = cap;
    b->heap = true;
    return true;
}

/* Room for n more bytes. A failed record has none (its cap is left as
 * it was, so failed is checked only on the way to growing). */
static inline bool reserve(fa_json_rec *b, size_t n)
{
    return (n <= b->cap - b->len && !b->failed) || grow(b, n);
}

static void put(fa_json_rec *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void put_str(fa_json_rec *b, const char *s)
{
    put(b, s, strlen(s));
}

/* The bytes a JSON string cannot hold as they are. */
static bool needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

/* As jansson: quote and backslash escaped, the control characters by
 * their short escapes or \u00XX, everything else (UTF-8) as it is. */
static void put_string(fa_json_rec *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i = 0;
    while (i < n && !needs_escape((unsigned char)s[i]))
        i++;
    /* Names, addresses and ids: nothing to escape, one copy. */
    if (i == n && reserve(b, n + 2)) {
        char *p = b->p + b->len;
        p[0] = '"';
        memcpy(p + 1, s, n);
        p[n + 1] = '"';
        b->len += n + 2;
        return;
    }
    put(b, "\"", 1);
    size_t run = 0;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!needs_escape(c))
            continue;
        put(b, s + run, i - run);
        run = i + 1;
        const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\b' ? "\\b" : c == '\f' ? "\\f"
                        : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
        if (esc) {
            put_str(b, esc);
        } else {
            char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
            put(b, u, 6);
        }
    }
    put(b, s + run, n - run);
    put(b, "\"", 1);
}

/* Digits of u, written backwards from end; returns where they start. */
static char *digits(char *end, uint64_t u)
{
    do {
        *--end = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    return end;
}

static void put_integer(fa_json_rec *b, int64_t v)
{
    char num[24], *end = num + sizeof num;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    char *p = digits(end, u);
    if (v < 0)
        *--p = '-';
    put(b, p, (size_t)(end - p));
}

/* The microseconds %.6f would print for v, or false where that is not
 * certain without printf: v * 1e6 is within a quarter of a unit of the
 * exact product below 2^52, so unless its fraction is near a half,
 * rounding it rounds the exact value the same way. Times and durations
 * are whole microseconds, far from a half. */
static bool whole_micros(double v, uint64_t *us)
{
    double x = v * 1e6;
    if (signbit(v) || !(x < 4503599627370496.0))
        return false;
    uint64_t i = (uint64_t)x;
    double frac = x - (double)i;
    if (frac > 0.2 && frac < 0.8)
        return false;
    *us = i + (frac >= 0.8);
    return true;
}

/* Whole microseconds as seconds: the decimals up to the last significant
 * one, at least one. */
static void put_micros(fa_json_rec *b, uint64_t us)
{
    char num[32], *end = num + sizeof num, *p = digits(end - 7, us / 1000000);
    uint64_t frac = us % 1000000;
    end[-7] = '.';
    for (int i = 1; i <= 6; i++, frac /= 10)
        end[-i] = (char)('0' + frac % 10);
    while (end[-1] == '0' && end[-2] != '.')
        end--;
    put(b, p, (size_t)(end - p));
}

/* Seconds to the microsecond: as %.6f rounds, then the zeros after the
 * last significant decimal go (one stays, so it reads back as a real).
 * printf, which costs a third of a flow record, only where whole_micros
 * cannot be sure. */
static void put_seconds(fa_json_rec *b, double v)
{
    char num[320]; /* %.6f of the largest double: 309 digits, the point, 6 decimals */
    uint64_t us;
    if (whole_micros(v, &us)) {
        put_micros(b, us);
        return;
    }
    int n = snprintf(num, sizeof num, "%.6f", v);
    if (n <= 0 || (size_t)n >= sizeof num) {
        b->failed = true;
        return;
    }
    while (num[n - 1] == '0' && num[n - 2] != '.')
        n--;
    put(b, num, (size_t)n);
}

static void put_value(fa_json_rec *b, const json_t *v, int depth);

static void put_object(fa_json_rec *b, const json_t *o, int depth)
{
    const char *key;
    json_t *v;
    bool first = true;
    put(b, "{", 1);
    json_object_foreach((json_t *)o, key, v) {
        if (!first)
            put(b, ",", 1);
        first = false;
        put_string(b, key, strlen(key));
        put(b, ":", 1);
        put_value(b, v, depth + 1);
    }
    put(b, "}", 1);
}

static void put_value(fa_json_rec *b, const json_t *v, int depth)
{
    if (depth > MAX_DEPTH) {
        b->failed = true;
        return;
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        put_object(b, v, depth);
        break;
    case JSON_ARRAY:
        put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                put(b, ",", 1);
            put_value(b, json_array_get(v, i), depth + 1);
        }
        put(b, "]", 1);
        break;
    case JSON_STRING:
        put_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        put_integer(b, json_integer_value(v));
        break;
    case JSON_REAL:
        put_seconds(b, json_real_value(v));
        break;
    case JSON_TRUE:
        put_str(b, "true");
        break;
    case JSON_FALSE:
        put_str(b, "false");
        break;
    case JSON_NULL:
        put_str(b, "null");
        break;
    }
}

int fa_json_write_line(FILE *out, const json_t *obj)
{
    char stack[LINE_STACK];
    fa_json_rec b;
    fa_json_rec_init(&b, stack, sizeof stack);
    put_value(&b, obj, 0);
    int rc = fa_json_rec_line(&b, out);
    fa_json_rec_free(&b);
    return rc;
}

void fa_json_rec_init(fa_json_rec *r, char *buf, size_t cap)
{
    *r = (fa_json_rec){.p = buf, .cap = buf ? cap : 0};
}

void fa_json_rec_free(fa_json_rec *r)
{
    if (r->heap)
        free(r->p);
    *r = (fa_json_rec){0};
}

void fa_json_rec_reset(fa_json_rec *r)
{
    r->len = 0;
    r->failed = r->comma = false;
}

/* The separator and the key before a member, or only the separator
 * before an array element (key NULL). */
static void member(fa_json_rec *r, const char *key)
{
    size_t n = key ? strlen(key) : 0;
    if (!reserve(r, n + 4))
        return;
    char *p = r->p + r->len;
    if (r->comma)
        *p++ = ',';
    if (key) {
        *p++ = '"';
        memcpy(p, key, n);
        p += n;
        *p++ = '"';
        *p++ = ':';
    }
    r->len = (size_t)(p - r->p);
    r->comma = true;
}

void fa_json_rec_open(fa_json_rec *r, const char *key)
{
    member(r, key);
    put(r, "{", 1);
    r->comma = false;
}

void fa_json_rec_close(fa_json_rec *r)
{
    put(r, "}", 1);
    r->comma = true;
}

void fa_json_rec_array(fa_json_rec *r, const char *key)
{
    member(r, key);
    put(r, "[", 1);
    r->comma = false;
}

void fa_json_rec_array_end(fa_json_rec *r)
{
    put(r, "]", 1);
    r->comma = true;
}

void fa_json_rec_str(fa_json_rec *r, const char *key, const char *s)
{
    member(r, key);
    put_string(r, s, strlen(s));
}

void fa_json_rec_str_or_null(fa_json_rec *r, const char *key, const char *s)
{
    if (s)
        fa_json_rec_str(r, key, s);
    else
        fa_json_rec_null(r, key);
}

void fa_json_rec_int(fa_json_rec *r, const char *key, int64_t v)
{
    member(r, key);
    put_integer(r, v);
}

void fa_json_rec_seconds(fa_json_rec *r, const char *key, double v)
{
    member(r, key);
    put_seconds(r, v);
}

/* Below 2^32 s a double's spacing is under a microsecond, so us / 1e6,
 * the nearest double to the exact quotient, is within half a microsecond
 * of it and %.6f gives back exactly us's digits: they are printed from
 * the integer, without the double's way through whole_micros, which
 * cannot vouch for the quarter-microsecond fractions that timestamps of
 * this century show past 2^50 microseconds and leaves them to printf. */
#define MICROS_EXACT (4294967296ull * 1000000u)

void fa_json_rec_micros(fa_json_rec *r, const char *key, uint64_t us)
{
    member(r, key);
    if (us < MICROS_EXACT)
        put_micros(r, us);
    else
        put_seconds(r, (double)us / 1e6);
}

void fa_json_rec_time(fa_json_rec *r, const char *key, uint64_t us)
{
    if (us)
        fa_json_rec_micros(r, key, us);
    else
        fa_json_rec_null(r, key);
}

void fa_json_rec_bool(fa_json_rec *r, const char *key, bool v)
{
    member(r, key);
    put_str(r, v ? "true" : "false");
}

void fa_json_rec_null(fa_json_rec *r, const char *key)
{
    member(r, key);
    put(r, "null", 4);
}

int fa_json_rec_line(fa_json_rec *r, FILE *out)
{
    put(r, "\n", 1);
    int rc = r->failed || fwrite(r->p, 1, r->len, out) != r->len ? -1 : 0;
    fa_json_rec_reset(r);
    return rc;
}

char *fa_json_rec_message(const fa_json_rec *r, const char *key, int64_t v, size_t *len)
{
    fa_json_rec m = {.comma = r->comma};
    if (r->failed)
        return NULL;
    put(&m, r->p, r->len);
    fa_json_rec_int(&m, key, v);
    fa_json_rec_close(&m);
    put(&m, "", 1);
    if (m.failed) {
        fa_json_rec_free(&m);
        return NULL;
    }
    *len = m.len - 1;
    return m.p;
}
