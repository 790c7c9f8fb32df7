/* test_records.c - Zeek conn.log lines as flows (records_zeek.c): every
 * conn_state comes back from fa_flow_conn_state as Zeek wrote it, history
 * letters give each side's flags, headers that are not a conn.log's are
 * refused, and lines cut at every offset or holding values out of range
 * are rejected without reading past their end. Expected values are Zeek's
 * conn.log definitions (base/protocols/conn/main.zeek) applied by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "flow.h"
#include "records.h"
#include "records_internal.h"

#define FIELDS "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\t" \
               "orig_bytes\tresp_bytes\tconn_state\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes"

static void header(fa_zeek_tsv *z)
{
    char line[] = FIELDS, err[256];
    fa_zeek_tsv_init(z);
    assert_int_equal(fa_zeek_tsv_header(z, line, err, sizeof err), 0);
}

static bool tsv(const char *text, fa_flow *f)
{
    fa_zeek_tsv z;
    char line[512];
    header(&z);
    snprintf(line, sizeof line, "%s", text);
    return fa_zeek_tsv_line(&z, line, f);
}

/* Each state, with a history Zeek could write for it, is the state
 * fa_flow_conn_state computes for the flow made from it. */
static void test_conn_states_round_trip(void **state)
{
    (void)state;
    static const char *const rows[][2] = {
        {"S0", "S"}, {"S1", "ShAD"}, {"SF", "ShADadFf"}, {"REJ", "Sr"}, {"S2", "ShADF"},
        {"S3", "ShADf"}, {"RSTO", "ShADR"}, {"RSTR", "ShADr"}, {"RSTOS0", "SR"}, {"RSTRH", "hr"},
        {"SH", "SF"}, {"SHR", "hf"}, {"OTH", "D"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char line[256];
        fa_flow f;
        snprintf(line, sizeof line, "1700000000.5\tCx\t192.0.2.1\t40000\t192.0.2.2\t443\ttcp\t1.25\t"
                 "10\t20\t%s\t%s\t3\t130\t2\t120", rows[i][0], rows[i][1]);
        assert_true(tsv(line, &f));
        assert_string_equal(fa_conn_state_name(fa_flow_conn_state(&f)), rows[i][0]);
    }
}

static void test_fields(void **state)
{
    (void)state;
    fa_flow f;
    char a[FA_ADDR_STRLEN];
    assert_true(tsv("1700000000.000123\tCx\t192.0.2.200\t40000\t192.0.2.2\t443\ttcp\t2.5\t"
                    "10\t20\tS0\tSAD\t3\t130\t0\t0", &f));
    assert_true(f.bits & FA_FLOW_RECORD);
    assert_string_equal(fa_addr_str(fa_flow_addr(&f, 0), a, sizeof a), "192.0.2.200");
    assert_int_equal(fa_flow_port(&f, 0), 40000);
    assert_int_equal(fa_flow_port(&f, 1), 443);
    assert_int_equal(f.first_us, 1700000000000123ull);
    assert_int_equal(f.last_us, 1700000002500123ull);
    assert_int_equal(fa_flow_seq_bytes(&f, 0), 10);
    assert_int_equal(fa_flow_seq_bytes(&f, 1), 20);
    assert_int_equal(f.dir[0].pkts, 3);
    assert_int_equal(f.dir[0].ip_bytes, 130);
    /* S and A from the originator; D proves no flag. */
    assert_int_equal(f.dir[0].flags, FA_TH_SYN | FA_TH_ACK);
    assert_int_equal(f.dir[1].flags, 0);
    assert_string_equal(f.history, "SAD");
}

/* The unset marker leaves a count at 0; "icmp" with IPv6 hosts is ICMPv6. */
static void test_unset_and_icmp6(void **state)
{
    (void)state;
    fa_flow f;
    assert_true(tsv("5\tCx\t2001:db8::1\t3\t2001:db8::2\t13\ticmp\t-\t-\t-\tOTH\t-\t1\t-\t-\t-", &f));
    assert_int_equal(f.key.proto, FA_PROTO_ICMP6);
    assert_int_equal(f.first_us, f.last_us);
    assert_int_equal(f.dir[1].pkts, 0);
    assert_string_equal(f.history, "");
}

static void test_bad_values(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "1\tC\t192.0.2.1\t65536\t192.0.2.2\t1\ttcp\t0\t0\t0\tS0\tS\t1\t1\t0\t0",      /* port */
        "-1\tC\t192.0.2.1\t1\t192.0.2.2\t1\ttcp\t0\t0\t0\tS0\tS\t1\t1\t0\t0",          /* time */
        "1.\tC\t192.0.2.1\t1\t192.0.2.2\t1\ttcp\t0\t0\t0\tS0\tS\t1\t1\t0\t0",          /* time */
        "99999999999999\tC\t192.0.2.1\t1\t192.0.2.2\t1\ttcp\t0\t0\t0\tS0\tS\t1\t1\t0\t0", /* after 9999 */
        "1\tC\t192.0.2.1\t1\t2001:db8::2\t1\ttcp\t0\t0\t0\tS0\tS\t1\t1\t0\t0",         /* families */
        "1\tC\t192.0.2.0/24\t1\t192.0.2.2\t1\ttcp\t0\t0\t0\tS0\tS\t1\t1\t0\t0",        /* prefix */
        "1\tC\t192.0.2.1\t1\t192.0.2.2\t1\tsctp\t0\t0\t0\tS0\tS\t1\t1\t0\t0",          /* proto */
        "1\tC\t192.0.2.1\t1\t192.0.2.2\t1\ttcp\t0\t0\t0\tXX\tS\t1\t1\t0\t0",           /* state */
        "1\tC\t192.0.2.1\t1\t192.0.2.2\t1\ttcp\t0\t0\t0\tS0\tS\t4294967296\t1\t0\t0",  /* pkts */
        "1\tC\t192.0.2.1\t1\t192.0.2.2\t1\ttcp\t0\t0\t0\tS0\tS\t1\t18446744073709551616\t0\t0",
    };
    fa_flow f;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(tsv(bad[i], &f));
}

/* Cut anywhere before the last required column, a line is refused. */
static void test_tsv_truncated(void **state)
{
    (void)state;
    const char *full = "1700000000.5\tCx\t192.0.2.1\t40000\t192.0.2.2\t443\ttcp\t1.25\t10\t20\tSF\tShADadFf\t3\t130\t2\t120";
    const char *state_col = strstr(full, "SF");
    fa_flow f;
    for (size_t n = 0; full + n < state_col + 1; n++) {
        char line[256];
        memcpy(line, full, n);
        line[n] = '\0';
        assert_false(tsv(line, &f));
    }
    assert_true(tsv(full, &f));
}

static void test_headers(void **state)
{
    (void)state;
    fa_zeek_tsv z;
    char err[256];
    char path[] = "#path\tdns", nofields[] = "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tproto\tconn_state";
    char sep[] = "#separator \\x2c", sep_bad[] = "#separator tab", csv[] = "#fields,ts,id.orig_h,id.orig_p,"
                                                                          "id.resp_h,id.resp_p,proto,conn_state";
    fa_zeek_tsv_init(&z);
    assert_int_equal(fa_zeek_tsv_header(&z, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "dns"));
    assert_int_equal(fa_zeek_tsv_header(&z, nofields, err, sizeof err), -1);
    assert_non_null(strstr(err, "id.resp_p"));
    assert_int_equal(fa_zeek_tsv_header(&z, sep_bad, err, sizeof err), -1);
    assert_int_equal(fa_zeek_tsv_header(&z, sep, err, sizeof err), 0);
    assert_int_equal(fa_zeek_tsv_header(&z, csv, err, sizeof err), 0);
    char line[] = "1,192.0.2.1,1,192.0.2.2,53,udp,S0";
    fa_flow f;
    assert_true(fa_zeek_tsv_line(&z, line, &f));
    assert_int_equal(f.key.proto, FA_PROTO_UDP);
    /* A data line before any #fields is not a connection. */
    fa_zeek_tsv_init(&z);
    char early[] = "1\tC\t192.0.2.1\t1\t192.0.2.2\t1\ttcp";
    assert_false(fa_zeek_tsv_line(&z, early, &f));
}

static const char json_full[] =
    "{\"ts\":1700000000.25,\"uid\":\"Cx\",\"id.orig_h\":\"192.0.2.1\",\"id.orig_p\":40000,"
    "\"id.resp_h\":\"192.0.2.2\",\"id.resp_p\":53,\"proto\":\"udp\",\"service\":null,"
    "\"conn_state\":\"S0\",\"local_orig\":true,\"tunnel_parents\":[],\"x\":{\"y\":[1,{\"z\":\"\\\"\"}]},"
    "\"orig_pkts\":2,\"resp_pkts\":0}";

static void test_json(void **state)
{
    (void)state;
    fa_flow f;
    assert_true(fa_zeek_json_line(json_full, strlen(json_full), &f));
    assert_int_equal(f.key.proto, FA_PROTO_UDP);
    assert_int_equal(f.first_us, 1700000000250000ull);
    assert_int_equal(f.dir[0].pkts, 2);
    assert_string_equal(fa_conn_state_name(fa_flow_conn_state(&f)), "S0");
    /* Cut at every offset: never a flow, never a read past the cut. */
    for (size_t n = 0; n < sizeof json_full - 1; n++) {
        char *cut = malloc(n ? n : 1);
        assert_non_null(cut);
        memcpy(cut, json_full, n);
        assert_false(fa_zeek_json_line(cut, n, &f));
        free(cut);
    }
}

static void test_json_bad(void **state)
{
    (void)state;
    fa_flow f;
    char deep[256];
    size_t n = 0;
    n += (size_t)snprintf(deep, sizeof deep, "{\"a\":");
    for (int i = 0; i < 20; i++)
        deep[n++] = '[';
    deep[n] = '\0';
    static const char *const bad[] = {
        "{\"ts\":\"1\",\"id.orig_h\":\"192.0.2.1\"}",                  /* required fields missing */
        "[1,2]", "{\"ts\":1,}", "{\"ts\" 1}", "{\"ts\":1} x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(fa_zeek_json_line(bad[i], strlen(bad[i]), &f));
    assert_false(fa_zeek_json_line(deep, n, &f));
}

/* Zeek's LogAscii::json_timestamps=JSON::TS_ISO8601. Expected epochs from
 * Python's datetime (UTC), not from the program. */
static void test_json_iso_time(void **state)
{
    (void)state;
    static const struct { const char *ts; uint64_t us; } ok[] = {
        {"2023-11-14T22:13:20.000000Z", 1700000000000000ull},
        {"2023-11-14T22:13:20Z", 1700000000000000ull},
        {"2024-02-29T00:00:00.5Z", 1709164800500000ull},
        {"2000-03-01T23:59:59.1234567Z", 951955199123456ull},
        {"1970-01-01T00:00:00.000001Z", 1ull},
    };
    static const char *const bad[] = {
        "2023-02-29T00:00:00Z", "2023-13-01T00:00:00Z", "2023-04-31T00:00:00Z", "2023-11-14T24:00:00Z",
        "2023-11-14T22:13:60Z", "2023-11-14T22:13:20", "2023-11-14T22:13:20+00:00", "2023-11-14T22:13:20.Z",
        "2023-11-14 22:13:20Z", "1969-12-31T23:59:59Z", "2023-11-14T22:13:20.1x2Z", "2023-1-14T22:13:20.000Z",
    };
    char line[512];
    fa_flow f;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        snprintf(line, sizeof line, "{\"ts\":\"%s\",\"id.orig_h\":\"192.0.2.1\",\"id.orig_p\":1,"
                 "\"id.resp_h\":\"192.0.2.2\",\"id.resp_p\":53,\"proto\":\"udp\",\"conn_state\":\"S0\",\"duration\":0.5}", ok[i].ts);
        assert_true(fa_zeek_json_line(line, strlen(line), &f));
        assert_int_equal(f.first_us, ok[i].us);
        assert_int_equal(f.last_us, ok[i].us + 500000u);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(line, sizeof line, "{\"ts\":\"%s\",\"id.orig_h\":\"192.0.2.1\",\"id.orig_p\":1,"
                 "\"id.resp_h\":\"192.0.2.2\",\"id.resp_p\":53,\"proto\":\"udp\",\"conn_state\":\"S0\"}", bad[i]);
        if (fa_zeek_json_line(line, strlen(line), &f))
            fail_msg("'%s' read as a time", bad[i]);
    }
}

static void test_sniff(void **state)
{
    (void)state;
    assert_int_equal(fa_record_sniff('#'), FA_REC_ZEEK_TSV);
    assert_int_equal(fa_record_sniff('{'), FA_REC_ZEEK_JSON);
    /* pcap (both byte orders, nanosecond), pcapng, empty input */
    assert_int_equal(fa_record_sniff(0xd4), FA_REC_NONE);
    assert_int_equal(fa_record_sniff(0xa1), FA_REC_NONE);
    assert_int_equal(fa_record_sniff(0x4d), FA_REC_NONE);
    assert_int_equal(fa_record_sniff(0x0a), FA_REC_NONE);
    assert_int_equal(fa_record_sniff(EOF), FA_REC_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conn_states_round_trip), cmocka_unit_test(test_fields),
        cmocka_unit_test(test_unset_and_icmp6),        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_tsv_truncated),          cmocka_unit_test(test_headers),
        cmocka_unit_test(test_json),                   cmocka_unit_test(test_json_bad),
        cmocka_unit_test(test_sniff),                  cmocka_unit_test(test_json_iso_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
