/* html_audit.c - the audit's sections of the HTML page, as tables: what
 * was audited, coverage, roles not deployed, findings port by port with
 * the vendor's impact text, one-way captures, wrong-direction and
 * undocumented flows, rule hits and never-used rules, totals. The same
 * facts as the text report (audit_report.c). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "audit_internal.h"
#include "decode.h"
#include "html_internal.h"

static const char *phase_name(uint32_t phase)
{
    return phase == FA_PHASE_INSTALLATION ? "installation"
           : phase == FA_PHASE_INTERVENTION ? "intervention" : "operation";
}

/* A status as a coloured word; its class is its name with '_'. */
static void status_cell(fa_rule_status s, FILE *out)
{
    const char *name = fa_rule_status_name(s);
    fputs("<td class=\"st ", out);
    for (const char *p = name; *p; p++)
        fputc(*p == ' ' || *p == '-' ? '_' : *p, out);
    fputs("\">", out);
    FA_H(out, name);
    fputs("</td>", out);
}

static void scope_rows(const fa_audit *a, FILE *out)
{
    const fa_audit_scope *s = &a->scope;
    char t1[32], t2[32];
    fputs("<table class=\"scope\">\n", out);
    if (a->has_scope) {
        fprintf(out, "<tr><td>%s</td><td>", s->live ? (s->records ? "collector" : "capture") : "input");
        for (int i = 0; i < s->ninputs; i++) {
            fputs(i ? ", " : "", out);
            FA_H(out, s->inputs[i]);
        }
        fputs("</td></tr>\n<tr><td>rules</td><td>", out);
        FA_H(out, s->rules_dir);
        fprintf(out, " (%d products, %d rules)</td></tr>\n<tr><td>site</td><td>", a->rs->nproducts,
                a->rs->nrules);
        FA_H(out, s->site_file ? s->site_file : "none (port-only mode: roles were not verified)");
        fputs("</td></tr>\n", out);
        for (int i = 0; s->records && fa_audit_record_caveats[i]; i++) {
            fputs(i ? "<tr><td></td><td>" : "<tr><td>evidence</td><td>", out);
            FA_H(out, fa_audit_record_caveats[i] + (i ? 0 : strlen("evidence: ")));
            fputs("</td></tr>\n", out);
        }
        if (s->records && s->joined)
            fprintf(out, "<tr><td></td><td>%" PRIu64 " %s joined by %s 5-tuple from two uniflow records (one"
                         " direction each)</td></tr>\n", s->joined, s->joined == 1 ? "flow" : "flows",
                    s->joined == 1 ? "its" : "their");
        if (s->records && s->sampling > 1)
            fprintf(out, "<tr><td>sampling</td><td class=\"blocked\">the exporter samples 1 packet in %" PRIu32
                         ": a &lsquo;not seen&rsquo; rule or a &lsquo;blocked&rsquo; attempt may be traffic it"
                         " did not sample</td></tr>\n", s->sampling);
        if (s->last_us) {
            fa_html_time(s->first_us, t1);
            fa_html_time(s->last_us, t2);
            fprintf(out, "<tr><td>window</td><td>%s .. %s UTC (%.0f s%s)</td></tr>\n", t1, t2,
                    (double)(s->last_us - s->first_us) / 1e6,
                    s->live && s->records ? "; this host&rsquo;s clock, the flows carry the exporter&rsquo;s" : "");
        }
    }
    fprintf(out, "<tr><td>phase</td><td>%s</td></tr>\n</table>\n", phase_name(a->phase));
}

static void coverage(const fa_audit *a, FILE *out)
{
    fputs("<h2 id=\"coverage\">Coverage</h2>\n<table><tr><th>product</th><th>required</th><th>seen</th>"
          "<th>blocked</th><th>rejected</th><th>not seen</th><th>unconfirmed</th><th>not observable</th>"
          "</tr>\n", out);
    for (int p = 0; p < a->rs->nproducts; p++) {
        if (a->site && !a->site->product_deployed[p])
            continue;
        int n[FA_RULE_STATUSES];
        fa_audit_coverage(a, p, n);
        fputs("<tr><td>", out);
        FA_H(out, a->rs->products[p].name);
        fprintf(out, "</td><td class=\"n\">%d</td><td class=\"n\">%d</td><td class=\"n\">%d</td>"
                     "<td class=\"n\">%d</td><td class=\"n\">%d</td><td class=\"n\">%d</td>"
                     "<td class=\"n\">%d</td></tr>\n",
                n[FA_RULE_SEEN] + n[FA_RULE_BLOCKED] + n[FA_RULE_REJECTED] + n[FA_RULE_NOT_SEEN] +
                    n[FA_RULE_UNCONFIRMED],
                n[FA_RULE_SEEN], n[FA_RULE_BLOCKED], n[FA_RULE_REJECTED], n[FA_RULE_NOT_SEEN],
                n[FA_RULE_UNCONFIRMED], n[FA_RULE_NOT_OBSERVABLE]);
    }
    fputs("</table>\n", out);
}

/* Roles of deployed products that the site maps to no host. */
static void not_deployed(const fa_audit *a, FILE *out)
{
    int shown = 0;
    for (int r = 0; a->site && r < a->rs->nroles; r++) {
        const fa_role *ro = &a->rs->roles[r];
        if (!a->site->product_deployed[ro->product] || a->site->role_mapped[r])
            continue;
        if (!shown++)
            fputs("<h2 id=\"not-deployed\">Roles not deployed</h2>\n<table><tr><th>role</th>"
                  "<th>description</th><th>required rules not audited</th></tr>\n", out);
        fputs("<tr><td>", out);
        FA_H(out, a->rs->products[ro->product].id);
        fputc('.', out);
        FA_H(out, ro->id);
        fputs("</td><td>", out);
        FA_H(out, ro->description ? ro->description : "");
        fprintf(out, "</td><td class=\"n\">%d</td></tr>\n", fa_audit_role_unaudited(a, r));
    }
    if (shown)
        fputs("</table>\n", out);
}

void fa_html_audit_head(const fa_audit *a, FILE *out)
{
    fputs("<h1>flowaudit audit", out);
    if (a->site && a->site->name) {
        fputs(" of &ldquo;", out);
        FA_H(out, a->site->name);
        fputs("&rdquo;", out);
    }
    fputs("</h1>\n", out);
    scope_rows(a, out);
    coverage(a, out);
    not_deployed(a, out);
}

static void pairs_cell(const fa_port_state *st, FILE *out)
{
    char s[FA_ADDR_STRLEN], d[FA_ADDR_STRLEN];
    fputs("<td class=\"small\">", out);
    for (uint32_t i = 0; i < st->npairs; i++) {
        const fa_pair *p = &st->pairs[i];
        fprintf(out, "%s%s &rarr; %s: %u answered, %u unanswered, %u refused", i ? "<br>" : "",
                fa_addr_str(&p->src, s, sizeof s), fa_addr_str(&p->dst, d, sizeof d), p->seen, p->blocked,
                p->rejected);
        if (p->rejected_icmp)
            fprintf(out, " (%u by ICMP %u/%u)", p->rejected_icmp, p->icmp_type, p->icmp_code);
        if (p->unconfirmed)
            fprintf(out, ", %u unconfirmed", p->unconfirmed);
    }
    if (st->pairs_dropped)
        fprintf(out, "<br>+%u more host pairs (%u unanswered, %u refused attempts)", st->pairs_dropped,
                st->dropped_unanswered, st->dropped_refused);
    fputs("</td>", out);
}

/* One finding: a port of a rule (port >= 0) or a whole any-of rule. */
static void finding_row(const fa_audit *a, int i, int port, fa_rule_status status, FILE *out)
{
    const fa_rule *r = &a->rs->rules[i];
    const fa_rule_state *rst = &a->rules[i];
    char svc[320];
    const char *sev = fa_audit_severity(a, i, status);
    fa_audit_service(a, i, rst->nports > 1 ? port : -1, svc, sizeof svc);
    fprintf(out, "<tr class=\"%s\"><td>%s</td><td class=\"rule\">", sev, sev);
    FA_H(out, r->id);
    fputs("</td>", out);
    status_cell(status, out);
    fputs("<td>", out);
    FA_H(out, fa_rule_role_id(a->rs, r->from_role));
    fputs(" &rarr; ", out);
    FA_H(out, fa_rule_role_id(a->rs, r->to_role));
    fputs("</td><td>", out);
    FA_H(out, svc);
    fputs(r->any_of && port < 0 ? " (any one will do)" : "", out);
    fputs("</td><td>", out);
    FA_H(out, a->rs->products[r->product].name);
    fputs(": ", out);
    FA_H(out, r->purpose);
    fputs(rst->not_audited == FA_NA_OPTIONAL ? " (an optional row)" : "", out);
    if (r->impact) {
        fputs("<br><b>impact:</b> ", out);
        FA_H(out, r->impact);
    }
    fputs("</td>", out);
    if (status != FA_RULE_NOT_SEEN)
        pairs_cell(&a->ports[rst->first_port + (port > 0 ? port : 0)], out);
    else
        fputs("<td class=\"small\">no flow</td>", out);
    fputs("</tr>\n", out);
}

static void findings(const fa_audit *a, FILE *out)
{
    static const fa_rule_status order[] = {FA_RULE_REJECTED, FA_RULE_BLOCKED, FA_RULE_NOT_SEEN,
                                           FA_RULE_UNCONFIRMED};
    int n = 0;
    fputs("<h2 id=\"findings\">Findings</h2>\n<table><tr><th>severity</th><th>rule</th><th>status</th>"
          "<th>from &rarr; to</th><th>service</th><th>purpose and impact</th><th>host pairs</th></tr>\n",
          out);
    for (size_t o = 0; o < sizeof order / sizeof order[0]; o++)
        for (int i = 0; i < a->rs->nrules; i++) {
            const fa_rule_state *rst = &a->rules[i];
            if (order[o] == FA_RULE_NOT_SEEN && fa_audit_rule_not_seen_whole(a, i)) {
                finding_row(a, i, -1, FA_RULE_NOT_SEEN, out);
                n++;
            }
            for (int k = 0; k < rst->nports; k++)
                if (a->ports[rst->first_port + k].status == order[o] && fa_audit_port_is_finding(a, i, k)) {
                    finding_row(a, i, k, order[o], out);
                    n++;
                }
        }
    fputs("</table>\n", out);
    if (!n && fa_audit_required_judged(a) == 0)
        fputs("<p>None, and nothing judged: no required rule could be observed (see Coverage).</p>\n", out);
    else if (!n)
        fputs("<p>None: every required, observable rule was seen.</p>\n", out);
}

static void one_way(const fa_audit *a, FILE *out)
{
    uint32_t n;
    char s[FA_ADDR_STRLEN], d[FA_ADDR_STRLEN];
    fa_hostpair **v = fa_audit_one_way_pairs(a, &n);
    if (v && n) {
        fputs("<h2 id=\"one-way\">One direction captured</h2>\n<p>Attempts between these hosts are "
              "unconfirmed, not blocked.</p>\n<table><tr><th>from</th><th>to</th><th>flows</th></tr>\n", out);
        for (uint32_t i = 0; i < n; i++)
            fprintf(out, "<tr><td>%s</td><td>%s</td><td class=\"n\">%" PRIu64 "</td></tr>\n",
                    fa_addr_str(&v[i]->key.src, s, sizeof s), fa_addr_str(&v[i]->key.dst, d, sizeof d),
                    v[i]->flows);
        fputs("</table>\n", out);
    }
    free(v);
}

static bool same_group(const fa_undoc *a, const fa_undoc *b)
{
    return a->key.wrong_direction == b->key.wrong_direction && a->key.proto == b->key.proto &&
           a->only_rule == b->only_rule && fa_addr_cmp(&a->key.orig, &b->key.orig) == 0 &&
           fa_addr_cmp(&a->key.resp, &b->key.resp) == 0;
}

/* One row per (originator, responder, transport), its ports listed (the
 * first eight): a port scan is one row. */
static void undoc_row(const fa_audit *a, fa_undoc **v, size_t from, size_t to, FILE *out)
{
    char o[FA_ADDR_STRLEN], r[FA_ADDR_STRLEN], t1[32], t2[32];
    uint64_t flows = 0, bytes = 0, failed = 0, first = UINT64_MAX, last = 0;
    const fa_undoc *u = v[from];
    for (size_t i = from; i < to; i++) {
        flows += v[i]->flows;
        bytes += v[i]->bytes;
        failed += v[i]->blocked + v[i]->rejected;
        first = v[i]->first_us < first ? v[i]->first_us : first;
        last = v[i]->last_us > last ? v[i]->last_us : last;
    }
    fprintf(out, "<tr><td>%s</td><td>%s</td><td>%s", fa_addr_str(&u->key.orig, o, sizeof o),
            fa_addr_str(&u->key.resp, r, sizeof r), fa_proto_name(u->key.proto));
    if (u->key.proto == FA_PROTO_TCP || u->key.proto == FA_PROTO_UDP)
        for (size_t i = from; i < to && i < from + 8; i++)
            fprintf(out, "%c%u", i > from ? ',' : '/', v[i]->key.port);
    if (to - from > 8)
        fprintf(out, ",... (%zu ports)", to - from);
    fa_html_time(first, t1);
    fa_html_time(last, t2);
    fprintf(out, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
                 "</td><td class=\"small\">%s .. %s</td><td>",
            flows, failed, bytes, t1, t2);
    if (u->key.wrong_direction && u->rule >= 0) {
        fputs("reverse of ", out);
        FA_H(out, a->rs->rules[u->rule].id);
    }
    if (u->only_rule >= 0) {
        fputs("documented only in another phase or with a feature off: ", out);
        FA_H(out, a->rs->rules[u->only_rule].id);
    }
    fputs("</td></tr>\n", out);
}

static void undoc(const fa_audit *a, FILE *out)
{
    fa_undoc **v = fa_audit_sorted_undoc(a);
    for (int wrong = 1; v && wrong >= 0; wrong--) {
        fprintf(out, "<h2 id=\"%s\">%s flows</h2>\n<table><tr><th>originator</th><th>responder</th>"
                     "<th>service</th><th>flows</th><th>unanswered or refused</th><th>bytes</th>"
                     "<th>first .. last (UTC)</th><th>note</th></tr>\n",
                wrong ? "wrong-direction" : "undocumented", wrong ? "Wrong-direction" : "Undocumented");
        for (size_t i = 0; i < a->undoc.n;) {
            size_t j = i + 1;
            while (j < a->undoc.n && same_group(v[i], v[j]))
                j++;
            if (v[i]->key.wrong_direction == wrong)
                undoc_row(a, v, i, j, out);
            i = j;
        }
        fputs("</table>\n", out);
    }
    if (a->undoc_dropped)
        fprintf(out, "<p>%" PRIu64 " flows not aggregated: table full.</p>\n", a->undoc_dropped);
    free(v);
}

static void hits(const fa_audit *a, FILE *out)
{
    char svc[320], t1[32], t2[32];
    fa_rule_use u;
    int unused = 0;
    fputs("<h2 id=\"hits\">Rule hits</h2>\n<table><tr><th>rule</th><th>service</th><th>status</th>"
          "<th>flows</th><th>bytes</th><th>first .. last (UTC)</th></tr>\n", out);
    for (int i = 0; i < a->rs->nrules; i++) {
        if (a->site && !a->site->product_deployed[a->rs->rules[i].product])
            continue;
        fa_audit_rule_use(a, i, &u);
        if (!u.flows) {
            unused++;
            continue;
        }
        fa_audit_service(a, i, -1, svc, sizeof svc);
        fa_html_time(u.first_us, t1);
        fa_html_time(u.last_us, t2);
        fputs("<tr><td>", out);
        FA_H(out, a->rs->rules[i].id);
        fputs("</td><td>", out);
        FA_H(out, svc);
        fputs("</td>", out);
        status_cell(a->rules[i].status, out);
        fprintf(out, "<td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64 "</td><td class=\"small\">%s .. %s"
                     "</td></tr>\n", u.flows, u.bytes, t1, t2);
    }
    fprintf(out, "</table>\n<p><b>Never used (%d):</b> <span class=\"small\">", unused);
    for (int i = 0, k = 0; i < a->rs->nrules; i++) {
        fa_audit_rule_use(a, i, &u);
        if (u.flows || (a->site && !a->site->product_deployed[a->rs->rules[i].product]))
            continue;
        fputs(k++ ? ", " : "", out);
        FA_H(out, a->rs->rules[i].id);
    }
    fputs("</span></p>\n", out);
}

void fa_html_audit_body(const fa_audit *a, FILE *out)
{
    findings(a, out);
    one_way(a, out);
    undoc(a, out);
}

void fa_html_audit_tail(const fa_audit *a, FILE *out)
{
    hits(a, out);
    fprintf(out, "<h2 id=\"totals\">Totals</h2>\n<p>flows: %" PRIu64 " documented, %" PRIu64 " undocumented, %" PRIu64
                 " wrong-direction, %" PRIu64 " out of scope</p>\n",
            a->by_verdict[FA_VERDICT_DOCUMENTED], a->by_verdict[FA_VERDICT_UNDOCUMENTED],
            a->by_verdict[FA_VERDICT_WRONG_DIRECTION], a->by_verdict[FA_VERDICT_OUT_OF_SCOPE]);
}
