#!/bin/sh
# update-golden.sh - regenerates the expected output of the named golden
# tests, on purpose, one name at a time (never all silently).
#   tests/golden/update-golden.sh BUILD_DIR NAME [NAME...]
set -eu
[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR NAME [NAME...]" >&2; exit 2; }
build=$(cd "$1" && pwd); shift
here=$(cd "$(dirname "$0")" && pwd)
for name in "$@"; do
    "$here/run-golden.sh" "$build/flowaudit" "$here/../.." "$name" --update
done
