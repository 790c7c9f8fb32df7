/* flow_json.h - one NDJSON record per finished flow (schema:
 * docs/output-schema.md). Field names follow Zeek's conn.log where Zeek has
 * the same fact. */
#ifndef FLOWAUDIT_FLOW_JSON_H
#define FLOWAUDIT_FLOW_JSON_H

#include <jansson.h>
#include <stdio.h>

#include "flow.h"
#include "json_line.h"

/* Opens a record in r and writes the flow's fields, "type" being type
 * ("flow", "flow_update"); the record is left open for more members. */
void fa_flow_json(fa_json_rec *r, const fa_flow *f, const char *type);
/* The same, its "evidence" field being evidence ("sensor": an auditor's
 * flow from a sensor's record) rather than what the flow's bits say. */
void fa_flow_json_as(fa_json_rec *r, const fa_flow *f, const char *type, const char *evidence);

/* Where report stages hand their records, as jansson objects (the few
 * per report) or written into a record (the many: one per aggregate).
 * put() takes ownership of rec; put_rec() is given a record whose object
 * is still open, adds what the sink adds, writes it and empties it. Both
 * return 0, or -1 on a write error. ts_us is the time the records
 * describe, their "ts": the end of the capture or of the live window
 * (0: no packet was read, "ts" is null). */
typedef struct fa_json_sink {
    int (*put)(void *ctx, json_t *rec);
    int (*put_rec)(void *ctx, fa_json_rec *rec);
    void *ctx;
    uint64_t ts_us;
} fa_json_sink;

/* A sink that writes each record as a line to out (ctx is the FILE). */
int fa_json_sink_file(void *out, json_t *rec);
int fa_json_sink_file_rec(void *out, fa_json_rec *rec);


/* A timestamp in microseconds as seconds, or null for 0 (unknown).
 * Returns a new reference. */
json_t *fa_json_time(uint64_t us);

/* "SAFPR" style string of TCP flags, in Zeek history order. */
void fa_tcp_flags_str(uint8_t flags, char out[9]);

#endif
