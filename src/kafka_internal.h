/* kafka_internal.h - what the producer (kafka_out.c) and the consumer
 * (kafka_in.c) share: their librdkafka configuration. Not part of the
 * public API. */
#ifndef FLOWAUDIT_KAFKA_INTERNAL_H
#define FLOWAUDIT_KAFKA_INTERNAL_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "options.h"

/* Longest topic name Kafka accepts, NUL included. */
#define FA_KAFKA_TOPIC_MAX 250

/* "BROKERS/TOPIC" (options.c checked the slash): the configuration with
 * bootstrap.servers, the --kafka-set properties and the given defaults
 * (NULL-terminated KEY, VALUE pairs, set first so --kafka-set can change
 * them); the topic into topic. Returns NULL with err set. */
rd_kafka_conf_t *fa_kafka_conf(const fa_options *o, const char *spec, const char *const *defaults,
                               char topic[FA_KAFKA_TOPIC_MAX], char *err, size_t errlen);

#endif
