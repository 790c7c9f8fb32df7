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

static json_t *pairs_json(const fa_port_state *st)
{
    char s[FA_ADDR_STRLEN], d[FA_ADDR_STRLEN];
    json_t *arr = json_array();
    for (uint32_t i = 0; i < st->npairs; i++) {
        const fa_pair *p = &st->pairs[i];
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "src",
                                             fa_addr_str(&p->src, s, sizeof s), "dst",
                                             fa_addr_str(&p->dst, d, sizeof d), "answered",
                                             (json_int_t)p->seen, "unanswered", (json_int_t)p->blocked,
                                             "refused", (json_int_t)p->rejected, "refused_by_icmp",
                                             (json_int_t)p->rejected_icmp, "unconfirmed",
                                             (json_int_t)p->unconfirmed));
    }
    return arr;
}

static json_t *time_or_null(uint64_t flows, uint64_t us)
{
    return flows ? json_real((double)us / 1e6) : json_null();
}

static json_t *port_json(const fa_audit *a, int rule, int k)
{
    const fa_port_state *p = &a->ports[a->rules[rule].first_port + k];
    char ports[64];
    fa_portset_format_item(a->dports[rule], (unsigned)k, ports, sizeof ports);
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:o}", "port", ports, "status",
                     fa_rule_status_name(p->status), "flows", (json_int_t)p->flows, "answered",
                     (json_int_t)p->seen, "unanswered", (json_int_t)p->blocked, "refused",
                     (json_int_t)p->rejected, "unconfirmed", (json_int_t)p->unconfirmed, "pairs",
                     pairs_json(p));
}

static json_t *rule_json(const fa_audit *a, int i, uint64_t ts_us)
{
    const fa_rule *r = &a->rs->rules[i];
    const fa_rule_state *st = &a->rules[i];
    const char *why = fa_not_audited_name((fa_not_audited)st->not_audited);
    fa_rule_use u;
    fa_audit_rule_use(a, i, &u);
    json_t *o = json_object(), *ports = json_array();
    uint32_t dropped = 0, dropped_unanswered = 0, dropped_refused = 0;
    for (int k = 0; k < st->nports; k++) {
        const fa_port_state *p = &a->ports[st->first_port + k];
        json_array_append_new(ports, port_json(a, i, k));
        dropped += p->pairs_dropped;
        dropped_unanswered += p->dropped_unanswered;
        dropped_refused += p->dropped_refused;
    }
    json_object_set_new_nocheck(o, "type", json_string("rule"));
    json_object_set_new_nocheck(o, "ts", fa_json_time(ts_us));
    json_object_set_new_nocheck(o, "rule_id", json_string(r->id));
    json_object_set_new_nocheck(o, "product", json_string(a->rs->products[r->product].id));
    json_object_set_new_nocheck(o, "status", json_string(fa_rule_status_name(st->status)));
    json_object_set_new_nocheck(o, "not_audited_because", why ? json_string(why) : json_null());
    json_object_set_new_nocheck(o, "any_of", json_boolean(r->any_of));
    json_object_set_new_nocheck(o, "ports", ports);
    json_object_set_new_nocheck(o, "flows", json_integer((json_int_t)u.flows));
    json_object_set_new_nocheck(o, "bytes", json_integer((json_int_t)u.bytes));
    json_object_set_new_nocheck(o, "first_ts", time_or_null(u.flows, u.first_us));
    json_object_set_new_nocheck(o, "last_ts", time_or_null(u.flows, u.last_us));
    json_object_set_new_nocheck(o, "answered", json_integer((json_int_t)u.seen));
    json_object_set_new_nocheck(o, "unanswered", json_integer((json_int_t)u.blocked));
    json_object_set_new_nocheck(o, "refused", json_integer((json_int_t)u.rejected));
    json_object_set_new_nocheck(o, "unconfirmed", json_integer((json_int_t)u.unconfirmed));
    json_object_set_new_nocheck(o, "wrong_direction", json_integer((json_int_t)st->wrong_direction));
    json_object_set_new_nocheck(o, "not_in_force_flows", json_integer((json_int_t)st->not_in_force));
    json_object_set_new_nocheck(o, "pairs_not_kept", json_integer(dropped));
    json_object_set_new_nocheck(o, "unanswered_not_kept", json_integer(dropped_unanswered));
    json_object_set_new_nocheck(o, "refused_not_kept", json_integer(dropped_refused));
    return o;
}

/* port: one port of the rule, or -1 for a whole any-of rule not seen. */
static json_t *finding_json(const fa_audit *a, int i, int port, fa_rule_status status, uint64_t ts_us)
{
    const fa_rule *r = &a->rs->rules[i];
    const fa_rule_state *st = &a->rules[i];
    char svc[320];
    fa_audit_service(a, i, st->nports > 1 ? port : -1, svc, sizeof svc);
    json_t *o = json_object();
    json_object_set_new_nocheck(o, "type", json_string("finding"));
    json_object_set_new_nocheck(o, "ts", fa_json_time(ts_us));
    json_object_set_new_nocheck(o, "kind", json_string(fa_rule_status_name(status)));
    json_object_set_new_nocheck(o, "severity", json_string(fa_audit_severity(a, i, status)));
    json_object_set_new_nocheck(o, "optional", json_boolean(st->not_audited == FA_NA_OPTIONAL));
    json_object_set_new_nocheck(o, "rule_id", json_string(r->id));
    json_object_set_new_nocheck(o, "product", json_string(a->rs->products[r->product].id));
    json_object_set_new_nocheck(o, "from", json_string(fa_rule_role_id(a->rs, r->from_role)));
    json_object_set_new_nocheck(o, "to", json_string(fa_rule_role_id(a->rs, r->to_role)));
    json_object_set_new_nocheck(o, "service", json_string(svc));
    json_object_set_new_nocheck(o, "purpose", json_string(r->purpose));
    json_object_set_new_nocheck(o, "impact", r->impact ? json_string(r->impact) : json_null());
    /* A sampling exporter can miss the flow or its answer. */
    if (a->has_scope && a->scope.sampling > 1 && (status == FA_RULE_NOT_SEEN || status == FA_RULE_BLOCKED))
        json_object_set_new_nocheck(o, "sampling_interval", json_integer(a->scope.sampling));
    json_object_set_new_nocheck(o, "pairs", port >= 0 || st->nports == 1
                                        ? pairs_json(&a->ports[st->first_port + (port > 0 ? port : 0)])
                                        : json_array());
    return o;
}

static int findings_json(const fa_audit *a, int i, const fa_json_sink *sink)
{
    const fa_rule_state *st = &a->rules[i];
    int rc = 0;
    if (fa_audit_rule_not_seen_whole(a, i))
        rc |= sink->put(sink->ctx, finding_json(a, i, -1, FA_RULE_NOT_SEEN, sink->ts_us));
    for (int k = 0; k < st->nports; k++)
        if (fa_audit_port_is_finding(a, i, k))
            rc |= sink->put(sink->ctx, finding_json(a, i, k, a->ports[st->first_port + k].status, sink->ts_us));
    return rc;
}

/* An aggregate, written straight into rec: there are up to the
 * aggregate table's size of them per report. */
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
    for (int i = 0; i < a->rs->nrules; i++) {
        if (a->site && !a->site->product_deployed[a->rs->rules[i].product])
            continue;
        rc |= sink->put(sink->ctx, rule_json(a, i, sink->ts_us));
        rc |= findings_json(a, i, sink);
    }
    fa_json_rec r = {0};
    rc |= one_way_rec(a, sink, &r);
    fa_undoc **v = fa_audit_sorted_undoc(a);
    for (uint32_t i = 0; v && i < a->nundoc; i++)
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
