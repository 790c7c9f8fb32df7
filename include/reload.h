/* reload.h - a configuration reload (SIGHUP) read and parsed in a thread
 * of its own, so that live capture goes on while the rule and site files
 * are read: the capture thread stops only to swap the result in.
 *
 * The loader is the run core's (all or nothing, fresh objects); this
 * module only runs it and hands its result over once. */
#ifndef FLOWAUDIT_RELOAD_H
#define FLOWAUDIT_RELOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "audit.h"
#include "options.h"
#include "rules.h"
#include "site.h"

typedef struct fa_config {
    fa_ruleset *rules;
    fa_site *site;
    fa_audit *audit;
} fa_config;

/* Reads rules and site as o names them into *out; 0, or -1 with err set
 * and nothing in *out. Called in the reload thread. */
typedef int (*fa_config_load_fn)(const fa_options *o, fa_config *out, char *err, size_t errlen);

typedef struct fa_reload fa_reload;

/* Starts load(o) in a thread. Returns the job (ended by fa_reload_finish),
 * or NULL with err set when no thread could be made. */
fa_reload *fa_reload_start(const fa_options *o, fa_config_load_fn load, char *err, size_t errlen);
/* Has the load finished? Never waits. */
bool fa_reload_done(fa_reload *r);
/* Waits for the load to finish and frees the job. Returns 0 with the new
 * configuration in *out (the caller owns it), or -1 with err set. */
int fa_reload_finish(fa_reload *r, fa_config *out, char *err, size_t errlen);

#endif
