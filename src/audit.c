/* audit.c - flow verdicts against the matrices, and what each verdict adds
 * to the rules' ports, the undocumented aggregates and the capture
 * directions of host pairs.
 *
 * A flow is matched against the rules in force (deployed product, audited
 * phase, feature on): transport, destination port (the site's override if
 * any), source port, and the roles of both endpoints (not checked in
 * port-only mode). The connection's initiator must be the rule's source;
 * a flow whose initiator was not seen (met mid-connection) may match
 * either way round. A flow that opened the other way round is
 * wrong-direction. Statuses are settled in audit_status.c; see
 * docs/detection.md. */
#include "audit.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "audit_internal.h"
#include "decode.h"

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
    static const char *const names[FA_RULE_STATUSES] = {"seen", "blocked", "rejected", "not_seen",
                                                        "not_observable", "not_audited", "unconfirmed"};
    return (unsigned)s < FA_RULE_STATUSES ? names[s] : "unknown";
}

const char *fa_verdict_name(fa_verdict v)
{
    static const char *const names[] = {"out_of_scope", "documented", "undocumented",
                                        "wrong_direction"};
    return (unsigned)v <= FA_VERDICT_WRONG_DIRECTION ? names[v] : "unknown";
}

const char *fa_attempt_name(fa_attempt a)
{
    static const char *const names[] = {"seen", "blocked", "rejected", "unconfirmed"};
    return (unsigned)a <= FA_ATTEMPT_UNCONFIRMED ? names[a] : "unknown";
}

const char *fa_not_audited_name(fa_not_audited why)
{
    static const char *const names[] = {NULL, "product_not_deployed", "other_phase", "optional",
                                        "feature_off", "role_not_deployed"};
    return (unsigned)why <= FA_NA_ROLE ? names[why] : NULL;
}

static bool product_deployed(const fa_audit *a, int product)
{
    return !a->site || a->site->product_deployed[product];
}

static bool role_deployed(const fa_audit *a, int role)
{
    return role == FA_ROLE_ANY || !a->site || a->site->role_mapped[role];
}

/* Why a rule is not required in the audited phase, or FA_NA_NONE when it
 * is. Port-only mode knows no features and no roles. */
static fa_not_audited why_not_audited(const fa_audit *a, const fa_rule *r, int *missing_role)
{
    *missing_role = -1;
    if (!product_deployed(a, r->product))
        return FA_NA_PRODUCT;
    if (!(r->phases & a->phase))
        return FA_NA_PHASE;
    if (r->requirement == FA_REQ_OPTIONAL)
        return FA_NA_OPTIONAL;
    if (r->requirement == FA_REQ_CONDITIONAL && !(a->site && r->feature >= 0 && a->site->feature_enabled[r->feature]))
        return FA_NA_FEATURE;
    if (!role_deployed(a, r->from_role) || !role_deployed(a, r->to_role)) {
        *missing_role = role_deployed(a, r->from_role) ? r->to_role : r->from_role;
        return FA_NA_ROLE;
    }
    return FA_NA_NONE;
}

/* In force: the rule may document a flow. Without a site every rule of
 * every product is, since nothing says which features and phase apply. */
static bool rule_applies(const fa_audit *a, const fa_rule *r)
{
    if (!a->site)
        return true;
    if (!product_deployed(a, r->product) || !(r->phases & a->phase))
        return false;
    return r->requirement != FA_REQ_CONDITIONAL || (r->feature >= 0 && a->site->feature_enabled[r->feature]);
}

static int setup_rules(fa_audit *a)
{
    const fa_ruleset *rs = a->rs;
    a->nports = 0;
    for (int i = 0; i < rs->nrules; i++) {
        fa_rule_state *st = &a->rules[i];
        a->dports[i] = a->site ? fa_site_rule_dports(a->site, rs, i) : &rs->rules[i].dports;
        st->first_port = a->nports;
        st->nports = (int)fa_portset_items(a->dports[i]);
        a->nports += st->nports;
        st->not_audited = (uint8_t)why_not_audited(a, &rs->rules[i], &st->missing_role);
        st->applies = rule_applies(a, &rs->rules[i]);
        if (product_deployed(a, rs->rules[i].product))
            a->deployed[a->ndeployed++] = i;
    }
    a->ports = calloc((size_t)a->nports + 1, sizeof *a->ports);
    a->saved = calloc((size_t)a->nports + 1, sizeof *a->saved);
    a->index = fa_rule_index_new(rs, a->deployed, a->ndeployed, a->dports);
    return a->ports && a->saved && a->index ? 0 : -1;
}

fa_audit *fa_audit_new(const fa_ruleset *rs, const fa_site *site)
{
    fa_audit *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->rs = rs;
    a->site = site;
    fa_keytab_init(&a->undoc, sizeof(fa_undoc), sizeof(fa_undoc_key), FA_UNDOC_MAX);
    fa_keytab_init(&a->hostpairs, sizeof(fa_hostpair), sizeof(fa_hostpair_key), FA_HOSTPAIRS_MAX);
    a->phase = site ? site->phase : FA_PHASE_OPERATION;
    size_t n = rs->nrules ? (size_t)rs->nrules : 1;
    a->rules = calloc(n, sizeof *a->rules);
    a->dports = calloc(n, sizeof *a->dports);
    a->deployed = calloc(n, sizeof *a->deployed);
    if (!a->rules || !a->dports || !a->deployed || setup_rules(a) != 0) {
        fa_audit_free(a);
        return NULL;
    }
    return a;
}

static void clear_aggregates(fa_audit *a)
{
    fa_keytab_clear(&a->undoc);
    fa_keytab_clear(&a->hostpairs);
    a->undoc_dropped = a->hostpairs_dropped = 0;
}

void fa_audit_free(fa_audit *a)
{
    if (!a)
        return;
    clear_aggregates(a);
    free(a->rules);
    free(a->ports);
    free(a->saved);
    free(a->dports);
    free(a->deployed);
    fa_rule_index_free(a->index);
    free(a);
}

void fa_audit_reset(fa_audit *a)
{
    clear_aggregates(a);
    /* Each port state is about 2 KiB, nearly all of it pairs that no flow
     * took: find_pair zeroes a pair when it takes one, so only the pairs
     * in use need clearing for the state to be as calloc left it. */
    const size_t pairs_at = offsetof(fa_port_state, pairs), pairs_end = pairs_at + sizeof a->ports->pairs;
    for (int k = 0; k < a->nports; k++) {
        fa_port_state *st = &a->ports[k];
        memset(st->pairs, 0, st->npairs * sizeof *st->pairs);
        memset(st, 0, pairs_at);
        memset((char *)st + pairs_end, 0, sizeof *st - pairs_end);
    }
    for (int i = 0; i < a->rs->nrules; i++) {
        a->rules[i].wrong_direction = 0;
        a->rules[i].not_in_force = 0;
        a->rules[i].status = FA_RULE_NOT_SEEN;
    }
    memset(a->by_verdict, 0, sizeof a->by_verdict);
    memset(a->bytes_by_verdict, 0, sizeof a->bytes_by_verdict);
    a->evicted = a->continued = 0;
    a->finished = false;
}

const char *const fa_audit_record_caveats[] = {
    "evidence: flow records, not packets: attempts judged from conn_state or TCP flags and packet counts",
    "ICMP unreachables paired by host pair and time, as records quote no connection",
    "no WebSocket or long-lived session endings: those need packets",
    NULL,
};

void fa_audit_set_scope(fa_audit *a, const fa_audit_scope *scope)
{
    a->scope = *scope;
    a->has_scope = true;
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

/* Does a connection from (src, sport) to (dst, dport) fit rule i? The
 * hosts' roles were looked up once for all rules. */
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

/* The two ends of a flow as a connection: who opened it, to which port. */
typedef struct ends {
    const fa_addr_roles *src, *dst;
    uint16_t sport, dport;
} ends;

/* Rules, in force or not (in_force), that the connection fits, in file
 * order; at most FA_VERDICT_MAX_RULES. Only the rules the index gives for
 * the port are tried; every deployed rule for a protocol without ports. */
static int match_rules(const fa_audit *a, uint8_t proto, const ends *e, bool in_force, int *out)
{
    int n = 0, ncand;
    const int *cand = fa_rule_index_find(a->index, proto, e->dport, &ncand);
    if (!cand) {
        cand = a->deployed;
        ncand = a->ndeployed;
    }
    for (int k = 0; k < ncand && n < FA_VERDICT_MAX_RULES; k++) {
        int i = cand[k];
        if (a->rules[i].applies == in_force && rule_matches(a, i, proto, e->src, e->sport, e->dst, e->dport))
            out[n++] = i;
    }
    return n;
}

/* A TCP flow's initiator is known when the originator's SYN (Zeek's 'S':
 * a SYN without ACK) was seen; a SYN-ACK first ('H') comes from the
 * server, and a flow resumed after eviction starts mid-stream, with no
 * 'S' (a new SYN on its tuple starts a new flow). A UDP or ICMP flow's
 * first packet is its initiator's. */
static bool initiator_known(const fa_flow *f)
{
    /* A flow record whose direction was guessed ('^': Zeek's flip, or two
     * uniflows whose order neither flags nor times told) has none. */
    if ((f->bits & FA_FLOW_RECORD) && memchr(f->history, '^', sizeof f->history))
        return false;
    if (f->key.proto != FA_PROTO_TCP)
        return true;
    return memchr(f->history, 'S', sizeof f->history) != NULL;
}

/* The originator acknowledged packets of the responder's that the capture
 * does not hold: the responder's direction is not on this span. */
static bool one_way_capture(const fa_flow *f)
{
    return f->key.proto == FA_PROTO_TCP && f->dir[1].pkts == 0 && (f->dir[0].flags & FA_TH_ACK);
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
        if (one_way_capture(f))
            return FA_ATTEMPT_UNCONFIRMED;
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

static fa_pair *find_pair(fa_port_state *st, const fa_addr *src, const fa_addr *dst, fa_attempt att)
{
    for (uint32_t i = 0; i < st->npairs; i++)
        if (fa_addr_cmp(&st->pairs[i].src, src) == 0 && fa_addr_cmp(&st->pairs[i].dst, dst) == 0)
            return &st->pairs[i];
    fa_pair *p = NULL;
    if (st->npairs == FA_PAIRS_PER_RULE) {
        /* A pair that was answered can no longer fail the port: its place
         * goes to the newcomer. Failures that find no place still count. */
        for (uint32_t i = 0; i < st->npairs && !p; i++)
            if (st->pairs[i].seen)
                p = &st->pairs[i];
        st->pairs_dropped++;
        if (!p) {
            st->dropped_unanswered += att == FA_ATTEMPT_BLOCKED;
            st->dropped_refused += att == FA_ATTEMPT_REJECTED;
            return NULL;
        }
    } else {
        p = &st->pairs[st->npairs++];
    }
    memset(p, 0, sizeof *p);
    p->src = *src;
    p->dst = *dst;
    return p;
}

static void note_pair(fa_port_state *st, const fa_flow *f, const fa_addr *src, const fa_addr *dst,
                      fa_attempt att)
{
    fa_pair *p = find_pair(st, src, dst, att);
    if (!p)
        return;
    switch (att) {
    case FA_ATTEMPT_SEEN: p->seen++; break;
    case FA_ATTEMPT_BLOCKED: p->blocked++; break;
    case FA_ATTEMPT_UNCONFIRMED: p->unconfirmed++; break;
    case FA_ATTEMPT_REJECTED:
        p->rejected++;
        if (f->icmp_errors) {
            p->rejected_icmp++;
            p->icmp_type = f->icmp_type;
            p->icmp_code = f->icmp_code;
        }
        break;
    }
}

static uint64_t flow_bytes(const fa_flow *f)
{
    return f->dir[0].ip_bytes + f->dir[1].ip_bytes;
}

/* The port of rule i that the connection used: each port is a requirement
 * of its own. */
static fa_port_state *port_of(fa_audit *a, int i, uint16_t dport)
{
    const fa_rule_state *rst = &a->rules[i];
    int item = fa_portset_item_of(a->dports[i], dport);
    return &a->ports[rst->first_port + (item > 0 && item < rst->nports ? item : 0)];
}

static void note_rule_hit(fa_audit *a, int i, const fa_flow *f, const fa_flow_verdict *v)
{
    bool sw = v->swapped;
    fa_port_state *st = port_of(a, i, fa_flow_port(f, sw ? 0 : 1));
    if (st->flows == 0 || f->first_us < st->first_us)
        st->first_us = f->first_us;
    if (f->last_us > st->last_us)
        st->last_us = f->last_us;
    st->flows++;
    st->bytes += flow_bytes(f);
    st->seen += v->attempt == FA_ATTEMPT_SEEN;
    st->blocked += v->attempt == FA_ATTEMPT_BLOCKED;
    st->rejected += v->attempt == FA_ATTEMPT_REJECTED;
    st->unconfirmed += v->attempt == FA_ATTEMPT_UNCONFIRMED;
    note_pair(st, f, fa_flow_addr(f, sw ? 1 : 0), fa_flow_addr(f, sw ? 0 : 1), v->attempt);
}

/* An optional row that repeats a port of a required row (App Layering's
 * "Key ports" items beside the table rows) counts only the attempts that
 * no required row counts, so that one failure is reported once. */
static void note_rule_hits(fa_audit *a, const fa_flow *f, const fa_flow_verdict *v)
{
    bool required = false;
    for (int i = 0; i < v->nrules; i++)
        required |= a->rules[v->rules[i]].not_audited == FA_NA_NONE;
    for (int i = 0; i < v->nrules; i++)
        if (!required || a->rules[v->rules[i]].not_audited != FA_NA_OPTIONAL)
            note_rule_hit(a, v->rules[i], f, v);
}

static void note_undocumented(fa_audit *a, const fa_flow *f, const fa_flow_verdict *v)
{
    fa_undoc_key k;
    bool added;
    bool wrong = v->verdict == FA_VERDICT_WRONG_DIRECTION;
    memset(&k, 0, sizeof k);
    k.orig = *fa_flow_addr(f, 0);
    k.resp = *fa_flow_addr(f, 1);
    k.port = has_ports(f->key.proto) ? fa_flow_port(f, 1) : 0;
    k.proto = f->key.proto;
    k.wrong_direction = wrong;
    fa_undoc *u = fa_keytab_get(&a->undoc, &k, &added);
    if (!u) {
        a->undoc_dropped++;
        return;
    }
    if (added) {
        u->first_us = f->first_us;
        u->rule = wrong ? v->rules[0] : -1;
        u->only_rule = v->only_rule;
    }
    if (f->first_us < u->first_us)
        u->first_us = f->first_us;
    if (f->last_us > u->last_us)
        u->last_us = f->last_us;
    u->flows++;
    u->bytes += flow_bytes(f);
    u->blocked += v->attempt == FA_ATTEMPT_BLOCKED;
    u->rejected += v->attempt == FA_ATTEMPT_REJECTED;
    u->unconfirmed += v->attempt == FA_ATTEMPT_UNCONFIRMED;
    u->midstream += !v->initiator_known;
}

static fa_hostpair *hostpair(fa_audit *a, const fa_addr *src, const fa_addr *dst)
{
    fa_hostpair_key k;
    bool added;
    memset(&k, 0, sizeof k);
    k.src = *src;
    k.dst = *dst;
    fa_hostpair *h = fa_keytab_get(&a->hostpairs, &k, &added);
    if (!h)
        a->hostpairs_dropped++;
    return h;
}

/* Which directions between the two hosts the capture holds. */
static void note_directions(fa_audit *a, const fa_flow *f)
{
    const fa_addr *o = fa_flow_addr(f, 0), *r = fa_flow_addr(f, 1);
    fa_hostpair *h = hostpair(a, o, r);
    if (h) {
        h->flows++;
        h->one_way += one_way_capture(f);
        h->dst_packets += f->dir[1].pkts;
    }
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

/* Documented by a rule in force: as the connection went, or, when its
 * initiator was not seen, either way round. */
static void judge_documented(const fa_audit *a, const fa_flow *f, const fa_addr_roles *o,
                             const fa_addr_roles *r, fa_flow_verdict *v)
{
    ends as_is = {o, r, fa_flow_port(f, 0), fa_flow_port(f, 1)};
    ends swapped = {r, o, fa_flow_port(f, 1), fa_flow_port(f, 0)};
    v->nrules = match_rules(a, f->key.proto, &as_is, true, v->rules);
    if (v->nrules == 0 && !v->initiator_known) {
        v->nrules = match_rules(a, f->key.proto, &swapped, true, v->rules);
        v->swapped = v->nrules > 0;
        /* Its originator is the rule's destination, which spoke: the path
         * to it was open. */
        if (v->swapped)
            v->attempt = FA_ATTEMPT_SEEN;
    }
}

/* Not documented: opened the other way round (only when the initiator is
 * known), or allowed only by a rule that is not in force. */
static void judge_other(const fa_audit *a, const fa_flow *f, const fa_addr_roles *o,
                        const fa_addr_roles *r, fa_flow_verdict *v)
{
    ends as_is = {o, r, fa_flow_port(f, 0), fa_flow_port(f, 1)};
    ends reversed = {r, o, fa_flow_port(f, 0), fa_flow_port(f, 1)};
    int other[FA_VERDICT_MAX_RULES];
    v->nrules = v->initiator_known ? match_rules(a, f->key.proto, &reversed, true, v->rules) : 0;
    v->verdict = v->nrules ? FA_VERDICT_WRONG_DIRECTION : FA_VERDICT_UNDOCUMENTED;
    if (!v->nrules && match_rules(a, f->key.proto, &as_is, false, other) > 0)
        v->only_rule = other[0];
}

static void classify(const fa_audit *a, const fa_flow *f, fa_flow_verdict *v)
{
    /* The hosts' roles, looked up once for every rule. */
    fa_addr_roles o, r;
    memset(v, 0, sizeof *v);
    v->only_rule = -1;
    v->initiator_known = initiator_known(f);
    v->attempt = flow_attempt(f);
    if (is_icmp_error(f)) {
        v->verdict = FA_VERDICT_OUT_OF_SCOPE;
        return;
    }
    fa_site_addr_roles(a->site, fa_flow_addr(f, 0), &o);
    fa_site_addr_roles(a->site, fa_flow_addr(f, 1), &r);
    judge_documented(a, f, &o, &r, v);
    if (v->nrules > 0) {
        v->verdict = FA_VERDICT_DOCUMENTED;
        /* Syslog or SNMP traps are never answered: sending is all there is. */
        for (int i = 0; i < v->nrules && v->attempt == FA_ATTEMPT_BLOCKED; i++)
            if (a->rs->rules[v->rules[i]].oneway)
                v->attempt = FA_ATTEMPT_SEEN;
    } else if (a->site && !o.in_inventory && !r.in_inventory) {
        v->verdict = FA_VERDICT_OUT_OF_SCOPE;
    } else {
        judge_other(a, f, &o, &r, v);
    }
}

void fa_audit_flow(fa_audit *a, const fa_flow *f, fa_flow_verdict *v)
{
    classify(a, f, v);
    if (v->verdict == FA_VERDICT_DOCUMENTED) {
        note_rule_hits(a, f, v);
    } else if (v->verdict != FA_VERDICT_OUT_OF_SCOPE) {
        for (int i = 0; i < v->nrules; i++)
            a->rules[v->rules[i]].wrong_direction++;
        if (v->only_rule >= 0)
            a->rules[v->only_rule].not_in_force++;
        note_undocumented(a, f, v);
    }
    if (v->verdict != FA_VERDICT_OUT_OF_SCOPE)
        note_directions(a, f);
    a->evicted += f->end_reason == FA_END_EVICTED;
    a->continued += (f->bits & FA_FLOW_CONTINUED) != 0;
    a->by_verdict[v->verdict]++;
    a->bytes_by_verdict[v->verdict] += flow_bytes(f);
}

void fa_audit_checkpoint(fa_audit *a)
{
    memcpy(a->saved, a->ports, (size_t)a->nports * sizeof *a->ports);
}

void fa_audit_rollback(fa_audit *a)
{
    memcpy(a->ports, a->saved, (size_t)a->nports * sizeof *a->ports);
    a->finished = false;
}

/* An answer or a refusal has already happened; silence may still be
 * answered, so it waits for the flow's end. */
void fa_audit_open_flow(fa_audit *a, const fa_flow *f)
{
    fa_flow_verdict v;
    classify(a, f, &v);
    if (v.verdict != FA_VERDICT_DOCUMENTED || (v.attempt != FA_ATTEMPT_SEEN && v.attempt != FA_ATTEMPT_REJECTED))
        return;
    note_rule_hits(a, f, &v);
}
