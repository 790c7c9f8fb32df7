/* pipeline.h - runs capture -> decode -> flow table -> output over every
 * input named in the options. */
#ifndef FLOWAUDIT_PIPELINE_H
#define FLOWAUDIT_PIPELINE_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>

#include "options.h"

typedef struct fa_pipeline_result {
    int findings;        /* findings selected by --fail-on */
} fa_pipeline_result;

/* Requests from signal handlers, polled between packets; lock-free
 * atomics, so that the capture thread for files may poll them too. */
typedef struct fa_signals {
    atomic_int stop;    /* SIGINT, SIGTERM: finish and report */
    atomic_int reload;  /* SIGHUP: reload rules and site */
    atomic_int report;  /* SIGUSR1: report now */
} fa_signals;

/* Runs the audit. Returns 0, or -1 with err set for input and output
 * errors (the summary of what was read is still printed). */
int fa_pipeline_run(const fa_options *o, fa_signals *sig, fa_pipeline_result *res, char *err,
                    size_t errlen);

#endif
