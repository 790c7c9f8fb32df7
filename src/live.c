/* live.c - flowaudit as a long-running service on span ports and TAPs:
 * several interfaces read through poll(), root dropped once they are open,
 * flows expired by the wall clock when traffic stops, interim records,
 * periodic and on-demand reports, audit windows, and configuration reloads
 * that keep the old configuration when the new one is bad. */
#include "live.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <pwd.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "live_internal.h"
#include "options.h"

#define BATCH 4096        /* packets read from one interface before the next */

uint64_t fa_live_wall_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

/* Like tcpdump -Z: the capture handles stay open, everything after runs
 * as the user. Fails rather than run on as root. */
int fa_live_drop_privileges(const char *user, char *err, size_t errlen)
{
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        snprintf(err, errlen, "-Z %s: no such user", user);
        return -1;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
        snprintf(err, errlen, "-Z %s: cannot switch user: %s", user, strerror(errno));
        return -1;
    }
    if (pw->pw_uid != 0 && setuid(0) == 0) {
        snprintf(err, errlen, "-Z %s: root privileges could be regained", user);
        return -1;
    }
    return 0;
}

void fa_live_close_set(fa_live_set *s)
{
    for (int i = 0; i < s->n; i++)
        fa_capture_close(s->caps[i]);
    s->n = 0;
}

int fa_live_open_set(fa_live_set *s, const fa_options *o, uint16_t *groups, char *err, size_t errlen)
{
    for (int i = 0; i < o->nifaces; i++) {
        if (fa_capture_open_live(&s->caps[i], o->ifaces[i], &o->capture, err, errlen) != 0)
            return -1;
        s->n++;
        s->dlt[i] = fa_capture_datalink(s->caps[i]);
        s->fds[i].fd = fa_capture_selectable_fd(s->caps[i]);
        s->fds[i].events = POLLIN;
        if (groups && fa_capture_join_fanout(s->caps[i], &groups[i], err, errlen) != 0)
            return -1;
        if (s->fds[i].fd < 0 || fa_capture_set_nonblock(s->caps[i], err, errlen) != 0) {
            if (s->fds[i].fd < 0)
                snprintf(err, errlen, "%s: cannot be polled", o->ifaces[i]);
            return -1;
        }
    }
    return 0;
}

int fa_live_read(fa_run *ctx, fa_live_set *s, char *err, size_t errlen)
{
    const uint8_t *data;
    uint32_t caplen, len;
    uint64_t ts;
    fa_batch *b = ctx->batch;
    int rc = 0;
    for (int i = 0; i < s->n && rc == 0; i++) {
        for (int k = 0; k < BATCH; k++) {
            fa_next r = fa_capture_next(s->caps[i], &data, &caplen, &len, &ts, err, errlen);
            if (r == FA_NEXT_ERROR)
                rc = -1;
            if (r != FA_NEXT_PACKET)
                break;
            if (ts < s->skip_before_us) {
                s->skipped++;
                continue;
            }
            if (!fa_batch_add(b, s->dlt[i], data, caplen, len, ts)) {
                fa_run_batch(ctx, b, false);
                fa_batch_reset(b);
                fa_batch_add(b, s->dlt[i], data, caplen, len, ts); /* an empty batch takes any frame */
            }
        }
    }
    /* The clock's work that follows reads the flow table. */
    fa_run_batch(ctx, b, false);
    fa_batch_reset(b);
    return rc;
}

void fa_live_stats(const fa_live_set *s, fa_capture_stats *sum)
{
    fa_capture_stats one;
    *sum = (fa_capture_stats){.valid = true};
    for (int i = 0; i < s->n; i++) {
        fa_capture_stats_get(s->caps[i], &one);
        sum->received += one.received;
        sum->dropped += one.dropped;
        sum->if_dropped += one.if_dropped;
    }
}

/* One thread reads every interface, or --workers threads read them in
 * parts while this one does the periodic work. */
typedef struct live {
    fa_live_set set;
    fa_workers *workers;
} live;

static uint64_t after(uint64_t now, uint32_t seconds)
{
    return seconds ? now + (uint64_t)seconds * 1000000u : UINT64_MAX;
}

void fa_live_start(fa_run *ctx, fa_live_timers *t)
{
    const fa_options *o = ctx->opts;
    uint64_t now = ctx->clock_us = ctx->window_start_us = fa_live_wall_us();
    *t = (fa_live_timers){now + 1000000u, after(now, o->report_interval_s), after(now, o->window_s),
                          after(now, (uint32_t)o->interim_s)};
}

/* With capture threads (w), they expire their own flows; the rest
 * touches what they share, so they are stopped for it when it is due, and
 * the run's lock keeps them out of the NDJSON stream meanwhile. */
static void tick(fa_run *ctx, fa_workers *w, fa_signals *sig, fa_live_timers *t)
{
    const fa_options *o = ctx->opts;
    uint64_t now = ctx->clock_us = fa_live_wall_us();
    bool due = sig->report || now >= t->report || now >= t->window || now >= t->interim ||
               fa_run_reload_ready(ctx);
    if (due && w)
        fa_workers_pause(w);
    fa_run_lock(ctx);
    if (now >= t->expire) {
        fa_flow_table_expire(ctx->flows, now);
        t->expire = now + 1000000u;
    }
    /* A SIGHUP during a reload is kept until that one is over, so the
     * files as they are now are read. A good reload closed the window:
     * the next one gets its full length. */
    if (sig->reload && fa_run_reload_start(ctx))
        sig->reload = 0;
    if (fa_run_reload_poll(ctx) == 1 && o->window_s)
        t->window = after(now, o->window_s);
    if (sig->report || now >= t->report) {
        sig->report = 0;
        fa_run_report(ctx, false, NULL);
        t->report = after(now, o->report_interval_s);
    }
    if (now >= t->window) {
        fa_run_report(ctx, false, NULL);
        if (ctx->audit)
            fa_audit_reset(ctx->audit);
        ctx->window_start_us = now;
        t->window = after(now, o->window_s);
    }
    if (now >= t->interim) {
        fa_run_interim(ctx, now, (uint32_t)o->interim_s);
        t->interim = after(now, (uint32_t)o->interim_s);
    }
    /* Records leave every poll interval, in batches: a flush per record
     * would cost a write per flow under heavy eviction. */
    if (ctx->json && fflush(ctx->json) != 0)
        ctx->json_failed = true;
    fa_run_unlock(ctx);
    if (due && w)
        fa_workers_resume(w);
}

void fa_live_tick(fa_run *ctx, fa_signals *sig, fa_live_timers *t)
{
    tick(ctx, NULL, sig, t);
}

/* Opens the interfaces (once per part with --workers), drops root, says
 * on stderr that capture started, and starts the capture threads. */
static int start(fa_run *ctx, live *l, fa_signals *sig, char *err, size_t errlen)
{
    const fa_options *o = ctx->opts;
    if (ctx->nparts ? !(l->workers = fa_workers_open(ctx, err, errlen))
                    : fa_live_open_set(&l->set, o, NULL, err, errlen) != 0)
        return -1;
    if (o->user && fa_live_drop_privileges(o->user, err, errlen) != 0)
        return -1;
    const fa_live_set *s = l->workers ? fa_workers_set(l->workers) : &l->set;
    /* Like tcpdump's "listening on": the moment capture really started. */
    if (!o->quiet)
        for (int i = 0; i < s->n; i++)
            fprintf(stderr, "flowaudit: capturing on %s, link type %s\n", o->ifaces[i],
                    fa_capture_datalink_name(s->caps[i]));
    return l->workers ? fa_workers_start(l->workers, sig, err, errlen) : 0;
}

static void stop(fa_run *ctx, live *l)
{
    if (l->workers) {
        fa_workers_close(l->workers);
        l->workers = NULL;
    } else {
        fa_live_stats(&l->set, &ctx->live);
    }
    fa_live_close_set(&l->set);
}

int fa_live_run(fa_run *ctx, fa_signals *sig, char *err, size_t errlen)
{
    live l = {.set.n = 0, .workers = NULL};
    if (start(ctx, &l, sig, err, errlen) != 0) {
        stop(ctx, &l);
        return -1;
    }
    fa_live_timers t;
    fa_live_start(ctx, &t);
    int rc = 0;
    while (!sig->stop && rc == 0) {
        if (poll(l.set.fds, (nfds_t)l.set.n, FA_LIVE_POLL_MS) < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            rc = -1;
            break;
        }
        if (l.workers) {
            rc = fa_workers_failed(l.workers, err, errlen) ? -1 : 0;
        } else {
            rc = fa_live_read(ctx, &l.set, err, errlen);
            fa_live_stats(&l.set, &ctx->live);
        }
        tick(ctx, l.workers, sig, &t);
    }
    stop(ctx, &l);
    return rc;
}
