/* clock.h - the flow clock: packet times from a capture placed on one time
 * line that never runs backwards and never jumps on one packet's word.
 *
 * Times come from the capture file or the kernel and may be anything: a
 * negative second count, a microsecond field of a million or more, a
 * year far in the future. Such a packet must not expire every open flow,
 * go back in time or wrap an addition. The rule (docs/detection.md):
 *
 * - A time that cannot be represented (before 1970, microseconds out of
 *   range, after 9999) is invalid: the packet is processed at the clock's
 *   time, or skipped before the clock has a time.
 * - A packet up to FA_CLOCK_STEP_US ahead of the clock moves it there.
 * - A packet up to FA_CLOCK_STEP_US behind it is processed at its own
 *   time (reordering) and the clock stays.
 * - A packet further ahead or behind is processed at the clock's time,
 *   unless the jump ahead is confirmed: by the packet that follows it in
 *   the same file, when that one does not return to the old time line
 *   (it is itself more than a step ahead of the clock) nor go more than a
 *   step back from this one; by the start of a new input file, which may
 *   begin any time later; or, live, by the wall clock alone, when it is
 *   within a step of the packet. */
#ifndef FLOWAUDIT_CLOCK_H
#define FLOWAUDIT_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* An hour: longer than any gap a middlebox timeout or a retransmission
 * schedule leaves in one connection, far shorter than the decades a
 * corrupt second count moves. */
#define FA_CLOCK_STEP_US (3600ull * 1000000u)
/* 9999-12-31 23:59:59.999999 UTC: every sum of a valid time and a timeout
 * (at most 30 days) or the step above stays far below 2^64. */
#define FA_TS_MAX_US 253402300799999999ull
/* A time that cannot be represented. */
#define FA_TS_INVALID UINT64_MAX

typedef enum fa_ts_kind {
    FA_TS_IN_ORDER,     /* the clock moved to it (or stayed) */
    FA_TS_BACKWARDS,    /* within a step behind: processed at its own time */
    FA_TS_JUMP,         /* far ahead but confirmed: the clock moved to it */
    FA_TS_FAR_AHEAD,    /* processed at the clock's time */
    FA_TS_FAR_BEHIND,   /* processed at the clock's time */
    FA_TS_BAD,          /* invalid: processed at the clock's time */
    FA_TS_SKIPPED,      /* invalid before the clock had a time: not processed */
    FA_TS_KINDS
} fa_ts_kind;

/* The summary's name of a kind ("timestamp_far_ahead"), and what became
 * of such a packet (" (processed at the clock's time)" or ""). */
const char *fa_ts_kind_name(fa_ts_kind k);
const char *fa_ts_kind_note(fa_ts_kind k);

typedef struct fa_clock {
    uint64_t now_us;       /* newest accepted time; valid when set */
    bool set;
} fa_clock;

/* now - then, or 0 when then is later: a packet up to an hour behind the
 * clock keeps its own time, so two packet times may come in either order,
 * and the wall clock may be set back. */
static inline uint64_t fa_time_since(uint64_t now, uint64_t then)
{
    return now > then ? now - then : 0;
}

/* A packet time from seconds and microseconds as libpcap hands them out
 * (signed, unchecked); FA_TS_INVALID when out of range. */
uint64_t fa_ts_from_parts(int64_t sec, int64_t usec);

/* Places a packet stamped ts_us (FA_TS_INVALID allowed) on the clock.
 * next_us: files, the time of the packet after it in the same file, as
 * read (FA_TS_INVALID when there is none or it is not known). new_input:
 * the first packet of an input file. wall_us: live capture's wall clock,
 * 0 for files. Sets *at_us to the time the packet is to be processed at
 * (not set for FA_TS_SKIPPED) and returns its kind. */
fa_ts_kind fa_clock_place(fa_clock *c, uint64_t ts_us, uint64_t next_us, bool new_input, uint64_t wall_us,
                          uint64_t *at_us);

#endif
