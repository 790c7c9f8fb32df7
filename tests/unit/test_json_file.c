/* Unit tests for json_file.c: what goes in comes out whole and in order,
 * through the ring of blocks, and a failed write reaches the writer. */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "json_file.h"

static atomic_int no_stops;

static char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Many times the ring's three 1 MiB blocks, in writes of every size from
 * one byte to more than a block (stdio passes those through whole), with
 * a numbered pattern that shows any byte lost, doubled or reordered. */
static void test_order_and_sizes(void **state)
{
    (void)state;
    char path[] = "/tmp/fa-json-file-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[256];
    FILE *f = fa_json_file_open(path, &no_stops, NULL, err, sizeof err);
    assert_non_null(f);
    static char big[3u << 20];
    size_t total = 0;
    uint32_t n = 0;
    for (size_t size = 1; total < (12u << 20); size = size * 7 % ((3u << 20) - 1) + 1) {
        for (size_t i = 0; i < size; i++)
            big[i] = (char)('a' + (total + i) % 23);
        assert_int_equal(fwrite(big, 1, size, f), size);
        total += size;
        if (++n % 5 == 0)
            assert_int_equal(fflush(f), 0);
    }
    assert_int_equal(fclose(f), 0);
    size_t len;
    char *got = read_whole(path, &len);
    assert_int_equal(len, total);
    for (size_t i = 0; i < len; i++)
        if (got[i] != (char)('a' + i % 23))
            fail_msg("byte %zu of %zu is wrong", i, len);
    free(got);
    unlink(path);
}

/* The file is truncated on open, then only appended to. */
static void test_truncates(void **state)
{
    (void)state;
    char path[] = "/tmp/fa-json-file-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "old contents\n", 13), 13);
    close(fd);
    char err[256];
    FILE *f = fa_json_file_open(path, &no_stops, NULL, err, sizeof err);
    assert_non_null(f);
    fputs("{}\n", f);
    assert_int_equal(fclose(f), 0);
    size_t len;
    char *got = read_whole(path, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(got, "{}\n", 3);
    free(got);
    unlink(path);
}

/* A full disk: the writer's failure comes back at a later fwrite or
 * fflush and at fclose, however much was written meanwhile, and nothing
 * blocks. */
static void test_full_disk(void **state)
{
    (void)state;
    if (access("/dev/full", W_OK) != 0)
        skip();
    char err[256];
    FILE *f = fa_json_file_open("/dev/full", &no_stops, NULL, err, sizeof err);
    assert_non_null(f);
    static char block[1u << 16];
    memset(block, 'x', sizeof block);
    int failed_at = -1;
    for (int i = 0; i < 400 && failed_at < 0; i++) {
        if (fwrite(block, 1, sizeof block, f) != sizeof block || fflush(f) != 0)
            failed_at = i;
    }
    /* The first flush is accepted before the writer has tried it. */
    assert_true(failed_at >= 0);
    assert_true(ferror(f));
    assert_int_not_equal(fclose(f), 0);
}

/* A FIFO's reader that takes a few bytes at a time, slower than the
 * writer: blocks wait in the ring while the writing thread waits on the
 * FIFO, so a block handed back before it was written shows as a wrong or
 * missing byte. */
typedef struct slow_reader {
    int fd;
    size_t got;
    int wrong;
    pthread_t thread;
} slow_reader;

static void *slow_read(void *arg)
{
    slow_reader *r = arg;
    char buf[4096];
    for (int n = 0;; n++) {
        ssize_t k = read(r->fd, buf, n % 3 ? 512 : sizeof buf);
        if (k <= 0)
            break;
        for (ssize_t i = 0; i < k; i++, r->got++)
            if (buf[i] != (char)('a' + r->got % 23))
                r->wrong++;
        if (n % 64 == 0)
            usleep(1000);
    }
    return NULL;
}

static char *make_fifo(void)
{
    char *path = strdup("/tmp/fa-json-fifo-XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    assert_int_equal(mkfifo(path, 0600), 0);
    return path;
}

static void test_slow_fifo(void **state)
{
    (void)state;
    char *path = make_fifo();
    slow_reader r = {0};
    r.fd = open(path, O_RDONLY | O_NONBLOCK);
    assert_true(r.fd >= 0);
    char err[256];
    FILE *f = fa_json_file_open(path, &no_stops, NULL, err, sizeof err);
    assert_non_null(f);
    fcntl(r.fd, F_SETFL, fcntl(r.fd, F_GETFL) & ~O_NONBLOCK);
    assert_int_equal(pthread_create(&r.thread, NULL, slow_read, &r), 0);
    static char chunk[200000];
    size_t total = 0;
    for (int i = 0; i < 40; i++) {
        size_t n = sizeof chunk - (size_t)i * 997;
        for (size_t k = 0; k < n; k++)
            chunk[k] = (char)('a' + (total + k) % 23);
        assert_int_equal(fwrite(chunk, 1, n, f), n);
        total += n;
    }
    assert_int_equal(fclose(f), 0);
    pthread_join(r.thread, NULL);
    close(r.fd);
    assert_int_equal(r.got, total);
    assert_int_equal(r.wrong, 0);
    unlink(path);
    free(path);
}

typedef struct stopper {
    atomic_int *stops;
    pthread_t thread;
} stopper;

static void *stop_soon(void *arg)
{
    stopper *s = arg;
    usleep(300000);
    (*s->stops)++;
    return NULL;
}

/* A FIFO whose reader reads nothing: the writing thread waits, the ring
 * fills, and the run's fwrite waits too, as a blocked write() did. A stop
 * signal then fails the write, and fclose reports it. */
static void test_stop_while_blocked(void **state)
{
    (void)state;
    char *path = make_fifo();
    int rfd = open(path, O_RDONLY | O_NONBLOCK);
    assert_true(rfd >= 0);
    atomic_int stops = 0;
    char err[256];
    FILE *f = fa_json_file_open(path, &stops, NULL, err, sizeof err);
    assert_non_null(f);
    stopper s = {&stops, 0};
    assert_int_equal(pthread_create(&s.thread, NULL, stop_soon, &s), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    static char chunk[1u << 20];
    memset(chunk, 'x', sizeof chunk);
    bool failed = false;
    for (int i = 0; i < 16 && !failed; i++)
        failed = fwrite(chunk, 1, sizeof chunk, f) != sizeof chunk;
    assert_true(failed || fflush(f) != 0);
    assert_int_not_equal(fclose(f), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(s.thread, NULL);
    /* The stop came after 0.3 s; the write gave up once the reader had
     * taken nothing for a second, about a second in. */
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(took >= 0.25 && took < 2.0);
    close(rfd);
    unlink(path);
    free(path);
}

/* logrotate's copytruncate empties the file under a running writer: the
 * next records go to its new end, not after a hole as long as the old
 * contents. */
static void test_appends_after_truncation(void **state)
{
    (void)state;
    char path[] = "/tmp/fa-json-file-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[256];
    FILE *f = fa_json_file_open(path, &no_stops, NULL, err, sizeof err);
    assert_non_null(f);
    static char old[100000];
    memset(old, 'o', sizeof old);
    assert_int_equal(fwrite(old, 1, sizeof old, f), sizeof old);
    assert_int_equal(fflush(f), 0);
    struct stat st;
    for (int i = 0; i < 500 && (stat(path, &st) != 0 || st.st_size < (off_t)sizeof old); i++)
        usleep(10000);
    assert_int_equal(st.st_size, sizeof old);
    assert_int_equal(truncate(path, 0), 0);
    fputs("{\"after\":1}\n", f);
    assert_int_equal(fclose(f), 0);
    size_t len;
    char *got = read_whole(path, &len);
    assert_int_equal(len, 12);
    assert_memory_equal(got, "{\"after\":1}\n", 12);
    free(got);
    unlink(path);
}

/* Jobs: a number the writing thread turns into {"n":N}. */
static void format_n(const void *job, fa_json_rec *line, void *arg)
{
    (void)arg;
    uint32_t n;
    memcpy(&n, job, sizeof n);
    fa_json_rec_open(line, NULL);
    fa_json_rec_int(line, "n", n);
    fa_json_rec_close(line);
}

/* Jobs and bytes interleaved come out in the order they went in, across
 * many blocks of jobs (a block holds 262,144 of these), and drain returns
 * only once they are all written. */
static void test_jobs_in_order(void **state)
{
    (void)state;
    char path[] = "/tmp/fa-json-file-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char err[256];
    fa_json_file *jf = NULL;
    FILE *f = fa_json_file_open(path, &no_stops, &jf, err, sizeof err);
    assert_non_null(f);
    assert_non_null(jf);
    fa_json_file_jobs(jf, sizeof(uint32_t), format_n, NULL);
    char *want = NULL;
    size_t want_len = 0;
    FILE *w = open_memstream(&want, &want_len);
    assert_non_null(w);
    for (uint32_t n = 0; n < 600000; n++) {
        if (n % 1000 == 7 || n % 250007 == 3) {
            fprintf(f, "{\"b\":%u}\n", n);
            fprintf(w, "{\"b\":%u}\n", n);
        }
        assert_int_equal(fa_json_file_job(jf, &n), 0);
        fprintf(w, "{\"n\":%u}\n", n);
    }
    fputs("{\"last\":true}\n", f);
    fputs("{\"last\":true}\n", w);
    fclose(w);
    assert_int_equal(fflush(f), 0);
    fa_json_file_drain(jf);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, want_len);
    assert_int_equal(fclose(f), 0);
    size_t len;
    char *got = read_whole(path, &len);
    assert_int_equal(len, want_len);
    assert_memory_equal(got, want, len);
    free(got);
    free(want);
    unlink(path);
}

static void test_open_error(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(fa_json_file_open("/nonexistent-dir/out.ndjson", &no_stops, NULL, err, sizeof err));
    assert_string_equal(err, "/nonexistent-dir/out.ndjson: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_sizes),
        cmocka_unit_test(test_truncates),
        cmocka_unit_test(test_full_disk),
        cmocka_unit_test(test_slow_fifo),
        cmocka_unit_test(test_stop_while_blocked),
        cmocka_unit_test(test_appends_after_truncation),
        cmocka_unit_test(test_jobs_in_order),
        cmocka_unit_test(test_open_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
