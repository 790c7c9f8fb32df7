/* options.h - the command line, parsed into one struct. */
#ifndef FLOWAUDIT_OPTIONS_H
#define FLOWAUDIT_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "capture.h"
#include "flow_table.h"

#define FA_MAX_INPUTS 64
#define FA_MAX_IFACES 16
#define FA_MAX_WORKERS 16
#define FA_MAX_KAFKA_SET 32
#define FA_MAX_SITE_KEYS 64

typedef enum fa_mode {
    FA_MODE_AUDIT,        /* read packets, track flows, report */
    FA_MODE_CHECK_RULES,  /* validate a rules directory */
    FA_MODE_LIST_RULES,   /* print the loaded matrix */
    FA_MODE_INIT_SITE,    /* print a site file template for a product */
    FA_MODE_HELP,
    FA_MODE_VERSION,
} fa_mode;

/* --collect [udp:|tcp:|netflow:][ADDR:]PORT: where flow records come in. */
typedef struct fa_collect_spec {
    bool set;
    bool tcp;                /* IPFIX over TCP; else UDP */
    bool netflow9;           /* NetFlow v9 (over UDP) */
    char host[64];           /* "" for every address */
    char port[8];
    const char *text;        /* as given */
} fa_collect_spec;

typedef struct fa_options {
    fa_mode mode;
    const char *files[FA_MAX_INPUTS];
    int nfiles;
    const char *ifaces[FA_MAX_IFACES];
    int nifaces;
    fa_collect_spec collect; /* --collect: live flow records */
    const char *user;        /* -Z: drop root to this user once capturing */
    const char *evidence_path; /* -w: packets of flagged flows */
    uint32_t evidence_ring_mib, evidence_keys_mib, evidence_file_mib;
    int evidence_files;
    char *filter;            /* owned: joined from trailing arguments or -f */
    char **argv_copy;        /* owned: argv as getopt saw it */
    fa_capture_opts capture;
    int workers;             /* live: capture threads sharing each interface (--workers) */
    const char *json_path;   /* NULL: no NDJSON; "-": stdout */
    const char *html_path;   /* --html: the report as a page, NULL: none */
    const char *dot_path;    /* --dot: the deployment diagram as DOT */
    const char *rules_dir;   /* NULL: built-in default */
    const char *site_path;
    const char *init_product; /* --init-site */
    unsigned fail_on;        /* fa_fail_bits that make the exit status 1 */
    unsigned fail_on_named;  /* those --fail-on names one by one, not by "all" */
    double ws_min_idle_s;    /* noise floor: a FIN or RST after less idle is never an idle kill */
    uint32_t report_interval_s; /* live: periodic report, 0 = only at exit */
    uint32_t window_s;       /* live: rules are judged per window, 0 = whole run */
    int interim_s;           /* interim records of long flows; -1 = default */
    fa_flow_config flow;
    const char *kafka_out;   /* BROKERS/TOPIC: a sensor publishing its flow records */
    const char *kafka_in;    /* BROKERS/TOPIC: an auditor reading the sensors' records */
    const char *kafka_group; /* --group: the auditors' consumer group */
    const char *sensor_id;   /* NULL: the host name */
    const char *site_key;    /* sensor: message key, one site's records stay on one partition */
    const char *site_keys[FA_MAX_SITE_KEYS]; /* auditor: the sites it judges; [0] is site_key */
    int nsite_keys;
    const char *sensor_nets; /* "CIDR,CIDR": what the sensor observes */
    const char *kafka_set[FA_MAX_KAFKA_SET]; /* librdkafka KEY=VALUE properties */
    int nkafka_set;
    bool quiet;              /* no text summary */
    int progress;            /* -1 auto (terminal), 0 off, 1 on */
} fa_options;

/* Parses argv. Returns 0, or -1 with a one-line message in err. The caller
 * frees with fa_options_free. */
int fa_options_parse(fa_options *o, int argc, char **argv, char *err, size_t errlen);
void fa_options_free(fa_options *o);
/* A live run: interfaces (-i) or a collector (--collect). */
bool fa_options_live(const fa_options *o);
/* Where installed rule files live (set at build time). */
const char *fa_default_rules_dir(void);
/* Prints the --help text. */
void fa_options_usage(FILE *out);

#endif
