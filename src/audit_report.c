/* audit_report.c - the audit as an admin reads it: what was audited,
 * coverage, findings port by port, one-way captures, undocumented and
 * wrong-direction flows, rule hits, totals. Sorted so that the same input
 * always gives the same report; the NDJSON records are in audit_json.c. */
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

void fa_audit_service(const fa_audit *a, int rule, int port, char *buf, size_t len)
{
    const fa_rule *r = &a->rs->rules[rule];
    char tr[64], ports[256];
    const fa_portset *ps = a->dports[rule];
    fa_rule_transport_str(r, tr, sizeof tr);
    if (port >= 0)
        fa_portset_format_item(ps, (unsigned)port, ports, sizeof ports);
    else
        fa_portset_format(ps, ports, sizeof ports);
    if (fa_portset_is_empty(ps))
        snprintf(buf, len, "%s", tr);
    else
        snprintf(buf, len, "%s/%s", tr, ports);
}

void fa_audit_rule_use(const fa_audit *a, int rule, fa_rule_use *u)
{
    const fa_rule_state *rst = &a->rules[rule];
    memset(u, 0, sizeof *u);
    for (int k = 0; k < rst->nports; k++) {
        const fa_port_state *p = &a->ports[rst->first_port + k];
        if (!p->flows)
            continue;
        if (!u->flows || p->first_us < u->first_us)
            u->first_us = p->first_us;
        if (p->last_us > u->last_us)
            u->last_us = p->last_us;
        u->flows += p->flows;
        u->bytes += p->bytes;
        u->seen += p->seen;
        u->blocked += p->blocked;
        u->rejected += p->rejected;
        u->unconfirmed += p->unconfirmed;
    }
}

static bool rule_judged(const fa_audit *a, int rule)
{
    fa_rule_status s = a->rules[rule].status;
    return s != FA_RULE_NOT_AUDITED && s != FA_RULE_NOT_OBSERVABLE;
}

bool fa_audit_port_is_finding(const fa_audit *a, int rule, int port)
{
    fa_rule_status s = a->ports[a->rules[rule].first_port + port].status;
    if (!rule_judged(a, rule))
        return false;
    if (s == FA_RULE_NOT_SEEN)
        return !a->rs->rules[rule].any_of && a->rules[rule].not_audited == FA_NA_NONE;
    return s == FA_RULE_BLOCKED || s == FA_RULE_REJECTED || s == FA_RULE_UNCONFIRMED;
}

bool fa_audit_rule_not_seen_whole(const fa_audit *a, int rule)
{
    return a->rs->rules[rule].any_of && a->rules[rule].status == FA_RULE_NOT_SEEN;
}

int fa_audit_role_unaudited(const fa_audit *a, int role)
{
    int n = 0;
    for (int i = 0; i < a->rs->nrules; i++)
        n += a->rules[i].not_audited == FA_NA_ROLE && a->rules[i].missing_role == role;
    return n;
}

static void print_scope(const fa_audit *a, FILE *out)
{
    const fa_audit_scope *s = &a->scope;
    char t1[32], t2[32];
    if (!a->has_scope)
        return;
    fprintf(out, "  %-8s", s->live ? (s->records ? "collector:" : "capture:") : "input:");
    for (int i = 0; i < s->ninputs; i++)
        fprintf(out, " %s", s->inputs[i]);
    for (int i = 0; s->records && fa_audit_record_caveats[i]; i++)
        fprintf(out, "\n  %s%s", i ? "          " : "", fa_audit_record_caveats[i]);
    if (s->records && s->joined)
        fprintf(out, "\n            %" PRIu64 " %s joined by %s 5-tuple from two uniflow records (one direction"
                     " each)", s->joined, s->joined == 1 ? "flow" : "flows", s->joined == 1 ? "its" : "their");
    if (s->records && s->sampling > 1)
        fprintf(out, "\n  WARNING: the exporter samples 1 packet in %" PRIu32 ": a 'not seen' rule or a"
                     " 'blocked' attempt may be traffic it did not sample", s->sampling);
    fprintf(out, "\n  rules:   %s (%d products, %d rules)\n", s->rules_dir, a->rs->nproducts, a->rs->nrules);
    fprintf(out, "  site:    %s\n", s->site_file ? s->site_file : "none (port-only mode)");
    if (s->last_us) {
        iso_time(s->first_us, t1);
        iso_time(s->last_us, t2);
        fprintf(out, "  window:  %s .. %s (%.0f s%s)\n", t1, t2, (double)(s->last_us - s->first_us) / 1e6,
                s->live && s->records ? "; this host's clock, the flows carry the exporter's" : "");
    }
}

/* Wraps a list of roles at 78 columns under a title. */
static void print_roles(const fa_audit *a, int product, bool with_rules, const char *title, FILE *out,
                        const palette *c)
{
    int col = 0;
    for (int r = 0; r < a->rs->nroles; r++) {
        if (a->rs->roles[r].product != product || a->site->role_mapped[r])
            continue;
        int n = fa_audit_role_unaudited(a, r);
        if ((n > 0) != with_rules)
            continue;
        char item[96];
        if (with_rules)
            snprintf(item, sizeof item, " %s (%d)", a->rs->roles[r].id, n);
        else
            snprintf(item, sizeof item, " %s", a->rs->roles[r].id);
        if (col == 0)
            col = fprintf(out, "    %s%s", c->dim, title);
        if (col + (int)strlen(item) > 78)
            col = fprintf(out, "\n     ");
        col += fprintf(out, "%s", item);
    }
    if (col)
        fprintf(out, "%s\n", c->reset);
}

/* A role the site does not map is a component that is not deployed: say
 * so, with the required rules it leaves unaudited, so that an admin can
 * tell a forgotten host from a component the deployment does not have. */
static void print_not_deployed(const fa_audit *a, int product, FILE *out, const palette *c)
{
    if (!a->site)
        return;
    print_roles(a, product, true, "not deployed, their required rules not audited:", out, c);
    print_roles(a, product, false, "not deployed, no required rule:", out, c);
}

void fa_audit_coverage(const fa_audit *a, int product, int n[FA_RULE_STATUSES])
{
    memset(n, 0, FA_RULE_STATUSES * sizeof n[0]);
    for (int i = 0; i < a->rs->nrules; i++)
        if (a->rs->rules[i].product == product)
            n[a->rules[i].not_audited == FA_NA_NONE ? a->rules[i].status : FA_RULE_NOT_AUDITED]++;
}

static void print_coverage(const fa_audit *a, FILE *out, const palette *c)
{
    fprintf(out, "%sCOVERAGE%s (required rules, phase %s)\n", c->bold, c->reset,
            a->phase == FA_PHASE_INSTALLATION ? "installation"
            : a->phase == FA_PHASE_INTERVENTION ? "intervention" : "operation");
    for (int p = 0; p < a->rs->nproducts; p++) {
        if (a->site && !a->site->product_deployed[p])
            continue;
        int n[FA_RULE_STATUSES];
        fa_audit_coverage(a, p, n);
        int required = n[FA_RULE_SEEN] + n[FA_RULE_BLOCKED] + n[FA_RULE_REJECTED] + n[FA_RULE_NOT_SEEN] +
                       n[FA_RULE_UNCONFIRMED];
        fprintf(out, "  %s\n    %d required: %d seen, %d blocked, %d rejected, %d not seen",
                a->rs->products[p].name, required, n[FA_RULE_SEEN], n[FA_RULE_BLOCKED],
                n[FA_RULE_REJECTED], n[FA_RULE_NOT_SEEN]);
        if (n[FA_RULE_UNCONFIRMED])
            fprintf(out, ", %d unconfirmed", n[FA_RULE_UNCONFIRMED]);
        if (n[FA_RULE_NOT_OBSERVABLE])
            fprintf(out, "; %d not observable", n[FA_RULE_NOT_OBSERVABLE]);
        fputc('\n', out);
        print_not_deployed(a, p, out, c);
    }
    if (!a->site)
        fprintf(out, "  %sport-only mode: no site file, roles were not verified%s\n", c->yellow, c->reset);
}

/* A failed attempt on an optional row matters less than a missing
 * requirement's. */
const char *fa_audit_severity(const fa_audit *a, int rule, fa_rule_status s)
{
    if (s == FA_RULE_UNCONFIRMED)
        return "low";
    if (s == FA_RULE_NOT_SEEN || a->rules[rule].not_audited == FA_NA_OPTIONAL)
        return "medium";
    return "high";
}

static void print_severity(const fa_audit *a, int rule, fa_rule_status s, FILE *out)
{
    const char *sev = fa_audit_severity(a, rule, s);
    fputc('[', out);
    while (*sev)
        fputc(*sev++ - 'a' + 'A', out);
    fputc(']', out);
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

static void print_pairs(const fa_port_state *st, FILE *out)
{
    char s[FA_ADDR_STRLEN], d[FA_ADDR_STRLEN];
    for (uint32_t i = 0; i < st->npairs; i++) {
        const fa_pair *p = &st->pairs[i];
        fprintf(out, "      %s -> %s: %u answered, %u unanswered, %u refused",
                fa_addr_str(&p->src, s, sizeof s), fa_addr_str(&p->dst, d, sizeof d), p->seen,
                p->blocked, p->rejected);
        if (p->unconfirmed)
            fprintf(out, ", %u unconfirmed", p->unconfirmed);
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

/* One finding: a port of a rule (port >= 0) or a whole any-of rule. */
static void print_finding(const fa_audit *a, int i, int port, fa_rule_status status, FILE *out,
                          const palette *c)
{
    const fa_rule *r = &a->rs->rules[i];
    const fa_rule_state *rst = &a->rules[i];
    char svc[320], row[320], t1[32], t2[32];
    fa_audit_service(a, i, rst->nports > 1 ? port : -1, svc, sizeof svc);
    const char *color = status == FA_RULE_NOT_SEEN || status == FA_RULE_UNCONFIRMED ? c->yellow : c->red;
    fprintf(out, "  %s", color);
    print_severity(a, i, status, out);
    fprintf(out, " %s %s%s: %s -> %s %s", r->id, fa_rule_status_name(status), c->reset,
            fa_rule_role_id(a->rs, r->from_role), fa_rule_role_id(a->rs, r->to_role), svc);
    if (rst->nports > 1 && port >= 0) {
        fa_portset_format(a->dports[i], row, sizeof row);
        fprintf(out, " (of %s%s)", row, r->any_of ? ", any one will do" : "");
    }
    fprintf(out, " (%s; %s%s)\n", product_name(a, r), r->purpose,
            rst->not_audited == FA_NA_OPTIONAL ? "; an optional row" : "");
    if (status != FA_RULE_NOT_SEEN)
        print_pairs(&a->ports[rst->first_port + (port > 0 ? port : 0)], out);
    else if (a->has_scope && a->scope.last_us) {
        iso_time(a->scope.first_us, t1);
        iso_time(a->scope.last_us, t2);
        fprintf(out, "      not seen between %s and %s\n", t1, t2);
    }
    if (r->impact)
        fprintf(out, "      impact: %s\n", r->impact);
}

int fa_audit_required_judged(const fa_audit *a)
{
    int judged = 0;
    for (int p = 0; p < a->rs->nproducts; p++) {
        if (a->site && !a->site->product_deployed[p])
            continue;
        int n[FA_RULE_STATUSES];
        fa_audit_coverage(a, p, n);
        judged += n[FA_RULE_SEEN] + n[FA_RULE_BLOCKED] + n[FA_RULE_REJECTED] + n[FA_RULE_NOT_SEEN] +
                  n[FA_RULE_UNCONFIRMED];
    }
    return judged;
}

static void print_findings(const fa_audit *a, FILE *out, const palette *c)
{
    static const fa_rule_status order[] = {FA_RULE_REJECTED, FA_RULE_BLOCKED, FA_RULE_NOT_SEEN,
                                           FA_RULE_UNCONFIRMED};
    int n = 0;
    fprintf(out, "\n%sFINDINGS%s\n", c->bold, c->reset);
    for (size_t o = 0; o < sizeof order / sizeof order[0]; o++)
        for (int i = 0; i < a->rs->nrules; i++) {
            const fa_rule_state *rst = &a->rules[i];
            if (order[o] == FA_RULE_NOT_SEEN && fa_audit_rule_not_seen_whole(a, i)) {
                print_finding(a, i, -1, FA_RULE_NOT_SEEN, out, c);
                n++;
            }
            for (int k = 0; k < rst->nports; k++)
                if (a->ports[rst->first_port + k].status == order[o] && fa_audit_port_is_finding(a, i, k)) {
                    print_finding(a, i, k, order[o], out, c);
                    n++;
                }
        }
    /* "Every rule was seen" is vacuous, and misleading, when no rule could
     * be: all unobservable, or (from sensors) no network announced yet. */
    if (n == 0 && fa_audit_required_judged(a) == 0)
        fprintf(out, "  none, and nothing judged: no required rule could be observed (see COVERAGE)\n");
    else if (n == 0)
        fprintf(out, "  none: every required, observable rule was seen\n");
}

static int hostpair_cmp(const void *x, const void *y)
{
    const fa_hostpair *a = *(const fa_hostpair *const *)x, *b = *(const fa_hostpair *const *)y;
    int c = fa_addr_cmp(&a->key.src, &b->key.src);
    return c ? c : fa_addr_cmp(&a->key.dst, &b->key.dst);
}

fa_hostpair **fa_audit_one_way_pairs(const fa_audit *a, uint32_t *n)
{
    fa_hostpair **v = malloc((a->hostpairs.n ? a->hostpairs.n : 1) * sizeof *v);
    *n = 0;
    if (!v)
        return NULL;
    for (uint32_t i = 0; i < a->hostpairs.n; i++) {
        fa_hostpair *h = fa_keytab_at(&a->hostpairs, i);
        if (fa_audit_one_way(a, &h->key.src, &h->key.dst))
            v[(*n)++] = h;
    }
    qsort(v, *n, sizeof *v, hostpair_cmp);
    return v;
}

/* An asymmetric span port, or a capture filter, shows one direction of a
 * host pair: the attempts between them are unconfirmed, not blocked. */
static void print_one_way(const fa_audit *a, FILE *out, const palette *c)
{
    uint32_t n;
    char s[FA_ADDR_STRLEN], d[FA_ADDR_STRLEN];
    fa_hostpair **v = fa_audit_one_way_pairs(a, &n);
    if (v && n) {
        fprintf(out, "\n%sONE DIRECTION CAPTURED%s (attempts between these hosts are unconfirmed)\n", c->bold,
                c->reset);
        for (uint32_t i = 0; i < n; i++)
            fprintf(out, "  %s -> %s: %" PRIu64 " flows, none of %s's packets captured\n",
                    fa_addr_str(&v[i]->key.src, s, sizeof s), fa_addr_str(&v[i]->key.dst, d, sizeof d),
                    v[i]->flows, d);
    }
    free(v);
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

fa_undoc **fa_audit_sorted_undoc(const fa_audit *a)
{
    fa_undoc **v = malloc((a->undoc.n ? a->undoc.n : 1) * sizeof *v);
    if (!v)
        return NULL;
    for (uint32_t i = 0; i < a->undoc.n; i++)
        v[i] = fa_keytab_at(&a->undoc, i);
    qsort(v, a->undoc.n, sizeof *v, undoc_cmp);
    return v;
}

static bool same_group(const fa_undoc *a, const fa_undoc *b)
{
    return a->key.wrong_direction == b->key.wrong_direction && a->key.proto == b->key.proto &&
           fa_addr_cmp(&a->key.orig, &b->key.orig) == 0 && fa_addr_cmp(&a->key.resp, &b->key.resp) == 0 &&
           a->only_rule == b->only_rule;
}

/* Why a rule that would document the flow is not in force. */
static void print_only_rule(const fa_audit *a, int rule, FILE *out)
{
    const fa_rule *r = &a->rs->rules[rule];
    char ph[64];
    if (!(r->phases & a->phase))
        fprintf(out, "  [documented only in phase %s: %s]", fa_phase_str(r->phases, ph, sizeof ph), r->id);
    else
        fprintf(out, "  [documented only with feature %s.%s: %s]", a->rs->products[r->product].id,
                r->feature >= 0 ? a->rs->features[r->feature].id : "?", r->id);
}

/* One line per (originator, responder, transport): a port scan or a chatty
 * service is one line with its ports listed (the first eight). */
static void print_undoc_group(const fa_audit *a, fa_undoc **v, size_t from, size_t to, FILE *out)
{
    char o[FA_ADDR_STRLEN], r[FA_ADDR_STRLEN], t1[32], t2[32];
    uint64_t flows = 0, bytes = 0, first = UINT64_MAX, last = 0, blocked = 0, midstream = 0;
    for (size_t i = from; i < to; i++) {
        flows += v[i]->flows;
        bytes += v[i]->bytes;
        blocked += v[i]->blocked + v[i]->rejected;
        midstream += v[i]->midstream;
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
    if (midstream)
        fprintf(out, "  (%" PRIu64 " met mid-connection: direction unknown)", midstream);
    if (u->key.wrong_direction && u->rule >= 0)
        fprintf(out, "  [reverse of %s]", a->rs->rules[u->rule].id);
    if (u->only_rule >= 0)
        print_only_rule(a, u->only_rule, out);
    fputc('\n', out);
}

static void print_undoc(const fa_audit *a, FILE *out, const palette *c)
{
    fa_undoc **v = fa_audit_sorted_undoc(a);
    if (!v)
        return;
    for (int wrong = 1; wrong >= 0; wrong--) {
        fprintf(out, "\n%s%s%s\n", c->bold, wrong ? "WRONG-DIRECTION FLOWS" : "UNDOCUMENTED FLOWS", c->reset);
        size_t shown = 0;
        for (size_t i = 0; i < a->undoc.n;) {
            size_t j = i + 1;
            while (j < a->undoc.n && same_group(v[i], v[j]))
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

static void print_hit(const fa_audit *a, int i, FILE *out)
{
    char t1[32], t2[32], svc[320];
    fa_rule_use u;
    fa_audit_rule_use(a, i, &u);
    fa_audit_service(a, i, -1, svc, sizeof svc);
    iso_time(u.first_us, t1);
    iso_time(u.last_us, t2);
    fprintf(out, "  %-10s %-22s flows %" PRIu64 ", bytes %" PRIu64 ", %s .. %s\n", a->rs->rules[i].id, svc,
            u.flows, u.bytes, t1, t2);
}

/* Used rules one per line; the never-used ones as a wrapped list of ids,
 * so that they stand out without burying the rest. */
static void print_hits(const fa_audit *a, FILE *out, const palette *c)
{
    int unused = 0, col = 0;
    fa_rule_use u;
    fprintf(out, "\n%sRULE HITS%s\n", c->bold, c->reset);
    for (int i = 0; i < a->rs->nrules; i++) {
        if (a->site && !a->site->product_deployed[a->rs->rules[i].product])
            continue;
        fa_audit_rule_use(a, i, &u);
        if (u.flows)
            print_hit(a, i, out);
        else
            unused++;
    }
    if (!unused)
        return;
    fprintf(out, "  %snever used (%d):", c->dim, unused);
    col = 80;
    for (int i = 0; i < a->rs->nrules; i++) {
        const fa_rule *r = &a->rs->rules[i];
        fa_audit_rule_use(a, i, &u);
        if (u.flows || (a->site && !a->site->product_deployed[r->product]))
            continue;
        if (col + (int)strlen(r->id) + 1 > 78) {
            fputs("\n   ", out);
            col = 3;
        }
        col += fprintf(out, " %s", r->id);
    }
    fprintf(out, "%s\n", c->reset);
}

static void print_totals(const fa_audit *a, FILE *out, const palette *c)
{
    fprintf(out, "\n%sTOTALS%s\n  flows: %" PRIu64 " documented, %" PRIu64 " undocumented, %" PRIu64
                 " wrong-direction, %" PRIu64 " out of scope\n",
            c->bold, c->reset, a->by_verdict[FA_VERDICT_DOCUMENTED], a->by_verdict[FA_VERDICT_UNDOCUMENTED],
            a->by_verdict[FA_VERDICT_WRONG_DIRECTION], a->by_verdict[FA_VERDICT_OUT_OF_SCOPE]);
    if (a->evicted || a->continued)
        fprintf(out, "  %" PRIu64 " flows judged were evicted at the --max-flows cap, %" PRIu64
                     " resumed an evicted or expired connection\n",
                a->evicted, a->continued);
}

int fa_audit_print_text(const fa_audit *a, FILE *out, bool color)
{
    palette c = colors(color);
    fprintf(out, "%sflowaudit audit%s", c.bold, c.reset);
    if (a->site && a->site->name)
        fprintf(out, " of \"%s\"", a->site->name);
    fputc('\n', out);
    print_scope(a, out);
    fputc('\n', out);
    print_coverage(a, out, &c);
    print_findings(a, out, &c);
    print_one_way(a, out, &c);
    print_undoc(a, out, &c);
    print_hits(a, out, &c);
    print_totals(a, out, &c);
    return ferror(out) ? -1 : 0;
}
