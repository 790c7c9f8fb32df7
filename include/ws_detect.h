/* ws_detect.h - long-lived WebSocket (and long-lived TCP) lifecycle
 * tracking and middlebox-kill detection. Pipeline stage 4 (detect).
 *
 * Candidates are TCP flows whose client opens with an HTTP Upgrade request,
 * TLS flows (ClientHello), and flows on ports that a rule marks websocket or
 * long-lived. Their state lives in a fixed pool (FA_APP_DEFAULT_MAX) and
 * handshake bytes in a small fixed set of buffers, so memory is bounded
 * whatever the traffic; what did not fit is counted. How each ending is
 * classified: docs/detection.md. */
#ifndef FLOWAUDIT_WS_DETECT_H
#define FLOWAUDIT_WS_DETECT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "addr.h"
#include "decode.h"
#include "flow.h"
#include "flow_json.h"
#include "http_upgrade.h"
#include "portset.h"
#include "tls_hello.h"
#include "ws_frame.h"

#define FA_APP_DEFAULT_MAX 16384
/* A followed flow keeps its state's index in 16 bits (fa_flow.app). */
#define FA_APP_MAX 65536
#define FA_HEAD_BUFFERS 256

typedef enum fa_ws_ending {
    FA_WS_CLEAN,            /* close handshake (or TLS FIN exchange) */
    FA_WS_KILLED_RST,       /* RST forged by a middlebox */
    FA_WS_KILLED_BLACKHOLE, /* data retransmitted, never acknowledged */
    FA_WS_KILLED_IDLE,      /* FIN/RST without close frame after idling */
    FA_WS_CLOSED_ENDPOINT,  /* RST/FIN from the real endpoint, no close frame */
    FA_WS_STILL_OPEN,       /* open when the capture ended */
    FA_WS_FAILED_UPGRADE,   /* upgrade requested, not granted */
    FA_WS_ENDING_COUNT
} fa_ws_ending;

typedef enum fa_ws_confidence {
    FA_WS_CONF_HIGH,    /* 101 Switching Protocols seen */
    FA_WS_CONF_MEDIUM,  /* TLS on a row the matrix marks websocket */
    FA_WS_CONF_LOW,     /* TLS or long-lived row that behaves like one */
} fa_ws_confidence;

/* What a followed flow turned out to carry. */
typedef enum fa_app_kind {
    FA_APP_UNKNOWN,
    FA_APP_WEBSOCKET,  /* HTTP Upgrade request seen */
    FA_APP_TLS,        /* TLS ClientHello seen */
    FA_APP_LONGLIVED,  /* TCP on a long-lived rule's port, neither of the above */
} fa_app_kind;

/* One RST as it arrived: what tells a forger from the endpoint it names. */
typedef struct fa_ws_rst {
    uint64_t ts_us;
    int32_t seq_off;      /* its sequence number minus the receiver's last ACK */
    uint16_t ip_id;       /* 0 for IPv6 */
    uint16_t ip_id_prev;  /* the sender's IP id on its packet before */
    uint16_t rcv_window;  /* the receiver's last advertised window, unscaled */
    uint8_t ttl;
    bool seq_known;       /* the receiver had sent an ACK to compare with */
} fa_ws_rst;

/* The RSTs one side sent: the first, which is judged (an injector fires
 * before the endpoint can), and the last. */
typedef struct fa_ws_rsts {
    uint32_t count;
    fa_ws_rst first, last;
} fa_ws_rsts;

/* One finished session, as the detector judged it: the facts the report
 * and the NDJSON writer (fa_ws_session_json) turn into text. */
typedef struct fa_ws_session {
    char uid[20];
    fa_addr client, server;
    uint16_t client_port, server_port;
    uint8_t kind;            /* fa_app_kind */
    uint8_t ending;          /* fa_ws_ending */
    uint8_t confidence;      /* fa_ws_confidence */
    int8_t side;             /* side facing the killer: 0 client, 1 server, -1 none */
    int status;              /* HTTP status of the upgrade answer, -1 when none was seen */
    uint64_t start_us, end_us;
    double idle_s;           /* idle time before the ending */
    uint8_t killer_ttl;      /* TTL of the FIN or first RST that ended it, 0 when none */
    char host[FA_HTTP_FIELD_MAX], path[FA_HTTP_FIELD_MAX];  /* websocket only */
    char sni[FA_TLS_NAME_MAX], alpn[FA_TLS_ALPN_MAX];       /* tls only */
    fa_ws_dir_stats dir[2];  /* frames read per direction, 0 client */
    bool frames_unparsed[2]; /* a gap lost the frame boundaries */
    fa_ws_rsts rst[2];       /* RSTs sent by each side, 0 client */
    char evidence[192];      /* why the ending was judged so, for people */
} fa_ws_session;

typedef struct fa_ws_config {
    uint32_t max_flows;       /* detector states, at most (up to FA_APP_MAX) */
    double min_idle_s;        /* noise floor: a FIN or RST after less idle is never an idle kill */
    double min_duration_s;    /* long-lived: TLS flows shorter than this are not reported */
    uint8_t longlived_ports[65536 / 8]; /* bitmap: responder ports of websocket/long-lived rules */
} fa_ws_config;

void fa_ws_config_default(fa_ws_config *cfg);
/* Marks the responder ports of TCP rules flagged websocket or long-lived. */
void fa_ws_config_add_ports(fa_ws_config *cfg, const fa_portset *ports);

typedef struct fa_ws fa_ws;

/* Returns a new detector (free with fa_ws_free), NULL when out of memory. */
fa_ws *fa_ws_new(const fa_ws_config *cfg);
void fa_ws_free(fa_ws *w);
/* Forgets every followed flow, session, kill and counter: the detector is
 * then what fa_ws_new made with the same configuration, and keeps its
 * buffers (no allocation). Flows of a table that still point at its states
 * must not be given to it again: reset the table too. */
void fa_ws_reset(fa_ws *w);

/* Starts fetching the state fa_ws_packet will read for f, a few packets
 * before f's turn: with tens of thousands of flows it is not in cache. */
void fa_ws_prefetch(const fa_ws *w, const fa_flow *f);

/* Follows one packet of flow f sent by direction d (after the flow table
 * accounted it). */
void fa_ws_packet(fa_ws *w, fa_flow *f, int d, const fa_packet *p);

/* The flow is ending: if it was a candidate, classify how it ended and
 * keep the session for the report. rule_websocket / rule_longlived: the
 * audit matched it to such a rule. Returns true and fills *out when the
 * flow was a reportable session, false otherwise. */
bool fa_ws_flow_end(fa_ws *w, fa_flow *f, bool rule_websocket, bool rule_longlived, fa_ws_session *out);
/* fa_ws_flow_end in two halves, for --workers, where each capture thread
 * follows its own flows and one detector keeps the sessions for the
 * report: fa_ws_judge_end classifies and forgets the flow without keeping
 * the session; fa_ws_note_session keeps a judged session in w. */
bool fa_ws_judge_end(fa_ws *w, fa_flow *f, bool rule_websocket, bool rule_longlived, fa_ws_session *out);
void fa_ws_note_session(fa_ws *w, const fa_ws_session *s);
/* Sets into's counts of flows not followed and handshakes not read to the
 * sum of those of the n detectors that followed the flows. */
void fa_ws_sum_drops(fa_ws *into, fa_ws *const *parts, int n);

/* True for the endings a middlebox caused. */
bool fa_ws_ending_is_kill(fa_ws_ending e);

/* The session's "websocket" NDJSON record (ws_report.c); the caller owns
 * it. NULL when out of memory. */
json_t *fa_ws_session_json(const fa_ws_session *s);

/* Number of sessions reported, and of those killed (--fail-on ws-killed). */
uint64_t fa_ws_sessions(const fa_ws *w);
uint64_t fa_ws_killed(const fa_ws *w);
/* Sessions reported with ending e. */
uint64_t fa_ws_ending_count(const fa_ws *w, fa_ws_ending e);
/* The sessions kept for the report, in the order they ended (the first
 * 1024); *n is set. Owned by the detector, unchanged until a flow ends. */
const fa_ws_session *fa_ws_kept(const fa_ws *w, uint32_t *n);

/* Report section, and the closing "ws_summary" NDJSON record with counts
 * per ending and the timeout estimate. Return 0 or -1 on write error. */
int fa_ws_print_text(const fa_ws *w, FILE *out, bool color);
int fa_ws_write_json(const fa_ws *w, FILE *out);
/* The same record, handed to a sink. */
int fa_ws_json_records(const fa_ws *w, const fa_json_sink *sink);

const char *fa_ws_ending_name(fa_ws_ending e);

#endif
