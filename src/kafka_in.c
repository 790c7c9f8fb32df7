/* kafka_in.c - the auditor's driver (kafka.h): consumes the sensors'
 * records as a member of a consumer group, so several auditors split the
 * partitions, and with them the sites (a site's records share a key). A
 * flow record becomes a flow through the conn.log reader of the flow
 * records (records_zeek.c: the record carries Zeek's fields), with what
 * the sensor saw of ICMP errors and firewall denials, and goes to the
 * run core as a record's flow does, marked as the sensor's. A sensor_hello
 * record tells which networks a sensor observes (sensors.h), which bounds
 * where a rule may be called not seen. Reports run on the wall clock as in
 * live mode; the offsets of what a report covers are committed after it,
 * so a restarted auditor starts after the last report. */
#include "kafka.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_internal.h"
#include "live.h"
#include "records.h"
#include "records_internal.h"
#include "run_internal.h"
#include "sensors.h"

#define DRAIN_MAX 4096        /* records taken before the clock's work runs */

struct fa_kafka_in {
    rd_kafka_t *rk;
    fa_sensors *sensors;
    bool read;                /* offsets stored since the last commit */
    bool warned_room;         /* a hello found no room, said once */
    bool quiet;
    const char *const *site_keys; /* the sites judged here */
    int nsite_keys;
};

/* The group's assignment, said on stderr: which partitions, and so which
 * sites, this auditor now judges. Records read but not yet reported when a
 * partition leaves are read again by its next owner, from the last commit.
 * Under the cooperative protocol (partition.assignment.strategy=
 * cooperative-sticky) parts is what is added or taken away, not the whole
 * assignment. */
static void rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e, rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    const fa_kafka_in *k = opaque;
    bool assign = e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
    const char *protocol = rd_kafka_rebalance_protocol(rk);
    rd_kafka_error_t *failed = NULL;
    if (protocol && strcmp(protocol, "COOPERATIVE") == 0)
        failed = assign ? rd_kafka_incremental_assign(rk, parts) : rd_kafka_incremental_unassign(rk, parts);
    else
        rd_kafka_assign(rk, assign ? parts : NULL);
    if (failed) {
        fprintf(stderr, "flowaudit: --kafka-in: %s\n", rd_kafka_error_string(failed));
        rd_kafka_error_destroy(failed);
    }
    if (k->quiet)
        return;
    fprintf(stderr, "flowaudit: --kafka-in: %s partitions", assign ? "auditing" : "handing back");
    for (int i = 0; i < parts->cnt; i++)
        fprintf(stderr, "%s%" PRId32, i ? "," : " ", parts->elems[i].partition);
    fprintf(stderr, " of %s\n", parts->cnt ? parts->elems[0].topic : "the topic");
}

fa_kafka_in *fa_kafka_in_open(const fa_options *o, char *err, size_t errlen)
{
    /* Offsets are stored as records are judged and committed by hand
     * after a report; a group new to the topic starts at its beginning. */
    const char *const defaults[] = {"group.id", o->kafka_group ? o->kafka_group : "flowaudit",
                                    "enable.auto.commit", "false", "enable.auto.offset.store", "false",
                                    "auto.offset.reset", "earliest", NULL};
    char topic[FA_KAFKA_TOPIC_MAX], why[512];
    fa_kafka_in *k = calloc(1, sizeof *k);
    rd_kafka_conf_t *conf = NULL;
    if (!k || !(k->sensors = fa_sensors_new())) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (!(conf = fa_kafka_conf(o, o->kafka_in, defaults, topic, err, errlen)))
        goto fail;
    k->quiet = o->quiet;
    k->site_keys = o->site_keys;
    k->nsite_keys = o->nsite_keys;
    rd_kafka_conf_set_rebalance_cb(conf, rebalance);
    rd_kafka_conf_set_opaque(conf, k);
    if (!(k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why))) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "--kafka-in: %s", why);
        goto fail;
    }
    rd_kafka_poll_set_consumer(k->rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(k->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "--kafka-in %s: %s", topic, rd_kafka_err2str(e));
        goto fail;
    }
    return k;
fail:
    if (k && k->rk)
        rd_kafka_destroy(k->rk);
    if (k)
        fa_sensors_free(k->sensors);
    free(k);
    return NULL;
}

static bool watch(void *arg, const fa_ruleset *rs, const fa_site *site, int rule)
{
    const fa_kafka_in *k = arg;
    return fa_sensors_rule_observable(k->sensors, rs, site, rule);
}

static void take_hello(fa_kafka_in *k, const char *sensor, const json_t *rec, fa_summary *s)
{
    fa_cidr nets[FA_SENSOR_NETS_MAX];
    const json_t *list = json_object_get(rec, "networks");
    int n = 0;
    bool ok = json_is_array(list) && json_array_size(list) <= FA_SENSOR_NETS_MAX;
    for (size_t i = 0; ok && i < json_array_size(list); i++) {
        const char *text = json_string_value(json_array_get(list, i));
        ok = text && fa_cidr_parse(text, &nets[n++]) == 0;
    }
    if (!ok) {
        s->records_malformed++;
        return;
    }
    if (fa_sensors_announce(k->sensors, sensor, nets, n) != 0 && !k->warned_room) {
        fprintf(stderr, "flowaudit: sensor %s: more than %d sensors, its networks are not counted\n", sensor,
                FA_SENSORS_MAX);
        k->warned_room = true;
    }
    s->sensors = (uint64_t)fa_sensors_count(k->sensors);
}

/* What the sensor saw of the flow beyond Zeek's fields: the ICMP error
 * that quoted it and a firewall's denial. */
static void sensor_facts(const json_t *rec, fa_flow *f)
{
    json_int_t errors = json_integer_value(json_object_get(rec, "icmp_errors"));
    if (errors > 0) {
        f->icmp_errors = errors > 255 ? 255 : (uint8_t)errors;
        f->icmp_type = (uint8_t)json_integer_value(json_object_get(rec, "icmp_type"));
        f->icmp_code = (uint8_t)json_integer_value(json_object_get(rec, "icmp_code"));
        const char *by = json_string_value(json_object_get(rec, "icmp_refused"));
        if (by && strcmp(by, "orig") == 0)
            f->bits |= FA_FLOW_ICMP_FROM_RESP;
    }
    const char *fw = json_string_value(json_object_get(rec, "firewall_event"));
    if (fw && strcmp(fw, "denied") == 0)
        f->bits |= FA_FLOW_DENIED;
}

/* A sensor's flow record, judged once per (sensor, uid). */
static void take_flow(fa_kafka_in *k, fa_run *ctx, const rd_kafka_message_t *m, const json_t *rec,
                      const char *sensor)
{
    fa_summary *s = &ctx->summary;
    const char *uid = json_string_value(json_object_get(rec, "uid"));
    fa_flow f;
    if (!uid || !fa_zeek_json_line(m->payload, m->len, &f)) {
        s->records_malformed++;
        return;
    }
    if (!fa_sensors_first(k->sensors, sensor, uid)) {
        s->sensor_duplicates = fa_sensors_duplicates(k->sensors);
        return;
    }
    sensor_facts(rec, &f);
    s->records++;
    ctx->from_sensor = sensor;
    fa_run_flow(ctx, &f);
    ctx->from_sensor = NULL;
}

static bool my_site(const fa_kafka_in *k, const char *key)
{
    for (int i = 0; i < k->nsite_keys; i++)
        if (strcmp(key, k->site_keys[i]) == 0)
            return true;
    return false;
}

/* One message: a sensor's hello or flow record, numbered among the
 * sensor's messages. Other record types are not the auditor's and are
 * passed over; so are the messages of other sites (their keys may share
 * a partition with ours): judged against this site file, their flows
 * would be wrong findings and their hellos would make rules observable. */
static void take(fa_kafka_in *k, fa_run *ctx, const rd_kafka_message_t *m)
{
    fa_summary *s = &ctx->summary;
    json_t *rec = m->len <= FA_RECORD_LINE_MAX ? json_loadb(m->payload, m->len, 0, NULL) : NULL;
    const char *type = json_string_value(json_object_get(rec, "type"));
    const char *sensor = json_string_value(json_object_get(rec, "sensor"));
    const json_t *seq = json_object_get(rec, "seq");
    const char *key = json_string_value(json_object_get(rec, "site_key"));
    if (!type || !sensor || !sensor[0] || strlen(sensor) >= FA_SENSOR_ID_MAX || !key) {
        s->records_malformed++;
    } else if (!my_site(k, key)) {
        s->other_sites++;
    } else {
        if (json_is_integer(seq) && json_integer_value(seq) >= 0)
            s->sensor_missing += fa_sensors_seq(k->sensors, sensor, (uint64_t)json_integer_value(seq));
        if (strcmp(type, "sensor_hello") == 0)
            take_hello(k, sensor, rec, s);
        else if (strcmp(type, "flow") == 0)
            take_flow(k, ctx, m, rec, sensor);
    }
    json_decref(rec);
    rd_kafka_offset_store(m->rkt, m->partition, m->offset + 1);
    k->read = true;
}

/* Transport errors are librdkafka's to retry; they are said, not fatal.
 * A fatal one (this member fenced by another with its group.instance.id,
 * say) ends the consumer: returns -1 with err set. */
static int consumer_error(fa_kafka_in *k, const rd_kafka_message_t *m, char *err, size_t errlen)
{
    char why[512];
    if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_fatal_error(k->rk, why, sizeof why);
        snprintf(err, errlen, "--kafka-in: fatal consumer error: %s", why);
        return -1;
    }
    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        fprintf(stderr, "flowaudit: --kafka-in: %s\n", rd_kafka_message_errstr(m));
    return 0;
}

/* The offsets of what a report covered. A failure (the group is
 * rebalancing) is said and reading goes on: those records come again to
 * whoever holds their partition next, and are judged there. */
static void commit(fa_kafka_in *k)
{
    if (!k->read)
        return;
    rd_kafka_resp_err_t e = rd_kafka_commit(k->rk, NULL, 0);
    k->read = false;
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
        fprintf(stderr, "flowaudit: --kafka-in: offsets not committed: %s\n", rd_kafka_err2str(e));
}

int fa_kafka_in_run(fa_kafka_in *k, fa_run *ctx, fa_signals *sig, char *err, size_t errlen)
{
    int rc = 0;
    fa_live_timers t;
    fa_live_start(ctx, &t);
    ctx->summary.record_formats |= 1u << FA_REC_KAFKA;
    ctx->watch = watch;
    ctx->watch_arg = k;
    while (!sig->stop && rc == 0) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k->rk, FA_LIVE_POLL_MS);
        for (int n = 0; m && n < DRAIN_MAX; n++) {
            if (m->err)
                rc = consumer_error(k, m, err, errlen);
            else
                take(k, ctx, m);
            rd_kafka_message_destroy(m);
            m = n + 1 < DRAIN_MAX && !sig->stop && rc == 0 ? rd_kafka_consumer_poll(k->rk, 0) : NULL;
        }
        /* A report is followed by the commit of what it covers. */
        uint64_t reports = ctx->reports;
        fa_live_tick(ctx, sig, &t);
        if (ctx->reports != reports)
            commit(k);
    }
    return rc;
}

void fa_kafka_in_close(fa_kafka_in *k, bool commit_read)
{
    if (!k)
        return;
    if (commit_read)
        commit(k);
    rd_kafka_consumer_close(k->rk);
    rd_kafka_destroy(k->rk);
    fa_sensors_free(k->sensors);
    free(k);
}
