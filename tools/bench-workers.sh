#!/bin/bash
# bench-workers.sh - live capture with --workers 1, 2, 4 on the bench
# capture replayed as fast as tcpreplay can into a veth in a throw-away
# network namespace: packets sent, received and dropped by the kernel
# (in total and per capture thread), and flowaudit's CPU time. See
# docs/benchmark.md, section 8. Root; needs tcpreplay.
#
#   tools/bench-workers.sh [BUILD_DIR] [RUNS] [WORKERS...]
#                                    (defaults: build, 3, "1 2 4")
# Environment: BENCH_PCAP (default /tmp/flowaudit-bench.pcap, made by
# fa_pcapgen bench when absent), FLOWAUDIT_ARGS (extra flowaudit options).
set -euo pipefail
build=${1:-build}
runs=${2:-3}
shift 2 2>/dev/null || shift $#
workers=("$@")
[[ ${#workers[@]} -gt 0 ]] || workers=(1 2 4)
pcap=${BENCH_PCAP:-/tmp/flowaudit-bench.pcap}
fa=$build/flowaudit
[[ $(id -u) -eq 0 ]] || { echo "bench-workers.sh: needs root (network namespaces)" >&2; exit 2; }
command -v tcpreplay >/dev/null || { echo "bench-workers.sh: needs tcpreplay" >&2; exit 2; }
[[ -x $fa ]] || { echo "bench-workers.sh: $fa missing; build first" >&2; exit 2; }
[[ -f $pcap ]] || "$build/tools/fa_pcapgen" bench "$pcap"

ns=fa-bench-$$
tmp=$(mktemp -d)
cleanup() {
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add x0 type veth peer name x1
ip -n "$ns" link set x0 up
ip -n "$ns" link set x1 up
# Read once so that tcpreplay reads from the page cache.
cat "$pcap" >/dev/null

echo "workers run sent received dropped tcpreplay_pps flowaudit_cpu_s per_thread_received/dropped"
for n in "${workers[@]}"; do
    for ((r = 1; r <= runs; r++)); do
        # shellcheck disable=SC2086
        ip netns exec "$ns" /usr/bin/time -f "%U %S" -o "$tmp/time" \
            "$fa" -i x1 --workers "$n" --no-progress ${FLOWAUDIT_ARGS:-} >"$tmp/out" 2>"$tmp/err" &
        pid=$!
        for ((i = 0; i < 100; i++)); do
            grep -qs "capturing on" "$tmp/err" && break
            sleep 0.1
        done
        ip netns exec "$ns" tcpreplay --topspeed -i x0 "$pcap" >"$tmp/replay" 2>&1
        sleep 2
        pkill -INT -P "$pid" 2>/dev/null || kill -INT "$pid"
        wait "$pid" || true
        sent=$(sed -n 's/^Actual: \([0-9]*\) packets.*/\1/p' "$tmp/replay")
        pps=$(sed -n 's/^Rated: .*, \([0-9.]*\) pps.*/\1/p' "$tmp/replay")
        read -r rcv drop < <(sed -n 's/^capture   received \([0-9]*\), dropped \([0-9]*\),.*/\1 \2/p' "$tmp/out")
        cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$tmp/time")
        threads=$(sed -n 's/^  worker [0-9]*: .*kernel received \([0-9]*\), dropped \([0-9]*\),.*/\1\/\2/p' "$tmp/out" |
                  tr '\n' ' ')
        echo "$n $r $sent $rcv $drop $pps $cpu ${threads:--}"
    done
done
