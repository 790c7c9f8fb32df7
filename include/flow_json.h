/* flow_json.h - one NDJSON record per finished flow (schema:
 * docs/output-schema.md). Field names follow Zeek's conn.log where Zeek has
 * the same fact. */
#ifndef FLOWAUDIT_FLOW_JSON_H
#define FLOWAUDIT_FLOW_JSON_H

#include <jansson.h>
#include <stdio.h>

#include "flow.h"

/* Returns a new JSON object for the flow (caller owns the reference), or
 * NULL when out of memory. */
json_t *fa_flow_to_json(const fa_flow *f);

/* Where report stages hand their records: put() takes ownership of rec
 * and returns 0, or -1 on a write error. ts_us is the time the records
 * describe, their "ts": the end of the capture or of the live window
 * (0: no packet was read, "ts" is null). */
typedef struct fa_json_sink {
    int (*put)(void *ctx, json_t *rec);
    void *ctx;
    uint64_t ts_us;
} fa_json_sink;

/* A sink that writes each record as a line to out (ctx is the FILE). */
int fa_json_sink_file(void *out, json_t *rec);


/* A timestamp in microseconds as seconds, or null for 0 (unknown).
 * Returns a new reference. */
json_t *fa_json_time(uint64_t us);

/* "SAFPR" style string of TCP flags, in Zeek history order. */
void fa_tcp_flags_str(uint8_t flags, char out[9]);

#endif
