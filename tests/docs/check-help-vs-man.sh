#!/bin/sh
# check-help-vs-man.sh - fails when "flowaudit --help" and the OPTIONS
# section of the man page do not name the same options.
#
#   check-help-vs-man.sh FLOWAUDIT MANPAGE
#
# From --help: option lines ("  -r, --read FILE", "      --max-flows N").
# From the man page: the tag line after each .TP between ".SH OPTIONS" and
# the next .SH, with roff escapes removed. Long and short options are
# compared as sets; every difference is printed.
set -eu
[ $# -eq 2 ] || { echo "usage: $0 FLOWAUDIT MANPAGE" >&2; exit 2; }
flowaudit=$1 man=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$flowaudit" --help >"$tmp/help"
sed -n 's/^  *\(-[A-Za-z], \)\{0,1\}\(--[a-z][a-z0-9-]*\).*/\2/p' "$tmp/help" | sort -u >"$tmp/help.long"
sed -n 's/^  *\(-[A-Za-z]\), --.*/\1/p' "$tmp/help" | sort -u >"$tmp/help.short"

awk '/^\.SH / { in_opts = ($2 == "OPTIONS"); tag = 0; next }
     in_opts && tag { print; tag = 0; next }
     in_opts && /^\.TP/ { tag = 1 }' "$man" |
    sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/^\.[A-Z]*//' -e 's/"//g' |
    tr ' ,' '\n\n' >"$tmp/man.words"
grep -E '^--[a-z][a-z0-9-]*$' "$tmp/man.words" | sort -u >"$tmp/man.long" || true
grep -E '^-[A-Za-z]$' "$tmp/man.words" | sort -u >"$tmp/man.short" || true

status=0
for kind in long short; do
    if [ ! -s "$tmp/help.$kind" ] || [ ! -s "$tmp/man.$kind" ]; then
        echo "no $kind options found in --help or in $man: has the layout changed?" >&2
        status=1
        continue
    fi
    comm -23 "$tmp/help.$kind" "$tmp/man.$kind" | sed "s|^|in --help, not in $man: |" >&2
    comm -13 "$tmp/help.$kind" "$tmp/man.$kind" | sed "s|^|in $man, not in --help: |" >&2
    cmp -s "$tmp/help.$kind" "$tmp/man.$kind" || status=1
done
[ "$status" -ne 0 ] || echo "$(wc -l <"$tmp/help.long") long and $(wc -l <"$tmp/help.short") short options agree"
exit "$status"
