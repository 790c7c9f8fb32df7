/* flow.h - one bidirectional conversation and the facts kept about it.
 *
 * Index 0 of the per-direction arrays is the originator (Zeek's "orig"),
 * index 1 the responder. The originator is the SYN sender for TCP; for
 * mid-stream TCP, UDP and other protocols it is the first sender unless its
 * port looks like a server port and the peer's does not (Zeek's heuristic),
 * in which case the roles are flipped and the history starts with '^'. */
#ifndef FLOWAUDIT_FLOW_H
#define FLOWAUDIT_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

/* Canonical bidirectional key: the lower (address, port) endpoint first.
 * Zeroed before filling so padding hashes the same. */
typedef struct fa_flow_key {
    fa_addr lo_addr, hi_addr;
    uint16_t lo_port, hi_port;
    uint8_t proto;
    uint8_t pad[3];
} fa_flow_key;

/* Zeek's TCP endpoint states (analyzer/protocol/tcp/TCP_Endpoint.h), in
 * Zeek's order; UDP and other protocols use INACTIVE/ACTIVE only. */
typedef enum fa_ep_state {
    FA_EP_INACTIVE,
    FA_EP_SYN_SENT,
    FA_EP_SYN_ACK_SENT,
    FA_EP_PARTIAL,
    FA_EP_ESTABLISHED,
    FA_EP_CLOSED,
    FA_EP_RESET,
    FA_EP_ACTIVE, /* UDP/ICMP/other: has sent at least one packet */
} fa_ep_state;

typedef enum fa_end_reason {
    FA_END_NONE,      /* still active */
    FA_END_FIN,       /* FIN exchange (or one side's FIN, then idle) */
    FA_END_RST_ORIG,  /* originator sent RST */
    FA_END_RST_RESP,  /* responder sent RST */
    FA_END_IDLE,      /* idle timeout */
    FA_END_EVICTED,   /* pushed out by --max-flows */
    FA_END_EOF,       /* end of input */
    FA_END_REUSED,    /* a new connection reused the 5-tuple */
} fa_end_reason;

typedef struct fa_flow_dir {
    uint64_t ip_bytes;     /* IP datagram bytes as claimed by the IP header */
    union {
        struct {               /* TCP */
            uint32_t start_seq;  /* ISN (or first seq - 1 mid-stream) */
            uint32_t last_seq;   /* one past the highest sequence sent */
            uint32_t ack_seq;    /* highest sequence the peer acknowledged */
            uint32_t hist_seq;   /* relative seq of the last FIN (high 16 bits) and
                                  * RST (low 16 bits), for Zeek's repeat letters */
        };
        uint64_t payload;      /* other protocols: transport payload bytes */
    };
    uint32_t pkts;
    uint32_t retrans;      /* payload segments sent again (not keep-alives) */
    /* Rare events saturate at 65535 rather than widen every flow. */
    uint16_t keepalives;   /* TCP keep-alive probes */
    uint16_t dups;         /* exact duplicate frames (span artefacts) */
    uint16_t zero_windows;
    uint16_t rxmt_hist;    /* Zeek's retransmission count, for 'T' scaling */
    uint16_t last_hash;    /* hash of the previous datagram this way */
    uint8_t ttl_min, ttl_max; /* of non-RST packets; both 0 when none */
    uint8_t ttl_rst;       /* TTL of the first RST sent this way */
    uint8_t flags;         /* OR of TCP flags sent this way */
    uint8_t state, prev_state; /* fa_ep_state */
} fa_flow_dir;

/* Zeek's history is unbounded; 12 letters hold every sequence of the
 * once-per-direction letters plus a few scaled repeats, and keep a flow
 * within 176 bytes. Longer histories are cut. */
#define FA_HISTORY_MAX 12

enum fa_flow_bits {
    FA_FLOW_ORIG_IS_LO = 1u << 0,  /* originator is key.lo_addr/lo_port */
    FA_FLOW_HAS_APP = 1u << 1,     /* a detector keeps state for this flow */
    FA_FLOW_ICMP_FROM_RESP = 1u << 2, /* last ICMP error came from the responder side */
    FA_FLOW_CONTINUED = 1u << 3,   /* resumes a connection whose flow timed out or was evicted */
    FA_FLOW_APP_DONE = 1u << 4,    /* detectors looked and need no state */
    FA_FLOW_RECORD = 1u << 5,      /* made from a flow record (records.h), not from packets:
                                    * byte counts instead of sequence numbers, no TTLs */
    FA_FLOW_ICMP_PAIRED = 1u << 6, /* its ICMP error was paired by host pair and time,
                                    * a record quoting no connection */
    FA_FLOW_DENIED = 1u << 7,      /* a firewall's record says it denied the flow */
};

typedef struct fa_flow {
    fa_flow_key key;
    uint64_t first_us, last_us;
    fa_flow_dir dir[2];
    uint16_t hist_seen;            /* Zeek's once-per-direction history bits */
    char history[FA_HISTORY_MAX + 1];
    uint8_t end_reason : 4;        /* fa_end_reason */
    uint8_t lru_class : 3;         /* fa_timeout_class: which expiry list */
    uint8_t joined : 1;            /* a record flow joined from two uniflow records:
                                    * beside bits, which are all taken */
    uint8_t bits;                  /* fa_flow_bits */
    uint8_t icmp_type, icmp_code;  /* last ICMP error that quoted this flow */
    uint8_t icmp_errors;           /* ICMP errors that quoted this flow (saturates) */
    uint16_t lru_stamp;            /* second (mod 2^16) it was last queued */
    uint16_t app;                  /* the detector's state for it, when FA_FLOW_HAS_APP */
} fa_flow;

/* Originator / responder endpoint of a flow. */
const fa_addr *fa_flow_addr(const fa_flow *f, int d);
uint16_t fa_flow_port(const fa_flow *f, int d);
/* Zeek's conn_state values, in the order the summary prints them. */
typedef enum fa_conn_state {
    FA_CS_S0, FA_CS_S1, FA_CS_SF, FA_CS_REJ, FA_CS_S2, FA_CS_S3, FA_CS_RSTO, FA_CS_RSTR,
    FA_CS_RSTOS0, FA_CS_RSTRH, FA_CS_SH, FA_CS_SHR, FA_CS_OTH,
    FA_CONN_STATES
} fa_conn_state;

/* Zeek conn_state of a flow (tcp_state.c). */
fa_conn_state fa_flow_conn_state(const fa_flow *f);
/* Zeek's name for a conn_state ("S0", "SF", ...). Static string. */
const char *fa_conn_state_name(fa_conn_state s);
const char *fa_end_reason_name(fa_end_reason r);
/* Zeek's proto field: "tcp", "udp", "icmp" or "unknown_transport". */
const char *fa_proto_name(uint8_t proto);
/* Zeek-style uid ("C" + 17 base62 characters), a hash of the key and the
 * start time, so the same capture always gives the same uids. */
void fa_flow_uid(const fa_flow *f, char out[20]);
typedef enum fa_rst_origin {
    FA_RST_NONE,       /* this side sent no RST */
    FA_RST_ENDPOINT,   /* the RST's TTL fits the side's other packets */
    FA_RST_MIDDLEBOX,  /* it does not: something on the path forged it */
    FA_RST_UNKNOWN,    /* nothing else from this side to compare with */
} fa_rst_origin;

/* Who sent direction d's RST, judged by its IP TTL / hop limit. */
fa_rst_origin fa_flow_rst_origin(const fa_flow *f, int d);
const char *fa_rst_origin_name(fa_rst_origin o);

/* Bytes of payload in sequence space, as Zeek's orig_bytes/resp_bytes. */
uint64_t fa_flow_seq_bytes(const fa_flow *f, int d);

#endif
