# lib.sh - shared by the live integration tests (sourced, not run): skip
# checks, throw-away network namespaces, background processes, NDJSON
# checks, and a cleanup that removes everything the test made, whether it
# passed, failed or was interrupted.
#
# The sourcing script gets TAG (fa-PID, the prefix of every namespace it
# makes), WORK (a private temporary directory), PYTHON and the functions
# below. Namespaces are named "$TAG-SHORT"; functions take SHORT.

PROG=${0##*/}
TAG=fa-$$
PYTHON=${PYTHON:-/usr/bin/python3}
WORK=
NAMESPACES=()
PIDS=()
WATCHED=()
LAST_PID=
RC=

note() {
    echo "$PROG: $*"
}

skip() {
    echo "$PROG: SKIP: $*"
    exit 77
}

fail() {
    echo "$PROG: FAIL: $*" >&2
    exit 1
}

# require_env PROGRAM...: skip (77) unless running as root where network
# namespaces can be made, every PROGRAM is installed and PYTHON runs (the
# system one by default: python3-websockets is installed for it).
require_env() {
    local p
    [[ $(id -u) -eq 0 ]] || skip "needs root: it makes network namespaces, veths and bridges"
    for p in ip "$@"; do
        command -v "$p" >/dev/null 2>&1 || skip "missing program: $p"
    done
    "$PYTHON" -c '' 2>/dev/null || skip "no Python at $PYTHON (set PYTHON=)"
    ip netns list >/dev/null 2>&1 || skip "ip netns is not available"
    # Listing works in places (unprivileged containers) where making one
    # does not: try it.
    ip netns add "$TAG-probe" 2>/dev/null || skip "cannot create a network namespace here"
    ip netns del "$TAG-probe"
}

require_python_module() {
    "$PYTHON" -c "import $1" 2>/dev/null || skip "$PYTHON cannot import $1"
}

# ---- processes -------------------------------------------------------------

# shellcheck source=../../../tools/netns/procs.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../tools/netns" && pwd)/procs.sh"

# start_bg NAME NS CMD...: run CMD in namespace NS in the background with
# stdout in $WORK/NAME.out and stderr in $WORK/NAME.err; pid in LAST_PID.
# ip netns exec execs CMD, so the pid is CMD's own.
start_bg() {
    local name=$1 ns=$2
    shift 2
    ip netns exec "$TAG-$ns" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
}

# watch NAME PID: from now on, until unwatch PID or finish PID, every wait
# fails at once if the process started as NAME has exited, quoting its
# stderr.
watch() {
    WATCHED+=("$1:$2")
}

# unwatch PID...: before stopping processes on purpose.
unwatch() {
    local keep=() w p gone
    for w in "${WATCHED[@]}"; do
        gone=
        for p in "$@"; do
            [[ ${w#*:} == "$p" ]] && gone=1
        done
        [[ -n $gone ]] || keep+=("$w")
    done
    WATCHED=("${keep[@]}")
}

check_watched() {
    local w
    for w in "${WATCHED[@]}"; do
        kill -0 "${w#*:}" 2>/dev/null ||
            fail "${w%%:*} exited early: $(tail -n 3 "$WORK/${w%%:*}.err" | tr '\n' ' ')"
    done
}

# wait_until SECONDS WHAT CMD...: poll CMD every 0.1 s, fail on timeout.
wait_until() {
    local limit=$1 what=$2 i
    shift 2
    for ((i = 0; i < limit * 10; i++)); do
        "$@" 2>/dev/null && return 0
        check_watched
        sleep 0.1
    done
    fail "timed out after ${limit}s waiting for $what"
}

exited() {
    ! kill -0 "$1" 2>/dev/null
}

# finish PID SECONDS: wait for a process to exit on its own; its exit
# status is left in RC.
finish() {
    local pid=$1
    unwatch "$pid"
    wait_until "$2" "pid $pid to exit" exited "$pid"
    RC=0
    wait "$pid" || RC=$?
    forget_pid "$pid"
}

# run_ok NAME PID SECONDS: finish a helper started as NAME and fail unless
# it exited 0.
run_ok() {
    finish "$2" "$3"
    [[ $RC -eq 0 ]] || fail "$1 exited with status $RC: $(tail -q -n 3 "$WORK/$1.err" "$WORK/$1.out" | tr '\n' ' ')"
}

has_text() {
    grep -q -- "$2" "$WORK/$1"
}

listening() {
    [[ -n $(ip netns exec "$TAG-$1" ss -Hltn src "$2:$3") ]]
}

wait_listen() {
    wait_until 10 "$2:$3 to listen in $TAG-$1" listening "$@"
}

# vm_field PID FIELD: a line of /proc/PID/status without its name.
vm_field() {
    sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"
}

# ---- namespaces ------------------------------------------------------------

# ns_add SHORT...: new namespaces with loopback up and IPv6 off, so no
# router or neighbour solicitation, MLD or DAD traffic reaches a capture.
ns_add() {
    local ns
    for ns in "$@"; do
        ip netns add "$TAG-$ns"
        NAMESPACES+=("$TAG-$ns")
        if [[ -e /proc/sys/net/ipv6/conf/default/disable_ipv6 ]]; then
            ip netns exec "$TAG-$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
                net.ipv6.conf.default.disable_ipv6=1
        fi
        ip -n "$TAG-$ns" link set lo up
    done
}

# veth NS1 IF1 NS2 IF2: a veth pair between two namespaces, both ends up.
veth() {
    ip -n "$TAG-$1" link add "$2" type veth peer name "$4" netns "$TAG-$3"
    ip -n "$TAG-$1" link set "$2" up
    ip -n "$TAG-$3" link set "$4" up
}

# bridge_add NS BRIDGE PORT...: a bridge over existing interfaces of NS;
# no STP, so ports forward at once, and no multicast snooping, whose IGMP
# reports (the bridge joining 224.0.0.106) would show up in captures.
bridge_add() {
    local ns=$1 br=$2 port
    shift 2
    ip -n "$TAG-$ns" link add "$br" type bridge stp_state 0 mcast_snooping 0
    for port in "$@"; do
        ip -n "$TAG-$ns" link set "$port" master "$br"
    done
    ip -n "$TAG-$ns" link set "$br" up
}

# ---- NDJSON checks -----------------------------------------------------------

# q FILE ARGS...: jq over the whole file as one array, raw output.
q() {
    local f=$1
    shift
    jq -s -r "$@" "$f"
}

expect_eq() {
    [[ $1 == "$2" ]] || fail "$3: got '$1', expected '$2'"
    note "ok: $3 = $2"
}

# expect_jq FILE WHAT FILTER [JQ ARGS]: FILTER over the array of records
# must give true.
expect_jq() {
    local f=$1 what=$2 filter=$3
    shift 3
    jq -s -e "$@" "$filter" "$f" >/dev/null || fail "$what (jq: $filter)"
    note "ok: $what"
}

# seq_check FILE: every record has seq, numbered 0, 1, 2... in file order,
# and validates against docs/ndjson.schema.json (the live records, report
# and config_reload, are written only here).
seq_check() {
    expect_jq "$1" "$(basename "$1"): seq numbers 0..n-1 in order, none missing" \
        'length > 0 and ([.[].seq] == [range(0; length)])'
    python3 "$SRC/tests/golden/check-schema.py" --files "$SRC" "$1" >&2 ||
        fail "$(basename "$1"): records that do not fit docs/ndjson.schema.json"
    note "ok: $(basename "$1"): every record fits the schema"
}

# ---- cleanup -----------------------------------------------------------------

show_logs() {
    local f
    for f in "$WORK"/*.out "$WORK"/*.err; do
        [[ -s $f ]] || continue
        echo "---- ${f##*/} (last 15 lines)"
        tail -n 15 "$f"
    done
}

cleanup() {
    local rc=$? p ns pid
    trap - EXIT INT TERM
    set +e
    for p in "${PIDS[@]}"; do
        stop_pid "$p"
    done
    for ns in "${NAMESPACES[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null
        done
        ip netns del "$ns" 2>/dev/null
    done
    if [[ -n $WORK ]]; then
        [[ $rc -eq 0 || $rc -eq 77 ]] || show_logs
        rm -rf "$WORK"
    fi
    exit "$rc"
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# make_work: the private directory; after require_env so a skip leaves
# nothing behind.
make_work() {
    WORK=$(mktemp -d /tmp/fa-live.XXXXXX)
}
