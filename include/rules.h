/* rules.h - the vendors' port matrices, loaded from rules/<product>.rules.
 *
 * File format: docs/rule-format.md. Loading is all-or-nothing: on the first
 * error the loader returns -1 and writes "file:line: message" into the
 * caller's error buffer; the ruleset passed in is left unchanged. */
#ifndef FLOWAUDIT_RULES_H
#define FLOWAUDIT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lexer.h"
#include "portset.h"

#define FA_ROLE_ANY (-1)      /* built-in role "any" */
#define FA_MAX_RULES 4096
#define FA_MAX_ROLES 1024
#define FA_MAX_FEATURES 256
#define FA_MAX_PRODUCTS 32
#define FA_MAX_PROTOS 4       /* proto:N entries per rule */
#define FA_GROUP_MAX 16       /* members of one group role */

enum fa_transport_bits {
    FA_TR_TCP = 1u << 0,
    FA_TR_UDP = 1u << 1,
    FA_TR_ICMP = 1u << 2,
    FA_TR_ICMP6 = 1u << 3,
    FA_TR_PROTO = 1u << 4, /* see rule.protos[] */
};

enum fa_phase_bits {
    FA_PHASE_INSTALLATION = 1u << 0,
    FA_PHASE_OPERATION = 1u << 1,
    FA_PHASE_INTERVENTION = 1u << 2,
};

typedef enum fa_requirement {
    FA_REQ_REQUIRED,
    FA_REQ_OPTIONAL,
    FA_REQ_CONDITIONAL, /* required when rule.feature is in use */
} fa_requirement;

typedef struct fa_product {
    char id[FA_ID_MAX];
    char *name;
    char *source;         /* may be NULL */
    char *file;           /* file it was loaded from */
} fa_product;

typedef struct fa_role {
    char id[FA_ID_MAX];
    char *description;
    int product;          /* index into ruleset.products */
    int nmembers;         /* > 0: a group role, played by whoever plays a member */
    int members[FA_GROUP_MAX]; /* indices into ruleset.roles, none a group */
    int line;             /* where it was declared */
} fa_role;

typedef struct fa_feature {
    char id[FA_ID_MAX];
    char *description;
    int product;
} fa_feature;

typedef struct fa_rule {
    char id[FA_ID_MAX];
    int product;          /* index into ruleset.products */
    int from_role, to_role; /* index into ruleset.roles, or FA_ROLE_ANY */
    uint32_t transports;  /* fa_transport_bits */
    uint8_t protos[FA_MAX_PROTOS];
    uint8_t nprotos;
    fa_portset dports;
    fa_portset sports;    /* any unless the document fixes a source port */
    fa_requirement requirement;
    int feature;          /* index into ruleset.features, -1 if none */
    uint32_t phases;      /* fa_phase_bits */
    char *purpose;
    char *impact;         /* may be NULL */
    char *note;           /* may be NULL */
    char *unobservable_reason; /* NULL when observable */
    bool customizable;
    bool websocket;
    bool longlived;       /* true when websocket is */
    bool observable;
    bool oneway;          /* udp/proto:N traffic that is never answered (syslog, traps) */
    bool any_of;          /* the ports are alternatives: one answered port satisfies the row */
    const char *file;     /* points at products[product].file */
    int line;
} fa_rule;

typedef struct fa_ruleset {
    fa_product *products; int nproducts;
    fa_role *roles;       int nroles;
    fa_feature *features; int nfeatures;
    fa_rule *rules;       int nrules;
} fa_ruleset;

/* Returns a new empty ruleset (owned by the caller, fa_rules_free), or NULL
 * when out of memory. */
fa_ruleset *fa_rules_new(void);
void fa_rules_free(fa_ruleset *rs);

/* Parses one rule file held in memory; name is used in error messages and
 * recorded as the product's file. Appends to rs only if the whole text is
 * valid. Returns 0 or -1 (err holds "name:line: message"). */
int fa_rules_load_string(fa_ruleset *rs, const char *name, const char *text,
                         char *err, size_t errlen);
/* Reads and parses one file (as fa_rules_load_string). */
int fa_rules_load_file(fa_ruleset *rs, const char *path, char *err, size_t errlen);
/* Loads every *.rules file of dir, in name order. All-or-nothing across the
 * directory. Returns 0 or -1. */
int fa_rules_load_dir(fa_ruleset *rs, const char *dir, char *err, size_t errlen);

/* Lookups; return an index or -1. */
int fa_rules_find_product(const fa_ruleset *rs, const char *id);
int fa_rules_find_role(const fa_ruleset *rs, int product, const char *id);
int fa_rules_find_feature(const fa_ruleset *rs, int product, const char *id);
int fa_rules_find_rule(const fa_ruleset *rs, const char *id);

/* Names for printing: "tcp,udp", "required"/"optional"/"conditional" (the
 * feature is rule.feature),
 * "operation,intervention". Write into buf and return it. */
char *fa_rule_transport_str(const fa_rule *r, char *buf, size_t len);
const char *fa_requirement_str(fa_requirement req);
char *fa_phase_str(uint32_t phases, char *buf, size_t len);
/* "from"/"to" role id of a rule, or "any". */
const char *fa_rule_role_id(const fa_ruleset *rs, int role);

/* --list-rules: a matrix table, or one JSON object per line (fields listed
 * in docs/output-schema.md). Return 0 or -1 on write error. */
int fa_rules_print_text(const fa_ruleset *rs, FILE *out);
int fa_rules_print_json(const fa_ruleset *rs, FILE *out);

#endif
