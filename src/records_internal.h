/* records_internal.h - hand-offs between the flow-record driver
 * (records.c) and the readers of each record format (records_zeek.c).
 * Not part of the public API. */
#ifndef FLOWAUDIT_RECORDS_INTERNAL_H
#define FLOWAUDIT_RECORDS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>

#include <fixbuf/public.h>

#include "flow.h"
#include "options.h"

/* Longest record line read; a longer one is skipped as malformed. */
#define FA_RECORD_LINE_MAX 65536
/* Uniflows of one connection are joined, and records of one direction
 * summed, only when their times lie this close; live collection waits as
 * long for a uniflow's other direction and for an unreachable. Exporters
 * send both directions of a connection when it ends (pmacct's nfprobe in
 * the same export round), so one active-timeout period of a typical
 * exporter (60 s) covers them. */
#define FA_RECORD_WINDOW_US 60000000u

/* The conn.log columns a flow is made of. */
typedef enum fa_zeek_field {
    ZF_TS, ZF_ORIG_H, ZF_ORIG_P, ZF_RESP_H, ZF_RESP_P, ZF_PROTO, ZF_DURATION,
    ZF_ORIG_BYTES, ZF_RESP_BYTES, ZF_CONN_STATE, ZF_HISTORY, ZF_ORIG_PKTS,
    ZF_ORIG_IP_BYTES, ZF_RESP_PKTS, ZF_RESP_IP_BYTES, ZF_IP_PROTO,
    ZF_COUNT
} fa_zeek_field;

/* A TSV log's header as read so far: separator, unset marker, and which
 * column holds each field (-1: absent). */
typedef struct fa_zeek_tsv {
    char sep;
    char unset[16];
    size_t unset_len;
    bool have_fields;
    int col[ZF_COUNT];
} fa_zeek_tsv;

/* Tab separator, "-" unset, no #fields yet. */
void fa_zeek_tsv_init(fa_zeek_tsv *z);
/* One '#' line of a TSV header. Returns 0, or -1 with err set when the
 * log is not a conn.log (#path names another log, #fields lacks the
 * connection's addresses, ports or protocol). line is modified. */
int fa_zeek_tsv_header(fa_zeek_tsv *z, char *line, char *err, size_t errlen);
/* One data line (without its newline) as a flow. line is modified.
 * Returns false for a line that is not a valid connection. */
bool fa_zeek_tsv_line(const fa_zeek_tsv *z, char *line, fa_flow *f);
/* One line of Zeek's JSON log (one object per line, flat "id.orig_h"
 * names, epoch or ISO 8601 times). Returns false for a line that is not one. */
bool fa_zeek_json_line(const char *line, size_t len, fa_flow *f);

/* A record's flow, handed to the driver (records.c). */
typedef void (*fa_record_emit)(void *arg, fa_flow *f);

typedef struct fa_ipfix_stats {
    uint64_t records, malformed;   /* data records made into flows; records and messages refused */
    uint64_t uniflows, joined, alone; /* uniflow records; joined in pairs; judged alone */
    uint64_t denied;               /* flows a firewall says it denied */
    uint64_t untimed;              /* records without a usable start time (among malformed) */
    uint64_t options;              /* options records (an exporter's own state) */
    uint32_t sampling;             /* largest sampling interval announced; 0: none */
} fa_ipfix_stats;

/* One record read through the internal template. */
typedef enum fa_ipfix_kind {
    FA_IPFIX_BIFLOW,    /* both directions (RFC 5103) */
    FA_IPFIX_UNIFLOW,   /* one direction: joined with the other */
    FA_IPFIX_OPTIONS,   /* an options record: only its sampling is read */
    FA_IPFIX_BAD,       /* no addresses */
    FA_IPFIX_UNTIMED,   /* no time element gives a start, or times out of range */
} fa_ipfix_kind;

typedef struct fa_ipfix_item {
    fa_flow flow;
    fa_ipfix_kind kind;
    uint32_t sampling;   /* sampling interval the record carries; 0: none */
    uint64_t arrival_us; /* collector: wall clock when it came, for the join window */
} fa_ipfix_item;

typedef struct fa_ipfix fa_ipfix;

/* A session holding the internal template every record is read
 * through, for a file or for a listener to clone; *tid its id. NULL with
 * gerr set. The caller frees it (fbSessionFree), after any listener. */
fbSession_t *fa_ipfix_session(fbInfoModel_t *model, uint16_t *tid, GError **gerr);
/* The next record of b, whose internal template is the session's, into
 * *it (arrival_us untouched). false at the end of a message or of the
 * input, or on an error: gerr says which. */
bool fa_ipfix_next(fBuf_t *b, fa_ipfix_item *it, GError **gerr);

/* An IPFIX reader (records_ipfix.c) handing its flows to fn. NULL when
 * out of memory. */
fa_ipfix *fa_ipfix_new(fa_record_emit fn, void *arg);
/* A record into the reader: a biflow is judged at once, a uniflow is
 * joined with its other direction or waits for it; it->flow may be
 * changed. */
void fa_ipfix_take(fa_ipfix *x, fa_ipfix_item *it);
/* Judges alone the uniflows that arrived before before_us and still wait
 * for their other direction. */
void fa_ipfix_expire(fa_ipfix *x, uint64_t before_us);
/* Uniflows waiting for their other direction. */
size_t fa_ipfix_waiting(const fa_ipfix *x);
/* What one file gave. */
typedef struct fa_ipfix_file {
    uint64_t records;   /* data records made into flows */
    long first_bad;     /* byte offset of the first message with a malformed record or set; -1: none or unknown */
} fa_ipfix_file;

/* Reads one IPFIX file (RFC 5655) to its end or *stop; uniflows wait for
 * their other direction across files. Returns 0, or -1 with err set when
 * the input is not IPFIX. in stays the caller's. */
int fa_ipfix_read(fa_ipfix *x, FILE *in, const volatile atomic_int *stop, fa_ipfix_file *fr, char *err,
                  size_t errlen);
/* Judges the uniflows still waiting, fills *st, frees the reader. */
void fa_ipfix_finish(fa_ipfix *x, fa_ipfix_stats *st);

/* libfixbuf's log messages (records_log.c): counted, the first few
 * written to stderr as "flowaudit: WHERE: message (libfixbuf)", none
 * under quiet. */
typedef struct fa_fixbuf_log {
    pthread_mutex_t mu;      /* libfixbuf logs from the collector's thread too */
    char where[256];         /* the input: a file's name, "--collect SPEC" */
    bool quiet;
    uint64_t count, shown;
    guint handler;
} fa_fixbuf_log;

/* Takes GLib's default-domain messages until stopped; l stays the
 * caller's and must outlive the handler. */
void fa_fixbuf_log_start(fa_fixbuf_log *l, bool quiet, const char *where);
/* Names the input the next messages concern. */
void fa_fixbuf_log_where(fa_fixbuf_log *l, const char *where);
/* Gives the messages back to GLib; returns how many came. */
uint64_t fa_fixbuf_log_stop(fa_fixbuf_log *l);

/* The live collector (records_collect.c): a thread reading an fbListener
 * into a ring of records. */
typedef struct fa_collector fa_collector;
typedef struct fa_collector_stats {
    uint64_t messages;   /* messages read to their end */
    uint64_t malformed;  /* read errors: messages refused, sets without a template */
    uint32_t missed;     /* NetFlow v9: export packets missed, the most any session counted */
    uint64_t records_missed; /* IPFIX: data records missed, by sequence numbers, all streams */
    uint64_t untracked;  /* IPFIX: messages of streams past the cap, sequence numbers not followed */
    uint64_t dropped;    /* UDP: datagrams the kernel dropped, socket buffer full */
    int rcvbuf;          /* UDP: the socket's receive buffer, bytes (0 for TCP) */
} fa_collector_stats;

/* Listens as spec says and starts the thread. NULL with err set (the
 * address is taken, out of memory). */
fa_collector *fa_collector_open(const fa_collect_spec *spec, char *err, size_t errlen);
/* Up to max records into out, waiting up to wait_ms for the first one.
 * Returns how many. */
size_t fa_collector_take(fa_collector *c, fa_ipfix_item *out, size_t max, unsigned wait_ms);
/* The counts so far, losses among them, into *st. */
void fa_collector_losses(fa_collector *c, fa_collector_stats *st);
/* -1 with err set once the thread has ended on an error and its records
 * are all taken; else 0. */
int fa_collector_failed(fa_collector *c, char *err, size_t errlen);
/* Stops the thread and waits for it; records still in the ring stay
 * there to be taken. */
void fa_collector_stop(fa_collector *c);
/* Stops the thread if it runs, fills *st and frees c. */
void fa_collector_free(fa_collector *c, fa_collector_stats *st);

#endif
