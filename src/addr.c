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

char *fa_addr_str(const fa_addr *a, char *buf, size_t len)
{
    if (fa_addr_is_v4(a)) {
        snprintf(buf, len, "%u.%u.%u.%u", a->b[12], a->b[13], a->b[14], a->b[15]);
    } else if (inet_ntop(AF_INET6, a->b, buf, (socklen_t)len) == NULL && len > 0) {
        buf[0] = '\0';
    }
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
