/* audit_json.c - the audit as a log shipper reads it: the verdict fields
 * of a flow record, and at each report one "rule" record per rule (its
 * ports each with a status), a "finding" per failing port, "one_way",
 * "undocumented" and "wrong_direction" aggregates, and "audit_totals"
 * with what was audited. Fields: docs/output-schema.md. */
#include <stdlib.h>

#include "audit.h"
#include "audit_internal.h"
#include "decode.h"
#include "flow_json.h"

void fa_audit_verdict_json(const fa_audit *a, const fa_flow_verdict *v, fa_json_rec *rec)
{
    fa_json_rec_str(rec, "verdict", fa_verdict_name(v->verdict));
    fa_json_rec_str(rec, "attempt", fa_attempt_name(v->attempt));
    fa_json_rec_array(rec, "rules");
    for (int i = 0; i < v->nrules; i++)
        fa_json_rec_str(rec, NULL, a->rs->rules[v->rules[i]].id);
    fa_json_rec_array_end(rec);
    fa_json_rec_bool(rec, "initiator_known", v->initiator_known);
    fa_json_rec_str_or_null(rec, "only_rule", v->only_rule >= 0 ? a->rs->rules[v->only_rule].id : NULL);
}

/* The host pairs kept for a port, as an array member (key) or element. */
static void pairs_rec(fa_json_rec *r, const char *key, const fa_port_state *st)
{
    char addr[FA_ADDR_STRLEN];
    fa_json_rec_array(r, key);
    for (uint32_t i = 0; st && i < st->npairs; i++) {
        const fa_pair *p = &st->pairs[i];
        fa_json_rec_open(r, NULL);
        fa_json_rec_str(r, "src", fa_addr_str(&p->src, addr, sizeof addr));
        fa_json_rec_str(r, "dst", fa_addr_str(&p->dst, addr, sizeof addr));
        fa_json_rec_int(r, "answered", (int64_t)p->seen);
        fa_json_rec_int(r, "unanswered", (int64_t)p->blocked);
        fa_json_rec_int(r, "refused", (int64_t)p->rejected);
        fa_json_rec_int(r, "refused_by_icmp", (int64_t)p->rejected_icmp);
        fa_json_rec_int(r, "unconfirmed", (int64_t)p->unconfirmed);
        fa_json_rec_close(r);
    }
    fa_json_rec_array_end(r);
}

/* A time known only once a flow was counted. */
static void time_if(fa_json_rec *r, const char *key, uint64_t flows, uint64_t us)
{
    if (flows)
        fa_json_rec_micros(r, key, us);
    else
        fa_json_rec_null(r, key);
}

static void port_rec(fa_json_rec *r, const fa_audit *a, int rule, int k)
{
    const fa_port_state *p = &a->ports[a->rules[rule].first_port + k];
    char ports[64];
    fa_portset_format_item(a->dports[rule], (unsigned)k, ports, sizeof ports);
    fa_json_rec_open(r, NULL);
    fa_json_rec_str(r, "port", ports);
    fa_json_rec_str(r, "status", fa_rule_status_name(p->status));
    fa_json_rec_int(r, "flows", (int64_t)p->flows);
    fa_json_rec_int(r, "answered", (int64_t)p->seen);
    fa_json_rec_int(r, "unanswered", (int64_t)p->blocked);
    fa_json_rec_int(r, "refused", (int64_t)p->rejected);
    fa_json_rec_int(r, "unconfirmed", (int64_t)p->unconfirmed);
    pairs_rec(r, "pairs", p);
    fa_json_rec_close(r);
}

/* The records below are written in place too: a report has one per rule
 * of the deployed products (291 without a site), a run in live mode one
 * report per interval. */
static int rule_rec(const fa_audit *a, int i, const fa_json_sink *sink, fa_json_rec *r)
{
    const fa_rule *rule = &a->rs->rules[i];
    const fa_rule_state *st = &a->rules[i];
    fa_rule_use u;
    fa_audit_rule_use(a, i, &u);
    uint32_t dropped = 0, dropped_unanswered = 0, dropped_refused = 0;
    fa_json_rec_open(r, NULL);
    fa_json_rec_str(r, "type", "rule");
    fa_json_rec_time(r, "ts", sink->ts_us);
    fa_json_rec_str(r, "rule_id", rule->id);
    fa_json_rec_str(r, "product", a->rs->products[rule->product].id);
    fa_json_rec_str(r, "status", fa_rule_status_name(st->status));
    fa_json_rec_str_or_null(r, "not_audited_because", fa_not_audited_name((fa_not_audited)st->not_audited));
    fa_json_rec_bool(r, "any_of", rule->any_of);
    fa_json_rec_array(r, "ports");
    for (int k = 0; k < st->nports; k++) {
        const fa_port_state *p = &a->ports[st->first_port + k];
        port_rec(r, a, i, k);
        dropped += p->pairs_dropped;
        dropped_unanswered += p->dropped_unanswered;
        dropped_refused += p->dropped_refused;
    }
    fa_json_rec_array_end(r);
    fa_json_rec_int(r, "flows", (int64_t)u.flows);
    fa_json_rec_int(r, "bytes", (int64_t)u.bytes);
    time_if(r, "first_ts", u.flows, u.first_us);
    time_if(r, "last_ts", u.flows, u.last_us);
    fa_json_rec_int(r, "answered", (int64_t)u.seen);
    fa_json_rec_int(r, "unanswered", (int64_t)u.blocked);
    fa_json_rec_int(r, "refused", (int64_t)u.rejected);
    fa_json_rec_int(r, "unconfirmed", (int64_t)u.unconfirmed);
    fa_json_rec_int(r, "wrong_direction", (int64_t)st->wrong_direction);
    fa_json_rec_int(r, "not_in_force_flows", (int64_t)st->not_in_force);
    fa_json_rec_int(r, "pairs_not_kept", dropped);
    fa_json_rec_int(r, "unanswered_not_kept", dropped_unanswered);
    fa_json_rec_int(r, "refused_not_kept", dropped_refused);
    return sink->put_rec(sink->ctx, r);
}

/* port: one port of the rule, or -1 for a whole any-of rule not seen. */
static int finding_rec(const fa_audit *a, int i, int port, fa_rule_status status, const fa_json_sink *sink,
                       fa_json_rec *r)
{
    const fa_rule *rule = &a->rs->rules[i];
    const fa_rule_state *st = &a->rules[i];
    char svc[320];
    fa_audit_service(a, i, st->nports > 1 ? port : -1, svc, sizeof svc);
    fa_json_rec_open(r, NULL);
    fa_json_rec_str(r, "type", "finding");
    fa_json_rec_time(r, "ts", sink->ts_us);
    fa_json_rec_str(r, "kind", fa_rule_status_name(status));
    fa_json_rec_str(r, "severity", fa_audit_severity(a, i, status));
    fa_json_rec_bool(r, "optional", st->not_audited == FA_NA_OPTIONAL);
    fa_json_rec_str(r, "rule_id", rule->id);
    fa_json_rec_str(r, "product", a->rs->products[rule->product].id);
    fa_json_rec_str(r, "from", fa_rule_role_id(a->rs, rule->from_role));
    fa_json_rec_str(r, "to", fa_rule_role_id(a->rs, rule->to_role));
    fa_json_rec_str(r, "service", svc);
    fa_json_rec_str(r, "purpose", rule->purpose);
    fa_json_rec_str_or_null(r, "impact", rule->impact);
    /* A sampling exporter can miss the flow or its answer. */
    if (a->has_scope && a->scope.sampling > 1 && (status == FA_RULE_NOT_SEEN || status == FA_RULE_BLOCKED))
        fa_json_rec_int(r, "sampling_interval", a->scope.sampling);
    pairs_rec(r, "pairs", port >= 0 || st->nports == 1 ? &a->ports[st->first_port + (port > 0 ? port : 0)] : NULL);
    return sink->put_rec(sink->ctx, r);
}

static int findings_rec(const fa_audit *a, int i, const fa_json_sink *sink, fa_json_rec *r)
{
    const fa_rule_state *st = &a->rules[i];
    int rc = 0;
    if (fa_audit_rule_not_seen_whole(a, i))
        rc |= finding_rec(a, i, -1, FA_RULE_NOT_SEEN, sink, r);
    for (int k = 0; k < st->nports; k++)
        if (fa_audit_port_is_finding(a, i, k))
            rc |= finding_rec(a, i, k, a->ports[st->first_port + k].status, sink, r);
    return rc;
}

/* An aggregate: up to the aggregate table's size of them per report. */
static int undoc_rec(const fa_audit *a, const fa_undoc *u, const fa_json_sink *sink, fa_json_rec *r)
{
    char addr[FA_ADDR_STRLEN];
    bool ports = u->key.proto == FA_PROTO_TCP || u->key.proto == FA_PROTO_UDP;
    fa_json_rec_open(r, NULL);
    fa_json_rec_str(r, "type", u->key.wrong_direction ? "wrong_direction" : "undocumented");
    fa_json_rec_time(r, "ts", sink->ts_us);
    fa_json_rec_str(r, "orig_h", fa_addr_str(&u->key.orig, addr, sizeof addr));
    fa_json_rec_str(r, "resp_h", fa_addr_str(&u->key.resp, addr, sizeof addr));
    fa_json_rec_str(r, "proto", fa_proto_name(u->key.proto));
    fa_json_rec_int(r, "ip_proto", u->key.proto);
    if (ports)
        fa_json_rec_int(r, "resp_p", u->key.port);
    else
        fa_json_rec_null(r, "resp_p");
    fa_json_rec_int(r, "flows", (int64_t)u->flows);
    fa_json_rec_int(r, "unanswered", (int64_t)u->blocked);
    fa_json_rec_int(r, "refused", (int64_t)u->rejected);
    fa_json_rec_int(r, "unconfirmed", (int64_t)u->unconfirmed);
    fa_json_rec_int(r, "midstream", (int64_t)u->midstream);
    fa_json_rec_int(r, "bytes", (int64_t)u->bytes);
    fa_json_rec_micros(r, "first_ts", u->first_us);
    fa_json_rec_micros(r, "last_ts", u->last_us);
    fa_json_rec_str_or_null(r, "reverse_of", u->rule >= 0 ? a->rs->rules[u->rule].id : NULL);
    fa_json_rec_str_or_null(r, "only_rule", u->only_rule >= 0 ? a->rs->rules[u->only_rule].id : NULL);
    return sink->put_rec(sink->ctx, r);
}

/* One record per host pair seen only one way, as many as the pairs. */
static int one_way_rec(const fa_audit *a, const fa_json_sink *sink, fa_json_rec *r)
{
    uint32_t n;
    int rc = 0;
    char addr[FA_ADDR_STRLEN];
    fa_hostpair **v = fa_audit_one_way_pairs(a, &n);
    for (uint32_t i = 0; v && i < n; i++) {
        fa_json_rec_open(r, NULL);
        fa_json_rec_str(r, "type", "one_way");
        fa_json_rec_time(r, "ts", sink->ts_us);
        fa_json_rec_str(r, "src_h", fa_addr_str(&v[i]->key.src, addr, sizeof addr));
        fa_json_rec_str(r, "dst_h", fa_addr_str(&v[i]->key.dst, addr, sizeof addr));
        fa_json_rec_int(r, "flows", (int64_t)v[i]->flows);
        rc |= sink->put_rec(sink->ctx, r);
    }
    free(v);
    return rc;
}

static json_t *not_deployed_json(const fa_audit *a)
{
    json_t *arr = json_array();
    for (int r = 0; a->site && r < a->rs->nroles; r++) {
        const fa_role *ro = &a->rs->roles[r];
        if (!a->site->product_deployed[ro->product] || a->site->role_mapped[r])
            continue;
        char id[2 * FA_ID_MAX];
        snprintf(id, sizeof id, "%s.%s", a->rs->products[ro->product].id, ro->id);
        json_array_append_new(arr, json_pack("{s:s, s:i}", "role", id, "required_rules_not_audited",
                                             fa_audit_role_unaudited(a, r)));
    }
    return arr;
}

static json_t *scope_json(const fa_audit *a, json_t *t)
{
    const fa_audit_scope *s = &a->scope;
    json_t *inputs = json_array();
    for (int i = 0; a->has_scope && i < s->ninputs; i++)
        json_array_append_new(inputs, json_string(s->inputs[i]));
    json_object_set_new(t, "inputs", inputs);
    json_object_set_new(t, "rules_dir", a->has_scope ? json_string(s->rules_dir) : json_null());
    json_object_set_new(t, "site_file", a->has_scope && s->site_file ? json_string(s->site_file) : json_null());
    json_object_set_new(t, "window_start", a->has_scope && s->last_us ? json_real((double)s->first_us / 1e6)
                                                                      : json_null());
    json_object_set_new(t, "window_end", a->has_scope && s->last_us ? json_real((double)s->last_us / 1e6)
                                                                    : json_null());
    json_object_set_new(t, "roles_not_deployed", not_deployed_json(a));
    json_object_set_new(t, "evidence", json_string(a->has_scope && s->records ? "flow-record" : "packets"));
    json_object_set_new(t, "sampling_interval", a->has_scope && s->sampling > 1 ? json_integer(s->sampling)
                                                                               : json_null());
    return t;
}

int fa_audit_write_json(const fa_audit *a, FILE *out)
{
    fa_json_sink sink = {fa_json_sink_file, fa_json_sink_file_rec, out, 0};
    return fa_audit_json_records(a, &sink);
}

int fa_audit_json_records(const fa_audit *a, const fa_json_sink *sink)
{
    int rc = 0;
    fa_json_rec r = {0};
    for (int i = 0; i < a->rs->nrules; i++) {
        if (a->site && !a->site->product_deployed[a->rs->rules[i].product])
            continue;
        rc |= rule_rec(a, i, sink, &r);
        rc |= findings_rec(a, i, sink, &r);
    }
    rc |= one_way_rec(a, sink, &r);
    fa_undoc **v = fa_audit_sorted_undoc(a);
    for (uint32_t i = 0; v && i < a->undoc.n; i++)
        rc |= undoc_rec(a, v[i], sink, &r);
    free(v);
    fa_json_rec_free(&r);
    json_t *t = json_pack("{s:s, s:o, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "type", "audit_totals",
                          "ts", fa_json_time(sink->ts_us), "roles_verified", a->site != NULL, "documented",
                          (json_int_t)a->by_verdict[FA_VERDICT_DOCUMENTED], "undocumented",
                          (json_int_t)a->by_verdict[FA_VERDICT_UNDOCUMENTED], "wrong_direction",
                          (json_int_t)a->by_verdict[FA_VERDICT_WRONG_DIRECTION], "out_of_scope",
                          (json_int_t)a->by_verdict[FA_VERDICT_OUT_OF_SCOPE], "undocumented_not_aggregated",
                          (json_int_t)a->undoc_dropped, "evicted_flows", (json_int_t)a->evicted,
                          "continued_flows", (json_int_t)a->continued);
    if (t)
        json_object_set_new(t, "host_pairs_not_tracked", json_integer((json_int_t)a->hostpairs_dropped));
    rc |= sink->put(sink->ctx, t ? scope_json(a, t) : NULL);
    return rc ? -1 : 0;
}
