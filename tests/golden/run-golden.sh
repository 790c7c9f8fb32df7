#!/bin/sh
# run-golden.sh - runs one TESTLIST entry and compares flowaudit's standard
# output, standard error and exit status with the committed expectation.
#
#   run-golden.sh FLOWAUDIT SRCDIR NAME           compare
#   run-golden.sh FLOWAUDIT SRCDIR NAME --update  rewrite expected/NAME.out
#                                                 (and NAME.err), showing
#                                                 the diff
#
# TESTLIST lines: NAME PCAP EXIT OPTIONS... (PCAP relative to SRCDIR; '#'
# starts a comment). Tests run with TZ=UTC LC_ALL=C from SRCDIR so paths in
# the output are stable. Standard error must be empty unless
# expected/NAME.err exists; then it must equal that file (a fatal error is
# checked by its message, not only by its exit status).
set -eu
flowaudit=$1 src=$2 name=$3 mode=${4:-compare}
here=$(cd "$(dirname "$0")" && pwd)
line=$(awk -v n="$name" '$1 == n { print; exit }' "$here/TESTLIST")
[ -n "$line" ] || { echo "no test '$name' in TESTLIST" >&2; exit 2; }
set -- $line
pcap=$2 want_exit=$3
shift 3
expected="$here/expected/$name.out"
expected_err="$here/expected/$name.err"
actual=$(mktemp)
actual_err=$(mktemp)
trap 'rm -f "$actual" "$actual_err"' EXIT
cd "$src"
set +e
TZ=UTC LC_ALL=C NO_COLOR=1 "$flowaudit" --no-progress -r "$pcap" "$@" >"$actual" 2>"$actual_err"
got_exit=$?
set -e
if [ "$mode" = --update ]; then
    # The reviewer sees what changes before it is committed.
    diff -u "$expected" "$actual" || true
    cp "$actual" "$expected"
    if [ -s "$actual_err" ]; then
        diff -u "$expected_err" "$actual_err" 2>/dev/null || true
        cp "$actual_err" "$expected_err"
    else
        rm -f "$expected_err"
    fi
    echo "updated $expected (exit $got_exit)"
    [ "$got_exit" = "$want_exit" ] || echo "note: exit $got_exit, TESTLIST says $want_exit" >&2
    exit 0
fi
status=0
if [ "$got_exit" != "$want_exit" ]; then
    echo "$name: exit status $got_exit, expected $want_exit" >&2
    status=1
fi
if ! diff -u "$expected" "$actual" >&2; then
    echo "$name: output differs from $expected" >&2
    status=1
fi
if [ -f "$expected_err" ]; then
    if ! diff -u "$expected_err" "$actual_err" >&2; then
        echo "$name: standard error differs from $expected_err" >&2
        status=1
    fi
elif [ -s "$actual_err" ]; then
    echo "$name: unexpected standard error:" >&2
    cat "$actual_err" >&2
    status=1
fi
exit $status
