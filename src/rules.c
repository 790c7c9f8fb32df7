/* rules.c - loads the vendors' port matrices from rule files
 * (docs/rule-format.md) into a ruleset, all-or-nothing. */
#include "rules.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexer.h"

enum attr_bits {
    A_PURPOSE = 1u << 0,
    A_REQUIREMENT = 1u << 1,
    A_PHASE = 1u << 2,
    A_IMPACT = 1u << 3,
    A_CUSTOMIZABLE = 1u << 4,
    A_SPORT = 1u << 5,
    A_WEBSOCKET = 1u << 6,
    A_LONGLIVED = 1u << 7,
    A_OBSERVABLE = 1u << 8,
    A_NOTE = 1u << 9,
    A_ONEWAY = 1u << 10,
    A_ANY_OF = 1u << 11,
};

typedef struct rparse {
    fa_ruleset *rs;
    fa_lexer *lx;
    int product;          /* this file's product, -1 before 'product' */
    int rule;             /* rule that indented lines belong to, or -1 */
    unsigned seen;        /* attr_bits given for that rule */
    bool has_source;
    const char *usage;    /* of the keyword being handled */
} rparse;

typedef struct keyword {
    const char *name;
    int min, max;         /* number of words after the keyword */
    const char *usage;
    unsigned bit;         /* attributes: attr_bits */
    int (*fn)(rparse *p);
} keyword;

/* Entry counts of a ruleset, to undo a failed load. */
typedef struct counts {
    int products, roles, features, rules;
} counts;

static int oom(rparse *p)
{
    return fa_lex_error(p->lx, "out of memory");
}

static int bad_usage(rparse *p)
{
    return fa_lex_error(p->lx, "usage: %s", p->usage);
}

static int dup_text(rparse *p, const char *what, const char *s, char **dst)
{
    if (*s == '\0')
        return fa_lex_error(p->lx, "empty %s", what);
    *dst = strdup(s);
    return *dst ? 0 : oom(p);
}

static int yes_no(rparse *p, bool *out)
{
    const char *v = p->lx->words[1];
    if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
        return bad_usage(p);
    *out = v[0] == 'y';
    return 0;
}

static fa_rule *cur_rule(rparse *p)
{
    return &p->rs->rules[p->rule];
}

/* --- statements ------------------------------------------------------- */

static int st_product(rparse *p)
{
    fa_ruleset *rs = p->rs;
    const char *id = p->lx->words[1];
    if (p->product >= 0)
        return fa_lex_error(p->lx, "repeated 'product' statement");
    if (fa_lex_ident(p->lx, "product", id) < 0)
        return -1;
    if (strchr(id, '.'))
        return fa_lex_error(p->lx, "product id '%s' must not contain '.'", id);
    int dup = fa_rules_find_product(rs, id);
    if (dup >= 0)
        return fa_lex_error(p->lx, "duplicate product '%s' (already loaded from %s)", id,
                            rs->products[dup].file);
    if (rs->nproducts >= FA_MAX_PRODUCTS)
        return fa_lex_error(p->lx, "too many products (limit %d)", FA_MAX_PRODUCTS);
    fa_product *arr = fa_lex_grow(rs->products, rs->nproducts, sizeof *arr);
    if (!arr)
        return oom(p);
    rs->products = arr;
    fa_product *pr = &arr[rs->nproducts];
    memset(pr, 0, sizeof *pr);
    strcpy(pr->id, id);
    p->product = rs->nproducts++;
    if (dup_text(p, "product name", p->lx->words[2], &pr->name) < 0)
        return -1;
    pr->file = strdup(p->lx->name);
    return pr->file ? 0 : oom(p);
}

static int st_source(rparse *p)
{
    if (p->has_source)
        return fa_lex_error(p->lx, "repeated 'source' statement");
    p->has_source = true;
    return dup_text(p, "source", p->lx->words[1], &p->rs->products[p->product].source);
}

static int st_role(rparse *p)
{
    fa_ruleset *rs = p->rs;
    const char *id = p->lx->words[1];
    if (fa_lex_ident(p->lx, "role", id) < 0)
        return -1;
    if (strcmp(id, "any") == 0)
        return fa_lex_error(p->lx, "role id 'any' is reserved");
    if (fa_rules_find_role(rs, p->product, id) >= 0)
        return fa_lex_error(p->lx, "duplicate role '%s'", id);
    if (rs->nroles >= FA_MAX_ROLES)
        return fa_lex_error(p->lx, "too many roles (limit %d)", FA_MAX_ROLES);
    fa_role *arr = fa_lex_grow(rs->roles, rs->nroles, sizeof *arr);
    if (!arr)
        return oom(p);
    rs->roles = arr;
    fa_role *ro = &arr[rs->nroles++];
    memset(ro, 0, sizeof *ro);
    strcpy(ro->id, id);
    ro->product = p->product;
    ro->line = p->lx->line;
    return dup_text(p, "role description", p->lx->words[2], &ro->description);
}

static bool is_member(const fa_ruleset *rs, int role)
{
    for (int g = 0; g < rs->nroles; g++)
        for (int k = 0; k < rs->roles[g].nmembers; k++)
            if (rs->roles[g].members[k] == role)
                return true;
    return false;
}

/* "group controller mgmt1 mgmt2 broker": a role that stands for whichever
 * hosts play one of its members, so a site maps only the members. Groups
 * do not nest: a member is a plain role. */
static int st_group(rparse *p)
{
    fa_ruleset *rs = p->rs;
    char **w = p->lx->words;
    int g = fa_rules_find_role(rs, p->product, w[1]);
    if (g < 0)
        return fa_lex_error(p->lx, "group '%s' is not a declared role", w[1]);
    if (rs->roles[g].nmembers)
        return fa_lex_error(p->lx, "group '%s' defined twice", w[1]);
    if (is_member(rs, g))
        return fa_lex_error(p->lx, "'%s' is a member of a group and cannot be one", w[1]);
    if (p->lx->nwords - 2 > FA_GROUP_MAX)
        return fa_lex_error(p->lx, "too many members (limit %d)", FA_GROUP_MAX);
    for (int i = 2; i < p->lx->nwords; i++) {
        int m = fa_rules_find_role(rs, p->product, w[i]);
        if (m < 0)
            return fa_lex_error(p->lx, "unknown role '%s'", w[i]);
        if (m == g || rs->roles[m].nmembers)
            return fa_lex_error(p->lx, "member '%s' is a group", w[i]);
        for (int k = 0; k < rs->roles[g].nmembers; k++)
            if (rs->roles[g].members[k] == m)
                return fa_lex_error(p->lx, "member '%s' listed twice", w[i]);
        rs->roles[g].members[rs->roles[g].nmembers++] = m;
    }
    return 0;
}

static int st_feature(rparse *p)
{
    fa_ruleset *rs = p->rs;
    const char *id = p->lx->words[1];
    if (fa_lex_ident(p->lx, "feature", id) < 0)
        return -1;
    if (fa_rules_find_feature(rs, p->product, id) >= 0)
        return fa_lex_error(p->lx, "duplicate feature '%s'", id);
    if (rs->nfeatures >= FA_MAX_FEATURES)
        return fa_lex_error(p->lx, "too many features (limit %d)", FA_MAX_FEATURES);
    fa_feature *arr = fa_lex_grow(rs->features, rs->nfeatures, sizeof *arr);
    if (!arr)
        return oom(p);
    rs->features = arr;
    fa_feature *fe = &arr[rs->nfeatures++];
    memset(fe, 0, sizeof *fe);
    strcpy(fe->id, id);
    fe->product = p->product;
    return dup_text(p, "feature description", p->lx->words[2], &fe->description);
}

static int role_ref(rparse *p, const char *id, int *out)
{
    if (strcmp(id, "any") == 0) {
        *out = FA_ROLE_ANY;
        return 0;
    }
    *out = fa_rules_find_role(p->rs, p->product, id);
    return *out >= 0 ? 0 : fa_lex_error(p->lx, "undefined role '%s'", id);
}

static bool item_is(const char *s, int len, const char *name)
{
    return (size_t)len == strlen(name) && memcmp(s, name, (size_t)len) == 0;
}

static int parse_proto(rparse *p, fa_rule *r, const char *s, int len)
{
    static const struct { unsigned num; const char *name; } named[] = {
        {1, "icmp"}, {6, "tcp"}, {17, "udp"}, {58, "icmp6"}, {0, NULL},
    };
    unsigned v = 0;
    if (len - 6 > 3)
        return fa_lex_error(p->lx, "bad protocol number in '%.*s' (0-255)", len, s);
    for (int i = 6; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return fa_lex_error(p->lx, "bad protocol number in '%.*s' (0-255)", len, s);
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 255)
        return fa_lex_error(p->lx, "bad protocol number in '%.*s' (0-255)", len, s);
    for (int i = 0; named[i].name; i++) {
        if (named[i].num == v)
            return fa_lex_error(p->lx, "write '%s' instead of '%.*s'", named[i].name, len, s);
    }
    for (int i = 0; i < r->nprotos; i++) {
        if (r->protos[i] == v)
            return fa_lex_error(p->lx, "duplicate transport '%.*s'", len, s);
    }
    if (r->nprotos >= FA_MAX_PROTOS)
        return fa_lex_error(p->lx, "too many proto:N transports (limit %d)", FA_MAX_PROTOS);
    r->protos[r->nprotos++] = (uint8_t)v;
    r->transports |= FA_TR_PROTO;
    return 0;
}

static int parse_transport_item(rparse *p, fa_rule *r, const char *s, int len)
{
    static const struct { const char *name; uint32_t bit; } names[] = {
        {"tcp", FA_TR_TCP}, {"udp", FA_TR_UDP}, {"icmp", FA_TR_ICMP},
        {"icmp6", FA_TR_ICMP6}, {NULL, 0},
    };
    if (len == 0)
        return fa_lex_error(p->lx, "empty item in transport list");
    for (int i = 0; names[i].name; i++) {
        if (!item_is(s, len, names[i].name))
            continue;
        if (r->transports & names[i].bit)
            return fa_lex_error(p->lx, "duplicate transport '%.*s'", len, s);
        r->transports |= names[i].bit;
        return 0;
    }
    if (len > 6 && memcmp(s, "proto:", 6) == 0)
        return parse_proto(p, r, s, len);
    return fa_lex_error(p->lx, "unknown transport '%.*s' (tcp, udp, icmp, icmp6 or proto:N)",
                        len, s);
}

static int parse_transports(rparse *p, fa_rule *r, const char *text)
{
    for (const char *s = text;;) {
        const char *comma = strchr(s, ',');
        int len = (int)(comma ? (size_t)(comma - s) : strlen(s));
        if (parse_transport_item(p, r, s, len) < 0)
            return -1;
        if (!comma)
            return 0;
        s = comma + 1;
    }
}

static int parse_ports(rparse *p, const char *text, fa_portset *out)
{
    const char *why;
    if (fa_portset_parse(text, out, &why) < 0)
        return fa_lex_error(p->lx, "bad port set '%s': %s", text, why);
    return 0;
}

static bool has_ports(const fa_rule *r)
{
    return (r->transports & (FA_TR_TCP | FA_TR_UDP)) != 0;
}

static int parse_dports(rparse *p, fa_rule *r, const char *text)
{
    if (parse_ports(p, text, &r->dports) < 0)
        return -1;
    if (has_ports(r) && fa_portset_is_empty(&r->dports))
        return fa_lex_error(p->lx, "ports '-' are not valid with tcp or udp");
    if (!has_ports(r) && !fa_portset_is_empty(&r->dports))
        return fa_lex_error(p->lx, "icmp, icmp6 and proto:N rules take '-' as ports");
    return 0;
}

static int st_rule(rparse *p)
{
    fa_ruleset *rs = p->rs;
    char **w = p->lx->words;
    if (rs->nrules >= FA_MAX_RULES)
        return fa_lex_error(p->lx, "too many rules (limit %d)", FA_MAX_RULES);
    if (fa_lex_ident(p->lx, "rule", w[1]) < 0)
        return -1;
    int dup = fa_rules_find_rule(rs, w[1]);
    if (dup >= 0)
        return fa_lex_error(p->lx, "duplicate rule '%s' (first defined at %s:%d)", w[1],
                            rs->rules[dup].file, rs->rules[dup].line);
    if (strcmp(w[3], "->") != 0)
        return bad_usage(p);
    fa_rule *arr = fa_lex_grow(rs->rules, rs->nrules, sizeof *arr);
    if (!arr)
        return oom(p);
    rs->rules = arr;
    fa_rule *r = &arr[rs->nrules];
    memset(r, 0, sizeof *r);
    strcpy(r->id, w[1]);
    r->product = p->product;
    r->file = rs->products[p->product].file;
    r->line = p->lx->line;
    r->sports.any = true;
    r->requirement = FA_REQ_REQUIRED;
    r->feature = -1;
    r->phases = FA_PHASE_OPERATION;
    r->observable = true;
    p->rule = rs->nrules++;
    p->seen = 0;
    if (role_ref(p, w[2], &r->from_role) < 0 || role_ref(p, w[4], &r->to_role) < 0)
        return -1;
    if (parse_transports(p, r, w[5]) < 0)
        return -1;
    return parse_dports(p, r, w[6]);
}

/* --- attributes ------------------------------------------------------- */

static int at_purpose(rparse *p)
{
    return dup_text(p, "purpose", p->lx->words[1], &cur_rule(p)->purpose);
}

static int at_impact(rparse *p)
{
    return dup_text(p, "impact", p->lx->words[1], &cur_rule(p)->impact);
}

static int at_note(rparse *p)
{
    return dup_text(p, "note", p->lx->words[1], &cur_rule(p)->note);
}

static int at_requirement(rparse *p)
{
    fa_rule *r = cur_rule(p);
    char **w = p->lx->words;
    int n = p->lx->nwords;
    if (n == 2 && strcmp(w[1], "required") == 0) {
        r->requirement = FA_REQ_REQUIRED;
    } else if (n == 2 && strcmp(w[1], "optional") == 0) {
        r->requirement = FA_REQ_OPTIONAL;
    } else if (n == 3 && strcmp(w[1], "if") == 0) {
        r->feature = fa_rules_find_feature(p->rs, r->product, w[2]);
        if (r->feature < 0)
            return fa_lex_error(p->lx, "undefined feature '%s'", w[2]);
        r->requirement = FA_REQ_CONDITIONAL;
    } else {
        return bad_usage(p);
    }
    return 0;
}

static int at_phase(rparse *p)
{
    static const char *const names[] = {"installation", "operation", "intervention", NULL};
    static const uint32_t bits[] = {FA_PHASE_INSTALLATION, FA_PHASE_OPERATION,
                                    FA_PHASE_INTERVENTION};
    uint32_t phases = 0;
    for (const char *s = p->lx->words[1];;) {
        const char *comma = strchr(s, ',');
        int len = (int)(comma ? (size_t)(comma - s) : strlen(s));
        if (len == 0)
            return fa_lex_error(p->lx, "empty item in phase list");
        int i = 0;
        while (names[i] && !item_is(s, len, names[i]))
            i++;
        if (!names[i])
            return fa_lex_error(p->lx,
                                "unknown phase '%.*s' (installation, operation or intervention)",
                                len, s);
        if (phases & bits[i])
            return fa_lex_error(p->lx, "duplicate phase '%.*s'", len, s);
        phases |= bits[i];
        if (!comma)
            break;
        s = comma + 1;
    }
    cur_rule(p)->phases = phases;
    return 0;
}

static int at_customizable(rparse *p)
{
    return yes_no(p, &cur_rule(p)->customizable);
}

static int at_websocket(rparse *p)
{
    fa_rule *r = cur_rule(p);
    if (yes_no(p, &r->websocket) < 0)
        return -1;
    if (r->websocket && (p->seen & A_LONGLIVED) && !r->longlived)
        return fa_lex_error(p->lx, "websocket yes contradicts longlived no");
    r->longlived = r->longlived || r->websocket;
    return 0;
}

static int at_longlived(rparse *p)
{
    fa_rule *r = cur_rule(p);
    if (yes_no(p, &r->longlived) < 0)
        return -1;
    if (!r->longlived && r->websocket)
        return fa_lex_error(p->lx, "longlived no contradicts websocket yes");
    return 0;
}

static int at_oneway(rparse *p)
{
    fa_rule *r = cur_rule(p);
    if (yes_no(p, &r->oneway) < 0)
        return -1;
    if (r->oneway && (r->transports & ~(uint32_t)(FA_TR_UDP | FA_TR_PROTO)))
        return fa_lex_error(p->lx, "oneway needs udp or proto:N only");
    return 0;
}

static int at_any_of(rparse *p)
{
    fa_rule *r = cur_rule(p);
    if (yes_no(p, &r->any_of) < 0)
        return -1;
    if (r->any_of && (!has_ports(r) || r->dports.any || r->dports.count < 2))
        return fa_lex_error(p->lx, "any-of needs tcp or udp and more than one port");
    return 0;
}

static int at_sport(rparse *p)
{
    fa_rule *r = cur_rule(p);
    if (!has_ports(r))
        return fa_lex_error(p->lx, "sport needs tcp or udp");
    if (parse_ports(p, p->lx->words[1], &r->sports) < 0)
        return -1;
    if (fa_portset_is_empty(&r->sports))
        return fa_lex_error(p->lx, "sport '-' is not valid with tcp or udp");
    return 0;
}

static int at_observable(rparse *p)
{
    fa_rule *r = cur_rule(p);
    char **w = p->lx->words;
    if (p->lx->nwords == 2 && strcmp(w[1], "yes") == 0)
        return 0;
    if (p->lx->nwords == 3 && strcmp(w[1], "no") == 0) {
        r->observable = false;
        return dup_text(p, "observable reason", w[2], &r->unobservable_reason);
    }
    return bad_usage(p);
}

static const keyword statements[] = {
    {"product", 2, 2, "product ID \"name\"", 0, st_product},
    {"source", 1, 1, "source \"text\"", 0, st_source},
    {"role", 2, 2, "role ID \"description\"", 0, st_role},
    {"feature", 2, 2, "feature ID \"description\"", 0, st_feature},
    {"group", 2, FA_GROUP_MAX + 1, "group ROLE MEMBER...", 0, st_group},
    {"rule", 6, 6, "rule ID FROM -> TO TRANSPORT PORTS", 0, st_rule},
    {NULL, 0, 0, NULL, 0, NULL},
};

static const keyword attributes[] = {
    {"purpose", 1, 1, "purpose \"text\"", A_PURPOSE, at_purpose},
    {"requirement", 1, 2, "requirement required|optional|if FEATURE", A_REQUIREMENT,
     at_requirement},
    {"phase", 1, 1, "phase PHASE[,PHASE...]", A_PHASE, at_phase},
    {"impact", 1, 1, "impact \"text\"", A_IMPACT, at_impact},
    {"customizable", 1, 1, "customizable yes|no", A_CUSTOMIZABLE, at_customizable},
    {"sport", 1, 1, "sport PORTS", A_SPORT, at_sport},
    {"websocket", 1, 1, "websocket yes|no", A_WEBSOCKET, at_websocket},
    {"longlived", 1, 1, "longlived yes|no", A_LONGLIVED, at_longlived},
    {"observable", 1, 2, "observable yes|no \"reason\"", A_OBSERVABLE, at_observable},
    {"oneway", 1, 1, "oneway yes|no", A_ONEWAY, at_oneway},
    {"any-of", 1, 1, "any-of yes|no", A_ANY_OF, at_any_of},
    {"note", 1, 1, "note \"text\"", A_NOTE, at_note},
    {NULL, 0, 0, NULL, 0, NULL},
};

/* --- driver ----------------------------------------------------------- */

static const keyword *find_keyword(const keyword *table, const char *name)
{
    for (; table->name; table++) {
        if (strcmp(table->name, name) == 0)
            return table;
    }
    return NULL;
}

static int call(rparse *p, const keyword *k)
{
    int nargs = p->lx->nwords - 1;
    p->usage = k->usage;
    if (nargs < k->min || nargs > k->max)
        return bad_usage(p);
    return k->fn(p);
}

/* Checks what can only be checked once all of a rule's lines are read. */
static int finish_rule(rparse *p)
{
    if (p->rule < 0)
        return 0;
    const fa_rule *r = cur_rule(p);
    p->rule = -1;
    if (!r->purpose)
        return fa_lex_error_at(p->lx, r->line, "rule '%s' has no purpose", r->id);
    return 0;
}

static int attribute_line(rparse *p)
{
    const char *kw = p->lx->words[0];
    if (find_keyword(statements, kw))
        return fa_lex_error(p->lx, "'%s' must start in column 1", kw);
    const keyword *a = find_keyword(attributes, kw);
    if (!a)
        return fa_lex_error(p->lx, "unknown attribute '%s'", kw);
    if (p->rule < 0)
        return fa_lex_error(p->lx, "attribute '%s' outside a rule", kw);
    if (p->seen & a->bit)
        return fa_lex_error(p->lx, "repeated attribute '%s'", kw);
    p->seen |= a->bit;
    return call(p, a);
}

static int statement_line(rparse *p)
{
    const char *kw = p->lx->words[0];
    if (finish_rule(p) < 0)
        return -1;
    const keyword *k = find_keyword(statements, kw);
    if (!k) {
        if (find_keyword(attributes, kw))
            return fa_lex_error(p->lx, "attribute '%s' must be indented under a rule", kw);
        return fa_lex_error(p->lx, "unknown keyword '%s'", kw);
    }
    if (p->product < 0 && k->fn != st_product)
        return fa_lex_error(p->lx, "'product' must be the first statement");
    return call(p, k);
}

/* Appends the rules of one text to rs; on error rs may hold part of it. */
static int parse_text(fa_ruleset *rs, const char *name, const char *text, size_t len,
                      char *err, size_t errlen)
{
    fa_lexer *lx = malloc(sizeof *lx);
    if (!lx) {
        if (err && errlen)
            snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    rparse p = {.rs = rs, .lx = lx, .product = -1, .rule = -1};
    int rc = fa_lex_init(lx, name, text, len, err, errlen);
    while (rc == 0 && (rc = fa_lex_next(lx)) == 1)
        rc = lx->indented ? attribute_line(&p) : statement_line(&p);
    if (rc == 0)
        rc = finish_rule(&p);
    if (rc == 0 && p.product < 0)
        rc = fa_lex_error_at(lx, lx->line > 0 ? lx->line : 1, "no 'product' statement");
    free(lx);
    return rc < 0 ? -1 : 0;
}

static int parse_file(fa_ruleset *rs, const char *path, char *err, size_t errlen)
{
    char *text;
    size_t len;
    if (fa_lex_read_file(path, &text, &len, err, errlen) < 0)
        return -1;
    int rc = parse_text(rs, path, text, len, err, errlen);
    free(text);
    return rc;
}

static counts snapshot(const fa_ruleset *rs)
{
    counts c = {rs->nproducts, rs->nroles, rs->nfeatures, rs->nrules};
    return c;
}

static void rollback(fa_ruleset *rs, counts c)
{
    for (int i = c.products; i < rs->nproducts; i++) {
        free(rs->products[i].name);
        free(rs->products[i].source);
        free(rs->products[i].file);
    }
    for (int i = c.roles; i < rs->nroles; i++)
        free(rs->roles[i].description);
    for (int i = c.features; i < rs->nfeatures; i++)
        free(rs->features[i].description);
    for (int i = c.rules; i < rs->nrules; i++) {
        free(rs->rules[i].purpose);
        free(rs->rules[i].impact);
        free(rs->rules[i].note);
        free(rs->rules[i].unobservable_reason);
    }
    rs->nproducts = c.products;
    rs->nroles = c.roles;
    rs->nfeatures = c.features;
    rs->nrules = c.rules;
}

/* Returns a new empty ruleset for the caller to fa_rules_free, or NULL. */
fa_ruleset *fa_rules_new(void)
{
    return calloc(1, sizeof(fa_ruleset));
}

/* Frees a ruleset and every string it owns; NULL is fine. */
void fa_rules_free(fa_ruleset *rs)
{
    if (!rs)
        return;
    rollback(rs, (counts){0, 0, 0, 0});
    free(rs->products);
    free(rs->roles);
    free(rs->features);
    free(rs->rules);
    free(rs);
}

/* Appends one rule file held in memory; on error rs is left as it was. */
int fa_rules_load_string(fa_ruleset *rs, const char *name, const char *text,
                         char *err, size_t errlen)
{
    counts before = snapshot(rs);
    if (parse_text(rs, name, text, strlen(text), err, errlen) == 0)
        return 0;
    rollback(rs, before);
    return -1;
}

/* Appends one rule file read from path; on error rs is left as it was. */
int fa_rules_load_file(fa_ruleset *rs, const char *path, char *err, size_t errlen)
{
    counts before = snapshot(rs);
    if (parse_file(rs, path, err, errlen) == 0)
        return 0;
    rollback(rs, before);
    return -1;
}

/* Hidden files are skipped, as the shell's "*.rules" would. */
static int is_rules_file(const struct dirent *d)
{
    size_t len = strlen(d->d_name);
    return d->d_name[0] != '.' && len > 6 && strcmp(d->d_name + len - 6, ".rules") == 0;
}

/* Byte order, not the locale's collation, so every machine loads the files
 * (and numbers duplicate errors) the same way. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int load_list(fa_ruleset *rs, const char *dir, struct dirent **list, int n,
                     char *err, size_t errlen)
{
    char path[4096];
    for (int i = 0; i < n; i++) {
        int len = snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name);
        if (len < 0 || (size_t)len >= sizeof path) {
            if (err && errlen)
                snprintf(err, errlen, "%s: path too long", dir);
            return -1;
        }
        if (parse_file(rs, path, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* Appends every *.rules file of dir, or none of them; returns 0 or -1. */
int fa_rules_load_dir(fa_ruleset *rs, const char *dir, char *err, size_t errlen)
{
    struct dirent **list;
    int n = scandir(dir, &list, is_rules_file, by_name);
    if (n < 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    counts before = snapshot(rs);
    int rc = load_list(rs, dir, list, n, err, errlen);
    if (rc == 0 && n == 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s: no .rules files", dir);
        rc = -1;
    }
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);
    if (rc < 0)
        rollback(rs, before);
    return rc;
}

/* Returns the index of product id, or -1. */
int fa_rules_find_product(const fa_ruleset *rs, const char *id)
{
    for (int i = 0; i < rs->nproducts; i++) {
        if (strcmp(rs->products[i].id, id) == 0)
            return i;
    }
    return -1;
}

/* Returns the index of role id of product, or -1 ("any" is not a role). */
int fa_rules_find_role(const fa_ruleset *rs, int product, const char *id)
{
    for (int i = 0; i < rs->nroles; i++) {
        if (rs->roles[i].product == product && strcmp(rs->roles[i].id, id) == 0)
            return i;
    }
    return -1;
}

/* Returns the index of feature id of product, or -1. */
int fa_rules_find_feature(const fa_ruleset *rs, int product, const char *id)
{
    for (int i = 0; i < rs->nfeatures; i++) {
        if (rs->features[i].product == product && strcmp(rs->features[i].id, id) == 0)
            return i;
    }
    return -1;
}

/* Returns the index of rule id, or -1. */
int fa_rules_find_rule(const fa_ruleset *rs, const char *id)
{
    for (int i = 0; i < rs->nrules; i++) {
        if (strcmp(rs->rules[i].id, id) == 0)
            return i;
    }
    return -1;
}
