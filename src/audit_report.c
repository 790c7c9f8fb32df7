/* audit_report.c - the audit as an admin reads it (text) and as a log
 * shipper reads it (NDJSON). Output is sorted so that the same input
 * always gives the same report. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "audit_internal.h"
#include "decode.h"
#include "flow_json.h"

typedef struct palette {
    const char *bold, *red, *yellow, *dim, *reset;
} palette;

static palette colors(bool on)
{
    palette p = {"", "", "", "", ""};
    if (on)
        p = (palette){"\033[1m", "\033[31m", "\033[33m", "\033[2m", "\033[0m"};
    return p;
}

static void iso_time(uint64_t us, char out[32])
{
    time_t s = (time_t)(us / 1000000u);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static bool has_ports_proto(uint8_t proto)
{
    return proto == FA_PROTO_TCP || proto == FA_PROTO_UDP;
}

static const char *product_name(const fa_audit *a, const fa_rule *r)
{
    return a->rs->products[r->product].name;
}

/* "tcp/38866" or "tcp,udp/88" or "icmp". */
static void rule_service(const fa_audit *a, int i, char *buf, size_t len)
{
    const fa_rule *r = &a->rs->rules[i];
    char tr[64], ports[256];
    const fa_portset *ps = a->site ? fa_site_rule_dports(a->site, a->rs, i) : &r->dports;
    fa_rule_transport_str(r, tr, sizeof tr);
    fa_portset_format(ps, ports, sizeof ports);
    if (fa_portset_is_empty(ps))
        snprintf(buf, len, "%s", tr);
    else
        snprintf(buf, len, "%s/%s", tr, ports);
}

/* Roles the site leaves unmapped stand for hosts outside the inventory;
 * say which, so a "not seen" on them is read right. */
static void print_unmapped(const fa_audit *a, int product, FILE *out, const palette *c)
{
    int col = 0;
    if (!a->site)
        return;
    for (int r = 0; r < a->rs->nroles; r++) {
        if (a->rs->roles[r].product != product || a->site->role_mapped[r])
            continue;
        if (col == 0)
            col = fprintf(out, "    %sroles not in the site (hosts outside the inventory):", c->dim);
        if (col + (int)strlen(a->rs->roles[r].id) > 76)
            col = fprintf(out, "\n     ");
        col += fprintf(out, " %s", a->rs->roles[r].id);
    }
    if (col)
        fprintf(out, "%s\n", c->reset);
}

static void print_coverage(const fa_audit *a, FILE *out, const palette *c)
{
    fprintf(out, "%sCOVERAGE%s (required rules, phase %s)\n", c->bold, c->reset,
            a->phase == FA_PHASE_INSTALLATION ? "installation"
            : a->phase == FA_PHASE_INTERVENTION ? "intervention" : "operation");
    for (int p = 0; p < a->rs->nproducts; p++) {
        if (a->site && !a->site->product_deployed[p])
            continue;
        int n[FA_RULE_NOT_AUDITED + 1] = {0};
        for (int i = 0; i < a->rs->nrules; i++)
            if (a->rs->rules[i].product == p)
                n[a->rules[i].status]++;
        int required = n[FA_RULE_SEEN] + n[FA_RULE_BLOCKED] + n[FA_RULE_REJECTED] + n[FA_RULE_NOT_SEEN];
        fprintf(out, "  %s\n    %d required: %d seen, %d blocked, %d rejected, %d not seen",
                a->rs->products[p].name, required, n[FA_RULE_SEEN], n[FA_RULE_BLOCKED],
                n[FA_RULE_REJECTED], n[FA_RULE_NOT_SEEN]);
        if (n[FA_RULE_NOT_OBSERVABLE])
            fprintf(out, "; %d not observable", n[FA_RULE_NOT_OBSERVABLE]);
        fputc('\n', out);
        print_unmapped(a, p, out, c);
    }
    if (!a->site)
        fprintf(out, "  %sport-only mode: no site file, roles were not verified%s\n", c->yellow, c->reset);
}

static const char *severity_of(fa_rule_status s)
{
    return s == FA_RULE_NOT_SEEN ? "MEDIUM" : "HIGH";
}

/* ICMP errors an admin meets when a firewall refuses (RFC 792, 1812, 4443). */
static const char *icmp_error_name(uint8_t type, uint8_t code)
{
    static const struct { uint8_t type, code; const char *name; } names[] = {
        {3, 0, "net unreachable"}, {3, 1, "host unreachable"}, {3, 3, "port unreachable"},
        {3, 9, "net prohibited"}, {3, 10, "host prohibited"}, {3, 13, "administratively prohibited"},
        {11, 0, "TTL exceeded"}, {0, 0, NULL},
    };
    for (int i = 0; names[i].name; i++)
        if (names[i].type == type && names[i].code == code)
            return names[i].name;
    return "error";
}

static void print_pairs(const fa_rule_state *st, FILE *out)
{
    char s[FA_ADDR_STRLEN], d[FA_ADDR_STRLEN];
    for (uint32_t i = 0; i < st->npairs; i++) {
        const fa_pair *p = &st->pairs[i];
        fprintf(out, "      %s -> %s: %u answered, %u unanswered, %u refused",
                fa_addr_str(&p->src, s, sizeof s), fa_addr_str(&p->dst, d, sizeof d), p->seen,
                p->blocked, p->rejected);
        if (p->rejected > p->rejected_icmp)
            fprintf(out, " (%u by TCP RST)", p->rejected - p->rejected_icmp);
        if (p->rejected_icmp)
            fprintf(out, " (%u by ICMP %u/%u %s)", p->rejected_icmp, p->icmp_type, p->icmp_code,
                    icmp_error_name(p->icmp_type, p->icmp_code));
        fputc('\n', out);
    }
    if (st->pairs_dropped)
        fprintf(out, "      (+%u more host pairs; %u unanswered and %u refused attempts among them)\n",
                st->pairs_dropped, st->dropped_unanswered, st->dropped_refused);
}

static void print_rule_finding(const fa_audit *a, int i, FILE *out, const palette *c)
{
    const fa_rule *r = &a->rs->rules[i];
    const fa_rule_state *st = &a->rules[i];
    char svc[320];
    rule_service(a, i, svc, sizeof svc);
    const char *color = st->status == FA_RULE_NOT_SEEN ? c->yellow : c->red;
    fprintf(out, "  %s[%s] %s %s%s: %s -> %s %s (%s; %s)\n", color, severity_of(st->status), r->id,
            fa_rule_status_name(st->status), c->reset, fa_rule_role_id(a->rs, r->from_role),
            fa_rule_role_id(a->rs, r->to_role), svc, product_name(a, r), r->purpose);
    if (st->status != FA_RULE_NOT_SEEN)
        print_pairs(st, out);
    if (r->impact)
        fprintf(out, "      impact: %s\n", r->impact);
}

static void print_findings(const fa_audit *a, FILE *out, const palette *c)
{
    static const fa_rule_status order[] = {FA_RULE_REJECTED, FA_RULE_BLOCKED, FA_RULE_NOT_SEEN};
    int n = 0;
    fprintf(out, "\n%sFINDINGS%s\n", c->bold, c->reset);
    for (size_t o = 0; o < sizeof order / sizeof order[0]; o++)
        for (int i = 0; i < a->rs->nrules; i++)
            if (a->rules[i].status == order[o]) {
                print_rule_finding(a, i, out, c);
                n++;
            }
    if (n == 0)
        fprintf(out, "  none: every required, observable rule was seen\n");
}

static int undoc_cmp(const void *x, const void *y)
{
    const fa_undoc *a = *(const fa_undoc *const *)x, *b = *(const fa_undoc *const *)y;
    int c = (int)a->key.wrong_direction - (int)b->key.wrong_direction;
    if (!c) c = fa_addr_cmp(&a->key.orig, &b->key.orig);
    if (!c) c = fa_addr_cmp(&a->key.resp, &b->key.resp);
    if (!c) c = (int)a->key.proto - (int)b->key.proto;
    if (!c) c = (int)a->key.port - (int)b->key.port;
    return c;
}

/* Sorted array of the aggregates (caller frees), or NULL. */
static fa_undoc **sorted_undoc(const fa_audit *a)
{
    fa_undoc **v = malloc((a->nundoc ? a->nundoc : 1) * sizeof *v);
    if (!v)
        return NULL;
    size_t n = 0;
    for (fa_undoc *u = a->undoc; u; u = u->hh.next)
        v[n++] = u;
    qsort(v, n, sizeof *v, undoc_cmp);
    return v;
}

static bool same_group(const fa_undoc *a, const fa_undoc *b)
{
    return a->key.wrong_direction == b->key.wrong_direction && a->key.proto == b->key.proto &&
           fa_addr_cmp(&a->key.orig, &b->key.orig) == 0 && fa_addr_cmp(&a->key.resp, &b->key.resp) == 0;
}

/* One line per (originator, responder, transport): a port scan or a chatty
 * service is one line with its ports listed (the first eight). */
static void print_undoc_group(const fa_audit *a, fa_undoc **v, size_t from, size_t to, FILE *out)
{
    char o[FA_ADDR_STRLEN], r[FA_ADDR_STRLEN], t1[32], t2[32];
    uint64_t flows = 0, bytes = 0, first = UINT64_MAX, last = 0, blocked = 0;
    for (size_t i = from; i < to; i++) {
        flows += v[i]->flows;
        bytes += v[i]->bytes;
        blocked += v[i]->blocked + v[i]->rejected;
        first = v[i]->first_us < first ? v[i]->first_us : first;
        last = v[i]->last_us > last ? v[i]->last_us : last;
    }
    const fa_undoc *u = v[from];
    fprintf(out, "  %s -> %s %s", fa_addr_str(&u->key.orig, o, sizeof o),
            fa_addr_str(&u->key.resp, r, sizeof r), fa_proto_name(u->key.proto));
    if (has_ports_proto(u->key.proto)) {
        fputc('/', out);
        for (size_t i = from; i < to && i < from + 8; i++)
            fprintf(out, "%s%u", i > from ? "," : "", v[i]->key.port);
        if (to - from > 8)
            fprintf(out, ",... (%zu ports)", to - from);
    } else if (u->key.proto != FA_PROTO_ICMP && u->key.proto != FA_PROTO_ICMP6) {
        fprintf(out, " proto %u", u->key.proto);
    }
    iso_time(first, t1);
    iso_time(last, t2);
    fprintf(out, "  flows %" PRIu64 " (%" PRIu64 " unanswered or refused), bytes %" PRIu64 ", %s .. %s",
            flows, blocked, bytes, t1, t2);
    if (u->key.wrong_direction && u->rule >= 0)
        fprintf(out, "  [reverse of %s]", a->rs->rules[u->rule].id);
    fputc('\n', out);
}

static void print_undoc(const fa_audit *a, FILE *out, const palette *c)
{
    fa_undoc **v = sorted_undoc(a);
    if (!v)
        return;
    for (int wrong = 1; wrong >= 0; wrong--) {
        fprintf(out, "\n%s%s%s\n", c->bold, wrong ? "WRONG-DIRECTION FLOWS" : "UNDOCUMENTED FLOWS", c->reset);
        size_t shown = 0;
        for (size_t i = 0; i < a->nundoc;) {
            size_t j = i + 1;
            while (j < a->nundoc && same_group(v[i], v[j]))
                j++;
            if (v[i]->key.wrong_direction == wrong) {
                print_undoc_group(a, v, i, j, out);
                shown++;
            }
            i = j;
        }
        if (!shown)
            fprintf(out, "  none\n");
    }
    if (a->undoc_dropped)
        fprintf(out, "  (%" PRIu64 " flows not aggregated: table full)\n", a->undoc_dropped);
    free(v);
}

/* Used rules one per line; the never-used ones as a wrapped list of ids,
 * so that they stand out without burying the rest. */
static void print_hits(const fa_audit *a, FILE *out, const palette *c)
{
    char t1[32], t2[32], svc[320];
    int unused = 0, col = 0;
    fprintf(out, "\n%sRULE HITS%s\n", c->bold, c->reset);
    for (int i = 0; i < a->rs->nrules; i++) {
        const fa_rule *r = &a->rs->rules[i];
        const fa_rule_state *st = &a->rules[i];
        if (a->site && !a->site->product_deployed[r->product])
            continue;
        if (st->flows == 0) {
            unused++;
            continue;
        }
        rule_service(a, i, svc, sizeof svc);
        iso_time(st->first_us, t1);
        iso_time(st->last_us, t2);
        fprintf(out, "  %-10s %-22s flows %" PRIu64 ", bytes %" PRIu64 ", %s .. %s\n", r->id, svc,
                st->flows, st->bytes, t1, t2);
    }
    if (!unused)
        return;
    fprintf(out, "  %snever used (%d):", c->dim, unused);
    col = 80;
    for (int i = 0; i < a->rs->nrules; i++) {
        const fa_rule *r = &a->rs->rules[i];
        if (a->rules[i].flows || (a->site && !a->site->product_deployed[r->product]))
            continue;
        if (col + (int)strlen(r->id) + 1 > 78) {
            fputs("\n   ", out);
            col = 3;
        }
        col += fprintf(out, " %s", r->id);
    }
    fprintf(out, "%s\n", c->reset);
}

int fa_audit_print_text(const fa_audit *a, FILE *out, bool color)
{
    palette c = colors(color);
    fprintf(out, "%sflowaudit audit%s", c.bold, c.reset);
    if (a->site && a->site->name)
        fprintf(out, " of \"%s\"", a->site->name);
    fputs("\n\n", out);
    print_coverage(a, out, &c);
    print_findings(a, out, &c);
    print_undoc(a, out, &c);
    print_hits(a, out, &c);
    fprintf(out, "\n%sTOTALS%s\n  flows: %" PRIu64 " documented, %" PRIu64 " undocumented, %" PRIu64
                 " wrong-direction, %" PRIu64 " out of scope\n",
            c.bold, c.reset, a->by_verdict[FA_VERDICT_DOCUMENTED], a->by_verdict[FA_VERDICT_UNDOCUMENTED],
            a->by_verdict[FA_VERDICT_WRONG_DIRECTION], a->by_verdict[FA_VERDICT_OUT_OF_SCOPE]);
    return ferror(out) ? -1 : 0;
}

void fa_audit_verdict_json(const fa_audit *a, const fa_flow_verdict *v, json_t *rec)
{
    json_object_set_new(rec, "verdict", json_string(fa_verdict_name(v->verdict)));
    json_object_set_new(rec, "attempt", json_string(fa_attempt_name(v->attempt)));
    json_t *ids = json_array();
    for (int i = 0; i < v->nrules; i++)
        json_array_append_new(ids, json_string(a->rs->rules[v->rules[i]].id));
    json_object_set_new(rec, "rules", ids);
}

static json_t *pairs_json(const fa_rule_state *st)
{
    char s[FA_ADDR_STRLEN], d[FA_ADDR_STRLEN];
    json_t *arr = json_array();
    for (uint32_t i = 0; i < st->npairs; i++) {
        const fa_pair *p = &st->pairs[i];
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "src",
                                             fa_addr_str(&p->src, s, sizeof s), "dst",
                                             fa_addr_str(&p->dst, d, sizeof d), "answered",
                                             (json_int_t)p->seen, "unanswered", (json_int_t)p->blocked,
                                             "refused", (json_int_t)p->rejected, "refused_by_icmp",
                                             (json_int_t)p->rejected_icmp));
    }
    return arr;
}

static json_t *time_or_null(uint64_t flows, uint64_t us)
{
    return flows ? json_real((double)us / 1e6) : json_null();
}

static json_t *rule_json(const fa_audit *a, int i)
{
    const fa_rule *r = &a->rs->rules[i];
    const fa_rule_state *st = &a->rules[i];
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("rule"));
    json_object_set_new(o, "id", json_string(r->id));
    json_object_set_new(o, "product", json_string(a->rs->products[r->product].id));
    json_object_set_new(o, "status", json_string(fa_rule_status_name(st->status)));
    json_object_set_new(o, "flows", json_integer((json_int_t)st->flows));
    json_object_set_new(o, "bytes", json_integer((json_int_t)st->bytes));
    json_object_set_new(o, "first_ts", time_or_null(st->flows, st->first_us));
    json_object_set_new(o, "last_ts", time_or_null(st->flows, st->last_us));
    json_object_set_new(o, "answered", json_integer((json_int_t)st->seen));
    json_object_set_new(o, "unanswered", json_integer((json_int_t)st->blocked));
    json_object_set_new(o, "refused", json_integer((json_int_t)st->rejected));
    json_object_set_new(o, "wrong_direction", json_integer((json_int_t)st->wrong_direction));
    json_object_set_new(o, "pairs", pairs_json(st));
    json_object_set_new(o, "pairs_not_kept", json_integer(st->pairs_dropped));
    json_object_set_new(o, "unanswered_not_kept", json_integer(st->dropped_unanswered));
    json_object_set_new(o, "refused_not_kept", json_integer(st->dropped_refused));
    return o;
}

static json_t *finding_json(const fa_audit *a, int i)
{
    const fa_rule *r = &a->rs->rules[i];
    const fa_rule_state *st = &a->rules[i];
    char svc[320];
    rule_service(a, i, svc, sizeof svc);
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string("finding"));
    json_object_set_new(o, "kind", json_string(fa_rule_status_name(st->status)));
    json_object_set_new(o, "severity", json_string(st->status == FA_RULE_NOT_SEEN ? "medium" : "high"));
    json_object_set_new(o, "rule", json_string(r->id));
    json_object_set_new(o, "product", json_string(a->rs->products[r->product].id));
    json_object_set_new(o, "from", json_string(fa_rule_role_id(a->rs, r->from_role)));
    json_object_set_new(o, "to", json_string(fa_rule_role_id(a->rs, r->to_role)));
    json_object_set_new(o, "service", json_string(svc));
    json_object_set_new(o, "purpose", json_string(r->purpose));
    json_object_set_new(o, "impact", r->impact ? json_string(r->impact) : json_null());
    json_object_set_new(o, "pairs", pairs_json(st));
    return o;
}

static json_t *undoc_json(const fa_audit *a, const fa_undoc *u)
{
    char o_[FA_ADDR_STRLEN], r_[FA_ADDR_STRLEN];
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(u->key.wrong_direction ? "wrong_direction" : "undocumented"));
    json_object_set_new(o, "orig_h", json_string(fa_addr_str(&u->key.orig, o_, sizeof o_)));
    json_object_set_new(o, "resp_h", json_string(fa_addr_str(&u->key.resp, r_, sizeof r_)));
    json_object_set_new(o, "proto", json_string(fa_proto_name(u->key.proto)));
    json_object_set_new(o, "ip_proto", json_integer(u->key.proto));
    json_object_set_new(o, "resp_p", has_ports_proto(u->key.proto) ? json_integer(u->key.port) : json_null());
    json_object_set_new(o, "flows", json_integer((json_int_t)u->flows));
    json_object_set_new(o, "unanswered", json_integer((json_int_t)u->blocked));
    json_object_set_new(o, "refused", json_integer((json_int_t)u->rejected));
    json_object_set_new(o, "bytes", json_integer((json_int_t)u->bytes));
    json_object_set_new(o, "first_ts", json_real((double)u->first_us / 1e6));
    json_object_set_new(o, "last_ts", json_real((double)u->last_us / 1e6));
    json_object_set_new(o, "reverse_of", u->rule >= 0 ? json_string(a->rs->rules[u->rule].id) : json_null());
    return o;
}

int fa_audit_write_json(const fa_audit *a, FILE *out)
{
    fa_json_sink sink = {fa_json_sink_file, out};
    return fa_audit_json_records(a, &sink);
}

int fa_audit_json_records(const fa_audit *a, const fa_json_sink *sink)
{
    int rc = 0;
    for (int i = 0; i < a->rs->nrules; i++) {
        if (a->site && !a->site->product_deployed[a->rs->rules[i].product])
            continue;
        rc |= sink->put(sink->ctx, rule_json(a, i));
        fa_rule_status s = a->rules[i].status;
        if (s == FA_RULE_BLOCKED || s == FA_RULE_REJECTED || s == FA_RULE_NOT_SEEN)
            rc |= sink->put(sink->ctx, finding_json(a, i));
    }
    fa_undoc **v = sorted_undoc(a);
    for (uint32_t i = 0; v && i < a->nundoc; i++)
        rc |= sink->put(sink->ctx, undoc_json(a, v[i]));
    free(v);
    json_t *t = json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I}", "type", "audit_totals", "roles_verified",
                          a->site != NULL, "documented", (json_int_t)a->by_verdict[FA_VERDICT_DOCUMENTED],
                          "undocumented", (json_int_t)a->by_verdict[FA_VERDICT_UNDOCUMENTED],
                          "wrong_direction", (json_int_t)a->by_verdict[FA_VERDICT_WRONG_DIRECTION],
                          "out_of_scope", (json_int_t)a->by_verdict[FA_VERDICT_OUT_OF_SCOPE],
                          "undocumented_not_aggregated", (json_int_t)a->undoc_dropped);
    rc |= sink->put(sink->ctx, t);
    return rc ? -1 : 0;
}
