/* test_options.c - the command line: values into their fields, range and
 * usage errors, and the --help text generated from the option table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

#define MAX_ARGS 160

/* Parses a space-separated command line (after "flowaudit"); returns the
 * parser's status, with its message in err. */
static int parse(fa_options *o, const char *line, char *err, size_t errlen)
{
    static char buf[2048];
    char *argv[MAX_ARGS] = {"flowaudit"};
    int argc = 1;
    snprintf(buf, sizeof buf, "%s", line);
    for (char *save, *w = strtok_r(buf, " ", &save); w && argc < MAX_ARGS - 1;
         w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    argv[argc] = NULL;
    err[0] = '\0';
    return fa_options_parse(o, argc, argv, err, errlen);
}

static void parse_ok(fa_options *o, const char *line)
{
    char err[256];
    if (parse(o, line, err, sizeof err) != 0)
        fail_msg("'%s' refused: %s", line, err);
}

/* The line is refused with a message containing want. */
static void assert_refused(const char *line, const char *want)
{
    fa_options o;
    char err[256];
    int rc = parse(&o, line, err, sizeof err);
    fa_options_free(&o);
    if (rc == 0)
        fail_msg("'%s' accepted, expected '%s'", line, want);
    if (!strstr(err, want))
        fail_msg("'%s': got '%s', expected '%s'", line, err, want);
}

static void test_defaults(void **state)
{
    (void)state;
    fa_options o;
    parse_ok(&o, "-r a.pcap");
    assert_int_equal(o.mode, FA_MODE_AUDIT);
    assert_int_equal(o.nfiles, 1);
    assert_string_equal(o.files[0], "a.pcap");
    assert_true(o.capture.promisc);
    assert_true(o.capture.immediate);
    assert_int_equal(o.capture.snaplen, FA_DEFAULT_SNAPLEN);
    assert_int_equal(o.interim_s, 0);
    assert_int_equal(o.evidence_ring_mib, 16);
    assert_int_equal(o.evidence_file_mib, 100);
    assert_int_equal(o.evidence_files, 5);
    assert_int_equal(o.progress, -1);
    assert_null(o.json_path);
    assert_null(o.filter);
    fa_options_free(&o);
    parse_ok(&o, "-i eth0");
    assert_int_equal(o.interim_s, 300);
    fa_options_free(&o);
}

static void test_values(void **state)
{
    (void)state;
    fa_options o;
    parse_ok(&o, "-i eth0 -i eth1 -s 64 -B 4096 -p --no-immediate --report-interval 60 "
                 "--window 2592000 --interim 0 --max-flows 100000000 --timeout udp=5 "
                 "--ws-min-idle 86400 --rules R --site S -j J -w W --evidence-buffer 1 "
                 "--evidence-size 0 --evidence-files 65536 -q --no-progress -Z nobody");
    assert_int_equal(o.nifaces, 2);
    assert_string_equal(o.ifaces[1], "eth1");
    assert_int_equal(o.capture.snaplen, 64);
    assert_int_equal(o.capture.buffer_mib, 4096);
    assert_false(o.capture.promisc);
    assert_false(o.capture.immediate);
    assert_int_equal(o.report_interval_s, 60);
    assert_int_equal(o.window_s, 2592000);
    assert_int_equal(o.interim_s, 0);
    assert_int_equal(o.flow.max_flows, 100000000);
    assert_int_equal(o.flow.timeout_s[fa_timeout_class_parse("udp")], 5);
    assert_true(o.ws_min_idle_s == 86400.0);
    assert_string_equal(o.rules_dir, "R");
    assert_string_equal(o.site_path, "S");
    assert_string_equal(o.json_path, "J");
    assert_string_equal(o.evidence_path, "W");
    assert_string_equal(o.user, "nobody");
    assert_int_equal(o.evidence_ring_mib, 1);
    assert_int_equal(o.evidence_file_mib, 0);
    assert_int_equal(o.evidence_files, 65536);
    assert_true(o.quiet);
    assert_int_equal(o.progress, 0);
    fa_options_free(&o);
}

static void test_modes_and_filter(void **state)
{
    (void)state;
    fa_options o;
    parse_ok(&o, "--check-rules some/dir");
    assert_int_equal(o.mode, FA_MODE_CHECK_RULES);
    assert_string_equal(o.rules_dir, "some/dir");
    fa_options_free(&o);
    parse_ok(&o, "--list-rules --json --rules R");
    assert_int_equal(o.mode, FA_MODE_LIST_RULES);
    assert_string_equal(o.json_path, "-");
    fa_options_free(&o);
    parse_ok(&o, "-h");
    assert_int_equal(o.mode, FA_MODE_HELP);
    fa_options_free(&o);
    parse_ok(&o, "--version");
    assert_int_equal(o.mode, FA_MODE_VERSION);
    fa_options_free(&o);
    parse_ok(&o, "-qr a.pcap --progress tcp port 80");
    assert_true(o.quiet);
    assert_int_equal(o.progress, 1);
    assert_string_equal(o.filter, "tcp port 80");
    assert_string_equal(o.capture.filter, "tcp port 80");
    fa_options_free(&o);
    parse_ok(&o, "-r a.pcap -f udp");
    assert_string_equal(o.filter, "udp");
    fa_options_free(&o);
}

static void test_range_errors(void **state)
{
    (void)state;
    assert_refused("-r a -s 63", "-s wants 64..262144, not '63'");
    assert_refused("-r a --snaplen 262145", "--snaplen wants 64..262144");
    assert_refused("-r a -B 4097", "-B wants MiB 0..4096");
    assert_refused("-r a --max-flows 0", "--max-flows wants 1..100000000, not '0'");
    assert_refused("-r a --max-flows 100000001", "--max-flows wants 1..100000000");
    assert_refused("-r a --max-flows -1", "--max-flows wants");
    assert_refused("-r a --max-flows 12x", "--max-flows wants");
    assert_refused("-r a --window 2592001", "--window wants seconds 0..2592000");
    assert_refused("-r a --interim x", "--interim wants seconds");
    assert_refused("-r a --report-interval 2592001", "--report-interval wants seconds");
    assert_refused("-r a --ws-min-idle 0", "--ws-min-idle wants seconds 1..86400");
    assert_refused("-r a --evidence-buffer 0", "--evidence-buffer wants MiB 1..65536");
    assert_refused("-r a --evidence-size 65537", "--evidence-size wants MiB 0..65536");
    assert_refused("-r a --evidence-files 65537", "--evidence-files wants 0..65536");
    assert_refused("-r a --timeout udp", "--timeout wants CLASS=SECONDS");
    assert_refused("-r a --timeout bogus=5", "--timeout: bad class or seconds");
    assert_refused("-r a --timeout udp=0", "--timeout: bad class or seconds");
    assert_refused("-r a --fail-on blocked,bogus", "unknown kind 'bogus'");
}

/* --collect: the kinds, an address or none, IPv6 in brackets; ports in
 * range, nothing after the port. */
static void test_collect(void **state)
{
    (void)state;
    static const struct {
        const char *line, *host, *port;
        bool tcp, netflow9;
    } ok[] = {
        {"--collect 4739", "", "4739", false, false},
        {"--collect udp:127.0.0.1:4739", "127.0.0.1", "4739", false, false},
        {"--collect tcp:4739", "", "4739", true, false},
        {"--collect netflow:[::1]:2055", "::1", "2055", false, true},
        {"--collect 192.0.2.1:65535", "192.0.2.1", "65535", false, false},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        fa_options o;
        parse_ok(&o, ok[i].line);
        assert_true(o.collect.set);
        assert_true(fa_options_live(&o));
        assert_string_equal(o.collect.host, ok[i].host);
        assert_string_equal(o.collect.port, ok[i].port);
        assert_int_equal(o.collect.tcp, ok[i].tcp);
        assert_int_equal(o.collect.netflow9, ok[i].netflow9);
        assert_int_equal(o.interim_s, 0);
        fa_options_free(&o);
    }
    static const char *const bad[] = {
        "--collect 0", "--collect 65536", "--collect udp:", "--collect tcp:a:", "--collect 4739x",
        "--collect [::1:4739", "--collect udp:[::1]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_refused(bad[i], "expected [udp:|tcp:|netflow:][ADDR:]PORT");
    fa_options o;
    parse_ok(&o, "--collect 4739 -Z nobody --report-interval 10 --window 60");
    assert_int_equal(o.window_s, 60);
    fa_options_free(&o);
}

static void test_usage_errors(void **state)
{
    (void)state;
    assert_refused("", "nothing to read");
    assert_refused("-q", "nothing to read");
    assert_refused("-r a -i eth0", "-r, -i, --collect and --kafka-in cannot be combined");
    assert_refused("--collect 4739 -i eth0", "cannot be combined");
    assert_refused("--collect 4739 -r a", "cannot be combined");
    assert_refused("--collect 4739 --collect 4740", "give it once");
    assert_refused("--collect 4739 tcp port 80", "--collect receives flow records");
    /* Packet capture's settings would be ignored by a collector. */
    assert_refused("--collect 4739 --snaplen 128", "--snaplen, -B, -p and --no-immediate set packet capture (-i)");
    assert_refused("--collect 4739 -B 16", "--snaplen, -B, -p and --no-immediate set packet capture (-i)");
    assert_refused("--collect 4739 -p", "--snaplen, -B, -p and --no-immediate set packet capture (-i)");
    assert_refused("--collect 4739 --no-immediate", "--snaplen, -B, -p and --no-immediate set packet capture");
    assert_refused("-r a -Z nobody", "-Z drops privileges");
    assert_refused("-r a --bogus", "unknown option: '--bogus'");
    assert_refused("-r a -x", "unknown option");
}

/* A run is a sensor (--kafka-out, with any input) or an auditor
 * (--kafka-in, alone); each side's options need their side. */
static void test_kafka(void **state)
{
    (void)state;
    fa_options o;
    parse_ok(&o, "-r a.pcap --kafka-out 127.0.0.1:9092,h:9/flows --site-key dc1 --sensor-id s1 "
                 "--sensor-networks 192.0.2.0/24 --kafka-set linger.ms=5");
    assert_string_equal(o.kafka_out, "127.0.0.1:9092,h:9/flows");
    assert_string_equal(o.site_key, "dc1");
    assert_int_equal(o.nkafka_set, 1);
    fa_options_free(&o);
    parse_ok(&o, "--kafka-in h:9092/flows --group audit --report-interval 60 --window 3600 --rules r "
                 "--site s.site --site-key dc1 --site-key dc2");
    assert_string_equal(o.kafka_group, "audit");
    assert_int_equal(o.interim_s, 0);
    assert_int_equal(o.nsite_keys, 2);
    assert_string_equal(o.site_keys[1], "dc2");
    fa_options_free(&o);
    /* An auditor that judges no site would commit the offsets of records
     * it never judged, and the group's next auditor would not read them. */
    assert_refused("--kafka-in h:9092/flows --site-key dc1", "--kafka-in needs --site FILE");
    assert_refused("--kafka-in h:9092/flows --rules r --site s.site", "--kafka-in needs --site-key KEY");
    assert_refused("-r a --kafka-out h:9092/flows --site-key a --site-key b",
                   "--kafka-out: one --site-key, the sensor's site");
    assert_refused("--kafka-in h:9092/flows -r a.pcap", "-r, -i, --collect and --kafka-in cannot be combined");
    assert_refused("--kafka-in h:9092/flows --collect 4739", "cannot be combined");
    assert_refused("-r a --kafka-out h:9092/flows", "--kafka-out needs --site-key");
    assert_refused("-r a --kafka-out h:9092 --site-key s", "wants BROKERS/TOPIC");
    assert_refused("--kafka-in h:9092/ ", "wants BROKERS/TOPIC");
    assert_refused("-r a --site-key s", "--site-key needs --kafka-out or --kafka-in");
    assert_refused("-r a --group g", "--group names the auditors' consumer group");
    assert_refused("--kafka-in h:1/t --kafka-out h:1/t --site-key s", "a sensor or an auditor, not both");
    assert_refused("-r a --kafka-set linger.ms=5", "--kafka-set needs --kafka-out or --kafka-in");
    assert_refused("--kafka-in h:1/t --rules r --site s.site --site-key s --kafka-set linger.ms", "--kafka-set wants KEY=VALUE");
}

static void test_input_caps(void **state)
{
    (void)state;
    char line[1024] = "";
    for (int i = 0; i < 17; i++)
        strcat(line, "-i e ");
    assert_refused(line, "at most 16 -i interfaces");
    line[0] = '\0';
    for (int i = 0; i < 65; i++)
        strcat(line, "-r f ");
    assert_refused(line, "at most 64 -r files");
}

static void test_missing_argument(void **state)
{
    (void)state;
    assert_refused("-r", "-r needs an argument (see --help)");
    assert_refused("-qr", "-r needs an argument (see --help)");
    assert_refused("-r a --rules", "--rules needs an argument (see --help)");
    assert_refused("-r a -j", "-j needs an argument (see --help)");
    assert_refused("-r a --max-flows", "--max-flows needs an argument (see --help)");
    assert_refused("-r --rules R", "-r needs an argument, not the option '--rules'");
    assert_refused("-r a --rules -j out", "--rules needs an argument, not the option '-j'");
    assert_refused("-r a --site --rules=R", "--site needs an argument, not the option '--rules=R'");
    fa_options o;
    parse_ok(&o, "-r -");
    assert_string_equal(o.files[0], "-");
    fa_options_free(&o);
}

static void test_live_only_with_files(void **state)
{
    (void)state;
    static const char *const live[] = {"--window 60", "--report-interval 60", "-s 100", "--snaplen 100",
                                       "-B 8", "-p", "--no-immediate", "--workers 2", NULL};
    for (int i = 0; live[i]; i++) {
        char line[128], want[64];
        snprintf(line, sizeof line, "-r a %s", live[i]);
        snprintf(want, sizeof want, "%.*s is for live capture (-i)", (int)strcspn(live[i], " "), live[i]);
        assert_refused(line, want);
        fa_options o;
        snprintf(line, sizeof line, "-i eth0 %s", live[i]);
        parse_ok(&o, line);
        fa_options_free(&o);
    }
    fa_options o;
    parse_ok(&o, "-r a --interim 60");
    assert_int_equal(o.interim_s, 60);
    fa_options_free(&o);
}

/* One thread reads as always; more turn immediate mode off and take a
 * larger buffer unless -B says otherwise, and refuse -w. */
static void test_workers(void **state)
{
    (void)state;
    fa_options o;
    parse_ok(&o, "-i eth0");
    assert_int_equal(o.workers, 1);
    assert_true(o.capture.immediate);
    assert_int_equal(o.capture.buffer_mib, 0);
    fa_options_free(&o);
    parse_ok(&o, "-i eth0 --workers 1");
    assert_true(o.capture.immediate);
    assert_int_equal(o.capture.buffer_mib, 0);
    fa_options_free(&o);
    parse_ok(&o, "-i eth0 --workers 4");
    assert_int_equal(o.workers, 4);
    assert_false(o.capture.immediate);
    assert_int_equal(o.capture.buffer_mib, 64);
    fa_options_free(&o);
    parse_ok(&o, "-i eth0 --workers 16 -B 8");
    assert_int_equal(o.capture.buffer_mib, 8);
    fa_options_free(&o);
    assert_refused("-i eth0 --workers 0", "--workers");
    assert_refused("-i eth0 --workers 17", "--workers");
    assert_refused("--collect 4739 --workers 2", "--workers splits packet capture (-i) into threads");
    parse_ok(&o, "-i eth0 --workers 1 -w out.pcap");
    fa_options_free(&o);
    parse_ok(&o, "-i eth0 --workers 4 -w out.pcap");
    assert_int_equal(o.workers, 4);
    assert_string_equal(o.evidence_path, "out.pcap");
    fa_options_free(&o);
}

static void test_fail_on_needs_audit(void **state)
{
    (void)state;
    assert_refused("-r a --fail-on blocked", "--fail-on: nothing is audited without --rules DIR");
    assert_refused("-r a --fail-on ws-killed,missing", "only ws-killed (or all) is judged without them");
    assert_refused("-r a --fail-on all,blocked", "--fail-on: nothing is audited");
    static const char *const ok[] = {"-r a --fail-on ws-killed", "-r a --fail-on none", "-r a --fail-on all",
                                     "-r a --rules R --fail-on all", "-i e --rules R --fail-on missing", NULL};
    for (int i = 0; ok[i]; i++) {
        fa_options o;
        parse_ok(&o, ok[i]);
        fa_options_free(&o);
    }
}

/* --dot draws the audit's rules; --html also shows sessions alone. */
static void test_pictures(void **state)
{
    (void)state;
    assert_refused("-r a --dot d.dot", "--dot draws the rules of the audit: it needs --rules DIR or --site FILE");
    static const char *const ok[] = {"-r a --html p.html", "-r a --rules R --dot d.dot --html p.html", NULL};
    for (int i = 0; ok[i]; i++) {
        fa_options o;
        parse_ok(&o, ok[i]);
        fa_options_free(&o);
    }
}

/* Every option's line is in --help, long name and argument, in the column
 * the rest of the text uses. */
static void test_usage_text(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    fa_options_usage(f);
    fclose(f);
    assert_non_null(strstr(text, "\n  -r, --read FILE         read a pcap or pcapng file"));
    assert_non_null(strstr(text, "\n      --max-flows N       active flow cap;"));
    assert_non_null(strstr(text, "\n      --evidence-buffer MIB  recent packets kept for -w"));
    assert_non_null(strstr(text, "\n  -p, --no-promisc        live: do not enable"));
    assert_non_null(strstr(text, "\n                          ('-' for stdin); repeat for several files, read in order\n"));
    assert_non_null(strstr(text, "\nFlows:\n      --max-flows"));
    assert_non_null(strstr(text, "\n  -V, --version           print the version\n\nExit status:"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_modes_and_filter),
        cmocka_unit_test(test_range_errors),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_collect),
        cmocka_unit_test(test_kafka),
        cmocka_unit_test(test_pictures),
        cmocka_unit_test(test_input_caps),
        cmocka_unit_test(test_missing_argument),
        cmocka_unit_test(test_live_only_with_files),
        cmocka_unit_test(test_workers),
        cmocka_unit_test(test_fail_on_needs_audit),
        cmocka_unit_test(test_usage_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
