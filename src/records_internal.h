/* records_internal.h - hand-offs between the flow-record driver
 * (records.c) and the readers of each record format (records_zeek.c).
 * Not part of the public API. */
#ifndef FLOWAUDIT_RECORDS_INTERNAL_H
#define FLOWAUDIT_RECORDS_INTERNAL_H

#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>

#include "flow.h"

/* Longest record line read; a longer one is skipped as malformed. */
#define FA_RECORD_LINE_MAX 65536

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
 * names, epoch times). Returns false for a line that is not one. */
bool fa_zeek_json_line(const char *line, size_t len, fa_flow *f);

/* A record's flow, handed to the driver (records.c). */
typedef void (*fa_record_emit)(void *arg, fa_flow *f);

typedef struct fa_ipfix_stats {
    uint64_t records, malformed;   /* data records made into flows; records and messages refused */
    uint64_t uniflows, joined, alone; /* uniflow records; joined in pairs; judged alone */
    uint64_t denied;               /* flows a firewall says it denied */
} fa_ipfix_stats;

typedef struct fa_ipfix fa_ipfix;

/* An IPFIX reader (records_ipfix.c) handing its flows to fn. NULL when
 * out of memory. */
fa_ipfix *fa_ipfix_new(fa_record_emit fn, void *arg);
/* Reads one IPFIX file (RFC 5655) to its end or *stop; uniflows wait for
 * their other direction across files. Returns 0, or -1 with err set when
 * the input is not IPFIX. in stays the caller's. */
int fa_ipfix_read(fa_ipfix *x, FILE *in, const volatile atomic_int *stop, char *err, size_t errlen);
/* Judges the uniflows still waiting, fills *st, frees the reader. */
void fa_ipfix_finish(fa_ipfix *x, fa_ipfix_stats *st);

#endif
