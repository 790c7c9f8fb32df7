/* live.h - the driver for interfaces: flowaudit as a long-running
 * service on span ports and TAPs. */
#ifndef FLOWAUDIT_LIVE_H
#define FLOWAUDIT_LIVE_H

#include <stddef.h>

#include "run.h"
#include "signals.h"

/* Reads the interfaces of the run's options until a stop signal, with the
 * run's periodic work (expiry by the wall clock, reports, windows,
 * reloads, interim records). Returns 0, or -1 with err set. */
int fa_live_run(fa_run *r, fa_signals *sig, char *err, size_t errlen);

#endif
