/* run_internal.h - the run's state and the core functions its drivers
 * call: pipeline.c (files) and live.c (interfaces, signals, periodic
 * work). Not part of the public API. */
#ifndef FLOWAUDIT_RUN_INTERNAL_H
#define FLOWAUDIT_RUN_INTERNAL_H

#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "audit.h"
#include "capture.h"
#include "clock.h"
#include "evidence.h"
#include "flow_table.h"
#include "json_file.h"
#include "options.h"
#include "kafka.h"
#include "packet_batch.h"
#include "reload.h"
#include "rules.h"
#include "run.h"
#include "site.h"
#include "summary.h"
#include "ws_detect.h"

/* --workers: an ICMP error that the capture thread it reached could not
 * charge, posted to every other thread, with the start of its frame for
 * the -w key store of the thread that charges it. */
typedef struct fa_icmp_note {
    fa_icmp_quote quote;
    uint64_t ts_us;
    uint8_t type, code;
    int dlt;
    uint32_t caplen, len;
    uint8_t frame[FA_EVIDENCE_KEY_SNAP];
} fa_icmp_note;

#define FA_INBOX_SLOTS 1024

typedef struct fa_inbox {
    pthread_mutex_t mu;
    fa_icmp_note notes[FA_INBOX_SLOTS];
    uint32_t head, n;
    uint64_t posted, claimed, lost; /* lost: arrived with the inbox full */
} fa_inbox;

struct fa_run {
    const fa_options *opts;
    /* --workers N > 1: a part per capture thread, each a run core of its
     * own (flow table, detector, summary, batch) that writes no report;
     * they share this run's rules, site, audit, report detector and
     * NDJSON stream, under its lock. A part's top is the run it belongs
     * to; a run's top is itself. */
    fa_run *top;
    fa_run *parts[FA_MAX_WORKERS];
    int nparts;
    pthread_mutex_t lock;    /* flow ends, records and the parts' counters */
    fa_inbox *inbox;         /* a part's ICMP errors from the other parts */
    uint64_t next_expire_us; /* a part's next sweep by the wall clock */
    uint64_t start_skipped;  /* a part's packets from before its fanout groups were complete */
    FILE *json;
    char *json_buf;          /* its stdio buffer, freed after fclose */
    fa_json_file *json_jobs; /* reading files: flow records formatted by the -j file's thread */
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
    fa_evidence_file *evidence_file; /* a run with parts: the file their stores share */
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
    uint64_t reports;        /* reports given so far */
    fa_audit_watch_fn watch; /* set on every audit before it reports (audit.h) */
    void *watch_arg;
    fa_kafka_out *kafka;     /* --kafka-out: flow records also go to the topic */
    const char *from_sensor; /* --kafka-in: the sensor of the record being judged */
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
/* True when a reload has read its files: fa_run_reload_poll swaps now. */
bool fa_run_reload_ready(const fa_run *ctx);
/* Records for every flow older than age_s that is still active. */
void fa_run_interim(fa_run *ctx, uint64_t now_us, uint32_t age_s);

/* The flow table's callback: summary, audit, detector, evidence, records. */
void fa_run_flow_end(fa_flow *f, void *arg);
/* A detector following the ports of ctx's websocket and long-lived rows;
 * NULL when out of memory. */
fa_ws *fa_run_new_detector(const fa_run *ctx);

/* run_parts.c: the run core's side of --workers. */
/* Makes ctx->nparts parts (one per capture thread) sharing ctx's
 * configuration and outputs. Returns 0, or -1 with err set. */
int fa_run_parts_new(fa_run *ctx, int n, char *err, size_t errlen);
void fa_run_parts_free(fa_run *ctx);
/* The lock of a run with parts (no-op without): held by a part's flow end
 * and by the driver around what it touches while the parts run. */
void fa_run_lock(fa_run *ctx);
void fa_run_unlock(fa_run *ctx);
/* A part's work on the wall clock, called by its thread between reads:
 * ICMP errors from the other parts whose time has come are charged, and
 * idle flows expired once a second. */
void fa_run_part_tick(fa_run *part, uint64_t now_us);
/* An ICMP error this part could not charge goes to every other part. */
void fa_run_part_forward_icmp(fa_run *part, const fa_batched *e);
/* With the parts stopped: their newest time, capture counters and
 * detector counts, summed into ctx for a report. */
void fa_run_parts_gather(fa_run *ctx);
/* End of run, parts stopped: every ICMP error still waiting is charged or
 * dropped, every table flushed. */
void fa_run_parts_flush(fa_run *ctx);
/* The parts' summaries and table counters summed into s and fs. */
void fa_run_parts_sum(const fa_run *ctx, fa_summary *s, fa_flow_stats *fs);
/* The -w counters of the parts' stores summed into st. */
void fa_run_parts_evidence_sum(const fa_run *ctx, fa_evidence_stats *st);
/* One summary line per part: its packets, flows and kernel drops. */
void fa_run_parts_print(const fa_run *ctx, FILE *out);

#endif
