/* test_rules.c - the rule file loader: a full valid example from a string
 * and from files, every error message with its line, all-or-nothing
 * loading, the limits, and the --list-rules printers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules.h"

#define ERRLEN 4096

static const char example[] =
    "# Test matrix: a small HyWorks-like product.\n"
    "product hyworks \"Accops HyWorks\"\n"
    "source \"Accops HyWorks documentation: Pre-requisites, Port Requirements\"\n"
    "\n"
    "role mgmt1   \"HyWorks Controller Management Node - 1\"\n"
    "role session \"HyWorks Session or Broker Nodes\"\n"
    "role dc      \"Active Directory domain controller\"\n"
    "\n"
    "feature radius \"RADIUS authentication is used\"\n"
    "\n"
    "rule HYW-001 mgmt1 -> session tcp 38866\n"
    "    purpose      \"Clustering\"\n"
    "    requirement  required\n"
    "    phase        operation\n"
    "    customizable no\n"
    "    impact       \"Cluster and high availability will not work\"\n"
    "\n"
    "rule HYW-010 any -> session tcp 443,8443   # customizable\n"
    "    purpose      \"Web console\"\n"
    "    customizable yes\n"
    "\n"
    "rule HYW-040 session -> dc tcp,udp 88\n"
    "    purpose     \"Kerberos authentication\"\n"
    "    requirement if radius\n"
    "    phase       operation,intervention\n"
    "    note        \"The table says 'UDP/TCP 88': either transport satisfies the row.\"\n";

/* The second test product, exercising the remaining attributes. */
static const char example2[] =
    "product pcoip \"HP Anyware\"\r\n"
    "role client \"PCoIP client\"\r\n"
    "role agent\t\"PCoIP agent\"\r\n"
    "rule PCO-001 client -> agent udp 4172\r\n"
    "\tpurpose     \"PCoIP session\"\r\n"
    "\tsport       55000\r\n"
    "\twebsocket   no\r\n"
    "rule PCO-002 client -> agent tcp 443\n"
    "    purpose     \"Session broker WebSocket\"  # a comment\n"
    "    websocket   yes\n"
    "    requirement optional\n"
    "rule PCO-003 agent -> agent proto:112 -\n"
    "    purpose     \"VRRP between agents\"\n"
    "    observable  no \"multicast on the local segment\"\n"
    "rule PCO-004 any -> any icmp,icmp6,proto:50,proto:51 -\n"
    "    purpose     \"Contr\xc3\xb4le # not a comment\"\n"
    "    note        \"say \\\"hi\\\" \\\\ ok\"\n"
    "    phase       installation,operation,intervention\n"
    "    longlived   yes\n"
    "    observable  yes\n"
    "rule PCO-005 client -> agent tcp,udp 1024-5000,8080,*9\n";

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

static const fa_rule *rule(const fa_ruleset *rs, const char *id)
{
    int i = fa_rules_find_rule(rs, id);
    if (i < 0)
        fail_msg("rule %s not loaded", id);
    return &rs->rules[i];
}

/* The whole ruleset as JSON lines, to compare a ruleset before and after. */
static char *dump(const fa_ruleset *rs)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(fa_rules_print_json(rs, f), 0);
    for (int i = 0; i < rs->nproducts; i++)
        fprintf(f, "product %s %s %s\n", rs->products[i].id, rs->products[i].name,
                rs->products[i].file);
    for (int i = 0; i < rs->nroles; i++)
        fprintf(f, "role %s %d %s\n", rs->roles[i].id, rs->roles[i].product,
                rs->roles[i].description);
    for (int i = 0; i < rs->nfeatures; i++)
        fprintf(f, "feature %s %d %s\n", rs->features[i].id, rs->features[i].product,
                rs->features[i].description);
    fclose(f);
    return buf;
}

static void check_hyworks(const fa_ruleset *rs, const char *file)
{
    int p = fa_rules_find_product(rs, "hyworks");
    assert_true(p >= 0);
    assert_string_equal(rs->products[p].name, "Accops HyWorks");
    assert_string_equal(rs->products[p].source,
                        "Accops HyWorks documentation: Pre-requisites, Port Requirements");
    assert_string_equal(rs->products[p].file, file);
    int mgmt1 = fa_rules_find_role(rs, p, "mgmt1");
    int session = fa_rules_find_role(rs, p, "session");
    int dc = fa_rules_find_role(rs, p, "dc");
    int radius = fa_rules_find_feature(rs, p, "radius");
    assert_true(mgmt1 >= 0 && session >= 0 && dc >= 0 && radius >= 0);
    assert_int_equal(fa_rules_find_role(rs, p, "any"), -1);
    assert_int_equal(fa_rules_find_role(rs, p, "nosuch"), -1);
    assert_string_equal(rs->roles[session].description, "HyWorks Session or Broker Nodes");

    const fa_rule *r = rule(rs, "HYW-001");
    assert_int_equal(r->product, p);
    assert_int_equal(r->from_role, mgmt1);
    assert_int_equal(r->to_role, session);
    assert_int_equal(r->transports, FA_TR_TCP);
    assert_true(fa_portset_contains(&r->dports, 38866));
    assert_false(fa_portset_contains(&r->dports, 38867));
    assert_true(r->sports.any);
    assert_int_equal(r->requirement, FA_REQ_REQUIRED);
    assert_int_equal(r->feature, -1);
    assert_int_equal(r->phases, FA_PHASE_OPERATION);
    assert_string_equal(r->purpose, "Clustering");
    assert_string_equal(r->impact, "Cluster and high availability will not work");
    assert_null(r->note);
    assert_false(r->customizable);
    assert_false(r->websocket);
    assert_false(r->longlived);
    assert_true(r->observable);
    assert_null(r->unobservable_reason);
    assert_string_equal(r->file, file);
    assert_int_equal(r->line, 11);

    r = rule(rs, "HYW-010");
    assert_int_equal(r->from_role, FA_ROLE_ANY);
    assert_true(r->customizable);
    assert_true(fa_portset_contains(&r->dports, 8443));
    assert_null(r->impact);
    assert_int_equal(r->line, 18);

    r = rule(rs, "HYW-040");
    assert_int_equal(r->transports, FA_TR_TCP | FA_TR_UDP);
    assert_int_equal(r->requirement, FA_REQ_CONDITIONAL);
    assert_int_equal(r->feature, radius);
    assert_int_equal(r->phases, FA_PHASE_OPERATION | FA_PHASE_INTERVENTION);
    assert_string_equal(r->note,
                        "The table says 'UDP/TCP 88': either transport satisfies the row.");
    assert_int_equal(r->line, 22);
}

static void test_example_from_string(void **state)
{
    (void)state;
    char err[ERRLEN] = "";
    fa_ruleset *rs = fa_rules_new();
    assert_non_null(rs);
    assert_int_equal(fa_rules_load_string(rs, "mem.rules", example, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(rs->nproducts, 1);
    assert_int_equal(rs->nroles, 3);
    assert_int_equal(rs->nfeatures, 1);
    assert_int_equal(rs->nrules, 3);
    check_hyworks(rs, "mem.rules");
    fa_rules_free(rs);
}

/* A UTF-8 byte-order mark opens the file only: elsewhere it is text that
 * is no keyword. */
static void test_byte_order_mark(void **state)
{
    (void)state;
    char err[ERRLEN] = "", text[4096];
    fa_ruleset *rs = fa_rules_new();
    assert_non_null(rs);
    int n = snprintf(text, sizeof text, "\xEF\xBB\xBF%s", example);
    assert_true(n > 0 && (size_t)n < sizeof text);
    if (fa_rules_load_string(rs, "bom.rules", text, err, sizeof err) != 0)
        fail_msg("%s", err);
    check_hyworks(rs, "bom.rules");
    fa_rules_free(rs);
    rs = fa_rules_new();
    assert_non_null(rs);
    snprintf(text, sizeof text, "# comment\n\xEF\xBB\xBF%s", example);
    assert_int_equal(fa_rules_load_string(rs, "mid.rules", text, err, sizeof err), -1);
    assert_non_null(strstr(err, "mid.rules:2: "));
    fa_rules_free(rs);
}

static void test_example_from_file(void **state)
{
    (void)state;
    char err[ERRLEN] = "", path[1024];
    data_path(path, sizeof path, "good/10-hyworks.rules");
    fa_ruleset *rs = fa_rules_new();
    if (fa_rules_load_file(rs, path, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(rs->nrules, 3);
    check_hyworks(rs, path);
    fa_rules_free(rs);
}

static void test_second_example(void **state)
{
    (void)state;
    char err[ERRLEN] = "";
    fa_ruleset *rs = fa_rules_new();
    int rc = fa_rules_load_string(rs, "a.rules", example, err, sizeof err);
    assert_int_equal(rc, 0);
    rc = fa_rules_load_string(rs, "b.rules", example2, err, sizeof err);
    assert_int_equal(rc, -1);
    assert_string_equal(err, "b.rules:21: bad port set '1024-5000,8080,*9': not a port number");
    assert_int_equal(rs->nproducts, 1);

    /* The same text without its last (broken) rule. */
    char *text = strdup(example2);
    *strstr(text, "rule PCO-005") = '\0';
    rc = fa_rules_load_string(rs, "b.rules", text, err, sizeof err);
    free(text);
    if (rc != 0)
        fail_msg("%s", err);
    assert_int_equal(rs->nproducts, 2);
    assert_int_equal(rs->nrules, 7);
    int agent = fa_rules_find_role(rs, 1, "agent");
    assert_string_equal(rs->roles[agent].description, "PCoIP agent");
    assert_int_equal(fa_rules_find_role(rs, 0, "agent"), -1);

    const fa_rule *r = rule(rs, "PCO-001");
    assert_int_equal(r->product, 1);
    assert_int_equal(r->transports, FA_TR_UDP);
    assert_false(r->sports.any);
    assert_true(fa_portset_contains(&r->sports, 55000));
    assert_false(fa_portset_contains(&r->sports, 55001));
    assert_false(r->websocket);
    assert_false(r->longlived);
    assert_string_equal(r->file, "b.rules");
    assert_int_equal(r->line, 4);

    r = rule(rs, "PCO-002");
    assert_string_equal(r->purpose, "Session broker WebSocket");
    assert_true(r->websocket);
    assert_true(r->longlived);
    assert_int_equal(r->requirement, FA_REQ_OPTIONAL);

    r = rule(rs, "PCO-003");
    assert_int_equal(r->transports, FA_TR_PROTO);
    assert_int_equal(r->nprotos, 1);
    assert_int_equal(r->protos[0], 112);
    assert_true(fa_portset_is_empty(&r->dports));
    assert_false(r->observable);
    assert_string_equal(r->unobservable_reason, "multicast on the local segment");

    r = rule(rs, "PCO-004");
    assert_int_equal(r->from_role, FA_ROLE_ANY);
    assert_int_equal(r->to_role, FA_ROLE_ANY);
    assert_int_equal(r->transports, FA_TR_ICMP | FA_TR_ICMP6 | FA_TR_PROTO);
    assert_int_equal(r->nprotos, 2);
    assert_int_equal(r->protos[1], 51);
    assert_string_equal(r->purpose, "Contr\xc3\xb4le # not a comment");
    assert_string_equal(r->note, "say \"hi\" \\ ok");
    assert_int_equal(r->phases,
                     FA_PHASE_INSTALLATION | FA_PHASE_OPERATION | FA_PHASE_INTERVENTION);
    assert_true(r->longlived);
    assert_false(r->websocket);
    assert_true(r->observable);
    assert_int_equal(r->line, 15);
    fa_rules_free(rs);
}

static void test_load_dir(void **state)
{
    (void)state;
    char err[ERRLEN] = "", dir[1024], path[1024];
    data_path(dir, sizeof dir, "good");
    fa_ruleset *rs = fa_rules_new();
    if (fa_rules_load_dir(rs, dir, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(rs->nproducts, 2);
    assert_string_equal(rs->products[0].id, "hyworks");
    assert_string_equal(rs->products[1].id, "pcoip");
    assert_int_equal(fa_rules_find_product(rs, "hidden"), -1);
    assert_int_equal(rs->nrules, 6);
    data_path(path, sizeof path, "good/10-hyworks.rules");
    check_hyworks(rs, path);
    data_path(path, sizeof path, "good/20-pcoip.rules");
    assert_string_equal(rule(rs, "PCO-003")->file, path);
    assert_int_equal(rule(rs, "PCO-003")->line, 16);
    assert_int_equal(rule(rs, "PCO-003")->protos[0], 112);

    /* Loading the same directory again collides on every product. */
    char *before = dump(rs);
    assert_int_equal(fa_rules_load_dir(rs, dir, err, sizeof err), -1);
    char expect[ERRLEN];
    snprintf(expect, sizeof expect, "%s/10-hyworks.rules:2: duplicate product 'hyworks' "
             "(already loaded from %s/10-hyworks.rules)", dir, dir);
    assert_string_equal(err, expect);
    char *after = dump(rs);
    assert_string_equal(before, after);
    free(before);
    free(after);
    fa_rules_free(rs);
}

static void test_load_dir_all_or_nothing(void **state)
{
    (void)state;
    char err[ERRLEN] = "", dir[1024], expect[ERRLEN];
    fa_ruleset *rs = fa_rules_new();
    assert_int_equal(fa_rules_load_string(rs, "mem.rules", example, err, sizeof err), 0);
    char *before = dump(rs);

    data_path(dir, sizeof dir, "bad");
    assert_int_equal(fa_rules_load_dir(rs, dir, err, sizeof err), -1);
    snprintf(expect, sizeof expect,
             "%s/20-broken.rules:7: bad port set '0': port 0 is not allowed", dir);
    assert_string_equal(err, expect);
    assert_int_equal(rs->nproducts, 1);
    assert_int_equal(rs->nrules, 3);
    assert_int_equal(fa_rules_find_product(rs, "okprod"), -1);
    assert_int_equal(fa_rules_find_rule(rs, "OK-001"), -1);
    char *after = dump(rs);
    assert_string_equal(before, after);

    /* The ruleset still works: the good file of that directory loads. */
    char path[1024];
    data_path(path, sizeof path, "bad/10-ok.rules");
    assert_int_equal(fa_rules_load_file(rs, path, err, sizeof err), 0);
    assert_int_equal(rs->nproducts, 2);
    assert_int_equal(rule(rs, "OK-001")->line, 3);
    free(before);
    free(after);
    fa_rules_free(rs);
}

static void test_file_errors(void **state)
{
    (void)state;
    char err[ERRLEN], path[1024], expect[ERRLEN];
    fa_ruleset *rs = fa_rules_new();

    data_path(path, sizeof path, "nosuch.rules");
    assert_int_equal(fa_rules_load_file(rs, path, err, sizeof err), -1);
    snprintf(expect, sizeof expect, "%s: No such file or directory", path);
    assert_string_equal(err, expect);

    data_path(path, sizeof path, "good");
    assert_int_equal(fa_rules_load_file(rs, path, err, sizeof err), -1);
    snprintf(expect, sizeof expect, "%s: not a regular file", path);
    assert_string_equal(err, expect);

    data_path(path, sizeof path, "");
    assert_int_equal(fa_rules_load_dir(rs, path, err, sizeof err), -1);
    snprintf(expect, sizeof expect, "%s: no .rules files", path);
    assert_string_equal(err, expect);

    data_path(path, sizeof path, "nosuchdir");
    assert_int_equal(fa_rules_load_dir(rs, path, err, sizeof err), -1);
    snprintf(expect, sizeof expect, "%s: No such file or directory", path);
    assert_string_equal(err, expect);

    /* A NUL byte in a file is refused, not taken as the end of the text. */
    char tmp[] = "/tmp/test_rules_XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    static const char nul[] = "product p \"P\"\n# comment\nrole a \"A\0\"\n";
    assert_int_equal(write(fd, nul, sizeof nul - 1), (ssize_t)(sizeof nul - 1));
    close(fd);
    assert_int_equal(fa_rules_load_file(rs, tmp, err, sizeof err), -1);
    snprintf(expect, sizeof expect, "%s:3: control character 0x00", tmp);
    assert_string_equal(err, expect);

    /* Size limit of a file: 16 MiB is read (and fails on its content), one
     * byte more is refused before parsing. */
    assert_int_equal(truncate(tmp, 16 * 1024 * 1024), 0);
    assert_int_equal(fa_rules_load_file(rs, tmp, err, sizeof err), -1);
    snprintf(expect, sizeof expect, "%s:3: control character 0x00", tmp);
    assert_string_equal(err, expect);
    assert_int_equal(truncate(tmp, 16 * 1024 * 1024 + 1), 0);
    assert_int_equal(fa_rules_load_file(rs, tmp, err, sizeof err), -1);
    snprintf(expect, sizeof expect, "%s: file too large (limit 16777216 bytes)", tmp);
    assert_string_equal(err, expect);
    unlink(tmp);
    assert_int_equal(rs->nproducts, 0);
    fa_rules_free(rs);
}

#define HDR "product p \"P\"\nrole a \"A\"\nrole b \"B\"\nfeature f \"F\"\n"
#define RULE "rule R-1 a -> b tcp 443\n"
#define PURPOSE "    purpose \"x\"\n"

typedef struct err_case {
    const char *text;
    const char *message;
} err_case;

static const err_case err_cases[] = {
    /* lexical */
    {"product p \"P\n", "t.rules:1: unterminated quoted text"},
    {"product p \"P\\\n", "t.rules:1: unterminated quoted text"},
    {"product p \"P\\n\"\n", "t.rules:1: bad escape in quoted text (only \\\" and \\\\)"},
    {"product p \"P\"x\n", "t.rules:1: text right after a closing quote"},
    {"product p P\"x\"\n", "t.rules:1: quote inside a word"},
    {"product p \"P\"\n\n# c\nrole a \"A\x01\"\n", "t.rules:4: control character 0x01"},
    {"product p \"P\"\nrole a \"A\x7f\"\n", "t.rules:2: control character 0x7f"},
    {"product p \"P\"\nrole a \"A\xc3\"\n", "t.rules:2: invalid UTF-8"},
    {"product p \"P\"\nrole a \"\xc0\xaf\"\n", "t.rules:2: invalid UTF-8"},
    {"product p \"P\"\nrole a \"\xed\xa0\x80\"\n", "t.rules:2: invalid UTF-8"},
    {"product p \"P\"\nrole a \"\xf4\x90\x80\x80\"\n", "t.rules:2: invalid UTF-8"},
    {"product p \"P\"\nrole a \"\xff\"\n", "t.rules:2: invalid UTF-8"},
    {"product p \"P\"\nrole a\r\r\n", "t.rules:2: control character 0x0d"},
    /* identifiers */
    {"product p \"P\"\nrole abbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb \"A\"\n",
     "t.rules:2: role id too long (limit 47 characters)"},
    {"product p \"P\"\nrole _a \"A\"\n", "t.rules:2: bad role id '_a'"},
    {"product p \"P\"\nrole a/b \"A\"\n", "t.rules:2: bad role id 'a/b'"},
    {"product p \"P\"\nrole \"\" \"A\"\n", "t.rules:2: empty role id"},
    {"product p! \"P\"\n", "t.rules:1: bad product id 'p!'"},
    {HDR "rule R:1 a -> b tcp 443\n", "t.rules:5: bad rule id 'R:1'"},
    {HDR "feature f.x! \"F\"\n", "t.rules:5: bad feature id 'f.x!'"},
    /* statements */
    {"product p \"P\"\nproduct q \"Q\"\n", "t.rules:2: repeated 'product' statement"},
    {"product p.q \"P\"\n", "t.rules:1: product id 'p.q' must not contain '.'"},
    {"product base \"Again\"\n",
     "t.rules:1: duplicate product 'base' (already loaded from base.rules)"},
    {"product p \"\"\n", "t.rules:1: empty product name"},
    {"product p\n", "t.rules:1: usage: product ID \"name\""},
    {"product p \"P\" extra\n", "t.rules:1: usage: product ID \"name\""},
    {"product p \"P\"\nsource \"S\"\nsource \"T\"\n", "t.rules:3: repeated 'source' statement"},
    {"product p \"P\"\nsource \"\"\n", "t.rules:2: empty source"},
    {"product p \"P\"\nsource\n", "t.rules:2: usage: source \"text\""},
    {"product p \"P\"\nrole any \"Any\"\n", "t.rules:2: role id 'any' is reserved"},
    {HDR "role a \"Again\"\n", "t.rules:5: duplicate role 'a'"},
    {HDR "role c \"\"\n", "t.rules:5: empty role description"},
    {HDR "role c\n", "t.rules:5: usage: role ID \"description\""},
    {HDR "feature f \"Again\"\n", "t.rules:5: duplicate feature 'f'"},
    {HDR "feature g \"\"\n", "t.rules:5: empty feature description"},
    {HDR "feature g \"G\" x\n", "t.rules:5: usage: feature ID \"description\""},
    {"role a \"A\"\n", "t.rules:1: 'product' must be the first statement"},
    {"# nothing\n\nrule R-1 a -> b tcp 443\n", "t.rules:3: 'product' must be the first statement"},
    {"", "t.rules:1: no 'product' statement"},
    {"# only\n# comments\n\n", "t.rules:3: no 'product' statement"},
    {HDR "rul R-1 a -> b tcp 443\n", "t.rules:5: unknown keyword 'rul'"},
    {HDR "port R-1 80\n", "t.rules:5: unknown keyword 'port'"},
    {HDR "purpose \"x\"\n", "t.rules:5: attribute 'purpose' must be indented under a rule"},
    {HDR "  role c \"C\"\n", "t.rules:5: 'role' must start in column 1"},
    /* rule line */
    {HDR "rule R-1 a => b tcp 443\n", "t.rules:5: usage: rule ID FROM -> TO TRANSPORT PORTS"},
    {HDR "rule R-1 a -> b tcp\n", "t.rules:5: usage: rule ID FROM -> TO TRANSPORT PORTS"},
    {HDR "rule R-1 a -> b tcp 443 x\n",
     "t.rules:5: usage: rule ID FROM -> TO TRANSPORT PORTS"},
    {HDR "rule R-1 a -> c tcp 443\n", "t.rules:5: undefined role 'c'"},
    {HDR "rule R-1 r -> b tcp 443\n", "t.rules:5: undefined role 'r'"},
    {HDR "rule R-1 a -> b sctp 443\n",
     "t.rules:5: unknown transport 'sctp' (tcp, udp, icmp, icmp6 or proto:N)"},
    {HDR "rule R-1 a -> b TCP 443\n",
     "t.rules:5: unknown transport 'TCP' (tcp, udp, icmp, icmp6 or proto:N)"},
    {HDR "rule R-1 a -> b tcp,,udp 443\n", "t.rules:5: empty item in transport list"},
    {HDR "rule R-1 a -> b tcp, 443\n", "t.rules:5: empty item in transport list"},
    {HDR "rule R-1 a -> b tcp,tcp 443\n", "t.rules:5: duplicate transport 'tcp'"},
    {HDR "rule R-1 a -> b proto:112,proto:112 -\n",
     "t.rules:5: duplicate transport 'proto:112'"},
    {HDR "rule R-1 a -> b proto:256 -\n", "t.rules:5: bad protocol number in 'proto:256' (0-255)"},
    {HDR "rule R-1 a -> b proto:1234 -\n",
     "t.rules:5: bad protocol number in 'proto:1234' (0-255)"},
    {HDR "rule R-1 a -> b proto:1x -\n", "t.rules:5: bad protocol number in 'proto:1x' (0-255)"},
    {HDR "rule R-1 a -> b proto: -\n",
     "t.rules:5: unknown transport 'proto:' (tcp, udp, icmp, icmp6 or proto:N)"},
    {HDR "rule R-1 a -> b proto:6 443\n", "t.rules:5: write 'tcp' instead of 'proto:6'"},
    {HDR "rule R-1 a -> b proto:017 -\n", "t.rules:5: write 'udp' instead of 'proto:017'"},
    {HDR "rule R-1 a -> b proto:58 -\n", "t.rules:5: write 'icmp6' instead of 'proto:58'"},
    {HDR "rule R-1 a -> b proto:2,proto:3,proto:4,proto:5,proto:7 -\n",
     "t.rules:5: too many proto:N transports (limit 4)"},
    {HDR "rule R-1 a -> b tcp 0\n", "t.rules:5: bad port set '0': port 0 is not allowed"},
    {HDR "rule R-1 a -> b tcp 65536\n",
     "t.rules:5: bad port set '65536': port out of range (1-65535)"},
    {HDR "rule R-1 a -> b tcp 500-400\n",
     "t.rules:5: bad port set '500-400': range has its low end above its high end"},
    {HDR "rule R-1 a -> b tcp https\n", "t.rules:5: bad port set 'https': not a port number"},
    {HDR "rule R-1 a -> b tcp 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,"
         "25,26,27,28,29,30,31,32,33\n",
     "t.rules:5: bad port set '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,"
     "25,26,27,28,29,30,31,32,33': too many items (limit 32)"},
    {HDR "rule R-1 a -> b tcp -\n", "t.rules:5: ports '-' are not valid with tcp or udp"},
    {HDR "rule R-1 a -> b icmp,udp -\n", "t.rules:5: ports '-' are not valid with tcp or udp"},
    {HDR "rule R-1 a -> b icmp 8\n",
     "t.rules:5: icmp, icmp6 and proto:N rules take '-' as ports"},
    {HDR "rule R-1 a -> b proto:112 *\n",
     "t.rules:5: icmp, icmp6 and proto:N rules take '-' as ports"},
    {HDR RULE PURPOSE "rule R-1 b -> a udp 53\n",
     "t.rules:7: duplicate rule 'R-1' (first defined at t.rules:5)"},
    {HDR "rule BASE-001 a -> b tcp 22\n",
     "t.rules:5: duplicate rule 'BASE-001' (first defined at base.rules:3)"},
    /* attributes */
    {HDR "    purpose \"x\"\n", "t.rules:5: attribute 'purpose' outside a rule"},
    {"product p \"P\"\n  phase operation\n", "t.rules:2: attribute 'phase' outside a rule"},
    {HDR RULE PURPOSE "role c \"C\"\n    note \"n\"\n",
     "t.rules:8: attribute 'note' outside a rule"},
    {HDR RULE "    colour blue\n", "t.rules:6: unknown attribute 'colour'"},
    {HDR RULE "    rule R-2 a -> b tcp 443\n", "t.rules:6: 'rule' must start in column 1"},
    {HDR RULE PURPOSE "\n    # c\n    purpose \"y\"\n",
     "t.rules:9: repeated attribute 'purpose'"},
    {HDR RULE PURPOSE "    phase operation\n    phase operation\n",
     "t.rules:8: repeated attribute 'phase'"},
    {HDR RULE "    impact \"i\"\n\nrule R-2 a -> b tcp 80\n" PURPOSE,
     "t.rules:5: rule 'R-1' has no purpose"},
    {HDR RULE PURPOSE "rule R-2 a -> b tcp 80\n    note \"n\"\n",
     "t.rules:7: rule 'R-2' has no purpose"},
    {HDR RULE "    purpose \"\"\n", "t.rules:6: empty purpose"},
    {HDR RULE "    purpose\n", "t.rules:6: usage: purpose \"text\""},
    {HDR RULE "    purpose two words\n", "t.rules:6: usage: purpose \"text\""},
    {HDR RULE PURPOSE "    impact \"\"\n", "t.rules:7: empty impact"},
    {HDR RULE PURPOSE "    note \"\"\n", "t.rules:7: empty note"},
    {HDR RULE PURPOSE "    requirement sometimes\n",
     "t.rules:7: usage: requirement required|optional|if FEATURE"},
    {HDR RULE PURPOSE "    requirement if\n",
     "t.rules:7: usage: requirement required|optional|if FEATURE"},
    {HDR RULE PURPOSE "    requirement required f\n",
     "t.rules:7: usage: requirement required|optional|if FEATURE"},
    {HDR RULE PURPOSE "    requirement if g\n", "t.rules:7: undefined feature 'g'"},
    {HDR RULE PURPOSE "    requirement if f x\n",
     "t.rules:7: usage: requirement required|optional|if FEATURE"},
    {HDR RULE PURPOSE "    phase running\n",
     "t.rules:7: unknown phase 'running' (installation, operation or intervention)"},
    {HDR RULE PURPOSE "    phase operation,\n", "t.rules:7: empty item in phase list"},
    {HDR RULE PURPOSE "    phase operation,installation,operation\n",
     "t.rules:7: duplicate phase 'operation'"},
    {HDR RULE PURPOSE "    customizable maybe\n", "t.rules:7: usage: customizable yes|no"},
    {HDR RULE PURPOSE "    websocket true\n", "t.rules:7: usage: websocket yes|no"},
    {HDR RULE PURPOSE "    longlived 1\n", "t.rules:7: usage: longlived yes|no"},
    {HDR RULE PURPOSE "    longlived no\n    websocket yes\n",
     "t.rules:8: websocket yes contradicts longlived no"},
    {HDR RULE PURPOSE "    websocket yes\n    longlived no\n",
     "t.rules:8: longlived no contradicts websocket yes"},
    {HDR "rule R-1 a -> b icmp -\n" PURPOSE "    sport 1000\n",
     "t.rules:7: sport needs tcp or udp"},
    {HDR RULE PURPOSE "    oneway yes\n", "t.rules:7: oneway needs udp or proto:N only"},
    {HDR RULE PURPOSE "    oneway maybe\n", "t.rules:7: usage: oneway yes|no"},
    {HDR RULE PURPOSE "    sport -\n", "t.rules:7: sport '-' is not valid with tcp or udp"},
    {HDR RULE PURPOSE "    sport 0\n", "t.rules:7: bad port set '0': port 0 is not allowed"},
    {HDR RULE PURPOSE "    sport 1 2\n", "t.rules:7: usage: sport PORTS"},
    {HDR RULE PURPOSE "    observable no\n",
     "t.rules:7: usage: observable yes|no \"reason\""},
    {HDR RULE PURPOSE "    observable yes \"why\"\n",
     "t.rules:7: usage: observable yes|no \"reason\""},
    {HDR RULE PURPOSE "    observable no \"\"\n", "t.rules:7: empty observable reason"},
    {HDR RULE PURPOSE "    phase a b\n", "t.rules:7: usage: phase PHASE[,PHASE...]"},
    {HDR RULE PURPOSE "    any-of yes\n", "t.rules:7: any-of needs tcp or udp and more than one port"},
    {HDR "rule R-1 a -> b tcp *\n" PURPOSE "    any-of yes\n",
     "t.rules:7: any-of needs tcp or udp and more than one port"},
    {HDR "rule R-1 a -> b icmp -\n" PURPOSE "    any-of yes\n",
     "t.rules:7: any-of needs tcp or udp and more than one port"},
    {HDR "rule R-1 a -> b tcp 80,443\n" PURPOSE "    any-of 1\n", "t.rules:7: usage: any-of yes|no"},
    {HDR "group g a\n", "t.rules:5: group 'g' is not a declared role"},
    {HDR "group a b\ngroup a b\n", "t.rules:6: group 'a' defined twice"},
    {HDR "group a b c\n", "t.rules:5: unknown role 'c'"},
    {HDR "group a a\n", "t.rules:5: member 'a' is a group"},
    {HDR "role c \"C\"\ngroup a b\ngroup c a\n", "t.rules:7: member 'a' is a group"},
    {HDR "role c \"C\"\ngroup a b\ngroup b c\n", "t.rules:7: 'b' is a member of a group and cannot be one"},
    {HDR "role c \"C\"\ngroup a b b\n", "t.rules:6: member 'b' listed twice"},
    {HDR "group a\n", "t.rules:5: usage: group ROLE MEMBER..."},
};

static void test_error_messages(void **state)
{
    (void)state;
    char err[ERRLEN];
    fa_ruleset *rs = fa_rules_new();
    int rc = fa_rules_load_string(rs, "base.rules",
                                  "product base \"Base\"\nrole r \"R\"\n"
                                  "rule BASE-001 r -> r tcp 22\n    purpose \"ssh\"\n",
                                  err, sizeof err);
    assert_int_equal(rc, 0);
    char *before = dump(rs);
    for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
        const err_case *c = &err_cases[i];
        strcpy(err, "untouched");
        rc = fa_rules_load_string(rs, "t.rules", c->text, err, sizeof err);
        if (rc != -1 || strcmp(err, c->message) != 0)
            fail_msg("case %zu: rc %d, got \"%s\", want \"%s\"", i, rc, err, c->message);
        char *after = dump(rs);
        if (strcmp(before, after) != 0)
            fail_msg("case %zu changed the ruleset", i);
        free(after);
    }
    assert_int_equal(rs->nproducts, 1);
    assert_int_equal(rs->nrules, 1);
    assert_int_equal(rs->nroles, 1);
    free(before);
    fa_rules_free(rs);
}

/* Each error case with its failing line removed must load: the cases fail
 * for the reason they claim and not on a neighbouring line. */
static void test_error_cases_are_minimal(void **state)
{
    (void)state;
    static const char *const fixed[] = {
        HDR RULE PURPOSE "    requirement if f\n",
        HDR RULE PURPOSE "role abbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb \"47 chars\"\n",
        HDR RULE PURPOSE "    websocket yes\n    longlived yes\n",
        HDR "rule R-1 a -> b proto:2,proto:3,proto:4,proto:5 -\n" PURPOSE,
        HDR "rule R-1 a -> b tcp 1-65535\n" PURPOSE "    sport 1,2,3\n",
        HDR "rule R-1 a -> b icmp6 -\n" PURPOSE "    observable no \"why\"\n",
        HDR "rule R-1 a -> b proto:0 -\n" PURPOSE "    phase intervention,installation\n",
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        char err[ERRLEN] = "";
        fa_ruleset *rs = fa_rules_new();
        if (fa_rules_load_string(rs, "t.rules", fixed[i], err, sizeof err) != 0)
            fail_msg("case %zu: %s", i, err);
        assert_int_equal(rs->nrules, 1);
        fa_rules_free(rs);
    }
}

/* Builds a text of n repeated chunks made by fmt(i), after a header. */
static char *repeat(const char *head, const char *fmt, int n)
{
    size_t cap = strlen(head) + (size_t)n * (strlen(fmt) + 16) + 1, used;
    char *buf = malloc(cap);
    assert_non_null(buf);
    used = (size_t)snprintf(buf, cap, "%s", head);
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf(buf + used, cap - used, fmt, i, i);
    return buf;
}

static void expect_limit(const char *text, const char *message)
{
    char err[ERRLEN];
    fa_ruleset *rs = fa_rules_new();
    assert_int_equal(fa_rules_load_string(rs, "t.rules", text, err, sizeof err), -1);
    assert_string_equal(err, message);
    assert_int_equal(rs->nproducts, 0);
    assert_int_equal(rs->nrules, 0);
    assert_int_equal(rs->nroles, 0);
    fa_rules_free(rs);
}

static void expect_ok(const char *text)
{
    char err[ERRLEN] = "";
    fa_ruleset *rs = fa_rules_new();
    if (fa_rules_load_string(rs, "t.rules", text, err, sizeof err) != 0)
        fail_msg("%s", err);
    fa_rules_free(rs);
}

static void test_limits(void **state)
{
    (void)state;
    char *text = repeat("product p \"P\"\nrole a \"A\"\n",
                        "rule R-%d a -> a tcp 1\n    purpose \"p%d\"\n", FA_MAX_RULES);
    expect_ok(text);
    free(text);
    text = repeat("product p \"P\"\nrole a \"A\"\n",
                  "rule R-%d a -> a tcp 1\n    purpose \"p%d\"\n", FA_MAX_RULES + 1);
    expect_limit(text, "t.rules:8195: too many rules (limit 4096)");
    free(text);

    text = repeat("product p \"P\"\n", "role r%d \"R%d\"\n", FA_MAX_ROLES);
    expect_ok(text);
    free(text);
    text = repeat("product p \"P\"\n", "role r%d \"R%d\"\n", FA_MAX_ROLES + 1);
    expect_limit(text, "t.rules:1026: too many roles (limit 1024)");
    free(text);

    text = repeat("product p \"P\"\n", "feature f%d \"F%d\"\n", FA_MAX_FEATURES + 1);
    expect_limit(text, "t.rules:258: too many features (limit 256)");
    free(text);

    /* A huge file of repeated rules stops at the limit, not at the end. */
    text = repeat("product p \"P\"\nrole a \"A\"\n",
                  "rule R-%d a -> a tcp 1\n    purpose \"p%d\"\n", 100000);
    expect_limit(text, "t.rules:8195: too many rules (limit 4096)");
    free(text);
}

static void test_product_limit(void **state)
{
    (void)state;
    char err[ERRLEN], text[64];
    fa_ruleset *rs = fa_rules_new();
    for (int i = 0; i < FA_MAX_PRODUCTS; i++) {
        snprintf(text, sizeof text, "product p%d \"P\"\n", i);
        assert_int_equal(fa_rules_load_string(rs, "t.rules", text, err, sizeof err), 0);
    }
    assert_int_equal(fa_rules_load_string(rs, "t.rules", "product last \"P\"\n", err,
                                          sizeof err), -1);
    assert_string_equal(err, "t.rules:1: too many products (limit 32)");
    assert_int_equal(rs->nproducts, FA_MAX_PRODUCTS);
    fa_rules_free(rs);
}

static void test_line_length(void **state)
{
    (void)state;
    char *text = malloc(FA_ID_MAX + 8200);
    assert_non_null(text);
    /* "product p \"" is 11 bytes, the closing quote 1: 4095 in all. */
    int n = sprintf(text, "# c\r\nproduct p \"");
    memset(text + n, 'x', 4095 - 12);
    strcpy(text + n + 4095 - 12, "\"\r\n");
    expect_ok(text);
    memset(text + n, 'x', 4096 - 12);
    strcpy(text + n + 4096 - 12, "\"\n");
    expect_limit(text, "t.rules:2: line too long (limit 4095 bytes)");
    free(text);

    size_t big = 16u * 1024 * 1024 + 1;
    text = malloc(big + 1);
    assert_non_null(text);
    memset(text, '\n', big);
    text[big] = '\0';
    expect_limit(text, "t.rules: file too large (limit 16777216 bytes)");
    memcpy(text, "#", 1);
    text[big - 1] = '\0';
    expect_limit(text, "t.rules:16777215: no 'product' statement");
    free(text);
}

static void test_names(void **state)
{
    (void)state;
    char err[ERRLEN], buf[128];
    fa_ruleset *rs = fa_rules_new();
    char *text = strdup(example2);
    *strstr(text, "rule PCO-005") = '\0';
    assert_int_equal(fa_rules_load_string(rs, "b.rules", text, err, sizeof err), 0);
    free(text);
    assert_int_equal(fa_rules_load_string(rs, "a.rules", example, err, sizeof err), 0);

    assert_string_equal(fa_rule_transport_str(rule(rs, "PCO-004"), buf, sizeof buf),
                        "icmp,icmp6,proto:50,proto:51");
    assert_string_equal(fa_rule_transport_str(rule(rs, "HYW-040"), buf, sizeof buf), "tcp,udp");
    assert_string_equal(fa_rule_transport_str(rule(rs, "HYW-040"), buf, 4), "tcp");
    assert_string_equal(fa_requirement_str(FA_REQ_REQUIRED), "required");
    assert_string_equal(fa_requirement_str(FA_REQ_OPTIONAL), "optional");
    assert_string_equal(fa_requirement_str(FA_REQ_CONDITIONAL), "conditional");
    assert_string_equal(fa_phase_str(FA_PHASE_OPERATION | FA_PHASE_INTERVENTION, buf,
                                     sizeof buf), "operation,intervention");
    assert_string_equal(fa_phase_str(FA_PHASE_INSTALLATION, buf, sizeof buf), "installation");
    assert_string_equal(fa_phase_str(0, buf, sizeof buf), "");
    const fa_rule *r = rule(rs, "HYW-001");
    assert_string_equal(fa_rule_role_id(rs, r->from_role), "mgmt1");
    assert_string_equal(fa_rule_role_id(rs, FA_ROLE_ANY), "any");
    assert_string_equal(fa_rule_role_id(rs, rs->nroles), "any");
    fa_rules_free(rs);
}

static void test_print_json(void **state)
{
    (void)state;
    static const char *const fields[] = {
        "id", "product", "from", "to", "transport", "ports", "src_ports", "requirement",
        "phase", "websocket", "longlived", "observable", "purpose", "impact", "customizable",
        "feature", "note", "file", "line", "any_of", "from_members", "to_members",
    };
    char err[ERRLEN], *out = NULL;
    size_t outlen = 0;
    fa_ruleset *rs = fa_rules_new();
    assert_int_equal(fa_rules_load_string(rs, "a.rules", example, err, sizeof err), 0);
    FILE *f = open_memstream(&out, &outlen);
    assert_int_equal(fa_rules_print_json(rs, f), 0);
    fclose(f);

    int lines = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        if (!o)
            fail_msg("line %d is not JSON: %s", lines, jerr.text);
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            if (!json_object_get(o, fields[i]))
                fail_msg("line %d has no '%s'", lines, fields[i]);
        }
        const fa_rule *r = &rs->rules[lines];
        assert_string_equal(json_string_value(json_object_get(o, "id")), r->id);
        assert_string_equal(json_string_value(json_object_get(o, "product")), "hyworks");
        assert_string_equal(json_string_value(json_object_get(o, "file")), "a.rules");
        assert_int_equal(json_integer_value(json_object_get(o, "line")), r->line);
        if (lines == 0) {
            assert_string_equal(json_string_value(json_object_get(o, "from")), "mgmt1");
            assert_string_equal(json_string_value(json_object_get(o, "to")), "session");
            assert_string_equal(json_string_value(json_object_get(o, "transport")), "tcp");
            assert_string_equal(json_string_value(json_object_get(o, "ports")), "38866");
            assert_string_equal(json_string_value(json_object_get(o, "src_ports")), "*");
            assert_string_equal(json_string_value(json_object_get(o, "requirement")),
                                "required");
            assert_true(json_is_null(json_object_get(o, "feature")));
            assert_true(json_is_null(json_object_get(o, "note")));
            assert_string_equal(json_string_value(json_object_get(o, "impact")),
                                "Cluster and high availability will not work");
            assert_true(json_is_false(json_object_get(o, "customizable")));
            assert_true(json_is_true(json_object_get(o, "observable")));
        } else if (lines == 2) {
            assert_string_equal(json_string_value(json_object_get(o, "transport")), "tcp,udp");
            assert_string_equal(json_string_value(json_object_get(o, "requirement")),
                                "conditional");
            assert_string_equal(json_string_value(json_object_get(o, "feature")), "radius");
            assert_string_equal(json_string_value(json_object_get(o, "phase")),
                                "operation,intervention");
            assert_string_equal(json_string_value(json_object_get(o, "note")),
                                "The table says 'UDP/TCP 88': either transport satisfies "
                                "the row.");
        }
        json_decref(o);
    }
    assert_int_equal(lines, 3);
    free(out);
    fa_rules_free(rs);
}

static void test_print_text(void **state)
{
    (void)state;
    char err[ERRLEN], *out = NULL;
    size_t outlen = 0;
    fa_ruleset *rs = fa_rules_new();
    assert_int_equal(fa_rules_load_string(rs, "a.rules", example, err, sizeof err), 0);
    FILE *f = open_memstream(&out, &outlen);
    assert_int_equal(fa_rules_print_text(rs, f), 0);
    fclose(f);
    const char *expect =
        "ID       PRODUCT  FROM     TO       TRANSPORT  PORTS     SPORTS  REQUIREMENT  "
        "PHASE                   FLAGS  PURPOSE\n"
        "HYW-001  hyworks  mgmt1    session  tcp        38866     *       required     "
        "operation               -      Clustering\n"
        "HYW-010  hyworks  any      session  tcp        443,8443  *       required     "
        "operation               C      Web console\n"
        "HYW-040  hyworks  session  dc       tcp,udp    88        *       if radius    "
        "operation,intervention  -      Kerberos authentication\n"
        "FLAGS: C customizable port, W WebSocket, L long-lived, U not observable, "
        "A any one port satisfies the rule\n";
    assert_string_equal(out, expect);
    free(out);
    fa_rules_free(rs);
}

/* any-of and group membership are part of what a rule means: both printers
 * must show them, or a reader of --list-rules misjudges the row. */
static void test_print_groups_any_of(void **state)
{
    (void)state;
    static const char text[] =
        "product p \"P\"\n"
        "role a \"A\"\n"
        "role b \"B\"\n"
        "role ab \"A or B\"\n"
        "group ab a b\n"
        "rule P-1 ab -> b tcp 80,443\n"
        "    purpose \"Web\"\n"
        "    any-of yes\n"
        "rule P-2 a -> b tcp 22\n"
        "    purpose \"SSH\"\n";
    char err[ERRLEN], *out = NULL;
    size_t outlen = 0;
    fa_ruleset *rs = fa_rules_new();
    assert_int_equal(fa_rules_load_string(rs, "g.rules", text, err, sizeof err), 0);

    FILE *f = open_memstream(&out, &outlen);
    assert_int_equal(fa_rules_print_text(rs, f), 0);
    fclose(f);
    assert_non_null(strstr(out, "\nP-1  p        ab    b   tcp        80,443  *       "
                                "required     operation  A      Web\n"));
    assert_non_null(strstr(out, "\nP-2  p        a     b   tcp        22      *       "
                                "required     operation  -      SSH\n"));
    assert_non_null(strstr(out, "A any one port satisfies the rule\nGROUP ab: a b\n"));
    free(out);

    out = NULL;
    f = open_memstream(&out, &outlen);
    assert_int_equal(fa_rules_print_json(rs, f), 0);
    fclose(f);
    char *second = strchr(out, '\n');
    assert_non_null(second);
    *second++ = '\0';
    json_t *p1 = json_loads(out, 0, NULL), *p2 = json_loads(second, 0, NULL);
    assert_non_null(p1);
    assert_non_null(p2);
    assert_true(json_is_true(json_object_get(p1, "any_of")));
    assert_true(json_is_false(json_object_get(p2, "any_of")));
    json_t *members = json_object_get(p1, "from_members");
    assert_int_equal(json_array_size(members), 2);
    assert_string_equal(json_string_value(json_array_get(members, 0)), "a");
    assert_string_equal(json_string_value(json_array_get(members, 1)), "b");
    assert_true(json_is_null(json_object_get(p1, "to_members")));
    assert_true(json_is_null(json_object_get(p2, "from_members")));
    json_decref(p1);
    json_decref(p2);
    free(out);
    fa_rules_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_from_string),
        cmocka_unit_test(test_byte_order_mark),
        cmocka_unit_test(test_example_from_file),
        cmocka_unit_test(test_second_example),
        cmocka_unit_test(test_load_dir),
        cmocka_unit_test(test_load_dir_all_or_nothing),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_error_messages),
        cmocka_unit_test(test_error_cases_are_minimal),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_product_limit),
        cmocka_unit_test(test_line_length),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_print_json),
        cmocka_unit_test(test_print_text),
        cmocka_unit_test(test_print_groups_any_of),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
