/* site_template.c - --init-site PRODUCT: a commented site file to fill in,
 * written from the product's rule file, so that an admin can describe a
 * deployment without reading the matrix: every role in the vendor's
 * wording with the required rules that involve it, every feature with the
 * rules it switches on, the phases. */
#include "site.h"

#include <string.h>

static void print_rule_ids(const fa_ruleset *rs, FILE *out, bool (*pick)(const fa_ruleset *, const fa_rule *, int),
                           int arg)
{
    int col = 0, n = 0;
    for (int i = 0; i < rs->nrules; i++) {
        if (!pick(rs, &rs->rules[i], arg))
            continue;
        if (col == 0 || col > 70)
            col = fprintf(out, "\n#%s", n ? "     " : "     rules:");
        col += fprintf(out, " %s", rs->rules[i].id);
        n++;
    }
}

static bool rule_of_feature(const fa_ruleset *rs, const fa_rule *r, int feature)
{
    (void)rs;
    return r->requirement == FA_REQ_CONDITIONAL && r->feature == feature;
}

static bool plays(const fa_ruleset *rs, int rule_role, int role)
{
    if (rule_role == role)
        return true;
    for (int k = 0; rule_role >= 0 && k < rs->roles[rule_role].nmembers; k++)
        if (rs->roles[rule_role].members[k] == role)
            return true;
    return false;
}

/* Rules that name the role, or a group it belongs to. */
static bool rule_of_role(const fa_ruleset *rs, const fa_rule *r, int role)
{
    return plays(rs, r->from_role, role) || plays(rs, r->to_role, role);
}

static void print_features(const fa_ruleset *rs, int product, FILE *out)
{
    const char *pid = rs->products[product].id;
    bool any = false;
    for (int f = 0; f < rs->nfeatures; f++) {
        if (rs->features[f].product != product)
            continue;
        if (!any)
            fputs("\n# Features: uncomment those in use; each makes its rules required.\n", out);
        any = true;
        fprintf(out, "#feature %s.%s\n#     %s", pid, rs->features[f].id, rs->features[f].description);
        print_rule_ids(rs, out, rule_of_feature, f);
        fputc('\n', out);
    }
}

static bool is_group(const fa_ruleset *rs, int role)
{
    return rs->roles[role].nmembers > 0;
}

static void print_roles(const fa_ruleset *rs, int product, FILE *out)
{
    const char *pid = rs->products[product].id;
    fputs("\n# Roles, in the vendor's wording. Give each component this deployment\n"
          "# has its addresses or CIDRs; leave out the components it does not have\n"
          "# (their rules are then not audited). Hosts with no fixed address\n"
          "# (Internet clients, a cloud service) are written 'external'.\n",
          out);
    for (int r = 0; r < rs->nroles; r++) {
        if (rs->roles[r].product != product || is_group(rs, r))
            continue;
        fprintf(out, "#role %s.%s ADDRESS...\n#     %s", pid, rs->roles[r].id, rs->roles[r].description);
        print_rule_ids(rs, out, rule_of_role, r);
        fputc('\n', out);
    }
    bool any = false;
    for (int g = 0; g < rs->nroles; g++) {
        if (rs->roles[g].product != product || !is_group(rs, g))
            continue;
        if (!any)
            fputs("\n# Group roles follow from their members and need no line:\n", out);
        any = true;
        fprintf(out, "#   %s =", rs->roles[g].id);
        for (int k = 0; k < rs->roles[g].nmembers; k++)
            fprintf(out, "%s %s", k ? " +" : "", rs->roles[rs->roles[g].members[k]].id);
        fprintf(out, "  (%s)\n", rs->roles[g].description);
    }
}

int fa_site_template(const fa_ruleset *rs, int product, FILE *out)
{
    const fa_product *p = &rs->products[product];
    uint32_t phases = 0;
    char buf[64];
    for (int i = 0; i < rs->nrules; i++)
        if (rs->rules[i].product == product)
            phases |= rs->rules[i].phases;
    fprintf(out, "# Site file for %s, from %s.\n", p->name, p->file);
    if (p->source)
        fprintf(out, "# Matrix source: %s\n", p->source);
    fprintf(out, "# Format: docs/rule-format.md (\"Site files\"); check it with\n"
                 "#   flowaudit --rules DIR --site FILE -r CAPTURE\n\n"
                 "site \"%s deployment\"\nproduct %s\n"
                 "phase operation    # the phase audited; the matrix has: %s\n",
            p->name, p->id, fa_phase_str(phases, buf, sizeof buf));
    print_features(rs, product, out);
    print_roles(rs, product, out);
    return ferror(out) ? -1 : 0;
}
