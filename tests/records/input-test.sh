#!/bin/sh
# input-test.sh FLOWAUDIT SRC - flow records as -r input, end to end:
# malformed lines counted and skipped (a line over 64 KiB, a NUL byte, a
# bad port; an IPFIX file cut short), records on standard input, and the
# refusals (mixed inputs,
# -w, a filter, a log that is not conn.log), each with exit status 2.
FA=$1 SRC=$2
LOG=$SRC/tests/records/ras-broken.conn.log
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

{ sed -n '/^#fields/p' "$LOG"
  head -c 70000 /dev/zero | tr '\0' 'x'; echo
  grep -v '^#' "$LOG" | head -n 1 | tr '\n' '\0'; printf 'x\n'
  grep -v '^#' "$LOG" | head -n 1 | sed 's/\t40001\t/\t70000\t/'
  grep -v '^#' "$LOG" | head -n 2; } >"$tmp/bad.log"
"$FA" -r "$tmp/bad.log" >"$tmp/out" 2>&1 || fail "malformed lines: exit $?"
grep -q '2 records; skipped 3 malformed lines or messages' "$tmp/out" || fail "malformed lines not counted: $(tail -n 4 "$tmp/out")"

"$FA" -q -j - -r - <"$LOG" >"$tmp/stdin.json" || fail "stdin: exit $?"
[ "$(grep -c '"evidence":"flow-record"' "$tmp/stdin.json")" = "$(grep -vc '^#' "$LOG")" ] ||
    fail "stdin: not every record read as a flow record"

refuse() {
    what=$1; shift
    "$FA" "$@" >"$tmp/out" 2>&1
    [ $? -eq 2 ] || fail "$what: exit status not 2"
    grep -q "$what" "$tmp/out" || fail "$what: message missing: $(cat "$tmp/out")"
}
refuse "give one kind of input" -r "$LOG" -r "$SRC/pcaps/products/ras-broken.pcap"
refuse "carry no packets to write" -r "$LOG" -w "$tmp/ev.pcap"
refuse "selects packets" -r "$LOG" tcp port 80
printf '#separator \\x09\n#path\tdns\n' >"$tmp/dns.log"
refuse "dns.log:2: a Zeek dns log, not conn" -r "$tmp/dns.log"
# IPFIX cut anywhere: the messages before the cut are read, the cut one is
# counted, nothing is read past the end.
IPFIX=$SRC/tests/records/ras-broken.ipfix
for n in 1 16 20 100 408 409 1000 5000 6959; do
    head -c $n "$IPFIX" >"$tmp/cut.ipfix"
    "$FA" -r "$tmp/cut.ipfix" >"$tmp/out" 2>&1
    rc=$?
    [ $rc -le 2 ] || fail "IPFIX cut at $n: exit $rc"
done
head -c 5000 "$IPFIX" >"$tmp/cut.ipfix"
"$FA" -r "$tmp/cut.ipfix" >"$tmp/out" 2>&1 || fail "IPFIX cut at 5000: exit $?"
grep -q 'records; skipped 1 malformed' "$tmp/out" || fail "IPFIX cut message not counted: $(tail -n 6 "$tmp/out")"
# The HTML report says, as the text report does, that its verdicts come
# from flow records, and that ras-broken.ipfix's uniflows were joined (53
# of its 110 records' connections have both directions, in ipfixDump's
# output counted by hand).
"$FA" -q -r "$IPFIX" --rules "$SRC/rules" --site "$SRC/sites/ras.site" --html "$tmp/r.html"
[ $? -le 1 ] || fail "--html with records: exit $?"
grep -q '<td>evidence</td><td>flow records, not packets' "$tmp/r.html" || fail "HTML: no flow-record evidence row"
grep -q 'no WebSocket or long-lived session endings' "$tmp/r.html" || fail "HTML: WebSocket caveat missing"
grep -q '53 flows joined by their 5-tuple' "$tmp/r.html" || fail "HTML: joined uniflows not counted"
"$FA" -q -r "$SRC/pcaps/products/ras-broken.pcap" --rules "$SRC/rules" --site "$SRC/sites/ras.site" \
    --html "$tmp/p.html"
! grep -q 'flow records, not packets' "$tmp/p.html" || fail "HTML: packets called flow records"
# NetFlow v9 from a file is refused with the reason (a header is enough:
# the version is read before anything else).
printf '\000\011\000\001' >"$tmp/v9.bin"
refuse "NetFlow v9 export packets are not read from files" -r "$tmp/v9.bin"
# --collect on a port already taken: exit 2, the port named.
python3 -c 'import socket,sys,time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True); time.sleep(3)' >"$tmp/port" &
holder=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$tmp/port" ] && break; sleep 0.1; done
refuse "collect udp:127.0.0.1:$(cat "$tmp/port"): couldn't create socket" --collect "udp:127.0.0.1:$(cat "$tmp/port")"
kill "$holder" 2>/dev/null
echo "ok"
