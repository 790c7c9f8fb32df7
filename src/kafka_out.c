/* kafka_out.c - the sensor's end (kafka.h): every flow record the run
 * writes is also published to the topic, keyed by the site key so that
 * one site's records share a partition, and so one auditor of a group.
 * A sensor_hello record says which networks the sensor observes; it is
 * sent first, again every HELLO_EVERY_US while records flow, and last,
 * so an auditor that starts from a committed offset soon learns them. */
#include "kafka.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flow_json.h"
#include "json_line.h"
#include "kafka_internal.h"
#include "live.h"
#include "sensors.h"

#define HELLO_EVERY_US (60 * 1000000ull)
/* How long a record may wait for a broker (librdkafka retries meanwhile),
 * and so the longest a sensor waits at exit for one that is down. */
#define MESSAGE_TIMEOUT_MS "300000"
/* After SIGINT or SIGTERM, how long the sensor still waits for the
 * brokers to take what is queued. */
#define STOP_FLUSH_US (5 * 1000000ull)

struct fa_kafka_out {
    rd_kafka_t *rk;
    char topic[FA_KAFKA_TOPIC_MAX];
    char sensor[FA_SENSOR_ID_MAX];
    const char *site_key;
    const char *networks;   /* --sensor-networks as given, checked */
    uint64_t next_hello_us;
    uint64_t seq;           /* number of the next message, from 0 at start */
    uint64_t failed;        /* records the brokers never took */
    uint64_t unpublished;   /* records dropped: the producer's queue was full */
    char first_error[256];
    const fa_signals *sig;
};

/* Called from rd_kafka_poll and rd_kafka_flush, in this thread. */
static void delivered(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    fa_kafka_out *k = opaque;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    if (k->failed++ == 0)
        snprintf(k->first_error, sizeof k->first_error, "%s", rd_kafka_err2str(m->err));
}

/* The record as -j writes it, numbered among the sensor's messages (so an
 * auditor or a shipper can tell one is missing), given to librdkafka,
 * which frees the text. A full queue (brokers away for long) drops it:
 * waiting would stop capture and, under the run's lock, every thread. */
static void produce(fa_kafka_out *k, const fa_json_rec *rec, bool flow)
{
    size_t len;
    char *text = fa_json_rec_message(rec, "seq", (int64_t)k->seq++, &len);
    if (!text) {
        k->failed++;
        return;
    }
    rd_kafka_resp_err_t e = rd_kafka_producev(k->rk, RD_KAFKA_V_TOPIC(k->topic),
                                              RD_KAFKA_V_KEY(k->site_key, strlen(k->site_key)),
                                              RD_KAFKA_V_VALUE(text, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                                              RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        /* A hello dropped is said again by the next; the auditor sees the
         * gap in seq either way. */
        if (flow && k->unpublished++ == 0)
            fprintf(stderr, "flowaudit: --kafka-out %s: the producer's queue is full (brokers away?): records are"
                            " not published, and counted; the auditor's verdicts for sensor %s may be wrong\n",
                    k->topic, k->sensor);
        free(text);
    } else if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        delivered(k->rk, &(rd_kafka_message_t){.err = e}, k);
        free(text);
    }
    rd_kafka_poll(k->rk, 0);
}

static void hello(fa_kafka_out *k)
{
    uint64_t now = fa_live_wall_us();
    fa_json_rec r;
    fa_json_rec_init(&r, NULL, 0);
    fa_json_rec_open(&r, NULL);
    fa_json_rec_str(&r, "type", "sensor_hello");
    fa_json_rec_micros(&r, "ts", now);
    fa_json_rec_str(&r, "sensor", k->sensor);
    fa_json_rec_str(&r, "site_key", k->site_key);
    fa_json_rec_array(&r, "networks");
    for (const char *p = k->networks; *p; p += *p == ',') {
        char item[FA_NET_TEXT_MAX];
        size_t n = strcspn(p, ",");
        snprintf(item, sizeof item, "%.*s", (int)n, p);
        fa_json_rec_str(&r, NULL, item);
        p += n;
    }
    fa_json_rec_array_end(&r);
    fa_json_rec_str(&r, "version", FLOWAUDIT_VERSION);
    produce(k, &r, false);
    fa_json_rec_free(&r);
    k->next_hello_us = now + HELLO_EVERY_US;
}

/* The list, each item checked, kept as given for the hellos. */
static int network_list(fa_kafka_out *k, const char *list, char *err, size_t errlen)
{
    fa_cidr nets[FA_SENSOR_NETS_MAX];
    char why[128];
    k->networks = list ? list : "";
    if (fa_sensors_parse_nets(k->networks, nets, FA_SENSOR_NETS_MAX, why, sizeof why) >= 0)
        return 0;
    snprintf(err, errlen, "--sensor-networks: %s", why);
    return -1;
}

static int sensor_name(const fa_options *o, char out[FA_SENSOR_ID_MAX], char *err, size_t errlen)
{
    if (o->sensor_id && strlen(o->sensor_id) < FA_SENSOR_ID_MAX && o->sensor_id[0]) {
        strcpy(out, o->sensor_id);
        return 0;
    }
    if (o->sensor_id) {
        snprintf(err, errlen, "--sensor-id wants 1 to %d bytes", FA_SENSOR_ID_MAX - 1);
        return -1;
    }
    if (gethostname(out, FA_SENSOR_ID_MAX) != 0) {
        snprintf(err, errlen, "no --sensor-id, and no host name: %s", strerror(errno));
        return -1;
    }
    out[FA_SENSOR_ID_MAX - 1] = '\0';
    return 0;
}

fa_kafka_out *fa_kafka_out_open(const fa_options *o, const fa_signals *sig, char *err, size_t errlen)
{
    /* Idempotence: a retry after a lost acknowledgement is not written
     * twice, and records of a partition keep their order. */
    static const char *const defaults[] = {"enable.idempotence", "true", "message.timeout.ms", MESSAGE_TIMEOUT_MS,
                                           "linger.ms", "50", NULL};
    char why[512];
    fa_kafka_out *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    k->site_key = o->site_key;
    k->sig = sig;
    rd_kafka_conf_t *conf = NULL;
    if (sensor_name(o, k->sensor, err, errlen) != 0 || network_list(k, o->sensor_nets, err, errlen) != 0 ||
        !(conf = fa_kafka_conf(o, o->kafka_out, defaults, k->topic, err, errlen)))
        goto fail;
    rd_kafka_conf_set_dr_msg_cb(conf, delivered);
    rd_kafka_conf_set_opaque(conf, k);
    if (!(k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why))) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "--kafka-out: %s", why);
        goto fail;
    }
    hello(k);
    return k;
fail:
    free(k);
    return NULL;
}

void fa_kafka_out_flow(fa_kafka_out *k, fa_json_rec *rec)
{
    fa_json_rec_str(rec, "sensor", k->sensor);
    fa_json_rec_str(rec, "site_key", k->site_key);
    produce(k, rec, true);
    if (fa_live_wall_us() >= k->next_hello_us)
        hello(k);
}

uint64_t fa_kafka_out_unpublished(const fa_kafka_out *k)
{
    return k ? k->unpublished : 0;
}

/* Until every record is delivered or the message timeout, and at most
 * STOP_FLUSH_US once a stop signal came. */
static void flush(fa_kafka_out *k)
{
    uint64_t now = fa_live_wall_us();
    uint64_t deadline = now + (uint64_t)atoi(MESSAGE_TIMEOUT_MS) * 1000 + 10000000;
    while (rd_kafka_outq_len(k->rk) > 0 && now < deadline) {
        if (k->sig && atomic_load(&k->sig->stop) && deadline > now + STOP_FLUSH_US)
            deadline = now + STOP_FLUSH_US;
        rd_kafka_flush(k->rk, FA_LIVE_POLL_MS);
        now = fa_live_wall_us();
    }
}

int fa_kafka_out_close(fa_kafka_out *k, char *err, size_t errlen)
{
    if (!k)
        return 0;
    hello(k);
    flush(k);
    int left = rd_kafka_outq_len(k->rk);
    int rc = 0;
    if (left > 0 || k->failed || k->unpublished) {
        snprintf(err, errlen, "--kafka-out %s: %llu flow records not published (queue full), %llu messages not"
                              " delivered%s%s",
                 k->topic, (unsigned long long)k->unpublished, (unsigned long long)(k->failed + (uint64_t)left),
                 k->failed ? ": " : "", k->first_error);
        rc = -1;
    }
    rd_kafka_destroy(k->rk);
    free(k);
    return rc;
}
