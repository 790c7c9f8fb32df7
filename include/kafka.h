/* kafka.h - many sensors, one audit: a sensor publishes its flow records
 * to a Kafka topic (kafka_out.c), an auditor of a consumer group audits
 * what every sensor of its sites saw (kafka_in.c, a driver). Built with
 * librdkafka when CMake finds it; without it (kafka_none.c) both ends
 * refuse to start and say why. Record formats: docs/output-schema.md
 * ("Kafka messages"); deployment: docs/deployment.md. */
#ifndef FLOWAUDIT_KAFKA_H
#define FLOWAUDIT_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json_line.h"
#include "options.h"
#include "run.h"
#include "signals.h"

typedef struct fa_kafka_out fa_kafka_out;

/* A producer for o->kafka_out; publishes the sensor_hello record at once.
 * sig (may be NULL) cuts the wait at close short once stop is set.
 * Returns NULL with err set (bad property or network list, no
 * librdkafka, out of memory). */
fa_kafka_out *fa_kafka_out_open(const fa_options *o, const fa_signals *sig, char *err, size_t errlen);
/* Publishes one flow record, with the sensor's id and site key added and
 * its number among the sensor's messages as seq (rec stays the caller's,
 * and keeps them). Never waits: when the producer's queue is full the
 * record is dropped and counted (fa_kafka_out_unpublished). */
void fa_kafka_out_flow(fa_kafka_out *k, fa_json_rec *rec);
/* Records dropped so far because the producer's queue was full; 0 for a
 * NULL k. */
uint64_t fa_kafka_out_unpublished(const fa_kafka_out *k);
/* Announces the sensor once more, waits for every record to be
 * delivered (at most the message timeout, and at most 5 s once a stop
 * signal came), frees k. Returns 0, or -1 with err set when a record was
 * not published or not delivered. NULL k: nothing to do. */
int fa_kafka_out_close(fa_kafka_out *k, char *err, size_t errlen);

typedef struct fa_kafka_in fa_kafka_in;

/* A consumer of o->kafka_in in group o->kafka_group, subscribed. Returns
 * NULL with err set. */
fa_kafka_in *fa_kafka_in_open(const fa_options *o, char *err, size_t errlen);
/* The auditor's driver: hands each sensor's flow record, once, to the run
 * core, keeps what the sensors announce, reports as live mode does
 * (--report-interval, --window, SIGUSR1) and commits the offsets read
 * after each report, until a stop signal. Returns 0, or -1 with err set. */
int fa_kafka_in_run(fa_kafka_in *k, fa_run *run, fa_signals *sig, char *err, size_t errlen);
/* Commits what was read (when commit: the run's final report is out),
 * leaves the group, frees k. A commit the group refuses (it is
 * rebalancing) is said on stderr: those records go to the partition's
 * next owner. NULL k: nothing to do. */
void fa_kafka_in_close(fa_kafka_in *k, bool commit);

#endif
