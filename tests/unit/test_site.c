/* test_site.c - the site file loader and the role, inventory and port
 * lookups it answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "site.h"

#define ERRLEN 4096

static const char example_site[] =
    "# Test site for the good/ rule directory.\n"
    "site \"Example HyWorks deployment\"\n"
    "product hyworks\n"
    "phase operation\n"
    "feature hyworks.radius\n"
    "\n"
    "role hyworks.mgmt1   192.0.2.10\n"
    "role hyworks.session 192.0.2.20 192.0.2.21 198.51.100.0/28\n"
    "role hyworks.dc      192.0.2.2 2001:db8::2\n"
    "role hyworks.session 2001:db8:1::/64\n"
    "\n"
    "port HYW-010 9443\n";

static const char *src_dir(void)
{
    const char *dir = getenv("FLOWAUDIT_SRC");
    if (!dir)
        fail_msg("FLOWAUDIT_SRC is not set (run the tests with ctest)");
    return dir;
}

static void data_path(char *buf, size_t len, const char *rel)
{
    snprintf(buf, len, "%s/tests/data/rules/%s", src_dir(), rel);
}

static int setup_rules(void **state)
{
    char err[ERRLEN], dir[1024];
    data_path(dir, sizeof dir, "good");
    fa_ruleset *rs = fa_rules_new();
    if (!rs || fa_rules_load_dir(rs, dir, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        fa_rules_free(rs);
        return -1;
    }
    *state = rs;
    return 0;
}

static int teardown_rules(void **state)
{
    fa_rules_free(*state);
    return 0;
}

static fa_addr addr(const char *text)
{
    fa_cidr c;
    if (fa_cidr_parse(text, &c) != 0 || c.prefix != 128)
        fail_msg("'%s' is not an address", text);
    return c.net;
}

static bool has_role(const fa_site *site, const fa_ruleset *rs, const char *role,
                     const char *address)
{
    int product = 0; /* hyworks in the test rules, g in test_groups */
    int r = FA_ROLE_ANY;
    if (strcmp(role, "any") != 0 && (r = fa_rules_find_role(rs, product, role)) < 0)
        fail_msg("no role %s", role);
    fa_addr a = addr(address);
    return fa_site_addr_has_role(site, r, &a);
}

static bool in_inventory(const fa_site *site, const char *address)
{
    fa_addr a = addr(address);
    return fa_site_in_inventory(site, &a);
}

static void check_example(const fa_ruleset *rs, const fa_site *site, const char *file)
{
    int hyworks = fa_rules_find_product(rs, "hyworks");
    int pcoip = fa_rules_find_product(rs, "pcoip");
    assert_string_equal(site->name, "Example HyWorks deployment");
    assert_string_equal(site->file, file);
    assert_int_equal(site->phase, FA_PHASE_OPERATION);
    assert_true(site->product_deployed[hyworks]);
    assert_false(site->product_deployed[pcoip]);
    assert_true(site->feature_enabled[fa_rules_find_feature(rs, hyworks, "radius")]);
    assert_int_equal(site->nroles, 7);
    assert_true(site->role_mapped[fa_rules_find_role(rs, hyworks, "session")]);
    assert_false(site->role_mapped[fa_rules_find_role(rs, pcoip, "agent")]);

    assert_true(has_role(site, rs, "mgmt1", "192.0.2.10"));
    assert_false(has_role(site, rs, "mgmt1", "192.0.2.11"));
    assert_true(has_role(site, rs, "session", "198.51.100.15"));
    assert_false(has_role(site, rs, "session", "198.51.100.16"));
    assert_true(has_role(site, rs, "session", "2001:db8:1::abcd"));
    assert_false(has_role(site, rs, "session", "2001:db8:2::1"));
    assert_true(has_role(site, rs, "dc", "2001:db8::2"));
    assert_false(has_role(site, rs, "dc", "192.0.2.10"));
    assert_true(has_role(site, rs, "any", "203.0.113.1"));

    assert_true(in_inventory(site, "192.0.2.2"));
    assert_true(in_inventory(site, "198.51.100.0"));
    assert_true(in_inventory(site, "2001:db8:1::1"));
    assert_false(in_inventory(site, "198.51.100.16"));
    assert_false(in_inventory(site, "192.0.2.99"));
    assert_false(in_inventory(site, "2001:db8::3"));

    int customized = fa_rules_find_rule(rs, "HYW-010");
    const fa_portset *ps = fa_site_rule_dports(site, rs, customized);
    assert_true(fa_portset_contains(ps, 9443));
    assert_false(fa_portset_contains(ps, 443));
    assert_true(fa_portset_contains(&rs->rules[customized].dports, 443));
    int fixed = fa_rules_find_rule(rs, "HYW-001");
    assert_ptr_equal(fa_site_rule_dports(site, rs, fixed), &rs->rules[fixed].dports);
}

/* Loads text as the site file name and checks it is the example. */
static void load_example(const fa_ruleset *rs, const char *name, const char *text)
{
    char err[ERRLEN] = "";
    fa_site *site = fa_site_load_string(rs, name, text, err, sizeof err);
    if (!site)
        fail_msg("%s", err);
    check_example(rs, site, name);
    fa_site_free(site);
}

static void test_example_from_string(void **state)
{
    load_example(*state, "mem.site", example_site);
}

static void test_byte_order_mark(void **state)
{
    char text[8192];
    int n = snprintf(text, sizeof text, "\xEF\xBB\xBF%s", example_site);
    assert_true(n > 0 && (size_t)n < sizeof text);
    load_example(*state, "bom.site", text);
}

static void test_example_from_file(void **state)
{
    const fa_ruleset *rs = *state;
    char err[ERRLEN] = "", path[1024];
    data_path(path, sizeof path, "example.site");
    fa_site *site = fa_site_load_file(rs, path, err, sizeof err);
    if (!site)
        fail_msg("%s", err);
    check_example(rs, site, path);
    fa_site_free(site);
}

static void test_bad_file(void **state)
{
    const fa_ruleset *rs = *state;
    char err[ERRLEN], path[1024], expect[ERRLEN];
    data_path(path, sizeof path, "bad.site");
    assert_null(fa_site_load_file(rs, path, err, sizeof err));
    snprintf(expect, sizeof expect, "%s:5: unknown role 'hyworks.nosuch'", path);
    assert_string_equal(err, expect);

    data_path(path, sizeof path, "nosuch.site");
    assert_null(fa_site_load_file(rs, path, err, sizeof err));
    snprintf(expect, sizeof expect, "%s: No such file or directory", path);
    assert_string_equal(err, expect);
}

static void test_several_roles_and_unmapped(void **state)
{
    const fa_ruleset *rs = *state;
    char err[ERRLEN] = "";
    fa_site *site = fa_site_load_string(rs, "s.site",
                                        "product hyworks\n"
                                        "phase intervention\n"
                                        "role hyworks.mgmt1 192.0.2.10\n"
                                        "role hyworks.dc 192.0.2.10 192.0.2.11\n",
                                        err, sizeof err);
    if (!site)
        fail_msg("%s", err);
    assert_null(site->name);
    assert_int_equal(site->phase, FA_PHASE_INTERVENTION);
    assert_int_equal(site->nports, 0);
    assert_false(site->feature_enabled[0]);
    assert_true(has_role(site, rs, "mgmt1", "192.0.2.10"));
    assert_true(has_role(site, rs, "dc", "192.0.2.10"));
    assert_false(has_role(site, rs, "mgmt1", "192.0.2.11"));
    assert_true(has_role(site, rs, "dc", "192.0.2.11"));
    /* session is not mapped by this site: it is not deployed, and no
     * host plays it, inside the inventory or outside. */
    assert_false(site->role_mapped[fa_rules_find_role(rs, 0, "session")]);
    assert_false(has_role(site, rs, "session", "192.0.2.10"));
    assert_false(has_role(site, rs, "session", "203.0.113.7"));
    assert_false(in_inventory(site, "203.0.113.7"));
    int fixed = fa_rules_find_rule(rs, "HYW-010");
    assert_ptr_equal(fa_site_rule_dports(site, rs, fixed), &rs->rules[fixed].dports);
    fa_site_free(site);

    /* Port-only mode: no site at all. */
    assert_true(has_role(NULL, rs, "mgmt1", "203.0.113.7"));
    assert_false(in_inventory(NULL, "192.0.2.10"));
    assert_ptr_equal(fa_site_rule_dports(NULL, rs, fixed), &rs->rules[fixed].dports);
}

typedef struct err_case {
    const char *text;
    const char *message;
} err_case;

#define P "product hyworks\n"

static const err_case err_cases[] = {
    {P "  phase operation\n", "t.site:2: site statements must start in column 1"},
    {P "rule X a -> b tcp 1\n", "t.site:2: unknown keyword 'rule'"},
    {P "site\n", "t.site:2: usage: site \"name\""},
    {P "site \"a\"\nsite \"b\"\n", "t.site:3: repeated 'site' statement"},
    {P "site \"\"\n", "t.site:2: empty site name"},
    {P "site \"x\n", "t.site:2: unterminated quoted text"},
    {"product\n", "t.site:1: usage: product ID"},
    {"product nosuch\n", "t.site:1: unknown product 'nosuch' (no rule file defines it)"},
    {P "\nproduct hyworks\n", "t.site:3: product 'hyworks' listed twice"},
    {P "phase\n", "t.site:2: usage: phase installation|operation|intervention"},
    {P "phase operation,installation\n",
     "t.site:2: unknown phase 'operation,installation' (installation, operation or "
     "intervention)"},
    {P "phase operation\nphase installation\n", "t.site:3: repeated 'phase' statement"},
    {P "feature radius\n", "t.site:2: expected PRODUCT.FEATURE, got 'radius'"},
    {P "feature hyworks.\n", "t.site:2: expected PRODUCT.FEATURE, got 'hyworks.'"},
    {P "feature hyworks.radius x\n", "t.site:2: usage: feature PRODUCT.FEATURE"},
    {P "feature nosuch.radius\n", "t.site:2: unknown product 'nosuch'"},
    {P "feature pcoip.radius\n",
     "t.site:2: product 'pcoip' is not deployed (add 'product pcoip' first)"},
    {P "feature hyworks.nope\n", "t.site:2: unknown feature 'hyworks.nope'"},
    {P "feature hyworks.radius\nfeature hyworks.radius\n",
     "t.site:3: feature 'hyworks.radius' listed twice"},
    {P "role hyworks.mgmt1\n", "t.site:2: usage: role PRODUCT.ROLE ADDRESS...|external"},
    {P "role .mgmt1 192.0.2.1\n", "t.site:2: expected PRODUCT.ROLE, got '.mgmt1'"},
    {P "role hyworks.nosuch 192.0.2.1\n", "t.site:2: unknown role 'hyworks.nosuch'"},
    {P "role hyworks.any 192.0.2.1\n", "t.site:2: unknown role 'hyworks.any'"},
    {"role hyworks.mgmt1 192.0.2.1\n",
     "t.site:1: product 'hyworks' is not deployed (add 'product hyworks' first)"},
    {P "role hyworks.mgmt1 192.0.2.300\n", "t.site:2: bad address '192.0.2.300'"},
    {P "role hyworks.mgmt1 192.0.2.1 host.example\n", "t.site:2: bad address 'host.example'"},
    {P "role hyworks.mgmt1 192.0.2.1/33\n", "t.site:2: bad address '192.0.2.1/33'"},
    {P "role hyworks.mgmt1 192.0.2.10/24\n", "t.site:2: '192.0.2.10/24' has host bits set"},
    {P "role hyworks.mgmt1 2001:db8::1/64\n", "t.site:2: '2001:db8::1/64' has host bits set"},
    {P "role hyworks.mgmt1 192.0.2.1\nrole hyworks.mgmt1 192.0.2.1/32\n",
     "t.site:3: address '192.0.2.1/32' listed twice for role 'hyworks.mgmt1'"},
    {P "port HYW-010\n", "t.site:2: usage: port RULE-ID PORTS"},
    {P "port HYW-999 80\n", "t.site:2: unknown rule 'HYW-999'"},
    {P "port PCO-001 80\n",
     "t.site:2: rule 'PCO-001' belongs to product 'pcoip', which is not deployed"},
    {P "port HYW-001 80\n", "t.site:2: rule 'HYW-001' is not customizable"},
    {P "port HYW-010 80\nport HYW-010 81\n",
     "t.site:3: repeated port override for rule 'HYW-010'"},
    {P "port HYW-010 0\n", "t.site:2: bad port set '0': port 0 is not allowed"},
    {P "port HYW-010 -\n", "t.site:2: port override needs ports, not '-'"},
    {"", "t.site:1: no 'product' statement"},
    {"product hyworks\nrole hyworks.dc external external\n", "t.site:2: 'external' given twice for role 'hyworks.dc'"},
    {"site \"x\"\n\n", "t.site:2: no 'product' statement"},
};

/* "external": hosts that are real but have no fixed address play the role
 * wherever they are outside the inventory; they do not join it. */
static void test_external(void **state)
{
    const fa_ruleset *rs = *state;
    char err[ERRLEN] = "";
    fa_site *site = fa_site_load_string(rs, "s.site",
                                        "product hyworks\n"
                                        "role hyworks.mgmt1 192.0.2.10\n"
                                        "role hyworks.session 192.0.2.20 external\n",
                                        err, sizeof err);
    if (!site)
        fail_msg("%s", err);
    assert_true(has_role(site, rs, "session", "203.0.113.7"));
    assert_true(has_role(site, rs, "session", "192.0.2.20"));
    assert_false(has_role(site, rs, "session", "192.0.2.10"));
    assert_false(in_inventory(site, "203.0.113.7"));
    assert_false(has_role(site, rs, "dc", "203.0.113.7"));
    fa_site_free(site);
}

static const char group_rules[] =
    "product g \"G\"\n"
    "role m1 \"Node 1\"\n"
    "role m2 \"Node 2\"\n"
    "role nodes \"Every node\"\n"
    "role other \"Other\"\n"
    "group nodes m1 m2\n"
    "rule G-1 nodes -> other tcp 1\n"
    "    purpose \"x\"\n";

/* A group follows its members; a site that lists the group too still
 * works, and a host given the group alone is worth a warning. */
static void test_groups(void **state)
{
    (void)state;
    char err[ERRLEN] = "";
    fa_ruleset *rs = fa_rules_new();
    assert_non_null(rs);
    if (fa_rules_load_string(rs, "g.rules", group_rules, err, sizeof err) != 0)
        fail_msg("%s", err);
    int nodes = fa_rules_find_role(rs, 0, "nodes"), m2 = fa_rules_find_role(rs, 0, "m2");
    assert_int_equal(rs->roles[nodes].nmembers, 2);
    fa_site *site = fa_site_load_string(rs, "s.site",
                                        "product g\n"
                                        "role g.m1 10.0.0.1\n"
                                        "role g.other 10.0.0.5 external\n",
                                        err, sizeof err);
    if (!site)
        fail_msg("%s", err);
    assert_true(site->role_mapped[nodes]);
    assert_false(site->role_mapped[m2]);
    assert_false(site->role_external[nodes]);
    assert_null(site->warnings);
    assert_true(has_role(site, rs, "nodes", "10.0.0.1"));
    assert_false(has_role(site, rs, "nodes", "10.0.0.5"));
    assert_false(has_role(site, rs, "nodes", "203.0.113.1"));
    fa_site_free(site);
    site = fa_site_load_string(rs, "s.site",
                               "product g\n"
                               "role g.m1 10.0.0.1\n"
                               "role g.nodes 10.0.0.1 10.0.0.9\n",
                               err, sizeof err);
    if (!site)
        fail_msg("%s", err);
    assert_true(has_role(site, rs, "nodes", "10.0.0.9"));
    assert_string_equal(site->warnings,
                        "s.site:3: warning: 10.0.0.9 is given the group role 'g.nodes' but none of its members\n");
    fa_site_free(site);
    fa_rules_free(rs);
}

static void test_error_messages(void **state)
{
    const fa_ruleset *rs = *state;
    char err[ERRLEN];
    for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
        const err_case *c = &err_cases[i];
        strcpy(err, "untouched");
        fa_site *site = fa_site_load_string(rs, "t.site", c->text, err, sizeof err);
        if (site || strcmp(err, c->message) != 0)
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, err, c->message);
    }
}

/* Site text mapping role rI of product "many" to address for I < n. */
static char *many_roles(int n, const char *address, const char *last)
{
    size_t cap = 64 + (size_t)n * 64, used;
    char *text = malloc(cap);
    assert_non_null(text);
    used = (size_t)snprintf(text, cap, "product many\n");
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf(text + used, cap - used, "role many.r%d %s\n", i, address);
    snprintf(text + used, cap - used, "%s", last);
    return text;
}

static void test_limits(void **state)
{
    (void)state;
    char err[ERRLEN];
    fa_ruleset *rs = fa_rules_new();
    char rules[2048] = "product many \"Many roles\"\n";
    for (int i = 0; i <= FA_SITE_MAX_ROLES_PER_HOST; i++)
        snprintf(rules + strlen(rules), sizeof rules - strlen(rules), "role r%d \"R\"\n", i);
    assert_int_equal(fa_rules_load_string(rs, "many.rules", rules, err, sizeof err), 0);

    /* 16 roles on one host are fine; a 17th through a covering CIDR is not,
     * and the message names the line that added it. */
    char *text = many_roles(FA_SITE_MAX_ROLES_PER_HOST, "192.0.2.1", "role many.r16 192.0.2.2\n");
    fa_site *site = fa_site_load_string(rs, "t.site", text, err, sizeof err);
    if (!site)
        fail_msg("%s", err);
    fa_site_free(site);
    free(text);
    text = many_roles(FA_SITE_MAX_ROLES_PER_HOST, "192.0.2.1",
                      "\nrole many.r16 192.0.2.0/24\nrole many.r0 10.0.0.1\n");
    assert_null(fa_site_load_string(rs, "t.site", text, err, sizeof err));
    assert_string_equal(err, "t.site:19: address 192.0.2.1 plays too many roles (limit 16)");
    free(text);

    /* At most 1024 addresses in all. */
    size_t cap = 32 + 1025 * 40, used;
    text = malloc(cap);
    assert_non_null(text);
    used = (size_t)snprintf(text, cap, "product many\n");
    for (int i = 0; i < 1024; i++)
        used += (size_t)snprintf(text + used, cap - used, "role many.r%d 10.0.%d.%d\n", i % 4,
                                 i / 256, i % 256);
    site = fa_site_load_string(rs, "t.site", text, err, sizeof err);
    if (!site)
        fail_msg("%s", err);
    assert_int_equal(site->nroles, 1024);
    fa_site_free(site);
    snprintf(text + used, cap - used, "role many.r0 10.9.9.9\n");
    assert_null(fa_site_load_string(rs, "t.site", text, err, sizeof err));
    assert_string_equal(err, "t.site:1026: too many role addresses (limit 1024)");
    free(text);
    fa_rules_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_from_string),
        cmocka_unit_test(test_byte_order_mark),
        cmocka_unit_test(test_example_from_file),
        cmocka_unit_test(test_bad_file),
        cmocka_unit_test(test_several_roles_and_unmapped),
        cmocka_unit_test(test_external),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_error_messages),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, setup_rules, teardown_rules);
}
