/* fuzz_rules.c - fuzz target: one rule file given to fa_rules_load_string,
 * then everything that reads a loaded rule set (lookups, both printers). */
#include "fuzz_target.h"

#include <stdlib.h>

#include "fuzz_util.h"
#include "rules.h"

static void use_ruleset(const fa_ruleset *rs)
{
    FILE *sink = fuzz_sink();
    fa_rules_print_text(rs, sink);
    fa_rules_print_json(rs, sink);
    for (int i = 0; i < rs->nrules; i++) {
        const fa_rule *r = &rs->rules[i];
        if (fa_rules_find_rule(rs, r->id) < 0 ||
            fa_rules_find_product(rs, rs->products[r->product].id) != r->product)
            abort();
    }
    for (int i = 0; i < rs->nroles; i++)
        if (fa_rules_find_role(rs, rs->roles[i].product, rs->roles[i].id) < 0)
            abort();
}

/* Loads data as a rule file and reads back whatever it defined. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    char *text = fuzz_strdup(data, size);
    fa_ruleset *rs = fa_rules_new();
    if (text && rs) {
        if (fa_rules_load_string(rs, "fuzz.rules", text, err, sizeof err) == 0)
            use_ruleset(rs);
        else if (rs->nrules || rs->nproducts || rs->nroles || rs->nfeatures)
            abort(); /* a refused file must leave the set as it was */
    }
    fa_rules_free(rs);
    free(text);
    return 0;
}
