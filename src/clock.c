/* clock.c - the flow clock (rule in clock.h). */
#include "clock.h"

static const struct {
    const char *name, *note;
} kinds[FA_TS_KINDS] = {
    [FA_TS_IN_ORDER] = {"timestamp_in_order", ""},
    [FA_TS_BACKWARDS] = {"timestamp_went_backwards", ""},
    [FA_TS_JUMP] = {"clock_jumps_accepted", " (new file, or confirmed)"},
    [FA_TS_FAR_AHEAD] = {"timestamp_far_ahead", " (processed at the clock's time)"},
    [FA_TS_FAR_BEHIND] = {"timestamp_far_behind", " (processed at the clock's time)"},
    [FA_TS_BAD] = {"timestamp_invalid", " (processed at the clock's time)"},
    [FA_TS_SKIPPED] = {"timestamp_invalid_first", " (before any valid time: skipped)"},
};

const char *fa_ts_kind_name(fa_ts_kind k)
{
    return (unsigned)k < FA_TS_KINDS ? kinds[k].name : "unknown";
}

const char *fa_ts_kind_note(fa_ts_kind k)
{
    return (unsigned)k < FA_TS_KINDS ? kinds[k].note : "";
}

uint64_t fa_ts_from_parts(int64_t sec, int64_t usec)
{
    if (sec < 0 || usec < 0 || usec >= 1000000 || (uint64_t)sec > FA_TS_MAX_US / 1000000u)
        return FA_TS_INVALID;
    return (uint64_t)sec * 1000000u + (uint64_t)usec;
}

static uint64_t distance(uint64_t a, uint64_t b)
{
    return a > b ? a - b : b - a;
}

/* Does the next packet of the file carry on from ts, far ahead of the
 * clock, rather than return to the clock's time line? A lone corrupt
 * time is followed by one near the clock; a real silence by more packets
 * after it. */
static bool next_confirms(const fa_clock *c, uint64_t ts_us, uint64_t next_us)
{
    return next_us <= FA_TS_MAX_US && next_us > c->now_us + FA_CLOCK_STEP_US &&
           next_us + FA_CLOCK_STEP_US >= ts_us;
}

/* The clock moves to ts: a new time line starts there. */
static fa_ts_kind move_to(fa_clock *c, uint64_t ts, fa_ts_kind kind, uint64_t *at_us)
{
    c->now_us = ts;
    c->set = true;
    *at_us = ts;
    return kind;
}

fa_ts_kind fa_clock_place(fa_clock *c, uint64_t ts_us, uint64_t next_us, bool new_input, uint64_t wall_us,
                          uint64_t *at_us)
{
    /* Live, the clock starts at the wall clock, so a wrong first stamp is
     * judged like any other. */
    if (!c->set && wall_us)
        move_to(c, wall_us, FA_TS_IN_ORDER, at_us);
    if (ts_us > FA_TS_MAX_US) {
        if (!c->set)
            return FA_TS_SKIPPED;
        *at_us = c->now_us;
        return FA_TS_BAD;
    }
    if (!c->set)
        return move_to(c, ts_us, FA_TS_IN_ORDER, at_us);
    if (ts_us >= c->now_us) {
        if (ts_us - c->now_us <= FA_CLOCK_STEP_US)
            return move_to(c, ts_us, FA_TS_IN_ORDER, at_us);
        /* Far ahead: believed when something besides this packet says so.
         * Live, that is the wall clock alone: the kernel stamps by it. */
        bool confirmed = wall_us ? distance(ts_us, wall_us) <= FA_CLOCK_STEP_US
                                 : new_input || next_confirms(c, ts_us, next_us);
        if (confirmed)
            return move_to(c, ts_us, FA_TS_JUMP, at_us);
        *at_us = c->now_us;
        return FA_TS_FAR_AHEAD;
    }
    if (c->now_us - ts_us <= FA_CLOCK_STEP_US) {
        *at_us = ts_us;
        return FA_TS_BACKWARDS;
    }
    *at_us = c->now_us;
    return FA_TS_FAR_BEHIND;
}
