/* portset.c - parse, match and print port sets ("80,443,49152-65535"). */
#include "portset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)

/* Parses 1..65535 from [s, end). */
static int parse_port(const char *s, const char *end, uint16_t *out, const char **why)
{
    unsigned long v = 0;
    if (s == end) {
        *why = "missing port number";
        return -1;
    }
    for (const char *p = s; p < end; p++) {
        if (*p < '0' || *p > '9') {
            *why = "not a port number";
            return -1;
        }
        v = v * 10 + (unsigned long)(*p - '0');
        if (v > 65535) {
            *why = "port out of range (1-65535)";
            return -1;
        }
    }
    if (v == 0) {
        *why = "port 0 is not allowed";
        return -1;
    }
    *out = (uint16_t)v;
    return 0;
}

static int parse_item(const char *s, const char *end, fa_port_range *r, const char **why)
{
    const char *dash = memchr(s, '-', (size_t)(end - s));
    if (!dash) {
        if (parse_port(s, end, &r->lo, why) < 0)
            return -1;
        r->hi = r->lo;
        return 0;
    }
    if (parse_port(s, dash, &r->lo, why) < 0 || parse_port(dash + 1, end, &r->hi, why) < 0)
        return -1;
    if (r->lo > r->hi) {
        *why = "range has its low end above its high end";
        return -1;
    }
    return 0;
}

static int cmp_range(const void *a, const void *b)
{
    const fa_port_range *x = a, *y = b;
    return (int)x->lo - (int)y->lo;
}

/* Kept sorted so the text form is canonical and overlaps are easy to see. */
static int sort_and_check(fa_portset *ps, const char **why)
{
    qsort(ps->ranges, ps->count, sizeof ps->ranges[0], cmp_range);
    for (unsigned i = 1; i < ps->count; i++) {
        if (ps->ranges[i].lo <= ps->ranges[i - 1].hi) {
            *why = "ports listed twice or ranges overlap";
            return -1;
        }
    }
    return 0;
}

/* Parses a port set into *out (untouched on error); returns 0 or -1 with a static reason. */
int fa_portset_parse(const char *text, fa_portset *out, const char **why)
{
    fa_portset ps;
    memset(&ps, 0, sizeof ps);
    if (strcmp(text, "*") == 0) {
        ps.any = true;
    } else if (strcmp(text, "-") != 0) {
        const char *s = text;
        for (;;) {
            const char *comma = strchr(s, ',');
            const char *end = comma ? comma : s + strlen(s);
            if (ps.count == FA_PORTSET_MAX) {
                *why = "too many items (limit " STR(FA_PORTSET_MAX) ")";
                return -1;
            }
            if (s == end) {
                *why = "empty item";
                return -1;
            }
            if (parse_item(s, end, &ps.ranges[ps.count], why) < 0)
                return -1;
            ps.count++;
            if (!comma)
                break;
            s = comma + 1;
        }
        if (sort_and_check(&ps, why) < 0)
            return -1;
    }
    *out = ps;
    return 0;
}

/* True when port is in the set. */
bool fa_portset_contains(const fa_portset *ps, uint16_t port)
{
    if (ps->any)
        return true;
    for (unsigned i = 0; i < ps->count; i++) {
        if (port >= ps->ranges[i].lo && port <= ps->ranges[i].hi)
            return true;
    }
    return false;
}

unsigned fa_portset_items(const fa_portset *ps)
{
    return ps->any || ps->count == 0 ? 1u : ps->count;
}

int fa_portset_item_of(const fa_portset *ps, uint16_t port)
{
    if (ps->any || ps->count == 0)
        return 0;
    for (unsigned i = 0; i < ps->count; i++)
        if (port >= ps->ranges[i].lo && port <= ps->ranges[i].hi)
            return (int)i;
    return -1;
}

void fa_portset_format_item(const fa_portset *ps, unsigned i, char *buf, size_t len)
{
    if (ps->any || ps->count == 0 || i >= ps->count) {
        fa_portset_format(ps, buf, len);
        return;
    }
    const fa_port_range *r = &ps->ranges[i];
    if (r->lo == r->hi)
        snprintf(buf, len, "%u", r->lo);
    else
        snprintf(buf, len, "%u-%u", r->lo, r->hi);
}

/* True for "-", the set of portless transports. */
bool fa_portset_is_empty(const fa_portset *ps)
{
    return !ps->any && ps->count == 0;
}

/* Writes the sorted canonical text form into buf, truncated to len. */
void fa_portset_format(const fa_portset *ps, char *buf, size_t len)
{
    if (len == 0)
        return;
    buf[0] = '\0';
    if (ps->any || ps->count == 0) {
        snprintf(buf, len, "%s", ps->any ? "*" : "-");
        return;
    }
    size_t used = 0;
    for (unsigned i = 0; i < ps->count && used < len; i++) {
        const fa_port_range *r = &ps->ranges[i];
        const char *sep = i ? "," : "";
        int n = r->lo == r->hi ? snprintf(buf + used, len - used, "%s%u", sep, r->lo)
                               : snprintf(buf + used, len - used, "%s%u-%u", sep, r->lo, r->hi);
        if (n < 0)
            return;
        used += (size_t)n;
    }
}
