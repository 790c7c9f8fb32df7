/* test_audit.c - flow verdicts, attempts, required-rule statuses, the
 * aggregation of undocumented traffic and the text and NDJSON reports.
 * Packets are built as bytes, decoded and run through a real flow table;
 * every flow it ends is audited as the pipeline does. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <pcap/dlt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "audit_internal.h"
#include "decode.h"
#include "flow_table.h"
#include "html_report.h"
#include "fa_pktbuild.h"

#define T0 1700000000000000ull /* 2023-11-14T22:13:20Z */
#define ERRLEN 1024
#define UNDOC_MAX 65536        /* aggregates kept, docs/detection.md section 3 */

#define SYN FA_TH_SYN
#define ACK FA_TH_ACK
#define RST FA_TH_RST

#define MGR "10.0.0.1"
#define N1 "10.0.0.2"
#define N2 "10.0.0.3"
#define N3 "10.0.1.5"          /* inside the node CIDR */
#define EXT "198.51.100.50"    /* outside the inventory */
#define OUT1 "203.0.113.5"
#define OUT2 "203.0.113.6"
#define RTR "10.0.0.254"       /* a firewall, outside the inventory */
#define VRRP_GROUP "224.0.0.18"

static const char alpha_rules[] =
    "product alpha \"Alpha Suite\"\n"
    "role mgr \"Manager\"\n"
    "role node \"Node\"\n"
    "role ext \"External time source\"\n"
    "feature radius \"RADIUS authentication\"\n"
    "feature ha \"High availability\"\n"
    "rule A-001 mgr -> node tcp 38866\n"
    "    purpose \"Clustering\"\n"
    "    impact \"Cluster will not work\"\n"
    "rule A-002 node -> mgr tcp,udp 88\n"
    "    purpose \"Kerberos\"\n"
    "    requirement if radius\n"
    "rule A-003 node -> mgr udp 1812\n"
    "    purpose \"HA heartbeat\"\n"
    "    requirement if ha\n"
    "rule A-004 mgr -> node tcp 5000-5010,6000\n"
    "    purpose \"Statistics\"\n"
    "    requirement optional\n"
    "rule A-005 node -> any proto:112 -\n"
    "    purpose \"VRRP\"\n"
    "rule A-006 mgr -> node icmp -\n"
    "    purpose \"Ping\"\n"
    "rule A-007 node -> ext udp 123\n"
    "    purpose \"NTP\"\n"
    "rule A-008 mgr -> node udp 4172\n"
    "    purpose \"Media\"\n"
    "    sport 55000\n"
    "rule A-009 node -> mgr tcp 8443\n"
    "    purpose \"Console\"\n"
    "    customizable yes\n"
    "rule A-010 mgr -> node tcp 1234\n"
    "    purpose \"Local agent\"\n"
    "    observable no \"localhost only\"\n"
    "rule A-011 mgr -> node tcp 2222\n"
    "    purpose \"Installer\"\n"
    "    phase installation\n"
    "rule A-012 mgr -> node tcp 3333\n"
    "    purpose \"Never used\"\n"
    "rule A-013 mgr -> node tcp 4444\n"
    "    purpose \"Refused by RST\"\n"
    "rule A-014 mgr -> node tcp 4445\n"
    "    purpose \"Per pair\"\n"
    "rule A-015 mgr -> node udp 5353\n"
    "    purpose \"Refused by ICMP\"\n"
    "rule A-016 mgr -> node udp 514\n"
    "    purpose \"Syslog\"\n"
    "rule A-017 mgr -> node udp 515\n"
    "    purpose \"Unanswered\"\n";

static const char beta_rules[] =
    "product beta \"Beta Gateway\"\n"
    "role gw \"Gateway\"\n"
    "rule B-001 any -> any tcp 7777\n"
    "    purpose \"Beta control\"\n";

static const char lab_site[] =
    "site \"Lab\"\n"
    "product alpha\n"
    "phase operation\n"
    "feature alpha.radius\n"
    "role alpha.mgr 10.0.0.1\n"
    "role alpha.node 10.0.0.2 10.0.0.3 10.0.1.0/28\n"
    "role alpha.ext external\n"
    "port A-009 9443\n";

typedef struct ended {
    fa_flow flow;
    fa_flow_verdict v;
} ended;

/* Ruleset, site, audit and table of one test, the flows it has ended with
 * their verdicts, and what the reports wrote (freed on teardown, also when
 * an assertion ends the test early). */
typedef struct fixture {
    fa_ruleset *rs;
    fa_site *site;
    fa_audit *a;
    fa_flow_table *t;
    ended *done;
    int ndone, cap;
    uint64_t ts;
    uint16_t ip_id;
    char *text;
    json_t *records;
} fixture;

static void on_end(fa_flow *f, void *ctx)
{
    fixture *fx = ctx;
    if (fx->ndone == fx->cap) {
        int cap = fx->cap ? fx->cap * 2 : 64;
        ended *grown = realloc(fx->done, (size_t)cap * sizeof *grown);
        if (!grown)
            fail_msg("out of memory");
        fx->done = grown;
        fx->cap = cap;
    }
    ended *e = &fx->done[fx->ndone++];
    e->flow = *f;
    fa_audit_flow(fx->a, f, &e->v);
}

/* A fixture over one rule text (NULL: alpha and beta) and a site text
 * (NULL: port-only mode). */
static fixture *open_rules(void **state, const char *rules_text, const char *site_text)
{
    char err[ERRLEN];
    fixture *fx = *state;
    fx->rs = fa_rules_new();
    assert_non_null(fx->rs);
    if (rules_text && fa_rules_load_string(fx->rs, "test.rules", rules_text, err, sizeof err) != 0)
        fail_msg("%s", err);
    if (!rules_text && (fa_rules_load_string(fx->rs, "alpha.rules", alpha_rules, err, sizeof err) != 0 ||
                        fa_rules_load_string(fx->rs, "beta.rules", beta_rules, err, sizeof err) != 0))
        fail_msg("%s", err);
    if (site_text && !(fx->site = fa_site_load_string(fx->rs, "lab.site", site_text, err, sizeof err)))
        fail_msg("%s", err);
    fx->a = fa_audit_new(fx->rs, fx->site);
    assert_non_null(fx->a);
    fa_flow_config cfg;
    fa_flow_config_default(&cfg);
    cfg.max_flows = 8192;
    fx->t = fa_flow_table_new(&cfg, on_end, fx);
    assert_non_null(fx->t);
    fx->ts = T0;
    return fx;
}

static fixture *open_fixture(void **state, const char *site_text)
{
    return open_rules(state, NULL, site_text);
}

static int setup(void **state)
{
    *state = calloc(1, sizeof(fixture));
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    fa_flow_table_free(fx->t);
    fa_audit_free(fx->a);
    fa_site_free(fx->site);
    fa_rules_free(fx->rs);
    free(fx->done);
    free(fx->text);
    json_decref(fx->records);
    free(fx);
    return 0;
}

/* ---- traffic ----------------------------------------------------------- */

static void feed(fixture *fx, const struct buf *b)
{
    fa_packet p;
    int dir;
    assert_false(b->overflow);
    fa_decode_result r = fa_decode(DLT_RAW, b->d, (uint32_t)b->len, (uint32_t)b->len, &p);
    if (r != FA_DEC_OK)
        fail_msg("test packet did not decode: %s", fa_decode_result_name(r));
    fx->ts += 100;
    p.ts_us = fx->ts;
    fa_flow_table_packet(fx->t, &p, &dir);
}

/* Client sequence numbers start at 1000, server ones at 5000. */
static void tcp_seq(fixture *fx, const char *src, const char *dst, uint16_t sport, uint16_t dport,
                    uint8_t flags, uint32_t seq, uint32_t ack)
{
    struct buf b;
    buf_reset(&b);
    size_t ip = pb_ipv4(&b, src, dst, FA_PROTO_TCP, 64, ++fx->ip_id, 0x4000, 0);
    pb_tcp(&b, sport, dport, seq, ack, flags, 65535);
    pb_ipv4_done(&b, ip);
    feed(fx, &b);
}

static void tcp(fixture *fx, const char *src, const char *dst, uint16_t sport, uint16_t dport, uint8_t flags)
{
    tcp_seq(fx, src, dst, sport, dport, flags, (flags & ACK) ? 5000 : 1000, (flags & ACK) ? 1001 : 0);
}

/* SYN, SYN-ACK, ACK: an answered connection (Zeek S1). */
static void handshake(fixture *fx, const char *c, const char *s, uint16_t cport, uint16_t sport)
{
    tcp_seq(fx, c, s, cport, sport, SYN, 1000, 0);
    tcp_seq(fx, s, c, sport, cport, SYN | ACK, 5000, 1001);
    tcp_seq(fx, c, s, cport, sport, ACK, 1001, 5001);
}

static void udp_pb(struct buf *b, uint16_t id, const char *src, const char *dst, uint16_t sport,
                   uint16_t dport)
{
    buf_reset(b);
    size_t ip = pb_ipv4(b, src, dst, FA_PROTO_UDP, 64, id, 0, 0);
    size_t u = pb_udp(b, sport, dport);
    put_fill(b, 'u', 12);
    pb_udp_done(b, u);
    pb_ipv4_done(b, ip);
}

static void udp(fixture *fx, const char *src, const char *dst, uint16_t sport, uint16_t dport)
{
    struct buf b;
    udp_pb(&b, ++fx->ip_id, src, dst, sport, dport);
    feed(fx, &b);
}

static void icmp(fixture *fx, const char *src, const char *dst, uint8_t type)
{
    struct buf b;
    buf_reset(&b);
    size_t ip = pb_ipv4(&b, src, dst, FA_PROTO_ICMP, 64, ++fx->ip_id, 0, 0);
    pb_icmp(&b, type, 0, 0x00010001);
    put_fill(&b, 'p', 32);
    pb_ipv4_done(&b, ip);
    feed(fx, &b);
}

/* An ICMP error from `from` quoting the first 28 bytes of `quoted`. */
static void icmp_error(fixture *fx, const char *from, const char *to, uint8_t type, uint8_t code,
                       const struct buf *quoted)
{
    struct buf b;
    buf_reset(&b);
    size_t ip = pb_ipv4(&b, from, to, FA_PROTO_ICMP, 250, ++fx->ip_id, 0, 0);
    pb_icmp(&b, type, code, 0);
    put_bytes(&b, quoted->d, quoted->len < 28 ? quoted->len : 28);
    pb_ipv4_done(&b, ip);
    feed(fx, &b);
}

static void raw_proto(fixture *fx, const char *src, const char *dst, uint8_t proto)
{
    struct buf b;
    buf_reset(&b);
    size_t ip = pb_ipv4(&b, src, dst, proto, 255, ++fx->ip_id, 0, 0);
    put_fill(&b, 0x21, 20);
    pb_ipv4_done(&b, ip);
    feed(fx, &b);
}

/* Ends every flow and settles the rules. */
static void finish(fixture *fx)
{
    fa_flow_table_flush(fx->t, FA_END_EOF);
    fa_audit_finish(fx->a);
}

/* ---- lookups ----------------------------------------------------------- */

static fa_addr addr(const char *text)
{
    fa_cidr c;
    if (fa_cidr_parse(text, &c) != 0)
        fail_msg("bad address %s", text);
    return c.net;
}

static const ended *flow_of(const fixture *fx, uint8_t proto, const char *orig, uint16_t oport,
                            const char *resp, uint16_t rport)
{
    fa_addr o = addr(orig), r = addr(resp);
    for (int i = 0; i < fx->ndone; i++) {
        const fa_flow *f = &fx->done[i].flow;
        if (f->key.proto == proto && fa_addr_cmp(fa_flow_addr(f, 0), &o) == 0 &&
            fa_addr_cmp(fa_flow_addr(f, 1), &r) == 0 && fa_flow_port(f, 0) == oport &&
            fa_flow_port(f, 1) == rport)
            return &fx->done[i];
    }
    fail_msg("no flow %u %s:%u -> %s:%u", proto, orig, oport, resp, rport);
    return NULL;
}

static int rid(const fixture *fx, const char *id)
{
    int i = fa_rules_find_rule(fx->rs, id);
    if (i < 0)
        fail_msg("no rule %s", id);
    return i;
}

static const char *status_of(const fixture *fx, const char *id)
{
    return fa_rule_status_name(fa_audit_rule_status(fx->a, rid(fx, id)));
}

/* The flow's verdict, attempt and rule ids (NULL-terminated list). */
static void expect(const fixture *fx, const ended *e, fa_verdict verdict, fa_attempt attempt, ...)
{
    va_list ap;
    int n = 0;
    assert_string_equal(fa_verdict_name(e->v.verdict), fa_verdict_name(verdict));
    assert_string_equal(fa_attempt_name(e->v.attempt), fa_attempt_name(attempt));
    va_start(ap, attempt);
    for (const char *id = va_arg(ap, const char *); id; id = va_arg(ap, const char *)) {
        if (n >= e->v.nrules) {
            va_end(ap);
            fail_msg("rule %s missing from the verdict", id);
        }
        assert_string_equal(fx->rs->rules[e->v.rules[n]].id, id);
        n++;
    }
    va_end(ap);
    assert_int_equal(e->v.nrules, n);
}

static const char *report(fixture *fx)
{
    size_t len = 0;
    free(fx->text);
    fx->text = NULL;
    FILE *f = open_memstream(&fx->text, &len);
    assert_non_null(f);
    assert_int_equal(fa_audit_print_text(fx->a, f, false), 0);
    assert_int_equal(fclose(f), 0);
    return fx->text;
}

static void has_text(const fixture *fx, const char *needle)
{
    if (!strstr(fx->text, needle)) {
        fprintf(stderr, "report:\n%s", fx->text);
        fail_msg("report lacks \"%s\"", needle);
    }
}

static void has_no_text(const fixture *fx, const char *needle)
{
    if (strstr(fx->text, needle)) {
        fprintf(stderr, "report:\n%s", fx->text);
        fail_msg("report has \"%s\"", needle);
    }
}

/* Lines of a report section (from its title to the next blank line). */
static int section_lines(const fixture *fx, const char *title)
{
    const char *p = strstr(fx->text, title);
    int n = 0;
    if (!p)
        fail_msg("no section %s:\n%s", title, fx->text);
    p = strchr(p, '\n');
    while (p && p[1] && p[1] != '\n') {
        n++;
        p = strchr(p + 1, '\n');
    }
    return n;
}

/* Parses every NDJSON line the audit writes into fx->records. */
static json_t *json_records(fixture *fx)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    int rc = fa_audit_write_json(fx->a, f);
    assert_int_equal(fclose(f), 0);
    json_decref(fx->records);
    fx->records = json_array();
    for (char *save, *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        if (!o) {
            free(buf);
            fail_msg("bad JSON line: %s", jerr.text);
        }
        json_array_append_new(fx->records, o);
    }
    free(buf);
    assert_int_equal(rc, 0);
    return fx->records;
}

static int count_type(const json_t *recs, const char *type)
{
    size_t i;
    json_t *o;
    int n = 0;
    json_array_foreach(recs, i, o)
        n += strcmp(json_string_value(json_object_get(o, "type")), type) == 0;
    return n;
}

/* The record of that type whose string field key is value. */
static json_t *record(const json_t *recs, const char *type, const char *key, const char *value)
{
    size_t i;
    json_t *o;
    json_array_foreach(recs, i, o) {
        if (strcmp(json_string_value(json_object_get(o, "type")), type) != 0)
            continue;
        const char *v = key ? json_string_value(json_object_get(o, key)) : NULL;
        if (!key || (v && strcmp(v, value) == 0))
            return o;
    }
    fail_msg("no %s record with %s=%s", type, key ? key : "-", value ? value : "-");
    return NULL;
}

static json_int_t int_field(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("field %s is not an integer", key);
    return json_integer_value(v);
}

static const char *str_field(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        fail_msg("field %s is not a string", key);
    return json_string_value(v);
}

/* ---- the lab scenario -------------------------------------------------- */

static void lab_traffic(fixture *fx)
{
    struct buf q;
    handshake(fx, MGR, N1, 40001, 38866);          /* */
    handshake(fx, N3, MGR, 40002, 38866);          /* wrong way, to the rule's port */
    handshake(fx, N1, MGR, 38866, 50001);          /* from the rule's port: undocumented */
    udp(fx, N1, MGR, 40004, 88);                   /* */
    udp(fx, MGR, N1, 88, 40004);
    udp(fx, N1, MGR, 40005, 1812);                 /* A-003, feature off: not in force */
    handshake(fx, MGR, N1, 40006, 5005);           /* A-004, optional */
    tcp(fx, MGR, N1, 40007, 6000, SYN);
    raw_proto(fx, N1, VRRP_GROUP, 112);            /* */
    icmp(fx, MGR, N1, 8);                          /* A-006 answered */
    icmp(fx, N1, MGR, 0);
    icmp(fx, MGR, N2, 8);                          /* A-006 unanswered */
    udp(fx, N1, EXT, 40009, 123);                  /* A-007, external role */
    udp(fx, EXT, N1, 123, 40009);
    udp(fx, N1, MGR, 40010, 123);                  /* inventory host is not "ext" */
    udp(fx, MGR, N1, 55000, 4172);                 /* A-008, fixed source port */
    udp(fx, N1, MGR, 4172, 55000);
    udp(fx, MGR, N1, 40011, 4172);                 /* other source port */
    handshake(fx, N1, MGR, 40012, 9443);           /* A-009 on the site's port */
    tcp(fx, N1, MGR, 40013, 8443, SYN);            /* the rule's own port */
    handshake(fx, MGR, N1, 40014, 1234);           /* A-010, not observable */
    handshake(fx, MGR, N1, 40015, 2222);           /* A-011, other phase: not in force */
    tcp(fx, MGR, N1, 40016, 4444, SYN);            /* REJ */
    tcp(fx, N1, MGR, 4444, 40016, RST | ACK);
    handshake(fx, MGR, N1, 40017, 4445);           /* N1 answers */
    tcp(fx, MGR, N1, 40019, 4445, SYN);            /* unanswered once: still fine */
    tcp(fx, MGR, N2, 40018, 4445, SYN);            /* N2 never does */
    udp_pb(&q, 7, MGR, N1, 40020, 5353);           /* ICMP 3/13 */
    feed(fx, &q);
    icmp_error(fx, RTR, MGR, 3, 13, &q);
    udp(fx, MGR, N1, 40021, 514);                  /* A-016 answered */
    udp(fx, N1, MGR, 514, 40021);
    udp(fx, MGR, N1, 40022, 515);                  /* A-017 unanswered */
    handshake(fx, MGR, N1, 40023, 7777);           /* beta is not deployed */
    handshake(fx, MGR, N1, 40024, 9999);           /* no rule at all */
    handshake(fx, OUT1, OUT2, 40025, 80);          /* no inventory host */
    raw_proto(fx, MGR, VRRP_GROUP, 112);           /* mgr is no node */
    finish(fx);
}

static void test_verdicts(void **state)
{
    fixture *fx = open_fixture(state, lab_site);
    lab_traffic(fx);
    expect(fx, flow_of(fx, 6, MGR, 40001, N1, 38866), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_SEEN, "A-001", NULL);
    expect(fx, flow_of(fx, 6, N3, 40002, MGR, 38866), FA_VERDICT_WRONG_DIRECTION, FA_ATTEMPT_SEEN, "A-001",
           NULL);
    /* The connection was opened by N1, the rule's destination, but to
     * another port than the rule's: a source port equal to the rule's port
     * is an ephemeral port like any other. */
    expect(fx, flow_of(fx, 6, N1, 38866, MGR, 50001), FA_VERDICT_UNDOCUMENTED, FA_ATTEMPT_SEEN, NULL);
    expect(fx, flow_of(fx, 17, N1, 40004, MGR, 88), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_SEEN, "A-002", NULL);
    const ended *ha = flow_of(fx, 17, N1, 40005, MGR, 1812);
    expect(fx, ha, FA_VERDICT_UNDOCUMENTED, FA_ATTEMPT_BLOCKED, NULL);
    assert_int_equal(ha->v.only_rule, rid(fx, "A-003"));
    const ended *inst = flow_of(fx, 6, MGR, 40015, N1, 2222);
    expect(fx, inst, FA_VERDICT_UNDOCUMENTED, FA_ATTEMPT_SEEN, NULL);
    assert_int_equal(inst->v.only_rule, rid(fx, "A-011"));
    expect(fx, flow_of(fx, 6, MGR, 40006, N1, 5005), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_SEEN, "A-004", NULL);
    expect(fx, flow_of(fx, 6, MGR, 40007, N1, 6000), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_BLOCKED, "A-004",
           NULL);
    expect(fx, flow_of(fx, 112, N1, 0, VRRP_GROUP, 0), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_SEEN, "A-005", NULL);
    expect(fx, flow_of(fx, 1, MGR, 8, N1, 0), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_SEEN, "A-006", NULL);
    expect(fx, flow_of(fx, 1, MGR, 8, N2, 0), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_BLOCKED, "A-006", NULL);
    expect(fx, flow_of(fx, 17, N1, 40009, EXT, 123), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_SEEN, "A-007", NULL);
    expect(fx, flow_of(fx, 17, N1, 40010, MGR, 123), FA_VERDICT_UNDOCUMENTED, FA_ATTEMPT_BLOCKED, NULL);
    expect(fx, flow_of(fx, 17, MGR, 55000, N1, 4172), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_SEEN, "A-008", NULL);
    expect(fx, flow_of(fx, 17, MGR, 40011, N1, 4172), FA_VERDICT_UNDOCUMENTED, FA_ATTEMPT_BLOCKED, NULL);
    expect(fx, flow_of(fx, 6, N1, 40012, MGR, 9443), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_SEEN, "A-009", NULL);
    expect(fx, flow_of(fx, 6, N1, 40013, MGR, 8443), FA_VERDICT_UNDOCUMENTED, FA_ATTEMPT_BLOCKED, NULL);
    expect(fx, flow_of(fx, 6, MGR, 40016, N1, 4444), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_REJECTED, "A-013",
           NULL);
    expect(fx, flow_of(fx, 6, MGR, 40018, N2, 4445), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_BLOCKED, "A-014",
           NULL);
    expect(fx, flow_of(fx, 17, MGR, 40020, N1, 5353), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_REJECTED, "A-015",
           NULL);
    expect(fx, flow_of(fx, 1, RTR, 3, MGR, 13), FA_VERDICT_OUT_OF_SCOPE, FA_ATTEMPT_SEEN, NULL);
    expect(fx, flow_of(fx, 17, MGR, 40021, N1, 514), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_SEEN, "A-016", NULL);
    expect(fx, flow_of(fx, 17, MGR, 40022, N1, 515), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_BLOCKED, "A-017",
           NULL);
    expect(fx, flow_of(fx, 6, MGR, 40023, N1, 7777), FA_VERDICT_UNDOCUMENTED, FA_ATTEMPT_SEEN, NULL);
    expect(fx, flow_of(fx, 6, MGR, 40024, N1, 9999), FA_VERDICT_UNDOCUMENTED, FA_ATTEMPT_SEEN, NULL);
    expect(fx, flow_of(fx, 6, OUT1, 40025, OUT2, 80), FA_VERDICT_OUT_OF_SCOPE, FA_ATTEMPT_SEEN, NULL);
    expect(fx, flow_of(fx, 112, MGR, 0, VRRP_GROUP, 0), FA_VERDICT_UNDOCUMENTED, FA_ATTEMPT_SEEN, NULL);
    assert_int_equal(fx->ndone, 30);
}

static void test_rule_statuses(void **state)
{
    static const struct { const char *id, *status; } want[] = {
        {"A-001", "seen"},        {"A-002", "seen"},    /* conditional, feature on */
        {"A-003", "not_audited"}, /* feature off */     {"A-004", "blocked"}, /* optional, tried */
        {"A-005", "seen"},        {"A-006", "blocked"}, {"A-007", "seen"},
        {"A-008", "seen"},        {"A-009", "seen"},    {"A-010", "not_observable"},
        {"A-011", "not_audited"}, /* other phase */     {"A-012", "not_seen"},
        {"A-013", "rejected"},    {"A-014", "blocked"}, {"A-015", "rejected"},
        {"A-016", "seen"},        {"A-017", "blocked"}, {"B-001", "not_audited"}, /* not deployed */
    };
    fixture *fx = open_fixture(state, lab_site);
    lab_traffic(fx);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (strcmp(status_of(fx, want[i].id), want[i].status) != 0)
            fail_msg("%s is %s, expected %s", want[i].id, status_of(fx, want[i].id), want[i].status);
    assert_int_equal(fa_audit_findings(fx->a), FA_FAIL_MISSING | FA_FAIL_BLOCKED | FA_FAIL_REJECTED |
                                                    FA_FAIL_UNDOCUMENTED | FA_FAIL_WRONG_DIRECTION);
}

static void test_text_report(void **state)
{
    fixture *fx = open_fixture(state, lab_site);
    lab_traffic(fx);
    report(fx);
    has_text(fx, "flowaudit audit of \"Lab\"\n");
    has_text(fx, "COVERAGE (required rules, phase operation)\n  Alpha Suite\n"
                 "    13 required: 7 seen, 3 blocked, 2 rejected, 1 not seen; 1 not observable\n");
    assert_null(strstr(fx->text, "Beta Gateway")); /* not deployed */
    /* rejected first, then blocked, then not seen */
    const char *r13 = strstr(fx->text, "[HIGH] A-013 rejected");
    const char *r14 = strstr(fx->text, "[HIGH] A-014 blocked");
    const char *r12 = strstr(fx->text, "[MEDIUM] A-012 not_seen");
    assert_non_null(r13);
    assert_non_null(r14);
    assert_non_null(r12);
    assert_true(r13 < r14 && r14 < r12);
    has_text(fx, "  [HIGH] A-013 rejected: mgr -> node tcp/4444 (Alpha Suite; Refused by RST)\n"
                 "      10.0.0.1 -> 10.0.0.2: 0 answered, 0 unanswered, 1 refused (1 by TCP RST)\n");
    has_text(fx, "  [HIGH] A-015 rejected: mgr -> node udp/5353 (Alpha Suite; Refused by ICMP)\n"
                 "      10.0.0.1 -> 10.0.0.2: 0 answered, 0 unanswered, 1 refused "
                 "(1 by ICMP 3/13 administratively prohibited)\n");
    has_text(fx, "  [HIGH] A-014 blocked: mgr -> node tcp/4445 (Alpha Suite; Per pair)\n"
                 "      10.0.0.1 -> 10.0.0.2: 1 answered, 1 unanswered, 0 refused\n"
                 "      10.0.0.1 -> 10.0.0.3: 0 answered, 1 unanswered, 0 refused\n");
    has_text(fx, "  [HIGH] A-006 blocked: mgr -> node icmp (Alpha Suite; Ping)\n");
    has_text(fx, "  [MEDIUM] A-012 not_seen: mgr -> node tcp/3333 (Alpha Suite; Never used)\n");
    /* An optional row is not required, but its failed attempt is a finding;
     * its unused port is not. */
    has_text(fx, "  [MEDIUM] A-004 blocked: mgr -> node tcp/6000 (of 5000-5010,6000) (Alpha Suite; Statistics; "
                 "an optional row)\n");
    assert_null(strstr(fx->text, "A-004 not_seen"));
    has_text(fx, "WRONG-DIRECTION FLOWS\n  10.0.1.5 -> 10.0.0.1 tcp/38866  flows 1 (0 unanswered or refused), "
                 "bytes 120, 2023-11-14T22:13:20Z .. 2023-11-14T22:13:20Z  [reverse of A-001]\n");
    assert_int_equal(section_lines(fx, "WRONG-DIRECTION FLOWS"), 1);
    has_text(fx, "  10.0.0.1 -> 10.0.0.2 tcp/2222  flows 1 (0 unanswered or refused), bytes 120, "
                 "2023-11-14T22:13:20Z .. 2023-11-14T22:13:20Z  [documented only in phase installation: A-011]\n");
    has_text(fx, "  10.0.0.1 -> 10.0.0.2 tcp/7777,9999  flows 2 (0 unanswered or refused)");
    has_text(fx, "  10.0.0.1 -> 10.0.0.2 udp/4172  flows 1 (1 unanswered or refused)");
    has_text(fx, "  10.0.0.1 -> 224.0.0.18 unknown_transport proto 112  flows 1");
    has_text(fx, "  10.0.0.2 -> 10.0.0.1 udp/123  flows 1");
    has_text(fx, "  10.0.0.2 -> 10.0.0.1 tcp/8443,50001  flows 2");
    has_text(fx, "  10.0.0.2 -> 10.0.0.1 udp/1812  flows 1 (1 unanswered or refused), bytes 40, "
                 "2023-11-14T22:13:20Z .. 2023-11-14T22:13:20Z  [documented only with feature alpha.ha: A-003]\n");
    assert_int_equal(section_lines(fx, "UNDOCUMENTED FLOWS"), 7);
    has_text(fx, "  A-009      tcp/9443               flows 1, bytes 120, ");
    has_text(fx, "  never used (3):\n    A-003 A-011 A-012\n");
    has_text(fx, "TOTALS\n  flows: 18 documented, 9 undocumented, 1 wrong-direction, 2 out of scope\n");
}

static void test_json_records(void **state)
{
    fixture *fx = open_fixture(state, lab_site);
    lab_traffic(fx);
    json_t *recs = json_records(fx);
    assert_int_equal(count_type(recs, "rule"), 17); /* beta is not deployed */
    assert_int_equal(count_type(recs, "finding"), 7); /* A-004 6000: an optional row tried */
    assert_int_equal(count_type(recs, "undocumented"), 9);
    assert_int_equal(count_type(recs, "wrong_direction"), 1);
    assert_int_equal(count_type(recs, "audit_totals"), 1);
    /* the totals come last */
    assert_string_equal(str_field(json_array_get(recs, json_array_size(recs) - 1), "type"), "audit_totals");

    json_t *r = record(recs, "rule", "rule_id", "A-015");
    assert_string_equal(str_field(r, "product"), "alpha");
    assert_string_equal(str_field(r, "status"), "rejected");
    assert_int_equal(int_field(r, "flows"), 1);
    assert_int_equal(int_field(r, "bytes"), 40); /* the ICMP error is its own flow */
    assert_int_equal(int_field(r, "answered"), 0);
    assert_int_equal(int_field(r, "unanswered"), 0);
    assert_int_equal(int_field(r, "refused"), 1);
    assert_int_equal(int_field(r, "wrong_direction"), 0);
    double first = json_real_value(json_object_get(r, "first_ts"));
    double want = (double)flow_of(fx, 17, MGR, 40020, N1, 5353)->flow.first_us / 1e6;
    assert_true(first - want < 1e-6 && want - first < 1e-6);
    json_t *ports = json_object_get(r, "ports");
    assert_int_equal(json_array_size(ports), 1);
    assert_string_equal(str_field(json_array_get(ports, 0), "port"), "5353");
    assert_string_equal(str_field(json_array_get(ports, 0), "status"), "rejected");
    json_t *pair = json_array_get(json_object_get(json_array_get(ports, 0), "pairs"), 0);
    assert_string_equal(str_field(pair, "src"), MGR);
    assert_string_equal(str_field(pair, "dst"), N1);
    assert_int_equal(int_field(pair, "refused"), 1);
    assert_int_equal(int_field(pair, "refused_by_icmp"), 1);

    r = record(recs, "rule", "rule_id", "A-001");
    assert_int_equal(int_field(r, "wrong_direction"), 1);
    assert_int_equal(int_field(r, "answered"), 1);
    r = record(recs, "rule", "rule_id", "A-012");
    assert_string_equal(str_field(r, "status"), "not_seen");
    assert_true(json_is_null(json_object_get(r, "first_ts")));
    assert_true(json_is_null(json_object_get(r, "last_ts")));
    assert_int_equal(json_array_size(json_object_get(json_array_get(json_object_get(r, "ports"), 0), "pairs")), 0);

    json_t *f = record(recs, "finding", "rule_id", "A-013");
    assert_string_equal(str_field(f, "kind"), "rejected");
    assert_string_equal(str_field(f, "severity"), "high");
    assert_string_equal(str_field(f, "product"), "alpha");
    assert_string_equal(str_field(f, "from"), "mgr");
    assert_string_equal(str_field(f, "to"), "node");
    assert_string_equal(str_field(f, "service"), "tcp/4444");
    assert_string_equal(str_field(f, "purpose"), "Refused by RST");
    assert_true(json_is_null(json_object_get(f, "impact")));
    assert_int_equal(json_array_size(json_object_get(f, "pairs")), 1);
    f = record(recs, "finding", "rule_id", "A-012");
    assert_string_equal(str_field(f, "kind"), "not_seen");
    assert_string_equal(str_field(f, "severity"), "medium");
    f = record(recs, "finding", "rule_id", "A-006");
    assert_string_equal(str_field(f, "service"), "icmp");
}

static void test_json_aggregates(void **state)
{
    fixture *fx = open_fixture(state, lab_site);
    lab_traffic(fx);
    json_t *recs = json_records(fx);
    json_t *u = record(recs, "undocumented", "resp_h", VRRP_GROUP);
    assert_string_equal(str_field(u, "orig_h"), MGR);
    assert_string_equal(str_field(u, "proto"), "unknown_transport");
    assert_int_equal(int_field(u, "ip_proto"), 112);
    assert_true(json_is_null(json_object_get(u, "resp_p")));
    assert_true(json_is_null(json_object_get(u, "reverse_of")));
    assert_int_equal(int_field(u, "flows"), 1);
    assert_int_equal(int_field(u, "bytes"), 40);
    assert_true(json_is_real(json_object_get(u, "first_ts")));
    assert_true(json_is_real(json_object_get(u, "last_ts")));

    json_t *w = record(recs, "wrong_direction", "orig_h", N3);
    assert_string_equal(str_field(w, "resp_h"), MGR);
    assert_string_equal(str_field(w, "proto"), "tcp");
    assert_int_equal(int_field(w, "resp_p"), 38866);
    assert_string_equal(str_field(w, "reverse_of"), "A-001");
    assert_int_equal(int_field(w, "unanswered"), 0);
    assert_int_equal(int_field(w, "refused"), 0);

    json_t *t = record(recs, "audit_totals", NULL, NULL);
    assert_true(json_is_true(json_object_get(t, "roles_verified")));
    assert_int_equal(int_field(t, "documented"), 18);
    assert_int_equal(int_field(t, "undocumented"), 9);
    assert_int_equal(int_field(t, "wrong_direction"), 1);
    assert_int_equal(int_field(t, "out_of_scope"), 2);
    assert_int_equal(int_field(t, "undocumented_not_aggregated"), 0);
}

/* What a record written into rec reads back as; rec is freed. */
static json_t *rec_json(fa_json_rec *rec)
{
    json_error_t err;
    json_t *o = json_loadb(rec->p, rec->len, 0, &err);
    assert_non_null(o);
    fa_json_rec_free(rec);
    return o;
}

static void test_verdict_json(void **state)
{
    fixture *fx = open_fixture(state, lab_site);
    lab_traffic(fx);
    const ended *e = flow_of(fx, 6, N3, 40002, MGR, 38866);
    fa_json_rec rec = {0};
    fa_json_rec_open(&rec, NULL);
    fa_audit_verdict_json(fx->a, &e->v, &rec);
    fa_json_rec_close(&rec);
    json_t *o = rec_json(&rec);
    assert_string_equal(str_field(o, "verdict"), "wrong_direction");
    assert_string_equal(str_field(o, "attempt"), "seen");
    json_t *ids = json_object_get(o, "rules");
    assert_int_equal(json_array_size(ids), 1);
    assert_string_equal(json_string_value(json_array_get(ids, 0)), "A-001");
    json_decref(o);
}

/* Without a site: every product, roles unchecked, no features, all in scope. */
static void test_port_only(void **state)
{
    fixture *fx = open_fixture(state, NULL);
    handshake(fx, OUT1, OUT2, 40001, 38866);
    handshake(fx, OUT1, OUT2, 40002, 7777);
    handshake(fx, OUT1, OUT2, 40003, 9999);
    handshake(fx, OUT2, OUT1, 40004, 8443);
    handshake(fx, OUT2, OUT1, 40005, 9443);
    udp(fx, OUT1, OUT2, 40006, 88);
    udp(fx, OUT2, OUT1, 88, 40006);
    finish(fx);
    expect(fx, flow_of(fx, 6, OUT1, 40001, OUT2, 38866), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_SEEN, "A-001",
           NULL);
    expect(fx, flow_of(fx, 6, OUT1, 40002, OUT2, 7777), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_SEEN, "B-001",
           NULL);
    expect(fx, flow_of(fx, 6, OUT1, 40003, OUT2, 9999), FA_VERDICT_UNDOCUMENTED, FA_ATTEMPT_SEEN, NULL);
    expect(fx, flow_of(fx, 6, OUT2, 40004, OUT1, 8443), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_SEEN, "A-009",
           NULL);
    expect(fx, flow_of(fx, 6, OUT2, 40005, OUT1, 9443), FA_VERDICT_UNDOCUMENTED, FA_ATTEMPT_SEEN, NULL);
    expect(fx, flow_of(fx, 17, OUT1, 40006, OUT2, 88), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_SEEN, "A-002",
           NULL);
    assert_string_equal(status_of(fx, "A-001"), "seen");
    assert_string_equal(status_of(fx, "B-001"), "seen");
    assert_string_equal(status_of(fx, "A-002"), "not_audited");
    assert_string_equal(status_of(fx, "A-003"), "not_audited");
    assert_string_equal(status_of(fx, "A-011"), "not_audited");
    assert_string_equal(status_of(fx, "A-012"), "not_seen");
    report(fx);
    has_text(fx, "port-only mode: no site file, roles were not verified");
    has_text(fx, "  Beta Gateway\n    1 required: 1 seen, 0 blocked, 0 rejected, 0 not seen\n");
    has_text(fx, "flows: 4 documented, 2 undocumented, 0 wrong-direction, 0 out of scope\n");
    json_t *t = record(json_records(fx), "audit_totals", NULL, NULL);
    assert_true(json_is_false(json_object_get(t, "roles_verified")));
    assert_int_equal(count_type(fx->records, "rule"), 18);
}

static const char small_rules[] =
    "product p \"Small\"\n"
    "role a \"A\"\n"
    "role b \"B\"\n"
    "rule P-1 a -> b tcp 443\n"
    "    purpose \"Web\"\n";

/* No finding, but no required rule could be observed either: the report
 * must not say that every rule was seen. */
static void test_nothing_judged(void **state)
{
    static const char rules[] =
        "product p \"P\"\n"
        "role a \"A\"\n"
        "role b \"B\"\n"
        "rule P-001 a -> b tcp 1234\n"
        "    purpose \"Local agent\"\n"
        "    observable no \"localhost only\"\n";
    char err[ERRLEN];
    fixture *fx = *state;
    fx->rs = fa_rules_new();
    assert_non_null(fx->rs);
    assert_int_equal(fa_rules_load_string(fx->rs, "p.rules", rules, err, sizeof err), 0);
    fx->site = fa_site_load_string(fx->rs, "p.site",
                                   "product p\nrole p.a 10.0.0.1\nrole p.b 10.0.0.2\n", err, sizeof err);
    assert_non_null(fx->site);
    fx->a = fa_audit_new(fx->rs, fx->site);
    assert_non_null(fx->a);
    fa_audit_finish(fx->a);
    assert_int_equal(fa_audit_findings(fx->a), 0);
    report(fx);
    has_text(fx, "FINDINGS\n  none, and nothing judged: no required rule could be observed (see COVERAGE)\n");
    has_no_text(fx, "every required, observable rule was seen");

    size_t len = 0;
    free(fx->text);
    fx->text = NULL;
    fa_ws_config wcfg;
    fa_ws_config_default(&wcfg);
    fa_ws *ws = fa_ws_new(&wcfg);
    assert_non_null(ws);
    FILE *f = open_memstream(&fx->text, &len);
    assert_non_null(f);
    assert_int_equal(fa_html_write(fx->a, ws, f), 0);
    assert_int_equal(fclose(f), 0);
    fa_ws_free(ws);
    has_text(fx, "<p>None, and nothing judged: no required rule could be observed (see Coverage).</p>");
    has_no_text(fx, "every required, observable rule was seen");
}

static void test_findings(void **state)
{
    char err[ERRLEN];
    fixture *fx = *state;
    fx->rs = fa_rules_new();
    assert_non_null(fx->rs);
    assert_int_equal(fa_rules_load_string(fx->rs, "p.rules", small_rules, err, sizeof err), 0);
    fx->site = fa_site_load_string(fx->rs, "p.site",
                                   "product p\nrole p.a 10.0.0.1\nrole p.b 10.0.0.2\n", err, sizeof err);
    assert_non_null(fx->site);
    fx->a = fa_audit_new(fx->rs, fx->site);
    assert_non_null(fx->a);
    fa_flow_config cfg;
    fa_flow_config_default(&cfg);
    fx->t = fa_flow_table_new(&cfg, on_end, fx);
    assert_non_null(fx->t);
    fx->ts = T0;

    fa_audit_finish(fx->a);
    assert_int_equal(fa_audit_findings(fx->a), FA_FAIL_MISSING);
    handshake(fx, "10.0.0.1", "10.0.0.2", 40000, 443);
    finish(fx);
    assert_int_equal(fa_audit_findings(fx->a), 0);
    report(fx);
    has_text(fx, "FINDINGS\n  none: every required, observable rule was seen\n");
    has_no_text(fx, "nothing judged");
    has_text(fx, "UNDOCUMENTED FLOWS\n  none\n");
    tcp(fx, "10.0.0.2", "10.0.0.1", 40001, 443, SYN);
    finish(fx);
    assert_int_equal(fa_audit_findings(fx->a), FA_FAIL_WRONG_DIRECTION);
    tcp(fx, "10.0.0.1", "10.0.0.2", 40002, 80, SYN);
    finish(fx);
    assert_int_equal(fa_audit_findings(fx->a), FA_FAIL_WRONG_DIRECTION | FA_FAIL_UNDOCUMENTED);
}

static void test_fail_on_parse(void **state)
{
    (void)state;
    char err[512];
    unsigned m = 99;
    assert_int_equal(fa_fail_on_parse("missing,blocked", &m, err, sizeof err), 0);
    assert_int_equal(m, FA_FAIL_MISSING | FA_FAIL_BLOCKED);
    const char *rest = "rejected,undocumented,wrong-direction,ws-killed";
    assert_int_equal(fa_fail_on_parse(rest, &m, err, sizeof err), 0);
    assert_int_equal(m, FA_FAIL_REJECTED | FA_FAIL_UNDOCUMENTED | FA_FAIL_WRONG_DIRECTION | FA_FAIL_WS_KILLED);
    assert_int_equal(fa_fail_on_parse("all", &m, err, sizeof err), 0);
    assert_int_equal(m, FA_FAIL_MISSING | FA_FAIL_BLOCKED | FA_FAIL_REJECTED | FA_FAIL_UNDOCUMENTED |
                            FA_FAIL_WRONG_DIRECTION | FA_FAIL_WS_KILLED);
    assert_int_equal(fa_fail_on_parse("none", &m, err, sizeof err), 0);
    assert_int_equal(m, 0);
    assert_int_equal(fa_fail_on_parse("none,blocked", &m, err, sizeof err), 0);
    assert_int_equal(m, FA_FAIL_BLOCKED);
    assert_int_equal(fa_fail_on_parse("blocked,bogus", &m, err, sizeof err), -1);
    assert_string_equal(err, "--fail-on: unknown kind 'bogus' (missing, blocked, rejected, undocumented, "
                             "wrong-direction, ws-killed, all, none)");
    assert_int_equal(fa_fail_on_parse("Blocked", &m, err, sizeof err), -1);
    char longlist[300];
    memset(longlist, 'x', sizeof longlist - 1);
    longlist[sizeof longlist - 1] = '\0';
    assert_int_equal(fa_fail_on_parse(longlist, &m, err, sizeof err), -1);
    assert_string_equal(err, "--fail-on: list too long");
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(fa_rule_status_name(FA_RULE_NOT_OBSERVABLE), "not_observable");
    assert_string_equal(fa_rule_status_name((fa_rule_status)42), "unknown");
    assert_string_equal(fa_verdict_name(FA_VERDICT_WRONG_DIRECTION), "wrong_direction");
    assert_string_equal(fa_verdict_name((fa_verdict)42), "unknown");
    assert_string_equal(fa_attempt_name(FA_ATTEMPT_REJECTED), "rejected");
    assert_string_equal(fa_attempt_name((fa_attempt)42), "unknown");
}

/* A port scan is one line: eight ports and the count. */
static void test_scan_is_one_line(void **state)
{
    fixture *fx = open_fixture(state, lab_site);
    for (uint16_t p = 20000; p < 21000; p++)
        tcp(fx, MGR, N2, 30000, p, SYN);
    finish(fx);
    assert_int_equal(fx->ndone, 1000);
    report(fx);
    assert_int_equal(section_lines(fx, "UNDOCUMENTED FLOWS"), 1);
    has_text(fx, "UNDOCUMENTED FLOWS\n  10.0.0.1 -> 10.0.0.3 tcp/20000,20001,20002,20003,20004,20005,20006,"
                 "20007,... (1000 ports)  flows 1000 (1000 unanswered or refused), bytes 40000, "
                 "2023-11-14T22:13:20Z .. 2023-11-14T22:13:20Z\n");
    assert_int_equal(count_type(json_records(fx), "undocumented"), 1000);
}

/* A flow built by hand, keyed the way the flow table keys it: the lower
 * (address, port) endpoint first. One packet from the originator. */
static fa_flow hand_flow(uint8_t proto, const char *orig, uint16_t oport, const char *resp, uint16_t rport)
{
    fa_flow f;
    fa_addr o = addr(orig), r = addr(resp);
    memset(&f, 0, sizeof f);
    int c = fa_addr_cmp(&o, &r);
    bool orig_lo = c < 0 || (c == 0 && oport <= rport);
    f.key.lo_addr = orig_lo ? o : r;
    f.key.hi_addr = orig_lo ? r : o;
    f.key.lo_port = orig_lo ? oport : rport;
    f.key.hi_port = orig_lo ? rport : oport;
    f.key.proto = proto;
    f.bits = orig_lo ? FA_FLOW_ORIG_IS_LO : 0;
    f.first_us = f.last_us = T0;
    f.dir[0].pkts = 1;
    f.dir[0].ip_bytes = 40;
    f.dir[0].state = FA_EP_ACTIVE;
    return f;
}

static fa_flow_verdict audit_hand(fixture *fx, const fa_flow *f)
{
    fa_flow_verdict v;
    fa_audit_flow(fx->a, f, &v);
    return v;
}

/* ICMP and ICMPv6 alike: an "icmp" row covers both, echo needs a reply,
 * errors are out of scope, other messages count as answered. */
static void test_icmp_kinds(void **state)
{
    fixture *fx = open_fixture(state, NULL);
    fa_flow f = hand_flow(FA_PROTO_ICMP6, "2001:db8::1", 128, "2001:db8::2", 129);
    fa_flow_verdict v = audit_hand(fx, &f);
    assert_int_equal(v.verdict, FA_VERDICT_DOCUMENTED);
    assert_int_equal(v.attempt, FA_ATTEMPT_BLOCKED);
    assert_int_equal(v.nrules, 1);
    assert_string_equal(fx->rs->rules[v.rules[0]].id, "A-006");
    f.dir[1].pkts = 1;
    v = audit_hand(fx, &f);
    assert_int_equal(v.attempt, FA_ATTEMPT_SEEN);
    f = hand_flow(FA_PROTO_ICMP6, "2001:db8::1", 1, "2001:db8::2", 4);
    v = audit_hand(fx, &f);
    assert_int_equal(v.verdict, FA_VERDICT_OUT_OF_SCOPE);
    assert_int_equal(v.nrules, 0);
    f = hand_flow(FA_PROTO_ICMP, "192.0.2.1", 11, "192.0.2.2", 0);
    v = audit_hand(fx, &f);
    assert_int_equal(v.verdict, FA_VERDICT_OUT_OF_SCOPE);
    f = hand_flow(FA_PROTO_ICMP, "192.0.2.1", 13, "192.0.2.2", 14);
    v = audit_hand(fx, &f);
    assert_int_equal(v.verdict, FA_VERDICT_DOCUMENTED);
    assert_int_equal(v.attempt, FA_ATTEMPT_SEEN);
    /* an ICMP error about a UDP flow: refused */
    f = hand_flow(FA_PROTO_UDP, "192.0.2.1", 40000, "192.0.2.2", 515);
    f.icmp_errors = 2;
    f.icmp_type = 3;
    f.icmp_code = 3;
    f.bits |= FA_FLOW_ICMP_FROM_RESP;
    v = audit_hand(fx, &f);
    assert_int_equal(v.attempt, FA_ATTEMPT_REJECTED);
    /* ... unless the responder answered, or the error hit its packets */
    f.dir[1].pkts = 1;
    assert_int_equal(audit_hand(fx, &f).attempt, FA_ATTEMPT_SEEN);
    f.dir[1].pkts = 0;
    f.bits &= (uint8_t)~FA_FLOW_ICMP_FROM_RESP;
    assert_int_equal(audit_hand(fx, &f).attempt, FA_ATTEMPT_BLOCKED);
}

/* A SYN refused by a firewall's ICMP: rejected, with the ICMP named; a
 * pair that was refused once and unanswered once is still refused. */
static void test_icmp_refused_syn(void **state)
{
    fixture *fx = open_fixture(state, lab_site);
    struct buf q;
    buf_reset(&q);
    size_t ip = pb_ipv4(&q, MGR, N1, FA_PROTO_TCP, 64, 1, 0x4000, 0);
    pb_tcp(&q, 40100, 3333, 1000, 0, SYN, 65535);
    pb_ipv4_done(&q, ip);
    feed(fx, &q);
    icmp_error(fx, RTR, MGR, 3, 10, &q);
    tcp(fx, MGR, N1, 40101, 3333, SYN);
    finish(fx);
    expect(fx, flow_of(fx, 6, MGR, 40100, N1, 3333), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_REJECTED, "A-012",
           NULL);
    assert_string_equal(status_of(fx, "A-012"), "rejected");
    report(fx);
    has_text(fx, "  [HIGH] A-012 rejected: mgr -> node tcp/3333 (Alpha Suite; Never used)\n"
                 "      10.0.0.1 -> 10.0.0.2: 0 answered, 1 unanswered, 1 refused "
                 "(1 by ICMP 3/10 host prohibited)\n");
}

static void test_aggregate_overflow(void **state)
{
    fixture *fx = open_fixture(state, lab_site);
    fa_flow_verdict v;
    int n = 0;
    for (uint32_t p = 20000; p <= 65535 && n < UNDOC_MAX + 5; p++, n++) {
        fa_flow f = hand_flow(FA_PROTO_UDP, MGR, 30000, N1, (uint16_t)p);
        fa_audit_flow(fx->a, &f, &v);
    }
    for (uint32_t p = 20000; n < UNDOC_MAX + 5; p++, n++) {
        fa_flow f = hand_flow(FA_PROTO_UDP, MGR, 30000, N2, (uint16_t)p);
        fa_audit_flow(fx->a, &f, &v);
        assert_int_equal(v.verdict, FA_VERDICT_UNDOCUMENTED);
    }
    /* traffic of an aggregate already kept still counts */
    fa_flow f = hand_flow(FA_PROTO_UDP, MGR, 30001, N1, 20000);
    fa_audit_flow(fx->a, &f, &v);
    fa_audit_finish(fx->a);
    report(fx);
    has_text(fx, "  10.0.0.1 -> 10.0.0.2 udp/20000,20001,20002,20003,20004,20005,20006,20007,... "
                 "(45536 ports)  flows 45537 (45537 unanswered or refused)");
    has_text(fx, "  10.0.0.1 -> 10.0.0.3 udp/20000,20001,20002,20003,20004,20005,20006,20007,... "
                 "(20000 ports)  flows 20000 ");
    has_text(fx, "  (5 flows not aggregated: table full)\n");
    has_text(fx, "flows: 0 documented, 65542 undocumented");
    json_t *recs = json_records(fx);
    assert_int_equal(count_type(recs, "undocumented"), UNDOC_MAX);
    assert_int_equal(int_field(record(recs, "audit_totals", NULL, NULL), "undocumented_not_aggregated"), 5);
}

#define HOSTPAIRS_MAX 65536    /* host pairs tracked, docs/ARCHITECTURE.md limits */

/* More host pairs than are tracked: the ones past the cap are counted as
 * not tracked, once per flow, a second flow of such a pair too. */
static void test_host_pairs_overflow(void **state)
{
    fixture *fx = open_fixture(state, lab_site);
    fa_flow_verdict v;
    char to[32];
    for (uint32_t i = 0; i < HOSTPAIRS_MAX + 5; i++) {
        snprintf(to, sizeof to, "10.%u.%u.%u", 100 + i / 65536, i / 256 % 256, i % 256);
        fa_flow f = hand_flow(FA_PROTO_UDP, MGR, 30000, to, 53);
        fa_audit_flow(fx->a, &f, &v);
        assert_int_not_equal(v.verdict, FA_VERDICT_OUT_OF_SCOPE);
    }
    fa_flow f = hand_flow(FA_PROTO_UDP, MGR, 30001, "10.101.0.4", 53);
    fa_audit_flow(fx->a, &f, &v);
    fa_audit_finish(fx->a);
    json_t *recs = json_records(fx);
    assert_int_equal(int_field(record(recs, "audit_totals", NULL, NULL), "host_pairs_not_tracked"), 6);
}

/* A new live window: hits, aggregates and totals go, the configuration
 * (which rules are audited) stays. */
static void test_reset(void **state)
{
    fixture *fx = open_fixture(state, lab_site);
    lab_traffic(fx);
    fa_audit_reset(fx->a);
    fa_audit_finish(fx->a);
    assert_string_equal(status_of(fx, "A-001"), "not_seen");
    assert_string_equal(status_of(fx, "A-013"), "not_seen");
    assert_string_equal(status_of(fx, "A-002"), "not_seen");
    assert_string_equal(status_of(fx, "A-003"), "not_audited");
    assert_string_equal(status_of(fx, "A-004"), "not_audited");
    assert_string_equal(status_of(fx, "A-011"), "not_audited");
    assert_string_equal(status_of(fx, "A-010"), "not_observable");
    assert_string_equal(status_of(fx, "B-001"), "not_audited");
    assert_int_equal(fa_audit_findings(fx->a), FA_FAIL_MISSING);
    report(fx);
    has_text(fx, "13 required: 0 seen, 0 blocked, 0 rejected, 13 not seen; 1 not observable\n");
    has_text(fx, "WRONG-DIRECTION FLOWS\n  none\n");
    has_text(fx, "UNDOCUMENTED FLOWS\n  none\n");
    has_text(fx, "flows: 0 documented, 0 undocumented, 0 wrong-direction, 0 out of scope\n");
    json_t *recs = json_records(fx);
    json_t *r = record(recs, "rule", "rule_id", "A-001");
    assert_int_equal(int_field(r, "flows"), 0);
    assert_int_equal(int_field(r, "wrong_direction"), 0);
    assert_int_equal(json_array_size(json_object_get(json_array_get(json_object_get(r, "ports"), 0), "pairs")), 0);
    assert_int_equal(count_type(recs, "undocumented") + count_type(recs, "wrong_direction"), 0);

    handshake(fx, MGR, N1, 41001, 38866);
    finish(fx);
    assert_string_equal(status_of(fx, "A-001"), "seen");
    assert_int_equal(int_field(record(json_records(fx), "rule", "rule_id", "A-001"), "flows"), 1);
}


/* The reset clears only the pairs in use, yet leaves every port state byte
 * for byte as a new audit's. */
static void test_reset_ports_are_new(void **state)
{
    fixture *fx = open_fixture(state, lab_site);
    lab_traffic(fx);
    finish(fx);
    uint32_t pairs = 0;
    for (int k = 0; k < fx->a->nports; k++)
        pairs += fx->a->ports[k].npairs;
    assert_true(pairs > 0);
    fa_audit_reset(fx->a);
    fa_audit *fresh = fa_audit_new(fx->rs, fx->site);
    assert_non_null(fresh);
    int same = fresh->nports == fx->a->nports &&
               memcmp(fresh->ports, fx->a->ports, (size_t)fresh->nports * sizeof *fresh->ports) == 0;
    fa_audit_free(fresh);
    assert_true(same);
}

/* ---- the verdict model: ports, deployed roles, groups, rules in force -- */

static const char gamma_rules[] =
    "product gamma \"Gamma VDI\"\n"
    "role n1 \"Node 1\"\n"
    "role n2 \"Node 2\"\n"
    "role broker \"Broker\"\n"
    "role nodes \"Every node\"\n"
    "role dc \"Directory\"\n"
    "role client \"Clients\"\n"
    "role gw \"Gateway\"\n"
    "role agent \"Agent\"\n"
    "role smtp \"Mail relay\"\n"
    "group nodes n1 n2 broker\n"
    "feature direct \"Clients reach the agents directly\"\n"
    "rule G-001 nodes -> dc tcp 389,636,3268\n"
    "    purpose \"LDAP, LDAPS and global catalog\"\n"
    "rule G-002 nodes -> dc tcp 1389,1636\n"
    "    purpose \"LDAP or LDAPS\"\n"
    "    any-of yes\n"
    "rule G-003 client -> gw tcp 4172\n"
    "    purpose \"Through the gateway\"\n"
    "rule G-004 client -> agent tcp 4172\n"
    "    purpose \"Direct\"\n"
    "    requirement if direct\n"
    "rule G-005 nodes -> smtp tcp 25\n"
    "    purpose \"Mail\"\n"
    "rule G-006 broker -> n1 tcp 9000\n"
    "    purpose \"Broker\"\n"
    "rule G-007 n1 -> dc tcp 40389\n"
    "    purpose \"High port service\"\n";

#define G_N1 "10.1.0.1"
#define G_DC "10.1.0.10"
#define G_GW "10.1.0.20"
#define G_AGENT "10.1.0.30"
#define G_CLIENT "198.51.100.7"

/* A single node: no second node, no broker, no mail relay. */
static const char gamma_site[] =
    "product gamma\n"
    "role gamma.n1 10.1.0.1\n"
    "role gamma.dc 10.1.0.10\n"
    "role gamma.gw 10.1.0.20\n"
    "role gamma.agent 10.1.0.30\n"
    "role gamma.client external\n";

static fa_rule_status port_status(const fixture *fx, const char *rule, uint16_t port)
{
    json_t *recs = json_records((fixture *)fx);
    json_t *ports = json_object_get(record(recs, "rule", "rule_id", rule), "ports");
    char want[8];
    snprintf(want, sizeof want, "%u", port);
    for (size_t i = 0; i < json_array_size(ports); i++) {
        json_t *p = json_array_get(ports, i);
        if (strcmp(str_field(p, "port"), want) == 0)
            for (int s = 0; s < FA_RULE_STATUSES; s++)
                if (strcmp(str_field(p, "status"), fa_rule_status_name((fa_rule_status)s)) == 0)
                    return (fa_rule_status)s;
    }
    fail_msg("no port %u in rule %s", port, rule);
    return FA_RULE_STATUSES;
}

/* A dropped port does not hide behind an answered port of the same row. */
static void test_each_port_its_own_requirement(void **state)
{
    fixture *fx = open_rules(state, gamma_rules, gamma_site);
    handshake(fx, G_N1, G_DC, 40001, 389);
    tcp(fx, G_N1, G_DC, 40002, 636, SYN);
    finish(fx);
    assert_int_equal(port_status(fx, "G-001", 389), FA_RULE_SEEN);
    assert_int_equal(port_status(fx, "G-001", 636), FA_RULE_BLOCKED);
    assert_int_equal(port_status(fx, "G-001", 3268), FA_RULE_NOT_SEEN);
    assert_string_equal(status_of(fx, "G-001"), "blocked");
    report(fx);
    has_text(fx, "  [HIGH] G-001 blocked: nodes -> dc tcp/636 (of 389,636,3268) (Gamma VDI; LDAP, LDAPS and "
                 "global catalog)\n      10.1.0.1 -> 10.1.0.10: 0 answered, 1 unanswered, 0 refused\n");
    has_text(fx, "  [MEDIUM] G-001 not_seen: nodes -> dc tcp/3268 (of 389,636,3268) ");
    assert_null(strstr(fx->text, "G-001 not_seen: nodes -> dc tcp/389"));
    json_t *recs = json_records(fx);
    int findings = 0;
    size_t i;
    json_t *o;
    json_array_foreach(recs, i, o)
        findings += strcmp(str_field(o, "type"), "finding") == 0 && strcmp(str_field(o, "rule_id"), "G-001") == 0;
    assert_int_equal(findings, 2);
    assert_int_equal(fa_audit_findings(fx->a) & (FA_FAIL_BLOCKED | FA_FAIL_MISSING),
                     FA_FAIL_BLOCKED | FA_FAIL_MISSING);
}

/* Alternatives: one answered port satisfies the row, a dropped one is
 * still a finding. */
static void test_any_of(void **state)
{
    fixture *fx = open_rules(state, gamma_rules, gamma_site);
    handshake(fx, G_N1, G_DC, 40001, 1389);
    finish(fx);
    assert_string_equal(status_of(fx, "G-002"), "seen");
    report(fx);
    assert_null(strstr(fx->text, "G-002"  " not_seen"));
    teardown(state);
    setup(state);
    fx = open_rules(state, gamma_rules, gamma_site);
    handshake(fx, G_N1, G_DC, 40001, 1389);
    tcp(fx, G_N1, G_DC, 40002, 1636, SYN);
    finish(fx);
    assert_string_equal(status_of(fx, "G-002"), "blocked");
    report(fx);
    has_text(fx, "  [HIGH] G-002 blocked: nodes -> dc tcp/1636 (of 1389,1636, any one will do) ");
    teardown(state);
    setup(state);
    fx = open_rules(state, gamma_rules, gamma_site);
    finish(fx);
    assert_string_equal(status_of(fx, "G-002"), "not_seen");
    report(fx);
    has_text(fx, "  [MEDIUM] G-002 not_seen: nodes -> dc tcp/1389,1636 (Gamma VDI; LDAP or LDAPS)\n");
}

/* Components the site does not map are not deployed: their rules are not
 * audited, and the coverage says how many required rules that leaves. */
static void test_roles_not_deployed(void **state)
{
    fixture *fx = open_rules(state, gamma_rules, gamma_site);
    handshake(fx, G_N1, G_DC, 40001, 389);
    finish(fx);
    assert_string_equal(status_of(fx, "G-005"), "not_audited");
    assert_string_equal(status_of(fx, "G-006"), "not_audited");
    report(fx);
    has_text(fx, "    not deployed, their required rules not audited: broker (1) smtp (1)\n"
                 "    not deployed, no required rule: n2\n");
    assert_null(strstr(fx->text, "G-005 not_seen"));
    json_t *t = record(json_records(fx), "audit_totals", NULL, NULL);
    json_t *nd = json_object_get(t, "roles_not_deployed");
    assert_int_equal(json_array_size(nd), 3);
    assert_string_equal(str_field(json_array_get(nd, 2), "role"), "gamma.smtp");
    assert_int_equal(int_field(json_array_get(nd, 2), "required_rules_not_audited"), 1);
    json_t *r = record(fx->records, "rule", "rule_id", "G-005");
    assert_string_equal(str_field(r, "not_audited_because"), "role_not_deployed");
}

/* A group role is played by its members' hosts; "external" stands for any
 * host outside the inventory; a path that only a switched-off rule allows
 * is undocumented and says so. */
static void test_groups_external_and_rules_in_force(void **state)
{
    fixture *fx = open_rules(state, gamma_rules, gamma_site);
    handshake(fx, G_N1, G_DC, 40001, 389);
    handshake(fx, G_CLIENT, G_GW, 40002, 4172);
    handshake(fx, G_CLIENT, G_AGENT, 40003, 4172);
    handshake(fx, G_N1, G_AGENT, 40004, 4172);
    finish(fx);
    expect(fx, flow_of(fx, 6, G_N1, 40001, G_DC, 389), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_SEEN, "G-001", NULL);
    expect(fx, flow_of(fx, 6, G_CLIENT, 40002, G_GW, 4172), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_SEEN, "G-003",
           NULL);
    const ended *bypass = flow_of(fx, 6, G_CLIENT, 40003, G_AGENT, 4172);
    expect(fx, bypass, FA_VERDICT_UNDOCUMENTED, FA_ATTEMPT_SEEN, NULL);
    assert_int_equal(bypass->v.only_rule, rid(fx, "G-004"));
    /* An inventory host is not "external". */
    const ended *inside = flow_of(fx, 6, G_N1, 40004, G_AGENT, 4172);
    expect(fx, inside, FA_VERDICT_UNDOCUMENTED, FA_ATTEMPT_SEEN, NULL);
    assert_int_equal(inside->v.only_rule, -1);
    report(fx);
    has_text(fx, "  198.51.100.7 -> 10.1.0.30 tcp/4172  flows 1 (0 unanswered or refused), bytes 120, "
                 "2023-11-14T22:13:20Z .. 2023-11-14T22:13:20Z  [documented only with feature gamma.direct: "
                 "G-004]\n");
    json_t *u = record(json_records(fx), "undocumented", "orig_h", G_CLIENT);
    assert_string_equal(str_field(u, "only_rule"), "G-004");
}

/* Wrong direction is who opened the connection; a connection met
 * mid-stream cannot be wrong-direction, and may be documented either way
 * round. */
static void test_direction_by_initiator(void **state)
{
    fixture *fx = open_rules(state, gamma_rules, gamma_site);
    handshake(fx, G_DC, G_N1, 40001, 40389);              /* dc opens to n1's port */
    handshake(fx, G_DC, G_N1, 40389, 45000);              /* from the rule's port */
    tcp_seq(fx, G_DC, G_N1, 40389, 41000, ACK, 5000, 1000); /* mid-stream: the answer first */
    tcp_seq(fx, G_N1, G_DC, 41000, 40389, ACK, 1000, 5000);
    /* The client's SYN not captured: the server's SYN-ACK is the first
     * packet and its sender the originator (Zeek history H). */
    tcp_seq(fx, G_DC, G_N1, 40389, 42000, SYN | ACK, 7000, 3001);
    finish(fx);
    const ended *synack = NULL;
    for (int i = 0; i < fx->ndone; i++)
        if (fa_flow_port(&fx->done[i].flow, 0) == 42000 || fa_flow_port(&fx->done[i].flow, 1) == 42000)
            synack = &fx->done[i];
    assert_non_null(synack);
    assert_false(synack->v.initiator_known);
    expect(fx, synack, FA_VERDICT_DOCUMENTED, FA_ATTEMPT_SEEN, "G-007", NULL);
    expect(fx, flow_of(fx, 6, G_DC, 40001, G_N1, 40389), FA_VERDICT_WRONG_DIRECTION, FA_ATTEMPT_SEEN, "G-007",
           NULL);
    expect(fx, flow_of(fx, 6, G_DC, 40389, G_N1, 45000), FA_VERDICT_UNDOCUMENTED, FA_ATTEMPT_SEEN, NULL);
    int mid = -1;
    for (int i = 0; i < fx->ndone; i++)
        if (fa_flow_port(&fx->done[i].flow, 0) == 41000 || fa_flow_port(&fx->done[i].flow, 1) == 41000)
            mid = i;
    assert_true(mid >= 0);
    assert_false(fx->done[mid].v.initiator_known);
    expect(fx, &fx->done[mid], FA_VERDICT_DOCUMENTED, FA_ATTEMPT_SEEN, "G-007", NULL);
    assert_string_equal(status_of(fx, "G-007"), "seen");
}

/* A span that carries one direction only: the attempts are unconfirmed. */
static void test_one_way_capture(void **state)
{
    fixture *fx = open_rules(state, gamma_rules, gamma_site);
    tcp_seq(fx, G_N1, G_DC, 40001, 389, SYN, 1000, 0);
    tcp_seq(fx, G_N1, G_DC, 40001, 389, ACK, 1001, 5001); /* acknowledges a SYN-ACK not captured */
    tcp_seq(fx, G_N1, G_DC, 40002, 636, SYN, 2000, 0);    /* unanswered, on the same pair */
    finish(fx);
    expect(fx, flow_of(fx, 6, G_N1, 40001, G_DC, 389), FA_VERDICT_DOCUMENTED, FA_ATTEMPT_UNCONFIRMED, "G-001",
           NULL);
    assert_int_equal(port_status(fx, "G-001", 389), FA_RULE_UNCONFIRMED);
    assert_int_equal(port_status(fx, "G-001", 636), FA_RULE_UNCONFIRMED);
    assert_int_equal(fa_audit_findings(fx->a) & FA_FAIL_BLOCKED, 0);
    report(fx);
    has_text(fx, "ONE DIRECTION CAPTURED (attempts between these hosts are unconfirmed)\n"
                 "  10.1.0.1 -> 10.1.0.10: 2 flows, none of 10.1.0.10's packets captured\n");
    has_text(fx, "  [LOW] G-001 unconfirmed: nodes -> dc tcp/389 (of 389,636,3268) ");
    record(json_records(fx), "one_way", "src_h", G_N1);
}

static void judge_open(fa_flow *f, void *arg)
{
    fa_audit_open_flow(arg, f);
}

/* A live report counts an answer on a flow still open, and forgets it
 * afterwards: the flow is judged again at its end. */
static void test_open_flows(void **state)
{
    fixture *fx = open_rules(state, gamma_rules, gamma_site);
    handshake(fx, G_N1, G_DC, 40001, 389);
    tcp(fx, G_N1, G_DC, 40002, 636, SYN);
    fa_audit_checkpoint(fx->a);
    fa_flow_table_each_older(fx->t, UINT64_MAX, 0, judge_open, fx->a);
    fa_audit_finish(fx->a);
    assert_int_equal(port_status(fx, "G-001", 389), FA_RULE_SEEN);
    /* silence is not judged before the attempt ends */
    assert_int_equal(port_status(fx, "G-001", 636), FA_RULE_NOT_SEEN);
    fa_audit_rollback(fx->a);
    fa_audit_finish(fx->a);
    assert_int_equal(port_status(fx, "G-001", 389), FA_RULE_NOT_SEEN);
    finish(fx);
    assert_int_equal(port_status(fx, "G-001", 389), FA_RULE_SEEN);
    assert_int_equal(port_status(fx, "G-001", 636), FA_RULE_BLOCKED);
    assert_int_equal(int_field(record(fx->records, "rule", "rule_id", "G-001"), "flows"), 2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_verdicts),
        T(test_rule_statuses),
        T(test_text_report),
        T(test_json_records),
        T(test_json_aggregates),
        T(test_verdict_json),
        T(test_port_only),
        T(test_findings),
        T(test_nothing_judged),
        cmocka_unit_test(test_fail_on_parse),
        cmocka_unit_test(test_names),
        T(test_icmp_kinds),
        T(test_icmp_refused_syn),
        T(test_scan_is_one_line),
        T(test_aggregate_overflow),
        T(test_host_pairs_overflow),
        T(test_reset),
        T(test_reset_ports_are_new),
        T(test_each_port_its_own_requirement),
        T(test_any_of),
        T(test_roles_not_deployed),
        T(test_groups_external_and_rules_in_force),
        T(test_direction_by_initiator),
        T(test_one_way_capture),
        T(test_open_flows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
