/* addr.h - one address type for IPv4 and IPv6.
 *
 * IPv4 addresses are stored as IPv4-mapped IPv6 (::ffff:a.b.c.d) so the flow
 * key, CIDR matching and printing have a single code path. */
#ifndef FLOWAUDIT_ADDR_H
#define FLOWAUDIT_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fa_addr {
    uint8_t b[16];
} fa_addr;

/* Longest text form of an address, with NUL ("ffff:...:255.255.255.255"). */
#define FA_ADDR_STRLEN 46

typedef struct fa_cidr {
    fa_addr net;      /* masked network address */
    uint8_t prefix;   /* 0..128, counted on the 16-byte form */
} fa_cidr;

void fa_addr_from_v4(fa_addr *a, const uint8_t v4[4]);
void fa_addr_from_v6(fa_addr *a, const uint8_t v6[16]);
bool fa_addr_is_v4(const fa_addr *a);
int fa_addr_cmp(const fa_addr *a, const fa_addr *b);

/* Writes the conventional text form (dotted quad for IPv4) into buf and
 * returns buf. */
char *fa_addr_str(const fa_addr *a, char *buf, size_t len);

/* Parses "192.0.2.1", "2001:db8::1" or either with "/len". A bare address is
 * a host prefix. Returns 0, or -1 if the text is not an address or the prefix
 * is out of range for its family. */
int fa_cidr_parse(const char *text, fa_cidr *out);
bool fa_cidr_contains(const fa_cidr *c, const fa_addr *a);

#endif
