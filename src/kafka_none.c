/* kafka_none.c - the Kafka ends (kafka.h) in a build without
 * librdkafka: they refuse to start, naming the missing library. */
#include "kafka.h"

#include <stdio.h>

static void *missing(const char *option, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s: this flowaudit was built without librdkafka (install librdkafka-dev and rebuild)",
             option);
    return NULL;
}

fa_kafka_out *fa_kafka_out_open(const fa_options *o, const fa_signals *sig, char *err, size_t errlen)
{
    (void)o;
    (void)sig;
    return missing("--kafka-out", err, errlen);
}

void fa_kafka_out_flow(fa_kafka_out *k, fa_json_rec *rec)
{
    (void)k;
    (void)rec;
}

uint64_t fa_kafka_out_unpublished(const fa_kafka_out *k)
{
    (void)k;
    return 0;
}

int fa_kafka_out_close(fa_kafka_out *k, char *err, size_t errlen)
{
    (void)k;
    (void)err;
    (void)errlen;
    return 0;
}

fa_kafka_in *fa_kafka_in_open(const fa_options *o, char *err, size_t errlen)
{
    (void)o;
    return missing("--kafka-in", err, errlen);
}

int fa_kafka_in_run(fa_kafka_in *k, fa_run *run, fa_signals *sig, char *err, size_t errlen)
{
    (void)k;
    (void)run;
    (void)sig;
    (void)err;
    (void)errlen;
    return -1;
}

void fa_kafka_in_close(fa_kafka_in *k, bool commit)
{
    (void)k;
    (void)commit;
}
