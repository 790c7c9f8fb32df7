/* summary.h - counters for the end-of-run text summary: input, decode
 * results by reason, flows by protocol and conn_state, evictions and
 * capture drops. Pipeline stage 5 (report). */
#ifndef FLOWAUDIT_SUMMARY_H
#define FLOWAUDIT_SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "capture.h"
#include "clock.h"
#include "decode.h"
#include "flow.h"
#include "flow_table.h"

typedef struct fa_summary {
    uint64_t files, packets, bytes;
    uint64_t decode[FA_DEC_COUNT];
    uint64_t ts[FA_TS_KINDS];              /* packet times by how the clock took them */
    uint64_t payload_cut;                  /* headers whole, payload cut by the snaplen */
    uint64_t encapsulated;                 /* packets decoded through any encapsulation */
    uint64_t encap[FA_ENCAP_KINDS];        /* ... through each kind (a packet may count in several) */
    uint64_t flows_by_proto[4];            /* tcp, udp, icmp, other */
    uint64_t tcp_states[FA_CONN_STATES];   /* indexed by fa_conn_state */
    uint64_t udp_states[FA_CONN_STATES];
    /* flow records (records.h) */
    unsigned record_formats;               /* a bit per fa_record_format read */
    uint64_t records, records_malformed;   /* made into flows; lines skipped */
    uint64_t icmp_paired;                  /* attempts paired with an ICMP unreachable */
    uint64_t attempts_unheld, unreach_dropped; /* not paired for want of room */
    uint64_t uniflows, uniflows_joined, uniflows_alone; /* IPFIX: one direction per record */
    uint64_t options_records;              /* IPFIX, NetFlow v9: an exporter's options records */
    uint32_t sampling;                     /* largest sampling interval an exporter announced; 0: none */
    bool collected;                        /* records came to --collect, not from files */
    uint64_t messages;                     /* --collect: messages read */
    uint64_t waiting;                      /* --collect: uniflows and attempts not judged yet */
    uint32_t export_missed;                /* --collect netflow: export packets missed (sequence numbers) */
    uint64_t export_records_missed;        /* --collect IPFIX: data records missed (sequence numbers) */
    uint64_t seq_untracked;                /* --collect IPFIX: messages of exporter streams past the cap */
    uint64_t socket_dropped;               /* --collect UDP: datagrams the kernel dropped, buffer full */
    int socket_rcvbuf;                     /* --collect UDP: the socket's receive buffer, bytes */
    uint64_t fw_denied;                    /* records of flows a firewall denied */
    uint64_t fixbuf_messages;              /* flow records: libfixbuf's log messages */
    char first_malformed[280];             /* flow records: where the first malformed one is (file:line, offset) */
    uint64_t records_untimed;              /* IPFIX records without a usable start time (among malformed) */
    uint64_t sensors, sensor_duplicates;   /* Kafka: sensors announced; records met again */
    uint64_t sensor_missing;               /* Kafka: messages a gap in a sensor's seq says never came */
    uint64_t other_sites;                  /* Kafka: messages of a site key not judged here */
} fa_summary;

/* Counts the encapsulations a decoded packet passed (fa_packet.encap), on
 * any decode result. */
void fa_summary_add_encap(fa_summary *s, uint8_t encap);

/* Counts one finished flow. */
void fa_summary_add_flow(fa_summary *s, const fa_flow *f);

/* Prints the summary. cap may be NULL (no live counters). */
void fa_summary_print(const fa_summary *s, const fa_flow_stats *fs, const fa_capture_stats *cap,
                      FILE *out);

#endif
