/* rules_print.c - names of rule fields, and the --list-rules output: a
 * matrix table or one JSON object per rule. */
#include "rules.h"

#include <jansson.h>
#include <string.h>

/* Longest port set text: FA_PORTSET_MAX items of "65535-65535,". */
#define PORTS_TEXT_MAX (FA_PORTSET_MAX * 12 + 1)
#define CELL_MAX PORTS_TEXT_MAX

/* Appends ",item" (or "item" when first) to buf, truncating silently. */
static void append_item(char *buf, size_t len, size_t *used, const char *item)
{
    if (*used >= len)
        return;
    int n = snprintf(buf + *used, len - *used, "%s%s", *used ? "," : "", item);
    if (n > 0)
        *used += (size_t)n;
}

/* Writes the rule's transports ("tcp,udp,proto:112") into buf; returns buf. */
char *fa_rule_transport_str(const fa_rule *r, char *buf, size_t len)
{
    static const struct { uint32_t bit; const char *name; } names[] = {
        {FA_TR_TCP, "tcp"}, {FA_TR_UDP, "udp"}, {FA_TR_ICMP, "icmp"},
        {FA_TR_ICMP6, "icmp6"}, {0, NULL},
    };
    size_t used = 0;
    if (len == 0)
        return buf;
    buf[0] = '\0';
    for (int i = 0; names[i].name; i++) {
        if (r->transports & names[i].bit)
            append_item(buf, len, &used, names[i].name);
    }
    for (int i = 0; i < r->nprotos && i < FA_MAX_PROTOS; i++) {
        char item[16];
        snprintf(item, sizeof item, "proto:%u", r->protos[i]);
        append_item(buf, len, &used, item);
    }
    return buf;
}

/* Returns "required", "optional" or "conditional" (a static string). */
const char *fa_requirement_str(fa_requirement req)
{
    switch (req) {
    case FA_REQ_REQUIRED:
        return "required";
    case FA_REQ_OPTIONAL:
        return "optional";
    case FA_REQ_CONDITIONAL:
        return "conditional";
    }
    return "unknown";
}

/* Writes the phase names of a bit set ("operation,intervention"); returns buf. */
char *fa_phase_str(uint32_t phases, char *buf, size_t len)
{
    static const struct { uint32_t bit; const char *name; } names[] = {
        {FA_PHASE_INSTALLATION, "installation"}, {FA_PHASE_OPERATION, "operation"},
        {FA_PHASE_INTERVENTION, "intervention"}, {0, NULL},
    };
    size_t used = 0;
    if (len == 0)
        return buf;
    buf[0] = '\0';
    for (int i = 0; names[i].name; i++) {
        if (phases & names[i].bit)
            append_item(buf, len, &used, names[i].name);
    }
    return buf;
}

/* Returns the id of role, or "any" for FA_ROLE_ANY; owned by rs. */
const char *fa_rule_role_id(const fa_ruleset *rs, int role)
{
    return role >= 0 && role < rs->nroles ? rs->roles[role].id : "any";
}

static const char *feature_id(const fa_ruleset *rs, const fa_rule *r)
{
    return r->feature >= 0 && r->feature < rs->nfeatures ? rs->features[r->feature].id : NULL;
}

enum { C_ID, C_PRODUCT, C_FROM, C_TO, C_TRANSPORT, C_PORTS, C_SPORTS, C_REQ, C_PHASE,
       C_FLAGS, NCOLS };

static const char *const headers[NCOLS] = {
    "ID", "PRODUCT", "FROM", "TO", "TRANSPORT", "PORTS", "SPORTS", "REQUIREMENT", "PHASE",
    "FLAGS",
};

static void rule_cells(const fa_ruleset *rs, const fa_rule *r, char cells[NCOLS][CELL_MAX])
{
    snprintf(cells[C_ID], CELL_MAX, "%s", r->id);
    snprintf(cells[C_PRODUCT], CELL_MAX, "%s", rs->products[r->product].id);
    snprintf(cells[C_FROM], CELL_MAX, "%s", fa_rule_role_id(rs, r->from_role));
    snprintf(cells[C_TO], CELL_MAX, "%s", fa_rule_role_id(rs, r->to_role));
    fa_rule_transport_str(r, cells[C_TRANSPORT], CELL_MAX);
    fa_portset_format(&r->dports, cells[C_PORTS], CELL_MAX);
    fa_portset_format(&r->sports, cells[C_SPORTS], CELL_MAX);
    const char *feature = feature_id(rs, r);
    if (r->requirement == FA_REQ_CONDITIONAL && feature)
        snprintf(cells[C_REQ], CELL_MAX, "if %s", feature);
    else
        snprintf(cells[C_REQ], CELL_MAX, "%s", fa_requirement_str(r->requirement));
    fa_phase_str(r->phases, cells[C_PHASE], CELL_MAX);
    snprintf(cells[C_FLAGS], CELL_MAX, "%s%s%s%s%s", r->customizable ? "C" : "",
             r->websocket ? "W" : "", r->longlived ? "L" : "", r->observable ? "" : "U",
             r->any_of ? "A" : "");
    if (cells[C_FLAGS][0] == '\0')
        strcpy(cells[C_FLAGS], "-");
}

static void print_row(FILE *out, char cells[NCOLS][CELL_MAX], const int width[NCOLS],
                      const char *last)
{
    for (int c = 0; c < NCOLS; c++)
        fprintf(out, "%-*s  ", width[c], cells[c]);
    fprintf(out, "%s\n", last);
}

/* A group role in FROM or TO stands for its members, which the table cannot
 * show in a column: one "GROUP role: member..." line per group follows it. */
static void print_groups(const fa_ruleset *rs, FILE *out)
{
    for (int i = 0; i < rs->nroles; i++) {
        const fa_role *g = &rs->roles[i];
        if (g->nmembers == 0)
            continue;
        fprintf(out, "GROUP %s:", g->id);
        for (int m = 0; m < g->nmembers; m++)
            fprintf(out, " %s", fa_rule_role_id(rs, g->members[m]));
        fputc('\n', out);
    }
}

/* Prints the rules as an aligned table with a flag legend; 0 or -1. */
int fa_rules_print_text(const fa_ruleset *rs, FILE *out)
{
    char cells[NCOLS][CELL_MAX];
    int width[NCOLS];
    for (int c = 0; c < NCOLS; c++)
        width[c] = (int)strlen(headers[c]);
    for (int i = 0; i < rs->nrules; i++) {
        rule_cells(rs, &rs->rules[i], cells);
        for (int c = 0; c < NCOLS; c++) {
            int w = (int)strlen(cells[c]);
            width[c] = w > width[c] ? w : width[c];
        }
    }
    for (int c = 0; c < NCOLS; c++)
        snprintf(cells[c], CELL_MAX, "%s", headers[c]);
    print_row(out, cells, width, "PURPOSE");
    for (int i = 0; i < rs->nrules; i++) {
        rule_cells(rs, &rs->rules[i], cells);
        print_row(out, cells, width, rs->rules[i].purpose ? rs->rules[i].purpose : "");
    }
    fprintf(out, "FLAGS: C customizable port, W WebSocket, L long-lived, U not observable, "
                 "A any one port satisfies the rule\n");
    print_groups(rs, out);
    return fflush(out) != 0 || ferror(out) ? -1 : 0;
}

static json_t *opt_string(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* The member role ids of a group role, or null for a plain role or "any". */
static json_t *role_members(const fa_ruleset *rs, int role)
{
    if (role < 0 || role >= rs->nroles || rs->roles[role].nmembers == 0)
        return json_null();
    json_t *a = json_array();
    for (int m = 0; a && m < rs->roles[role].nmembers; m++) {
        const char *member = fa_rule_role_id(rs, rs->roles[role].members[m]);
        if (json_array_append_new(a, json_string(member)) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* Returns a new JSON object for rule r, or NULL when out of memory. */
static json_t *rule_json(const fa_ruleset *rs, const fa_rule *r)
{
    char transport[64], ports[PORTS_TEXT_MAX], sports[PORTS_TEXT_MAX], phase[64];
    fa_rule_transport_str(r, transport, sizeof transport);
    fa_portset_format(&r->dports, ports, sizeof ports);
    fa_portset_format(&r->sports, sports, sizeof sports);
    fa_phase_str(r->phases, phase, sizeof phase);
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = json_object_set_new(o, "id", json_string(r->id));
    bad |= json_object_set_new(o, "product", json_string(rs->products[r->product].id));
    bad |= json_object_set_new(o, "from", json_string(fa_rule_role_id(rs, r->from_role)));
    bad |= json_object_set_new(o, "to", json_string(fa_rule_role_id(rs, r->to_role)));
    bad |= json_object_set_new(o, "from_members", role_members(rs, r->from_role));
    bad |= json_object_set_new(o, "to_members", role_members(rs, r->to_role));
    bad |= json_object_set_new(o, "transport", json_string(transport));
    bad |= json_object_set_new(o, "ports", json_string(ports));
    bad |= json_object_set_new(o, "src_ports", json_string(sports));
    bad |= json_object_set_new(o, "requirement", json_string(fa_requirement_str(r->requirement)));
    bad |= json_object_set_new(o, "feature", opt_string(feature_id(rs, r)));
    bad |= json_object_set_new(o, "phase", json_string(phase));
    bad |= json_object_set_new(o, "purpose", opt_string(r->purpose));
    bad |= json_object_set_new(o, "impact", opt_string(r->impact));
    bad |= json_object_set_new(o, "note", opt_string(r->note));
    bad |= json_object_set_new(o, "customizable", json_boolean(r->customizable));
    bad |= json_object_set_new(o, "any_of", json_boolean(r->any_of));
    bad |= json_object_set_new(o, "websocket", json_boolean(r->websocket));
    bad |= json_object_set_new(o, "longlived", json_boolean(r->longlived));
    bad |= json_object_set_new(o, "observable", json_boolean(r->observable));
    bad |= json_object_set_new(o, "oneway", json_boolean(r->oneway));
    bad |= json_object_set_new(o, "unobservable_reason", opt_string(r->unobservable_reason));
    bad |= json_object_set_new(o, "file", opt_string(r->file));
    bad |= json_object_set_new(o, "line", json_integer(r->line));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Prints one compact JSON object per rule and line; 0 or -1. */
int fa_rules_print_json(const fa_ruleset *rs, FILE *out)
{
    for (int i = 0; i < rs->nrules; i++) {
        json_t *o = rule_json(rs, &rs->rules[i]);
        if (!o)
            return -1;
        int rc = json_dumpf(o, out, JSON_COMPACT);
        json_decref(o);
        if (rc != 0 || fputc('\n', out) == EOF)
            return -1;
    }
    return fflush(out) != 0 || ferror(out) ? -1 : 0;
}
