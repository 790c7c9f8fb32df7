/* fuzz_site.c - fuzz target: one site file parsed against the shipped
 * rules, then the lookups and the audit set-up that read a loaded site. */
#include "fuzz_target.h"

#include <stdlib.h>

#include "addr.h"
#include "audit.h"
#include "fuzz_util.h"
#include "site.h"

static void use_site(const fa_ruleset *rs, const fa_site *site)
{
    for (int i = 0; i < site->nroles; i++) {
        /* The network address lies in its own CIDR, so it is in the
         * inventory and plays the role it was given. */
        const fa_addr *a = &site->roles[i].cidr.net;
        if (!fa_site_in_inventory(site, a) || !fa_site_addr_has_role(site, site->roles[i].role, a))
            abort();
    }
    for (int i = 0; i < rs->nrules; i++)
        fa_site_rule_dports(site, rs, i);
    fa_audit *audit = fa_audit_new(rs, site);
    if (audit) {
        fa_audit_finish(audit);
        fa_audit_print_text(audit, fuzz_sink(), false);
        fa_audit_write_json(audit, fuzz_sink());
    }
    fa_audit_free(audit);
}

/* Loads data as a site file against the shipped rules and uses the site. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const fa_ruleset *rs = fuzz_shipped_rules();
    char err[512];
    char *text = fuzz_strdup(data, size);
    if (!text)
        return 0;
    fa_site *site = fa_site_load_string(rs, "fuzz.site", text, err, sizeof err);
    if (site)
        use_site(rs, site);
    fa_site_free(site);
    free(text);
    return 0;
}
