/* tcp_state.h - the TCP endpoint state machine, history letters and
 * conn_state, reproducing Zeek's TCP analyzer so verdicts agree with Zeek's
 * conn.log (docs/zeek-agreement.md lists the remaining differences). */
#ifndef FLOWAUDIT_TCP_STATE_H
#define FLOWAUDIT_TCP_STATE_H

#include <stdbool.h>

#include "decode.h"
#include "flow.h"

/* Applies one TCP segment sent by direction d (0 originator, 1 responder).
 * May flip the flow's roles (SYN/SYN-ACK reversal); returns the direction
 * the packet has after any flip. */
int fa_tcp_update(fa_flow *f, int d, const fa_packet *p);

/* True when this SYN (from either side) starts a new connection on the
 * flow's 5-tuple, as Zeek decides it: the old connection is then ended. */
bool fa_tcp_is_reuse(const fa_flow *f, const fa_packet *p);

/* Appends a history letter, upper case for the originator. */
void fa_history_add(fa_flow *f, int d, char code);
/* Adds code once per direction per bit; returns true if already seen. */
bool fa_history_check(fa_flow *f, int d, unsigned bit, char code);

/* True when at least one side is done (FIN or RST seen). */
bool fa_tcp_closing(const fa_flow *f);
/* True when the connection is over: both FINs, or a RST. */
bool fa_tcp_closed(const fa_flow *f);
/* True when both endpoints have sent a FIN or a RST (Zeek's BothClosed);
 * from then on packets no longer extend the connection's duration. */
bool fa_tcp_both_closed(const fa_flow *f);

#endif
