/* sensors.h - what an auditor fed by sensors over Kafka knows of them:
 * the networks each sensor announced it observes, which decide where a
 * rule's silence may be called "not seen", and the (sensor, uid) pairs
 * already judged, so records replayed after a restart or a producer's
 * retry are not counted twice. No librdkafka here: kafka_in.c feeds it. */
#ifndef FLOWAUDIT_SENSORS_H
#define FLOWAUDIT_SENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "rules.h"
#include "site.h"

#define FA_SENSORS_MAX 256          /* sensors remembered; more are refused */
#define FA_SENSOR_NETS_MAX 64       /* networks one sensor may announce */
#define FA_SENSOR_ID_MAX 64         /* bytes of a sensor id, NUL included */
#define FA_NET_TEXT_MAX 64          /* bytes of one network's text, NUL included */
/* (sensor, uid) pairs remembered: at least FA_DEDUP_KEEP, at most twice
 * as many, in two fixed tables of 64-bit hashes (4 MiB). */
#define FA_DEDUP_KEEP (1u << 17)

typedef struct fa_sensors fa_sensors;

/* An empty set, its dedup tables allocated. NULL when out of memory. */
fa_sensors *fa_sensors_new(void);
void fa_sensors_free(fa_sensors *s);

/* A sensor's announcement: its networks replace those it announced
 * before. Returns 0, or -1 when the sensor id is empty or too long, or
 * a new sensor finds no room. */
int fa_sensors_announce(fa_sensors *s, const char *sensor, const fa_cidr *nets, int nnets);
/* Sensors that announced themselves. */
int fa_sensors_count(const fa_sensors *s);
/* A message numbered seq (its "seq", counted from 0 at the sensor's
 * start) from sensor: returns how many of the sensor's messages before it
 * never came, 0 for its first message met (an auditor may start
 * mid-stream), for seq 0 (the sensor started again) and for a message met
 * again. A sensor's messages share a partition, so they come in order. */
uint64_t fa_sensors_seq(fa_sensors *s, const char *sensor, uint64_t seq);
/* Parses "192.0.2.0/24,2001:db8::/32" into nets. Returns the count, or
 * -1 with err naming the bad item (or the count beyond max). */
int fa_sensors_parse_nets(const char *list, fa_cidr *nets, int max, char *err, size_t errlen);

/* Could a sensor have seen rule's traffic? True when a role of one of
 * its endpoints is one the site maps to an address or prefix overlapping
 * an announced network. A role any address may play ("any", "external",
 * every role without a site) is no such endpoint: only when both ends are
 * of that kind will any announced network do. */
bool fa_sensors_rule_observable(const fa_sensors *s, const fa_ruleset *rs, const fa_site *site, int rule);

/* True the first time (sensor, uid) is met among those remembered. */
bool fa_sensors_first(fa_sensors *s, const char *sensor, const char *uid);
/* Pairs met again, and dropped. */
uint64_t fa_sensors_duplicates(const fa_sensors *s);

#endif
