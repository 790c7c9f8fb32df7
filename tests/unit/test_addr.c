/* test_addr.c - address text forms, CIDR parsing and matching (v4 and v6). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

static fa_addr addr(const char *text)
{
    fa_cidr c;
    if (fa_cidr_parse(text, &c) != 0)
        fail_msg("'%s' is not an address", text);
    assert_int_equal(c.prefix, 128);
    return c.net;
}

static fa_cidr cidr(const char *text)
{
    fa_cidr c;
    if (fa_cidr_parse(text, &c) != 0)
        fail_msg("'%s' refused", text);
    return c;
}

static void test_v4_form(void **state)
{
    (void)state;
    const uint8_t raw[4] = {192, 0, 2, 1};
    fa_addr a, b = addr("192.0.2.1");
    char buf[FA_ADDR_STRLEN];
    fa_addr_from_v4(&a, raw);
    assert_true(fa_addr_is_v4(&a));
    assert_int_equal(fa_addr_cmp(&a, &b), 0);
    assert_int_equal(a.b[10], 0xff);
    assert_int_equal(a.b[11], 0xff);
    assert_int_equal(a.b[15], 1);
    assert_string_equal(fa_addr_str(&a, buf, sizeof buf), "192.0.2.1");
    fa_addr c = addr("192.0.2.2");
    assert_true(fa_addr_cmp(&a, &c) < 0);
}

static void test_v6_form(void **state)
{
    (void)state;
    uint8_t raw[16];
    char buf[FA_ADDR_STRLEN];
    assert_int_equal(inet_pton(AF_INET6, "2001:db8::5", raw), 1);
    fa_addr a, b = addr("2001:db8::5");
    fa_addr_from_v6(&a, raw);
    assert_false(fa_addr_is_v4(&a));
    assert_int_equal(fa_addr_cmp(&a, &b), 0);
    assert_string_equal(fa_addr_str(&a, buf, sizeof buf), "2001:db8::5");
    fa_addr mapped = addr("::ffff:192.0.2.1");
    fa_addr v4 = addr("192.0.2.1");
    assert_int_equal(fa_addr_cmp(&mapped, &v4), 0);
}

/* What glibc's inet_ntop writes, which the text form was before it was
 * written by hand. */
static void expect_as_inet_ntop(const uint8_t b[16])
{
    char want[INET6_ADDRSTRLEN], got[FA_ADDR_STRLEN];
    fa_addr a;
    fa_addr_from_v6(&a, b);
    if (fa_addr_is_v4(&a))
        snprintf(want, sizeof want, "%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
    else
        assert_non_null(inet_ntop(AF_INET6, b, want, sizeof want));
    assert_string_equal(fa_addr_str(&a, got, sizeof got), want);
}

/* Every pattern of zero and non-zero groups, each non-zero group drawn
 * from values of one to four hex digits and the special ones (1 and
 * ffff, which decide the dotted forms), IPv4 addresses with every value
 * in each byte, then random addresses with many zero bytes. */
static void test_v6_as_inet_ntop(void **state)
{
    (void)state;
    static const unsigned vals[] = {1, 0xffff, 0x9, 0xab, 0xcde, 0x2001, 0x10, 0x100, 0x1000};
    uint8_t b[16];
    for (unsigned zeros = 0; zeros < 256; zeros++)
        for (unsigned v = 0; v < sizeof vals / sizeof vals[0]; v++)
            for (unsigned last = 0; last < sizeof vals / sizeof vals[0]; last++) {
                for (int i = 0; i < 8; i++) {
                    unsigned w = (zeros >> i & 1) ? 0 : i == 7 ? vals[last] : vals[(v + (unsigned)i) % 9];
                    b[2 * i] = (uint8_t)(w >> 8);
                    b[2 * i + 1] = (uint8_t)w;
                }
                expect_as_inet_ntop(b);
            }
    for (unsigned i = 0; i < 65536; i++) {
        const uint8_t v4[4] = {(uint8_t)(i >> 8), (uint8_t)i, (uint8_t)(255 - (i >> 8)), (uint8_t)(i * 7)};
        fa_addr a;
        fa_addr_from_v4(&a, v4);
        expect_as_inet_ntop(a.b);
    }
    uint64_t x = 0x243f6a8885a308d3ull;
    for (int n = 0; n < 100000; n++) {
        for (int i = 0; i < 16; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b[i] = (x & 3) ? 0 : (uint8_t)(x >> 8);
        }
        expect_as_inet_ntop(b);
    }
}

/* A buffer too small: IPv4 cut as snprintf cuts, IPv6 left empty as
 * inet_ntop leaves it. */
static void test_small_buffer(void **state)
{
    (void)state;
    char buf[16];
    fa_addr a = addr("192.0.2.123");
    assert_string_equal(fa_addr_str(&a, buf, 8), "192.0.2");
    a = addr("2001:db8::5");
    assert_string_equal(fa_addr_str(&a, buf, 8), "");
    a = addr("2001:db8::");
    assert_string_equal(fa_addr_str(&a, buf, 11), "2001:db8::");
}

static void test_v4_cidr(void **state)
{
    (void)state;
    fa_cidr net = cidr("198.51.100.0/28");
    assert_int_equal(net.prefix, 96 + 28);
    fa_addr in1 = addr("198.51.100.0"), in2 = addr("198.51.100.15");
    fa_addr out1 = addr("198.51.100.16"), out2 = addr("198.51.99.255");
    assert_true(fa_cidr_contains(&net, &in1));
    assert_true(fa_cidr_contains(&net, &in2));
    assert_false(fa_cidr_contains(&net, &out1));
    assert_false(fa_cidr_contains(&net, &out2));

    fa_cidr host = cidr("192.0.2.10/32");
    fa_addr same = addr("192.0.2.10"), next = addr("192.0.2.11");
    assert_true(fa_cidr_contains(&host, &same));
    assert_false(fa_cidr_contains(&host, &next));
    fa_cidr bare = cidr("192.0.2.10");
    assert_int_equal(bare.prefix, 128);
    assert_true(fa_cidr_contains(&bare, &same));
    assert_false(fa_cidr_contains(&bare, &next));

    fa_cidr all = cidr("0.0.0.0/0");
    fa_addr hi = addr("255.255.255.255"), v6 = addr("2001:db8::1");
    assert_int_equal(all.prefix, 96);
    assert_true(fa_cidr_contains(&all, &hi));
    assert_true(fa_cidr_contains(&all, &in1));
    assert_false(fa_cidr_contains(&all, &v6));

    fa_cidr masked = cidr("10.1.2.3/8");
    char buf[FA_ADDR_STRLEN];
    assert_string_equal(fa_addr_str(&masked.net, buf, sizeof buf), "10.0.0.0");
}

static void test_v6_cidr(void **state)
{
    (void)state;
    fa_cidr net = cidr("2001:db8:1::/64");
    assert_int_equal(net.prefix, 64);
    fa_addr in = addr("2001:db8:1::ffff:1"), out = addr("2001:db8:2::1");
    assert_true(fa_cidr_contains(&net, &in));
    assert_false(fa_cidr_contains(&net, &out));

    fa_cidr host = cidr("2001:db8::5/128");
    fa_addr same = addr("2001:db8::5"), next = addr("2001:db8::6");
    assert_true(fa_cidr_contains(&host, &same));
    assert_false(fa_cidr_contains(&host, &next));

    fa_cidr all = cidr("::/0");
    fa_addr v4 = addr("192.0.2.1");
    assert_int_equal(all.prefix, 0);
    assert_true(fa_cidr_contains(&all, &in));
    assert_true(fa_cidr_contains(&all, &v4));

    fa_cidr odd = cidr("2001:db8::ff/121");
    fa_addr lo = addr("2001:db8::80"), below = addr("2001:db8::7f");
    assert_true(fa_cidr_contains(&odd, &lo));
    assert_false(fa_cidr_contains(&odd, &below));
}

static void test_bad_input(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", "/24", "192.0.2.1/", "192.0.2.1/33", "192.0.2.1/-1", "192.0.2.1/+8",
        "192.0.2.1/8x", "192.0.2", "192.0.2.256", "1.2.3.4.5", "2001:db8::1/129",
        "2001:db8::g", "host.example", "192.0.2.1/24/8", ":::",
        "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255:1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fa_cidr c;
        if (fa_cidr_parse(bad[i], &c) != -1)
            fail_msg("'%s' was accepted", bad[i]);
    }
}

/* Every prefix length, against a bit-by-bit reference: the word-wise test
 * must agree at both ends of each 64-bit half. */
static bool reference_contains(const fa_cidr *c, const fa_addr *a)
{
    for (unsigned bit = 0; bit < c->prefix; bit++) {
        unsigned byte = bit / 8, shift = 7 - bit % 8;
        if (((a->b[byte] >> shift) & 1) != ((c->net.b[byte] >> shift) & 1))
            return false;
    }
    return true;
}

static void test_cidr_every_prefix(void **state)
{
    (void)state;
    srand(11);
    for (unsigned prefix = 0; prefix <= 128; prefix++) {
        for (int round = 0; round < 200; round++) {
            fa_cidr c = {.prefix = (uint8_t)prefix};
            fa_addr a;
            for (int i = 0; i < 16; i++)
                c.net.b[i] = (uint8_t)rand();
            /* the network address keeps only its prefix bits, as parsed */
            for (unsigned bit = prefix; bit < 128; bit++)
                c.net.b[bit / 8] &= (uint8_t)~(1u << (7 - bit % 8));
            memcpy(&a, &c.net, sizeof a);
            /* flip one bit, inside or outside the prefix, or none */
            int flip = rand() % 130 - 1;
            if (flip >= 0 && flip < 128)
                a.b[flip / 8] ^= (uint8_t)(1u << (7 - flip % 8));
            assert_int_equal(fa_cidr_contains(&c, &a), reference_contains(&c, &a));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v4_form),
        cmocka_unit_test(test_v6_form),
        cmocka_unit_test(test_v6_as_inet_ntop),
        cmocka_unit_test(test_small_buffer),
        cmocka_unit_test(test_v4_cidr),
        cmocka_unit_test(test_cidr_every_prefix),
        cmocka_unit_test(test_v6_cidr),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
