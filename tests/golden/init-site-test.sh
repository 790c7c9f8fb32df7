#!/bin/sh
# init-site-test.sh - --init-site PRODUCT for every shipped product: the
# template names every role and feature of the rule file (counted here
# from the rule file's own lines, not by the program), loads as a site as
# it is (nothing deployed yet), and loads again with every role given an
# address and every feature switched on. An unknown product is a usage
# error that lists the products.
#   init-site-test.sh FLOWAUDIT SRCDIR
set -eu
flowaudit=$1
cd "$2"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pcap=pcaps/synthetic/udp-basic.pcap
fail() { echo "init-site-test: $*" >&2; exit 1; }
for file in rules/*.rules; do
    product=$(awk '$1 == "product" { print $2; exit }' "$file")
    groups=$(awk '$1 == "group" { print $2 }' "$file")
    "$flowaudit" --rules rules --init-site "$product" >"$work/t.site" || fail "$product: exit $?"
    for role in $(awk '$1 == "role" { print $2 }' "$file"); do
        case " $(echo $groups) " in
        *" $role "*) grep -q "^#   $role = " "$work/t.site" || fail "$product: group $role not listed" ;;
        *) grep -q "^#role $product\.$role ADDRESS\.\.\.$" "$work/t.site" || fail "$product: role $role missing" ;;
        esac
    done
    for feature in $(awk '$1 == "feature" { print $2 }' "$file"); do
        grep -q "^#feature $product\.$feature$" "$work/t.site" || fail "$product: feature $feature missing"
    done
    "$flowaudit" --rules rules --site "$work/t.site" -r "$pcap" -q || fail "$product: template does not load"
    awk 'BEGIN { n = 0 }
         /^#role / { n++; printf "role %s 192.0.2.%d\n", $2, n % 250 + 1; printf "role %s 2001:db8::%x\n", $2, n; next }
         /^#feature / { print substr($0, 2); next }
         { print }' "$work/t.site" >"$work/filled.site"
    "$flowaudit" --rules rules --site "$work/filled.site" -r "$pcap" -q 2>"$work/err" ||
        { cat "$work/err" >&2; fail "$product: filled template does not load"; }
done
if "$flowaudit" --rules rules --init-site nosuch >/dev/null 2>"$work/err"; then
    fail "unknown product accepted"
fi
grep -q "unknown product 'nosuch' (products: app-layering hyworks pcoip psw ras)" "$work/err" ||
    fail "unknown product message: $(cat "$work/err")"
echo "init-site-test: ok"
