#!/bin/sh
# bench.sh - flowaudit's offline throughput as a ratio to a bare libpcap read
# loop (fa_readfloor) on the same large generated capture, plus its peak
# memory. See docs/benchmark.md.
#
#   tools/bench.sh [BUILD_DIR] [RUNS]        (defaults: build, 5)
# Environment: BENCH_PCAP (default /tmp/flowaudit-bench.pcap), BENCH_ARGS
# (extra fa_pcapgen bench options), FLOWAUDIT_ARGS (extra flowaudit options).
set -eu
build=${1:-build}
runs=${2:-5}
pcap=${BENCH_PCAP:-/tmp/flowaudit-bench.pcap}
gen=$build/tools/fa_pcapgen floor=$build/tools/fa_readfloor fa=$build/flowaudit
for exe in "$gen" "$floor" "$fa"; do
    [ -x "$exe" ] || { echo "bench.sh: $exe missing; build first" >&2; exit 2; }
done
[ -f "$pcap" ] || "$gen" bench "$pcap" ${BENCH_ARGS:-}

# The run with the median wall-clock time of a command over $runs runs
# (after one warm-up run that fills the page cache): wall seconds, CPU
# seconds (user + system, all threads), peak RSS in KiB.
median() {
    "$@" >/dev/null 2>&1
    i=0
    while [ $i -lt "$runs" ]; do
        /usr/bin/time -f "%e %U %S %M" -o /tmp/bench.time.$$ "$@" >/dev/null 2>&1
        awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' /tmp/bench.time.$$
        i=$((i + 1))
    done | sort -n | awk -v n="$runs" 'NR == int((n + 1) / 2) { print }'
    rm -f /tmp/bench.time.$$
}

set -- $(median "$floor" "$pcap"); floor_s=$1 floor_cpu=$2
set -- $(median "$fa" -q --no-progress ${FLOWAUDIT_ARGS:-} -r "$pcap"); fa_s=$1 fa_cpu=$2 fa_kb=$3
summary=$("$fa" --no-progress ${FLOWAUDIT_ARGS:-} -r "$pcap")
packets=$(echo "$summary" | awk '/^input/ { print $4 }')
peak=$(echo "$summary" | awk '/peak active/ { for (i = 1; i <= NF; i++) if ($i == "active") { sub(";", "", $(i+1)); print $(i+1) } }')
echo "capture      $pcap ($packets packets)"
echo "floor        ${floor_s} s wall, ${floor_cpu} s CPU (fa_readfloor, median of $runs)"
echo "flowaudit    ${fa_s} s wall, ${fa_cpu} s CPU (median of $runs)"
awk -v a="$fa_s" -v b="$floor_s" -v c="$fa_cpu" -v d="$floor_cpu" 'BEGIN {
    printf "ratio        %.2fx the bare read loop (wall clock), %.2fx (CPU time)\n", (b > 0 ? a / b : 0), (d > 0 ? c / d : 0) }'
awk -v kb="$fa_kb" -v n="$peak" 'BEGIN { printf "memory       %d KiB peak RSS, %d flows active at peak\n", kb, n }'
echo "$summary" | grep "memory"
