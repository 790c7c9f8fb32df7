/* test_escape.c - HTML and DOT escaping of text from the wire and from
 * configuration files: markup, quotes, control characters, bytes that are
 * not UTF-8 (stray, overlong, surrogate, beyond U+10FFFF, cut short). The
 * expected strings are written by hand from the HTML and DOT grammars. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

#define FFFD "\xEF\xBF\xBD"

typedef int (*escaper)(FILE *out, const char *s, size_t max);

static int dot_escaper(FILE *out, const char *s, size_t max)
{
    (void)max;
    return fa_dot_escape(out, s);
}

/* The escaped text of s, as one string (caller frees). */
static char *escaped(escaper fn, const char *s, size_t max)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(fn(f, s, max), 0);
    fclose(f);
    return buf;
}

static void expect_html(const char *in, size_t max, const char *want)
{
    char *got = escaped(fa_html_escape, in, max);
    assert_string_equal(got, want);
    free(got);
}

static void test_html_markup(void **state)
{
    (void)state;
    expect_html("plain text 1.2.3", 0, "plain text 1.2.3");
    expect_html("<script>alert(1)</script>", 0, "&lt;script&gt;alert(1)&lt;/script&gt;");
    expect_html("\"><img src=x onerror=alert(2)>", 0, "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;");
    expect_html("' onmouseover='x", 0, "&#39; onmouseover=&#39;x");
    expect_html("a & b &amp;", 0, "a &amp; b &amp;amp;");
    expect_html("", 0, "");
}

static void test_html_bytes(void **state)
{
    (void)state;
    expect_html("tab\there\r\nnul-free \x01\x1f\x7f", 0, "tab" FFFD "here" FFFD FFFD "nul-free " FFFD FFFD FFFD);
    expect_html("caf\xC3\xA9 \xE2\x86\x92 \xF0\x9F\x98\x80", 0, "caf\xC3\xA9 \xE2\x86\x92 \xF0\x9F\x98\x80");
    expect_html("\xff\xfe", 0, FFFD FFFD);
    expect_html("\xC0\xBC" "script", 0, FFFD FFFD "script");     /* overlong '<' */
    expect_html("\xE0\x80\xBC", 0, FFFD FFFD FFFD);              /* overlong '<' in 3 bytes */
    expect_html("\xED\xA0\x80", 0, FFFD FFFD FFFD);              /* a surrogate */
    expect_html("\xF4\x90\x80\x80", 0, FFFD FFFD FFFD FFFD);     /* beyond U+10FFFF */
    expect_html("\xE2\x86", 0, FFFD FFFD);                       /* cut short */
    expect_html("\xC2\x85next", 0, FFFD "next");                 /* a C1 control */
    expect_html("\x80<", 0, FFFD "&lt;");
}

static void test_html_cut(void **state)
{
    (void)state;
    expect_html("abcdef", 3, "abc...");
    expect_html("abc", 3, "abc");
    expect_html("<<<<", 2, "&lt;&lt;...");
    /* A cut never splits a character. */
    expect_html("\xE2\x86\x92\xE2\x86\x92", 4, "\xE2\x86\x92...");
}

static void test_utf8_seq(void **state)
{
    (void)state;
    assert_int_equal(fa_utf8_seq((const unsigned char *)"a"), 1);
    assert_int_equal(fa_utf8_seq((const unsigned char *)"\xC3\xA9"), 2);
    assert_int_equal(fa_utf8_seq((const unsigned char *)"\xEF\xBF\xBD"), 3);
    assert_int_equal(fa_utf8_seq((const unsigned char *)"\xF4\x8F\xBF\xBF"), 4);
    assert_int_equal(fa_utf8_seq((const unsigned char *)"\xC1\xBF"), 0);
    assert_int_equal(fa_utf8_seq((const unsigned char *)"\xF5\x80\x80\x80"), 0);
    assert_int_equal(fa_utf8_seq((const unsigned char *)"\xF0\x8F\xBF\xBF"), 0);
    assert_int_equal(fa_utf8_seq((const unsigned char *)"\xC3"), 0);
}

static void test_dot(void **state)
{
    (void)state;
    static const struct { const char *in, *want; } cases[] = {
        {"ras.broker", "ras.broker"},
        {"say \"hi\"", "say \\\"hi\\\""},
        {"back\\slash\\", "back\\\\slash\\\\"},
        {"two\nlines", "two\\nlines"},
        {"ctl\x01\x7f\xff end", "ctl??? end"},
        {"\"];\nn0 -> n1 [label=\"x", "\\\"];\\nn0 -> n1 [label=\\\"x"},
        {"caf\xC3\xA9", "caf\xC3\xA9"},
        {NULL, NULL},
    };
    for (int i = 0; cases[i].in; i++) {
        char *got = escaped(dot_escaper, cases[i].in, 0);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_markup), cmocka_unit_test(test_html_bytes), cmocka_unit_test(test_html_cut),
        cmocka_unit_test(test_utf8_seq), cmocka_unit_test(test_dot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
