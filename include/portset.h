/* portset.h - sets of TCP/UDP ports written as "80,443,49152-65535" or "*". */
#ifndef FLOWAUDIT_PORTSET_H
#define FLOWAUDIT_PORTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FA_PORTSET_MAX 32

typedef struct fa_port_range {
    uint16_t lo, hi; /* inclusive */
} fa_port_range;

typedef struct fa_portset {
    bool any;        /* "*": every port */
    uint8_t count;   /* used entries of ranges[] */
    fa_port_range ranges[FA_PORTSET_MAX];
} fa_portset;

/* Parses a port set. "*" is any port, "-" the empty set (for portless
 * transports). Returns 0, or -1 with a short reason (static string) in
 * *why. */
int fa_portset_parse(const char *text, fa_portset *out, const char **why);
bool fa_portset_contains(const fa_portset *ps, uint16_t port);
bool fa_portset_is_empty(const fa_portset *ps);
/* Items of a set, each a port or a range: "*" and "-" are one item. */
unsigned fa_portset_items(const fa_portset *ps);
/* The item that holds port (0 for "*" and "-"), or -1. */
int fa_portset_item_of(const fa_portset *ps, uint16_t port);
/* Writes item i's text form ("636", "49152-65535", "*", "-"). */
void fa_portset_format_item(const fa_portset *ps, unsigned i, char *buf, size_t len);
/* Writes the canonical text form ("80,443,49152-65535", "*" or "-"). */
void fa_portset_format(const fa_portset *ps, char *buf, size_t len);

#endif
