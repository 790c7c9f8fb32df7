#!/bin/sh
# json-fifo-test.sh - -j into a FIFO whose reader has stopped reading: the
# run waits, as a blocked write would, and SIGINT still ends it at once,
# with exit status 2 and "write failed" (the records cannot all have gone
# out). Then the same FIFO read to the end by cat: everything arrives,
# every line whole, seq without a gap.
#
#   json-fifo-test.sh FLOWAUDIT FA_PCAPGEN
set -eu
[ $# -eq 2 ] || { echo "usage: $0 FLOWAUDIT FA_PCAPGEN" >&2; exit 2; }
flowaudit=$1 gen=$2
tmp=$(mktemp -d)
holder=
trap '[ -n "$holder" ] && kill "$holder" 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp"
failed=0
# 20,000 flows: about 16 MB of records, far more than the FIFO (64 KiB),
# the writing thread's three 1 MiB blocks and stdio's 1 MiB hold.
"$gen" bench in.pcap --packets 200000 --flows 20000 >/dev/null
mkfifo out.fifo

# A reader that opens the FIFO and never reads; SIGINT after DELAY
# seconds: early, while packets are still read and before the writing
# thread has begun to wait (the stop must not be missed), and late, while
# it waits.
stalled() {
    delay=$1
    sleep 600 <out.fifo &
    holder=$!
    "$flowaudit" -q --no-progress -r in.pcap -j out.fifo 2>err.txt &
    run=$!
    sleep "$delay"
    kill -0 "$run" 2>/dev/null || { echo "SIGINT after $delay s: the run ended before its reader read anything" >&2; failed=1; }
    kill -INT "$run"
    i=0
    while kill -0 "$run" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$run" 2>/dev/null; then
        echo "SIGINT after $delay s did not end a run blocked on its -j FIFO within 5 s" >&2
        kill -KILL "$run"
        failed=1
    fi
    rc=0
    wait "$run" || rc=$?
    [ $rc -eq 2 ] || { echo "SIGINT after $delay s: exit $rc, want 2" >&2; failed=1; }
    [ "$(cat err.txt)" = "flowaudit: out.fifo: write failed" ] ||
        { echo "SIGINT after $delay s: stderr '$(cat err.txt)'" >&2; failed=1; }
    kill "$holder" 2>/dev/null || true
    wait "$holder" 2>/dev/null || true
    holder=
}
stalled 0.05
stalled 2

# A reader that reads everything, slowly at first.
(sleep 1; cat out.fifo >got.ndjson) &
reader=$!
rc=0
"$flowaudit" -q --no-progress -r in.pcap -j out.fifo 2>err.txt || rc=$?
wait "$reader"
[ $rc -eq 0 ] || { echo "read run: exit $rc, stderr '$(cat err.txt)'" >&2; failed=1; }
python3 - got.ndjson <<'PY' || failed=1
import json, sys
seqs = [json.loads(line)["seq"] for line in open(sys.argv[1])]
if not seqs or seqs != list(range(len(seqs))):
    sys.exit("read run: %d records, seq not 0..n-1" % len(seqs))
if not any(json.loads(l)["type"] == "flow" for l in open(sys.argv[1])):
    sys.exit("read run: no flow record")
PY
[ "$failed" = 0 ] && echo "json-fifo: a stalled -j reader is left on SIGINT, a slow one gets every record"
exit "$failed"
