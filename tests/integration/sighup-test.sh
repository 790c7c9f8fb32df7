#!/usr/bin/env bash
# sighup-test.sh - live configuration reloads: a good change takes effect,
# a broken rule file is refused with its file:line and the running
# configuration stays in force, and the process keeps auditing throughout.
#
# Usage: sighup-test.sh FLOWAUDIT SRCDIR   (root; exit 77 = skipped)
#
#   ns a  192.0.2.11 (mgmt1) --- veth --- ns b  192.0.2.13 (listener :38866)
#                                              flowaudit -i vb
#
# The same connection mgmt1 -> 192.0.2.13:38866 is made after each reload.
# Site S0 makes 192.0.2.13 the SMTP server, so it is undocumented; site S1
# makes it the broker, so it is HYW-005 (mgmt -> broker tcp 38866).
#
#   start with S0          connection 1: undocumented
#   S1, SIGHUP             "configuration reloaded", ok:true
#                          connection 2: documented
#   S0 + broken rule file  "reload failed ... hyworks.rules:LINE: ...", ok:false
#                          connection 3: documented (S1 still in force)
#   rule file repaired     "configuration reloaded", ok:true
#                          connection 4: undocumented (S0 now)
#   a FIFO in the rules    "reload failed ... fifo.rules: not a regular file", ok:false,
#   directory              at once: nothing writes to it, and opening it for
#                          reading must not wait for a writer
#                          connection 5: undocumented (S0 still in force)
#   SIGTERM                exit 0
#
# jq programs are single-quoted on purpose: $name is a jq variable.
# shellcheck source-path=SCRIPTDIR disable=SC2016
set -euo pipefail

FLOWAUDIT=$1
SRC=$2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=live/lib.sh
. "$HERE/live/lib.sh"
NETNS=$SRC/tools/netns

require_env ss sysctl jq
make_work

# write_site ROLE: the role of 192.0.2.13, always an inventory host: outside
# the inventory it would play every unmapped role (mgmt2, hylabs...) and
# the connection would match their rules.
write_site() {
    cat >"$WORK/site" <<EOF
site "flowaudit reload test"
product hyworks
role hyworks.mgmt1 192.0.2.11
role hyworks.mgmt  192.0.2.11
role hyworks.$1 192.0.2.13
EOF
}

# capturing PID: flowaudit (ip netns exec has exec'd it; ip's own netlink
# socket is gone) holds a socket, so it is opening the interface and its
# signal handlers are in place.
capturing() {
    [[ $(cat "/proc/$1/comm") == flowaudit ]] && find "/proc/$1/fd" -lname 'socket:*' | grep -q .
}

# has_records TYPE N: at least N records of TYPE so far.
has_records() {
    [[ $(jq -s --arg t "$1" '[.[] | select(.type == $t)] | length' "$WORK/h.ndjson") -ge $2 ]]
}

stderr_lines() {
    [[ $(grep -c -- "$1" "$WORK/audit.err") -ge $2 ]]
}

# connect N VERDICT: connection N, whose flow record must say VERDICT.
connect() {
    local got
    start_bg "probe-$1" a "$PYTHON" "$HERE/live/tcpprobe.py" --src 192.0.2.11 \
        --dst 192.0.2.13 --dport 38866 --expect connected
    run_ok "probe-$1" "$LAST_PID" 10
    wait_until 15 "the flow record of connection $1" has_records flow "$1"
    kill -0 "$PID" 2>/dev/null || fail "flowaudit is gone"
    got=$(q "$WORK/h.ndjson" --argjson n "$1" '[.[] | select(.type == "flow")][$n - 1] |
        "\(.["id.resp_h"]):\(.["id.resp_p"]) \(.conn_state) \(.verdict) \(.rules)"')
    expect_eq "$got" "192.0.2.13:38866 SF $2" "connection $1 judged"
}

# reload N OK: SIGHUP, then wait for reload record N, which must say OK.
reload() {
    kill -HUP "$PID"
    wait_until 10 "config_reload record $1" has_records config_reload "$1"
    expect_eq "$(q "$WORK/h.ndjson" --argjson n "$1" \
        '[.[] | select(.type == "config_reload")][$n - 1].ok')" "$2" "config_reload record $1 ok"
}

ns_add a b
veth a va b vb
ip -n "$TAG-a" addr add 192.0.2.11/24 dev va
ip -n "$TAG-b" addr add 192.0.2.13/24 dev vb
start_bg listener b "$PYTHON" "$NETNS/matrix.py" serve --tcp 192.0.2.13:38866
wait_listen b 192.0.2.13 38866

cp -r "$SRC/rules" "$WORK/rules"
cp "$WORK/rules/hyworks.rules" "$WORK/hyworks.rules.good"
write_site smtp
# A closed connection's record is written once tcp-closed expires.
start_bg audit b "$FLOWAUDIT" -i vb --rules "$WORK/rules" --site "$WORK/site" \
    --timeout tcp-closed=1 -j "$WORK/h.ndjson"
PID=$LAST_PID
watch audit "$PID"
wait_until 10 "flowaudit to open vb" capturing "$PID"
# The report asked for by SIGUSR1 comes from the capture loop: vb is read.
kill -USR1 "$PID"
wait_until 10 "the report asked for with SIGUSR1" has_records report 1

connect 1 'undocumented []'

write_site broker
reload 1 true
wait_until 5 "the reload message" stderr_lines "^flowaudit: configuration reloaded$" 1
connect 2 'documented ["HYW-005"]'

write_site smtp
echo 'rule HYW-900 nosuchrole -> mgmt tcp 1' >>"$WORK/rules/hyworks.rules"
line=$(wc -l <"$WORK/rules/hyworks.rules")
reload 2 false
want="$WORK/rules/hyworks.rules:$line: undefined role 'nosuchrole'"
wait_until 5 "the reload failure message" stderr_lines "reload failed" 1
expect_eq "$(grep 'reload failed' "$WORK/audit.err")" \
    "flowaudit: reload failed, keeping the previous configuration: $want" "stderr after a broken reload"
expect_eq "$(q "$WORK/h.ndjson" '[.[] | select(.type == "config_reload")][1]["error.message"]')" "$want" \
    "error of the failed reload record"
connect 3 'documented ["HYW-005"]'

cp "$WORK/hyworks.rules.good" "$WORK/rules/hyworks.rules"
reload 3 true
wait_until 5 "the second reload message" stderr_lines "^flowaudit: configuration reloaded$" 2
connect 4 'undocumented []'

mkfifo "$WORK/rules/fifo.rules"
reload 4 false
wait_until 5 "the FIFO reload failure message" stderr_lines "reload failed" 2
expect_eq "$(grep 'reload failed' "$WORK/audit.err" | tail -n 1)" \
    "flowaudit: reload failed, keeping the previous configuration: $WORK/rules/fifo.rules: not a regular file" \
    "stderr after a reload that met a FIFO"
connect 5 'undocumented []'

kill -TERM "$PID"
finish "$PID" 20
expect_eq "$RC" 0 "exit status after SIGTERM"
seq_check "$WORK/h.ndjson"
expect_jq "$WORK/h.ndjson" "five flow records, one per connection, nothing else" \
    '[.[] | select(.type == "flow")] | length == 5'
expect_jq "$WORK/h.ndjson" "reload records: ok true, false, true, false; errors only on the failures" \
    '[.[] | select(.type == "config_reload") | [.ok, has("error.message")]] == [[true, false], [false, true], [true, false], [false, true]]'
# A good reload reports the window so far under the old configuration and
# starts a new one; a failed reload changes nothing.
expect_jq "$WORK/h.ndjson" "reports: the one asked for, one per good reload, the final one" \
    '[.[] | select(.type == "report") | .final] == [false, false, false, true]'
expect_jq "$WORK/h.ndjson" "each window counts its own connections" \
    '[.[] | select(.type == "audit_totals") | [.documented, .undocumented]] == [[0, 0], [0, 1], [2, 0], [0, 2]]'
note "passed"
