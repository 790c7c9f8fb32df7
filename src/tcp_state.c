/* tcp_state.c - TCP endpoint states, history and conn_state, after Zeek's
 * TCPSessionAdapter (UpdateStateMachine, update_history, update_last_seq)
 * and conn_state() in base/protocols/conn/main.zeek.
 *
 * Each endpoint moves INACTIVE -> SYN_SENT / SYN_ACK_SENT / PARTIAL ->
 * ESTABLISHED -> CLOSED (FIN) or RESET (RST). conn_state is a function of
 * the two endpoint states (plus the history for RSTOS0). */
#include "tcp_state.h"

#include <ctype.h>
#include <string.h>

#include "flow.h"

/* Once-per-direction history bits; the responder's are shifted by 8. */
enum { HIST_SYN = 1, HIST_FIN = 2, HIST_RST = 4, HIST_FIN_RST = 8, HIST_DATA = 16,
       HIST_ACK = 32, HIST_MULTI = 64 };

/* Sequence jumps this large on a SYN or RST are not believed (Zeek). */
#define TOO_LARGE_SEQ_DELTA 1048576

static int32_t seq_delta(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

static void set_state(fa_flow_dir *ep, fa_ep_state s)
{
    if (ep->state != s) {
        ep->prev_state = ep->state;
        ep->state = (uint8_t)s;
    }
}

void fa_history_add(fa_flow *f, int d, char code)
{
    /* A few letters: counted here, a call to strlen cost more per packet. */
    size_t n = 0;
    while (n < FA_HISTORY_MAX && f->history[n])
        n++;
    if (n < FA_HISTORY_MAX) {
        f->history[n] = d ? (char)tolower((unsigned char)code) : code;
        f->history[n + 1] = '\0';
    }
}

bool fa_history_check(fa_flow *f, int d, unsigned bit, char code)
{
    unsigned mask = bit << (d ? 8 : 0);
    if (f->hist_seen & mask)
        return true;
    f->hist_seen |= (uint16_t)mask;
    fa_history_add(f, d, code);
    return false;
}

/* Zeek logs repeated events (retransmissions, zero windows) at the 1st,
 * 10th, 100th ... occurrence. */
static void scaled_history(fa_flow *f, int d, uint16_t *counter, char code)
{
    if (*counter < UINT16_MAX)
        (*counter)++;
    for (uint32_t t = 1; t <= *counter; t *= 10)
        if (t == *counter) {
            fa_history_add(f, d, code);
            return;
        }
}

/* Zeek remembers the relative sequence of an endpoint's last FIN and of its
 * last RST separately, to log a repeat only when it moved. hist_seq holds
 * the low 16 bits of each (FIN in the high half, RST in the low half), so
 * two different sequences look alike only when exactly 64 KiB apart.
 * Stores rel and returns true if it differs from the one stored before. */
static bool repeat_moved(uint32_t *marks, unsigned shift, uint32_t rel)
{
    uint32_t mask = 0xffffu << shift, v = (rel & 0xffffu) << shift;
    bool moved = (*marks & mask) != v;
    *marks = (*marks & ~mask) | v;
    return moved;
}

static void update_history(fa_flow *f, int d, const fa_packet *p, uint32_t rel_seq)
{
    uint8_t fl = p->tcp_flags;
    fa_flow_dir *ep = &f->dir[d];
    int bits = !!(fl & FA_TH_SYN) + !!(fl & FA_TH_FIN) + !!(fl & FA_TH_RST);
    if (bits > 1) {
        if ((fl & FA_TH_FIN) && (fl & FA_TH_RST))
            fa_history_check(f, d, HIST_FIN_RST, 'I');
        else
            fa_history_check(f, d, HIST_MULTI, 'Q');
    } else if (fl & FA_TH_SYN) {
        /* Zeek repeats S/H for a SYN at a new relative sequence. Every SYN
         * restarts the numbering (rel_seq 0) except one sent after this
         * side closed, so the last SYN's sequence is taken to be 0. */
        char code = (fl & FA_TH_ACK) ? 'H' : 'S';
        if (fa_history_check(f, d, HIST_SYN, code) && rel_seq != 0)
            fa_history_add(f, d, code);
    } else if (fl & FA_TH_FIN) {
        bool seen = fa_history_check(f, d, HIST_FIN, 'F');
        if (repeat_moved(&ep->hist_seq, 16, rel_seq + p->payload_len) && seen)
            fa_history_add(f, d, 'F');
    } else if (fl & FA_TH_RST) {
        bool seen = fa_history_check(f, d, HIST_RST, 'R');
        if (repeat_moved(&ep->hist_seq, 0, rel_seq) && seen)
            fa_history_add(f, d, 'R');
    } else if (p->payload_len) {
        fa_history_check(f, d, HIST_DATA, 'D');
    } else if (fl & FA_TH_ACK) {
        fa_history_check(f, d, HIST_ACK, 'A');
    }
}

static void init_endpoint(fa_flow_dir *ep, const fa_packet *p, uint32_t end)
{
    bool syn = p->tcp_flags & FA_TH_SYN;
    switch (ep->state) {
    case FA_EP_INACTIVE:
        /* Mid-stream: number as though a SYN came just before. */
        ep->start_seq = ep->ack_seq = syn ? p->seq : p->seq - 1;
        ep->last_seq = syn ? end : p->seq;
        break;
    case FA_EP_SYN_SENT: case FA_EP_SYN_ACK_SENT:
        if (syn && p->seq != ep->start_seq) {
            ep->start_seq = ep->ack_seq = p->seq;
            ep->last_seq = end;
        }
        break;
    case FA_EP_ESTABLISHED: case FA_EP_PARTIAL:
        if (syn) {
            ep->start_seq = ep->ack_seq = p->seq;
            ep->last_seq = end;
        }
        break;
    case FA_EP_RESET:
        /* A SYN after a RST that came first may mean the RST was forged. */
        if (syn && ep->prev_state == FA_EP_INACTIVE) {
            ep->start_seq = ep->ack_seq = p->seq;
            ep->last_seq = end;
        }
        break;
    default:
        break;
    }
}

static void update_acks(fa_flow_dir *peer, const fa_packet *p)
{
    if (!(p->tcp_flags & FA_TH_ACK))
        return;
    if (peer->state == FA_EP_INACTIVE) {
        peer->start_seq = peer->ack_seq = peer->last_seq = p->ack - 1;
    } else if (!(p->tcp_flags & FA_TH_RST)) {
        int32_t delta = seq_delta(p->ack, peer->ack_seq);
        if (delta > 0 && !(p->ack == 0 && delta > TOO_LARGE_SEQ_DELTA))
            peer->ack_seq = p->ack;
    }
}

/* Returns true when the segment re-sends data already sent (Zeek DidRxmit). */
static bool update_last_seq(fa_flow_dir *ep, const fa_packet *p, uint32_t end)
{
    int32_t delta = seq_delta(end, ep->last_seq);
    uint8_t fl = p->tcp_flags;
    if ((fl & (FA_TH_SYN | FA_TH_RST)) && (delta > TOO_LARGE_SEQ_DELTA || delta < -TOO_LARGE_SEQ_DELTA))
        return false;
    if ((fl & FA_TH_FIN) && ep->last_seq == ep->start_seq + 1) {
        ep->last_seq = end;
        return false;
    }
    if (ep->state == FA_EP_RESET)
        return false;
    if (delta > 0) {
        ep->last_seq = end;
        return false;
    }
    return p->payload_len > 0;
}

/* Zeek's Connection::FlipRoles swaps the endpoints but not the
 * connection's once-per-direction bits, so a letter already logged for the
 * old originator is not logged again for the new one. */
static void swap_roles(fa_flow *f)
{
    fa_flow_dir tmp = f->dir[0];
    f->dir[0] = f->dir[1];
    f->dir[1] = tmp;
    f->bits ^= FA_FLOW_ORIG_IS_LO;
    fa_history_add(f, 0, '^');
}

/* Zeek flips a connection that began with a SYN-ACK as soon as an ACK or a
 * data segment follows in either direction (a stealth scan is answered by
 * a RST or by nothing), and rewrites the history as though the SYN-ACK
 * sender had been the responder from the start: '^', then the letters so
 * far with their case swapped. */
static bool flip_late_syn_ack(fa_flow *f, const fa_packet *p)
{
    uint8_t fl = p->tcp_flags;
    if (f->dir[0].state != FA_EP_SYN_ACK_SENT || f->dir[1].state != FA_EP_INACTIVE ||
        (fl & (FA_TH_SYN | FA_TH_FIN | FA_TH_RST)) || !((fl & FA_TH_ACK) || p->payload_len))
        return false;
    char old[FA_HISTORY_MAX + 1];
    memcpy(old, f->history, sizeof old);
    fa_flow_dir tmp = f->dir[0];
    f->dir[0] = f->dir[1];
    f->dir[1] = tmp;
    f->bits ^= FA_FLOW_ORIG_IS_LO;
    f->hist_seen = (uint16_t)((f->hist_seen >> 8) | (f->hist_seen << 8));
    f->history[0] = '\0';
    fa_history_add(f, 0, '^');
    for (const char *c = old; *c; c++)
        fa_history_add(f, 0, islower((unsigned char)*c) ? (char)toupper((unsigned char)*c)
                                                          : (char)tolower((unsigned char)*c));
    return true;
}

/* Zeek UpdateInactiveState. Returns true if the roles were flipped. */
static bool update_inactive(fa_flow *f, int d, const fa_packet *p)
{
    fa_flow_dir *ep = &f->dir[d], *peer = &f->dir[1 - d];
    uint8_t fl = p->tcp_flags;
    bool flipped = false;
    if (fl & FA_TH_SYN) {
        if (d == 0) {
            set_state(ep, (fl & FA_TH_ACK) ? FA_EP_SYN_ACK_SENT : FA_EP_SYN_SENT);
        } else {
            if (!(fl & FA_TH_ACK) && peer->state == FA_EP_SYN_ACK_SENT && p->seq == ep->start_seq) {
                /* We saw the SYN-ACK first: the other side is the client. */
                set_state(peer, FA_EP_ESTABLISHED);
                flipped = true;
            }
            if (peer->state == FA_EP_SYN_SENT)
                set_state(peer, FA_EP_ESTABLISHED);
            set_state(ep, FA_EP_ESTABLISHED);
        }
    }
    if (fl & FA_TH_FIN)
        set_state(ep, FA_EP_CLOSED);
    if (fl & FA_TH_RST)
        set_state(ep, FA_EP_RESET);
    if (ep->state == FA_EP_INACTIVE) {
        if (d == 1 && p->payload_len == 0 && f->dir[0].state == FA_EP_SYN_SENT)
            ; /* some stacks ACK a SYN before answering it */
        else if ((fl & FA_TH_ACK) && peer->state == FA_EP_ESTABLISHED)
            set_state(ep, FA_EP_ESTABLISHED);
        else
            set_state(ep, FA_EP_PARTIAL);
    }
    return flipped;
}

static bool update_state_machine(fa_flow *f, int d, const fa_packet *p)
{
    fa_flow_dir *ep = &f->dir[d], *peer = &f->dir[1 - d];
    uint8_t fl = p->tcp_flags;
    switch (ep->state) {
    case FA_EP_INACTIVE:
        return update_inactive(f, d, p);
    case FA_EP_SYN_SENT: case FA_EP_SYN_ACK_SENT:
        if (fl & FA_TH_FIN)
            set_state(ep, FA_EP_CLOSED);
        if (fl & FA_TH_RST)
            set_state(ep, FA_EP_RESET);
        break;
    case FA_EP_ESTABLISHED: case FA_EP_PARTIAL:
        if ((fl & FA_TH_SYN) && ep->state == FA_EP_PARTIAL && peer->state == FA_EP_INACTIVE &&
            !(fl & FA_TH_ACK))
            set_state(ep, FA_EP_SYN_SENT);
        if ((fl & FA_TH_FIN) && !(fl & FA_TH_RST)) {
            set_state(ep, FA_EP_CLOSED);
            /* FIN then RST from the peer was a normal close after all. */
            if (peer->state == FA_EP_RESET && peer->prev_state == FA_EP_CLOSED)
                set_state(peer, FA_EP_CLOSED);
        }
        if (fl & FA_TH_RST)
            set_state(ep, FA_EP_RESET);
        break;
    case FA_EP_CLOSED:
        if ((fl & FA_TH_RST) && peer->state != FA_EP_CLOSED)
            set_state(ep, FA_EP_RESET);
        break;
    default:
        break;
    }
    return false;
}

/* A keep-alive probe re-sends the byte before the next expected one, with
 * no or one byte of (garbage) payload, to make the peer answer. */
static bool is_keepalive(const fa_flow_dir *ep, const fa_packet *p)
{
    return (p->tcp_flags & (FA_TH_SYN | FA_TH_FIN | FA_TH_RST)) == 0 && p->payload_len <= 1 &&
           ep->state != FA_EP_INACTIVE && p->seq == ep->last_seq - 1;
}

int fa_tcp_update(fa_flow *f, int d, const fa_packet *p)
{
    if (flip_late_syn_ack(f, p))
        d = 1 - d;
    fa_flow_dir *ep = &f->dir[d], *peer = &f->dir[1 - d];
    uint8_t fl = p->tcp_flags;
    uint32_t seg_len = ((fl & FA_TH_RST) ? 0 : p->payload_len) + !!(fl & FA_TH_SYN) + !!(fl & FA_TH_FIN);
    uint32_t end = p->seq + seg_len;

    if (is_keepalive(ep, p) && ep->keepalives < UINT16_MAX)
        ep->keepalives++;
    init_endpoint(ep, p, end);
    update_history(f, d, p, p->seq - ep->start_seq);
    if (p->window == 0 && !(fl & FA_TH_RST) && peer->state != FA_EP_CLOSED && ep->state != FA_EP_RESET)
        scaled_history(f, d, &ep->zero_windows, 'W');
    update_acks(peer, p);
    if (update_last_seq(ep, p, end)) {
        if (p->seq != ep->last_seq - 1 || p->payload_len > 1)
            ep->retrans++;
        scaled_history(f, d, &ep->rxmt_hist, 'T');
    }
    if (update_state_machine(f, d, p)) {
        swap_roles(f);
        return 1 - d;
    }
    return d;
}

/* Zeek's did_close: the endpoint has sent a FIN or a RST. */
static bool did_close(const fa_flow_dir *ep)
{
    return (ep->flags & (FA_TH_FIN | FA_TH_RST)) != 0;
}

bool fa_tcp_both_closed(const fa_flow *f)
{
    return did_close(&f->dir[0]) && did_close(&f->dir[1]);
}

/* Zeek's TCPSessionAdapter::IsReuse. Only a SYN starts over; once either
 * side has closed any SYN does, and before that any SYN whose sequence
 * number is not the originator's ISN (the one exception being the SYN
 * that completes a SYN-ACK-first handshake, which flips the roles). A
 * SYN-ACK counts only while the originator has sent nothing. */
bool fa_tcp_is_reuse(const fa_flow *f, const fa_packet *p)
{
    uint8_t fl = p->tcp_flags;
    if (!(fl & FA_TH_SYN))
        return false;
    const fa_flow_dir *orig = &f->dir[0], *resp = &f->dir[1], *conn_orig = orig;
    if (fl & FA_TH_ACK) {
        if (orig->state != FA_EP_INACTIVE)
            return false;
        conn_orig = resp;
    }
    if (did_close(orig) || did_close(resp))
        return true;
    if (p->seq == conn_orig->start_seq)
        return false;
    return !(!(fl & FA_TH_ACK) && conn_orig->state == FA_EP_SYN_ACK_SENT &&
             resp->state == FA_EP_INACTIVE && p->seq == resp->start_seq);
}

bool fa_tcp_closing(const fa_flow *f)
{
    for (int d = 0; d < 2; d++)
        if (f->dir[d].state == FA_EP_CLOSED || f->dir[d].state == FA_EP_RESET)
            return true;
    return false;
}

bool fa_tcp_closed(const fa_flow *f)
{
    const fa_flow_dir *o = &f->dir[0], *r = &f->dir[1];
    return o->state == FA_EP_RESET || r->state == FA_EP_RESET ||
           (o->state == FA_EP_CLOSED && r->state == FA_EP_CLOSED);
}

/* The RSTOS0 test in Zeek is the pattern ^?S[^HAFGIQ]*R.* on the history. */
static bool history_is_rstos0(const char *h)
{
    if (*h == '^')
        h++;
    if (*h++ != 'S')
        return false;
    for (; *h; h++) {
        if (*h == 'R')
            return true;
        if (strchr("HAFGIQ", *h))
            return false;
    }
    return false;
}

static const char *const conn_state_names[FA_CONN_STATES] = {
    "S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH",
};

const char *fa_conn_state_name(fa_conn_state s)
{
    return (unsigned)s < FA_CONN_STATES ? conn_state_names[s] : "OTH";
}

static fa_conn_state tcp_conn_state(const fa_flow *f)
{
    uint8_t os = f->dir[0].state, rs = f->dir[1].state;
    bool o_inactive = os == FA_EP_INACTIVE || os == FA_EP_PARTIAL;
    bool r_inactive = rs == FA_EP_INACTIVE || rs == FA_EP_PARTIAL;

    if (rs == FA_EP_RESET) {
        if (os == FA_EP_SYN_SENT || os == FA_EP_SYN_ACK_SENT ||
            (os == FA_EP_RESET && fa_flow_seq_bytes(f, 0) == 0 && fa_flow_seq_bytes(f, 1) == 0))
            return FA_CS_REJ;
        return o_inactive ? FA_CS_RSTRH : FA_CS_RSTR;
    }
    if (os == FA_EP_RESET) {
        if (r_inactive)
            return history_is_rstos0(f->history) ? FA_CS_RSTOS0 : FA_CS_OTH;
        return FA_CS_RSTO;
    }
    if (rs == FA_EP_CLOSED && os == FA_EP_CLOSED)
        return FA_CS_SF;
    if (os == FA_EP_CLOSED)
        return r_inactive ? FA_CS_SH : FA_CS_S2;
    if (rs == FA_EP_CLOSED)
        return o_inactive ? FA_CS_SHR : FA_CS_S3;
    if (os == FA_EP_SYN_SENT && rs == FA_EP_INACTIVE)
        return FA_CS_S0;
    if (os == FA_EP_ESTABLISHED && rs == FA_EP_ESTABLISHED)
        return FA_CS_S1;
    return FA_CS_OTH;
}

fa_conn_state fa_flow_conn_state(const fa_flow *f)
{
    if (f->key.proto == FA_PROTO_TCP)
        return tcp_conn_state(f);
    bool o = f->dir[0].state == FA_EP_ACTIVE, r = f->dir[1].state == FA_EP_ACTIVE;
    if (f->key.proto == FA_PROTO_UDP) {
        if (o)
            return r ? FA_CS_SF : FA_CS_S0;
        return r ? FA_CS_SHR : FA_CS_OTH;
    }
    return FA_CS_OTH;
}

/* Zeek TCP_Endpoint::Size(): sequence space used, without SYN and FIN.
 * A flow record counts the bytes itself. */
uint64_t fa_flow_seq_bytes(const fa_flow *f, int d)
{
    const fa_flow_dir *ep = &f->dir[d];
    if (f->key.proto != FA_PROTO_TCP || (f->bits & FA_FLOW_RECORD))
        return ep->payload;
    /* A half-open connection found and aborted: the peer acknowledged data
     * this side never had the chance to send, so the numbers mislead. */
    bool data_acked = ep->ack_seq != ep->start_seq && ep->ack_seq != ep->start_seq + 1;
    if (ep->prev_state == FA_EP_SYN_SENT && ep->state == FA_EP_RESET &&
        f->dir[1 - d].state == FA_EP_INACTIVE && data_acked)
        return 0;
    uint32_t top = seq_delta(ep->last_seq, ep->ack_seq) > 0 ? ep->last_seq : ep->ack_seq;
    uint64_t size = (uint32_t)(top - ep->start_seq);
    if (size > 0)
        size--;
    if ((ep->flags & FA_TH_FIN) && size > 0)
        size--;
    return size;
}
