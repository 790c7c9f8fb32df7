/* options.c - command line parsing and the --help text. */
#include "options.h"

#include "audit.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_MAX_FLOWS = 256, OPT_TIMEOUT, OPT_RULES, OPT_SITE, OPT_CHECK_RULES, OPT_LIST_RULES,
    OPT_PROGRESS, OPT_NO_PROGRESS, OPT_NO_IMMEDIATE, OPT_FAIL_ON, OPT_WS_MIN_IDLE, OPT_REPORT_INTERVAL, OPT_WINDOW, OPT_INTERIM, OPT_EV_RING, OPT_EV_SIZE, OPT_EV_FILES,
};

static const struct option long_opts[] = {
    {"read", required_argument, NULL, 'r'},
    {"interface", required_argument, NULL, 'i'},
    {"filter", required_argument, NULL, 'f'},
    {"snaplen", required_argument, NULL, 's'},
    {"buffer", required_argument, NULL, 'B'},
    {"no-promisc", no_argument, NULL, 'p'},
    {"no-immediate", no_argument, NULL, OPT_NO_IMMEDIATE},
    {"json", required_argument, NULL, 'j'},
    {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"rules", required_argument, NULL, OPT_RULES},
    {"site", required_argument, NULL, OPT_SITE},
    {"check-rules", required_argument, NULL, OPT_CHECK_RULES},
    {"list-rules", no_argument, NULL, OPT_LIST_RULES},
    {"fail-on", required_argument, NULL, OPT_FAIL_ON},
    {"ws-min-idle", required_argument, NULL, OPT_WS_MIN_IDLE},
    {"user", required_argument, NULL, 'Z'},
    {"report-interval", required_argument, NULL, OPT_REPORT_INTERVAL},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"interim", required_argument, NULL, OPT_INTERIM},
    {"write", required_argument, NULL, 'w'},
    {"evidence-buffer", required_argument, NULL, OPT_EV_RING},
    {"evidence-size", required_argument, NULL, OPT_EV_SIZE},
    {"evidence-files", required_argument, NULL, OPT_EV_FILES},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

const char *fa_default_rules_dir(void)
{
    return FLOWAUDIT_RULES_DIR;
}

void fa_options_usage(FILE *out)
{
    fputs(
        "Usage: flowaudit [OPTIONS] (-r FILE... | -i IFACE) [BPF EXPRESSION]\n"
        "       flowaudit --check-rules DIR\n"
        "       flowaudit --list-rules [--rules DIR] [--json]\n"
        "\n"
        "Reads packets, tracks every flow, and audits them against firewall port\n"
        "matrices.\n"
        "\n"
        "Input:\n"
        "  -r, --read FILE         read a pcap or pcapng file ('-' for stdin); repeat\n"
        "                          for several files, read in order\n"
        "  -i, --interface IFACE   capture live from IFACE ('any' for all); repeat for\n"
        "                          several interfaces\n"
        "  -f, --filter EXPR       BPF filter (or give it after the options)\n"
        "  -s, --snaplen N         live: bytes kept per packet (default 2048)\n"
        "  -B, --buffer MIB        live: kernel capture buffer in MiB\n"
        "  -p, --no-promisc        live: do not enable promiscuous mode\n"
        "      --no-immediate      live: let the kernel batch packets\n"
        "  -Z, --user USER         live: drop root privileges to USER once the\n"
        "                          interfaces are open\n"
        "      --report-interval S live: print the report every S seconds (and on\n"
        "                          SIGUSR1); SIGHUP reloads rules and site\n"
        "      --window S          live: judge required rules over windows of S\n"
        "                          seconds, reported at each window's end\n"
        "      --interim S         a record for every flow older than S seconds, every\n"
        "                          S seconds (default 300 with -i, 0 = off with -r)\n"
        "\n"
        "Flows:\n"
        "      --max-flows N       active flow cap; the least recently active flow is\n"
        "                          evicted beyond it (default 262144)\n"
        "      --timeout CLASS=S   timeout in seconds for CLASS: tcp-attempt (30, counted\n"
        "                          from the SYN), and idle timeouts tcp-established\n"
        "                          (7200), tcp-closed (5), tcp-half-closed (300),\n"
        "                          udp (60), icmp (60), other (60)\n"
        "      --ws-min-idle S     a WebSocket or long-lived connection closed without\n"
        "                          a close frame after S seconds idle counts as killed\n"
        "                          by an idle timeout (default 30)\n"
        "\n"
        "Rules:\n"
        "      --rules DIR         rule files to load (*.rules); enables the audit\n"
        "                          (default with --site: " FLOWAUDIT_RULES_DIR ")\n"
        "      --site FILE         site inventory (roles, features, phase); without it\n"
        "                          the audit matches on transport and ports only\n"
        "      --check-rules DIR   validate the rule files in DIR and exit\n"
        "      --list-rules        print the loaded matrix and exit\n"
        "      --fail-on KINDS     exit 1 when any of these is found: missing, blocked,\n"
        "                          rejected, undocumented, wrong-direction, ws-killed,\n"
        "                          all, none (default none)\n"
        "\n"
        "Output:\n"
        "  -j, --json FILE         write NDJSON records to FILE ('-' for stdout)\n"
        "  -w, --write FILE        write the packets of flagged flows (undocumented,\n"
        "                          wrong direction, blocked, rejected, WebSocket kills)\n"
        "                          to the pcap FILE\n"
        "      --evidence-buffer MIB  recent packets kept for -w (default 16)\n"
        "      --evidence-size MIB    rotate the -w file at this size (default 100,\n"
        "                          0 = never)\n"
        "      --evidence-files N  rotated -w files kept: FILE.1 .. FILE.N (default 5)\n"
        "  -q, --quiet             no text report or summary (NDJSON only)\n"
        "      --progress          show progress on stderr (default: when stderr is a\n"
        "                          terminal and input is a file)\n"
        "      --no-progress       never show progress\n"
        "  -h, --help              this text\n"
        "  -V, --version           print the version\n"
        "\n"
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

static int parse_timeout(fa_options *o, const char *arg, char *err, size_t errlen)
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
    if (c < 0 || parse_uint(eq + 1, 30 * 86400, &secs) != 0 || secs == 0) {
        snprintf(err, errlen, "--timeout: bad class or seconds in '%s'", arg);
        return -1;
    }
    o->flow.timeout_s[c] = (uint32_t)secs;
    return 0;
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

static int parse_one(fa_options *o, int c, const char *arg, char *err, size_t errlen)
{
    unsigned long v;
    switch (c) {
    case 'r':
        if (o->nfiles == FA_MAX_INPUTS) {
            snprintf(err, errlen, "at most %d -r files", FA_MAX_INPUTS);
            return -1;
        }
        o->files[o->nfiles++] = arg;
        return 0;
    case 'i':
        if (o->nifaces == FA_MAX_IFACES) {
            snprintf(err, errlen, "at most %d -i interfaces", FA_MAX_IFACES);
            return -1;
        }
        o->ifaces[o->nifaces++] = arg;
        return 0;
    case 'Z': o->user = arg; return 0;
    case 'w': o->evidence_path = arg; return 0;
    case OPT_EV_RING: case OPT_EV_SIZE: case OPT_EV_FILES:
        if (parse_uint(arg, 65536, &v) != 0 || (c == OPT_EV_RING && v == 0)) {
            snprintf(err, errlen, "%s: bad number '%s'",
                     c == OPT_EV_RING ? "--evidence-buffer" : c == OPT_EV_SIZE ? "--evidence-size"
                                                                               : "--evidence-files", arg);
            return -1;
        }
        if (c == OPT_EV_RING)
            o->evidence_ring_mib = (uint32_t)v;
        else if (c == OPT_EV_SIZE)
            o->evidence_file_mib = (uint32_t)v;
        else
            o->evidence_files = (int)v;
        return 0;
    case OPT_REPORT_INTERVAL: case OPT_WINDOW: case OPT_INTERIM:
        if (parse_uint(arg, 30 * 86400, &v) != 0) {
            snprintf(err, errlen, "%s wants seconds 0..2592000, not '%s'",
                     c == OPT_WINDOW ? "--window" : c == OPT_INTERIM ? "--interim" : "--report-interval", arg);
            return -1;
        }
        if (c == OPT_REPORT_INTERVAL)
            o->report_interval_s = (uint32_t)v;
        else if (c == OPT_WINDOW)
            o->window_s = (uint32_t)v;
        else
            o->interim_s = (int)v;
        return 0;
    case 'f':
        free(o->filter);
        o->filter = strdup(arg);
        return o->filter ? 0 : -1;
    case 's':
        if (parse_uint(arg, 262144, &v) != 0 || v < 64) {
            snprintf(err, errlen, "-s wants 64..262144, not '%s'", arg);
            return -1;
        }
        o->capture.snaplen = (int)v;
        return 0;
    case 'B':
        if (parse_uint(arg, 4096, &v) != 0) {
            snprintf(err, errlen, "-B wants MiB 0..4096, not '%s'", arg);
            return -1;
        }
        o->capture.buffer_mib = (int)v;
        return 0;
    case 'p': o->capture.promisc = false; return 0;
    case OPT_NO_IMMEDIATE: o->capture.immediate = false; return 0;
    case 'j': o->json_path = arg; return 0;
    case OPT_MAX_FLOWS:
        if (parse_uint(arg, 100000000, &v) != 0 || v == 0) {
            snprintf(err, errlen, "--max-flows wants 1..100000000, not '%s'", arg);
            return -1;
        }
        o->flow.max_flows = (uint32_t)v;
        return 0;
    case OPT_TIMEOUT: return parse_timeout(o, arg, err, errlen);
    case OPT_RULES: o->rules_dir = arg; return 0;
    case OPT_SITE: o->site_path = arg; return 0;
    case OPT_CHECK_RULES: o->mode = FA_MODE_CHECK_RULES; o->rules_dir = arg; return 0;
    case OPT_LIST_RULES: o->mode = FA_MODE_LIST_RULES; return 0;
    case OPT_FAIL_ON: return fa_fail_on_parse(arg, &o->fail_on, err, errlen);
    case OPT_WS_MIN_IDLE:
        if (parse_uint(arg, 86400, &v) != 0 || v == 0) {
            snprintf(err, errlen, "--ws-min-idle wants 1..86400 seconds, not '%s'", arg);
            return -1;
        }
        o->ws_min_idle_s = (double)v;
        return 0;
    case OPT_PROGRESS: o->progress = 1; return 0;
    case OPT_NO_PROGRESS: o->progress = 0; return 0;
    case 'q': o->quiet = true; return 0;
    case 'h': o->mode = FA_MODE_HELP; return 0;
    case 'V': o->mode = FA_MODE_VERSION; return 0;
    default:
        snprintf(err, errlen, "unknown option (see --help)");
        return -1;
    }
}

int fa_options_parse(fa_options *o, int argc, char **argv, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->mode = FA_MODE_AUDIT;
    o->progress = -1;
    o->capture.promisc = true;
    o->capture.immediate = true;
    o->capture.snaplen = FA_DEFAULT_SNAPLEN;
    o->ws_min_idle_s = 30;
    o->interim_s = -1;
    o->evidence_ring_mib = 16;
    o->evidence_file_mib = 100;
    o->evidence_files = 5;
    fa_flow_config_default(&o->flow);

    /* A bare --json (last, or followed by another option) means "-": it
     * lets "--list-rules --json" ask for JSON on stdout. */
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int nargs = 0;
    for (int i = 0; i < argc; i++) {
        bool bare = strcmp(argv[i], "--json") == 0 &&
                    (i + 1 == argc || (argv[i + 1][0] == '-' && argv[i + 1][1] != '\0'));
        if (bare)
            o->json_path = "-";
        else
            args[nargs++] = argv[i];
    }
    args[nargs] = NULL;
    o->argv_copy = args;
    argv = args;

    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(nargs, argv, "+r:i:f:s:B:pj:qhVZ:w:", long_opts, NULL)) != -1) {
        if (c == '?' || c == ':') {
            snprintf(err, errlen, "%s: '%s' (see --help)",
                     c == ':' ? "missing argument for" : "unknown option", argv[optind - 1]);
            return -1;
        }
        if (parse_one(o, c, optarg, err, errlen) != 0)
            return -1;
    }
    if (join_filter(o, nargs, argv, optind) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (o->mode == FA_MODE_AUDIT && o->nfiles == 0 && o->nifaces == 0) {
        snprintf(err, errlen, "nothing to read: give -r FILE or -i IFACE (see --help)");
        return -1;
    }
    if (o->mode == FA_MODE_AUDIT && o->nfiles > 0 && o->nifaces > 0) {
        snprintf(err, errlen, "-r and -i cannot be combined");
        return -1;
    }
    if (o->user && o->nifaces == 0) {
        snprintf(err, errlen, "-Z drops privileges after opening interfaces: it needs -i");
        return -1;
    }
    if (o->interim_s < 0)
        o->interim_s = o->nifaces ? 300 : 0;
    o->capture.filter = o->filter;
    return 0;
}

void fa_options_free(fa_options *o)
{
    free(o->filter);
    free(o->argv_copy);
    o->filter = NULL;
    o->argv_copy = NULL;
}
