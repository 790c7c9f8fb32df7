#!/usr/bin/env bash
# flood-test.sh - flowaudit on a switch while a bounded burst of flows
# arrives: memory stays bounded, the flow cap holds by evicting, and
# periodic reports keep coming during the burst.
#
# Usage: flood-test.sh FLOWAUDIT SRCDIR FA_PCAPGEN   (root; exit 77 = skipped)
#
#   ns inj  inj0 --- veth --- ns sw: bridge br0 (port sw-inj)
#                                    flowaudit -i br0 --max-flows 5000
#
# fa_pcapgen's bench capture (600000 frames, documentation addresses, 98000
# connections with 10000 open at any time) is replayed out of inj0 at PPS
# frames per second (default 60000: 10 s). Under the 5000-flow cap they
# become some 350000 flows, most of them evicted. br0 has no other port and
# sw no address or route: the frames go nowhere past the capture.
#
# Memory ceiling: RSS_LIMIT_MB (default 24). Measured on this flood: 11 MB
# of peak RSS with --max-flows 5000 (records 5000 x 240 B; the rest is
# rules, audit, WebSocket detector, libpcap ring, jansson and libc, all of
# fixed size), and 38 MB with the default cap, which the flood never
# reaches (64000 flows active at the peak). 24 MB is about twice the
# bounded figure and well below the unbounded one.
#
# jq programs are single-quoted on purpose: $name is a jq variable.
# shellcheck source-path=SCRIPTDIR disable=SC2016
set -euo pipefail

FLOWAUDIT=$1
SRC=$2
PCAPGEN=$3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=live/lib.sh
. "$HERE/live/lib.sh"
PPS=${PPS:-60000}
RSS_LIMIT_MB=${RSS_LIMIT_MB:-24}
MAX_FLOWS=5000

require_env sysctl jq
[[ -x $PCAPGEN ]] || skip "no capture generator at $PCAPGEN"
make_work

has_report() {
    grep -q '"type":"report"' "$WORK/flood.ndjson"
}

# hwm_until_exit PID: VmHWM (kB) of PID in HWM_KB, read until PID is gone
# (60 s at most); the last reading is the peak of the whole run.
hwm_until_exit() {
    local v i
    for ((i = 0; i < 1200; i++)); do
        kill -0 "$1" 2>/dev/null || break
        v=$(vm_field "$1" VmHWM 2>/dev/null) || break
        [[ -z $v ]] || HWM_KB=${v%% kB}
        sleep 0.05
    done
}

"$PCAPGEN" bench "$WORK/flood.pcap" --packets 600000 --flows 200000 2>"$WORK/pcapgen.err"

ns_add sw inj
veth inj inj0 sw sw-inj
bridge_add sw br0 sw-inj
# A site whose only inventory host is outside the bench's addresses: every
# flow is out of scope, so each report stays a few hundred records instead
# of listing tens of thousands of undocumented aggregates.
cat >"$WORK/site" <<EOF
site "flowaudit flood test"
product hyworks
role hyworks.mgmt1 192.0.2.254
EOF

start_bg flood sw "$FLOWAUDIT" -i br0 --max-flows "$MAX_FLOWS" --report-interval 1 \
    --rules "$SRC/rules" --site "$WORK/site" -j "$WORK/flood.ndjson"
PID=$LAST_PID
watch flood "$PID"
wait_until 10 "the first periodic report" has_report
expect_eq "$(cat "/proc/$PID/comm")" flowaudit "process measured"

t0=$(date +%s.%N)
start_bg replay inj "$PYTHON" "$HERE/live/replay.py" --iface inj0 --pps "$PPS" --max-seconds 60 \
    "$WORK/flood.pcap"
run_ok replay "$LAST_PID" 90
t1=$(date +%s.%N)
note "$(cat "$WORK/replay.out") (flood from $t0 to $t1)"
# Two more reports after the burst: the process is still serving.
sleep 2
kill -0 "$PID" 2>/dev/null || fail "flowaudit died during the flood"
HWM_KB=0
kill -TERM "$PID"
hwm_until_exit "$PID"
finish "$PID" 60
expect_eq "$RC" 0 "exit status after SIGTERM"

summary=$(grep '^flows ' "$WORK/flood.out") || fail "no flows line in the summary"
note "summary: $summary"
[[ $summary =~ peak\ active\ ([0-9]+)\;\ evicted\ ([0-9]+) ]] || fail "unreadable flows line: $summary"
peak=${BASH_REMATCH[1]}
evicted=${BASH_REMATCH[2]}
((peak <= MAX_FLOWS)) || fail "peak active $peak above --max-flows $MAX_FLOWS"
note "ok: peak active $peak <= $MAX_FLOWS"
((evicted > 0)) || fail "no flow was evicted: the flood did not fill the table"
note "ok: evicted $evicted"
((HWM_KB > 0 && HWM_KB <= RSS_LIMIT_MB * 1024)) ||
    fail "peak RSS ${HWM_KB} kB, ceiling $RSS_LIMIT_MB MB"
note "ok: peak RSS $((HWM_KB / 1024)) MB <= $RSS_LIMIT_MB MB"

grep '"type":"report"' "$WORK/flood.ndjson" >"$WORK/reports.ndjson"
expect_jq "$WORK/reports.ndjson" "at least 5 reports during the flood, one final at the end" \
    '([.[] | select(.window_end >= $t0 and .window_end <= $t1)] | length) >= 5 and
     ([.[] | select(.final)] | length) == 1 and .[-1].final' \
    --argjson t0 "$t0" --argjson t1 "$t1"
expect_jq "$WORK/reports.ndjson" "the capture saw the flood (over 100000 frames received)" \
    '.[-1].capture.received > 100000'
note "capture counters at the end: $(jq -c '.capture' <<<"$(tail -n 1 "$WORK/reports.ndjson")")"
jq -r '.seq' "$WORK/flood.ndjson" | awk 'NR - 1 != $1 { exit 1 }' ||
    fail "flood.ndjson: seq numbers not 0..n-1 in order"
note "ok: $(wc -l <"$WORK/flood.ndjson") records, seq numbers 0..n-1 in order"
note "passed"
