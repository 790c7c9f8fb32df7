/* json_file.c - the -j file, written by a thread of its own: a ring of
 * blocks between the processing thread, which fills them (with stdio's
 * bytes, or with jobs: records this thread formats), and the thread that
 * writes them out. The lock is taken once per block. */
#define _GNU_SOURCE
#include "json_file.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* stdio hands on 1 MiB at a time (run.c's buffer); three blocks let the
 * processing thread run a block or two ahead of a slow disk before it
 * waits. */
#define BLOCK (1u << 20)
#define BLOCKS 3

struct fa_json_file {
    int fd;
    const atomic_int *stops; /* signals asking the run to stop, counted */
    int stops_at_open;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    char *block[BLOCKS];
    size_t len[BLOCKS];      /* bytes, or for a block of jobs... */
    uint32_t njobs[BLOCKS];  /* ...how many jobs (0: a block of bytes) */
    unsigned head, nfull;    /* ring of blocks to write, oldest at head */
    bool closing;
    int error;               /* errno of the first failed write, 0 if none */
    /* Jobs: records the writing thread formats (fa_json_file_jobs). */
    size_t job_size;
    fa_json_job_fn format;
    void *format_arg;
    bool jobs_open;          /* the slot after the last full one holds jobs: */
    unsigned jobs_at;        /* that slot, */
    uint32_t jobs_n;         /* and how many */
    FILE *stream;            /* the stream over this file, for its fflush */
    char *out;               /* the writing thread's lines, BLOCK bytes */
    fa_json_rec line;
};
typedef struct fa_json_file json_file;

/* The file is non-blocking: a pipe or FIFO whose reader stopped reading
 * is waited for in poll. Once the run has been asked to stop (at any time
 * since the file was opened), a wait in which the reader has taken
 * nothing for STALL_MS gives the write up as failed, as a stop signal
 * interrupted the blocked write() when the processing thread made it; a
 * reader that is slow but still reading gets everything. Without a stop
 * it waits as long as that did. A regular file never waits here. */
#define STALL_MS 1000

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static int write_all(json_file *j, const char *p, size_t n)
{
    uint64_t progress_ms = 0;
    while (n > 0) {
        ssize_t w = write(j->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            uint64_t now = now_ms();
            if (!progress_ms)
                progress_ms = now;
            else if (atomic_load(j->stops) != j->stops_at_open && now - progress_ms >= STALL_MS)
                return EINTR;
            struct pollfd pfd = {.fd = j->fd, .events = POLLOUT};
            poll(&pfd, 1, 100);
            continue;
        }
        if (w <= 0)
            return w < 0 ? errno : EIO;
        p += w;
        n -= (size_t)w;
        progress_ms = 0;
    }
    return 0;
}

/* Formats a block of jobs into lines and writes them, a BLOCK at a time. */
static int write_jobs(json_file *j, const char *jobs, uint32_t n)
{
    size_t used = 0;
    for (uint32_t k = 0; k < n; k++) {
        j->format(jobs + (size_t)k * j->job_size, &j->line, j->format_arg);
        if (j->line.failed) {
            fa_json_rec_reset(&j->line);
            return ENOMEM;
        }
        if (used + j->line.len + 1 > BLOCK) {
            int e = write_all(j, j->out, used);
            if (e)
                return e;
            used = 0;
        }
        if (j->line.len + 1 > BLOCK) {
            int e = write_all(j, j->line.p, j->line.len);
            if (!e)
                e = write_all(j, "\n", 1);
            if (e)
                return e;
        } else {
            memcpy(j->out + used, j->line.p, j->line.len);
            used += j->line.len;
            j->out[used++] = '\n';
        }
        fa_json_rec_reset(&j->line);
    }
    return write_all(j, j->out, used);
}

/* After a failure the blocks are still taken, unwritten, so that the
 * processing thread never waits on a file that will take nothing more;
 * it learns of the failure at its next write. */
static void *writer_main(void *arg)
{
    json_file *j = arg;
    pthread_mutex_lock(&j->lock);
    for (;;) {
        while (j->nfull == 0 && !j->closing)
            pthread_cond_wait(&j->changed, &j->lock);
        if (j->nfull == 0)
            break;
        unsigned i = j->head;
        bool failed = j->error != 0;
        pthread_mutex_unlock(&j->lock);
        int e = failed         ? 0
                : j->njobs[i] ? write_jobs(j, j->block[i], j->njobs[i])
                               : write_all(j, j->block[i], j->len[i]);
        pthread_mutex_lock(&j->lock);
        if (e && !j->error)
            j->error = e;
        j->head = (j->head + 1) % BLOCKS;
        j->nfull--;
        pthread_cond_broadcast(&j->changed);
    }
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

/* The block after the last full one belongs to this side until it is
 * counted full, so it is filled without the lock. Waits for it to be
 * free; returns its index, or -1 with errno set once a write failed. */
static int take_slot(json_file *j)
{
    pthread_mutex_lock(&j->lock);
    while (j->nfull == BLOCKS && !j->error)
        pthread_cond_wait(&j->changed, &j->lock);
    int e = j->error;
    unsigned i = (j->head + j->nfull) % BLOCKS;
    pthread_mutex_unlock(&j->lock);
    if (e) {
        errno = e;
        return -1;
    }
    return (int)i;
}

static void hand_over(json_file *j, unsigned i, size_t len, uint32_t njobs)
{
    j->len[i] = len;
    j->njobs[i] = njobs;
    pthread_mutex_lock(&j->lock);
    j->nfull++;
    pthread_cond_broadcast(&j->changed);
    pthread_mutex_unlock(&j->lock);
}

/* Jobs written before bytes go out before them. */
static void close_jobs(json_file *j)
{
    if (!j->jobs_open)
        return;
    j->jobs_open = false;
    hand_over(j, j->jobs_at, 0, j->jobs_n);
}

static ssize_t cookie_write(void *cookie, const char *buf, size_t size)
{
    json_file *j = cookie;
    close_jobs(j);
    size_t done = 0;
    while (done < size) {
        int i = take_slot(j);
        if (i < 0)
            return -1;
        size_t n = size - done < BLOCK ? size - done : BLOCK;
        memcpy(j->block[i], buf + done, n);
        hand_over(j, (unsigned)i, n, 0);
        done += n;
    }
    return (ssize_t)size;
}

void fa_json_file_drain(fa_json_file *j)
{
    close_jobs(j);
    pthread_mutex_lock(&j->lock);
    while (j->nfull > 0)
        pthread_cond_wait(&j->changed, &j->lock);
    pthread_mutex_unlock(&j->lock);
}

void fa_json_file_jobs(fa_json_file *j, size_t job_size, fa_json_job_fn format, void *arg)
{
    j->job_size = job_size;
    j->format = format;
    j->format_arg = arg;
}

int fa_json_file_job(fa_json_file *j, const void *job)
{
    /* Bytes written since the last job go out before this one. */
    if (fflush(j->stream) != 0)
        return -1;
    if (!j->jobs_open) {
        int i = take_slot(j);
        if (i < 0)
            return -1;
        j->jobs_open = true;
        j->jobs_at = (unsigned)i;
        j->jobs_n = 0;
    }
    memcpy(j->block[j->jobs_at] + (size_t)j->jobs_n * j->job_size, job, j->job_size);
    if (++j->jobs_n == BLOCK / j->job_size)
        close_jobs(j);
    return 0;
}

static void free_file(json_file *j)
{
    for (unsigned i = 0; i < BLOCKS; i++)
        free(j->block[i]);
    free(j->out);
    fa_json_rec_free(&j->line);
    free(j);
}

/* Waits for the blocks still queued, then closes the file: stdio has
 * already handed on its last buffer when it calls this. */
static int cookie_close(void *cookie)
{
    json_file *j = cookie;
    close_jobs(j);
    pthread_mutex_lock(&j->lock);
    j->closing = true;
    pthread_cond_broadcast(&j->changed);
    pthread_mutex_unlock(&j->lock);
    pthread_join(j->thread, NULL);
    int e = j->error;
    if (close(j->fd) != 0 && !e)
        e = errno;
    pthread_cond_destroy(&j->changed);
    pthread_mutex_destroy(&j->lock);
    free_file(j);
    if (e) {
        errno = e;
        return -1;
    }
    return 0;
}

FILE *fa_json_file_open(const char *path, const atomic_int *stops, fa_json_file **handle, char *err,
                        size_t errlen)
{
    json_file *j = calloc(1, sizeof *j);
    for (unsigned i = 0; j && i <= BLOCKS; i++)
        if (!(i < BLOCKS ? (j->block[i] = malloc(BLOCK)) : (j->out = malloc(BLOCK)))) {
            free_file(j);
            j = NULL;
        }
    if (!j) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    /* O_APPEND after the truncation keeps writes at the end of the file
     * if logrotate's copytruncate empties it under a running service. */
    j->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0666);
    if (j->fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free_file(j);
        return NULL;
    }
    /* Not at open: a FIFO's open would fail instead of waiting for its
     * reader. */
    int fl = fcntl(j->fd, F_GETFL);
    if (fl >= 0)
        fcntl(j->fd, F_SETFL, fl | O_NONBLOCK);
    j->stops = stops;
    j->stops_at_open = atomic_load(stops);
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->changed, NULL);
    cookie_io_functions_t io = {.read = NULL, .write = cookie_write, .seek = NULL, .close = cookie_close};
    if (pthread_create(&j->thread, NULL, writer_main, j) != 0) {
        snprintf(err, errlen, "%s: cannot start its writing thread", path);
        close(j->fd);
        pthread_cond_destroy(&j->changed);
        pthread_mutex_destroy(&j->lock);
        free_file(j);
        return NULL;
    }
    FILE *f = fopencookie(j, "w", io);
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        cookie_close(j);
        return NULL;
    }
    j->stream = f;
    fa_json_rec_init(&j->line, NULL, 0);
    if (handle)
        *handle = j;
    return f;
}
