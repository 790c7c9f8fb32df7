#!/usr/bin/env bash
# netns-lab.sh - small but realistic deployments of VDI products built from
# throw-away network namespaces (one per host), real servers on the
# products' documented ports, real client traffic, and one capture per
# scenario taken at the lab router's span port.
#
# Usage: tools/netns-lab.sh [OUTDIR [SCENARIO...]]
#   OUTDIR defaults to pcaps/lab next to this script's repository.
#   SCENARIO names (default: all): hyworks-single-node hyworks-ha-ad
#   hyworks-hysecure pcoip-sg-bypass psw-proxy-idle psw-fw-reset
#   applayering-vsphere
#
# Every host is a namespace with one veth to the router namespace, which
# routes between the three documentation prefixes (192.0.2.0/24 servers,
# 198.51.100.0/24 users, 203.0.113.0/24 DMZ) and runs the firewall
# (nftables, table lab_fw). Each host has /32 addresses and reaches every
# other host through the router, so every packet between two hosts crosses
# the firewall and the span port (tools/netns/lab-mirror.nft). Windows hosts
# send with TTL 128, Linux hosts with 64. Nothing is routed anywhere else.
# pcaps/lab/README.md describes each scenario and the facts its checks
# assert.
set -euo pipefail

PROG=${0##*/}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HELPERS=$HERE/netns
# shellcheck source=netns/common.sh
source "$HELPERS/common.sh"

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
    sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi

OUT=${1:-$HERE/../pcaps/lab}
shift || true
PYTHON=${PYTHON:-/usr/bin/python3}
ALL_SCENARIOS=(hyworks-single-node hyworks-ha-ad hyworks-hysecure pcoip-sg-bypass psw-proxy-idle
    psw-fw-reset applayering-vsphere)
SCENARIOS=("$@")
[[ ${#SCENARIOS[@]} -gt 0 ]] || SCENARIOS=("${ALL_SCENARIOS[@]}")
MAX_PCAP_BYTES=300000

preflight ip ethtool nft tcpdump tshark nginx ss sysctl openssl

TAG=fl-$$
NS_R=$TAG-r
NS_T=$TAG-tap
HOSTS=()
WINDOWS=128
LINUX=64

WORK=$(mktemp -d /tmp/fa-lab.XXXXXX)
PIDS=()
CAP_NS=$NS_T
CAP_IF=tap0
DECODE=()
NGINX_SUBST=()

# ---- topology ------------------------------------------------------------

topology_up() {
    ns_init "$NS_R"
    ns_init "$NS_T"
    ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1
    # The span link: copies leave the router on span0 and arrive on tap0,
    # in a namespace with no address and no forwarding, where they stop.
    ip -n "$NS_R" link add span0 address 02:fa:10:ff:00:01 type veth \
        peer name tap0 address 02:fa:10:ff:00:02 netns "$NS_T"
    ip netns exec "$NS_R" ethtool -K span0 tx off >/dev/null
    ip -n "$NS_R" link set span0 up
    ip -n "$NS_T" link set tap0 up
    ip -n "$NS_R" addr add 192.0.2.253/30 dev span0
    ip -n "$NS_R" neigh replace 192.0.2.254 lladdr 02:fa:10:ff:00:02 nud permanent dev span0
    ip netns exec "$NS_R" nft -f "$HELPERS/lab-mirror.nft"
}

# host NAME TTL ADDR...: a host namespace $TAG-NAME with a veth to the
# router (r-NAME there), /32 addresses and routes to the three prefixes via
# the router. Fixed MACs and permanent neighbour entries: no ARP.
host() {
    local name=$1 ttl=$2 ns=$TAG-$1 idx hmac rmac a gw prefix
    shift 2
    HOSTS+=("$ns")
    idx=${#HOSTS[@]}
    hmac=$(printf '02:fa:10:00:00:%02x' "$idx")
    rmac=$(printf '02:fa:10:01:00:%02x' "$idx")
    ns_init "$ns"
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_default_ttl="$ttl"
    # Classic exponential SYN backoff (1 s, 2 s, 4 s) on every kernel.
    if [[ -e /proc/sys/net/ipv4/tcp_syn_linear_timeouts ]]; then
        ip netns exec "$ns" sysctl -qw net.ipv4.tcp_syn_linear_timeouts=0
    fi
    ip -n "$ns" link add eth0 address "$hmac" type veth peer name "r-$name" address "$rmac" netns "$NS_R"
    ip netns exec "$ns" ethtool -K eth0 tx off >/dev/null
    ip netns exec "$NS_R" ethtool -K "r-$name" tx off >/dev/null
    ip -n "$ns" link set eth0 up
    ip -n "$NS_R" link set "r-$name" up
    gw=${1%.*}.1
    ip -n "$NS_R" addr add "$gw/32" dev "r-$name"
    for a in "$@"; do
        ip -n "$ns" addr add "$a/32" dev eth0
        ip -n "$NS_R" route add "$a/32" dev "r-$name"
        ip -n "$NS_R" neigh replace "$a" lladdr "$hmac" nud permanent dev "r-$name"
    done
    ip -n "$ns" neigh replace "$gw" lladdr "$rmac" nud permanent dev eth0
    for prefix in 192.0.2.0/24 198.51.100.0/24 203.0.113.0/24; do
        ip -n "$ns" route add "$prefix" via "$gw" dev eth0 onlink
    done
}

topology_down() {
    local p
    for p in "${PIDS[@]}"; do
        stop_pid "$p"
    done
    del_namespaces "${HOSTS[@]}" "$NS_R" "$NS_T"
    HOSTS=()
}

arm_cleanup

# ---- servers, clients, checks ----------------------------------------------

# A throw-away certificate for every TLS listener of the run.
make_cert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -subj /CN=lab.example.net -days 2 -keyout "$WORK/key.pem" \
        -out "$WORK/cert.pem" 2>/dev/null
}

firewall() {
    ip netns exec "$NS_R" nft -f "$HELPERS/$1"
}

# serve HOST ARGS...: tools/netns/matrix.py listeners in HOST's namespace.
serve() {
    local name=$1
    shift
    start_bg "serve-$name" "$TAG-$name" "$PYTHON" "$HELPERS/matrix.py" serve \
        --cert "$WORK/cert.pem" --key "$WORK/key.pem" "$@"
    wait_until 10 "the servers on $name" log_has "serve-$name" listening
}

# probe HOST tcp|udp ARGS...: one matrix.py probe from HOST, in the
# foreground; it fails the run unless its --expect outcome happens.
probe() {
    local name=$1
    shift
    ip netns exec "$TAG-$name" "$PYTHON" "$HELPERS/matrix.py" "$@" >>"$WORK/probes.log" 2>&1 ||
        die "probe from $name failed: $* ($(tail -n 2 "$WORK/probes.log" | tr '\n' ' '))"
}

# session HOST ARGS...: a PCoIP-like session (tools/netns/session.py).
session() {
    local name=$1
    shift
    ip netns exec "$TAG-$name" "$PYTHON" "$HELPERS/session.py" session "$@" >>"$WORK/probes.log" 2>&1 ||
        die "session from $name failed: $* ($(tail -n 2 "$WORK/probes.log" | tr '\n' ' '))"
}

publish() {
    local frames size
    size=$(stat -c %s "$WORK/$CAP_NAME.pcap")
    ((size < MAX_PCAP_BYTES)) || die "$CAP_NAME.pcap is $size bytes, more than $MAX_PCAP_BYTES"
    mkdir -p "$OUT"
    install -m 0644 "$WORK/$CAP_NAME.pcap" "$OUT/$CAP_NAME.pcap"
    frames=$(tcpdump -nn -r "$OUT/$CAP_NAME.pcap" 2>/dev/null | wc -l)
    printf '%-26s %4d frames %7d bytes\n' "$CAP_NAME.pcap" "$frames" "$size"
}

# syn SRC DST PORT: display filter for the TCP SYNs from SRC to DST:PORT
# (not the copies quoted in ICMP errors).
syn() {
    echo "!icmp && ip.src == $1 && ip.dst == $2 && tcp.dstport == $3 && tcp.flags.syn == 1 && tcp.flags.ack == 0"
}

# answered SRC DST PORT: the responder's SYN-ACKs.
synack() {
    echo "!icmp && ip.src == $2 && ip.dst == $1 && tcp.srcport == $3 && tcp.flags.syn == 1 && tcp.flags.ack == 1"
}

# answered_once "SRC DST PORT"...: each connection was tried with exactly
# one SYN and answered with one SYN-ACK.
answered_once() {
    local flow
    for flow in "$@"; do
        # shellcheck disable=SC2086 # three words on purpose
        expect "$(syn $flow)" eq 1
        # shellcheck disable=SC2086
        expect "$(synack $flow)" eq 1
    done
}

# ---- Accops HyWorks ----------------------------------------------------------
# Windows servers: management node 192.0.2.11 (also the management
# console), SQL Server 192.0.2.21, domain controller 192.0.2.5 (AD/LDAP and
# DNS), RDS session host 192.0.2.31; admin PC 198.51.100.10, Workspace
# Client PC 198.51.100.20.

hyworks_dc() {
    host dc "$WINDOWS" 192.0.2.5
    serve dc --tcp 192.0.2.5:389 --tls 192.0.2.5:636 --tcp 192.0.2.5:3268 \
        --udp 192.0.2.5:53
}

scenario_hyworks_single_node() {
    host mgmt1 "$WINDOWS" 192.0.2.11
    host sql "$WINDOWS" 192.0.2.21
    host sh1 "$WINDOWS" 192.0.2.31
    host admin "$WINDOWS" 198.51.100.10
    host client "$WINDOWS" 198.51.100.20
    hyworks_dc
    serve mgmt1 --tls 192.0.2.11:443 --tls 192.0.2.11:38866
    serve sql --tcp 192.0.2.21:1433
    serve sh1 --tls 192.0.2.31:38871 --tls 192.0.2.31:38870 --tcp 192.0.2.31:3389 \
        --tcp 192.0.2.31:38863
    capture_start hyworks-single-node
    # 1. The controller service starts: name lookup, directory, database.
    probe mgmt1 udp --src 192.0.2.11 --sport 53011 --dst 192.0.2.5 --dport 53 \
        --payload "query A sql01.corp.example" --expect reply
    probe mgmt1 tcp --src 192.0.2.11 --sport 50389 --dst 192.0.2.5 --dport 389 --send "LDAP bind" --expect connected
    probe mgmt1 tcp --src 192.0.2.11 --sport 50636 --dst 192.0.2.5 --dport 636 --tls --send "LDAPS bind" --expect connected
    probe mgmt1 tcp --src 192.0.2.11 --sport 53268 --dst 192.0.2.5 --dport 3268 --send "GC search" --expect connected
    probe mgmt1 tcp --src 192.0.2.11 --sport 51433 --dst 192.0.2.21 --dport 1433 --send "TDS prelogin" --expect connected
    # 2. The controller polls the session host (38863 is not polled).
    probe mgmt1 tcp --src 192.0.2.11 --sport 58871 --dst 192.0.2.31 --dport 38871 --tls --send "session info" --expect connected
    probe mgmt1 tcp --src 192.0.2.11 --sport 58870 --dst 192.0.2.31 --dport 38870 --tls --send "load info" --expect connected
    probe mgmt1 tcp --src 192.0.2.11 --sport 53389 --dst 192.0.2.31 --dport 3389 --send "RDP service check" --expect connected
    # 3. The session host reports its status to the controller.
    probe sh1 tcp --src 192.0.2.31 --sport 58866 --dst 192.0.2.11 --dport 38866 --tls --send "session status" --expect connected
    # 4. The admin opens the management console.
    probe admin tcp --src 198.51.100.10 --sport 50443 --dst 192.0.2.11 --dport 443 --tls --send "GET /console" --expect connected
    # 5. A user logs in with the Workspace Client and starts an RDP session.
    probe client tcp --src 198.51.100.20 --sport 52866 --dst 192.0.2.11 --dport 38866 --tls --send "user login" --expect connected
    probe client tcp --src 198.51.100.20 --sport 52389 --dst 192.0.2.31 --dport 3389 --send "RDP session" --expect connected
    sleep 0.5
    capture_stop
    answered_once "192.0.2.11 192.0.2.5 389" "192.0.2.11 192.0.2.5 636" "192.0.2.11 192.0.2.5 3268" \
        "192.0.2.11 192.0.2.21 1433" "192.0.2.11 192.0.2.31 38871" "192.0.2.11 192.0.2.31 38870" \
        "192.0.2.11 192.0.2.31 3389" "192.0.2.31 192.0.2.11 38866" "198.51.100.10 192.0.2.11 443" \
        "198.51.100.20 192.0.2.11 38866" "198.51.100.20 192.0.2.31 3389"
    expect 'tcp.dstport == 38863' eq 0
    expect 'tls.handshake.type == 1' eq 6
    expect 'udp.dstport == 53 && ip.ttl == 127' eq 1
    expect 'udp.srcport == 53 && ip.ttl == 127' eq 1
    expect 'tcp.flags.reset == 1 || icmp' eq 0
    expect 'ip.ttl != 127' eq 0
    expect 'tcp.flags.syn == 1 && tcp.flags.ack == 0' eq 11
}

scenario_hyworks_ha_ad() {
    host mgmt1 "$WINDOWS" 192.0.2.11
    host mgmt2 "$WINDOWS" 192.0.2.12
    host sql "$WINDOWS" 192.0.2.21
    host admin "$WINDOWS" 198.51.100.10
    hyworks_dc
    firewall lab-hyworks-ha.nft
    serve mgmt1 --tls 192.0.2.11:443 --tls 192.0.2.11:38866 --tls 192.0.2.11:38870
    serve mgmt2 --tls 192.0.2.12:38866 --tls 192.0.2.12:38870
    serve sql --tcp 192.0.2.21:1433
    capture_start hyworks-ha-ad
    # 1. Both nodes reach the database and each other (clustering,
    #    monitoring).
    probe mgmt1 tcp --src 192.0.2.11 --sport 51433 --dst 192.0.2.21 --dport 1433 --send "TDS prelogin" --expect connected
    probe mgmt2 tcp --src 192.0.2.12 --sport 51433 --dst 192.0.2.21 --dport 1433 --send "TDS prelogin" --expect connected
    probe mgmt1 tcp --src 192.0.2.11 --sport 58866 --dst 192.0.2.12 --dport 38866 --tls --send "cluster sync" --expect connected
    probe mgmt1 tcp --src 192.0.2.11 --sport 58870 --dst 192.0.2.12 --dport 38870 --tls --send "monitoring" --expect connected
    probe mgmt2 tcp --src 192.0.2.12 --sport 58866 --dst 192.0.2.11 --dport 38866 --tls --send "cluster sync" --expect connected
    probe mgmt2 tcp --src 192.0.2.12 --sport 58870 --dst 192.0.2.11 --dport 38870 --tls --send "monitoring" --expect connected
    # 2. Directory: node 1 tries LDAPS first, which the firewall drops; it
    #    gives up after 4 s and both nodes use LDAP on 389. Nobody uses
    #    the global catalog (3268).
    probe mgmt1 tcp --src 192.0.2.11 --sport 50636 --dst 192.0.2.5 --dport 636 --timeout 4 --expect timeout
    probe mgmt1 tcp --src 192.0.2.11 --sport 50389 --dst 192.0.2.5 --dport 389 --send "LDAP bind" --expect connected
    probe mgmt2 tcp --src 192.0.2.12 --sport 50389 --dst 192.0.2.5 --dport 389 --send "LDAP bind" --expect connected
    # 3. The admin opens the management console on node 1.
    probe admin tcp --src 198.51.100.10 --sport 50443 --dst 192.0.2.11 --dport 443 --tls --send "GET /console" --expect connected
    sleep 0.5
    capture_stop
    answered_once "192.0.2.11 192.0.2.21 1433" "192.0.2.12 192.0.2.21 1433" "192.0.2.11 192.0.2.12 38866" \
        "192.0.2.11 192.0.2.12 38870" "192.0.2.12 192.0.2.11 38866" "192.0.2.12 192.0.2.11 38870" \
        "192.0.2.11 192.0.2.5 389" "192.0.2.12 192.0.2.5 389" "198.51.100.10 192.0.2.11 443"
    # The dropped LDAPS attempt: the SYN and its retransmissions at +1 s
    # and +3 s, no answer of any kind.
    expect "$(syn 192.0.2.11 192.0.2.5 636)" eq 3
    expect 'tcp.srcport == 636 || icmp' eq 0
    expect 'tcp.port == 3268' eq 0
    expect 'tcp.flags.reset == 1' eq 0
}

# HySecure gateway 203.0.113.40 (Linux appliance) in front of one DVM,
# 192.0.2.61 (Windows); the HySecure client is a user PC on the WAN,
# 198.51.100.50 (Windows). The gateway relays the user's TLS session on 443
# to the DVM's RDP port (tools/netns/session.py relay).
scenario_hyworks_hysecure() {
    host mgmt1 "$WINDOWS" 192.0.2.11
    host sql "$WINDOWS" 192.0.2.21
    host dvm1 "$WINDOWS" 192.0.2.61
    host hysecure "$LINUX" 203.0.113.40
    host user "$WINDOWS" 198.51.100.50
    hyworks_dc
    firewall lab-hyworks-hysecure.nft
    # Written after the rules are loaded: the conntrack sysctls of a
    # namespace exist only once conntrack is in use there.
    ip netns exec "$NS_R" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established=5
    serve mgmt1 --tls 192.0.2.11:443 --tls 192.0.2.11:38866
    serve sql --tcp 192.0.2.21:1433
    serve dvm1 --tls 192.0.2.61:38863 --echo-tls 192.0.2.61:3389
    start_bg relay-hysecure "$TAG-hysecure" "$PYTHON" "$HELPERS/session.py" relay \
        --tcp 203.0.113.40:443=192.0.2.61:3389
    wait_until 10 "the HySecure relay" log_has relay-hysecure relaying
    capture_start hyworks-hysecure
    # 1. The controller: database, directory (LDAP only).
    probe mgmt1 tcp --src 192.0.2.11 --sport 51433 --dst 192.0.2.21 --dport 1433 --send "TDS prelogin" --expect connected
    probe mgmt1 tcp --src 192.0.2.11 --sport 50389 --dst 192.0.2.5 --dport 389 --send "LDAP bind" --expect connected
    # 2. The controller polls the DVM's agent (38863) and checks its RDP
    #    port; the DVM's answers go back on a path the span does not see.
    probe mgmt1 tcp --src 192.0.2.11 --sport 58863 --dst 192.0.2.61 --dport 38863 --tls --send "DVM status" --expect connected
    probe mgmt1 tcp --src 192.0.2.11 --sport 53389 --dst 192.0.2.61 --dport 3389 --send "RDP readiness" --expect connected
    # 3. The HySecure gateway signs the user in against AD and HyWorks.
    probe hysecure tcp --src 203.0.113.40 --sport 40389 --dst 192.0.2.5 --dport 389 --send "LDAP bind user1" --expect connected
    probe hysecure tcp --src 203.0.113.40 --sport 48866 --dst 192.0.2.11 --dport 38866 --tls --send "app list user1" --expect connected
    # 4. The user's desktop session: HySecure client -> gateway 443 ->
    #    DVM 3389. Two exchanges, then 6 s idle (longer than the router's
    #    5 s established timeout); the next input is relayed by the gateway
    #    and dropped by the firewall; the gateway retransmits it.
    start_bg rdp-user "$TAG-user" "$PYTHON" "$HELPERS/session.py" idle \
        --src 198.51.100.50 --sport 50443 --dst 203.0.113.40 --port 443 \
        --messages 2 --idle 6 --wait 30
    local client=$LAST_PID
    wait_until 20 "the input after the idle gap" log_has rdp-user "sent after idle"
    # The gateway's retransmissions go out about 0.2, 0.6, 1.4 and 3 s
    # after the input; 5 s later four or five of them are in the file.
    sleep 5
    capture_stop
    stop_pid "$client"
    log_has rdp-user "reply after idle" && die "hyworks-hysecure: the idle session was not black-holed"
    answered_once "192.0.2.11 192.0.2.21 1433" "192.0.2.11 192.0.2.5 389" "203.0.113.40 192.0.2.5 389" \
        "203.0.113.40 192.0.2.11 38866" "198.51.100.50 203.0.113.40 443"
    # The asymmetric DVM: its SYN-ACKs and everything else it sends to the
    # management node are missing; the node's own packets are there.
    expect "$(syn 192.0.2.11 192.0.2.61 38863)" eq 1
    expect "$(syn 192.0.2.11 192.0.2.61 3389)" eq 1
    expect 'ip.src == 192.0.2.61 && ip.dst == 192.0.2.11' eq 0
    expect 'ip.src == 192.0.2.11 && ip.dst == 192.0.2.61 && tcp.flags.fin == 1' eq 2
    # The gateway's leg to the DVM: one SYN, answered; the input after the
    # idle gap (from 203.0.113.40) sent again at least three times, never
    # acknowledged; no FIN or RST on either leg.
    expect "$(syn 203.0.113.40 192.0.2.61 3389)" eq 1
    expect "$(synack 203.0.113.40 192.0.2.61 3389)" eq 1
    expect 'tcp.analysis.retransmission && ip.src == 203.0.113.40 && tcp.dstport == 3389' ge 3
    expect 'ip.src == 192.0.2.61 && ip.dst == 203.0.113.40 && frame.time_relative > 7' eq 0
    expect '(tcp.port == 443 || (tcp.port == 3389 && ip.addr == 203.0.113.40)) && (tcp.flags.fin == 1 || tcp.flags.reset == 1)' eq 0
    expect 'tcp.port == 636 || tcp.port == 3268 || icmp' eq 0
}

# ---- HP Anyware PCoIP ----------------------------------------------------------
# Connection Manager and Security Gateway on one Linux machine in the DMZ,
# 203.0.113.10; connection broker 192.0.2.50 (Linux); PCoIP agents on two
# Windows desktops 192.0.2.61 and 192.0.2.62; local PCoIP License Server
# 192.0.2.55 (Linux, TCP 7070); DNS on the domain controller 192.0.2.5.
# Clients on the WAN: 198.51.100.30 goes through the Security Gateway,
# 198.51.100.31 reaches its desktop's agent directly.

scenario_pcoip_sg_bypass() {
    host cmsg "$LINUX" 203.0.113.10
    host broker "$LINUX" 192.0.2.50
    host lic "$LINUX" 192.0.2.55
    host agent1 "$WINDOWS" 192.0.2.61
    host agent2 "$WINDOWS" 192.0.2.62
    host dc "$WINDOWS" 192.0.2.5
    host client1 "$WINDOWS" 198.51.100.30
    host client2 "$WINDOWS" 198.51.100.31
    serve dc --udp 192.0.2.5:53
    serve cmsg --tls 203.0.113.10:443
    start_bg relay-cmsg "$TAG-cmsg" "$PYTHON" "$HELPERS/session.py" relay \
        --tcp 203.0.113.10:4172=192.0.2.61:4172 --udp 203.0.113.10:4172=192.0.2.61:4172@203.0.113.10:55000
    wait_until 10 "the Security Gateway relay" log_has relay-cmsg relaying
    serve broker --tls 192.0.2.50:443
    serve lic --tcp 192.0.2.55:7070
    serve agent1 --tls 192.0.2.61:60443 --echo-tls 192.0.2.61:4172 --udp 192.0.2.61:4172
    serve agent2 --tls 192.0.2.62:60443 --echo-tls 192.0.2.62:4172 --udp 192.0.2.62:4172
    capture_start pcoip-sg-bypass
    # 1. The Connection Manager resolves the broker.
    probe cmsg udp --src 203.0.113.10 --sport 41053 --dst 192.0.2.5 --dport 53 \
        --payload "query A broker.corp.example" --expect reply
    # 2. Client 1 logs in through the Connection Manager, which asks the
    #    broker and prepares agent 1; agent 1 takes a license.
    probe client1 tcp --src 198.51.100.30 --sport 50443 --dst 203.0.113.10 --dport 443 --tls --send "POST /pcoip-broker/xml hello" --expect connected
    probe cmsg tcp --src 203.0.113.10 --sport 40443 --dst 192.0.2.50 --dport 443 --tls --send "authenticate user1" --expect connected
    probe cmsg tcp --src 203.0.113.10 --sport 40601 --dst 192.0.2.61 --dport 60443 --tls --send "allocate session" --expect connected
    probe agent1 tcp --src 192.0.2.61 --sport 57070 --dst 192.0.2.55 --dport 7070 --send "license request" --expect connected
    # 3. Client 1's PCoIP session, relayed by the Security Gateway: TCP 4172
    #    control and UDP 4172 media; the gateway's UDP leg leaves from 55000.
    session client1 --src 198.51.100.30 --tcp-sport 50172 --udp-sport 50172 --dst 203.0.113.10 --port 4172 --seconds 2
    # 4. Client 2 is brokered the same way for agent 2...
    probe client2 tcp --src 198.51.100.31 --sport 50443 --dst 203.0.113.10 --dport 443 --tls --send "POST /pcoip-broker/xml hello" --expect connected
    probe cmsg tcp --src 203.0.113.10 --sport 40602 --dst 192.0.2.62 --dport 60443 --tls --send "allocate session" --expect connected
    # ...but its session goes straight to the agent, around the gateway.
    session client2 --src 198.51.100.31 --tcp-sport 50172 --udp-sport 50172 --dst 192.0.2.62 --port 4172 --seconds 2
    sleep 0.5
    capture_stop
    answered_once "198.51.100.30 203.0.113.10 443" "203.0.113.10 192.0.2.50 443" "203.0.113.10 192.0.2.61 60443" \
        "192.0.2.61 192.0.2.55 7070" "198.51.100.30 203.0.113.10 4172" "203.0.113.10 192.0.2.61 4172" \
        "198.51.100.31 203.0.113.10 443" "203.0.113.10 192.0.2.62 60443" "198.51.100.31 192.0.2.62 4172"
    expect 'ip.src == 198.51.100.30 && ip.dst == 203.0.113.10 && udp.dstport == 4172' eq 8
    expect 'ip.src == 203.0.113.10 && ip.dst == 192.0.2.61 && udp.srcport == 55000 && udp.dstport == 4172' eq 8
    expect 'ip.src == 192.0.2.61 && udp.srcport == 4172 && udp.dstport == 55000' eq 8
    expect 'ip.src == 203.0.113.10 && ip.dst == 198.51.100.30 && udp.srcport == 4172' eq 8
    expect 'ip.src == 198.51.100.31 && ip.dst == 192.0.2.62 && udp.dstport == 4172' eq 8
    expect 'ip.src == 192.0.2.62 && ip.dst == 198.51.100.31 && udp.srcport == 4172' eq 8
    expect 'ip.addr == 198.51.100.30 && ip.addr == 192.0.2.61' eq 0
    expect 'ip.addr == 198.51.100.31 && ip.addr == 203.0.113.10 && tcp.port == 4172' eq 0
    expect 'tcp.flags.reset == 1 || icmp' eq 0
}

# ---- Parallels Secure Workspace ---------------------------------------------
# Workspace VM 192.0.2.10 (Linux appliance); domain controller 192.0.2.5
# (Windows: LDAP, DNS, NTP); RDS application server 192.0.2.50 (Windows);
# end user browser 198.51.100.40 (Windows) on the user network.

psw_hosts() {
    host wsvm "$LINUX" 192.0.2.10
    host dc "$WINDOWS" 192.0.2.5
    host rds "$WINDOWS" 192.0.2.50
    host user "$WINDOWS" 198.51.100.40
    serve dc --tcp 192.0.2.5:389 --tls 192.0.2.5:636 --udp 192.0.2.5:53 --udp 192.0.2.5:123
    serve rds --tcp 192.0.2.50:3389
    start_bg ws-server "$TAG-wsvm" "$PYTHON" "$HELPERS/wsdemo.py" server --host 192.0.2.10 --port 80
    wait_listen "$TAG-wsvm" t 192.0.2.10 80
}

# psw_backends: the Workspace VM's own traffic at the start of a capture.
psw_backends() {
    probe wsvm udp --src 192.0.2.10 --sport 40053 --dst 192.0.2.5 --dport 53 \
        --payload "query A dc01.corp.example" --expect reply
    probe wsvm udp --src 192.0.2.10 --sport 40123 --dst 192.0.2.5 --dport 123 \
        --payload "NTP v4 client request" --expect reply
}

scenario_psw_proxy_idle() {
    psw_hosts
    host proxy "$LINUX" 203.0.113.20
    NGINX_SUBST=(-e "s|@LISTEN@|203.0.113.20:443|" -e "s|@CERT@|$WORK/cert.pem|"
        -e "s|@KEY@|$WORK/key.pem|" -e "s|@BACKEND@|192.0.2.10:80|")
    nginx_start nginx-lab-offload.conf.in "$TAG-proxy" 203.0.113.20 443
    capture_start psw-proxy-idle
    # 1. The VM resolves, syncs its clock, binds to LDAP.
    psw_backends
    probe wsvm tcp --src 192.0.2.10 --sport 40389 --dst 192.0.2.5 --dport 389 --send "LDAP bind" --expect connected
    # 2. The user opens the workspace through the SSL offloader (wss on
    #    443, plain ws to the VM's port 80), exchanges two messages, then
    #    stays idle; nginx closes both legs after 5 s.
    start_bg ws-client "$TAG-user" "$PYTHON" "$HELPERS/wsdemo.py" client --tls \
        --host 203.0.113.20 --port 443 --src 198.51.100.40 --sport 50080 \
        --mode await-close --messages 2 --wait 20
    local client=$LAST_PID
    wait_until 10 "the client exchange" log_has ws-client exchanged
    # 3. Meanwhile the user starts a published application (RDP).
    probe wsvm tcp --src 192.0.2.10 --sport 43389 --dst 192.0.2.50 --dport 3389 --send "RDP RemoteApp" --expect connected
    wait_exit "$client" 20
    sleep 0.5
    capture_stop
    log_has ws-client "closed by peer: code=1006" || die "psw-proxy-idle: nginx did not close the idle connection"
    answered_once "192.0.2.10 192.0.2.5 389" "198.51.100.40 203.0.113.20 443" "203.0.113.20 192.0.2.10 80" \
        "192.0.2.10 192.0.2.50 3389"
    expect 'http.request.method == "GET" && ip.dst == 192.0.2.10 && tcp.dstport == 80' eq 1
    expect 'http.response.code == 101 && ip.src == 192.0.2.10' eq 1
    expect 'websocket.opcode == 1 && tcp.port == 80' eq 5
    expect 'websocket.opcode == 8' eq 0
    # About 5 s after the last message nginx closes both legs: a FIN to
    # the VM, and to the browser a close_notify alert and then a FIN. The
    # browser answers with its own close_notify, which reaches a closed
    # socket, so nginx's stack (TTL 63, a real endpoint) resets; when the
    # browser's alert wins the race, the reset replaces nginx's FIN.
    expect 'tcp.flags.fin == 1 && ip.src == 203.0.113.20 && tcp.dstport == 80' eq 1
    expect 'tls.record.content_type == 21 && ip.src == 203.0.113.20' eq 1
    expect '(tcp.flags.fin == 1 || tcp.flags.reset == 1) && ip.src == 203.0.113.20 && tcp.srcport == 443' ge 1
    expect 'tcp.flags.reset == 1 && !(ip.src == 203.0.113.20 && tcp.srcport == 443 && ip.ttl == 63)' eq 0
    expect 'icmp' eq 0
    fin_gap 'ip.src == 203.0.113.20 && tcp.dstport == 80' 'tcp.port == 80 && websocket'
}

# fin_gap FIN-FILTER DATA-FILTER: the FIN matching FIN-FILTER came 4.5 to
# 6.5 s after the last frame matching DATA-FILTER (nginx's 5 s timeout).
fin_gap() {
    local fin last
    fin=$(tshark -n -r "$WORK/$CAP_NAME.pcap" -Y "tcp.flags.fin == 1 && $1" -T fields -e frame.time_relative 2>/dev/null | head -n 1)
    last=$(tshark -n -r "$WORK/$CAP_NAME.pcap" -Y "$2" -T fields -e frame.time_relative 2>/dev/null | tail -n 1)
    awk -v f="$fin" -v l="$last" 'BEGIN { d = f - l; exit !(d > 4.5 && d < 6.5) }' ||
        die "$CAP_NAME.pcap: FIN at $fin s, last data at $last s: not a 5 s idle close"
}

scenario_psw_fw_reset() {
    psw_hosts
    serve wsvm --tls 192.0.2.10:443
    firewall lab-psw-fw.nft
    capture_start psw-fw-reset
    # 1. The VM's own services; LDAPS is refused by ICMP, LDAP works.
    psw_backends
    probe wsvm tcp --src 192.0.2.10 --sport 40636 --dst 192.0.2.5 --dport 636 --tls --expect unreachable
    probe wsvm tcp --src 192.0.2.10 --sport 40389 --dst 192.0.2.5 --dport 389 --send "LDAP bind" --expect connected
    probe wsvm tcp --src 192.0.2.10 --sport 43389 --dst 192.0.2.50 --dport 3389 --send "RDP RemoteApp" --expect connected
    # 2. The browser tries HTTPS first: reset by the firewall.
    probe user tcp --src 198.51.100.40 --sport 50443 --dst 192.0.2.10 --dport 443 --tls --expect refused
    # 3. It falls back to HTTP and opens the WebSocket; two messages, then
    #    idle. 1 s into the idle time the firewall starts resetting the
    #    established connection (a rule inserted mid-session); the client's
    #    next message, 3 s after the last one, gets the reset.
    start_bg ws-client "$TAG-user" "$PYTHON" "$HELPERS/wsdemo.py" client \
        --host 192.0.2.10 --port 80 --src 198.51.100.40 --sport 50080 \
        --mode send-after-idle --messages 2 --idle 3 --wait 10
    local client=$LAST_PID
    wait_until 10 "the client exchange" log_has ws-client exchanged
    sleep 1
    ip netns exec "$NS_R" nft insert rule ip lab_fw forward \
        ip daddr 192.0.2.10 tcp dport 80 ct state established counter reject with tcp reset
    wait_exit "$client" 20
    sleep 0.5
    capture_stop
    log_has ws-client "closed by peer: code=1006" || die "psw-fw-reset: the client was not reset"
    answered_once "192.0.2.10 192.0.2.5 389" "192.0.2.10 192.0.2.50 3389" "198.51.100.40 192.0.2.10 80"
    expect "$(syn 192.0.2.10 192.0.2.5 636)" eq 1
    expect 'icmp.type == 3 && icmp.code == 13 && ip.src == 192.0.2.1 && ip.dst == 192.0.2.10 && ip.ttl == 64' eq 1
    expect '!icmp && tcp.srcport == 636' eq 0
    expect "$(syn 198.51.100.40 192.0.2.10 443)" eq 1
    expect 'tcp.srcport == 443 && tcp.flags.reset == 1 && ip.src == 192.0.2.10 && ip.ttl == 64' eq 1
    expect 'tcp.srcport == 443 && tcp.flags.reset == 0' eq 0
    expect 'http.response.code == 101 && ip.src == 192.0.2.10' eq 1
    expect 'websocket.opcode == 1' eq 6
    expect 'websocket.opcode == 8' eq 0
    # The forged reset: from the VM's address with the router's TTL 64,
    # where the VM's own frames arrive with 63.
    expect 'tcp.port == 80 && tcp.flags.reset == 1' eq 1
    expect 'tcp.srcport == 80 && tcp.flags.reset == 1 && ip.src == 192.0.2.10 && ip.ttl == 64' eq 1
    expect 'tcp.srcport == 80 && tcp.flags.reset == 0 && ip.ttl != 63' eq 0
    expect 'tcp.port == 80 && tcp.flags.fin == 1' eq 0
}

# ---- Citrix App Layering -------------------------------------------------------
# The appliance 192.0.2.80 (Linux) with the vSphere connector; domain
# controller 192.0.2.5 (Windows: LDAPS, DNS, NTP); vCenter 192.0.2.90 and
# an ESXi host 192.0.2.91 (Linux stacks); the layer file share 192.0.2.85
# (Windows, SMB); admin PC 198.51.100.10; on the Internet side the App
# Layering web API 203.0.113.100 and the upgrade media CDN 203.0.113.101.

scenario_applayering_vsphere() {
    host appliance "$LINUX" 192.0.2.80
    host dc "$WINDOWS" 192.0.2.5
    host vcenter "$LINUX" 192.0.2.90
    host esxi "$LINUX" 192.0.2.91
    host files "$WINDOWS" 192.0.2.85
    host admin "$WINDOWS" 198.51.100.10
    host webapi "$LINUX" 203.0.113.100
    host cdn "$LINUX" 203.0.113.101
    firewall lab-applayering.nft
    serve appliance --tls 192.0.2.80:443 --tcp 192.0.2.80:80 --tcp 192.0.2.80:22 \
        --tcp 192.0.2.80:8888 --tls 192.0.2.80:3504
    serve dc --tcp 192.0.2.5:389 --tls 192.0.2.5:636 --udp 192.0.2.5:53 --udp 192.0.2.5:123
    serve vcenter --tls 192.0.2.90:443
    serve esxi --tls 192.0.2.91:443
    serve files --tcp 192.0.2.85:445
    serve webapi --tls 203.0.113.100:443
    serve cdn --tcp 203.0.113.101:80
    capture_start applayering-vsphere
    # 1. The appliance: DNS, time, directory (LDAPS only), its layer share.
    probe appliance udp --src 192.0.2.80 --sport 41053 --dst 192.0.2.5 --dport 53 \
        --payload "query A vcenter.corp.example" --expect reply
    probe appliance udp --src 192.0.2.80 --sport 41123 --dst 192.0.2.5 --dport 123 \
        --payload "NTP v4 client request" --expect reply
    probe appliance tcp --src 192.0.2.80 --sport 40636 --dst 192.0.2.5 --dport 636 --tls --send "LDAPS bind" --expect connected
    probe appliance tcp --src 192.0.2.80 --sport 40445 --dst 192.0.2.85 --dport 445 --send "SMB negotiate" --expect connected
    # 2. The admin: management console (HTTPS), the vSphere connector
    #    (HTTPS 3504), then an SSH attempt that the firewall drops.
    probe admin tcp --src 198.51.100.10 --sport 50443 --dst 192.0.2.80 --dport 443 --tls --send "GET /" --expect connected
    probe admin tcp --src 198.51.100.10 --sport 53504 --dst 192.0.2.80 --dport 3504 --tls --send "vSphere connector config" --expect connected
    probe admin tcp --src 198.51.100.10 --sport 50022 --dst 192.0.2.80 --dport 22 --timeout 4 --expect timeout
    # 3. The connector talks to vCenter and, for the disk transfer, to the
    #    ESXi host.
    probe appliance tcp --src 192.0.2.80 --sport 40443 --dst 192.0.2.90 --dport 443 --tls --send "vSphere API login" --expect connected
    probe appliance tcp --src 192.0.2.80 --sport 40444 --dst 192.0.2.91 --dport 443 --tls --send "datastore upload" --expect connected
    # 4. The appliance calls the App Layering web API, then tries to fetch
    #    upgrade media over plain HTTP: refused by the firewall.
    probe appliance tcp --src 192.0.2.80 --sport 40100 --dst 203.0.113.100 --dport 443 --tls --send "POST /api" --expect connected
    probe appliance tcp --src 192.0.2.80 --sport 40080 --dst 203.0.113.101 --dport 80 --expect refused
    sleep 0.5
    capture_stop
    answered_once "192.0.2.80 192.0.2.5 636" "192.0.2.80 192.0.2.85 445" "198.51.100.10 192.0.2.80 443" \
        "198.51.100.10 192.0.2.80 3504" "192.0.2.80 192.0.2.90 443" "192.0.2.80 192.0.2.91 443" \
        "192.0.2.80 203.0.113.100 443"
    expect 'udp.dstport == 53 || udp.dstport == 123' eq 2
    expect 'udp.srcport == 53 || udp.srcport == 123' eq 2
    expect "$(syn 198.51.100.10 192.0.2.80 22)" eq 3
    expect 'tcp.srcport == 22' eq 0
    expect "$(syn 192.0.2.80 203.0.113.101 80)" eq 1
    expect 'tcp.srcport == 80 && tcp.flags.reset == 1 && ip.src == 203.0.113.101 && ip.ttl == 64' eq 1
    expect 'tcp.srcport == 80 && tcp.flags.reset == 0' eq 0
    expect 'tcp.flags.reset == 1' eq 1
    expect 'tcp.port == 389 || tcp.port == 80 && ip.addr == 198.51.100.10 || tcp.port == 8888 || icmp' eq 0
}

# ---- main ------------------------------------------------------------------

make_cert
run_scenarios
