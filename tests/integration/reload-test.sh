#!/usr/bin/env bash
# reload-test.sh - a reload that takes long to read its files does not
# stop live capture, and the drop counters stay true across it.
#
# Usage: reload-test.sh FLOWAUDIT SRCDIR FA_PCAPGEN   (root; exit 77 = skipped)
#
#   ns inj  inj0 --- veth --- ns cap  cap0
#                                     flowaudit -i cap0
#
# The rules directory holds the shipped rules and BIG files of some 15 MB
# of comments and one rule each, which take flowaudit a few tenths of a
# second or more to read (measured with --check-rules first). While fa_pcapgen's bench
# capture is replayed at PPS frames a second, SIGHUP starts a reload and,
# 0.05 s later, SIGUSR1 asks for a report (the files must take at least
# 0.25 s to read, so the report is asked for well inside the reload):
#
# - the report must be written before the reload's config_reload record:
#   capture and its timers go on while the files are read (a reload read
#   in the capture loop would answer SIGUSR1 only after it);
# - after SIGTERM, the packets flowaudit processed and those libpcap
#   counted as dropped must together be at least the frames sent: a
#   packet lost while the reload ran must show in the summary.
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
PPS=${PPS:-20000}
BIG=${BIG:-16}  # at most 27: one product each, 32 products in all

require_env jq
[[ -x $PCAPGEN ]] || skip "no capture generator at $PCAPGEN"
make_work

has_records() {
    [[ $(jq -s --arg t "$1" '[.[] | select(.type == $t)] | length' "$WORK/r.ndjson") -ge $2 ]]
}

capturing() {
    [[ $(cat "/proc/$1/comm") == flowaudit ]] && find "/proc/$1/fd" -lname 'socket:*' | grep -q .
}

# big_rules N: a product of its own, one rule, then 15 MB of comments.
big_rules() {
    {
        printf 'product big%d "Big %d"\nrole a "A"\nrole b "B"\n' "$1" "$1"
        printf 'rule BIG%d-1 a -> b tcp %d\n    purpose "p"\n' "$1" "$((40000 + $1))"
        awk 'BEGIN { for (i = 0; i < 220000; i++) print "# a comment line that only takes time to read, as a large file would" }'
    } >"$WORK/rules/big$1.rules"
}

"$PCAPGEN" bench "$WORK/bench.pcap" --packets 80000 --flows 4000 2>"$WORK/pcapgen.err"
cp -r "$SRC/rules" "$WORK/rules"
for ((i = 0; i < BIG; i++)); do
    big_rules "$i"
done
cat >"$WORK/site" <<EOF
site "flowaudit reload test"
product hyworks
role hyworks.mgmt1 192.0.2.254
EOF
t0=$(date +%s.%N)
"$FLOWAUDIT" --check-rules "$WORK/rules" >/dev/null
load=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
note "the rules directory takes $load s to read"
awk -v l="$load" 'BEGIN { exit !(l >= 0.25) }' || skip "the rules load in $load s: too fast to see a stall (raise BIG)"

ns_add inj cap
veth inj inj0 cap cap0
start_bg audit cap "$FLOWAUDIT" -i cap0 --rules "$WORK/rules" --site "$WORK/site" -j "$WORK/r.ndjson"
PID=$LAST_PID
watch audit "$PID"
wait_until 20 "flowaudit to open cap0" capturing "$PID"

start_bg replay inj "$PYTHON" "$HERE/live/replay.py" --iface inj0 --pps "$PPS" --max-seconds 30 \
    "$WORK/bench.pcap"
REPLAY=$LAST_PID
sleep 1
kill -HUP "$PID"
sleep 0.05
kill -USR1 "$PID"
wait_until 20 "the config_reload record" has_records config_reload 1
run_ok replay "$REPLAY" 60
sent=$(sed -n 's/^sent \([0-9]*\) frames.*/\1/p' "$WORK/replay.out")
note "$(cat "$WORK/replay.out")"
sleep 1
kill -TERM "$PID"
finish "$PID" 30
expect_eq "$RC" 0 "exit status after SIGTERM"

expect_jq "$WORK/r.ndjson" "the reload succeeded" '[.[] | select(.type == "config_reload")][0].ok'
# The first report is SIGUSR1's; the reload's own report (the window
# closed under the old rules) comes right before its config_reload record.
expect_jq "$WORK/r.ndjson" "SIGUSR1's report written while the reload read its files" \
    '[.[] | select(.type == "report" or .type == "config_reload") | .type] | .[0:3] == ["report", "report", "config_reload"]'

input=$(grep '^input ' "$WORK/audit.out") || fail "no input line in the summary"
capture=$(grep '^capture ' "$WORK/audit.out") || fail "no capture line in the summary"
note "summary: $input; $capture"
[[ $input =~ live\ capture,\ ([0-9]+)\ packets ]] || fail "unreadable input line: $input"
processed=${BASH_REMATCH[1]}
[[ $capture =~ dropped\ ([0-9]+),\ if_dropped\ ([0-9]+) ]] || fail "unreadable capture line: $capture"
dropped=${BASH_REMATCH[1]}
if_dropped=${BASH_REMATCH[2]}
[[ -n $sent ]] || fail "replay.py did not say how many frames it sent"
((processed + dropped + if_dropped >= sent)) ||
    fail "$sent frames sent, $processed processed and $((dropped + if_dropped)) counted as dropped"
note "ok: $sent frames sent, $processed processed, $dropped + $if_dropped dropped"
note "passed"
