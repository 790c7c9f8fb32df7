/* json_line.c - serialises a record into one buffer and writes it with a
 * single fwrite. jansson's own dumper prints reals with printf's %g at
 * one precision for the whole document, which cannot give both a
 * timestamp's sixteen digits and a short duration's six decimals
 * (8.008316000000001), and it writes token by token. Strings are escaped
 * exactly as jansson escapes them without flags, so only reals differ. */
#include "json_line.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Most records fit here; a rule record with many pairs grows onto the
 * heap. */
#define LINE_STACK 4096

/* jansson's documents are built by the program, but cap the nesting
 * anyway so a mistake cannot overflow the stack. */
#define MAX_DEPTH 16

typedef struct line {
    char *p;
    size_t len, cap;
    bool heap, failed;
} line;

static void put(line *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap * 2 > b->len + n ? b->cap * 2 : b->len + n;
        char *p = b->heap ? realloc(b->p, cap) : malloc(cap);
        if (!p) {
            b->failed = true;
            return;
        }
        if (!b->heap)
            memcpy(p, b->p, b->len);
        b->p = p;
        b->cap = cap;
        b->heap = true;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void put_str(line *b, const char *s)
{
    put(b, s, strlen(s));
}

/* As jansson: quote and backslash escaped, the control characters by
 * their short escapes or \u00XX, everything else (UTF-8) as it is. */
static void put_string(line *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    put(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
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

/* Seconds to the microsecond: %.6f rounds to the nearest, then the zeros
 * after the last significant decimal go (one stays, so it reads back as a
 * real). */
static void put_seconds(line *b, double v)
{
    char num[64];
    int n = snprintf(num, sizeof num, "%.6f", v);
    if (n <= 0 || (size_t)n >= sizeof num) {
        b->failed = true;
        return;
    }
    while (num[n - 1] == '0' && num[n - 2] != '.')
        n--;
    put(b, num, (size_t)n);
}

static void put_value(line *b, const json_t *v, int depth);

static void put_object(line *b, const json_t *o, int depth)
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

static void put_value(line *b, const json_t *v, int depth)
{
    char num[32];
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
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        put_str(b, num);
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
    line b = {.p = stack, .cap = sizeof stack};
    put_value(&b, obj, 0);
    put(&b, "\n", 1);
    int rc = b.failed || fwrite(b.p, 1, b.len, out) != b.len ? -1 : 0;
    if (b.heap)
        free(b.p);
    return rc;
}
