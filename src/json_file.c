/* json_file.c - the -j file, written by a thread of its own: a ring of
 * blocks between stdio, which fills them in the processing thread, and
 * the thread that writes them out. The lock is taken once per block. */
#define _GNU_SOURCE
#include "json_file.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* stdio hands on 1 MiB at a time (run.c's buffer); three blocks let the
 * processing thread run a block or two ahead of a slow disk before it
 * waits. */
#define BLOCK (1u << 20)
#define BLOCKS 3

typedef struct json_file {
    int fd;
    const atomic_int *stops; /* signals asking the run to stop, counted */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    char *block[BLOCKS];
    size_t len[BLOCKS];
    unsigned head, nfull;  /* ring of blocks to write, oldest at head */
    bool closing;
    int error;             /* errno of the first failed write, 0 if none */
} json_file;

/* The file is non-blocking: a pipe or FIFO whose reader stopped reading
 * is waited for in poll, and a stop signal arriving during that wait ends
 * the write as failed, as it interrupted the blocked write() when the
 * processing thread made it. Without a signal it waits as long as that
 * did. A regular file never waits here. */
static int write_all(json_file *j, const char *p, size_t n)
{
    bool waiting = false;
    int stops_then = 0;
    while (n > 0) {
        ssize_t w = write(j->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!waiting) {
                waiting = true;
                stops_then = atomic_load(j->stops);
            } else if (atomic_load(j->stops) != stops_then) {
                return EINTR;
            }
            struct pollfd pfd = {.fd = j->fd, .events = POLLOUT};
            poll(&pfd, 1, 100);
            continue;
        }
        if (w <= 0)
            return w < 0 ? errno : EIO;
        p += w;
        n -= (size_t)w;
        waiting = false;
    }
    return 0;
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
        int e = failed ? 0 : write_all(j, j->block[i], j->len[i]);
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
 * counted full, so it is filled without the lock. */
static ssize_t cookie_write(void *cookie, const char *buf, size_t size)
{
    json_file *j = cookie;
    size_t done = 0;
    while (done < size) {
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
        size_t n = size - done < BLOCK ? size - done : BLOCK;
        memcpy(j->block[i], buf + done, n);
        j->len[i] = n;
        pthread_mutex_lock(&j->lock);
        j->nfull++;
        pthread_cond_broadcast(&j->changed);
        pthread_mutex_unlock(&j->lock);
        done += n;
    }
    return (ssize_t)size;
}

static void free_file(json_file *j)
{
    for (unsigned i = 0; i < BLOCKS; i++)
        free(j->block[i]);
    free(j);
}

/* Waits for the blocks still queued, then closes the file: stdio has
 * already handed on its last buffer when it calls this. */
static int cookie_close(void *cookie)
{
    json_file *j = cookie;
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

FILE *fa_json_file_open(const char *path, const atomic_int *stops, char *err, size_t errlen)
{
    json_file *j = calloc(1, sizeof *j);
    for (unsigned i = 0; j && i < BLOCKS; i++)
        if (!(j->block[i] = malloc(BLOCK))) {
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
    }
    return f;
}
