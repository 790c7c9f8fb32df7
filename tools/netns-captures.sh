#!/usr/bin/env bash
# netns-captures.sh - records real client/server traffic across a firewall
# router built from throw-away network namespaces, one pcap per scenario.
#
# Usage: tools/netns-captures.sh [OUTDIR [SCENARIO...]]
#   OUTDIR defaults to pcaps/real next to this script's repository.
#   SCENARIO names (default: all): ws-clean ws-nginx-idle ws-nginx-idle-5s
#   ws-blackhole ws-rst-inject ws-rst-endpoint-rst ws-open ws-pings
#   tcp-blocked-rejected
#
# Topology (rebuilt for every scenario, documentation addresses only, no
# route to the host or anything beyond it):
#
#   client ns             router ns                         server ns
#   c0 198.51.100.10/24 - r-client 198.51.100.1/24          s0 192.0.2.10/24
#      (.20-.23 extra)    br0 192.0.2.1/24 -+- r-srv   ---     192.0.2.30/24
#                         ip_forward=1      +- r-proxy ---  proxy ns
#                         nftables                          p0 192.0.2.20/24
#
# Every capture is taken on r-client with tcpdump, so it shows what the
# client sees; the checks at the end of each scenario assert the facts
# listed in pcaps/real/README.md.
set -euo pipefail

PROG=${0##*/}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HELPERS=$HERE/netns
# shellcheck source=netns/common.sh
source "$HELPERS/common.sh"

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
    sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi

OUT=${1:-$HERE/../pcaps/real}
shift || true
PYTHON=${PYTHON:-/usr/bin/python3}
ALL_SCENARIOS=(ws-clean ws-nginx-idle ws-nginx-idle-5s ws-blackhole ws-rst-inject ws-rst-endpoint-rst
    ws-open ws-pings tcp-blocked-rejected)
SCENARIOS=("$@")
[[ ${#SCENARIOS[@]} -gt 0 ]] || SCENARIOS=("${ALL_SCENARIOS[@]}")

preflight ip bridge ethtool nft tcpdump tshark nginx ss sysctl

TAG=fa-$$
NS_C=$TAG-c
NS_R=$TAG-r
NS_S=$TAG-s
NS_P=$TAG-p

# Fixed MAC addresses and permanent neighbour entries: no ARP in the
# captures, and the frames are identical between runs.
MAC_C=02:fa:00:00:00:0a
MAC_RC=02:fa:00:00:00:01
MAC_BR=02:fa:00:00:02:01
MAC_S=02:fa:00:00:02:0a
MAC_P=02:fa:00:00:02:14

CLIENT=198.51.100.10
SERVER=192.0.2.10
PROXY=192.0.2.20
WS_PORT=8765
WS_SPORT=40001
# tshark only looks for HTTP (and so for the WebSocket upgrade) on its
# well-known ports, and takes 443 for TLS.
DECODE=(-d "tcp.port==$WS_PORT,http" -d "tcp.port==443,http")

WORK=$(mktemp -d /tmp/fa-netns.XXXXXX)
PIDS=()
CAP_NS=$NS_R
CAP_IF=r-client
NGINX_SUBST=(-e "s|@BACKEND@|$SERVER:$WS_PORT|g")

# ---- topology ------------------------------------------------------------

topology_up() {
    local ns a
    for ns in "$NS_C" "$NS_R" "$NS_S" "$NS_P"; do
        ns_init "$ns"
    done

    ip -n "$NS_C" link add c0 address "$MAC_C" type veth peer name r-client address "$MAC_RC" netns "$NS_R"
    ip -n "$NS_S" link add s0 address "$MAC_S" type veth peer name r-srv netns "$NS_R"
    ip -n "$NS_P" link add p0 address "$MAC_P" type veth peer name r-proxy netns "$NS_R"
    ip -n "$NS_R" link add br0 address "$MAC_BR" type bridge
    ip -n "$NS_R" link set r-srv master br0
    ip -n "$NS_R" link set r-proxy master br0

    for a in "$CLIENT" 198.51.100.20 198.51.100.21 198.51.100.22 198.51.100.23; do
        ip -n "$NS_C" addr add "$a/24" dev c0
    done
    ip -n "$NS_R" addr add 198.51.100.1/24 dev r-client
    ip -n "$NS_R" addr add 192.0.2.1/24 dev br0
    ip -n "$NS_S" addr add "$SERVER/24" dev s0
    ip -n "$NS_S" addr add 192.0.2.30/24 dev s0
    ip -n "$NS_P" addr add "$PROXY/24" dev p0

    # Without transmit checksum offload every captured frame carries its
    # final checksum instead of a partial one, and TSO/GSO are off with it.
    ip netns exec "$NS_C" ethtool -K c0 tx off >/dev/null
    ip netns exec "$NS_S" ethtool -K s0 tx off >/dev/null
    ip netns exec "$NS_P" ethtool -K p0 tx off >/dev/null
    for a in r-client r-srv r-proxy; do
        ip netns exec "$NS_R" ethtool -K "$a" tx off >/dev/null
    done
    # Static forwarding entries: the bridge never floods a frame to the
    # wrong server namespace while it has not learnt the MACs yet.
    bridge -n "$NS_R" fdb replace "$MAC_S" dev r-srv master static
    bridge -n "$NS_R" fdb replace "$MAC_P" dev r-proxy master static

    ip -n "$NS_C" link set c0 up
    ip -n "$NS_S" link set s0 up
    ip -n "$NS_P" link set p0 up
    for a in r-client r-srv r-proxy br0; do
        ip -n "$NS_R" link set "$a" up
    done

    for a in "$CLIENT" 198.51.100.20 198.51.100.21 198.51.100.22 198.51.100.23; do
        ip -n "$NS_R" neigh replace "$a" lladdr "$MAC_C" nud permanent dev r-client
    done
    ip -n "$NS_R" neigh replace "$SERVER" lladdr "$MAC_S" nud permanent dev br0
    ip -n "$NS_R" neigh replace 192.0.2.30 lladdr "$MAC_S" nud permanent dev br0
    ip -n "$NS_R" neigh replace "$PROXY" lladdr "$MAC_P" nud permanent dev br0
    ip -n "$NS_C" neigh replace 198.51.100.1 lladdr "$MAC_RC" nud permanent dev c0
    ip -n "$NS_S" neigh replace 192.0.2.1 lladdr "$MAC_BR" nud permanent dev s0
    ip -n "$NS_S" neigh replace "$PROXY" lladdr "$MAC_P" nud permanent dev s0
    ip -n "$NS_P" neigh replace 192.0.2.1 lladdr "$MAC_BR" nud permanent dev p0
    ip -n "$NS_P" neigh replace "$SERVER" lladdr "$MAC_S" nud permanent dev p0

    # Only the two documentation prefixes are routed, and only via the
    # router: no default route anywhere, so nothing can leave the lab.
    ip -n "$NS_C" route add 192.0.2.0/24 via 198.51.100.1
    ip -n "$NS_S" route add 198.51.100.0/24 via 192.0.2.1
    ip -n "$NS_P" route add 198.51.100.0/24 via 192.0.2.1
    ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1
    # Newer kernels retry the first SYNs at a fixed 1 s interval; the
    # classic exponential backoff (1 s, 2 s, 4 s) gives the same capture on
    # every kernel.
    if [[ -e /proc/sys/net/ipv4/tcp_syn_linear_timeouts ]]; then
        ip netns exec "$NS_C" sysctl -qw net.ipv4.tcp_syn_linear_timeouts=0
    fi
}

# topology_down: stop whatever still runs in our namespaces, then delete
# them (their veths and bridge go with them).
topology_down() {
    local p
    for p in "${PIDS[@]}"; do
        stop_pid "$p"
    done
    del_namespaces "$NS_C" "$NS_R" "$NS_S" "$NS_P"
}

arm_cleanup

# ---- servers, capture, checks --------------------------------------------

load_rules() {
    ip netns exec "$NS_R" nft -f "$HELPERS/$1"
}

# ws_server_start [SERVER OPTION...]: the echo server, with wsdemo.py's
# server options (--abort-after).
ws_server_start() {
    start_bg ws-server "$NS_S" "$PYTHON" "$HELPERS/wsdemo.py" server --host "$SERVER" --port "$WS_PORT" "$@"
    wait_listen "$NS_S" t "$SERVER" "$WS_PORT"
}

ws_client_start() {
    start_bg ws-client "$NS_C" "$PYTHON" "$HELPERS/wsdemo.py" client \
        --src "$CLIENT" --sport "$WS_SPORT" "$@"
}

# publish: only a complete capture that passed its checks reaches the
# output directory, so a failed run never leaves a file that contradicts
# the README.
publish() {
    local frames size
    mkdir -p "$OUT"
    install -m 0644 "$WORK/$CAP_NAME.pcap" "$OUT/$CAP_NAME.pcap"
    frames=$(tcpdump -nn -r "$OUT/$CAP_NAME.pcap" 2>/dev/null | wc -l)
    size=$(stat -c %s "$OUT/$CAP_NAME.pcap")
    printf '%-28s %4d frames %7d bytes  %s\n' "$CAP_NAME.pcap" "$frames" "$size" \
        "$(cat "$WORK/ws-client.log" "$WORK/probes.log" 2>/dev/null | tail -n 1)"
}

# ---- scenarios -------------------------------------------------------------

scenario_ws_clean() {
    ws_server_start
    capture_start ws-clean
    ws_client_start --host "$SERVER" --port "$WS_PORT" --mode clean --messages 3
    wait_exit "$LAST_PID" 20
    sleep 0.5
    capture_stop
    log_has ws-client "closed clean: code=1000" || die "ws-clean: client did not close cleanly"
    expect 'websocket.opcode == 1' eq 7
    expect 'websocket.opcode == 8' eq 2
    expect 'tcp.flags.fin == 1' eq 2
    expect 'tcp.flags.fin == 1 && ip.src == 192.0.2.10' eq 1
    expect 'tcp.flags.reset == 1' eq 0
}

# nginx_idle NAME READ_TIMEOUT: the client goes quiet behind nginx until
# nginx's proxy_read_timeout (READ_TIMEOUT) closes the upgraded connection.
nginx_idle() {
    local NGINX_SUBST=("${NGINX_SUBST[@]}" -e "s|@READ_TIMEOUT@|$2|g")
    ws_server_start
    nginx_start nginx-wsproxy.conf.in "$NS_P" "$PROXY" 80
    capture_start "$1"
    ws_client_start --host "$PROXY" --port 80 --mode await-close --messages 2 --wait 20
    wait_exit "$LAST_PID" 30
    sleep 0.5
    capture_stop
    log_has ws-client "closed by peer: code=1006" || die "$1: nginx did not close the idle connection"
}

scenario_ws_nginx_idle() {
    nginx_idle ws-nginx-idle 3s
    expect 'websocket.opcode == 1' eq 5
    expect 'websocket.opcode == 8' eq 0
    expect 'websocket.opcode == 9' eq 0
    expect 'tcp.flags.fin == 1' eq 2
    expect 'tcp.flags.fin == 1 && ip.src == 192.0.2.20' eq 1
    expect 'tcp.flags.reset == 1' eq 0
}

scenario_ws_nginx_idle_5s() {
    nginx_idle ws-nginx-idle-5s 5s
    expect 'websocket.opcode == 1' eq 5
    expect 'websocket.opcode == 8 || websocket.opcode == 9 || websocket.opcode == 10' eq 0
    expect 'tcp.flags.fin == 1' eq 2
    expect 'tcp.flags.fin == 1 && ip.src == 192.0.2.20 && frame.time_relative > 5.3' eq 1
    expect 'tcp.flags.fin == 1 && frame.time_relative < 5.3' eq 0
    expect 'tcp.flags.reset == 1' eq 0
}

# ws_expiring RULES NAME [CT_TIMEOUT IDLE [SERVER OPTION...]]: a flow that
# idles IDLE seconds (default 8), past the router's conntrack timeout
# shortened to CT_TIMEOUT seconds (default 5), and then sends one more
# message.
ws_expiring() {
    local rules=$1 name=$2 ct=${3:-5} idle=${4:-8}
    shift $(($# < 4 ? $# : 4))
    load_rules "$rules"
    # Written after the rules are loaded: the conntrack sysctls of a
    # namespace exist only once conntrack is in use there.
    ip netns exec "$NS_R" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established="$ct"
    ws_server_start "$@"
    capture_start "$name"
    ws_client_start --host "$SERVER" --port "$WS_PORT" --mode send-after-idle \
        --messages 2 --idle "$idle" --wait 120
}

scenario_ws_blackhole() {
    local client
    ws_expiring ct-drop.nft ws-blackhole
    client=$LAST_PID
    wait_until 30 "the message after the idle gap" log_has ws-client "sent after idle"
    # The retransmissions go out about 0.2, 0.4, 0.8, 1.7, 3.3, 6.8 and
    # 13.4 s after the message; 18 s sits well before the 8th (about 27 s).
    sleep 18
    capture_stop
    stop_pid "$client"
    expect 'tcp.analysis.retransmission && ip.src == 198.51.100.10' eq 7
    expect 'tcp.flags.fin == 1 || tcp.flags.reset == 1' eq 0
    expect 'websocket.opcode == 1' eq 6
}

scenario_ws_rst_inject() {
    ws_expiring ct-reset.nft ws-rst-inject
    wait_exit "$LAST_PID" 30
    sleep 0.5
    capture_stop
    log_has ws-client "closed by peer: code=1006" || die "ws-rst-inject: client was not reset"
    expect 'tcp.flags.reset == 1' eq 1
    expect 'tcp.flags.reset == 1 && ip.src == 192.0.2.10 && ip.ttl == 64' eq 1
    expect 'ip.src == 192.0.2.10 && !tcp.flags.reset && ip.ttl != 63' eq 0
    expect 'tcp.flags.fin == 1' eq 0
    expect 'websocket.opcode == 1' eq 6
}

# The router forgets the flow after 2 s; the client's message after 3 s of
# idle draws the router's reset in the server's name. The server, which
# never heard of it, gives up on the silent client 4 s after its last
# message and aborts the connection with a reset of its own, which the
# router lets through.
scenario_ws_rst_endpoint_rst() {
    local client
    ws_expiring ct-reset-rst.nft ws-rst-endpoint-rst 2 3 --abort-after 4
    client=$LAST_PID
    wait_exit "$client" 30
    wait_until 10 "the server to abort" log_has ws-server "aborted"
    sleep 0.5
    capture_stop
    log_has ws-client "closed by peer: code=1006" || die "ws-rst-endpoint-rst: client was not reset"
    expect 'tcp.flags.reset == 1' eq 2
    expect 'tcp.flags.reset == 1 && ip.src == 192.0.2.10' eq 2
    expect 'tcp.flags.reset == 1 && ip.ttl == 64 && frame.time_relative > 3.3 && frame.time_relative < 3.6' eq 1
    expect 'tcp.flags.reset == 1 && ip.ttl == 63 && frame.time_relative > 4.3' eq 1
    expect 'ip.src == 192.0.2.10 && !tcp.flags.reset && ip.ttl != 63' eq 0
    expect 'tcp.flags.fin == 1' eq 0
    expect 'websocket.opcode == 1' eq 6
}

scenario_ws_open() {
    local client
    ws_server_start
    capture_start ws-open
    ws_client_start --host "$SERVER" --port "$WS_PORT" --mode hold --messages 3
    client=$LAST_PID
    wait_until 20 "the client exchange" log_has ws-client "exchanged"
    sleep 1
    capture_stop
    stop_pid "$client"
    expect 'websocket.opcode == 1' eq 7
    expect 'tcp.flags.fin == 1 || tcp.flags.reset == 1' eq 0
}

scenario_ws_pings() {
    ws_server_start
    capture_start ws-pings
    ws_client_start --host "$SERVER" --port "$WS_PORT" --mode clean --messages 1 \
        --idle 7.5 --ping-interval 1
    wait_exit "$LAST_PID" 30
    sleep 0.5
    capture_stop
    log_has ws-client "closed clean: code=1000" || die "ws-pings: client did not close cleanly"
    expect 'websocket.opcode == 9 && ip.src == 198.51.100.10' eq 7
    expect 'websocket.opcode == 10 && ip.src == 192.0.2.10' eq 7
    expect 'websocket.opcode == 8' eq 2
    expect 'tcp.flags.fin == 1' eq 2
    expect 'tcp.flags.reset == 1' eq 0
}

probe() {
    ip netns exec "$NS_C" "$PYTHON" "$HELPERS/matrix.py" "$@" >>"$WORK/probes.log" 2>&1 ||
        die "probe failed: $* ($(tail -n 2 "$WORK/probes.log" | tr '\n' ' '))"
}

scenario_tcp_blocked_rejected() {
    load_rules matrix.nft
    nginx_start nginx-console.conf.in "$NS_S" "$SERVER" 443
    start_bg matrix-serve "$NS_S" "$PYTHON" "$HELPERS/matrix.py" serve \
        --tcp 192.0.2.10:38866 --tcp 192.0.2.10:38870 --tcp 192.0.2.30:9200 \
        --udp 192.0.2.10:38872 --udp 192.0.2.30:514
    wait_listen "$NS_S" t 192.0.2.30 9200
    wait_listen "$NS_S" u 192.0.2.30 514
    capture_start tcp-blocked-rejected
    probe tcp --src 198.51.100.21 --sport 40443 --dst 192.0.2.10 --dport 443 --http / --expect connected
    probe tcp --src 198.51.100.20 --sport 48866 --dst 192.0.2.10 --dport 38866 --timeout 5 --expect timeout
    probe tcp --src 198.51.100.20 --sport 48870 --dst 192.0.2.10 --dport 38870 --expect refused
    probe tcp --src 198.51.100.23 --sport 49200 --dst 192.0.2.30 --dport 9200 --expect unreachable
    probe udp --src 198.51.100.22 --sport 48872 --dst 192.0.2.10 --dport 38872 \
        --payload "LOG hylabs reservation-add id=42" --expect reply
    probe udp --src 198.51.100.23 --sport 40514 --dst 192.0.2.30 --dport 514 --timeout 2 \
        --payload "<134>dvm01 filetransfer: copy denied" --expect timeout
    sleep 0.5
    capture_stop
    expect 'tcp.port == 443 && tcp.flags.syn == 1' eq 2
    expect 'http.response.code == 200' eq 1
    expect 'tcp.dstport == 38866 && tcp.flags.syn == 1' eq 3
    expect 'tcp.srcport == 38866' eq 0
    expect 'tcp.srcport == 38870 && tcp.flags.reset == 1 && ip.ttl == 64' eq 1
    expect 'icmp.type == 3 && icmp.code == 13 && ip.src == 198.51.100.1' eq 1
    expect 'tcp.srcport == 9200' eq 0
    expect 'udp.dstport == 38872' eq 1
    expect 'udp.srcport == 38872 && ip.ttl == 63' eq 1
    expect 'udp.dstport == 514' eq 1
    expect 'udp.srcport == 514' eq 0
}

# ---- main ------------------------------------------------------------------

run_scenarios
