#!/usr/bin/env bash
# live-test.sh - flowaudit on a switch's span port while real clients talk
# to real servers through a real firewall and a real WebSocket proxy; the
# streamed NDJSON must tell each attempt's fate.
#
# Usage: live-test.sh FLOWAUDIT SRCDIR   (root; exit 77 = skipped)
#
#   ns m  198.51.100.11 (mgmt1)  --+
#   ns u  198.51.100.50 (hylite) --+-- ns sw: bridge br0  <- flowaudit -i br0 (x2)
#   ns r  198.51.100.1 (router) ---+
#         nftables: 192.0.2.20:1433 dropped, 192.0.2.13:38870 reset
#         br-srv 192.0.2.1 -+- ns s  192.0.2.13 (broker: listeners, WebSocket
#                           |        server :8765), 192.0.2.20 (sql :1433)
#                           +- ns p  192.0.2.60 (hysecure: nginx :443 -> :8765,
#                                    proxy_read_timeout 2s)
#
# Two flowaudit processes read br0 at once: A with periodic reports and
# interim records (must exit 0), B with -Z nobody and --fail-on blocked,
# reporting only on SIGUSR1 (must run as nobody and exit 1).
#
# jq programs are single-quoted on purpose: $name is a jq variable.
# shellcheck source-path=SCRIPTDIR disable=SC2016
set -euo pipefail

FLOWAUDIT=$1
SRC=$2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=live/lib.sh
. "$HERE/live/lib.sh"
NETNS=$SRC/tools/netns

require_env bridge nft nginx ss sysctl jq
require_python_module websockets
getent passwd nobody >/dev/null || skip "no user 'nobody' for -Z"
make_work

topology() {
    ns_add sw m u r s p
    veth m m0 sw sw-m
    veth u u0 sw sw-u
    veth r r-lan sw sw-r
    bridge_add sw br0 sw-m sw-u sw-r
    veth s s0 r r-s
    veth p p0 r r-p
    bridge_add r br-srv r-s r-p

    ip -n "$TAG-m" addr add 198.51.100.11/24 dev m0
    ip -n "$TAG-u" addr add 198.51.100.50/24 dev u0
    ip -n "$TAG-r" addr add 198.51.100.1/24 dev r-lan
    ip -n "$TAG-r" addr add 192.0.2.1/24 dev br-srv
    ip -n "$TAG-s" addr add 192.0.2.13/24 dev s0
    ip -n "$TAG-s" addr add 192.0.2.20/24 dev s0
    ip -n "$TAG-p" addr add 192.0.2.60/24 dev p0
    # Only the two documentation prefixes, only through the router: no
    # default route anywhere, nothing can leave the lab.
    ip -n "$TAG-m" route add 192.0.2.0/24 via 198.51.100.1
    ip -n "$TAG-u" route add 192.0.2.0/24 via 198.51.100.1
    ip -n "$TAG-s" route add 198.51.100.0/24 via 192.0.2.1
    ip -n "$TAG-p" route add 198.51.100.0/24 via 192.0.2.1
    ip netns exec "$TAG-r" sysctl -qw net.ipv4.ip_forward=1
    ip netns exec "$TAG-r" nft -f "$HERE/live/firewall.nft"
}

servers() {
    local rundir=$WORK/nginx
    start_bg listeners s "$PYTHON" "$NETNS/matrix.py" serve \
        --tcp 192.0.2.13:38866 --tcp 192.0.2.13:38870 --tcp 192.0.2.20:1433
    start_bg ws-server s "$PYTHON" "$NETNS/wsdemo.py" server --host 192.0.2.13 --port 8765
    mkdir -p "$rundir"
    sed -e "s|@RUNDIR@|$rundir|g" -e "s|@LISTEN@|192.0.2.60:443|g" \
        -e "s|@BACKEND@|192.0.2.13:8765|g" "$HERE/live/nginx-ws.conf.in" >"$rundir/nginx.conf"
    start_bg nginx p nginx -p "$rundir" -e "$rundir/error.log" -c "$rundir/nginx.conf" -g 'daemon off;'
    wait_listen s 192.0.2.13 38866
    wait_listen s 192.0.2.20 1433
    wait_listen s 192.0.2.13 8765
    wait_listen p 192.0.2.60 443
}

has_report() {
    [[ $(jq -s '[.[] | select(.type == "report")] | length' "$1") -ge 1 ]]
}

runs_as_nobody() {
    local uid
    uid=$(id -u nobody)
    [[ $(vm_field "$1" Uid) == "$uid"$'\t'"$uid"$'\t'"$uid"$'\t'"$uid" ]]
}

start_auditors() {
    local common=(-i br0 --rules "$SRC/rules" --site "$HERE/live/hyworks-live.site" --ws-min-idle 1)
    start_bg audit-a sw "$FLOWAUDIT" "${common[@]}" --report-interval 2 --interim 2 -j "$WORK/a.ndjson"
    PID_A=$LAST_PID
    watch audit-a "$PID_A"
    start_bg audit-b sw "$FLOWAUDIT" "${common[@]}" -Z nobody --fail-on blocked -q -j "$WORK/b.ndjson"
    PID_B=$LAST_PID
    watch audit-b "$PID_B"
    # B is past opening br0 once it runs as nobody; A's first periodic
    # report shows its loop is running.
    wait_until 10 "flowaudit -Z nobody to drop root" runs_as_nobody "$PID_B"
    wait_until 10 "the first periodic report" has_report "$WORK/a.ndjson"
    expect_eq "$(cat "/proc/$PID_A/comm")" flowaudit "process signalled as A"
    note "ok: B runs as nobody after opening br0: $(vm_field "$PID_B" Uid | tr '\t' ' ')"
}

traffic() {
    local ws_long ws_idle
    start_bg ws-long m "$PYTHON" "$NETNS/wsdemo.py" client --host 192.0.2.13 --port 8765 \
        --src 198.51.100.11 --sport 40001 --mode clean --messages 2 --idle 6
    ws_long=$LAST_PID
    start_bg ws-idle u "$PYTHON" "$NETNS/wsdemo.py" client --host 192.0.2.60 --port 443 \
        --src 198.51.100.50 --sport 40002 --mode await-close --messages 2 --wait 15
    ws_idle=$LAST_PID
    start_bg probe-seen m "$PYTHON" "$HERE/live/tcpprobe.py" --src 198.51.100.11 \
        --dst 192.0.2.13 --dport 38866 --expect connected
    run_ok probe-seen "$LAST_PID" 10
    start_bg probe-rejected m "$PYTHON" "$HERE/live/tcpprobe.py" --src 198.51.100.11 \
        --dst 192.0.2.13 --dport 38870 --expect refused
    run_ok probe-rejected "$LAST_PID" 10
    start_bg probe-blocked m "$PYTHON" "$HERE/live/tcpprobe.py" --src 198.51.100.11 \
        --dst 192.0.2.20 --dport 1433 --timeout 2.5 --expect timeout
    run_ok probe-blocked "$LAST_PID" 10
    run_ok ws-idle "$ws_idle" 30
    has_text ws-idle.out "closed by peer: code=1006" || fail "nginx did not close the idle WebSocket"
    run_ok ws-long "$ws_long" 30
    has_text ws-long.out "closed clean: code=1000" || fail "the long WebSocket did not close cleanly"
    # The last FIN/ACK of the clean close must be read before the stop.
    sleep 1
}

stop_auditors() {
    # B reports only on demand: exactly one report, not final, must appear.
    kill -USR1 "$PID_B"
    wait_until 10 "the report asked for with SIGUSR1" has_report "$WORK/b.ndjson"
    sleep 0.5
    expect_jq "$WORK/b.ndjson" "SIGUSR1 gave exactly one report, not final, before the stop" \
        '[.[] | select(.type == "report")] | length == 1 and (.[0].final == false)'
    runs_as_nobody "$PID_B" || fail "B no longer runs as nobody"
    unwatch "$PID_A" "$PID_B"
    kill -TERM "$PID_A" "$PID_B"
    finish "$PID_A" 20
    RC_A=$RC
    finish "$PID_B" 20
    RC_B=$RC
}

# flow FILE PORT FIELD: FIELD of the flow record to responder port PORT.
flow() {
    q "$1" --argjson p "$2" "[.[] | select(.type == \"flow\" and .[\"id.resp_p\"] == \$p)] |
        if length == 1 then .[0].$3 | tostring else \"\(length) flow records\" end"
}

# final FILE TYPE KEY VALUE FIELD: FIELD of the TYPE record with KEY ==
# VALUE written after the final report marker.
final() {
    q "$1" --arg t "$2" --arg k "$3" --arg v "$4" \
        "(map(.type == \"report\" and .final) | index(true)) as \$i |
         [.[\$i:][] | select(.type == \$t and (.[\$k] | tostring) == \$v)] |
         if length == 1 then .[0].$5 | tostring else \"\(length) records\" end"
}

check_flows() {
    local f=$1 who=$2
    expect_eq "$(q "$f" '[.[] | select(.type == "flow") | .["id.resp_p"]] | sort | join(" ")')" \
        "443 1433 8765 38866 38870" "$who: responder ports of all flow records"
    expect_eq "$(flow "$f" 38866 conn_state)" SF "$who: 38866 (accepted) conn_state"
    expect_eq "$(flow "$f" 38870 conn_state)" REJ "$who: 38870 (reset by the router) conn_state"
    expect_eq "$(flow "$f" 1433 conn_state)" S0 "$who: 1433 (dropped by the router) conn_state"
    expect_eq "$(flow "$f" 8765 conn_state)" SF "$who: 8765 (long WebSocket) conn_state"
    expect_eq "$(flow "$f" 443 conn_state)" SF "$who: 443 (WebSocket via nginx) conn_state"
    expect_eq "$(final "$f" rule rule_id HYW-008 status)" blocked "$who: HYW-008 mgmt -> sql tcp 1433 status"
}

check_a() {
    local f=$WORK/a.ndjson uid
    expect_eq "$RC_A" 0 "A: exit status"
    # Only the start line, nothing else (no sanitizer report, no error).
    expect_eq "$(cat "$WORK/audit-a.err")" "flowaudit: capturing on br0, link type EN10MB (Ethernet)" \
        "A: stderr"
    seq_check "$f"
    check_flows "$f" A
    expect_eq "$(flow "$f" 38866 verdict)/$(flow "$f" 38866 attempt)/$(flow "$f" 38866 rules)" \
        'documented/seen/["HYW-005"]' "A: 38866 verdict/attempt/rules"
    expect_eq "$(flow "$f" 38870 verdict)/$(flow "$f" 38870 attempt)/$(flow "$f" 38870 rules)" \
        'documented/rejected/["HYW-006"]' "A: 38870 verdict/attempt/rules"
    expect_eq "$(flow "$f" 1433 verdict)/$(flow "$f" 1433 attempt)/$(flow "$f" 1433 rules)" \
        'documented/blocked/["HYW-008"]' "A: 1433 verdict/attempt/rules"
    expect_eq "$(flow "$f" 8765 verdict)/$(flow "$f" 8765 attempt)" undocumented/seen "A: 8765 verdict/attempt"
    expect_eq "$(flow "$f" 443 verdict)/$(flow "$f" 443 rules)" 'documented/["HYW-052"]' "A: 443 verdict/rules"

    expect_eq "$(final "$f" rule rule_id HYW-005 status)" seen "A: HYW-005 mgmt -> broker tcp 38866 status"
    # The 38866 connection is answered at once and its flow lingers 5 s
    # after its FINs; A reports every 2 s. Every report from the answer on,
    # including those made while the flow was still open, says seen.
    expect_jq "$f" "A: HYW-005 seen in every periodic report after its answer, before its flow ended" '
        . as $all
        | ([.[] | select(.type == "flow" and .["id.resp_p"] == 38866)][0]) as $fl
        | ($all | map(.seq == $fl.seq) | index(true)) as $flow_at
        | [range(0; length) | select($all[.].type == "report" and $all[.].window_end > $fl.ts + 0.5)
           | {at: ., status: ($all[. + 1:] | map(select(.type == "rule" and .rule_id == "HYW-005")) | .[0].status)}]
        | (map(select(.at < $flow_at)) | length) >= 1 and all(.status == "seen")'
    expect_eq "$(final "$f" rule rule_id HYW-006 status)" rejected "A: HYW-006 mgmt -> broker tcp 38870 status"
    expect_eq "$(final "$f" rule rule_id HYW-052 status)" seen "A: HYW-052 hylite -> hysecure tcp 443 status"
    expect_eq "$(final "$f" finding rule_id HYW-006 kind)" rejected "A: finding for HYW-006"
    expect_eq "$(final "$f" finding rule_id HYW-008 kind)" blocked "A: finding for HYW-008"
    expect_eq "$(final "$f" undocumented resp_p 8765 orig_h)/$(final "$f" undocumented resp_p 8765 resp_h)" \
        198.51.100.11/192.0.2.13 "A: undocumented aggregate for tcp/8765"

    uid=$(flow "$f" 443 uid)
    expect_eq "$(q "$f" --arg u "$uid" '[.[] | select(.type == "websocket" and .uid == $u)] |
        map("\(.kind) \(.ending) \(.side) \(.killed)") | join(",")')" \
        "websocket killed_idle_close server true" "A: WebSocket through nginx"
    uid=$(flow "$f" 8765 uid)
    expect_eq "$(q "$f" --arg u "$uid" '[.[] | select(.type == "websocket" and .uid == $u)] |
        map(.ending) | join(",")')" clean "A: long WebSocket ending"
    expect_jq "$f" "A: flow_update records for the long WebSocket before its flow record" \
        '(map(.type == "flow_update" and .uid == $u) | index(true)) as $i |
        (map(.type == "flow" and .uid == $u) | index(true)) as $j | $i != null and $j != null and $i < $j' \
        --arg u "$uid"

    expect_jq "$f" "A: periodic reports, then one final report with capture counters" \
        '[.[] | select(.type == "report")] as $r | ($r | length) >= 3 and
         ([$r[] | select(.final)] | length) == 1 and $r[-1].final and
         ($r[-1].capture.received > 0) and ($r[-1].window_end >= $r[-1].window_start)'
}

check_b() {
    local f=$WORK/b.ndjson
    expect_eq "$RC_B" 1 "B: exit status with --fail-on blocked"
    # -q: an empty stderr also rules out an exit 1 for another reason
    # (a sanitizer's report, an error message).
    [[ ! -s $WORK/audit-b.err ]] || fail "B wrote to stderr: $(head -n 3 "$WORK/audit-b.err")"
    seq_check "$f"
    check_flows "$f" B
    expect_jq "$f" "B: no interim records (default 300 s)" 'all(.[]; .type != "flow_update")'
}

topology
servers
start_auditors
traffic
stop_auditors
check_a
check_b
note "passed"
