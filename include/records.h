/* records.h - flow records as input. -r recognises them by content, as
 * libpcap recognises pcap and pcapng: Zeek's conn.log, TSV with its
 * '#fields' header or JSON lines, and IPFIX files. A record is a connection already ended:
 * it becomes an fa_flow marked FA_FLOW_RECORD and goes to the run core's
 * flow end, where the same audit judges it with the same rules and site.
 * See docs/detection.md, "Flow records". */
#ifndef FLOWAUDIT_RECORDS_H
#define FLOWAUDIT_RECORDS_H

#include <stddef.h>

#include "options.h"
#include "run.h"
#include "signals.h"

typedef enum fa_record_format {
    FA_REC_NONE,       /* not flow records: a packet capture, or unknown */
    FA_REC_ZEEK_TSV,   /* conn.log, Zeek's tab-separated form */
    FA_REC_ZEEK_JSON,  /* conn.log, one JSON object per line */
    FA_REC_IPFIX,      /* IPFIX file (RFC 5655), read with libfixbuf */
    FA_REC_NETFLOW9,   /* NetFlow v9 export packets, translated by libfixbuf */
    FA_REC_KAFKA,      /* sensors' flow records from a Kafka topic (kafka.h); never sniffed */
    FA_REC_FORMATS
} fa_record_format;

/* What a file holds, told by its first byte (EOF allowed): '#' starts a
 * Zeek TSV header, '{' a JSON log, 0 an IPFIX message (version 10 in two
 * bytes); no pcap or pcapng magic starts with any of them. */
fa_record_format fa_record_sniff(int first_byte);
/* "Zeek conn.log (TSV)", ... Static string. */
const char *fa_record_format_name(fa_record_format f);

/* Looks at the first byte of every -r input (standard input is peeked
 * at and given back, not consumed). Returns 1 when they all hold flow
 * records, 0 when none does (packet captures, or unreadable files whose
 * error libpcap will report), -1 with err set when they are mixed. */
int fa_records_inputs(const fa_options *o, char *err, size_t errlen);

/* The driver for flow records: reads every -r input in order, hands each
 * record's flow to the run core, pairs ICMP unreachables with unanswered
 * attempts by host pair and time at the end. Malformed lines are counted
 * and skipped. Returns 0, or -1 with err set ("FILE:LINE: why" for a
 * header that is not a conn.log's, "FILE: why" for a file that cannot be
 * read, or an option that needs packets). */
int fa_records_files(fa_run *ctx, fa_signals *sig, char *err, size_t errlen);

/* The driver for --collect: a live collector (IPFIX over UDP or TCP,
 * NetFlow v9 over UDP) feeding the same path as files, with the live
 * mode's periodic work (live.h) until a stop signal. Uniflows are joined
 * when both directions come within a minute; attempts wait as long for an
 * unreachable. Returns 0, or -1 with err set (the port cannot be bound,
 * -Z fails, the collector fails). */
int fa_records_collect(fa_run *ctx, fa_signals *sig, char *err, size_t errlen);

#endif
