/* test_live_read.c - fa_live_read, the read loop the live driver and its
 * capture threads share, on a savefile standing for an interface: every
 * packet goes to the run core, except those stamped before the set's
 * skip_before_us (--workers: from before every handle had joined its
 * fanout group), which are counted and left unread. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "live_internal.h"

#define CAPTURE "/pcaps/synthetic/state-SF.pcap"

typedef struct fixture {
    fa_options o;
    fa_run *run;
    char path[1024];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    const char *src = getenv("FLOWAUDIT_SRC");
    snprintf(fx->path, sizeof fx->path, "%s" CAPTURE, src ? src : ".");
    char *argv[] = {"flowaudit", "-q", "-r", fx->path, NULL};
    char err[512];
    if (fa_options_parse(&fx->o, 4, argv, err, sizeof err) != 0)
        fail_msg("%s", err);
    fx->run = fa_run_start(&fx->o, NULL, err, sizeof err);
    if (!fx->run)
        fail_msg("%s", err);
    fx->run->batch = fa_batch_new();
    assert_non_null(fx->run->batch);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    fa_run_result res;
    char err[512];
    assert_int_equal(fa_run_finish(fx->run, 0, &res, err, sizeof err), 0);
    fa_options_free(&fx->o);
    free(fx);
    return 0;
}

static void open_set(fixture *fx, fa_live_set *s)
{
    char err[512];
    *s = (fa_live_set){.n = 1};
    if (fa_capture_open_file(&s->caps[0], fx->path, &fx->o.capture, err, sizeof err) != 0)
        fail_msg("%s", err);
    s->dlt[0] = fa_capture_datalink(s->caps[0]);
}

/* The capture's packets and the time of its third. */
static uint64_t count_packets(fixture *fx, uint64_t *third)
{
    fa_live_set s;
    const uint8_t *data;
    uint32_t caplen, len;
    uint64_t ts, n = 0;
    char err[512];
    open_set(fx, &s);
    while (fa_capture_next(s.caps[0], &data, &caplen, &len, &ts, err, sizeof err) == FA_NEXT_PACKET)
        if (++n == 3)
            *third = ts;
    fa_live_close_set(&s);
    return n;
}

static void test_reads_every_packet(void **state)
{
    fixture *fx = *state;
    uint64_t third = 0, n = count_packets(fx, &third);
    assert_true(n > 3);
    fa_live_set s;
    char err[512];
    open_set(fx, &s);
    assert_int_equal(fa_live_read(fx->run, &s, err, sizeof err), 0);
    assert_int_equal(fx->run->summary.packets, n);
    assert_int_equal(s.skipped, 0);
    fa_live_close_set(&s);
}

static void test_skips_packets_before_the_mark(void **state)
{
    fixture *fx = *state;
    uint64_t third = 0, n = count_packets(fx, &third);
    fa_live_set s;
    char err[512];
    open_set(fx, &s);
    s.skip_before_us = third;
    assert_int_equal(fa_live_read(fx->run, &s, err, sizeof err), 0);
    assert_int_equal(s.skipped, 2);
    assert_int_equal(fx->run->summary.packets, n - 2);
    fa_live_close_set(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reads_every_packet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skips_packets_before_the_mark, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
