#!/bin/sh
# evidence-test.sh FLOWAUDIT SRCDIR - -w keeps exactly the flagged flows:
# auditing the broken HyWorks capture must save the blocked, the two
# rejected, the dropped port of a multi-port rule, the undocumented and the
# wrong-direction flows, whole, with the ICMP error (type 3 code 13, read
# back as its own flow "13 OTH 1") that rejected one of them, and nothing
# else; the killed WebSocket of the forged-RST capture is saved too.
set -eu
fa=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src"
"$fa" -q --rules rules --site sites/hyworks.site -r pcaps/products/hyworks-broken.pcap -w "$tmp/ev.pcap"
got=$("$fa" -q -j - -r "$tmp/ev.pcap" | jq -r 'select(.type == "flow") | "\(.["id.resp_p"]) \(.conn_state) \(.orig_pkts + .resp_pkts)"' | sort)
want="13 OTH 1
23 SF 10
38866 S0 1
38866 S0 3
38870 REJ 2
38870 SF 10
636 S0 3"
if [ "$got" != "$want" ]; then
    printf 'evidence flows differ\nwant:\n%s\ngot:\n%s\n' "$want" "$got" >&2
    exit 1
fi
"$fa" -q --ws-min-idle 2 -r pcaps/real/ws-rst-inject.pcap -w "$tmp/ws.pcap"
n=$("$fa" -q -j - -r "$tmp/ws.pcap" | jq -s '[.[] | select(.type == "flow" and .resp_rst_by == "middlebox")] | length')
[ "$n" = 1 ] || { echo "killed WebSocket not saved ($n)" >&2; exit 1; }
echo "evidence OK"
