#!/bin/sh
# update-golden.sh - regenerates the expected output of a golden test on
# purpose, showing the diff of each expectation it rewrites.
#   tests/golden/update-golden.sh BUILD_DIR NAME
#   tests/golden/update-golden.sh --many BUILD_DIR NAME NAME...
# More than one name needs --many: a change that rewrites many expectations
# at once must say so, and each rewritten file still needs a reviewer who
# checks it against the source its TESTLIST comment names (README).
set -eu
many=no
if [ "${1:-}" = --many ]; then
    many=yes
    shift
fi
[ $# -ge 2 ] || { echo "usage: $0 [--many] BUILD_DIR NAME [NAME...]" >&2; exit 2; }
build=$(cd "$1" && pwd); shift
if [ $# -gt 1 ] && [ $many = no ]; then
    echo "$0: $# tests named; rewriting more than one expectation needs --many" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
for name in "$@"; do
    "$here/run-golden.sh" "$build/flowaudit" "$here/../.." "$name" --update
done
