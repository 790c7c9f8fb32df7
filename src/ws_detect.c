/* ws_detect.c - follows WebSocket, TLS and long-lived TCP flows through
 * their life and decides, when they end, whether a middlebox killed them.
 *
 * Per direction the stream is read in order, without reassembly: the
 * opening handshake is collected in a bounded buffer (it may be split
 * across segments), then only WebSocket frame headers are read. Alongside,
 * the detector notes what a kill leaves behind: when each side last sent
 * data, which of its data the peer never acknowledged and how often it was
 * sent again, when FINs and RSTs came and with which TTL and IP id. */
#include "ws_detect.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ws_internal.h"

#define NIL UINT32_MAX
#define BOTH_RST_WINDOW_US 1000  /* RSTs to both ends this close: one injector */

enum dir_phase { PH_NONE, PH_HEAD, PH_FRAMES, PH_OPAQUE };

void fa_ws_config_default(fa_ws_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_flows = FA_APP_DEFAULT_MAX;
    cfg->min_idle_s = 1;
    cfg->min_duration_s = 60;
}

/* Range by range: asking the set about each of the 65,535 ports was
 * most of the start-up's cost with a few hundred rules. */
void fa_ws_config_add_ports(fa_ws_config *cfg, const fa_portset *ports)
{
    fa_port_range all = {1, 65535};
    const fa_port_range *r = ports->any ? &all : ports->ranges;
    unsigned n = ports->any ? 1 : ports->count;
    for (unsigned i = 0; i < n; i++)
        for (uint32_t port = r[i].lo ? r[i].lo : 1; port <= r[i].hi; port++)
            cfg->longlived_ports[port / 8] |= (uint8_t)(1u << (port % 8));
}

static bool longlived_port(const fa_ws *w, uint16_t port)
{
    return w->cfg.longlived_ports[port / 8] & (1u << (port % 8));
}

fa_ws *fa_ws_new(const fa_ws_config *cfg)
{
    fa_ws *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->cfg = *cfg;
    if (w->cfg.max_flows == 0)
        w->cfg.max_flows = 1;
    if (w->cfg.max_flows > FA_APP_MAX)
        w->cfg.max_flows = FA_APP_MAX;
    w->pool = calloc(w->cfg.max_flows, sizeof *w->pool);
    w->heads = calloc(FA_HEAD_BUFFERS, sizeof *w->heads);
    w->kept = calloc(FA_WS_SESSIONS_KEPT, sizeof *w->kept);
    if (!w->pool || !w->heads || !w->kept) {
        fa_ws_free(w);
        return NULL;
    }
    fa_ws_reset(w);
    return w;
}

/* Everything but the configuration and the buffers is zeroed, as calloc
 * left it in fa_ws_new; what the buffers hold is read only up to the
 * counts, which start again from 0. */
void fa_ws_reset(fa_ws *w)
{
    fa_ws keep = {.cfg = w->cfg, .pool = w->pool, .heads = w->heads, .kept = w->kept};
    *w = keep;
    w->free_head = NIL;
    for (uint16_t i = 0; i < FA_HEAD_BUFFERS; i++)
        w->free_heads[i] = (uint16_t)(FA_HEAD_BUFFERS - i);
    w->nfree_heads = FA_HEAD_BUFFERS;
}

void fa_ws_free(fa_ws *w)
{
    if (!w)
        return;
    free(w->pool);
    free(w->heads);
    free(w->kept);
    free(w);
}

uint64_t fa_ws_sessions(const fa_ws *w)
{
    return w->sessions;
}

uint64_t fa_ws_killed(const fa_ws *w)
{
    return w->endings[FA_WS_KILLED_RST] + w->endings[FA_WS_KILLED_BLACKHOLE] +
           w->endings[FA_WS_KILLED_IDLE];
}

uint64_t fa_ws_ending_count(const fa_ws *w, fa_ws_ending e)
{
    return w->endings[e];
}

const fa_ws_session *fa_ws_kept(const fa_ws *w, uint32_t *n)
{
    *n = w->nkept;
    return w->kept;
}

static app_state *state_new(fa_ws *w, fa_flow *f, fa_app_kind kind)
{
    app_state *st;
    if (w->free_head != NIL) {
        st = &w->pool[w->free_head];
        w->free_head = st->next_free;
    } else if (w->used < w->cfg.max_flows) {
        st = &w->pool[w->used++];
    } else {
        w->states_dropped++;
        f->bits |= FA_FLOW_APP_DONE;
        return NULL;
    }
    memset(st, 0, sizeof *st);
    st->kind = (uint8_t)kind;
    fa_ws_reader_init(&st->dir[0].rd);
    fa_ws_reader_init(&st->dir[1].rd);
    f->app = (uint16_t)(st - w->pool);
    f->bits |= FA_FLOW_HAS_APP;
    return st;
}

static void head_release(fa_ws *w, app_dir *ad)
{
    if (ad->head) {
        w->free_heads[w->nfree_heads++] = ad->head;
        ad->head = 0;
    }
    ad->head_len = 0;
}

static void state_free(fa_ws *w, app_state *st)
{
    head_release(w, &st->dir[0]);
    head_release(w, &st->dir[1]);
    st->next_free = w->free_head;
    w->free_head = (uint32_t)(st - w->pool);
}

/* A flow the detector follows (FA_FLOW_HAS_APP) keeps its state's index:
 * no lookup for every packet of a followed flow. */
static app_state *state_find(fa_ws *w, const fa_flow *f)
{
    return &w->pool[f->app];
}

/* Starts collecting a handshake (or ClientHello) in a shared buffer. */
static void head_begin(fa_ws *w, app_dir *ad)
{
    if (w->nfree_heads == 0) {
        w->heads_dropped++;
        ad->phase = PH_OPAQUE;
        return;
    }
    ad->head = w->free_heads[--w->nfree_heads];
    ad->head_len = 0;
    ad->phase = PH_HEAD;
}

static void frames_begin(app_dir *ad, const uint8_t *rest, size_t n)
{
    ad->phase = PH_FRAMES;
    if (n)
        fa_ws_reader_feed(&ad->rd, rest, n);
}

/* A complete header block sits in buf[0..hlen); n bytes follow it. */
static void handshake_done(app_state *st, int d, const uint8_t *buf, size_t hlen, size_t n, uint64_t ts)
{
    app_dir *ad = &st->dir[d];
    if (d == 0) {
        fa_http_request req;
        st->request_seen = fa_http_parse_request(buf, hlen, &req) == FA_HTTP_DONE && req.upgrade_websocket;
        memcpy(st->host, req.host, sizeof st->host);
        memcpy(st->path, req.path, sizeof st->path);
        if (st->request_seen)
            frames_begin(ad, buf + hlen, n);
        else
            ad->phase = PH_OPAQUE;
        return;
    }
    fa_http_response resp;
    st->response_seen = fa_http_parse_response(buf, hlen, &resp) == FA_HTTP_DONE;
    st->status = resp.status;
    st->upgraded = st->response_seen && resp.status == 101 && resp.upgrade_websocket;
    if (st->upgraded) {
        st->upgraded_us = ts;
        frames_begin(ad, buf + hlen, n);
    } else {
        ad->phase = PH_OPAQUE;
        st->dir[0].phase = PH_OPAQUE;
    }
}

static void head_feed(fa_ws *w, app_state *st, int d, const uint8_t *data, size_t len, uint64_t ts)
{
    app_dir *ad = &st->dir[d];
    uint8_t *buf = w->heads[ad->head - 1];
    size_t room = FA_HTTP_HEAD_MAX - ad->head_len;
    size_t take = len < room ? len : room;
    memcpy(buf + ad->head_len, data, take);
    ad->head_len = (uint16_t)(ad->head_len + take);

    if (st->kind == FA_APP_TLS) {
        fa_tls_result r = fa_tls_parse_hello(buf, ad->head_len, &st->tls);
        if (r != FA_TLS_PARTIAL || ad->head_len == FA_HTTP_HEAD_MAX) {
            ad->phase = PH_OPAQUE;
            head_release(w, ad);
        }
        return;
    }
    bool plausible = d == 0 ? fa_http_could_be_request(buf, ad->head_len)
                            : fa_http_could_be_response(buf, ad->head_len);
    size_t hlen = plausible ? fa_http_head_length(buf, ad->head_len) : 0;
    if (hlen) {
        /* Bytes of this segment past the header block are WebSocket frames
         * (a server may send its first frame with the 101). */
        size_t before = ad->head_len - take;
        size_t rest = hlen > before ? take - (hlen - before) : take;
        handshake_done(st, d, buf, hlen, 0, ts);
        if (ad->phase == PH_FRAMES && rest)
            fa_ws_reader_feed(&ad->rd, data + (take - rest), rest);
        if (ad->phase == PH_FRAMES && len > take)
            fa_ws_reader_feed(&ad->rd, data + take, len - take);
        head_release(w, ad);
    } else if (!plausible || ad->head_len == FA_HTTP_HEAD_MAX) {
        ad->phase = PH_OPAQUE;
        head_release(w, ad);
    }
}

static void stream_bytes(fa_ws *w, app_state *st, int d, const uint8_t *data, size_t len, uint64_t ts)
{
    app_dir *ad = &st->dir[d];
    if (ad->phase == PH_NONE && (st->kind == FA_APP_WEBSOCKET || (st->kind == FA_APP_TLS && d == 0)))
        head_begin(w, ad);
    if (ad->phase == PH_HEAD)
        head_feed(w, st, d, data, len, ts);
    else if (ad->phase == PH_FRAMES)
        fa_ws_reader_feed(&ad->rd, data, len);
}

/* Bytes of the stream went missing: a handshake cannot be finished and
 * frame boundaries are lost. */
static void stream_gap(fa_ws *w, app_dir *ad)
{
    if (ad->phase == PH_HEAD) {
        head_release(w, ad);
        ad->phase = PH_OPAQUE;
    } else if (ad->phase == PH_FRAMES) {
        fa_ws_reader_gap(&ad->rd);
    }
}

static int32_t seq_diff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

static void note_ip_id(app_dir *ad, const fa_packet *p, bool first)
{
    if (p->ipver != 4 || (p->tcp_flags & FA_TH_RST))
        return;
    uint16_t step = (uint16_t)(p->ip_id - ad->last_ip_id);
    if (!first) {
        if (step > 0 && step <= 64)
            ad->ip_id_steps++;
        else
            ad->ip_id_jumps++;
    }
    ad->last_ip_id = p->ip_id;
}

/* The peer's ACK covering everything this side sent answers it: its
 * retransmissions and its unanswered send are forgiven. */
static void note_ack(app_state *st, int d, const fa_packet *p)
{
    app_dir *ad = &st->dir[d], *peer = &st->dir[1 - d];
    if (!(p->tcp_flags & FA_TH_ACK) || (p->tcp_flags & FA_TH_RST))
        return;
    if (seq_diff(p->ack, ad->max_ack) > 0 || !ad->ack_known)
        ad->max_ack = p->ack;
    ad->ack_known = true;
    ad->window = p->window;
    if (peer->seq_known && seq_diff(p->ack, peer->next_seq) >= 0) {
        peer->unacked_rxmt = 0;
        peer->unanswered_us = 0;
    }
}

static void note_payload(fa_ws *w, app_state *st, int d, const fa_packet *p)
{
    app_dir *ad = &st->dir[d];
    uint32_t len = p->payload_len, cap = p->payload_caplen, skip = 0;
    if (!ad->seq_known) {
        ad->seq_known = true;
        ad->next_seq = p->seq;
    }
    int32_t off = seq_diff(p->seq, ad->next_seq);
    if (off < 0) {
        /* Negated in unsigned arithmetic: -INT32_MIN does not fit. */
        uint32_t back = ad->next_seq - p->seq;
        if (back >= len) {
            ad->unacked_rxmt++;
            return;
        }
        skip = back;
    } else if (off > 0) {
        stream_gap(w, ad);
    }
    uint64_t gap = st->last_payload_us ? fa_time_since(p->ts_us, st->last_payload_us) : 0;
    if (gap > st->longest_gap_us)
        st->longest_gap_us = gap;
    if (ad->unanswered_us == 0) {
        ad->unanswered_us = p->ts_us;
        ad->idle_before_us = gap;
    }
    if (cap > skip)
        stream_bytes(w, st, d, p->payload + skip, cap - skip, p->ts_us);
    if (cap < len)
        stream_gap(w, ad);
    ad->next_seq = p->seq + len;
    ad->last_data_us = st->last_payload_us = p->ts_us;
}

/* The silence a RST ended. One that answers a send (the peer's, which it
 * refused, or else its sender's own, which went unanswered) ended the
 * silence before that send; any other ended the silence up to itself.
 * Taken when the RST arrives: data after it must not shorten it. */
static uint64_t silence_before_rst(const app_state *st, int d, uint64_t ts)
{
    const app_dir *peer = &st->dir[1 - d], *own = &st->dir[d];
    if (peer->unanswered_us)
        return peer->idle_before_us;
    if (own->unanswered_us)
        return own->idle_before_us;
    return st->last_payload_us && ts > st->last_payload_us ? ts - st->last_payload_us : 0;
}

/* Every RST is counted; the first, which is judged, and the last are kept
 * with what could give a forger away: TTL, IP id after the sender's
 * previous one, sequence number against what the receiver acknowledged. */
static void note_rst(app_state *st, int d, const fa_packet *p)
{
    app_dir *ad = &st->dir[d];
    const app_dir *rcv = &st->dir[1 - d];
    fa_ws_rst r = {
        .ts_us = p->ts_us,
        .seq_off = seq_diff(p->seq, rcv->max_ack),
        .ip_id = p->ip_id,
        .ip_id_prev = ad->last_ip_id,
        .rcv_window = rcv->window,
        .ttl = p->ttl,
        .seq_known = rcv->ack_known,
    };
    if (ad->rst.count == 0) {
        ad->rst.first = r;
        ad->rst_idle_us = silence_before_rst(st, d, p->ts_us);
        ad->rst_longest_us = st->longest_gap_us;
    }
    ad->rst.last = r;
    if (ad->rst.count < UINT32_MAX)
        ad->rst.count++;
}

/* Which kind of candidate a flow is, decided by its first client bytes. */
static fa_app_kind first_bytes_kind(const fa_packet *p)
{
    if (fa_http_could_be_request(p->payload, p->payload_caplen))
        return FA_APP_WEBSOCKET;
    if (fa_tls_could_be_hello(p->payload, p->payload_caplen))
        return FA_APP_TLS;
    return FA_APP_UNKNOWN;
}

static app_state *candidate(fa_ws *w, fa_flow *f, int d, const fa_packet *p)
{
    bool longlived = longlived_port(w, fa_flow_port(f, 1));
    bool client_data = d == 0 && p->payload_caplen > 0;
    fa_app_kind kind = client_data ? first_bytes_kind(p) : FA_APP_UNKNOWN;
    if (kind == FA_APP_UNKNOWN && longlived)
        kind = FA_APP_LONGLIVED;
    if (kind != FA_APP_UNKNOWN)
        return state_new(w, f, kind);
    if (client_data || p->payload_len > 0)
        f->bits |= FA_FLOW_APP_DONE;
    return NULL;
}

void fa_ws_prefetch(const fa_ws *w, const fa_flow *f)
{
    if (!(f->bits & FA_FLOW_HAS_APP) || f->app >= w->cfg.max_flows)
        return;
    /* The header with the first direction's hot part after it, and the
     * second direction's hot part: what a packet with no payload reads and
     * writes (ws_internal.h). */
    const char *st = (const char *)&w->pool[f->app];
    const size_t first_end = offsetof(app_state, dir[0]) + offsetof(app_dir, head);
    const char *second = st + offsetof(app_state, dir[1]);
    __builtin_prefetch(st, 1);
    __builtin_prefetch(st + 64, 1);
    __builtin_prefetch(st + first_end - 1, 1);
    __builtin_prefetch(second, 1);
    __builtin_prefetch(second + offsetof(app_dir, head) - 1, 1);
}

void fa_ws_packet(fa_ws *w, fa_flow *f, int d, const fa_packet *p)
{
    if (f->key.proto != FA_PROTO_TCP || (f->bits & FA_FLOW_APP_DONE))
        return;
    app_state *st = (f->bits & FA_FLOW_HAS_APP) ? state_find(w, f) : candidate(w, f, d, p);
    if (!st)
        return;
    app_dir *ad = &st->dir[d];
    /* A long-lived row's first client bytes may still reveal a handshake;
     * its state began at the SYN, so "first" means no payload yet. */
    if (st->kind == FA_APP_LONGLIVED && d == 0 && p->payload_caplen && !ad->last_data_us) {
        fa_app_kind k = first_bytes_kind(p);
        if (k != FA_APP_UNKNOWN)
            st->kind = (uint8_t)k;
    }
    if (p->tcp_flags & FA_TH_RST)
        note_rst(st, d, p);
    note_ip_id(ad, p, ad->last_ip_id == 0 && ad->ip_id_steps == 0 && ad->ip_id_jumps == 0);
    /* A FIN that carries data ends no silence. */
    if ((p->tcp_flags & FA_TH_FIN) && !ad->fin_us) {
        ad->fin_us = p->ts_us;
        ad->fin_ttl = p->ttl;
        ad->fin_idle_us = st->last_payload_us && !p->payload_len ? fa_time_since(p->ts_us, st->last_payload_us) : 0;
        ad->fin_longest_us = st->longest_gap_us;
    }
    if ((p->tcp_flags & FA_TH_SYN) && !ad->seq_known) {
        ad->seq_known = true;
        ad->next_seq = p->seq + 1;
    }
    note_ack(st, d, p);
    if (p->payload_len && !(p->tcp_flags & FA_TH_RST))
        note_payload(w, st, d, p);
    /* Plain HTTP on an ordinary port: nothing more to learn here. */
    if (st->kind == FA_APP_WEBSOCKET && st->dir[0].phase == PH_OPAQUE && !st->request_seen &&
        !longlived_port(w, fa_flow_port(f, 1))) {
        state_free(w, st);
        f->bits = (uint8_t)((f->bits & ~FA_FLOW_HAS_APP) | FA_FLOW_APP_DONE);
    }
}

/* ---- How a session ended -------------------------------------------- */

typedef struct verdict {
    fa_ws_ending ending;
    int side;            /* 0 client side, 1 server side, -1 none */
    uint64_t idle_us;
    uint8_t killer_ttl;  /* of the FIN or first RST that ended it, 0 none */
    bool text;           /* write the evidence: only a reported session has any */
    char evidence[192];
} verdict;

static void add_evidence(verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_evidence(verdict *v, const char *fmt, ...)
{
    size_t n = strlen(v->evidence);
    if (!v->text || n + 3 >= sizeof v->evidence)
        return;
    if (n)
        n += (size_t)snprintf(v->evidence + n, sizeof v->evidence - n, "; ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->evidence + n, sizeof v->evidence - n, fmt, ap);
    va_end(ap);
}

/* Data sent again and again without an acknowledgement: the packets are
 * vanishing on the way. Returns the side whose data vanished, or -1. */
static int blackholed_side(const app_state *st)
{
    int side = -1;
    for (int d = 0; d < 2; d++)
        if (st->dir[d].unanswered_us && st->dir[d].unacked_rxmt >= 2 &&
            (side < 0 || st->dir[d].unacked_rxmt > st->dir[side].unacked_rxmt))
            side = d;
    return side;
}

static int first_of(uint64_t a, uint64_t b)
{
    if (!a && !b)
        return -1;
    if (!b || (a && a <= b))
        return 0;
    return 1;
}

/* Where a RST's sequence number lies: an endpoint sends its next byte,
 * which is what the receiver acknowledged; a blind injector guesses
 * across the window. The window is unscaled (the scale is in the SYN
 * options, not read), so "beyond" may still fall inside a scaled one. */
static const char *rst_seq_text(const fa_ws_rst *r, char *buf, size_t len)
{
    if (!r->seq_known)
        snprintf(buf, len, "seq, no ACK to compare");
    else if (r->seq_off == 0)
        snprintf(buf, len, "seq = ACK");
    else if (r->seq_off > 0 && (uint32_t)r->seq_off < r->rcv_window)
        snprintf(buf, len, "seq ACK+%d in window %u", r->seq_off, r->rcv_window);
    else
        snprintf(buf, len, "seq ACK%+d, window %u", r->seq_off, r->rcv_window);
    return buf;
}

/* A TTL outside the range of the sender's other packets: another stack at
 * another distance built it. Unknown (false) when the sender sent nothing
 * else. */
static bool ttl_foreign(const fa_flow *f, int d, uint8_t ttl)
{
    const fa_flow_dir *fd = &f->dir[d];
    return fd->ttl_max != 0 && (ttl < fd->ttl_min || ttl > fd->ttl_max);
}

/* A middlebox's idle timer fires after the longest silence the session
 * has had: had it been silent that long before, it would have been cut
 * then. Silences under the --ws-min-idle floor are an endpoint's pause
 * between its last data and its close, whatever came before. */
static bool idle_timer_silence(const fa_ws *w, uint64_t idle_us, uint64_t longest_before_us)
{
    return idle_us > longest_before_us && (double)idle_us / 1e6 >= w->cfg.min_idle_s;
}

/* Judged on the side's first RST: an injector fires before the endpoint
 * can, and the endpoint's own RST may follow it. A RST that fits its
 * sender, answers no data and ends the longest silence of the session is
 * an idle timer's (Azure Load Balancer resets both ends when its idle
 * timeout fires), judged as a FIN would be. */
static void judge_rst(const fa_ws *w, const app_state *st, const fa_flow *f, int r, verdict *v)
{
    const app_dir *rd = &st->dir[r];
    const fa_ws_rst *first = &rd->rst.first, *last = &rd->rst.last;
    uint64_t t0 = st->dir[0].rst.first.ts_us, t1 = st->dir[1].rst.first.ts_us;
    bool both = t0 && t1 && (t0 > t1 ? t0 - t1 : t1 - t0) <= BOTH_RST_WINDOW_US;
    bool foreign = ttl_foreign(f, r, first->ttl);
    /* A sender whose IP ids count up one by one would have sent its RST
     * with the next few; a forger picks its own. */
    uint16_t id_gap = (uint16_t)(first->ip_id - first->ip_id_prev);
    bool id_jump = fa_addr_is_v4(&f->key.lo_addr) && rd->ip_id_steps >= 3 && rd->ip_id_jumps == 0 &&
                   (id_gap == 0 || id_gap > 64);
    char seq[64];
    v->side = r;
    v->idle_us = rd->rst_idle_us;
    v->killer_ttl = first->ttl;
    /* A RST answering data never qualifies: the data ended the silence. */
    bool timer = !foreign && !both && idle_timer_silence(w, rd->rst_idle_us, rd->rst_longest_us);
    v->ending = foreign || both ? FA_WS_KILLED_RST : timer ? FA_WS_KILLED_IDLE : FA_WS_CLOSED_ENDPOINT;
    if (foreign)
        add_evidence(v, "RST with TTL %u, other packets from that side TTL %u-%u", first->ttl,
                     f->dir[r].ttl_min, f->dir[r].ttl_max);
    else
        add_evidence(v, "RST with TTL %u matches the sender's other packets", first->ttl);
    if (timer)
        add_evidence(v, "no data to answer; after %.1f s idle, the longest silence of the session (before: %.1f s)",
                     (double)rd->rst_idle_us / 1e6, (double)rd->rst_longest_us / 1e6);
    if (both)
        add_evidence(v, "RSTs to both ends within %d us", BOTH_RST_WINDOW_US);
    if (id_jump && v->ending == FA_WS_KILLED_RST)
        add_evidence(v, "RST IP id %u breaks the sender's sequence (last %u)", first->ip_id, first->ip_id_prev);
    add_evidence(v, "%s", rst_seq_text(first, seq, sizeof seq));
    if (rd->rst.count > 1)
        add_evidence(v, "%u RSTs, last TTL %u, %s", rd->rst.count, last->ttl,
                     rst_seq_text(last, seq, sizeof seq));
}

/* An endpoint's FIN without a close frame comes after data (a FIN with
 * data, or within the --ws-min-idle noise floor) or after a silence the
 * session had already survived; a middlebox's ends the longest one. */
static void judge_fin(const fa_ws *w, const app_state *st, int fd, verdict *v)
{
    const app_dir *ad = &st->dir[fd];
    double idle = (double)ad->fin_idle_us / 1e6, longest = (double)ad->fin_longest_us / 1e6;
    v->side = fd;
    v->idle_us = ad->fin_idle_us;
    v->killer_ttl = ad->fin_ttl;
    if (idle_timer_silence(w, ad->fin_idle_us, ad->fin_longest_us)) {
        v->ending = FA_WS_KILLED_IDLE;
        add_evidence(v, "FIN without a close frame after %.1f s idle, the longest silence of the session "
                        "(before: %.1f s)", idle, longest);
        return;
    }
    v->ending = FA_WS_CLOSED_ENDPOINT;
    if (ad->fin_idle_us == 0)
        add_evidence(v, "FIN without a close frame, with data or before any");
    else if (ad->fin_idle_us <= ad->fin_longest_us)
        add_evidence(v, "FIN without a close frame after %.1f s idle; the session had been silent %.1f s before",
                     idle, longest);
    else
        add_evidence(v, "FIN without a close frame %.1f s after data, under the %.1f s floor", idle,
                     w->cfg.min_idle_s);
}

/* "1000", "0" for a close frame without a code, "-" for no close frame. */
static const char *close_code_text(const fa_ws_dir_stats *ds, char *buf, size_t len)
{
    if (!ds->close_seen)
        return "-";
    snprintf(buf, len, "%u", ds->close_code);
    return buf;
}

/* How the session ended; with text, the evidence for it as well (its
 * printf calls were most of judging a session that is not reported). */
static void classify(const fa_ws *w, const app_state *st, const fa_flow *f, bool text, verdict *v)
{
    char codes[2][8];
    memset(v, 0, sizeof *v);
    v->side = -1;
    v->text = text;
    bool closed = st->dir[0].rd.st.close_seen || st->dir[1].rd.st.close_seen;
    int r = first_of(st->dir[0].rst.first.ts_us, st->dir[1].rst.first.ts_us);
    int fd = first_of(st->dir[0].fin_us, st->dir[1].fin_us);
    int bh = blackholed_side(st);
    if (st->kind == FA_APP_WEBSOCKET && !st->upgraded) {
        v->ending = FA_WS_FAILED_UPGRADE;
        if (st->response_seen)
            add_evidence(v, "HTTP status %d", st->status);
        else
            add_evidence(v, "no answer to the upgrade request");
        return;
    }
    if (closed || (st->kind == FA_APP_TLS && st->dir[0].fin_us && st->dir[1].fin_us && r < 0)) {
        v->ending = FA_WS_CLEAN;
        if (closed)
            add_evidence(v, "close codes %s/%s", close_code_text(&st->dir[0].rd.st, codes[0], sizeof codes[0]),
                         close_code_text(&st->dir[1].rd.st, codes[1], sizeof codes[1]));
        return;
    }
    if (r >= 0 && (fd < 0 || st->dir[r].rst.first.ts_us <= st->dir[fd].fin_us)) {
        judge_rst(w, st, f, r, v);
        if (bh >= 0)
            add_evidence(v, "%u unanswered retransmissions first", st->dir[bh].unacked_rxmt);
        return;
    }
    if (bh >= 0) {
        v->ending = FA_WS_KILLED_BLACKHOLE;
        v->side = bh;
        v->idle_us = st->dir[bh].idle_before_us;
        add_evidence(v, "%u retransmissions never acknowledged, after %.1f s idle",
                     st->dir[bh].unacked_rxmt, (double)v->idle_us / 1e6);
        return;
    }
    if (fd >= 0) {
        judge_fin(w, st, fd, v);
        return;
    }
    v->ending = FA_WS_STILL_OPEN;
}

/* ---- Sessions -------------------------------------------------------- */

static const char *const ending_names[FA_WS_ENDING_COUNT] = {
    "clean", "killed_rst_injected", "killed_black_hole", "killed_idle_close",
    "closed_by_endpoint", "still_open", "failed_upgrade",
};

const char *fa_ws_ending_name(fa_ws_ending e)
{
    return (unsigned)e < FA_WS_ENDING_COUNT ? ending_names[e] : "unknown";
}

bool fa_ws_ending_is_kill(fa_ws_ending e)
{
    return e == FA_WS_KILLED_RST || e == FA_WS_KILLED_BLACKHOLE || e == FA_WS_KILLED_IDLE;
}

/* TLS that behaves like a WebSocket: open for long, small messages both
 * ways. */
static bool tls_looks_longlived(const fa_ws *w, const fa_flow *f)
{
    double dur = (double)(f->last_us - f->first_us) / 1e6;
    const fa_flow_dir *o = &f->dir[0], *r = &f->dir[1];
    return dur >= w->cfg.min_duration_s && o->pkts >= 10 && r->pkts >= 10 &&
           fa_flow_seq_bytes(f, 0) / o->pkts < 1024 && fa_flow_seq_bytes(f, 1) / r->pkts < 1024;
}

/* Cleartext WebSockets are always reported; TLS and long-lived TCP only
 * when a rule says so or they lasted, and short ones only when killed. */
static bool reportable(const fa_ws *w, const app_state *st, const fa_flow *f, bool rule_ws, bool rule_ll,
                       fa_ws_ending ending, fa_ws_confidence *conf)
{
    double dur = (double)(f->last_us - f->first_us) / 1e6;
    bool lasted = dur >= w->cfg.min_duration_s || fa_ws_ending_is_kill(ending);
    switch (st->kind) {
    case FA_APP_WEBSOCKET:
        *conf = FA_WS_CONF_HIGH;
        return st->request_seen;
    case FA_APP_TLS:
        *conf = rule_ws ? FA_WS_CONF_MEDIUM : FA_WS_CONF_LOW;
        return ((rule_ws || rule_ll) && lasted) || tls_looks_longlived(w, f);
    case FA_APP_LONGLIVED:
        *conf = FA_WS_CONF_LOW;
        return lasted;
    default:
        return false;
    }
}

static void fill_session(fa_ws_session *s, const app_state *st, const fa_flow *f, const verdict *v,
                         fa_ws_confidence conf)
{
    memset(s, 0, sizeof *s);
    fa_flow_uid(f, s->uid);
    s->client = *fa_flow_addr(f, 0);
    s->server = *fa_flow_addr(f, 1);
    s->client_port = fa_flow_port(f, 0);
    s->server_port = fa_flow_port(f, 1);
    s->kind = st->kind;
    s->ending = (uint8_t)v->ending;
    s->confidence = (uint8_t)conf;
    s->side = (int8_t)v->side;
    s->status = st->response_seen ? st->status : -1;
    s->start_us = f->first_us;
    s->end_us = f->last_us;
    s->idle_s = (double)v->idle_us / 1e6;
    s->killer_ttl = v->killer_ttl;
    if (st->kind == FA_APP_WEBSOCKET) {
        memcpy(s->host, st->host, sizeof s->host);
        memcpy(s->path, st->path, sizeof s->path);
    }
    if (st->kind == FA_APP_TLS) {
        memcpy(s->sni, st->tls.sni, sizeof s->sni);
        memcpy(s->alpn, st->tls.alpn, sizeof s->alpn);
    }
    for (int d = 0; d < 2; d++) {
        s->dir[d] = st->dir[d].rd.st;
        s->frames_unparsed[d] = st->dir[d].rd.lost;
        s->rst[d] = st->dir[d].rst;
    }
    memcpy(s->evidence, v->evidence, sizeof s->evidence);
}

/* The network a path runs to, for grouping: /24 for IPv4 (stored
 * IPv4-mapped), /64 for IPv6. */
static fa_addr path_net(const fa_addr *a)
{
    fa_addr n = *a;
    if (fa_addr_is_v4(a))
        n.b[15] = 0;
    else
        memset(n.b + 8, 0, 8);
    return n;
}

/* A kill's idle time, filed under the group of kills the same middlebox
 * plausibly made (ws_group). */
static void keep_kill(fa_ws *w, const fa_ws_session *s)
{
    if (w->nkills == FA_WS_KILLS_KEPT)
        return;
    ws_group g;
    memset(&g, 0, sizeof g);
    g.client_net = path_net(&s->client);
    g.server_net = path_net(&s->server);
    g.side = s->side;
    g.ending = s->ending;
    g.killer_ttl = s->killer_ttl;
    uint32_t i = 0;
    while (i < w->ngroups && memcmp(&w->groups[i], &g, sizeof g) != 0)
        i++;
    if (i == w->ngroups) {
        if (w->ngroups == FA_WS_GROUPS_MAX) {
            w->kills_not_grouped++;
            return;
        }
        w->groups[w->ngroups++] = g;
    }
    w->kill_idle[w->nkills] = s->idle_s;
    w->kill_group[w->nkills++] = (uint8_t)i;
}

bool fa_ws_judge_end(fa_ws *w, fa_flow *f, bool rule_websocket, bool rule_longlived, fa_ws_session *out)
{
    if (!(f->bits & FA_FLOW_HAS_APP))
        return false;
    app_state *st = state_find(w, f);
    if (!st)
        return false;
    fa_ws_confidence conf;
    verdict v;
    classify(w, st, f, false, &v);
    bool reported = reportable(w, st, f, rule_websocket, rule_longlived, v.ending, &conf);
    if (reported) {
        classify(w, st, f, true, &v);
        fill_session(out, st, f, &v, conf);
    }
    state_free(w, st);
    f->bits = (uint8_t)(f->bits & ~FA_FLOW_HAS_APP);
    return reported;
}

void fa_ws_note_session(fa_ws *w, const fa_ws_session *s)
{
    w->sessions++;
    w->endings[s->ending]++;
    if (fa_ws_ending_is_kill(s->ending))
        keep_kill(w, s);
    if (w->nkept < FA_WS_SESSIONS_KEPT)
        w->kept[w->nkept++] = *s;
}

bool fa_ws_flow_end(fa_ws *w, fa_flow *f, bool rule_websocket, bool rule_longlived, fa_ws_session *out)
{
    bool reported = fa_ws_judge_end(w, f, rule_websocket, rule_longlived, out);
    if (reported)
        fa_ws_note_session(w, out);
    return reported;
}

void fa_ws_sum_drops(fa_ws *into, fa_ws *const *parts, int n)
{
    into->states_dropped = into->heads_dropped = 0;
    for (int i = 0; i < n; i++) {
        into->states_dropped += parts[i]->states_dropped;
        into->heads_dropped += parts[i]->heads_dropped;
    }
}
