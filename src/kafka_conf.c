/* kafka_conf.c - librdkafka configuration from the command line, for
 * both ends (kafka_internal.h). */
#include "kafka_internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define LOG_LINES_SHOWN 10

/* librdkafka logs from its own threads, and a broker that stays away
 * repeats the same line every few seconds: the first few go to stderr
 * under flowaudit's name, the rest are only counted. -q shows none but
 * errors; one run has one Kafka end, so the setting can be the process's. */
static atomic_bool log_quiet;
static atomic_uint log_lines;

static void log_line(const rd_kafka_t *rk, int level, const char *facility, const char *text)
{
    unsigned n = atomic_fetch_add(&log_lines, 1);
    if (n >= LOG_LINES_SHOWN || (atomic_load(&log_quiet) && level > 3))
        return;
    const char *end = rd_kafka_type(rk) == RD_KAFKA_CONSUMER ? "--kafka-in" : "--kafka-out";
    fprintf(stderr, "flowaudit: %s: %s: %s%s\n", end, facility, text,
            n + 1 == LOG_LINES_SHOWN ? " (further messages of the Kafka library not shown)" : "");
}

/* The value may be a password (sasl.password, ssl.key.password): the
 * error names the key and librdkafka's reason, with the value cut out of
 * the reason where librdkafka quotes it. */
static int set(rd_kafka_conf_t *conf, const char *key, const char *value, char *err, size_t errlen)
{
    char why[256], told[256];
    if (rd_kafka_conf_set(conf, key, value, why, sizeof why) == RD_KAFKA_CONF_OK)
        return 0;
    size_t vlen = strlen(value), n = 0;
    for (const char *p = why; *p && n + 1 < sizeof told;) {
        if (vlen && strncmp(p, value, vlen) == 0) {
            n += (size_t)snprintf(told + n, sizeof told - n, "...");
            p += vlen;
        } else {
            told[n++] = *p++;
        }
    }
    told[n < sizeof told ? n : sizeof told - 1] = '\0';
    snprintf(err, errlen, "Kafka property %s (value not shown): %s", key, told);
    return -1;
}

rd_kafka_conf_t *fa_kafka_conf(const fa_options *o, const char *spec, const char *const *defaults,
                               char topic[FA_KAFKA_TOPIC_MAX], char *err, size_t errlen)
{
    const char *slash = strrchr(spec, '/');
    char brokers[1024];
    size_t blen = (size_t)(slash - spec);
    if (blen >= sizeof brokers || strlen(slash + 1) >= FA_KAFKA_TOPIC_MAX) {
        snprintf(err, errlen, "'%.100s...': broker list or topic too long", spec);
        return NULL;
    }
    memcpy(brokers, spec, blen);
    brokers[blen] = '\0';
    strcpy(topic, slash + 1);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!conf) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    atomic_store(&log_quiet, o->quiet);
    rd_kafka_conf_set_log_cb(conf, log_line);
    int rc = set(conf, "bootstrap.servers", brokers, err, errlen);
    for (int i = 0; rc == 0 && defaults[i]; i += 2)
        rc = set(conf, defaults[i], defaults[i + 1], err, errlen);
    for (int i = 0; rc == 0 && i < o->nkafka_set; i++) {
        char key[256];
        const char *eq = strchr(o->kafka_set[i], '=');
        snprintf(key, sizeof key, "%.*s", (int)(eq - o->kafka_set[i]), o->kafka_set[i]);
        rc = set(conf, key, eq + 1, err, errlen);
    }
    if (rc != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}
