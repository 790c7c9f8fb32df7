/* run_internal.h - the run's state and the core functions its drivers
 * call: pipeline.c (files) and live.c (interfaces, signals, periodic
 * work). Not part of the public API. */
#ifndef FLOWAUDIT_RUN_INTERNAL_H
#define FLOWAUDIT_RUN_INTERNAL_H

#include <stdio.h>
#include <time.h>

#include "audit.h"
#include "capture.h"
#include "clock.h"
#include "evidence.h"
#include "flow_table.h"
#include "packet_batch.h"
#include "reload.h"
#include "rules.h"
#include "run.h"
#include "site.h"
#include "summary.h"
#include "ws_detect.h"

struct fa_run {
    const fa_options *opts;
    FILE *json;
    char *json_buf;          /* its stdio buffer, freed after fclose */
    bool json_failed;
    bool text_failed;        /* the report or summary could not be written */
    uint64_t seq;            /* sequence number of the next NDJSON record */
    fa_json_rec line;        /* the record being written, its buffer reused */
    fa_json_sink sink;
    fa_summary summary;
    fa_flow_table *flows;
    fa_batch *batch;         /* live: packets read in this poll round */
    fa_ruleset *rules;       /* NULL: no audit, flows only */
    fa_site *site;           /* NULL: port-only audit */
    fa_audit *audit;
    fa_reload *reloading;    /* live: a reload reading its files, or NULL */
    fa_ws *ws;
    fa_evidence *evidence;   /* -w; opened with the first packet's link type */
    bool evidence_failed;
    bool pictures_failed;    /* an --html or --dot file could not be written */
    uint64_t first_ts;       /* first packet's time (records: earliest start) */
    bool have_records;       /* a flow record was handed over (fa_run_flow) */
    fa_clock flow_clock;     /* packet times on one time line (clock.h) */
    uint64_t last_ts;        /* newest packet time: the flow clock's */
    uint64_t clock_us;       /* live: wall clock at the last poll */
    uint64_t window_start_us;
    uint64_t next_interim_us; /* files: capture time of the next interim records */
    fa_capture_stats live;
};

/* Gives a batch's packets, in order, to the flow table and the detectors.
 * by_packet_time: files, whose --interim records follow capture time. */
void fa_run_batch(fa_run *ctx, fa_batch *b, bool by_packet_time);
/* A finished flow made from a flow record (records.h): judged and written
 * as a flow the table ended; the report's window spans the records. */
void fa_run_flow(fa_run *ctx, fa_flow *f);
/* Writes one NDJSON record (taking ownership), numbered. */
void fa_run_record(fa_run *ctx, json_t *rec);
/* As fa_run_record for a record written into rec and still open: adds
 * "seq", closes it, writes it and empties rec. */
void fa_run_record_rec(fa_run *ctx, fa_json_rec *rec);
/* Prints the audit and WebSocket report and writes their records; final:
 * the end of the run (sets the findings for the exit status). */
int fa_run_report(fa_run *ctx, bool final, fa_run_result *res);
/* SIGHUP: starts reading fresh rules and site from disk in a thread of
 * their own (reload.h), so capture goes on meanwhile. Returns false, and
 * starts nothing, while an earlier reload is still reading: ask again. */
bool fa_run_reload_start(fa_run *ctx);
/* Once a reload's files are read: replaces rules and site by the fresh
 * copies (the window so far is reported under the old ones), says so on
 * stderr and in a "config_reload" record; on error the old ones stay.
 * Returns 1 when the new configuration is in force, 0 when the reload
 * failed, -1 when none has finished. */
int fa_run_reload_poll(fa_run *ctx);
/* Records for every flow older than age_s that is still active. */
void fa_run_interim(fa_run *ctx, uint64_t now_us, uint32_t age_s);

#endif
