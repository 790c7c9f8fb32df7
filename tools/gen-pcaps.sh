#!/bin/sh
# gen-pcaps.sh - regenerates every committed synthetic capture in
# pcaps/synthetic/ with an already built fa_pcapgen (all scenarios but bench,
# which is too big to commit). Output is byte-for-byte reproducible.
#
# Usage: tools/gen-pcaps.sh [path/to/fa_pcapgen]   (default build/tools/fa_pcapgen)
set -eu

gen=${1:-build/tools/fa_pcapgen}
out=$(cd "$(dirname "$0")/.." && pwd)/pcaps/synthetic

if [ ! -x "$gen" ]; then
    echo "gen-pcaps.sh: $gen is not an executable; build the project first" >&2
    exit 1
fi
mkdir -p "$out"
"$gen" --list | while read -r name _; do
    [ "$name" = bench ] && continue
    "$gen" "$name" "$out/$name.pcap"
    echo "$out/$name.pcap"
done
