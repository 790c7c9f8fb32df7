/* options.c - the command line. One row per option in opt_table drives
 * getopt_long's arrays, the parsing and the --help text, so an option is
 * added in one place. */
#include "options.h"

#include "audit.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define HELP_COLUMN 26        /* where the help text of an option starts */
#define OPT_LONG_BASE 256     /* getopt_long value of row i: OPT_LONG_BASE + i */

typedef int (*opt_handler)(fa_options *o, const char *arg, char *err, size_t errlen);

/* What an option does with its argument (or, without one, its value). */
typedef enum opt_kind {
    OPT_STRING,  /* the argument is kept in a const char * field */
    OPT_U32,     /* a number in [min, max] into a uint32_t field */
    OPT_INT,     /* a number in [min, max] into an int field */
    OPT_DOUBLE,  /* a number in [min, max] into a double field */
    OPT_BOOL,    /* a bool field becomes value */
    OPT_SET_INT, /* an int field becomes value */
    OPT_MODE,    /* the mode becomes value */
    OPT_CALL,    /* set() takes the argument */
} opt_kind;

typedef struct opt_row {
    const char *name;    /* long name; NULL closes the table */
    char short_name;     /* 0: long only */
    const char *arg;     /* the argument's name in --help; NULL: takes none */
    opt_kind kind;
    size_t field;        /* offsetof(fa_options, ...) the option sets */
    unsigned long min, max;
    const char *unit;    /* of the range, in range errors ("MiB ") */
    int value;           /* OPT_BOOL, OPT_SET_INT, OPT_MODE */
    opt_handler set;     /* OPT_CALL */
    bool live_only;      /* live capture only: a usage error with -r */
    const char *section; /* --help heading printed before this row */
    const char *help;    /* --help lines, '\n' between them */
} opt_row;

static int append(const char **list, int *n, int max, const char *what, const char *arg,
                  char *err, size_t errlen)
{
    if (*n == max) {
        snprintf(err, errlen, "at most %d %s", max, what);
        return -1;
    }
    list[(*n)++] = arg;
    return 0;
}

static int set_read(fa_options *o, const char *arg, char *err, size_t errlen)
{
    return append(o->files, &o->nfiles, FA_MAX_INPUTS, "-r files", arg, err, errlen);
}

static int set_iface(fa_options *o, const char *arg, char *err, size_t errlen)
{
    return append(o->ifaces, &o->nifaces, FA_MAX_IFACES, "-i interfaces", arg, err, errlen);
}

/* [udp:|tcp:|netflow:][ADDR:]PORT; an IPv6 ADDR in brackets. */
static int set_collect(fa_options *o, const char *arg, char *err, size_t errlen)
{
    static const struct { const char *prefix; bool tcp, netflow9; } kinds[] = {
        {"udp:", false, false}, {"tcp:", true, false}, {"netflow:", false, true}, {NULL, false, false},
    };
    fa_collect_spec *c = &o->collect;
    const char *p = arg;
    if (c->set) {
        snprintf(err, errlen, "--collect: give it once");
        return -1;
    }
    memset(c, 0, sizeof *c);
    for (int i = 0; kinds[i].prefix; i++)
        if (strncmp(p, kinds[i].prefix, strlen(kinds[i].prefix)) == 0) {
            c->tcp = kinds[i].tcp;
            c->netflow9 = kinds[i].netflow9;
            p += strlen(kinds[i].prefix);
            break;
        }
    const char *port = strrchr(p, ':');
    const char *host = p, *host_end = port ? port : p;
    port = port ? port + 1 : p;
    if (host[0] == '[' && host_end > host && host_end[-1] == ']') {
        host++;
        host_end--;
    }
    char *end;
    unsigned long n = strtoul(port, &end, 10);
    if (!*port || *end || n == 0 || n > 65535 || (size_t)(host_end - host) >= sizeof c->host ||
        memchr(host, '[', (size_t)(host_end - host)) || memchr(host, ']', (size_t)(host_end - host))) {
        snprintf(err, errlen, "--collect '%s': expected [udp:|tcp:|netflow:][ADDR:]PORT", arg);
        return -1;
    }
    memcpy(c->host, host, (size_t)(host_end - host));
    snprintf(c->port, sizeof c->port, "%lu", n);
    c->text = arg;
    c->set = true;
    return 0;
}

static int set_site_key(fa_options *o, const char *arg, char *err, size_t errlen)
{
    if (append(o->site_keys, &o->nsite_keys, FA_MAX_SITE_KEYS, "--site-key keys", arg, err, errlen) != 0)
        return -1;
    o->site_key = o->site_keys[0];
    return 0;
}

static int set_kafka_set(fa_options *o, const char *arg, char *err, size_t errlen)
{
    if (!strchr(arg, '=') || arg[0] == '=') {
        snprintf(err, errlen, "--kafka-set wants KEY=VALUE, not '%s'", arg);
        return -1;
    }
    return append(o->kafka_set, &o->nkafka_set, FA_MAX_KAFKA_SET, "--kafka-set properties", arg, err, errlen);
}

static int set_filter(fa_options *o, const char *arg, char *err, size_t errlen);
static int set_timeout(fa_options *o, const char *arg, char *err, size_t errlen);
static int set_check_rules(fa_options *o, const char *arg, char *err, size_t errlen);
static int set_fail_on(fa_options *o, const char *arg, char *err, size_t errlen);
static int set_init_site(fa_options *o, const char *arg, char *err, size_t errlen);

#define FIELD(f) offsetof(fa_options, f)
#define SECONDS_MAX (30 * 86400UL)

static const opt_row opt_table[] = {
    {.name = "read", .short_name = 'r', .arg = "FILE", .kind = OPT_CALL, .set = set_read,
     .section = "Input",
     .help = "read a pcap or pcapng file, or flow records (Zeek\n"
             "conn.log, TSV or JSON; IPFIX file), told by content\n"
             "('-' for stdin); repeat for several files, read in order"},
    {.name = "interface", .short_name = 'i', .arg = "IFACE", .kind = OPT_CALL, .set = set_iface,
     .help = "capture live from IFACE ('any' for all); repeat for\n"
             "several interfaces"},
    {.name = "collect", .arg = "[P:][ADDR:]PORT", .kind = OPT_CALL, .set = set_collect,
     .help = "collect flow records live: IPFIX over UDP (P udp,\n"
             "the default) or TCP (P tcp), NetFlow v9 over UDP\n"
             "(P netflow); ADDR: all addresses when left out"},
    {.name = "filter", .short_name = 'f', .arg = "EXPR", .kind = OPT_CALL, .set = set_filter,
     .help = "BPF filter (or give it after the options)"},
    {.name = "snaplen", .short_name = 's', .arg = "N", .kind = OPT_INT, .field = FIELD(capture.snaplen),
     .min = 64, .max = 262144,
     .live_only = true,
     .help = "live: bytes kept per packet (default 2048)"},
    {.name = "buffer", .short_name = 'B', .arg = "MIB", .kind = OPT_INT, .field = FIELD(capture.buffer_mib),
     .min = 0, .max = 4096, .unit = "MiB ",
     .live_only = true,
     .help = "live: kernel capture buffer in MiB"},
    {.name = "no-promisc", .short_name = 'p', .kind = OPT_BOOL, .field = FIELD(capture.promisc),
     .value = false,
     .live_only = true,
     .help = "live: do not enable promiscuous mode"},
    {.name = "no-immediate", .kind = OPT_BOOL, .field = FIELD(capture.immediate), .value = false,
     .live_only = true,
     .help = "live: let the kernel batch packets"},
    {.name = "workers", .arg = "N", .kind = OPT_INT, .field = FIELD(workers),
     .min = 1, .max = FA_MAX_WORKERS,
     .live_only = true,
     .help = "live: N capture threads, each with its own flow\n"
             "table, sharing each interface through one\n"
             "PACKET_FANOUT group (default 1); N > 1 turns\n"
             "immediate mode off and takes -B 64 unless -B is given"},
    {.name = "user", .short_name = 'Z', .arg = "USER", .kind = OPT_STRING, .field = FIELD(user),
     .help = "live: drop root privileges to USER once the\n"
             "interfaces or the collector's port are open"},
    {.name = "report-interval", .arg = "S", .kind = OPT_U32, .field = FIELD(report_interval_s),
     .min = 0, .max = SECONDS_MAX, .unit = "seconds ",
     .live_only = true,
     .help = "live: print the report every S seconds (and on\n"
             "SIGUSR1); SIGHUP reloads rules and site"},
    {.name = "window", .arg = "S", .kind = OPT_U32, .field = FIELD(window_s),
     .min = 0, .max = SECONDS_MAX, .unit = "seconds ",
     .live_only = true,
     .help = "live: judge required rules over windows of S\n"
             "seconds, reported at each window's end"},
    {.name = "interim", .arg = "S", .kind = OPT_INT, .field = FIELD(interim_s),
     .min = 0, .max = SECONDS_MAX, .unit = "seconds ",
     .help = "a record for every flow older than S seconds, every\n"
             "S seconds (default 300 with -i, 0 = off with -r)"},
    {.name = "max-flows", .arg = "N", .kind = OPT_U32, .field = FIELD(flow.max_flows),
     .min = 1, .max = 100000000,
     .section = "Flows",
     .help = "active flow cap; the least recently active flow is\n"
             "evicted beyond it (default 262144)"},
    {.name = "timeout", .arg = "CLASS=S", .kind = OPT_CALL, .set = set_timeout,
     .help = "timeout in seconds for CLASS: tcp-attempt (30, counted\n"
             "from the SYN), and idle timeouts tcp-established\n"
             "(7200), tcp-closed (5), tcp-half-closed (300),\n"
             "udp (60), icmp (60), other (60)"},
    {.name = "ws-min-idle", .arg = "S", .kind = OPT_DOUBLE, .field = FIELD(ws_min_idle_s),
     .min = 1, .max = 86400, .unit = "seconds ",
     .help = "noise floor: a FIN or RST without a close frame less\n"
             "than S seconds after the last data is never judged\n"
             "an idle kill (default 1)"},
    {.name = "rules", .arg = "DIR", .kind = OPT_STRING, .field = FIELD(rules_dir),
     .section = "Rules",
     .help = "rule files to load (*.rules); enables the audit\n"
             "(default with --site: " FLOWAUDIT_RULES_DIR ")"},
    {.name = "site", .arg = "FILE", .kind = OPT_STRING, .field = FIELD(site_path),
     .help = "site inventory (roles, features, phase); without it\n"
             "the audit matches on transport and ports only"},
    {.name = "check-rules", .arg = "DIR", .kind = OPT_CALL, .set = set_check_rules,
     .help = "validate the rule files in DIR and exit"},
    {.name = "list-rules", .kind = OPT_MODE, .value = FA_MODE_LIST_RULES,
     .help = "print the loaded matrix and exit"},
    {.name = "init-site", .arg = "PRODUCT", .kind = OPT_CALL, .set = set_init_site,
     .help = "print a commented site file for PRODUCT (its roles,\n"
             "features and phases) and exit"},
    {.name = "fail-on", .arg = "KINDS", .kind = OPT_CALL, .set = set_fail_on,
     .help = "exit 1 when any of these is found: missing, blocked,\n"
             "rejected, undocumented, wrong-direction (these\n"
             "need --rules or --site), ws-killed, all, none\n"
             "(default none)"},
    {.name = "json", .short_name = 'j', .arg = "FILE", .kind = OPT_STRING, .field = FIELD(json_path),
     .section = "Output",
     .help = "write NDJSON records to FILE ('-' for stdout)"},
    {.name = "html", .arg = "FILE", .kind = OPT_STRING, .field = FIELD(html_path),
     .help = "write the report as one HTML page, with a diagram\n"
             "of the deployment and a timeline of the sessions\n"
             "(live: rewritten at each report)"},
    {.name = "dot", .arg = "FILE", .kind = OPT_STRING, .field = FIELD(dot_path),
     .help = "write the deployment diagram as Graphviz DOT (needs\n"
             "--rules or --site)"},
    {.name = "write", .short_name = 'w', .arg = "FILE", .kind = OPT_STRING, .field = FIELD(evidence_path),
     .help = "write the packets of flagged flows (undocumented,\n"
             "wrong direction, blocked, rejected, WebSocket kills)\n"
             "to the pcap FILE"},
    {.name = "evidence-buffer", .arg = "MIB", .kind = OPT_U32, .field = FIELD(evidence_ring_mib),
     .min = 1, .max = 65536, .unit = "MiB ",
     .help = "recent packets kept for -w (default 16; with\n"
             "--workers, in each capture thread)"},
    {.name = "evidence-keys", .arg = "MIB", .kind = OPT_U32, .field = FIELD(evidence_keys_mib),
     .min = 1, .max = 65536, .unit = "MiB ",
     .help = "key packets kept apart per flow for -w: SYNs,\n"
             "RST, ICMP error, first payloads (default 32;\n"
             "with --workers, in each capture thread)"},
    {.name = "evidence-size", .arg = "MIB", .kind = OPT_U32, .field = FIELD(evidence_file_mib),
     .min = 0, .max = 65536, .unit = "MiB ",
     .help = "rotate the -w file at this size (default 100,\n"
             "0 = never)"},
    {.name = "evidence-files", .arg = "N", .kind = OPT_INT, .field = FIELD(evidence_files),
     .min = 0, .max = 65536,
     .help = "rotated -w files kept: FILE.1 .. FILE.N (default 5)"},
    {.name = "kafka-out", .arg = "BROKERS/TOPIC", .kind = OPT_STRING, .field = FIELD(kafka_out),
     .section = "Many sensors, one audit (Kafka)",
     .help = "sensor: publish every flow record to TOPIC on the\n"
             "brokers (host:port,...), keyed by --site-key, after\n"
             "a sensor_hello record naming --sensor-networks; drops\n"
             "and counts records while the brokers are away"},
    {.name = "sensor-id", .arg = "ID", .kind = OPT_STRING, .field = FIELD(sensor_id),
     .help = "sensor: its name in the records (default: host name)"},
    {.name = "site-key", .arg = "KEY", .kind = OPT_CALL, .set = set_site_key,
     .help = "sensor: the site its records belong to; the message\n"
             "key, so one auditor gets all of a site (needed).\n"
             "auditor: a site whose records it judges against\n"
             "--site (needed, repeat for several); others skipped"},
    {.name = "sensor-networks", .arg = "CIDRS", .kind = OPT_STRING, .field = FIELD(sensor_nets),
     .help = "sensor: the networks it observes, comma-separated;\n"
             "rules elsewhere are not observable, never not seen"},
    {.name = "kafka-in", .arg = "BROKERS/TOPIC", .kind = OPT_STRING, .field = FIELD(kafka_in),
     .help = "auditor: audit the records the sensors publish to\n"
             "TOPIC; reports as live (--report-interval, --window,\n"
             "SIGUSR1), offsets committed after each report"},
    {.name = "group", .arg = "NAME", .kind = OPT_STRING, .field = FIELD(kafka_group),
     .help = "auditor: consumer group; auditors of one group split\n"
             "the sites (default flowaudit)"},
    {.name = "kafka-set", .arg = "KEY=VALUE", .kind = OPT_CALL, .set = set_kafka_set,
     .help = "a librdkafka property (security.protocol, sasl.*,\n"
             "ssl.*...); repeat for several"},
    {.name = "quiet", .short_name = 'q', .kind = OPT_BOOL, .field = FIELD(quiet), .value = true,
     .help = "no text report or summary (NDJSON only)"},
    {.name = "progress", .kind = OPT_SET_INT, .field = FIELD(progress), .value = 1,
     .help = "show progress on stderr (default: when stderr is a\n"
             "terminal and input is a file)"},
    {.name = "no-progress", .kind = OPT_SET_INT, .field = FIELD(progress), .value = 0,
     .help = "never show progress"},
    {.name = "help", .short_name = 'h', .kind = OPT_MODE, .value = FA_MODE_HELP,
     .help = "this text"},
    {.name = "version", .short_name = 'V', .kind = OPT_MODE, .value = FA_MODE_VERSION,
     .help = "print the version"},
    {.name = NULL},
};

#define OPT_COUNT (sizeof opt_table / sizeof opt_table[0] - 1)

const char *fa_default_rules_dir(void)
{
    return FLOWAUDIT_RULES_DIR;
}

/* "  -r, --read FILE" or "      --max-flows N", then the help lines, the
 * first at HELP_COLUMN (two spaces further out if the names reach it). */
static void usage_row(FILE *out, const opt_row *r)
{
    int n;
    if (r->short_name)
        n = fprintf(out, "  -%c, --%s", r->short_name, r->name);
    else
        n = fprintf(out, "      --%s", r->name);
    if (r->arg)
        n += fprintf(out, " %s", r->arg);
    fprintf(out, "%*s", n < HELP_COLUMN ? HELP_COLUMN - n : 2, "");
    for (const char *line = r->help; *line;) {
        size_t len = strcspn(line, "\n");
        fprintf(out, "%.*s\n", (int)len, line);
        line += len;
        if (*line == '\n' && *++line)
            fprintf(out, "%*s", HELP_COLUMN, "");
    }
}

void fa_options_usage(FILE *out)
{
    fputs("Usage: flowaudit [OPTIONS] (-r FILE... | -i IFACE) [BPF EXPRESSION]\n"
          "       flowaudit [OPTIONS] --collect [udp:|tcp:|netflow:][ADDR:]PORT\n"
          "       flowaudit [OPTIONS] --kafka-in BROKERS/TOPIC [--group NAME]\n"
          "       flowaudit --check-rules DIR\n"
          "       flowaudit --list-rules [--rules DIR] [--json]\n"
          "       flowaudit --init-site PRODUCT [--rules DIR]\n"
          "\n"
          "Reads packets, tracks every flow, and audits them against firewall port\n"
          "matrices.\n",
          out);
    for (const opt_row *r = opt_table; r->name; r++) {
        if (r->section)
            fprintf(out, "\n%s:\n", r->section);
        usage_row(out, r);
    }
    fputs("\n"
          "Exit status: 0 success, 1 findings selected by --fail-on, 2 usage or input\n"
          "error.\n",
          out);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *v)
{
    char *end;
    if (*s < '0' || *s > '9')
        return -1;
    *v = strtoul(s, &end, 10);
    return (*end == '\0' && *v <= max) ? 0 : -1;
}

static int set_filter(fa_options *o, const char *arg, char *err, size_t errlen)
{
    free(o->filter);
    o->filter = strdup(arg);
    if (!o->filter) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int set_timeout(fa_options *o, const char *arg, char *err, size_t errlen)
{
    const char *eq = strchr(arg, '=');
    char name[32];
    unsigned long secs;
    if (!eq || (size_t)(eq - arg) >= sizeof name) {
        snprintf(err, errlen, "--timeout wants CLASS=SECONDS, not '%s'", arg);
        return -1;
    }
    memcpy(name, arg, (size_t)(eq - arg));
    name[eq - arg] = '\0';
    int c = fa_timeout_class_parse(name);
    if (c < 0 || parse_uint(eq + 1, SECONDS_MAX, &secs) != 0 || secs == 0) {
        snprintf(err, errlen, "--timeout: bad class or seconds in '%s'", arg);
        return -1;
    }
    o->flow.timeout_s[c] = (uint32_t)secs;
    return 0;
}

static int set_check_rules(fa_options *o, const char *arg, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    o->mode = FA_MODE_CHECK_RULES;
    o->rules_dir = arg;
    return 0;
}

static int set_init_site(fa_options *o, const char *arg, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    o->mode = FA_MODE_INIT_SITE;
    o->init_product = arg;
    return 0;
}

/* "all" asks for whatever the run can judge; a kind named on its own asks
 * for that kind, which check_audit holds against the rules given. */
static int set_fail_on(fa_options *o, const char *arg, char *err, size_t errlen)
{
    if (fa_fail_on_parse(arg, &o->fail_on, err, errlen) != 0)
        return -1;
    o->fail_on_named = 0;
    for (const char *w = arg; *w; w += *w == ',') {
        char kind[32];
        unsigned bit;
        size_t len = strcspn(w, ",");
        snprintf(kind, sizeof kind, "%.*s", (int)len, w);
        w += len;
        if (strcmp(kind, "all") != 0 && fa_fail_on_parse(kind, &bit, err, errlen) == 0)
            o->fail_on_named |= bit;
    }
    return 0;
}

/* A number option: the range is checked before the field is written, and
 * the error names the option as the user spelled it. */
static int set_number(fa_options *o, const opt_row *r, const char *spelled, const char *arg,
                      char *err, size_t errlen)
{
    unsigned long v;
    if (parse_uint(arg, r->max, &v) != 0 || v < r->min) {
        snprintf(err, errlen, "%s wants %s%lu..%lu, not '%s'", spelled, r->unit ? r->unit : "",
                 r->min, r->max, arg);
        return -1;
    }
    char *field = (char *)o + r->field;
    if (r->kind == OPT_U32)
        *(uint32_t *)(void *)field = (uint32_t)v;
    else if (r->kind == OPT_INT)
        *(int *)(void *)field = (int)v;
    else
        *(double *)(void *)field = (double)v;
    return 0;
}

/* Applies one option found by getopt_long. */
static int apply(fa_options *o, const opt_row *r, const char *spelled, const char *arg,
                 char *err, size_t errlen)
{
    char *field = (char *)o + r->field;
    switch (r->kind) {
    case OPT_STRING: *(const char **)(void *)field = arg; return 0;
    case OPT_BOOL: *(bool *)(void *)field = r->value != 0; return 0;
    case OPT_SET_INT: *(int *)(void *)field = r->value; return 0;
    case OPT_MODE: o->mode = (fa_mode)r->value; return 0;
    case OPT_CALL: return r->set(o, arg, err, errlen);
    case OPT_U32: case OPT_INT: case OPT_DOUBLE:
        return set_number(o, r, spelled, arg, err, errlen);
    }
    return -1;
}

/* getopt_long's two spellings of opt_table: the short string (after '+',
 * which stops at the first non-option, and ':', which tells a missing
 * argument from an unknown option) and the long array. */
static void getopt_arrays(char *shorts, struct option *longs)
{
    *shorts++ = '+';
    *shorts++ = ':';
    for (size_t i = 0; i < OPT_COUNT; i++) {
        const opt_row *r = &opt_table[i];
        longs[i] = (struct option){r->name, r->arg ? required_argument : no_argument, NULL,
                                   OPT_LONG_BASE + (int)i};
        if (r->short_name) {
            *shorts++ = r->short_name;
            if (r->arg)
                *shorts++ = ':';
        }
    }
    *shorts = '\0';
    longs[OPT_COUNT] = (struct option){NULL, 0, NULL, 0};
}

static const opt_row *row_of(int c)
{
    if (c >= OPT_LONG_BASE)
        return &opt_table[c - OPT_LONG_BASE];
    for (const opt_row *r = opt_table; r->name; r++)
        if (r->short_name == c)
            return r;
    return NULL;
}

static void set_defaults(fa_options *o)
{
    memset(o, 0, sizeof *o);
    o->mode = FA_MODE_AUDIT;
    o->progress = -1;
    o->capture.promisc = true;
    o->capture.immediate = true;
    o->workers = 1;
    o->capture.snaplen = FA_DEFAULT_SNAPLEN;
    o->ws_min_idle_s = 1;
    o->interim_s = -1;
    o->evidence_ring_mib = 16;
    o->evidence_keys_mib = 32;
    o->evidence_file_mib = 100;
    o->evidence_files = 5;
    fa_flow_config_default(&o->flow);
}

/* A bare --json (last, or followed by another option) means "-": it lets
 * "--list-rules --json" ask for JSON on stdout. Returns argv without the
 * bare ones, owned by o->argv_copy, or NULL when out of memory. */
static char **strip_bare_json(fa_options *o, int argc, char **argv, int *nargs)
{
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args)
        return NULL;
    *nargs = 0;
    for (int i = 0; i < argc; i++) {
        bool bare = strcmp(argv[i], "--json") == 0 &&
                    (i + 1 == argc || (argv[i + 1][0] == '-' && argv[i + 1][1] != '\0'));
        if (bare)
            o->json_path = "-";
        else
            args[(*nargs)++] = argv[i];
    }
    o->argv_copy = args;
    return args;
}

/* Joins the arguments left after the options into one BPF expression, as
 * tcpdump does. */
static int join_filter(fa_options *o, int argc, char **argv, int first)
{
    size_t len = 1;
    for (int i = first; i < argc; i++)
        len += strlen(argv[i]) + 1;
    if (first >= argc)
        return 0;
    free(o->filter);
    o->filter = calloc(1, len);
    if (!o->filter)
        return -1;
    for (int i = first; i < argc; i++) {
        if (i > first)
            strcat(o->filter, " ");
        strcat(o->filter, argv[i]);
    }
    return 0;
}

/* An argument that is itself one of the options ("-r --rules DIR") means
 * the option before it was given without its argument. */
static bool is_option(const char *arg)
{
    if (arg[0] != '-' || arg[1] == '\0')
        return false;
    for (const opt_row *r = opt_table; r->name; r++) {
        size_t n = strlen(r->name);
        if (arg[1] == '-' ? strncmp(arg + 2, r->name, n) == 0 && (arg[2 + n] == '\0' || arg[2 + n] == '=')
                          : r->short_name && arg[1] == r->short_name && arg[2] == '\0')
            return true;
    }
    return false;
}

/* The option getopt_long could not use: unknown, or without its argument
 * (then optopt is the short name or the long option's value). */
static void bad_option(int c, const char *arg, char *err, size_t errlen)
{
    const opt_row *r = c == ':' ? row_of(optopt) : NULL;
    if (!r && optopt > 0 && optopt < OPT_LONG_BASE)
        snprintf(err, errlen, "unknown option: '-%c' (see --help)", optopt);
    else if (!r)
        snprintf(err, errlen, "unknown option: '%s' (see --help)", arg);
    else if (strncmp(arg, "--", 2) == 0)
        snprintf(err, errlen, "--%s needs an argument (see --help)", r->name);
    else
        snprintf(err, errlen, "-%c needs an argument (see --help)", r->short_name);
}

/* Runs getopt_long over args; returns the index of the first non-option,
 * or -1 with a message in err. The first live-only option given is copied
 * into live, as typed. */
static int parse_args(fa_options *o, int nargs, char **args, char *live, size_t livelen, char *err,
                      size_t errlen)
{
    char shorts[2 * OPT_COUNT + 3];
    struct option longs[OPT_COUNT + 1];
    getopt_arrays(shorts, longs);
    /* 0, not 1: also forgets a cluster of short options an earlier call
     * left half read (the unit tests parse many command lines). */
    optind = 0;
    opterr = 0;
    for (;;) {
        int li = -1;
        int c = getopt_long(nargs, args, shorts, longs, &li);
        if (c == -1)
            return optind;
        const opt_row *r = row_of(c);
        if (!r) {
            bad_option(c, args[optind - 1], err, errlen);
            return -1;
        }
        char spelled[40];
        if (li >= 0)
            snprintf(spelled, sizeof spelled, "--%s", r->name);
        else
            snprintf(spelled, sizeof spelled, "-%c", r->short_name);
        if (optarg && is_option(optarg)) {
            snprintf(err, errlen, "%s needs an argument, not the option '%s' (see --help)", spelled, optarg);
            return -1;
        }
        if (r->live_only && live[0] == '\0')
            snprintf(live, livelen, "%s", spelled);
        if (apply(o, r, spelled, optarg, err, errlen) != 0)
            return -1;
    }
}

/* What to read, and the options that only make sense with one kind of
 * input. */
static int check_inputs(const fa_options *o, const char *live, char *err, size_t errlen)
{
    int kinds = (o->nfiles > 0) + (o->nifaces > 0) + o->collect.set + (o->kafka_in != NULL);
    if (o->mode == FA_MODE_AUDIT && kinds == 0) {
        snprintf(err, errlen, "nothing to read: give -r FILE, -i IFACE, --collect PORT or --kafka-in BROKERS/TOPIC"
                              " (see --help)");
        return -1;
    }
    if (o->mode == FA_MODE_AUDIT && kinds > 1) {
        snprintf(err, errlen, "-r, -i, --collect and --kafka-in cannot be combined");
        return -1;
    }
    if (o->user && !fa_options_live(o)) {
        snprintf(err, errlen, "-Z drops privileges after opening interfaces or the collector's port: it needs -i"
                              " or --collect");
        return -1;
    }
    if (live[0] && o->nfiles > 0) {
        snprintf(err, errlen, "%s is for live capture (-i); it cannot be used with -r", live);
        return -1;
    }
    if (o->collect.set && (o->capture.snaplen != FA_DEFAULT_SNAPLEN || o->capture.buffer_mib || !o->capture.promisc ||
                           !o->capture.immediate)) {
        snprintf(err, errlen, "--snaplen, -B, -p and --no-immediate set packet capture (-i); --collect receives"
                              " flow records");
        return -1;
    }
    if (o->workers > 1 && o->collect.set) {
        snprintf(err, errlen, "--workers splits packet capture (-i) into threads; --collect receives flow records");
        return -1;
    }
    return 0;
}

static bool kafka_spec_ok(const char *spec)
{
    const char *slash = spec ? strrchr(spec, '/') : NULL;
    return slash && slash != spec && slash[1];
}

/* The sensor's options need --kafka-out, the auditor's --kafka-in. */
static int check_kafka(const fa_options *o, char *err, size_t errlen)
{
    const char *sensor_only = o->sensor_id ? "--sensor-id" : o->sensor_nets ? "--sensor-networks" : NULL;
    if (o->kafka_out && o->kafka_in)
        snprintf(err, errlen, "--kafka-out and --kafka-in: a run is a sensor or an auditor, not both");
    else if ((o->kafka_out && !kafka_spec_ok(o->kafka_out)) || (o->kafka_in && !kafka_spec_ok(o->kafka_in)))
        snprintf(err, errlen, "--kafka-%s wants BROKERS/TOPIC (host:port,host:port/topic), not '%s'",
                 o->kafka_out ? "out" : "in", o->kafka_out ? o->kafka_out : o->kafka_in);
    else if (sensor_only && !o->kafka_out)
        snprintf(err, errlen, "%s describes a sensor: it needs --kafka-out", sensor_only);
    else if (o->kafka_out && !o->site_key)
        snprintf(err, errlen, "--kafka-out needs --site-key KEY: the key keeps a site's records on one partition");
    else if (o->kafka_out && o->nsite_keys > 1)
        snprintf(err, errlen, "--kafka-out: one --site-key, the sensor's site");
    else if (o->site_key && !o->kafka_out && !o->kafka_in)
        snprintf(err, errlen, "--site-key needs --kafka-out or --kafka-in");
    else if (o->kafka_in && !o->site_path)
        snprintf(err, errlen, "--kafka-in needs --site FILE: the site its records are judged against");
    else if (o->kafka_in && !o->site_key)
        snprintf(err, errlen, "--kafka-in needs --site-key KEY: the sites (the sensors' --site-key) it judges");
    else if (o->kafka_group && !o->kafka_in)
        snprintf(err, errlen, "--group names the auditors' consumer group: it needs --kafka-in");
    else if (o->nkafka_set && !o->kafka_out && !o->kafka_in)
        snprintf(err, errlen, "--kafka-set needs --kafka-out or --kafka-in");
    else
        return 0;
    return -1;
}

/* --fail-on kinds other than ws-killed are audit findings, which need the
 * rules when named; the installed rules are only used when they are there. */
static int check_audit(const fa_options *o, char *err, size_t errlen)
{
    struct stat st;
    bool audit = o->rules_dir || o->site_path;
    if (o->mode == FA_MODE_AUDIT && (o->fail_on_named & ~(unsigned)FA_FAIL_WS_KILLED) && !audit) {
        snprintf(err, errlen, "--fail-on: nothing is audited without --rules DIR or --site FILE; "
                              "only ws-killed (or all) is judged without them");
        return -1;
    }
    if (o->mode == FA_MODE_AUDIT && o->dot_path && !audit) {
        snprintf(err, errlen, "--dot draws the rules of the audit: it needs --rules DIR or --site FILE");
        return -1;
    }
    bool needs_default = !o->rules_dir && (o->mode == FA_MODE_LIST_RULES ||
                                           (o->mode == FA_MODE_AUDIT && o->site_path));
    if (needs_default && stat(fa_default_rules_dir(), &st) != 0) {
        snprintf(err, errlen, "%s without --rules reads the installed rules in %s, which is missing: "
                              "give --rules DIR", o->mode == FA_MODE_LIST_RULES ? "--list-rules" : "--site",
                 fa_default_rules_dir());
        return -1;
    }
    return 0;
}

int fa_options_parse(fa_options *o, int argc, char **argv, char *err, size_t errlen)
{
    int nargs;
    set_defaults(o);
    char **args = strip_bare_json(o, argc, argv, &nargs);
    if (!args) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    char live[40] = "";
    int first = parse_args(o, nargs, args, live, sizeof live, err, errlen);
    if (first < 0)
        return -1;
    if (join_filter(o, nargs, args, first) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (check_inputs(o, live, err, errlen) != 0 || check_audit(o, err, errlen) != 0 ||
        check_kafka(o, err, errlen) != 0)
        return -1;
    if (o->interim_s < 0)
        o->interim_s = o->nifaces ? 300 : 0;
    if (o->collect.set && o->filter) {
        snprintf(err, errlen, "the filter '%.100s' selects packets; --collect receives flow records", o->filter);
        return -1;
    }
    o->capture.filter = o->filter;
    /* libpcap falls back from TPACKET_V3 to V2 in immediate mode, a frame
     * per wakeup: at the rates workers are for, blocks of frames and a
     * ring that absorbs a burst matter more than the latency of a block
     * (at most the 200 ms read timeout). */
    if (o->workers > 1) {
        o->capture.immediate = false;
        if (o->capture.buffer_mib == 0)
            o->capture.buffer_mib = 64;
    }
    return 0;
}

bool fa_options_live(const fa_options *o)
{
    return o->nifaces > 0 || o->collect.set;
}

void fa_options_free(fa_options *o)
{
    free(o->filter);
    free(o->argv_copy);
    o->filter = NULL;
    o->argv_copy = NULL;
}
