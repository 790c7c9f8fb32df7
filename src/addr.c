/* addr.c - IPv4/IPv6 address helpers and CIDR matching. */
#include "addr.h"

#include <arpa/inet.h>
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void fa_addr_from_v4(fa_addr *a, const uint8_t v4[4])
{
    memcpy(a->b, v4_mapped_prefix, sizeof v4_mapped_prefix);
    memcpy(a->b + 12, v4, 4);
}

void fa_addr_from_v6(fa_addr *a, const uint8_t v6[16])
{
    memcpy(a->b, v6, 16);
}

bool fa_addr_is_v4(const fa_addr *a)
{
    return memcmp(a->b, v4_mapped_prefix, sizeof v4_mapped_prefix) == 0;
}

int fa_addr_cmp(const fa_addr *a, const fa_addr *b)
{
    return memcmp(a->b, b->b, sizeof a->b);
}

/* A byte in decimal at p; returns the end. */
static char *put_dec(char *p, unsigned v)
{
    if (v >= 100)
        *p++ = (char)('0' + v / 100);
    if (v >= 10)
        *p++ = (char)('0' + v / 10 % 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

static char *put_v4(char *p, const uint8_t *b)
{
    for (int i = 0; i < 4; i++) {
        if (i)
            *p++ = '.';
        p = put_dec(p, b[i]);
    }
    return p;
}

/* RFC 5952 text, as glibc's inet_ntop writes it: lower-case hex without
 * leading zeros, the first longest run of two or more zero groups as
 * "::", and the last 32 bits as a dotted quad where inet_ntop takes the
 * address for IPv4-compatible (exactly the first six groups zero) or
 * mapped. Returns the end. */
static char *put_v6(char *p, const uint8_t *b)
{
    static const char hex[] = "0123456789abcdef";
    unsigned w[8];
    int best = -1, best_len = 0;
    for (int i = 0; i < 8; i++)
        w[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && w[j] == 0)
            j++;
        if (j - i > best_len && j - i >= 2) {
            best = i;
            best_len = j - i;
        }
        i = j > i ? j : i + 1;
    }
    for (int i = 0; i < 8; i++) {
        if (best >= 0 && i >= best && i < best + best_len) {
            if (i == best)
                *p++ = ':';
            continue;
        }
        if (i)
            *p++ = ':';
        if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && w[5] == 0xffff)))
            return put_v4(p, b + 12);
        int shift = w[i] >= 0x1000 ? 12 : w[i] >= 0x100 ? 8 : w[i] >= 0x10 ? 4 : 0;
        for (; shift >= 0; shift -= 4)
            *p++ = hex[(w[i] >> shift) & 15];
    }
    if (best >= 0 && best + best_len == 8)
        *p++ = ':';
    return p;
}

/* By hand rather than with snprintf and inet_ntop, which took an eighth
 * of the whole audit's instructions: every flow record has two
 * addresses. */
char *fa_addr_str(const fa_addr *a, char *buf, size_t len)
{
    char text[FA_ADDR_STRLEN];
    bool v4 = fa_addr_is_v4(a);
    size_t n = (size_t)((v4 ? put_v4(text, a->b + 12) : put_v6(text, a->b)) - text);
    if (len == 0)
        return buf;
    /* Too small a buffer: cut as snprintf would, or empty as inet_ntop. */
    if (n >= len)
        n = v4 ? len - 1 : 0;
    memcpy(buf, text, n);
    buf[n] = '\0';
    return buf;
}

static void mask_to_prefix(fa_addr *a, unsigned prefix)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned bits = prefix > i * 8 ? prefix - i * 8 : 0;
        if (bits < 8)
            a->b[i] &= (uint8_t)(0xff00u >> bits);
    }
}

int fa_cidr_parse(const char *text, fa_cidr *out)
{
    char host[FA_ADDR_STRLEN];
    const char *slash = strchr(text, '/');
    size_t hostlen = slash ? (size_t)(slash - text) : strlen(text);
    if (hostlen == 0 || hostlen >= sizeof host)
        return -1;
    memcpy(host, text, hostlen);
    host[hostlen] = '\0';

    uint8_t raw[16];
    unsigned maxlen, offset;
    if (inet_pton(AF_INET, host, raw) == 1) {
        fa_addr_from_v4(&out->net, raw);
        maxlen = 32;
        offset = 96;
    } else if (strchr(host, ':') != NULL && inet_pton(AF_INET6, host, raw) == 1) {
        fa_addr_from_v6(&out->net, raw);
        maxlen = 128;
        offset = 0;
    } else {
        return -1;
    }

    unsigned prefix = maxlen;
    if (slash) {
        const char *digits = slash + 1;
        char *end;
        if (*digits < '0' || *digits > '9')
            return -1;
        unsigned long v = strtoul(digits, &end, 10);
        if (*end != '\0' || v > maxlen)
            return -1;
        prefix = (unsigned)v;
    }
    out->prefix = (uint8_t)(prefix + offset);
    mask_to_prefix(&out->net, out->prefix);
    return 0;
}

/* The mask of the first prefix bits of a 64-bit half, for a prefix that may
 * end before, inside or after it. */
static uint64_t half_mask(unsigned prefix)
{
    return prefix == 0 ? 0 : prefix >= 64 ? UINT64_MAX : UINT64_MAX << (64 - prefix);
}

/* Audits test every flow's two hosts against every site address: two
 * masked 64-bit compares rather than sixteen byte steps. */
bool fa_cidr_contains(const fa_cidr *c, const fa_addr *a)
{
    uint64_t ah, al, nh, nl;
    memcpy(&ah, a->b, 8);
    memcpy(&al, a->b + 8, 8);
    memcpy(&nh, c->net.b, 8);
    memcpy(&nl, c->net.b + 8, 8);
    unsigned p = c->prefix;
    return ((be64toh(ah) ^ be64toh(nh)) & half_mask(p)) == 0 &&
           ((be64toh(al) ^ be64toh(nl)) & half_mask(p > 64 ? p - 64 : 0)) == 0;
}
