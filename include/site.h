/* site.h - the deployment being audited: deployed products, which addresses
 * play which role, features in use, changed ports and the audited phase.
 * File format: docs/rule-format.md ("Site files"). Loading is all-or-nothing
 * with "file:line: message" errors, like the rule loader. */
#ifndef FLOWAUDIT_SITE_H
#define FLOWAUDIT_SITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "addr.h"
#include "portset.h"
#include "rules.h"

#define FA_SITE_MAX_ROLES_PER_HOST 16

typedef struct fa_site_role {
    int role;             /* index into ruleset.roles */
    fa_cidr cidr;
} fa_site_role;

typedef struct fa_site_port {
    int rule;             /* index into ruleset.rules */
    fa_portset ports;
} fa_site_port;

typedef struct fa_site {
    char *name;           /* may be NULL */
    char *file;
    uint32_t phase;       /* exactly one fa_phase_bits value */
    bool *product_deployed;  /* [ruleset.nproducts] */
    bool *feature_enabled;   /* [ruleset.nfeatures] */
    bool *role_mapped;       /* [ruleset.nroles]: deployed; a group when a member is */
    bool *role_external;     /* [ruleset.nroles]: also played by every host outside the inventory */
    char *warnings;          /* "file:line: warning: ..." lines, or NULL */
    const fa_ruleset *rs;    /* the rules it was loaded against */
    int *groups; int ngroups; /* group roles of deployed products, for the lookups */
    fa_site_role *roles; int nroles;
    fa_site_port *ports; int nports;
} fa_site;

/* Parses a site file against a loaded ruleset. Returns a new site (caller
 * frees with fa_site_free) or NULL with err holding "file:line: message". */
fa_site *fa_site_load_string(const fa_ruleset *rs, const char *name, const char *text,
                             char *err, size_t errlen);
fa_site *fa_site_load_file(const fa_ruleset *rs, const char *path, char *err, size_t errlen);
void fa_site_free(fa_site *site);

/* --init-site: writes a commented site file for product (an index into
 * rs->products) to out. Returns 0, or -1 on a write error. */
int fa_site_template(const fa_ruleset *rs, int product, FILE *out);

/* True when addr lies in any role's CIDR (the inventory). */
bool fa_site_in_inventory(const fa_site *site, const fa_addr *addr);
/* True when addr plays role: an address the site gives it (or one of its
 * members, for a group), or any address outside the inventory when the
 * role is mapped "external". A role the site does not map is not deployed
 * and matches nothing; FA_ROLE_ANY, and every role without a site, match
 * every address. */
bool fa_site_addr_has_role(const fa_site *site, int role, const fa_addr *addr);

/* The roles one address plays, worked out once (fa_site_addr_roles) for
 * the many rules a flow is checked against (fa_site_roles_have, which
 * answers as fa_site_addr_has_role would). */
typedef struct fa_addr_roles {
    bool in_inventory;
    uint8_t bits[FA_MAX_ROLES / 8];
} fa_addr_roles;
void fa_site_addr_roles(const fa_site *site, const fa_addr *addr, fa_addr_roles *out);
bool fa_site_roles_have(const fa_site *site, int role, const fa_addr_roles *r);
/* The destination ports in force for rule (site override or the rule's). */
const fa_portset *fa_site_rule_dports(const fa_site *site, const fa_ruleset *rs, int rule);

#endif
