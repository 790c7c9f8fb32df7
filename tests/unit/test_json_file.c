/* Unit tests for json_file.c: what goes in comes out whole and in order,
 * through the ring of blocks, and a failed write reaches the writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "json_file.h"

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
    FILE *f = fa_json_file_open(path, err, sizeof err);
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
    FILE *f = fa_json_file_open(path, err, sizeof err);
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
    FILE *f = fa_json_file_open("/dev/full", err, sizeof err);
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

static void test_open_error(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(fa_json_file_open("/nonexistent-dir/out.ndjson", err, sizeof err));
    assert_string_equal(err, "/nonexistent-dir/out.ndjson: No such file or directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_sizes),
        cmocka_unit_test(test_truncates),
        cmocka_unit_test(test_full_disk),
        cmocka_unit_test(test_open_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
