# common.sh - helpers shared by tools/netns-captures.sh and
# tools/netns-lab.sh: background processes, namespaces, tcpdump captures and
# tshark checks. Sourced by bash. The caller defines PROG, WORK (a scratch
# directory), PIDS (an array), CAP_NS and CAP_IF (where tcpdump listens),
# DECODE (extra tshark -d options, may be empty) and NGINX_SUBST (extra sed
# expressions for nginx templates, may be empty).

# shellcheck shell=bash source-path=SCRIPTDIR
# shellcheck source=procs.sh
source "$(dirname "${BASH_SOURCE[0]}")/procs.sh"

LAST_PID=
CAP_PID=
CAP_NAME=

die() {
    echo "$PROG: $*" >&2
    exit 1
}

# start_bg NAME NS CMD...: run CMD inside NS in the background, output to
# $WORK/NAME.log; its pid is left in LAST_PID.
start_bg() {
    local name=$1 ns=$2
    shift 2
    ip netns exec "$ns" "$@" >"$WORK/$name.log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}

# wait_until SECONDS WHAT CMD...: poll CMD every 0.1 s.
wait_until() {
    local limit=$1 what=$2 i
    shift 2
    for ((i = 0; i < limit * 10; i++)); do
        "$@" 2>/dev/null && return 0
        sleep 0.1
    done
    die "timed out after ${limit}s waiting for $what"
}

listening() {
    local ns=$1 proto=$2 addr=$3 port=$4
    [[ -n $(ip netns exec "$ns" ss -Hln "-$proto" src "$addr:$port") ]]
}

# wait_listen NS t|u ADDR PORT
wait_listen() {
    wait_until 10 "$3:$4/$2 to listen in $1" listening "$@"
}

exited() {
    ! kill -0 "$1" 2>/dev/null
}

# wait_exit PID SECONDS: wait for a client to finish on its own and fail
# the run if it does not, or if it exits non-zero.
wait_exit() {
    local pid=$1 rc=0
    wait_until "$2" "pid $pid to exit" exited "$pid"
    wait "$pid" || rc=$?
    forget_pid "$pid"
    [[ $rc -eq 0 ]] || die "client pid $pid exited with status $rc"
}

log_has() {
    grep -q -- "$2" "$WORK/$1.log"
}

# ns_init NS: a new namespace with lo up and without IPv6, so there are
# no router/neighbour solicitations or MLD in the captures.
ns_init() {
    ip netns add "$1"
    if [[ -e /proc/sys/net/ipv6/conf/default/disable_ipv6 ]]; then
        ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
            net.ipv6.conf.default.disable_ipv6=1
    fi
    ip -n "$1" link set lo up
}

# del_namespaces NS...: kill whatever still runs in them and delete them
# (their veths and bridges go with them).
del_namespaces() {
    local ns pid
    for ns in "$@"; do
        [[ -e /run/netns/$ns ]] || continue
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null || true
        done
        ip netns del "$ns" 2>/dev/null || true
    done
}

# nginx_start TEMPLATE NS ADDR PORT: run nginx in the foreground of a
# private prefix so nothing under /etc or /var is touched. @RUNDIR@ and
# the caller's NGINX_SUBST expressions are substituted in TEMPLATE.
nginx_start() {
    local rundir=$WORK/${1%.conf.in}
    mkdir -p "$rundir"
    sed -e "s|@RUNDIR@|$rundir|g" "${NGINX_SUBST[@]}" \
        "$HELPERS/$1" >"$rundir/nginx.conf"
    start_bg "${1%.conf.in}" "$2" nginx -p "$rundir" -e "$rundir/error.log" \
        -c "$rundir/nginx.conf" -g 'daemon off;'
    wait_listen "$2" t "$3" "$4"
}

capture_start() {
    CAP_NAME=$1
    start_bg "tcpdump-$1" "$CAP_NS" tcpdump -i "$CAP_IF" -s 262144 -U --immediate-mode -n -Z root \
        -w "$WORK/$1.pcap"
    CAP_PID=$LAST_PID
    wait_until 10 "tcpdump to start" log_has "tcpdump-$1" "listening on"
}

# capture_stop: SIGINT makes tcpdump flush and close the file.
capture_stop() {
    stop_pid "$CAP_PID" INT
    CAP_PID=
    log_has "tcpdump-$CAP_NAME" "packets captured" || die "tcpdump for $CAP_NAME did not exit cleanly"
}

# expect FILTER OP N: the latest capture has OP (eq, ge) N frames
# matching the tshark display FILTER.
expect() {
    local n ok=0
    n=$(tshark -n -r "$WORK/$CAP_NAME.pcap" "${DECODE[@]}" -Y "$1" 2>/dev/null | wc -l)
    case $2 in
    eq) ((n == $3)) && ok=1 ;;
    ge) ((n >= $3)) && ok=1 ;;
    esac
    ((ok)) || die "$CAP_NAME.pcap: expected $2 $3 frames matching '$1', found $n"
}

# preflight TOOL...: root, the tools, and a Python with websockets.
preflight() {
    local tool
    [[ $(id -u) -eq 0 ]] || die "must be run as root: it creates network namespaces, veth pairs and nftables rules"
    for tool in "$@"; do
        command -v "$tool" >/dev/null || die "missing required tool: $tool"
    done
    "$PYTHON" -c 'import websockets' 2>/dev/null ||
        die "$PYTHON cannot import websockets (apt-get install python3-websockets, or set PYTHON=)"
}

# cleanup (the EXIT trap set by arm_cleanup): stop the capture, call the
# caller's topology_down, remove WORK. With KEEP=DIR in the environment a
# failed run first copies its captures and logs there.
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    set +e
    if [[ -n $CAP_PID ]]; then
        stop_pid "$CAP_PID" INT
    fi
    topology_down
    if [[ $rc -ne 0 && -n ${KEEP:-} ]]; then
        cp "$WORK"/*.pcap "$WORK"/*.log "$KEEP"/ 2>/dev/null
    fi
    rm -rf "$WORK"
    exit "$rc"
}

arm_cleanup() {
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# run_scenarios: check the names in SCENARIOS against ALL_SCENARIOS, then
# for each one build the caller's topology (topology_up), run
# scenario_NAME, publish its capture and take everything down again.
run_scenarios() {
    local s
    for s in "${SCENARIOS[@]}"; do
        printf '%s\n' "${ALL_SCENARIOS[@]}" | grep -qx -- "$s" || die "unknown scenario: $s"
    done
    for s in "${SCENARIOS[@]}"; do
        topology_up
        "scenario_${s//-/_}"
        publish
        topology_down
        rm -f "$WORK"/*.log
    done
}
