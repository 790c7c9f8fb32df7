# procs.sh - background-process bookkeeping shared by tools/netns-captures.sh
# and the live integration tests (tests/integration/live/lib.sh). Sourced by
# bash; the caller keeps the pids it started in the array PIDS.

forget_pid() {
    local keep=() p
    for p in "${PIDS[@]}"; do
        [[ $p == "$1" ]] || keep+=("$p")
    done
    PIDS=("${keep[@]}")
}

# stop_pid PID [SIGNAL]: signal one of our children, escalate to KILL after
# five seconds, and reap it.
stop_pid() {
    local pid=$1 sig=${2:-TERM} i
    kill -"$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
}
