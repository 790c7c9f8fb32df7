/* ws_internal.h - state shared by ws_detect.c (tracking, classification)
 * and ws_report.c (report, timeout estimate). Not part of the public API. */
#ifndef FLOWAUDIT_WS_INTERNAL_H
#define FLOWAUDIT_WS_INTERNAL_H


#include "http_upgrade.h"
#include "tls_hello.h"
#include "ws_detect.h"
#include "ws_frame.h"

#define FA_WS_SESSIONS_KEPT 1024  /* sessions listed in the text report */
#define FA_WS_KILLS_KEPT 4096     /* idle times kept for the estimate */
#define FA_WS_GROUPS_MAX 64       /* middleboxes told apart for the estimate */

/* Per direction: where the byte stream is, and how its data was answered.
 * The first 64 bytes are what every packet reads or writes (fa_ws_prefetch
 * fetches them); the rest only a RST, a FIN, a handshake or payload. */
typedef struct app_dir {
    uint8_t phase;           /* dir_phase in ws_detect.c */
    bool seq_known;
    bool ack_known;          /* max_ack holds an ACK this side sent */
    uint8_t fin_ttl;
    uint32_t next_seq;       /* next in-order stream byte */
    uint32_t max_ack;        /* highest ACK this side sent */
    uint32_t unacked_rxmt;   /* retransmissions since the peer last acknowledged */
    uint16_t window;         /* last window this side advertised, unscaled */
    uint16_t last_ip_id;
    uint16_t ip_id_steps, ip_id_jumps;
    uint64_t unanswered_us;  /* first send the peer has not acknowledged */
    uint64_t idle_before_us; /* idle time that preceded that send */
    uint64_t last_data_us;
    uint64_t fin_us;
    uint16_t head;           /* handshake buffer index + 1, 0 = none */
    uint16_t head_len;
    uint64_t fin_idle_us;    /* idle time that preceded this side's FIN */
    uint64_t fin_longest_us; /* longest silence of the session before that one */
    fa_ws_rsts rst;
    uint64_t rst_idle_us;    /* the silence this side's first RST ended */
    uint64_t rst_longest_us; /* longest silence of the session before that one */
    fa_ws_reader rd;
} app_dir;

/* Kills that one middlebox plausibly made: the same path (client and
 * server networks), the same side, the killer at the same TTL, the same
 * kind of ending. The timeout is estimated per group. */
typedef struct ws_group {
    fa_addr client_net, server_net;  /* /24 (IPv4) or /64 (IPv6) */
    int8_t side;                     /* 0 client, 1 server */
    uint8_t ending;                  /* fa_ws_ending, a kill */
    uint8_t killer_ttl;              /* 0: the kill left no packet (black hole) */
} ws_group;

typedef struct app_state {
    uint32_t next_free;
    uint8_t kind;            /* fa_app_kind */
    bool request_seen, response_seen, upgraded;
    int status;
    uint64_t upgraded_us, last_payload_us;
    uint64_t longest_gap_us; /* longest silence between payloads so far */
    /* What every packet reads comes first (fa_ws_prefetch fetches it),
     * what only the first bytes of a session fill comes last. */
    app_dir dir[2];
    char host[FA_HTTP_FIELD_MAX];
    char path[FA_HTTP_FIELD_MAX];
    fa_tls_hello tls;
} app_state;

struct fa_ws {
    fa_ws_config cfg;
    app_state *pool;
    uint32_t free_head, used;
    uint8_t (*heads)[FA_HTTP_HEAD_MAX];
    uint16_t free_heads[FA_HEAD_BUFFERS];
    uint16_t nfree_heads;
    uint64_t states_dropped, heads_dropped;
    uint64_t endings[FA_WS_ENDING_COUNT];
    uint64_t sessions;
    fa_ws_session *kept;
    uint32_t nkept;
    double kill_idle[FA_WS_KILLS_KEPT];
    uint8_t kill_group[FA_WS_KILLS_KEPT];
    uint32_t nkills, kills_not_grouped;
    ws_group groups[FA_WS_GROUPS_MAX];
    uint32_t ngroups;
};

#endif
