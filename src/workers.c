/* workers.c - --workers N: N capture threads, each with its own handle on
 * every interface and its own part of the run (flow table, detector,
 * summary); each interface's handles form one PACKET_FANOUT group, so the
 * kernel gives both directions of a flow to the same thread. The driver's
 * thread (live.c) keeps the clock's work: reports, windows, reloads and
 * interim records, for which it stops the threads between two reads. */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "live_internal.h"

#define STATS_EVERY_US 1000000u

typedef struct worker {
    pthread_t thread;
    bool started;
    fa_run *part;
    fa_live_set set;
    struct fa_workers *all;
} worker;

struct fa_workers {
    worker w[FA_MAX_WORKERS];
    int n;
    fa_run *ctx;
    fa_signals *sig;
    pthread_mutex_t mu;      /* the pause handshake and the first error */
    pthread_cond_t changed;
    atomic_bool pause, quit, failed;
    int paused;
    char err[512];
};

/* The last counters of this thread's handles, into its part, which the
 * driver reads under the run's lock. */
static void publish_stats(worker *wk)
{
    fa_capture_stats st;
    fa_live_stats(&wk->set, &st);
    fa_run_lock(wk->all->ctx);
    wk->part->live = st;
    wk->part->start_skipped = wk->set.skipped;
    fa_run_unlock(wk->all->ctx);
}

static void wait_while_paused(fa_workers *all)
{
    pthread_mutex_lock(&all->mu);
    all->paused++;
    pthread_cond_broadcast(&all->changed);
    while (atomic_load(&all->pause))
        pthread_cond_wait(&all->changed, &all->mu);
    all->paused--;
    pthread_mutex_unlock(&all->mu);
}

static void fail(fa_workers *all, const char *why)
{
    pthread_mutex_lock(&all->mu);
    if (!atomic_load(&all->failed))
        snprintf(all->err, sizeof all->err, "%s", why);
    atomic_store(&all->failed, true);
    pthread_cond_broadcast(&all->changed);
    pthread_mutex_unlock(&all->mu);
}

static void *worker_main(void *arg)
{
    worker *wk = arg;
    fa_workers *all = wk->all;
    char err[512];
    uint64_t next_stats = 0;
    while (!atomic_load(&all->quit) && !all->sig->stop) {
        if (atomic_load(&all->pause))
            wait_while_paused(all);
        if (poll(wk->set.fds, (nfds_t)wk->set.n, FA_LIVE_POLL_MS) < 0 && errno != EINTR) {
            snprintf(err, sizeof err, "poll: %s", strerror(errno));
            fail(all, err);
            break;
        }
        if (fa_live_read(wk->part, &wk->set, err, sizeof err) != 0) {
            fail(all, err);
            break;
        }
        /* The flow clock starts at the wall clock (clock.h), which must
         * not be later than its first packet: a block is handed over up
         * to the read timeout after its first packet was stamped. */
        uint64_t now = fa_live_wall_us();
        if (wk->part->flow_clock.set)
            wk->part->clock_us = now;
        fa_run_part_tick(wk->part, now);
        if (now >= next_stats) {
            publish_stats(wk);
            next_stats = now + STATS_EVERY_US;
        }
    }
    publish_stats(wk);
    /* A thread that left must not hold up a pause. */
    pthread_mutex_lock(&all->mu);
    all->paused++;
    pthread_cond_broadcast(&all->changed);
    pthread_mutex_unlock(&all->mu);
    return NULL;
}

fa_workers *fa_workers_open(fa_run *ctx, char *err, size_t errlen)
{
    fa_workers *all = calloc(1, sizeof *all);
    uint16_t groups[FA_MAX_IFACES] = {0};
    if (!all) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    all->ctx = ctx;
    pthread_mutex_init(&all->mu, NULL);
    pthread_cond_init(&all->changed, NULL);
    for (int i = 0; i < ctx->nparts; i++) {
        worker *wk = &all->w[i];
        wk->part = ctx->parts[i];
        wk->all = all;
        all->n = i + 1;
        if (fa_live_open_set(&wk->set, ctx->opts, groups, err, errlen) != 0) {
            fa_workers_close(all);
            return NULL;
        }
    }
    /* A handle gets every packet of its interface from its activation
     * until it joins the group: packets stamped before the last handle
     * joined may have reached two threads, and are left unread. The flow
     * clocks start there too (a part's starts at its wall clock, which
     * must not be later than its first packet). */
    uint64_t joined = fa_live_wall_us();
    for (int i = 0; i < all->n; i++) {
        all->w[i].set.skip_before_us = joined;
        all->w[i].part->clock_us = joined;
    }
    return all;
}

const fa_live_set *fa_workers_set(const fa_workers *w)
{
    return &w->w[0].set;
}

int fa_workers_start(fa_workers *w, fa_signals *sig, char *err, size_t errlen)
{
    w->sig = sig;
    for (int i = 0; i < w->n; i++) {
        int rc = pthread_create(&w->w[i].thread, NULL, worker_main, &w->w[i]);
        if (rc != 0) {
            snprintf(err, errlen, "cannot start a capture thread: %s", strerror(rc));
            return -1;
        }
        w->w[i].started = true;
    }
    return 0;
}

static int started(const fa_workers *w)
{
    int n = 0;
    for (int i = 0; i < w->n; i++)
        n += w->w[i].started;
    return n;
}

void fa_workers_pause(fa_workers *w)
{
    pthread_mutex_lock(&w->mu);
    atomic_store(&w->pause, true);
    while (w->paused < started(w))
        pthread_cond_wait(&w->changed, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

void fa_workers_resume(fa_workers *w)
{
    pthread_mutex_lock(&w->mu);
    atomic_store(&w->pause, false);
    pthread_cond_broadcast(&w->changed);
    pthread_mutex_unlock(&w->mu);
}

bool fa_workers_failed(fa_workers *w, char *err, size_t errlen)
{
    if (!atomic_load(&w->failed))
        return false;
    pthread_mutex_lock(&w->mu);
    snprintf(err, errlen, "%s", w->err);
    pthread_mutex_unlock(&w->mu);
    return true;
}

void fa_workers_close(fa_workers *w)
{
    atomic_store(&w->quit, true);
    fa_workers_resume(w);
    for (int i = 0; i < w->n; i++) {
        if (w->w[i].started)
            pthread_join(w->w[i].thread, NULL);
        fa_live_close_set(&w->w[i].set);
    }
    pthread_cond_destroy(&w->changed);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
