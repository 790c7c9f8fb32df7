/* live.h - the driver for interfaces: flowaudit as a long-running
 * service on span ports and TAPs. */
#ifndef FLOWAUDIT_LIVE_H
#define FLOWAUDIT_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "run.h"
#include "signals.h"

/* Reads the interfaces of the run's options until a stop signal, with the
 * run's periodic work (expiry by the wall clock, reports, windows,
 * reloads, interim records). Returns 0, or -1 with err set. */
int fa_live_run(fa_run *r, fa_signals *sig, char *err, size_t errlen);

/* How long a live driver waits for input before its clock work: signals
 * are acted on within it. */
#define FA_LIVE_POLL_MS 200

/* When the run's periodic work is next due (wall clock, microseconds). */
typedef struct fa_live_timers {
    uint64_t expire, report, window, interim;
} fa_live_timers;

/* The wall clock, in microseconds since the epoch. */
uint64_t fa_live_wall_us(void);
/* Starts the window and the timers at the wall clock's now. */
void fa_live_start(fa_run *r, fa_live_timers *t);
/* The work that runs on the clock rather than on input, for every live
 * driver: expiry by the wall clock, reports (periodic and on SIGUSR1),
 * windows, reloads (SIGHUP), interim records, the NDJSON flush. Call it
 * at least every few hundred milliseconds. */
void fa_live_tick(fa_run *r, fa_signals *sig, fa_live_timers *t);
/* Like tcpdump -Z: from now on runs as user. Returns 0, or -1 with err
 * set; never runs on as root after a failure it can see. */
int fa_live_drop_privileges(const char *user, char *err, size_t errlen);

#endif
