/* audit.h - holds finished flows against the port matrices: a verdict per
 * flow, a status per required rule, hit counts per rule, aggregated
 * undocumented traffic. Pipeline stage 4 (classify); audit_report.c prints
 * the result (stage 5). Detection logic: docs/detection.md. */
#ifndef FLOWAUDIT_AUDIT_H
#define FLOWAUDIT_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "flow.h"
#include "flow_json.h"
#include "rules.h"
#include "site.h"

typedef enum fa_verdict {
    FA_VERDICT_OUT_OF_SCOPE,    /* no inventory host: counted, not listed */
    FA_VERDICT_DOCUMENTED,      /* a rule allows it */
    FA_VERDICT_UNDOCUMENTED,    /* involves an inventory host, no rule */
    FA_VERDICT_WRONG_DIRECTION, /* a rule allows it only the other way */
} fa_verdict;

/* How a flow's attempt went, as seen from its originator. */
typedef enum fa_attempt {
    FA_ATTEMPT_SEEN,        /* the responder answered */
    FA_ATTEMPT_BLOCKED,     /* no answer: unanswered SYNs, UDP with no reply */
    FA_ATTEMPT_REJECTED,    /* RST to the SYN, or ICMP unreachable */
    FA_ATTEMPT_UNCONFIRMED, /* only the originator's side was captured */
} fa_attempt;

/* A rule's status, and each of its ports'. */
typedef enum fa_rule_status {
    FA_RULE_SEEN,
    FA_RULE_BLOCKED,
    FA_RULE_REJECTED,
    FA_RULE_NOT_SEEN,
    FA_RULE_NOT_OBSERVABLE,
    FA_RULE_NOT_AUDITED,  /* optional, feature off, other phase, product or role absent */
    FA_RULE_UNCONFIRMED,  /* tried, but the answer's direction was not captured */
    FA_RULE_STATUSES
} fa_rule_status;

/* Why a rule is not audited. */
typedef enum fa_not_audited {
    FA_NA_NONE,           /* it is audited */
    FA_NA_PRODUCT,        /* product not deployed */
    FA_NA_PHASE,          /* another phase */
    FA_NA_OPTIONAL,       /* optional in the document */
    FA_NA_FEATURE,        /* its feature is off */
    FA_NA_ROLE,           /* a role of it is not deployed (the site maps no host) */
} fa_not_audited;

/* --fail-on kinds. */
enum fa_fail_bits {
    FA_FAIL_MISSING = 1u << 0,
    FA_FAIL_BLOCKED = 1u << 1,
    FA_FAIL_REJECTED = 1u << 2,
    FA_FAIL_UNDOCUMENTED = 1u << 3,
    FA_FAIL_WRONG_DIRECTION = 1u << 4,
    FA_FAIL_WS_KILLED = 1u << 5,
};

/* Parses "missing,blocked,rejected,undocumented,wrong-direction,ws-killed"
 * (or "none"/"all"). Returns 0 or -1 with err naming the bad word. */
int fa_fail_on_parse(const char *list, unsigned *mask, char *err, size_t errlen);

#define FA_VERDICT_MAX_RULES 16

typedef struct fa_flow_verdict {
    fa_verdict verdict;
    fa_attempt attempt;
    bool swapped;                     /* documented with the endpoints swapped: the
                                       * flow was met mid-connection */
    bool initiator_known;             /* the SYN (or a UDP/ICMP flow's first packet) was seen */
    int nrules;                       /* matching rules (documented) or reversed ones */
    int rules[FA_VERDICT_MAX_RULES];  /* indices into ruleset.rules */
    int only_rule;                    /* undocumented: a rule not in force that would
                                       * document it, else -1 */
} fa_flow_verdict;

/* What the audit covers, for the report's header; strings are not copied
 * and must outlive the audit. */
typedef struct fa_audit_scope {
    const char *const *inputs; int ninputs;  /* files, or interfaces when live */
    bool live;
    const char *rules_dir;
    const char *site_file;                   /* NULL: port-only */
    uint64_t first_us, last_us;              /* the observation window */
    bool records;                            /* the inputs are flow records (records.h) */
    uint32_t sampling;                       /* records: the exporter samples 1 in N packets; 0, 1: not */
    uint64_t joined;                         /* records: flows joined from two uniflow records */
} fa_audit_scope;

/* What flow records cannot show, said wherever verdicts from records are
 * reported (text, HTML): one sentence each, NULL-ended. */
extern const char *const fa_audit_record_caveats[];

typedef struct fa_audit fa_audit;

/* A new audit over rs (not copied: must outlive the audit). site may be
 * NULL: port-only mode. Returns NULL when out of memory. */
fa_audit *fa_audit_new(const fa_ruleset *rs, const fa_site *site);
void fa_audit_free(fa_audit *a);

/* Classifies one finished flow and records it. */
void fa_audit_flow(fa_audit *a, const fa_flow *f, fa_flow_verdict *v);

/* Live reports judge what has already happened on flows still open: keep
 * the audit as it is (fa_audit_checkpoint), add the open flows' answers and
 * refusals (fa_audit_open_flow; silence is not judged before the flow
 * ends), report, and go back (fa_audit_rollback). */
void fa_audit_checkpoint(fa_audit *a);
void fa_audit_open_flow(fa_audit *a, const fa_flow *f);
void fa_audit_rollback(fa_audit *a);

/* Sets what the report says was audited. */
void fa_audit_set_scope(fa_audit *a, const fa_audit_scope *scope);
/* Adds the "verdict", "attempt", "rules", "initiator_known" and
 * "only_rule" fields to a flow record still open in rec. */
void fa_audit_verdict_json(const fa_audit *a, const fa_flow_verdict *v, fa_json_rec *rec);

/* Which rules some sensor could have seen (an auditor fed over Kafka,
 * sensors.h): a required rule that watch says none could is reported not
 * observable rather than not seen. fn NULL: every rule could be seen. */
typedef bool (*fa_audit_watch_fn)(void *arg, const fa_ruleset *rs, const fa_site *site, int rule);
void fa_audit_set_watch(fa_audit *a, fa_audit_watch_fn fn, void *arg);

/* Settles every rule's status once all flows are in. */
void fa_audit_finish(fa_audit *a);
fa_rule_status fa_audit_rule_status(const fa_audit *a, int rule);
const char *fa_rule_status_name(fa_rule_status s);
const char *fa_verdict_name(fa_verdict v);
const char *fa_attempt_name(fa_attempt a);
const char *fa_not_audited_name(fa_not_audited why);
/* Kinds of findings present (fa_fail_bits). */
unsigned fa_audit_findings(const fa_audit *a);

/* The admin's report, top-down: coverage, findings, undocumented flows,
 * rule hits, totals. color: ANSI colours. Returns 0 or -1 on write error. */
int fa_audit_print_text(const fa_audit *a, FILE *out, bool color);
/* NDJSON records: one "rule" per rule, one "finding" per finding, one
 * "undocumented" per aggregate, one "audit_totals". Returns 0 or -1. */
int fa_audit_write_json(const fa_audit *a, FILE *out);
/* The same records, handed to a sink. */
int fa_audit_json_records(const fa_audit *a, const fa_json_sink *sink);

/* Starts a new audit window: forgets every rule's hits, the aggregates and
 * the totals, keeps the configuration. */
void fa_audit_reset(fa_audit *a);

#endif
