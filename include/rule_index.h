/* rule_index.h - which rules a TCP or UDP connection to a destination
 * port can match, found by a binary search instead of trying every rule:
 * the port line is cut where any rule's port range starts or ends, and
 * each piece keeps the rules whose ports cover it. */
#ifndef FLOWAUDIT_RULE_INDEX_H
#define FLOWAUDIT_RULE_INDEX_H

#include <stdint.h>

#include "portset.h"
#include "rules.h"

typedef struct fa_rule_index fa_rule_index;

/* Indexes the rules numbered rules[0..n) of rs, in that order, each with
 * the destination ports dports[rule] (the site's, or the rule's own).
 * Returns the index (the caller frees it with fa_rule_index_free) or NULL
 * when out of memory. rules and dports need not outlive it. */
fa_rule_index *fa_rule_index_new(const fa_ruleset *rs, const int *rules, int n, const fa_portset *const *dports);

/* The rules, in build order, whose transports include proto and whose
 * destination ports hold dport; *n is their count. Returns NULL for a
 * protocol without ports (anything but TCP and UDP): the caller tries
 * every rule. The array belongs to the index. */
const int *fa_rule_index_find(const fa_rule_index *ix, uint8_t proto, uint16_t dport, int *n);

void fa_rule_index_free(fa_rule_index *ix);

#endif
