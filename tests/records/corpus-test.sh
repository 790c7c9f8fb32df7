#!/bin/sh
# corpus-test.sh PYTHON FLOWAUDIT SRC - Zeek's conn.log baselines in
# ../shared/corpus read as flow records, their verdicts compared with those
# of the captures they were made from (check-agreement.py, port-only
# audit). The differences found must be exactly those listed, with their
# reason, in corpus-differences.txt. Baselines cut down to a few columns
# (no #fields line) are left out. Exit 77 when the corpus is absent.
PY=$1 FA=$2 SRC=$3
CORPUS=${FLOWAUDIT_CORPUS:-$SRC/../shared/corpus}
[ -d "$CORPUS/zeek" ] || { echo "no corpus at $CORPUS: skipped"; exit 77; }
out=$(mktemp) || exit 2
trap 'rm -f "$out"' EXIT
n=0
for dir in "$CORPUS"/zeek/*/; do
    log=$(ls "$dir"expected/*/conn.log 2>/dev/null | head -n 1)
    [ -n "$log" ] && grep -q '^#fields' "$log" || continue
    pcap=$(ls "$dir"*.pcap "$dir"*.pcapng 2>/dev/null | head -n 1)
    [ -n "$pcap" ] || continue
    n=$((n + 1))
    "$PY" "$SRC/tests/records/check-agreement.py" "$FA" "$pcap" "$log" --unmask -- --rules "$SRC/rules" >"$out.one"
    rc=$?
    [ $rc -le 1 ] || { echo "$(basename "$dir"): check failed ($rc)"; exit 1; }
    sed "s|^|$(basename "$dir") |" "$out.one" >>"$out"
    rm -f "$out.one"
done
echo "$n baselines compared"
[ $n -gt 0 ] || { echo "no conn.log baseline with #fields found"; exit 1; }
grep -v '^#' "$SRC/tests/records/corpus-differences.txt" | diff - "$out"
