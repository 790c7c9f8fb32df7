/* audit_internal.h - state shared by audit.c (classification), audit_status.c
 * (statuses) and audit_report.c (printing). Not part of the public API. */
#ifndef FLOWAUDIT_AUDIT_INTERNAL_H
#define FLOWAUDIT_AUDIT_INTERNAL_H

#include "audit.h"
#include "keytab.h"
#include "rule_index.h"

#define FA_PAIRS_PER_RULE 32     /* host pairs kept per port of a rule */
#define FA_UNDOC_MAX 65536
#define FA_HOSTPAIRS_MAX 65536   /* host pairs whose capture direction is tracked */

/* One (source host, destination host) pair that used or tried a port. */
typedef struct fa_pair {
    fa_addr src, dst;
    uint32_t seen, blocked, rejected, unconfirmed;
    uint32_t rejected_icmp;      /* of rejected: by an ICMP error, not a RST */
    uint8_t icmp_type, icmp_code; /* the last such error */
} fa_pair;

/* One requirement of a rule: a port (or range) of its port set, each with
 * its own verdict, since one answered port says nothing of the others. A
 * rule without ports (ICMP, proto:N, "*") is one. */
typedef struct fa_port_state {
    uint64_t flows, bytes, first_us, last_us;
    uint64_t seen, blocked, rejected, unconfirmed;
    fa_pair pairs[FA_PAIRS_PER_RULE];
    uint32_t npairs, pairs_dropped;
    uint32_t dropped_unanswered, dropped_refused; /* attempts of pairs that found no place */
    fa_rule_status status;
} fa_port_state;

typedef struct fa_rule_state {
    int first_port, nports;     /* its fa_port_state in audit.ports */
    uint64_t wrong_direction;
    uint64_t not_in_force;      /* flows only this rule would document, were it in force */
    bool applies;               /* in force: may document a flow */
    uint8_t not_audited;        /* fa_not_audited */
    int missing_role;           /* FA_NA_ROLE: the first role not deployed */
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
    uint64_t flows, bytes, first_us, last_us;
    uint64_t blocked, rejected, unconfirmed, midstream;
    int rule;               /* the reversed rule for wrong-direction, else -1 */
    int only_rule;          /* a rule not in force that would document it, else -1 */
} fa_undoc;

/* What was captured between two hosts, one direction per entry: a span
 * port that sees one direction only makes every attempt look unanswered. */
typedef struct fa_hostpair_key {
    fa_addr src, dst;
} fa_hostpair_key;

typedef struct fa_hostpair {
    fa_hostpair_key key;
    uint64_t flows;         /* flows src opened to dst */
    uint64_t one_way;       /* of those: src acknowledged what dst sent, none of it captured */
    uint64_t dst_packets;   /* packets dst sent to src, in flows either side opened */
} fa_hostpair;

struct fa_audit {
    const fa_ruleset *rs;
    const fa_site *site;
    uint32_t phase;
    fa_rule_state *rules;
    fa_port_state *ports;       /* every rule's ports, rule by rule */
    fa_port_state *saved;       /* fa_audit_checkpoint's copy of ports */
    int nports;
    const fa_portset **dports;  /* per rule: the site's ports, else the rule's */
    int *deployed;              /* rules of deployed products, in file order */
    int ndeployed;
    fa_rule_index *index;       /* deployed: the candidates for a TCP/UDP port */
    fa_keytab undoc;            /* of fa_undoc */
    uint64_t undoc_dropped;
    fa_keytab hostpairs;        /* of fa_hostpair */
    uint64_t hostpairs_dropped;
    uint64_t by_verdict[4];
    uint64_t bytes_by_verdict[4];
    uint64_t evicted, continued; /* flows judged that the table evicted or resumed */
    fa_audit_scope scope;
    bool has_scope;
    bool finished;
    fa_audit_watch_fn watch;    /* NULL: every rule could be seen */
    void *watch_arg;
};

/* audit_status.c */
/* True when src's packets to dst were captured but none of dst's back. */
bool fa_audit_one_way(const fa_audit *a, const fa_addr *src, const fa_addr *dst);
/* Settles every port's and rule's status (fa_audit_finish). */
void fa_audit_settle(fa_audit *a);

/* audit_report.c, shared with audit_json.c */
/* "tcp/38866", "tcp,udp/88", "icmp"; port: one port item, or -1 for all. */
void fa_audit_service(const fa_audit *a, int rule, int port, char *buf, size_t len);
/* A rule's use summed over its ports. */
typedef struct fa_rule_use {
    uint64_t flows, bytes, first_us, last_us, seen, blocked, rejected, unconfirmed;
} fa_rule_use;
void fa_audit_rule_use(const fa_audit *a, int rule, fa_rule_use *u);
/* Aggregates sorted for output (caller frees), or NULL. */
fa_undoc **fa_audit_sorted_undoc(const fa_audit *a);
/* Host pairs of which only one direction was captured, sorted (caller
 * frees; *n set), or NULL. */
fa_hostpair **fa_audit_one_way_pairs(const fa_audit *a, uint32_t *n);
/* Rules of a product by status, those not audited (whatever the reason)
 * under FA_RULE_NOT_AUDITED: the coverage line. */
void fa_audit_coverage(const fa_audit *a, int product, int n[FA_RULE_STATUSES]);
/* Required rules of the deployed products that could be judged: seen or
 * not, tried or not. None when every one is unobservable or, from
 * sensors, no network was announced yet. */
int fa_audit_required_judged(const fa_audit *a);
/* Required rules left unaudited because role is not deployed. */
int fa_audit_role_unaudited(const fa_audit *a, int role);
/* Whether a port of a rule is a finding, and the rule's findings. */
bool fa_audit_port_is_finding(const fa_audit *a, int rule, int port);
bool fa_audit_rule_not_seen_whole(const fa_audit *a, int rule);
/* "high", "medium" or "low" for a finding of rule with status s. */
const char *fa_audit_severity(const fa_audit *a, int rule, fa_rule_status s);

#endif
