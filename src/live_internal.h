/* live_internal.h - what the live driver (live.c) shares with its capture
 * threads for --workers (workers.c): a set of open interfaces, read and
 * counted the same way by both. */
#ifndef FLOWAUDIT_LIVE_INTERNAL_H
#define FLOWAUDIT_LIVE_INTERNAL_H

#include <poll.h>
#include <stdint.h>

#include "capture.h"
#include "live.h"
#include "options.h"
#include "run_internal.h"
#include "signals.h"

/* The run's interfaces, open: one handle each. */
typedef struct fa_live_set {
    fa_capture *caps[FA_MAX_IFACES];
    struct pollfd fds[FA_MAX_IFACES];
    int dlt[FA_MAX_IFACES];
    int n;
    uint64_t skip_before_us; /* packets stamped earlier are not read (0: none) */
    uint64_t skipped;
} fa_live_set;

/* Opens every -i interface, non-blocking. groups: NULL, or one
 * PACKET_FANOUT group per interface to join (0: a new one, whose id is
 * put there). Returns 0, or -1 with err set (what was opened stays in s:
 * fa_live_close_set). */
int fa_live_open_set(fa_live_set *s, const fa_options *o, uint16_t *groups, char *err, size_t errlen);
void fa_live_close_set(fa_live_set *s);
/* Reads what the interfaces hold into ctx's batch and hands it to the run
 * core. Returns 0, or -1 with err set on a libpcap error. */
int fa_live_read(fa_run *ctx, fa_live_set *s, char *err, size_t errlen);
/* libpcap's counters, summed over the set. */
void fa_live_stats(const fa_live_set *s, fa_capture_stats *sum);

/* workers.c: --workers N > 1, a capture thread per part of the run. */
typedef struct fa_workers fa_workers;
/* Opens every interface once per part, each interface's handles in one
 * fanout group. NULL with err set on failure. */
fa_workers *fa_workers_open(fa_run *ctx, char *err, size_t errlen);
/* The first thread's handle set, for the link type names. */
const fa_live_set *fa_workers_set(const fa_workers *w);
/* Starts the threads. Returns 0, or -1 with err set. */
int fa_workers_start(fa_workers *w, fa_signals *sig, char *err, size_t errlen);
/* Stops the threads between two reads and waits until they are; the
 * driver then has the parts to itself until fa_workers_resume. */
void fa_workers_pause(fa_workers *w);
void fa_workers_resume(fa_workers *w);
/* True, with err set, once a thread stopped on an error. */
bool fa_workers_failed(fa_workers *w, char *err, size_t errlen);
/* Stops and joins the threads (if started), reads their last counters,
 * closes the handles and frees w. */
void fa_workers_close(fa_workers *w);

#endif
