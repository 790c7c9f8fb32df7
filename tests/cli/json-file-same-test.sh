#!/bin/sh
# json-file-same-test.sh - the records written to a -j FILE, whose flow
# records the file's own thread formats while files are read, are byte for
# byte those of -j - (standard output, formatted in the processing
# thread): on every shipped capture, with its site where it has one (lab
# captures: WebSocket session records between the flow records), with
# --interim by packet time (interim records among them), and on a
# generated capture of 20,000 flows (many blocks of jobs).
#
#   json-file-same-test.sh FLOWAUDIT SRCDIR FA_PCAPGEN
set -eu
[ $# -eq 3 ] || { echo "usage: $0 FLOWAUDIT SRCDIR FA_PCAPGEN" >&2; exit 2; }
flowaudit=$1 src=$2 gen=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0 cases=0

same() {
    name=$1
    shift
    rc1=0 rc2=0
    "$flowaudit" -q --no-progress "$@" -j "$tmp/file.ndjson" >/dev/null 2>&1 || rc1=$?
    "$flowaudit" -q --no-progress "$@" -j - >"$tmp/stdout.ndjson" 2>/dev/null || rc2=$?
    cases=$((cases + 1))
    if [ $rc1 -ne $rc2 ] || ! cmp -s "$tmp/file.ndjson" "$tmp/stdout.ndjson"; then
        echo "$name: -j FILE (exit $rc1) differs from -j - (exit $rc2)" >&2
        cmp "$tmp/file.ndjson" "$tmp/stdout.ndjson" >&2 || true
        failed=1
    fi
}

for pcap in "$src"/pcaps/*/*.pcap; do
    site=${pcap%.pcap}.site
    if [ -f "$site" ]; then
        same "$pcap" --rules "$src/rules" --site "$site" -r "$pcap"
        same "$pcap --interim" --rules "$src/rules" --site "$site" --interim 1 -r "$pcap"
    else
        same "$pcap" --rules "$src/rules" -r "$pcap"
    fi
done
"$gen" bench "$tmp/bench.pcap" --packets 200000 --flows 20000 >/dev/null
same "bench" --rules "$src/rules" --site "$src/tools/bench.site" -r "$tmp/bench.pcap"
same "bench, no rules" -r "$tmp/bench.pcap"
[ "$failed" = 0 ] && echo "json-file-same: $cases runs, -j FILE and -j - wrote the same records"
exit "$failed"
