#!/bin/sh
# bench.sh - flowaudit's offline throughput as a ratio to two libpcap read
# loops on the same large generated capture (fa_readfloor: the bare loop,
# and the loop reading through an 8 MiB stdio buffer), plus its peak
# memory. See docs/benchmark.md.
#
#   tools/bench.sh [--audit] [BUILD_DIR] [RUNS]     (defaults: build, 5)
# --audit measures the whole job: --rules rules --site tools/bench.site
# (every host of the capture in the inventory) and NDJSON written to a
# file; without it, flow tracking alone (-q, no rules, no JSON).
# With --audit, Argus (argus -r FILE -w OUT) and softflowd (softflowd -r
# FILE -n HOST:PORT) are timed in the same rounds when both are installed.
# Environment: BENCH_PCAP (default /tmp/flowaudit-bench.pcap), BENCH_ARGS
# (extra fa_pcapgen bench options), FLOWAUDIT_ARGS (extra flowaudit options).
set -eu
audit=no
if [ "${1:-}" = --audit ]; then
    audit=yes
    shift
fi
build=${1:-build}
runs=${2:-5}
pcap=${BENCH_PCAP:-/tmp/flowaudit-bench.pcap}
here=$(cd "$(dirname "$0")" && pwd)
gen=$build/tools/fa_pcapgen floor=$build/tools/fa_readfloor fa=$build/flowaudit
for exe in "$gen" "$floor" "$fa"; do
    [ -x "$exe" ] || { echo "bench.sh: $exe missing; build first" >&2; exit 2; }
done
[ -f "$pcap" ] || "$gen" bench "$pcap" ${BENCH_ARGS:-}

tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.runs" "$tmp.ndjson" "$tmp.argus"' EXIT
fa_args="${FLOWAUDIT_ARGS:-}"
[ $audit = yes ] && fa_args="--rules $here/../rules --site $here/bench.site -j $tmp.ndjson $fa_args"

# One timed run: wall seconds, CPU seconds (user + system, all threads),
# peak RSS in KiB.
timed() {
    /usr/bin/time -f "%e %U %S %M" -o "$tmp" "$@" >/dev/null 2>&1
    awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$tmp"
}

# The floors and flowaudit take turns, so that all three see the same
# moments of a machine whose speed drifts; each round gives two ratios,
# and the medians are reported. The first run only fills the page cache.
"$floor" "$pcap" >/dev/null 2>&1
i=0
while [ $i -lt "$runs" ]; do
    set -- $(timed "$floor" "$pcap"); floor_wall=$1 floor_cpu=$2
    set -- $(timed "$floor" --big-buffer "$pcap"); big_wall=$1 big_cpu=$2
    set -- $(timed "$fa" -q --no-progress $fa_args -r "$pcap")
    fa_wall=$1 fa_cpu=$2 fa_kb=$3
    # Peers that build flows from the same file, when installed: Argus
    # writing its records, softflowd exporting NetFlow to a port nobody
    # listens on (the datagrams are built and sent all the same).
    peers="- - - - - -"
    if [ $audit = yes ] && command -v argus >/dev/null && command -v softflowd >/dev/null; then
        set -- $(timed argus -r "$pcap" -w "$tmp.argus"); argus_wall=$1 argus_cpu=$2 argus_kb=$3
        rm -f "$tmp.argus"
        set -- $(timed softflowd -r "$pcap" -n 127.0.0.1:9); peers="$argus_wall $argus_cpu $argus_kb $1 $2 $3"
    fi
    echo "$floor_wall $floor_cpu $big_wall $big_cpu $fa_wall $fa_cpu $fa_kb $peers"
    i=$((i + 1))
done >"$tmp.runs"
median() {
    awk "{ print $1 }" "$tmp.runs" | sort -n | awk -v n="$runs" 'NR == int((n + 1) / 2) { print }'
}
floor_s=$(median '$1') floor_cpu=$(median '$2') big_s=$(median '$3') big_cpu=$(median '$4')
fa_s=$(median '$5') fa_cpu=$(median '$6') fa_kb=$(median '$7')
wall_ratio=$(median '($1 > 0 ? $5 / $1 : 0)') cpu_ratio=$(median '($2 > 0 ? $6 / $2 : 0)')
big_wall_ratio=$(median '($3 > 0 ? $5 / $3 : 0)') big_cpu_ratio=$(median '($4 > 0 ? $6 / $4 : 0)')
summary=$("$fa" --no-progress $fa_args -r "$pcap" 2>&1 | sed -n '/^input/,$p')
packets=$(echo "$summary" | awk '/^input/ { print $4 }')
peak=$(echo "$summary" | awk '/peak active/ { for (i = 1; i <= NF; i++) if ($i == "active") { sub(";", "", $(i+1)); print $(i+1) } }')
echo "capture      $pcap ($packets packets)"
echo "job          $([ $audit = yes ] && echo "whole audit: --rules, --site tools/bench.site, -j to a file" || echo "flow tracking: -q, no rules, no JSON")"
echo "floor        ${floor_s} s wall, ${floor_cpu} s CPU (fa_readfloor, median of $runs)"
echo "floor 8 MiB  ${big_s} s wall, ${big_cpu} s CPU (fa_readfloor --big-buffer, median of $runs)"
echo "flowaudit    ${fa_s} s wall, ${fa_cpu} s CPU (median of $runs)"
awk -v w="$wall_ratio" -v c="$cpu_ratio" -v bw="$big_wall_ratio" -v bc="$big_cpu_ratio" -v n="$runs" 'BEGIN {
    printf "ratio        %.2fx the bare read loop (wall clock), %.2fx (CPU time)\n", w, c
    printf "ratio 8 MiB  %.2fx the 8 MiB-buffer loop (wall clock), %.2fx (CPU time); medians of %d paired runs\n", bw, bc, n }'
awk -v kb="$fa_kb" -v n="$peak" 'BEGIN { printf "memory       %d KiB peak RSS, %d flows active at peak\n", kb, n }'
if [ "$(median '$8')" != - ]; then
    for peer in "argus 8" "softflowd 11"; do
        set -- $peer
        col=$2
        w=$(median "\$$col") c=$(median "\$$((col + 1))") kb=$(median "\$$((col + 2))")
        r=$(median "(\$3 > 0 ? \$$col / \$3 : 0)")
        awk -v p="$1" -v w="$w" -v c="$c" -v kb="$kb" -v r="$r" 'BEGIN {
            printf "%-12s %s s wall, %s s CPU, %d KiB peak RSS: %.2fx the 8 MiB-buffer loop (wall clock)\n", p, w, c, kb, r }'
    done
fi
echo "$summary" | grep "memory"
