/* run.h - the run core: every stage from decode to report, set up once
 * and fed batches of frames by a driver (pipeline.c for files, live.c for
 * interfaces). main.c starts it, hands it to the driver for the inputs,
 * and finishes it. */
#ifndef FLOWAUDIT_RUN_H
#define FLOWAUDIT_RUN_H

#include <stddef.h>

#include "options.h"
#include "signals.h"

typedef struct fa_run fa_run;

typedef struct fa_run_result {
    int findings;        /* findings selected by --fail-on */
} fa_run_result;

/* Loads rules and site, starts the detector, opens the NDJSON stream and
 * makes the flow table. Returns the run (ended by fa_run_finish), or NULL
 * with err set. o must outlive the run; sig (may be NULL) is the stop
 * request that cuts the wait for Kafka brokers at the end short. */
fa_run *fa_run_start(const fa_options *o, const fa_signals *sig, char *err, size_t errlen);

/* Flushes the flow table, prints the reports and the summary, closes the
 * outputs and frees the run. rc is the driver's outcome (0, or -1 with err
 * set: the summary of what was read is still printed). Returns 0, or -1
 * with err set by the driver or by a failed write. */
int fa_run_finish(fa_run *r, int rc, fa_run_result *res, char *err, size_t errlen);

#endif
