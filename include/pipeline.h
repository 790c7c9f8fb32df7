/* pipeline.h - runs capture -> decode -> flow table -> output over every
 * input named in the options. */
#ifndef FLOWAUDIT_PIPELINE_H
#define FLOWAUDIT_PIPELINE_H

#include <signal.h>
#include <stddef.h>

#include "options.h"

typedef struct fa_pipeline_result {
    int findings;        /* findings selected by --fail-on */
} fa_pipeline_result;

/* Runs the audit. stop is polled between packets (set by a signal
 * handler). Returns 0, or -1 with err set for input and output errors
 * (the summary of what was read is still printed). */
int fa_pipeline_run(const fa_options *o, volatile sig_atomic_t *stop, fa_pipeline_result *res,
                    char *err, size_t errlen);

#endif
