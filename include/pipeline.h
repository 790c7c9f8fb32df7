/* pipeline.h - the driver for files: reads every -r input, in order, and
 * feeds its packets to the run core. */
#ifndef FLOWAUDIT_PIPELINE_H
#define FLOWAUDIT_PIPELINE_H

#include <stddef.h>

#include "run.h"
#include "signals.h"

/* Reads the files of the run's options until the last one ends or a stop
 * signal. Returns 0, or -1 with err set ("FILE: libpcap's message"). */
int fa_pipeline_files(fa_run *r, fa_signals *sig, char *err, size_t errlen);

#endif
