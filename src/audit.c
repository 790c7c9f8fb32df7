/* audit.c - flow verdicts against the matrices and per-rule coverage.
 *
 * A flow is matched against every rule of the deployed products: transport,
 * destination port (the site's override if any), source port, and the roles
 * of both endpoints (not checked in port-only mode). Matching as-is makes it
 * documented; matching only with the endpoints swapped makes it
 * wrong-direction. Required rules are then judged from the attempts that
 * matched them: see docs/detection.md. */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

#include "audit_internal.h"
#include "decode.h"

#undef uthash_nonfatal_oom
#define uthash_nonfatal_oom(obj) (oom = true)

static const struct { const char *name; unsigned bit; } fail_names[] = {
    {"missing", FA_FAIL_MISSING},     {"blocked", FA_FAIL_BLOCKED},
    {"rejected", FA_FAIL_REJECTED},   {"undocumented", FA_FAIL_UNDOCUMENTED},
    {"wrong-direction", FA_FAIL_WRONG_DIRECTION}, {"ws-killed", FA_FAIL_WS_KILLED},
    {NULL, 0},
};

int fa_fail_on_parse(const char *list, unsigned *mask, char *err, size_t errlen)
{
    char buf[256];
    *mask = 0;
    if (strlen(list) >= sizeof buf) {
        snprintf(err, errlen, "--fail-on: list too long");
        return -1;
    }
    strcpy(buf, list);
    for (char *save, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (strcmp(w, "none") == 0)
            continue;
        if (strcmp(w, "all") == 0) {
            *mask |= FA_FAIL_MISSING | FA_FAIL_BLOCKED | FA_FAIL_REJECTED | FA_FAIL_UNDOCUMENTED |
                     FA_FAIL_WRONG_DIRECTION | FA_FAIL_WS_KILLED;
            continue;
        }
        int i = 0;
        while (fail_names[i].name && strcmp(fail_names[i].name, w) != 0)
            i++;
        if (!fail_names[i].name) {
            snprintf(err, errlen, "--fail-on: unknown kind '%s' (missing, blocked, rejected, "
                                  "undocumented, wrong-direction, ws-killed, all, none)", w);
            return -1;
        }
        *mask |= fail_names[i].bit;
    }
    return 0;
}

const char *fa_rule_status_name(fa_rule_status s)
{
    static const char *const names[] = {"seen", "blocked", "rejected", "not_seen",
                                        "not_observable", "not_audited"};
    return (unsigned)s <= FA_RULE_NOT_AUDITED ? names[s] : "unknown";
}

const char *fa_verdict_name(fa_verdict v)
{
    static const char *const names[] = {"out_of_scope", "documented", "undocumented",
                                        "wrong_direction"};
    return (unsigned)v <= FA_VERDICT_WRONG_DIRECTION ? names[v] : "unknown";
}

const char *fa_attempt_name(fa_attempt a)
{
    static const char *const names[] = {"seen", "blocked", "rejected"};
    return (unsigned)a <= FA_ATTEMPT_REJECTED ? names[a] : "unknown";
}

static bool product_deployed(const fa_audit *a, int product)
{
    return !a->site || a->site->product_deployed[product];
}

/* Required in the audited phase: required rules, and conditional ones whose
 * feature the site turned on. Port-only mode knows no features. */
static bool rule_audited(const fa_audit *a, const fa_rule *r)
{
    if (!product_deployed(a, r->product) || !(r->phases & a->phase))
        return false;
    if (r->requirement == FA_REQ_REQUIRED)
        return true;
    return r->requirement == FA_REQ_CONDITIONAL && a->site && r->feature >= 0 &&
           a->site->feature_enabled[r->feature];
}

fa_audit *fa_audit_new(const fa_ruleset *rs, const fa_site *site)
{
    fa_audit *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->rs = rs;
    a->site = site;
    a->phase = site ? site->phase : FA_PHASE_OPERATION;
    a->rules = calloc(rs->nrules ? (size_t)rs->nrules : 1, sizeof *a->rules);
    a->dports = calloc(rs->nrules ? (size_t)rs->nrules : 1, sizeof *a->dports);
    a->deployed = calloc(rs->nrules ? (size_t)rs->nrules : 1, sizeof *a->deployed);
    if (!a->rules || !a->dports || !a->deployed) {
        free(a->rules);
        free(a->dports);
        free(a->deployed);
        free(a);
        return NULL;
    }
    for (int i = 0; i < rs->nrules; i++) {
        a->rules[i].audited = rule_audited(a, &rs->rules[i]);
        a->dports[i] = site ? fa_site_rule_dports(site, rs, i) : &rs->rules[i].dports;
        if (product_deployed(a, rs->rules[i].product))
            a->deployed[a->ndeployed++] = i;
    }
    return a;
}

static void clear_undocumented(fa_audit *a)
{
    fa_undoc *u, *tmp;
    HASH_ITER(hh, a->undoc, u, tmp) {
        HASH_DEL(a->undoc, u);
        free(u);
    }
    a->nundoc = 0;
    a->undoc_dropped = 0;
}

void fa_audit_free(fa_audit *a)
{
    if (!a)
        return;
    clear_undocumented(a);
    free(a->rules);
    free(a->dports);
    free(a->deployed);
    free(a);
}

void fa_audit_reset(fa_audit *a)
{
    clear_undocumented(a);
    for (int i = 0; i < a->rs->nrules; i++) {
        bool audited = a->rules[i].audited;
        memset(&a->rules[i], 0, sizeof a->rules[i]);
        a->rules[i].audited = audited;
    }
    memset(a->by_verdict, 0, sizeof a->by_verdict);
    memset(a->bytes_by_verdict, 0, sizeof a->bytes_by_verdict);
    a->finished = false;
}

static bool transport_matches(const fa_rule *r, uint8_t proto)
{
    switch (proto) {
    case FA_PROTO_TCP: return r->transports & FA_TR_TCP;
    case FA_PROTO_UDP: return r->transports & FA_TR_UDP;
    /* "ICMP" in a matrix means the protocol, whichever IP version. */
    case FA_PROTO_ICMP: case FA_PROTO_ICMP6: return r->transports & (FA_TR_ICMP | FA_TR_ICMP6);
    default:
        for (int i = 0; i < r->nprotos; i++)
            if (r->protos[i] == proto)
                return true;
        return false;
    }
}

static bool has_ports(uint8_t proto)
{
    return proto == FA_PROTO_TCP || proto == FA_PROTO_UDP;
}

/* Does a flow from (src, sport) to (dst, dport) fit rule i, a rule of a
 * deployed product? The hosts' roles were looked up once for all rules. */
static bool rule_matches(const fa_audit *a, int i, uint8_t proto, const fa_addr_roles *src, uint16_t sport,
                         const fa_addr_roles *dst, uint16_t dport)
{
    const fa_rule *r = &a->rs->rules[i];
    if (!transport_matches(r, proto))
        return false;
    if (has_ports(proto) &&
        (!fa_portset_contains(a->dports[i], dport) || !fa_portset_contains(&r->sports, sport)))
        return false;
    return fa_site_roles_have(a->site, r->from_role, src) && fa_site_roles_have(a->site, r->to_role, dst);
}

/* Rules the flow fits as it went (reversed = false), or, reversed, that it
 * fits only with its hosts swapped: the rule's destination opened the
 * connection, to the rule's port or from it. */
static int match_rules(const fa_audit *a, const fa_flow *f, const fa_addr_roles *o, const fa_addr_roles *r,
                       bool reversed, int *out)
{
    uint16_t op = fa_flow_port(f, 0), rp = fa_flow_port(f, 1);
    int n = 0;
    for (int k = 0; k < a->ndeployed && n < FA_VERDICT_MAX_RULES; k++) {
        int i = a->deployed[k];
        bool hit = reversed ? rule_matches(a, i, f->key.proto, r, rp, o, op) ||
                                  rule_matches(a, i, f->key.proto, r, op, o, rp)
                            : rule_matches(a, i, f->key.proto, o, op, r, rp);
        if (hit)
            out[n++] = i;
    }
    return n;
}

/* Was the originator answered? ICMP errors quoting the originator's packets
 * and a RST to the SYN are refusals; silence is blocking. */
static fa_attempt flow_attempt(const fa_flow *f)
{
    bool refused_by_icmp = f->icmp_errors && (f->bits & FA_FLOW_ICMP_FROM_RESP);
    bool answered = f->dir[1].pkts > 0;
    if (f->key.proto == FA_PROTO_TCP) {
        fa_conn_state st = fa_flow_conn_state(f);
        if (st == FA_CS_REJ || (refused_by_icmp && !answered))
            return FA_ATTEMPT_REJECTED;
        if (st == FA_CS_S0 || st == FA_CS_RSTOS0 || st == FA_CS_SH)
            return FA_ATTEMPT_BLOCKED;
        return FA_ATTEMPT_SEEN;
    }
    if (refused_by_icmp && !answered)
        return FA_ATTEMPT_REJECTED;
    if (f->key.proto == FA_PROTO_UDP ||
        ((f->key.proto == FA_PROTO_ICMP && fa_flow_port(f, 0) == 8) ||
         (f->key.proto == FA_PROTO_ICMP6 && fa_flow_port(f, 0) == 128)))
        return answered ? FA_ATTEMPT_SEEN : FA_ATTEMPT_BLOCKED;
    return FA_ATTEMPT_SEEN;
}

static void note_pair(fa_rule_state *st, const fa_flow *f, fa_attempt att)
{
    const fa_addr *src = fa_flow_addr(f, 0), *dst = fa_flow_addr(f, 1);
    fa_pair *p = NULL;
    for (uint32_t i = 0; i < st->npairs && !p; i++)
        if (fa_addr_cmp(&st->pairs[i].src, src) == 0 && fa_addr_cmp(&st->pairs[i].dst, dst) == 0)
            p = &st->pairs[i];
    if (!p && st->npairs == FA_PAIRS_PER_RULE) {
        /* A pair that was answered can no longer fail the rule: its place
         * goes to the newcomer. Failures that find no place still count. */
        for (uint32_t i = 0; i < st->npairs && !p; i++)
            if (st->pairs[i].seen)
                p = &st->pairs[i];
        st->pairs_dropped++;
        if (!p) {
            st->dropped_unanswered += att == FA_ATTEMPT_BLOCKED;
            st->dropped_refused += att == FA_ATTEMPT_REJECTED;
            return;
        }
        memset(p, 0, sizeof *p);
        p->src = *src;
        p->dst = *dst;
    } else if (!p) {
        p = &st->pairs[st->npairs++];
        memset(p, 0, sizeof *p);
        p->src = *src;
        p->dst = *dst;
    }
    if (att == FA_ATTEMPT_SEEN) {
        p->seen++;
    } else if (att == FA_ATTEMPT_BLOCKED) {
        p->blocked++;
    } else {
        p->rejected++;
        if (f->icmp_errors) {
            p->rejected_icmp++;
            p->icmp_type = f->icmp_type;
            p->icmp_code = f->icmp_code;
        }
    }
}

static uint64_t flow_bytes(const fa_flow *f)
{
    return f->dir[0].ip_bytes + f->dir[1].ip_bytes;
}

static void note_rule_hit(fa_audit *a, int i, const fa_flow *f, fa_attempt att)
{
    fa_rule_state *st = &a->rules[i];
    if (st->flows == 0 || f->first_us < st->first_us)
        st->first_us = f->first_us;
    if (f->last_us > st->last_us)
        st->last_us = f->last_us;
    st->flows++;
    st->bytes += flow_bytes(f);
    if (att == FA_ATTEMPT_SEEN)
        st->seen++;
    else if (att == FA_ATTEMPT_BLOCKED)
        st->blocked++;
    else
        st->rejected++;
    note_pair(st, f, att);
}

static void note_undocumented(fa_audit *a, const fa_flow *f, fa_attempt att, int rule, bool wrong)
{
    fa_undoc_key k;
    fa_undoc *u;
    bool oom = false;
    memset(&k, 0, sizeof k);
    k.orig = *fa_flow_addr(f, 0);
    k.resp = *fa_flow_addr(f, 1);
    k.port = has_ports(f->key.proto) ? fa_flow_port(f, 1) : 0;
    k.proto = f->key.proto;
    k.wrong_direction = wrong;
    HASH_FIND(hh, a->undoc, &k, sizeof k, u);
    if (!u) {
        if (a->nundoc == FA_UNDOC_MAX || !(u = calloc(1, sizeof *u))) {
            a->undoc_dropped++;
            return;
        }
        u->key = k;
        u->first_us = f->first_us;
        u->rule = rule;
        HASH_ADD(hh, a->undoc, key, sizeof u->key, u);
        if (oom) {
            free(u);
            a->undoc_dropped++;
            return;
        }
        a->nundoc++;
    }
    if (f->first_us < u->first_us)
        u->first_us = f->first_us;
    if (f->last_us > u->last_us)
        u->last_us = f->last_us;
    u->flows++;
    u->bytes += flow_bytes(f);
    u->blocked += att == FA_ATTEMPT_BLOCKED;
    u->rejected += att == FA_ATTEMPT_REJECTED;
}

/* ICMP errors are the network's answer about another flow (that flow is
 * judged "rejected" for them), not traffic of their own. */
static bool is_icmp_error(const fa_flow *f)
{
    uint16_t type = fa_flow_port(f, 0);
    if (f->key.proto == FA_PROTO_ICMP)
        return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
    return f->key.proto == FA_PROTO_ICMP6 && type >= 1 && type <= 4;
}

void fa_audit_flow(fa_audit *a, const fa_flow *f, fa_flow_verdict *v)
{
    /* The hosts' roles, looked up once for every rule. */
    fa_addr_roles o, r;
    fa_site_addr_roles(a->site, fa_flow_addr(f, 0), &o);
    fa_site_addr_roles(a->site, fa_flow_addr(f, 1), &r);
    v->attempt = flow_attempt(f);
    v->nrules = is_icmp_error(f) ? 0 : match_rules(a, f, &o, &r, false, v->rules);
    if (is_icmp_error(f)) {
        v->verdict = FA_VERDICT_OUT_OF_SCOPE;
    } else if (v->nrules > 0) {
        v->verdict = FA_VERDICT_DOCUMENTED;
        /* Syslog or SNMP traps are never answered: sending is all there is. */
        for (int i = 0; i < v->nrules && v->attempt == FA_ATTEMPT_BLOCKED; i++)
            if (a->rs->rules[v->rules[i]].oneway)
                v->attempt = FA_ATTEMPT_SEEN;
        for (int i = 0; i < v->nrules; i++)
            note_rule_hit(a, v->rules[i], f, v->attempt);
    } else if (a->site && !o.in_inventory && !r.in_inventory) {
        v->verdict = FA_VERDICT_OUT_OF_SCOPE;
    } else {
        v->nrules = match_rules(a, f, &o, &r, true, v->rules);
        v->verdict = v->nrules ? FA_VERDICT_WRONG_DIRECTION : FA_VERDICT_UNDOCUMENTED;
        for (int i = 0; i < v->nrules; i++)
            a->rules[v->rules[i]].wrong_direction++;
        note_undocumented(a, f, v->attempt, v->nrules ? v->rules[0] : -1, v->nrules > 0);
    }
    a->by_verdict[v->verdict]++;
    a->bytes_by_verdict[v->verdict] += flow_bytes(f);
}

/* A required rule is seen only if every host pair that tried it got
 * through at least once; otherwise the pairs that never did decide. */
static fa_rule_status settle(const fa_rule *r, const fa_rule_state *st)
{
    if (!st->audited)
        return FA_RULE_NOT_AUDITED;
    if (!r->observable)
        return FA_RULE_NOT_OBSERVABLE;
    if (st->flows == 0)
        return FA_RULE_NOT_SEEN;
    /* Attempts that found no place among the kept pairs are taken as
     * failures: better a finding to check than a missed one. */
    bool any_rejected = st->dropped_refused > 0, any_blocked = st->dropped_unanswered > 0;
    for (uint32_t i = 0; i < st->npairs; i++) {
        const fa_pair *p = &st->pairs[i];
        if (p->seen)
            continue;
        any_rejected |= p->rejected > 0;
        any_blocked |= p->blocked > 0;
    }
    if (any_rejected)
        return FA_RULE_REJECTED;
    if (any_blocked)
        return FA_RULE_BLOCKED;
    return FA_RULE_SEEN;
}

void fa_audit_finish(fa_audit *a)
{
    for (int i = 0; i < a->rs->nrules; i++)
        a->rules[i].status = settle(&a->rs->rules[i], &a->rules[i]);
    a->finished = true;
}

fa_rule_status fa_audit_rule_status(const fa_audit *a, int rule)
{
    return a->rules[rule].status;
}

unsigned fa_audit_findings(const fa_audit *a)
{
    unsigned m = 0;
    for (int i = 0; i < a->rs->nrules; i++) {
        switch (a->rules[i].status) {
        case FA_RULE_NOT_SEEN: m |= FA_FAIL_MISSING; break;
        case FA_RULE_BLOCKED: m |= FA_FAIL_BLOCKED; break;
        case FA_RULE_REJECTED: m |= FA_FAIL_REJECTED; break;
        default: break;
        }
    }
    if (a->by_verdict[FA_VERDICT_UNDOCUMENTED])
        m |= FA_FAIL_UNDOCUMENTED;
    if (a->by_verdict[FA_VERDICT_WRONG_DIRECTION])
        m |= FA_FAIL_WRONG_DIRECTION;
    return m;
}
