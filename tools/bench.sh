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

# One timed run: wall seconds, CPU seconds (user + system, all threads),
# peak RSS in KiB.
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.runs"' EXIT
timed() {
    /usr/bin/time -f "%e %U %S %M" -o "$tmp" "$@" >/dev/null 2>&1
    awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$tmp"
}

# The floor and flowaudit take turns, so that both see the same moments of
# a machine whose speed drifts; each pair gives a ratio, and the medians
# are reported. The first run of the floor only fills the page cache.
"$floor" "$pcap" >/dev/null 2>&1
i=0
while [ $i -lt "$runs" ]; do
    set -- $(timed "$floor" "$pcap"); floor_wall=$1 floor_cpu=$2
    set -- $(timed "$fa" -q --no-progress ${FLOWAUDIT_ARGS:-} -r "$pcap")
    echo "$floor_wall $floor_cpu $1 $2 $3"
    i=$((i + 1))
done >"$tmp.runs"
median() {
    awk "{ print $1 }" "$tmp.runs" | sort -n | awk -v n="$runs" 'NR == int((n + 1) / 2) { print }'
}
floor_s=$(median '$1') floor_cpu=$(median '$2') fa_s=$(median '$3') fa_cpu=$(median '$4') fa_kb=$(median '$5')
wall_ratio=$(median '($1 > 0 ? $3 / $1 : 0)') cpu_ratio=$(median '($2 > 0 ? $4 / $2 : 0)')
summary=$("$fa" --no-progress ${FLOWAUDIT_ARGS:-} -r "$pcap")
packets=$(echo "$summary" | awk '/^input/ { print $4 }')
peak=$(echo "$summary" | awk '/peak active/ { for (i = 1; i <= NF; i++) if ($i == "active") { sub(";", "", $(i+1)); print $(i+1) } }')
echo "capture      $pcap ($packets packets)"
echo "floor        ${floor_s} s wall, ${floor_cpu} s CPU (fa_readfloor, median of $runs)"
echo "flowaudit    ${fa_s} s wall, ${fa_cpu} s CPU (median of $runs)"
awk -v w="$wall_ratio" -v c="$cpu_ratio" -v n="$runs" 'BEGIN {
    printf "ratio        %.2fx the bare read loop (wall clock), %.2fx (CPU time); medians of %d paired runs\n", w, c, n }'
awk -v kb="$fa_kb" -v n="$peak" 'BEGIN { printf "memory       %d KiB peak RSS, %d flows active at peak\n", kb, n }'
echo "$summary" | grep "memory"
