/* reader.c - the capture thread for files: a fixed ring of batches
 * between the thread that fills them and the one that processes them,
 * guarded by one mutex; the lock is taken once per batch, not per packet. */
#include "reader.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"

/* The reader fills one batch while the processor works on another; the
 * other six absorb the moments when one side runs ahead (8 MiB in all):
 * the processor's pace varies with what ends when (a burst of expired
 * flows is a burst of audit and records), and with four batches the
 * reader often waited through such a burst and then the processor for
 * the reader: the whole audit of a 3 M-packet capture took 10 to 15%
 * longer on the wall clock (docs/benchmark.md section 7). */
#define BATCHES 8

struct fa_reader {
    const fa_options *opts;
    fa_signals *sig;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    fa_batch *free[BATCHES];     /* stack of empty batches */
    unsigned nfree;
    fa_batch *full[BATCHES];     /* ring of full batches, in reading order */
    unsigned full_head, nfull;
    bool done;                   /* the thread has handed out its last batch */
    int rc;
    uint64_t files;
    char err[512];
    /* progress on the terminal */
    bool show_progress;
    struct timespec progress_at;
    uint64_t packets, progress_pkts;
    fa_batch *batches[BATCHES];
};

static double elapsed(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* At most twice a second: "12.3/100.0 MB (12%), 345678 pkt/s". */
static void show_progress(fa_reader *r, fa_capture *cap, bool final)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double dt = elapsed(&r->progress_at, &now);
    if (!final && dt < 0.5)
        return;
    uint64_t done, total;
    fa_capture_progress(cap, &done, &total);
    double rate = dt > 0 ? (double)(r->packets - r->progress_pkts) / dt : 0;
    if (total)
        fprintf(stderr, "\r%.1f/%.1f MB (%.0f%%), %.0f pkt/s   ", done / 1e6, total / 1e6,
                100.0 * (double)done / (double)total, rate);
    else
        fprintf(stderr, "\r%.1f MB, %.0f pkt/s   ", done / 1e6, rate);
    if (final)
        fputc('\n', stderr);
    r->progress_at = now;
    r->progress_pkts = r->packets;
}

static fa_batch *take_free(fa_reader *r)
{
    pthread_mutex_lock(&r->lock);
    while (r->nfree == 0)
        pthread_cond_wait(&r->changed, &r->lock);
    fa_batch *b = r->free[--r->nfree];
    pthread_mutex_unlock(&r->lock);
    fa_batch_reset(b);
    return b;
}

static void hand_out(fa_reader *r, fa_batch *b)
{
    pthread_mutex_lock(&r->lock);
    r->full[(r->full_head + r->nfull++) % BATCHES] = b;
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
}

/* Reads one file into batches; *b is the batch being filled. */
static int read_file(fa_reader *r, fa_capture *cap, fa_batch **b)
{
    int dlt = fa_capture_datalink(cap);
    const uint8_t *data;
    uint32_t caplen, len;
    uint64_t ts;
    bool first = true;
    while (!r->sig->stop) {
        fa_next n = fa_capture_next(cap, &data, &caplen, &len, &ts, r->err, sizeof r->err);
        if (n == FA_NEXT_EOF)
            break;
        if (n == FA_NEXT_ERROR)
            return -1;
        if (n != FA_NEXT_PACKET)
            continue;
        if (!fa_batch_add(*b, dlt, data, caplen, len, ts)) {
            (*b)->next_ts_us = ts;
            hand_out(r, *b);
            *b = take_free(r);
            fa_batch_add(*b, dlt, data, caplen, len, ts); /* a fresh batch takes any frame */
        }
        /* A file is a time line of its own: its start may lie any time
         * after the previous file's end (clock.h). */
        (*b)->pkts[(*b)->n - 1].new_input = first;
        first = false;
        r->packets++;
        if (r->show_progress && (r->packets & 4095) == 0)
            show_progress(r, cap, false);
    }
    if (r->show_progress)
        show_progress(r, cap, true);
    return 0;
}

static void *reader_main(void *arg)
{
    fa_reader *r = arg;
    const fa_options *o = r->opts;
    fa_batch *b = take_free(r);
    for (int i = 0; i < o->nfiles && !r->sig->stop && r->rc == 0; i++) {
        fa_capture *cap;
        if (fa_capture_open_file(&cap, o->files[i], &o->capture, r->err, sizeof r->err) != 0) {
            r->rc = -1;
            break;
        }
        r->files++;
        r->show_progress = o->progress == 1 || (o->progress == -1 && isatty(STDERR_FILENO) &&
                                                 strcmp(o->files[i], "-") != 0);
        clock_gettime(CLOCK_MONOTONIC, &r->progress_at);
        r->rc = read_file(r, cap, &b);
        fa_capture_close(cap);
        if (r->rc != 0) {
            /* Keep libpcap's message, name the file. */
            char why[sizeof r->err];
            memcpy(why, r->err, sizeof why);
            snprintf(r->err, sizeof r->err, "%.200s: %.300s", o->files[i], why);
        }
    }
    pthread_mutex_lock(&r->lock);
    if (b->n)
        r->full[(r->full_head + r->nfull++) % BATCHES] = b;
    else
        r->free[r->nfree++] = b;
    r->done = true;
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* Frees the reader and the batches made so far. */
static void free_batches(fa_reader *r)
{
    for (unsigned i = 0; i < BATCHES; i++)
        free(r->batches[i]);
    free(r);
}

fa_reader *fa_reader_start(const fa_options *o, fa_signals *sig)
{
    fa_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    for (unsigned i = 0; i < BATCHES; i++)
        if (!(r->batches[i] = fa_batch_new())) {
            free_batches(r);
            return NULL;
        }
    r->opts = o;
    r->sig = sig;
    for (unsigned i = 0; i < BATCHES; i++)
        r->free[r->nfree++] = r->batches[i];
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->changed, NULL);
    if (pthread_create(&r->thread, NULL, reader_main, r) != 0) {
        pthread_cond_destroy(&r->changed);
        pthread_mutex_destroy(&r->lock);
        free_batches(r);
        return NULL;
    }
    return r;
}

fa_batch *fa_reader_next(fa_reader *r)
{
    pthread_mutex_lock(&r->lock);
    while (r->nfull == 0 && !r->done)
        pthread_cond_wait(&r->changed, &r->lock);
    fa_batch *b = NULL;
    if (r->nfull) {
        b = r->full[r->full_head];
        r->full_head = (r->full_head + 1) % BATCHES;
        r->nfull--;
    }
    pthread_mutex_unlock(&r->lock);
    return b;
}

void fa_reader_release(fa_reader *r, fa_batch *b)
{
    pthread_mutex_lock(&r->lock);
    r->free[r->nfree++] = b;
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
}

int fa_reader_finish(fa_reader *r, uint64_t *files, char *err, size_t errlen)
{
    pthread_join(r->thread, NULL);
    int rc = r->rc;
    *files = r->files;
    if (rc != 0)
        snprintf(err, errlen, "%s", r->err);
    pthread_cond_destroy(&r->changed);
    pthread_mutex_destroy(&r->lock);
    free_batches(r);
    return rc;
}
