/* test_sensors.c - what an auditor knows of its sensors: the networks
 * they announce, which rules that lets it call not seen, and the bounded
 * memory of (sensor, uid) pairs already judged. Rules and site: the good/
 * rules and example.site of tests/data/rules (HYW-001 mgmt1 192.0.2.10 ->
 * session 192.0.2.20-21, 198.51.100.0/28, 2001:db8:1::/64; HYW-010 any ->
 * session; HYW-040 session -> dc 192.0.2.2, 2001:db8::2). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensors.h"

#define ERRLEN 4096

typedef struct fixture {
    fa_ruleset *rs;
    fa_site *site;
    fa_sensors *s;
} fixture;

static int setup(void **state)
{
    char err[ERRLEN], path[1024];
    const char *src = getenv("FLOWAUDIT_SRC");
    fixture *fx = calloc(1, sizeof *fx);
    if (!src || !fx)
        return -1;
    fx->rs = fa_rules_new();
    snprintf(path, sizeof path, "%s/tests/data/rules/good", src);
    if (!fx->rs || fa_rules_load_dir(fx->rs, path, err, sizeof err) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/tests/data/rules/example.site", src);
    if (!(fx->site = fa_site_load_file(fx->rs, path, err, sizeof err)) || !(fx->s = fa_sensors_new()))
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    fa_sensors_free(fx->s);
    fa_site_free(fx->site);
    fa_rules_free(fx->rs);
    free(fx);
    return 0;
}

static void announce(fixture *fx, const char *sensor, const char *list)
{
    fa_cidr nets[FA_SENSOR_NETS_MAX];
    char err[256];
    int n = fa_sensors_parse_nets(list, nets, FA_SENSOR_NETS_MAX, err, sizeof err);
    if (n < 0)
        fail_msg("%s", err);
    assert_int_equal(fa_sensors_announce(fx->s, sensor, nets, n), 0);
}

static bool observable(const fixture *fx, const fa_site *site, const char *rule)
{
    int r = fa_rules_find_rule(fx->rs, rule);
    assert_true(r >= 0);
    return fa_sensors_rule_observable(fx->s, fx->rs, site, r);
}

static void test_nothing_announced(void **state)
{
    fixture *fx = *state;
    assert_false(observable(fx, fx->site, "HYW-001"));
    assert_false(observable(fx, fx->site, "HYW-010"));
    assert_false(observable(fx, NULL, "HYW-001"));
    announce(fx, "quiet", "");
    assert_int_equal(fa_sensors_count(fx->s), 1);
    assert_false(observable(fx, fx->site, "HYW-010"));
}

/* A network holding either endpoint's address or prefix will do. */
static void test_endpoints(void **state)
{
    fixture *fx = *state;
    announce(fx, "dc-span", "192.0.2.2/32");
    assert_false(observable(fx, fx->site, "HYW-001"));
    assert_true(observable(fx, fx->site, "HYW-040"));
    /* A network inside the session role's prefix overlaps it. */
    announce(fx, "lab", "198.51.100.8/29");
    assert_true(observable(fx, fx->site, "HYW-001"));
    /* Announcing again replaces what the sensor said before. */
    announce(fx, "lab", "203.0.113.0/24");
    announce(fx, "dc-span", "2001:db8:1:0:1::/80");
    assert_true(observable(fx, fx->site, "HYW-001"));
    announce(fx, "dc-span", "2001:db8:2::/48");
    assert_false(observable(fx, fx->site, "HYW-001"));
    assert_false(observable(fx, fx->site, "HYW-040"));
    assert_int_equal(fa_sensors_count(fx->s), 2);
    /* Without a site the roles have no addresses: any network will do. */
    assert_true(observable(fx, NULL, "HYW-001"));
}

/* An "any" or external end is no endpoint a sensor can be said to watch:
 * the rule is observable where the other, inventory end is (the man
 * page's --sensor-networks: "a network holding one of the rule's
 * endpoints"). Else a sensor announcing only its own outside network would
 * turn HYW-010 (any -> session) into not seen. */
static void test_wide_end(void **state)
{
    fixture *fx = *state;
    char err[ERRLEN];
    fa_site *ext = fa_site_load_string(fx->rs, "ext.site",
                                       "product hyworks\nphase operation\n"
                                       "role hyworks.mgmt1 external\nrole hyworks.session 192.0.2.20\n",
                                       err, sizeof err);
    if (!ext)
        fail_msg("%s", err);
    announce(fx, "edge", "203.0.113.0/24");
    assert_false(observable(fx, fx->site, "HYW-010"));
    assert_false(observable(fx, ext, "HYW-001"));
    announce(fx, "dc-span", "192.0.2.2/32");
    assert_false(observable(fx, fx->site, "HYW-010"));
    announce(fx, "core", "192.0.2.16/28");
    assert_true(observable(fx, fx->site, "HYW-010"));
    assert_true(observable(fx, ext, "HYW-001"));
    /* Without a site no end has an address: any network will do. */
    assert_true(observable(fx, NULL, "HYW-010"));
    fa_site_free(ext);
}

static void test_parse_nets(void **state)
{
    (void)state;
    fa_cidr nets[2];
    char err[256];
    assert_int_equal(fa_sensors_parse_nets("192.0.2.0/24,2001:db8::/32", nets, 2, err, sizeof err), 2);
    assert_int_equal(nets[0].prefix, 96 + 24);
    assert_int_equal(fa_sensors_parse_nets("", nets, 2, err, sizeof err), 0);
    assert_int_equal(fa_sensors_parse_nets("192.0.2.0/24,,", nets, 2, err, sizeof err), -1);
    assert_int_equal(fa_sensors_parse_nets("192.0.2.0/33", nets, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "192.0.2.0/33"));
    assert_int_equal(fa_sensors_parse_nets("192.0.2.0/24,192.0.2.1,192.0.2.2", nets, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "at most 2"));
}

static void test_announce_limits(void **state)
{
    fixture *fx = *state;
    char id[FA_SENSOR_ID_MAX + 1];
    fa_cidr net;
    assert_int_equal(fa_cidr_parse("192.0.2.0/24", &net), 0);
    assert_int_equal(fa_sensors_announce(fx->s, "", &net, 1), -1);
    memset(id, 'x', FA_SENSOR_ID_MAX);
    id[FA_SENSOR_ID_MAX] = '\0';
    assert_int_equal(fa_sensors_announce(fx->s, id, &net, 1), -1);
    for (int i = 0; i < FA_SENSORS_MAX; i++) {
        snprintf(id, sizeof id, "s%d", i);
        assert_int_equal(fa_sensors_announce(fx->s, id, &net, 1), 0);
    }
    assert_int_equal(fa_sensors_announce(fx->s, "one-more", &net, 1), -1);
    assert_int_equal(fa_sensors_announce(fx->s, "s7", &net, 1), 0);
    assert_int_equal(fa_sensors_count(fx->s), FA_SENSORS_MAX);
}

/* The same uid from two sensors is two records; from one sensor, one. */
static void test_dedup(void **state)
{
    fixture *fx = *state;
    assert_true(fa_sensors_first(fx->s, "a", "CBQsKjqLWjdmTGySY5"));
    assert_true(fa_sensors_first(fx->s, "b", "CBQsKjqLWjdmTGySY5"));
    assert_false(fa_sensors_first(fx->s, "a", "CBQsKjqLWjdmTGySY5"));
    /* The id and the uid are not run together: "ab"+"c" is not "a"+"bc". */
    assert_true(fa_sensors_first(fx->s, "ab", "c"));
    assert_true(fa_sensors_first(fx->s, "a", "bc"));
    assert_int_equal(fa_sensors_duplicates(fx->s), 1);
}

/* At least FA_DEDUP_KEEP pairs are remembered, and no more than twice as
 * many: memory stays bounded. */
static void test_dedup_bounded(void **state)
{
    fixture *fx = *state;
    char uid[32];
    const unsigned n = 2 * FA_DEDUP_KEEP + 10;
    for (unsigned i = 0; i < n; i++) {
        snprintf(uid, sizeof uid, "C%u", i);
        assert_true(fa_sensors_first(fx->s, "s", uid));
    }
    for (unsigned i = n - FA_DEDUP_KEEP; i < n; i++) {
        snprintf(uid, sizeof uid, "C%u", i);
        assert_false(fa_sensors_first(fx->s, "s", uid));
    }
    snprintf(uid, sizeof uid, "C%u", 0u);
    assert_true(fa_sensors_first(fx->s, "s", uid));
    assert_int_equal(fa_sensors_duplicates(fx->s), FA_DEDUP_KEEP);
}

/* Gaps in a sensor's message numbers: its first message met sets where
 * it stands, 0 is a restart, a number met again is no gap. */
static void test_seq(void **state)
{
    fixture *fx = *state;
    assert_int_equal(fa_sensors_seq(fx->s, "a", 7), 0);
    assert_int_equal(fa_sensors_seq(fx->s, "a", 8), 0);
    assert_int_equal(fa_sensors_seq(fx->s, "a", 12), 3);
    assert_int_equal(fa_sensors_seq(fx->s, "a", 12), 0);
    assert_int_equal(fa_sensors_seq(fx->s, "a", 10), 0);
    assert_int_equal(fa_sensors_seq(fx->s, "a", 13), 0);
    assert_int_equal(fa_sensors_seq(fx->s, "a", 0), 0);
    assert_int_equal(fa_sensors_seq(fx->s, "a", 2), 1);
    assert_int_equal(fa_sensors_seq(fx->s, "b", 5), 0);
    assert_int_equal(fa_sensors_seq(fx->s, "", 5), 0);
    /* Numbered, not announced: not counted as announcing. */
    assert_int_equal(fa_sensors_count(fx->s), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nothing_announced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wide_end, setup, teardown),
        cmocka_unit_test(test_parse_nets),
        cmocka_unit_test_setup_teardown(test_announce_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dedup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dedup_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seq, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
