#!/bin/sh
# gen-product-pcaps.sh - regenerates the healthy and broken sample captures
# of the five products in pcaps/products/ from rules/ and sites/, with an
# already built flowaudit and fa_flowgen. Output is byte-for-byte
# reproducible; with --check every capture is then audited and compared
# with the '# expect' header of its spec (exit status 1 on a difference).
#
# Usage: tools/gen-product-pcaps.sh [--check] [BUILD_DIR]   (default build)
set -eu

check=no
if [ "${1:-}" = --check ]; then
    check=yes
    shift
fi
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
flowaudit=$build/flowaudit
flowgen=$build/tools/fa_flowgen
out=$root/pcaps/products

for exe in "$flowaudit" "$flowgen"; do
    if [ ! -x "$exe" ]; then
        echo "gen-product-pcaps.sh: $exe is not an executable; build the project first" >&2
        exit 2
    fi
done
mkdir -p "$out"
cd "$root"
status=0
for product in psw ras hyworks app-layering pcoip; do
    python3 tools/make-product-flows.py "$flowaudit" rules "sites/$product.site" pcaps/products
    for kind in healthy broken; do
        "$flowgen" "pcaps/products/$product-$kind.flows" "pcaps/products/$product-$kind.pcap"
        echo "pcaps/products/$product-$kind.pcap"
        if [ "$check" = yes ]; then
            python3 tools/make-product-flows.py --check "$flowaudit" rules "sites/$product.site" \
                "pcaps/products/$product-$kind.flows" "pcaps/products/$product-$kind.pcap" ||
                status=1
        fi
    done
done
exit $status
