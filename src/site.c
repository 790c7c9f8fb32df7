/* site.c - loads the site file (what is deployed where, docs/rule-format.md
 * "Site files") and answers which addresses play which role. */
#include "site.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexer.h"

/* Address entries of all role statements together; the roles-per-host
 * check below is quadratic in this. */
#define SITE_MAX_ADDRS 1024

typedef struct sparse {
    const fa_ruleset *rs;
    fa_lexer *lx;
    fa_site *site;
    bool has_name, has_phase, has_product;
    int role_lines[SITE_MAX_ADDRS]; /* line of each site->roles entry */
} sparse;

typedef struct site_keyword {
    const char *name;
    int min, max;         /* number of words after the keyword */
    const char *usage;
    int (*fn)(sparse *p);
} site_keyword;

static int oom(sparse *p)
{
    return fa_lex_error(p->lx, "out of memory");
}

static int parse_ports(sparse *p, const char *text, fa_portset *out)
{
    const char *why;
    if (fa_portset_parse(text, out, &why) < 0)
        return fa_lex_error(p->lx, "bad port set '%s': %s", text, why);
    return 0;
}

static int st_site(sparse *p)
{
    const char *name = p->lx->words[1];
    if (p->has_name)
        return fa_lex_error(p->lx, "repeated 'site' statement");
    if (*name == '\0')
        return fa_lex_error(p->lx, "empty site name");
    p->has_name = true;
    p->site->name = strdup(name);
    return p->site->name ? 0 : oom(p);
}

static int st_product(sparse *p)
{
    const char *id = p->lx->words[1];
    int i = fa_rules_find_product(p->rs, id);
    if (i < 0)
        return fa_lex_error(p->lx, "unknown product '%s' (no rule file defines it)", id);
    if (p->site->product_deployed[i])
        return fa_lex_error(p->lx, "product '%s' listed twice", id);
    p->site->product_deployed[i] = true;
    p->has_product = true;
    return 0;
}

static int st_phase(sparse *p)
{
    static const uint32_t phases[] = {FA_PHASE_INSTALLATION, FA_PHASE_OPERATION,
                                      FA_PHASE_INTERVENTION};
    const char *name = p->lx->words[1];
    if (p->has_phase)
        return fa_lex_error(p->lx, "repeated 'phase' statement");
    p->has_phase = true;
    for (size_t i = 0; i < sizeof phases / sizeof phases[0]; i++) {
        char buf[32];
        if (strcmp(fa_phase_str(phases[i], buf, sizeof buf), name) == 0) {
            p->site->phase = phases[i];
            return 0;
        }
    }
    return fa_lex_error(p->lx, "unknown phase '%s' (installation, operation or intervention)",
                        name);
}

/* Splits word ("PRODUCT.NAME") in place at its first dot; the product must
 * be deployed. Returns the product index with *name set, or -1. */
static int qualified(sparse *p, const char *what, char *word, const char **name)
{
    char *dot = strchr(word, '.');
    if (!dot || dot == word || dot[1] == '\0')
        return fa_lex_error(p->lx, "expected PRODUCT.%s, got '%s'", what, word);
    *dot = '\0';
    *name = dot + 1;
    int product = fa_rules_find_product(p->rs, word);
    if (product < 0)
        return fa_lex_error(p->lx, "unknown product '%s'", word);
    if (!p->site->product_deployed[product])
        return fa_lex_error(p->lx, "product '%s' is not deployed (add 'product %s' first)",
                            word, word);
    return product;
}

static int st_feature(sparse *p)
{
    char *word = p->lx->words[1];
    const char *name = NULL;
    int product = qualified(p, "FEATURE", word, &name);
    if (product < 0)
        return -1;
    int f = fa_rules_find_feature(p->rs, product, name);
    if (f < 0)
        return fa_lex_error(p->lx, "unknown feature '%s.%s'", word, name);
    if (p->site->feature_enabled[f])
        return fa_lex_error(p->lx, "feature '%s.%s' listed twice", word, name);
    p->site->feature_enabled[f] = true;
    return 0;
}

/* Parses one address or CIDR; host bits below the prefix are refused since
 * "192.0.2.10/24" is more likely a typo than a way to write 192.0.2.0/24. */
static int parse_cidr(sparse *p, const char *text, fa_cidr *out)
{
    if (fa_cidr_parse(text, out) < 0)
        return fa_lex_error(p->lx, "bad address '%s'", text);
    const char *slash = strchr(text, '/');
    if (!slash)
        return 0;
    char host[FA_ADDR_STRLEN];
    fa_cidr h;
    memcpy(host, text, (size_t)(slash - text));
    host[slash - text] = '\0';
    if (fa_cidr_parse(host, &h) < 0 || fa_addr_cmp(&h.net, &out->net) != 0)
        return fa_lex_error(p->lx, "'%s' has host bits set", text);
    return 0;
}

static int add_address(sparse *p, int role, const char *text, const char *qname)
{
    fa_site *s = p->site;
    fa_cidr c;
    if (parse_cidr(p, text, &c) < 0)
        return -1;
    for (int i = 0; i < s->nroles; i++) {
        if (s->roles[i].role == role && s->roles[i].cidr.prefix == c.prefix &&
            fa_addr_cmp(&s->roles[i].cidr.net, &c.net) == 0)
            return fa_lex_error(p->lx, "address '%s' listed twice for role '%s'", text, qname);
    }
    if (s->nroles >= SITE_MAX_ADDRS)
        return fa_lex_error(p->lx, "too many role addresses (limit %d)", SITE_MAX_ADDRS);
    fa_site_role *arr = fa_lex_grow(s->roles, s->nroles, sizeof *arr);
    if (!arr)
        return oom(p);
    s->roles = arr;
    arr[s->nroles].role = role;
    arr[s->nroles].cidr = c;
    p->role_lines[s->nroles++] = p->lx->line;
    return 0;
}

/* "role psw.client 198.51.100.0/24 external": addresses and CIDRs, and
 * the keyword external for hosts that are real but have no fixed address
 * (Internet clients, a licensing service), which keeps them out of the
 * inventory. */
static int st_role(sparse *p)
{
    char *word = p->lx->words[1];
    const char *name = NULL;
    int product = qualified(p, "ROLE", word, &name);
    if (product < 0)
        return -1;
    int role = fa_rules_find_role(p->rs, product, name);
    if (role < 0)
        return fa_lex_error(p->lx, "unknown role '%s.%s'", word, name);
    char qname[2 * FA_ID_MAX];
    snprintf(qname, sizeof qname, "%s.%s", word, name);
    for (int i = 2; i < p->lx->nwords; i++) {
        const char *w = p->lx->words[i];
        if (strcmp(w, "external") == 0) {
            if (p->site->role_external[role])
                return fa_lex_error(p->lx, "'external' given twice for role '%s'", qname);
            p->site->role_external[role] = true;
        } else if (add_address(p, role, w, qname) < 0) {
            return -1;
        }
    }
    p->site->role_mapped[role] = true;
    return 0;
}

static int st_port(sparse *p)
{
    const fa_ruleset *rs = p->rs;
    fa_site *s = p->site;
    const char *id = p->lx->words[1];
    int rule = fa_rules_find_rule(rs, id);
    if (rule < 0)
        return fa_lex_error(p->lx, "unknown rule '%s'", id);
    const fa_rule *r = &rs->rules[rule];
    if (!s->product_deployed[r->product])
        return fa_lex_error(p->lx, "rule '%s' belongs to product '%s', which is not deployed",
                            id, rs->products[r->product].id);
    if (!r->customizable)
        return fa_lex_error(p->lx, "rule '%s' is not customizable", id);
    for (int i = 0; i < s->nports; i++) {
        if (s->ports[i].rule == rule)
            return fa_lex_error(p->lx, "repeated port override for rule '%s'", id);
    }
    fa_portset ports;
    if (parse_ports(p, p->lx->words[2], &ports) < 0)
        return -1;
    if (fa_portset_is_empty(&ports))
        return fa_lex_error(p->lx, "port override needs ports, not '-'");
    fa_site_port *arr = fa_lex_grow(s->ports, s->nports, sizeof *arr);
    if (!arr)
        return oom(p);
    s->ports = arr;
    arr[s->nports].rule = rule;
    arr[s->nports++].ports = ports;
    return 0;
}

static const site_keyword keywords[] = {
    {"site", 1, 1, "site \"name\"", st_site},
    {"product", 1, 1, "product ID", st_product},
    {"phase", 1, 1, "phase installation|operation|intervention", st_phase},
    {"feature", 1, 1, "feature PRODUCT.FEATURE", st_feature},
    {"role", 2, INT_MAX, "role PRODUCT.ROLE ADDRESS...|external", st_role},
    {"port", 2, 2, "port RULE-ID PORTS", st_port},
    {NULL, 0, 0, NULL, NULL},
};

static int site_line(sparse *p)
{
    const char *kw = p->lx->words[0];
    if (p->lx->indented)
        return fa_lex_error(p->lx, "site statements must start in column 1");
    for (const site_keyword *k = keywords; k->name; k++) {
        if (strcmp(k->name, kw) != 0)
            continue;
        int nargs = p->lx->nwords - 1;
        if (nargs < k->min || nargs > k->max)
            return fa_lex_error(p->lx, "usage: %s", k->usage);
        return k->fn(p);
    }
    return fa_lex_error(p->lx, "unknown keyword '%s'", kw);
}

/* The most roles any one address plays is reached at the network address
 * of some entry (CIDRs that share an address are nested, and the smallest
 * one's network address lies in all of them), so checking those is enough. */
static int check_roles_per_host(sparse *p)
{
    const fa_site *s = p->site;
    for (int i = 0; i < s->nroles; i++) {
        const fa_addr *a = &s->roles[i].cidr.net;
        int found[FA_SITE_MAX_ROLES_PER_HOST + 1];
        int nfound = 0, line = 0;
        for (int j = 0; j < s->nroles && nfound <= FA_SITE_MAX_ROLES_PER_HOST; j++) {
            if (!fa_cidr_contains(&s->roles[j].cidr, a))
                continue;
            int k = 0;
            while (k < nfound && found[k] != s->roles[j].role)
                k++;
            if (k == nfound)
                found[nfound++] = s->roles[j].role;
            line = p->role_lines[j] > line ? p->role_lines[j] : line;
        }
        if (nfound > FA_SITE_MAX_ROLES_PER_HOST) {
            char text[FA_ADDR_STRLEN];
            return fa_lex_error_at(p->lx, line, "address %s plays too many roles (limit %d)",
                                   fa_addr_str(a, text, sizeof text),
                                   FA_SITE_MAX_ROLES_PER_HOST);
        }
    }
    return 0;
}

/* A group is deployed where one of its members is, and stands for hosts
 * outside the inventory where one of its members does. */
static int derive_groups(const fa_ruleset *rs, fa_site *s)
{
    for (int g = 0; g < rs->nroles; g++) {
        if (!rs->roles[g].nmembers || !s->product_deployed[rs->roles[g].product])
            continue;
        for (int k = 0; k < rs->roles[g].nmembers; k++) {
            s->role_mapped[g] |= s->role_mapped[rs->roles[g].members[k]];
            s->role_external[g] |= s->role_external[rs->roles[g].members[k]];
        }
        int *arr = fa_lex_grow(s->groups, s->ngroups, sizeof *arr);
        if (!arr)
            return -1;
        s->groups = arr;
        arr[s->ngroups++] = g;
    }
    return 0;
}

static bool plays_member(const fa_ruleset *rs, const fa_site *s, int group, const fa_addr *a)
{
    for (int j = 0; j < s->nroles; j++)
        for (int k = 0; k < rs->roles[group].nmembers; k++)
            if (s->roles[j].role == rs->roles[group].members[k] && fa_cidr_contains(&s->roles[j].cidr, a))
                return true;
    return false;
}

static int add_warning(fa_site *s, const char *text)
{
    size_t old = s->warnings ? strlen(s->warnings) : 0, add = strlen(text);
    char *w = realloc(s->warnings, old + add + 2);
    if (!w)
        return -1;
    memcpy(w + old, text, add);
    w[old + add] = '\n';
    w[old + add + 1] = '\0';
    s->warnings = w;
    return 0;
}

/* Sites written before groups were derived list the group roles too; an
 * address given a group but none of its members is probably a member the
 * admin forgot, so the member's own rules would not see it. */
static int warn_group_only_hosts(sparse *p)
{
    const fa_ruleset *rs = p->rs;
    fa_site *s = p->site;
    for (int i = 0; i < s->nroles; i++) {
        const fa_role *g = &rs->roles[s->roles[i].role];
        if (!g->nmembers || plays_member(rs, s, s->roles[i].role, &s->roles[i].cidr.net))
            continue;
        char text[512], addr[FA_ADDR_STRLEN];
        snprintf(text, sizeof text, "%s:%d: warning: %s is given the group role '%s.%s' but none of its members",
                 p->lx->name, p->role_lines[i], fa_addr_str(&s->roles[i].cidr.net, addr, sizeof addr),
                 rs->products[g->product].id, g->id);
        if (add_warning(s, text) < 0)
            return oom(p);
    }
    return 0;
}

static fa_site *site_new(const fa_ruleset *rs, const char *name)
{
    fa_site *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->phase = FA_PHASE_OPERATION;
    s->rs = rs;
    s->file = strdup(name);
    /* calloc(0) may return NULL, so every array gets at least one slot. */
    s->product_deployed = calloc((size_t)rs->nproducts + 1, sizeof(bool));
    s->feature_enabled = calloc((size_t)rs->nfeatures + 1, sizeof(bool));
    s->role_mapped = calloc((size_t)rs->nroles + 1, sizeof(bool));
    s->role_external = calloc((size_t)rs->nroles + 1, sizeof(bool));
    if (!s->file || !s->product_deployed || !s->feature_enabled || !s->role_mapped || !s->role_external) {
        fa_site_free(s);
        return NULL;
    }
    return s;
}

static int parse_site(sparse *p)
{
    fa_lexer *lx = p->lx;
    int rc;
    while ((rc = fa_lex_next(lx)) == 1) {
        if (site_line(p) < 0)
            return -1;
    }
    if (rc < 0)
        return -1;
    if (!p->has_product)
        return fa_lex_error_at(lx, lx->line > 0 ? lx->line : 1, "no 'product' statement");
    if (check_roles_per_host(p) < 0)
        return -1;
    if (derive_groups(p->rs, p->site) < 0)
        return oom(p);
    return warn_group_only_hosts(p);
}

static fa_site *load_text(const fa_ruleset *rs, const char *name, const char *text,
                          size_t len, char *err, size_t errlen)
{
    sparse *p = calloc(1, sizeof *p);
    fa_lexer *lx = malloc(sizeof *lx);
    fa_site *site = site_new(rs, name);
    if (!p || !lx || !site) {
        if (err && errlen)
            snprintf(err, errlen, "%s: out of memory", name);
        free(p);
        free(lx);
        fa_site_free(site);
        return NULL;
    }
    p->rs = rs;
    p->lx = lx;
    p->site = site;
    if (fa_lex_init(lx, name, text, len, err, errlen) < 0 || parse_site(p) < 0) {
        fa_site_free(site);
        site = NULL;
    }
    free(lx);
    free(p);
    return site;
}

/* Parses a site held in memory; returns a new site (fa_site_free) or NULL. */
fa_site *fa_site_load_string(const fa_ruleset *rs, const char *name, const char *text,
                             char *err, size_t errlen)
{
    return load_text(rs, name, text, strlen(text), err, errlen);
}

/* Reads and parses a site file; returns a new site (fa_site_free) or NULL. */
fa_site *fa_site_load_file(const fa_ruleset *rs, const char *path, char *err, size_t errlen)
{
    char *text;
    size_t len;
    if (fa_lex_read_file(path, &text, &len, err, errlen) < 0)
        return NULL;
    fa_site *site = load_text(rs, path, text, len, err, errlen);
    free(text);
    return site;
}

/* Frees a site; NULL is fine. */
void fa_site_free(fa_site *site)
{
    if (!site)
        return;
    free(site->name);
    free(site->file);
    free(site->product_deployed);
    free(site->feature_enabled);
    free(site->role_mapped);
    free(site->role_external);
    free(site->warnings);
    free(site->groups);
    free(site->roles);
    free(site->ports);
    free(site);
}

/* True when addr lies in a CIDR of any role; false without a site. */
bool fa_site_in_inventory(const fa_site *site, const fa_addr *addr)
{
    if (!site)
        return false;
    for (int i = 0; i < site->nroles; i++) {
        if (fa_cidr_contains(&site->roles[i].cidr, addr))
            return true;
    }
    return false;
}

/* True when addr plays role; unmapped roles, "any" and no site match all. */
bool fa_site_addr_has_role(const fa_site *site, int role, const fa_addr *addr)
{
    fa_addr_roles r;
    fa_site_addr_roles(site, addr, &r);
    return fa_site_roles_have(site, role, &r);
}

static void set_bit(fa_addr_roles *out, int role)
{
    out->bits[role / 8] |= (uint8_t)(1u << (role % 8));
}

static bool has_bit(const fa_addr_roles *r, int role)
{
    return (r->bits[role / 8] >> (role % 8)) & 1u;
}

void fa_site_addr_roles(const fa_site *site, const fa_addr *addr, fa_addr_roles *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; site && i < site->nroles; i++) {
        if (fa_cidr_contains(&site->roles[i].cidr, addr)) {
            out->in_inventory = true;
            set_bit(out, site->roles[i].role);
        }
    }
    for (int k = 0; site && k < site->ngroups; k++) {
        const fa_role *g = &site->rs->roles[site->groups[k]];
        for (int m = 0; m < g->nmembers; m++)
            if (has_bit(out, g->members[m]))
                set_bit(out, site->groups[k]);
    }
}

bool fa_site_roles_have(const fa_site *site, int role, const fa_addr_roles *r)
{
    if (role < 0 || !site)
        return true;
    /* An inventory host plays the roles the site gives it and no others;
     * a role mapped "external" also stands for every host outside it. */
    if (has_bit(r, role))
        return true;
    return site->role_external[role] && !r->in_inventory;
}

/* Returns the site's override of a rule's ports, else the rule's own. */
const fa_portset *fa_site_rule_dports(const fa_site *site, const fa_ruleset *rs, int rule)
{
    for (int i = 0; site && i < site->nports; i++) {
        if (site->ports[i].rule == rule)
            return &site->ports[i].ports;
    }
    return &rs->rules[rule].dports;
}
