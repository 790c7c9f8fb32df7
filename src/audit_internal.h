/* audit_internal.h - state shared by audit.c (classification) and
 * audit_report.c (printing). Not part of the public API. */
#ifndef FLOWAUDIT_AUDIT_INTERNAL_H
#define FLOWAUDIT_AUDIT_INTERNAL_H

#include <uthash.h>

#include "audit.h"

#define FA_PAIRS_PER_RULE 32
#define FA_UNDOC_MAX 65536

/* One (source host, destination host) pair that used or tried a rule. */
typedef struct fa_pair {
    fa_addr src, dst;
    uint32_t seen, blocked, rejected;
    uint32_t rejected_icmp;      /* of rejected: by an ICMP error, not a RST */
    uint8_t icmp_type, icmp_code; /* the last such error */
} fa_pair;

typedef struct fa_rule_state {
    uint64_t flows, bytes, first_us, last_us;
    uint64_t seen, blocked, rejected;
    uint64_t wrong_direction;
    fa_pair pairs[FA_PAIRS_PER_RULE];
    uint32_t npairs, pairs_dropped;
    uint32_t dropped_unanswered, dropped_refused; /* attempts of pairs that found no place */
    bool audited;           /* required in the audited phase */
    fa_rule_status status;
} fa_rule_state;

/* Undocumented or wrong-direction traffic, aggregated. */
typedef struct fa_undoc_key {
    fa_addr orig, resp;
    uint16_t port;
    uint8_t proto;
    uint8_t wrong_direction;
} fa_undoc_key;

typedef struct fa_undoc {
    fa_undoc_key key;
    UT_hash_handle hh;
    uint64_t flows, bytes, first_us, last_us;
    uint64_t blocked, rejected;
    int rule;               /* the reversed rule for wrong-direction, else -1 */
} fa_undoc;

struct fa_audit {
    const fa_ruleset *rs;
    const fa_site *site;
    uint32_t phase;
    fa_rule_state *rules;
    const fa_portset **dports;  /* per rule: the site's ports, else the rule's */
    int *deployed;              /* rules of deployed products, in file order */
    int ndeployed;
    fa_undoc *undoc;
    uint32_t nundoc;
    uint64_t undoc_dropped;
    uint64_t by_verdict[4];
    uint64_t bytes_by_verdict[4];
    bool finished;
};

#endif
