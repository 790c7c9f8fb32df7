/* test_rule_index.c - the rule index gives, for every transport and port,
 * exactly the rules the linear scan of the audit tried and kept (its
 * transport and destination-port tests), in the same order: on the
 * shipped rules with each shipped site and with none, and on a small rule
 * file of edge cases (ranges that overlap, touch and reach 1 and 65535,
 * any port, any-of rows, group roles, both transports, portless rows, a
 * site's port override). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "decode.h"
#include "rule_index.h"
#include "rules.h"
#include "site.h"

/* The audit's view: the rules of deployed products in file order, each
 * with the site's ports or its own. */
typedef struct view {
    int *deployed;
    int n;
    const fa_portset **dports;
} view;

static view view_of(const fa_ruleset *rs, const fa_site *site)
{
    view v = {calloc((size_t)rs->nrules, sizeof(int)), 0, calloc((size_t)rs->nrules, sizeof(fa_portset *))};
    assert_non_null(v.deployed);
    assert_non_null(v.dports);
    for (int i = 0; i < rs->nrules; i++) {
        v.dports[i] = site ? fa_site_rule_dports(site, rs, i) : &rs->rules[i].dports;
        if (!site || site->product_deployed[rs->rules[i].product])
            v.deployed[v.n++] = i;
    }
    return v;
}

/* The index against the scan for one transport and port; returns how
 * many rules matched. */
static int check_port(const fa_ruleset *rs, const view *v, const fa_rule_index *ix, uint8_t proto, uint16_t port)
{
    unsigned bit = proto == FA_PROTO_TCP ? FA_TR_TCP : FA_TR_UDP;
    int n, k = 0;
    const int *got = fa_rule_index_find(ix, proto, port, &n);
    assert_non_null(got);
    for (int j = 0; j < v->n; j++) {
        int i = v->deployed[j];
        if (!(rs->rules[i].transports & bit) || !fa_portset_contains(v->dports[i], port))
            continue;
        if (k >= n || got[k] != i)
            fail_msg("%s port %u: rule %s missing or out of order", proto == FA_PROTO_TCP ? "tcp" : "udp", port,
                     rs->rules[i].id);
        k++;
    }
    if (k != n)
        fail_msg("port %u: %d rules from the index, %d from the scan", port, n, k);
    return n;
}

/* Every port of both transports; returns the rules matched in all. */
static long check_all(const fa_ruleset *rs, const fa_site *site)
{
    view v = view_of(rs, site);
    fa_rule_index *ix = fa_rule_index_new(rs, v.deployed, v.n, v.dports);
    assert_non_null(ix);
    long total = 0;
    for (uint32_t port = 0; port < 65536; port++) {
        total += check_port(rs, &v, ix, FA_PROTO_TCP, (uint16_t)port);
        total += check_port(rs, &v, ix, FA_PROTO_UDP, (uint16_t)port);
    }
    int n;
    assert_null(fa_rule_index_find(ix, FA_PROTO_ICMP, 0, &n));
    assert_null(fa_rule_index_find(ix, 112, 0, &n));
    fa_rule_index_free(ix);
    free(v.deployed);
    free(v.dports);
    return total;
}

static const char *src_dir(void)
{
    const char *dir = getenv("FLOWAUDIT_SRC");
    if (!dir)
        fail_msg("FLOWAUDIT_SRC is not set (run the tests with ctest)");
    return dir;
}

static void test_shipped(void **state)
{
    (void)state;
    static const char *const sites[] = {"app-layering", "hyworks", "pcoip", "psw", "ras"};
    char path[4096], err[512];
    fa_ruleset *rs = fa_rules_new();
    assert_non_null(rs);
    snprintf(path, sizeof path, "%s/rules", src_dir());
    assert_int_equal(fa_rules_load_dir(rs, path, err, sizeof err), 0);
    assert_true(rs->nrules > 200);
    assert_true(check_all(rs, NULL) > 65536);
    for (size_t s = 0; s < sizeof sites / sizeof sites[0]; s++) {
        snprintf(path, sizeof path, "%s/sites/%s.site", src_dir(), sites[s]);
        fa_site *site = fa_site_load_file(rs, path, err, sizeof err);
        if (!site)
            fail_msg("%s", err);
        assert_true(check_all(rs, site) > 0);
        fa_site_free(site);
    }
    fa_rules_free(rs);
}

static const char edge_rules[] =
    "product edge \"Edge cases\"\n"
    "role a \"A\"\n"
    "role b \"B\"\n"
    "role c \"C\"\n"
    "role ab \"A or B\"\n"
    "group ab a b\n"
    "rule E-001 a -> b tcp 1-10,65530-65535\n"
    "    purpose \"Both ends of the port line\"\n"
    "rule E-002 a -> b tcp *\n"
    "    purpose \"Any port\"\n"
    "rule E-003 ab -> c tcp,udp 5-14,15-30,32\n"
    "    purpose \"Ranges touching each other, overlapping another rule's, a group\"\n"
    "rule E-004 a -> c tcp 443,8443\n"
    "    purpose \"Either port\"\n"
    "    any-of yes\n"
    "rule E-005 c -> ab udp 31-31,65535\n"
    "    purpose \"One-port range, the last port\"\n"
    "rule E-006 a -> b icmp -\n"
    "    purpose \"No ports\"\n"
    "rule E-007 a -> b proto:112 -\n"
    "    purpose \"VRRP\"\n"
    "rule E-008 b -> a udp *\n"
    "    purpose \"Any UDP port\"\n"
    "    sport 53\n"
    "rule E-009 b -> c tcp 9000\n"
    "    purpose \"Moved by the site\"\n"
    "    customizable yes\n";

static const char other_rules[] =
    "product other \"Not deployed\"\n"
    "role x \"X\"\n"
    "rule O-001 x -> x tcp 1-65535\n"
    "    purpose \"Not deployed at the site\"\n";

static const char edge_site[] =
    "site \"Edge\"\n"
    "product edge\n"
    "phase operation\n"
    "role edge.a 192.0.2.1\n"
    "role edge.b 192.0.2.2\n"
    "role edge.c 192.0.2.3\n"
    "port E-009 9001-9003,20\n";

static void test_edges(void **state)
{
    (void)state;
    char err[512];
    fa_ruleset *rs = fa_rules_new();
    assert_non_null(rs);
    if (fa_rules_load_string(rs, "edge.rules", edge_rules, err, sizeof err) != 0 ||
        fa_rules_load_string(rs, "other.rules", other_rules, err, sizeof err) != 0)
        fail_msg("%s", err);
    fa_site *site = fa_site_load_string(rs, "edge.site", edge_site, err, sizeof err);
    if (!site)
        fail_msg("%s", err);
    /* With no site every rule, the undeployed product's too: its range
     * covers all but port 0. */
    assert_true(check_all(rs, NULL) > 0);
    assert_true(check_all(rs, site) > 0);

    /* A few answers written out, from the rule text above. */
    view v = view_of(rs, site);
    fa_rule_index *ix = fa_rule_index_new(rs, v.deployed, v.n, v.dports);
    assert_non_null(ix);
    int n;
    const int *got = fa_rule_index_find(ix, FA_PROTO_TCP, 20, &n);
    assert_int_equal(n, 3); /* E-002, E-003, E-009 (moved to 20) */
    assert_string_equal(rs->rules[got[0]].id, "E-002");
    assert_string_equal(rs->rules[got[1]].id, "E-003");
    assert_string_equal(rs->rules[got[2]].id, "E-009");
    got = fa_rule_index_find(ix, FA_PROTO_TCP, 9000, &n);
    assert_int_equal(n, 1); /* E-002 only: the site moved E-009 */
    got = fa_rule_index_find(ix, FA_PROTO_UDP, 65535, &n);
    assert_int_equal(n, 2); /* E-005, E-008 */
    assert_string_equal(rs->rules[got[0]].id, "E-005");
    got = fa_rule_index_find(ix, FA_PROTO_TCP, 0, &n);
    assert_int_equal(n, 1); /* E-002: no rule may name port 0 */
    got = fa_rule_index_find(ix, FA_PROTO_TCP, 1, &n);
    assert_int_equal(n, 2); /* E-001, E-002 */
    fa_rule_index_free(ix);
    free(v.deployed);
    free(v.dports);
    fa_site_free(site);
    fa_rules_free(rs);
}

/* No rules at all: every port has none. */
static void test_empty(void **state)
{
    (void)state;
    fa_ruleset *rs = fa_rules_new();
    assert_non_null(rs);
    fa_rule_index *ix = fa_rule_index_new(rs, NULL, 0, NULL);
    assert_non_null(ix);
    int n = -1;
    assert_non_null(fa_rule_index_find(ix, FA_PROTO_UDP, 53, &n));
    assert_int_equal(n, 0);
    fa_rule_index_free(ix);
    fa_rules_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
