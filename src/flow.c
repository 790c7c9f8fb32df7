/* flow.c - small facts derived from a flow record: endpoints, uid, names. */
#include "flow.h"

#include <string.h>

#include "decode.h"

const fa_addr *fa_flow_addr(const fa_flow *f, int d)
{
    bool lo = ((f->bits & FA_FLOW_ORIG_IS_LO) != 0) == (d == 0);
    return lo ? &f->key.lo_addr : &f->key.hi_addr;
}

uint16_t fa_flow_port(const fa_flow *f, int d)
{
    bool lo = ((f->bits & FA_FLOW_ORIG_IS_LO) != 0) == (d == 0);
    return lo ? f->key.lo_port : f->key.hi_port;
}

static const char *const end_reason_names[] = {
    [FA_END_NONE] = "active",      [FA_END_FIN] = "fin",
    [FA_END_RST_ORIG] = "rst_orig", [FA_END_RST_RESP] = "rst_resp",
    [FA_END_IDLE] = "idle",        [FA_END_EVICTED] = "evicted",
    [FA_END_EOF] = "end_of_input", [FA_END_REUSED] = "reused",
};

const char *fa_proto_name(uint8_t proto)
{
    switch (proto) {
    case FA_PROTO_TCP: return "tcp";
    case FA_PROTO_UDP: return "udp";
    case FA_PROTO_ICMP: case FA_PROTO_ICMP6: return "icmp";
    default: return "unknown_transport";
    }
}

const char *fa_end_reason_name(fa_end_reason r)
{
    return (unsigned)r <= FA_END_REUSED ? end_reason_names[r] : "unknown";
}

fa_rst_origin fa_flow_rst_origin(const fa_flow *f, int d)
{
    const fa_flow_dir *dir = &f->dir[d];
    if (!(dir->flags & FA_TH_RST))
        return FA_RST_NONE;
    if (dir->ttl_max == 0)
        return FA_RST_UNKNOWN;
    /* A sender's stack uses one initial TTL and every router lowers it by
     * one, so its packets arrive with one value; a firewall one hop nearer
     * forging the sender's address differs by at least one. */
    return (dir->ttl_rst < dir->ttl_min || dir->ttl_rst > dir->ttl_max) ? FA_RST_MIDDLEBOX
                                                                       : FA_RST_ENDPOINT;
}

const char *fa_rst_origin_name(fa_rst_origin o)
{
    static const char *const names[] = {"none", "endpoint", "middlebox", "unknown"};
    return (unsigned)o <= FA_RST_UNKNOWN ? names[o] : "unknown";
}

static uint64_t mix64(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 29);
}

void fa_flow_uid(const fa_flow *f, char out[20])
{
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint64_t h[2] = {0x1234567u, 0x89abcdefu};
    const uint8_t *k = (const uint8_t *)&f->key;
    for (size_t i = 0; i < sizeof f->key; i += 8) {
        uint64_t v = 0;
        memcpy(&v, k + i, sizeof f->key - i < 8 ? sizeof f->key - i : 8);
        h[i / 8 % 2] = mix64(h[i / 8 % 2], v);
    }
    h[0] = mix64(h[0], f->first_us);
    h[1] = mix64(h[1], h[0] ^ f->key.proto);
    out[0] = 'C';
    for (int i = 1; i < 18; i++) {
        uint64_t *w = &h[i % 2];
        out[i] = digits[*w % 62];
        *w /= 62;
    }
    out[18] = '\0';
}
