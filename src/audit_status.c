/* audit_status.c - settles what the attempts mean once all flows are in:
 * a status per port of every rule, a status per rule, and the kinds of
 * findings for --fail-on. See docs/detection.md, "Rule statuses". */
#include "audit.h"

#include <string.h>

#include "audit_internal.h"

bool fa_audit_one_way(const fa_audit *a, const fa_addr *src, const fa_addr *dst)
{
    fa_hostpair_key k;
    memset(&k, 0, sizeof k);
    k.src = *src;
    k.dst = *dst;
    const fa_hostpair *fwd = fa_keytab_find(&a->hostpairs, &k);
    if (!fwd || !fwd->one_way || fwd->dst_packets)
        return false;
    k.src = *dst;
    k.dst = *src;
    const fa_hostpair *back = fa_keytab_find(&a->hostpairs, &k);
    return !back || back->flows == 0;
}

/* A port is seen only if every host pair that tried it got through at
 * least once; otherwise the pairs that never did decide. Silence between
 * hosts whose answers the capture cannot hold proves nothing. */
static fa_rule_status settle_port(const fa_audit *a, const fa_port_state *st)
{
    if (st->flows == 0)
        return FA_RULE_NOT_SEEN;
    /* Attempts that found no place among the kept pairs are taken as
     * failures: better a finding to check than a missed one. */
    bool rejected = st->dropped_refused > 0, blocked = st->dropped_unanswered > 0, unconfirmed = false;
    for (uint32_t i = 0; i < st->npairs; i++) {
        const fa_pair *p = &st->pairs[i];
        if (p->seen)
            continue;
        bool one_way = fa_audit_one_way(a, &p->src, &p->dst);
        rejected |= p->rejected > 0;
        blocked |= p->blocked > 0 && !one_way;
        unconfirmed |= p->unconfirmed > 0 || (p->blocked > 0 && one_way);
    }
    if (rejected)
        return FA_RULE_REJECTED;
    if (blocked)
        return FA_RULE_BLOCKED;
    return unconfirmed ? FA_RULE_UNCONFIRMED : FA_RULE_SEEN;
}

/* The worst of the ports decides: a refused or dropped port is a finding
 * even when another port of the row was answered. Ports that are
 * alternatives (any-of) need one of them answered; the others need all. */
static fa_rule_status settle_rule(const fa_rule *r, const fa_rule_state *rst, const fa_port_state *ports)
{
    static const fa_rule_status worst_first[] = {FA_RULE_REJECTED, FA_RULE_BLOCKED, FA_RULE_NOT_SEEN,
                                                 FA_RULE_UNCONFIRMED};
    bool any_seen = false, any_unconfirmed = false, used = false;
    for (int k = 0; k < rst->nports; k++) {
        any_seen |= ports[k].status == FA_RULE_SEEN;
        any_unconfirmed |= ports[k].status == FA_RULE_UNCONFIRMED;
        used |= ports[k].flows > 0;
    }
    /* An optional row is not required, but one that was tried is judged
     * on what its attempts met: a refused attempt is refused all the same. */
    bool optional = rst->not_audited == FA_NA_OPTIONAL && used;
    if (rst->not_audited != FA_NA_NONE && !optional)
        return FA_RULE_NOT_AUDITED;
    if (!r->observable)
        return FA_RULE_NOT_OBSERVABLE;
    bool alternatives = r->any_of || optional;
    for (size_t w = 0; w < sizeof worst_first / sizeof worst_first[0]; w++) {
        fa_rule_status s = worst_first[w];
        if (alternatives && (s == FA_RULE_NOT_SEEN || s == FA_RULE_UNCONFIRMED))
            break;
        for (int k = 0; k < rst->nports; k++)
            if (ports[k].status == s)
                return s;
    }
    if (alternatives && !any_seen)
        return any_unconfirmed ? FA_RULE_UNCONFIRMED : FA_RULE_NOT_SEEN;
    return FA_RULE_SEEN;
}

void fa_audit_settle(fa_audit *a)
{
    for (int i = 0; i < a->rs->nrules; i++) {
        fa_rule_state *rst = &a->rules[i];
        fa_port_state *ports = &a->ports[rst->first_port];
        for (int k = 0; k < rst->nports; k++)
            ports[k].status = settle_port(a, &ports[k]);
        rst->status = settle_rule(&a->rs->rules[i], rst, ports);
        if (rst->status == FA_RULE_NOT_SEEN && a->watch && !a->watch(a->watch_arg, a->rs, a->site, i))
            rst->status = FA_RULE_NOT_OBSERVABLE;
    }
}

void fa_audit_set_watch(fa_audit *a, fa_audit_watch_fn fn, void *arg)
{
    a->watch = fn;
    a->watch_arg = arg;
}

void fa_audit_finish(fa_audit *a)
{
    fa_audit_settle(a);
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
