#!/bin/sh
# outputs-test.sh - an output path that names an input is refused before
# anything is written, whatever the spelling (same path, symlink, hard link,
# a rotated -w name, /dev/stdin under "-r -"), and an output into a missing
# directory is refused once, before the run. Each case runs on a copy of a
# capture in a temporary directory and checks the exit status, the message
# on standard error and that the copy is byte for byte unchanged.
#
#   outputs-test.sh FLOWAUDIT SRCDIR
set -eu
[ $# -eq 2 ] || { echo "usage: $0 FLOWAUDIT SRCDIR" >&2; exit 2; }
flowaudit=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$src/pcaps/synthetic/state-SF.pcap" "$tmp/orig.pcap"
cd "$tmp"
failed=0

# expect EXIT MESSAGE ARGS...: runs flowaudit -q ARGS on in.pcap (also its
# standard input) and checks what it did; $keep names the copies that must
# come out unchanged.
keep="in.pcap in.pcap.2 in.pcap.tmp"
expect() {
    want_exit=$1 want_msg=$2
    shift 2
    rm -f in.pcap in.pcap.* link.pcap hard.pcap
    cp orig.pcap in.pcap
    ln -s in.pcap link.pcap
    ln in.pcap hard.pcap
    cp orig.pcap in.pcap.2
    cp orig.pcap in.pcap.tmp
    set +e
    "$flowaudit" -q "$@" <in.pcap >out.txt 2>err.txt
    got=$?
    set -e
    case_ok=1
    [ "$got" = "$want_exit" ] || { echo "$*: exit $got, expected $want_exit" >&2; case_ok=0; }
    if [ -n "$want_msg" ]; then
        [ "$(cat err.txt)" = "flowaudit: $want_msg" ] ||
            { echo "$*: stderr '$(cat err.txt)', expected 'flowaudit: $want_msg'" >&2; case_ok=0; }
    fi
    for f in $keep; do
        cmp -s orig.pcap "$f" || { echo "$*: $f was changed" >&2; case_ok=0; }
    done
    [ "$case_ok" = 1 ] || failed=1
}

expect 2 "-j in.pcap is the input -r in.pcap: refusing to overwrite it" -r in.pcap -j in.pcap
expect 2 "-w in.pcap is the input -r in.pcap: refusing to overwrite it" -r in.pcap -w in.pcap
expect 2 "-j link.pcap is the input -r in.pcap: refusing to overwrite it" -r in.pcap -j link.pcap
expect 2 "-w in.pcap is the input -r link.pcap: refusing to overwrite it" -r link.pcap -w in.pcap
expect 2 "-w hard.pcap is the input -r in.pcap: refusing to overwrite it" -r in.pcap -w hard.pcap
expect 2 "-j ./in.pcap is the input -r in.pcap: refusing to overwrite it" -r other.pcap -r in.pcap -j ./in.pcap
expect 2 "-w in.pcap would rotate into in.pcap.2, the input -r in.pcap.2: refusing to overwrite it" \
    -r in.pcap.2 -w in.pcap
expect 2 "-j /dev/stdin is the input -r - (standard input): refusing to overwrite it" -r - -j /dev/stdin
expect 2 "-j no-such-dir/out.json: directory no-such-dir: No such file or directory" \
    -r in.pcap -j no-such-dir/out.json
expect 2 "-w no-such-dir/out.pcap: directory no-such-dir: No such file or directory" \
    -r in.pcap -w no-such-dir/out.pcap
expect 2 "-w in.pcap/out.pcap: in.pcap is not a directory" -r in.pcap -w in.pcap/out.pcap
expect 2 "--html in.pcap is the input -r in.pcap: refusing to overwrite it" -r in.pcap --html in.pcap
expect 2 "--dot link.pcap is the input -r in.pcap: refusing to overwrite it" \
    -r in.pcap --rules "$src/rules" --dot link.pcap
# The page is written through FILE.tmp, which may not be an input either.
expect 2 "--html in.pcap would be written through in.pcap.tmp, the input -r in.pcap.tmp: refusing to overwrite it" \
    -r in.pcap.tmp --html in.pcap
expect 2 "--html no-such-dir/page.html: directory no-such-dir: No such file or directory" \
    -r in.pcap --html no-such-dir/page.html
mkdir -p a-dir
expect 2 "-w a-dir is a directory" -r in.pcap -w a-dir
# Not inputs: a rotated name when rotation is off, a new file, /dev/null.
keep=in.pcap.2
expect 0 "" -r in.pcap.2 -w in.pcap --evidence-size 0
keep="in.pcap in.pcap.2 in.pcap.tmp"
expect 0 "" -r in.pcap -j new.json -w new.pcap
expect 0 "" -r in.pcap -j /dev/null
[ -s new.json ] || { echo "new.json not written" >&2; failed=1; }
expect 0 "" -r in.pcap --html page.html
[ -s page.html ] && [ ! -e page.html.tmp ] || { echo "page.html not written whole" >&2; failed=1; }
# A report that cannot be written (a full disk) fails the run, and the
# message names the stream, not a -j file that was never given.
if [ -w /dev/full ]; then
    "$flowaudit" -r in.pcap >/dev/full 2>err.txt && { echo "report to a full disk: exit 0" >&2; failed=1; }
    [ "$(cat err.txt)" = "flowaudit: standard output: write failed" ] ||
        { echo "report to a full disk: stderr '$(cat err.txt)'" >&2; failed=1; }
    # The -j file is written by a thread of its own: its failure must
    # still reach the exit status and the message.
    "$flowaudit" -q -r in.pcap -j /dev/full 2>err.txt && { echo "-j to a full disk: exit 0" >&2; failed=1; }
    [ "$(cat err.txt)" = "flowaudit: /dev/full: write failed" ] ||
        { echo "-j to a full disk: stderr '$(cat err.txt)'" >&2; failed=1; }
fi
[ "$failed" = 0 ] && echo "outputs: all cases refused or accepted as expected"
exit "$failed"
