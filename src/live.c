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

#include "options.h"
#include "run_internal.h"

#define POLL_MS 200
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

typedef struct live {
    fa_capture *caps[FA_MAX_IFACES];
    struct pollfd fds[FA_MAX_IFACES];
    int dlt[FA_MAX_IFACES];
    int n;
} live;

static void close_all(live *l)
{
    for (int i = 0; i < l->n; i++)
        fa_capture_close(l->caps[i]);
    l->n = 0;
}

static int open_all(live *l, const fa_options *o, char *err, size_t errlen)
{
    for (int i = 0; i < o->nifaces; i++) {
        if (fa_capture_open_live(&l->caps[i], o->ifaces[i], &o->capture, err, errlen) != 0)
            return -1;
        l->n++;
        l->dlt[i] = fa_capture_datalink(l->caps[i]);
        l->fds[i].fd = fa_capture_selectable_fd(l->caps[i]);
        l->fds[i].events = POLLIN;
        if (l->fds[i].fd < 0 || fa_capture_set_nonblock(l->caps[i], err, errlen) != 0) {
            if (l->fds[i].fd < 0)
                snprintf(err, errlen, "%s: cannot be polled", o->ifaces[i]);
            return -1;
        }
    }
    return 0;
}

static int read_ready(fa_run *ctx, live *l, char *err, size_t errlen)
{
    const uint8_t *data;
    uint32_t caplen, len;
    uint64_t ts;
    fa_batch *b = ctx->batch;
    int rc = 0;
    for (int i = 0; i < l->n && rc == 0; i++) {
        for (int k = 0; k < BATCH; k++) {
            fa_next r = fa_capture_next(l->caps[i], &data, &caplen, &len, &ts, err, errlen);
            if (r == FA_NEXT_ERROR)
                rc = -1;
            if (r != FA_NEXT_PACKET)
                break;
            if (!fa_batch_add(b, l->dlt[i], data, caplen, len, ts)) {
                fa_run_batch(ctx, b, false);
                fa_batch_reset(b);
                fa_batch_add(b, l->dlt[i], data, caplen, len, ts); /* an empty batch takes any frame */
            }
        }
    }
    /* The clock's work that follows reads the flow table. */
    fa_run_batch(ctx, b, false);
    fa_batch_reset(b);
    return rc;
}

/* libpcap's counters, summed over the interfaces. */
static void read_stats(fa_run *ctx, live *l)
{
    fa_capture_stats sum = {.valid = true}, one;
    for (int i = 0; i < l->n; i++) {
        fa_capture_stats_get(l->caps[i], &one);
        sum.received += one.received;
        sum.dropped += one.dropped;
        sum.if_dropped += one.if_dropped;
    }
    ctx->live = sum;
}

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

void fa_live_tick(fa_run *ctx, fa_signals *sig, fa_live_timers *t)
{
    const fa_options *o = ctx->opts;
    uint64_t now = ctx->clock_us = fa_live_wall_us();
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
}

int fa_live_run(fa_run *ctx, fa_signals *sig, char *err, size_t errlen)
{
    const fa_options *o = ctx->opts;
    live l = {.n = 0};
    if (open_all(&l, o, err, errlen) != 0 || (o->user && fa_live_drop_privileges(o->user, err, errlen) != 0)) {
        close_all(&l);
        return -1;
    }
    /* Like tcpdump's "listening on": the moment capture really started. */
    if (!o->quiet)
        for (int i = 0; i < l.n; i++)
            fprintf(stderr, "flowaudit: capturing on %s, link type %s\n", o->ifaces[i],
                    fa_capture_datalink_name(l.caps[i]));
    fa_live_timers t;
    fa_live_start(ctx, &t);
    int rc = 0;
    while (!sig->stop && rc == 0) {
        if (poll(l.fds, (nfds_t)l.n, POLL_MS) < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            rc = -1;
            break;
        }
        rc = read_ready(ctx, &l, err, errlen);
        read_stats(ctx, &l);
        fa_live_tick(ctx, sig, &t);
    }
    read_stats(ctx, &l);
    close_all(&l);
    return rc;
}
