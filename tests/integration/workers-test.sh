#!/usr/bin/env bash
# workers-test.sh - --workers 1, 2 and 4 on the same packets must give the
# same flows and verdicts, with the kernel's counters per capture thread,
# and the same -w evidence files.
#
# Usage: workers-test.sh FLOWAUDIT SRCDIR   (root; exit 77 = skipped)
#
#   ns c  198.51.100.10-25 (16 client addresses)
#         c0 --- r-c  ns r 198.51.100.1 / 192.0.2.1   <- tcpdump -i r-c
#                     nftables (workers-firewall.nft): 9200 reset,
#                     9300 ICMP port unreachable, 9301 ICMP admin
#                     prohibited, 9400 dropped
#                     br-srv -+- ns s 192.0.2.10 (Python TCP :9001-9004,
#                             |        UDP :5300; nothing on :9100, :5301)
#                             +- ns p 192.0.2.60 (nginx :8080)
#   ns x  x0 --- x1   tcpreplay -i x0 (the capture), flowaudit -i x1
#
# The clients (live/workers-traffic.py) make 208 connections, each ending
# as the firewall and servers dictate; the capture of them is replayed
# three times into a veth, once for each worker count, so every run sees
# the same packets (the four threads also reload on SIGHUP and report on
# SIGUSR1), and once more 200 times over into two stopped threads with
# small rings, which must count and report their drops. The ICMP errors come from the router or the server,
# another address pair than the connection they refuse: the kernel's
# fanout hash sends them to any thread, and only routing them to the
# thread holding the quoted flow keeps "rejected" for those flows, and
# puts the error in that thread's evidence of the flow.
#
# Evidence (-w): the one-thread run's file must hold every packet tcpdump
# recorded of the refused and dropped connections (ports 9100-9400, UDP
# 5301: their SYNs, retransmissions and RSTs) and, for each connection an
# ICMP error refused, one ICMP error quoting it; the files of 2 and 4
# threads must hold the same packets, byte for byte (tcpdump -xx, times
# left out: each run captures the replay at its own time).
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

require_env bridge nft nginx ss sysctl jq tcpdump tcpreplay tshark
make_work

CLIENTS=()
for i in $(seq 10 25); do
    CLIENTS+=("198.51.100.$i")
done

topology() {
    ns_add c r s p x
    veth c c0 r r-c
    veth s s0 r r-s
    veth p p0 r r-p
    bridge_add r br-srv r-s r-p
    local a
    for a in "${CLIENTS[@]}"; do
        ip -n "$TAG-c" addr add "$a/24" dev c0
    done
    ip -n "$TAG-r" addr add 198.51.100.1/24 dev r-c
    ip -n "$TAG-r" addr add 192.0.2.1/24 dev br-srv
    ip -n "$TAG-s" addr add 192.0.2.10/24 dev s0
    ip -n "$TAG-p" addr add 192.0.2.60/24 dev p0
    ip -n "$TAG-c" route add 192.0.2.0/24 via 198.51.100.1
    ip -n "$TAG-s" route add 198.51.100.0/24 via 192.0.2.1
    ip -n "$TAG-p" route add 198.51.100.0/24 via 192.0.2.1
    ip netns exec "$TAG-r" sysctl -qw net.ipv4.ip_forward=1
    # Every refusal must be answered: no ICMP rate limit on the hosts that
    # send them.
    ip netns exec "$TAG-r" sysctl -qw net.ipv4.icmp_ratelimit=0
    ip netns exec "$TAG-s" sysctl -qw net.ipv4.icmp_ratelimit=0
    ip netns exec "$TAG-r" nft -f "$HERE/live/workers-firewall.nft"
    veth x x0 x x1
}

servers() {
    local rundir=$WORK/nginx
    start_bg listeners s "$PYTHON" "$NETNS/matrix.py" serve \
        --tcp 192.0.2.10:9001 --tcp 192.0.2.10:9002 --tcp 192.0.2.10:9003 --tcp 192.0.2.10:9004 \
        --udp 192.0.2.10:5300
    watch listeners "$LAST_PID"
    mkdir -p "$rundir"
    sed -e "s|@RUNDIR@|$rundir|g" -e "s|@LISTEN@|192.0.2.60:8080|g" \
        "$HERE/live/nginx-workers.conf.in" >"$rundir/nginx.conf"
    start_bg nginx p nginx -p "$rundir" -e "$rundir/error.log" -c "$rundir/nginx.conf" -g 'daemon off;'
    watch nginx "$LAST_PID"
    wait_listen s 192.0.2.10 9004
    wait_listen p 192.0.2.60 8080
}

# The clients' traffic, once, into $WORK/traffic.pcap.
record() {
    local args=() a
    start_bg tcpdump r tcpdump -i r-c -n -U -w "$WORK/traffic.pcap"
    local dump=$LAST_PID
    watch tcpdump "$dump"
    wait_until 10 "tcpdump to start" has_text tcpdump.err "listening on"
    for a in "${CLIENTS[@]}"; do
        args+=(--src "$a")
    done
    start_bg traffic c "$PYTHON" "$HERE/live/workers-traffic.py" "${args[@]}"
    run_ok traffic "$LAST_PID" 60
    note "$(tail -n 1 "$WORK/traffic.out")"
    sleep 0.5
    unwatch "$dump"
    kill -INT "$dump"
    finish "$dump" 10
    note "recorded $(tcpdump -n -r "$WORK/traffic.pcap" 2>/dev/null | wc -l) packets"
}

# reports_before_end N FILE: FILE holds N report records that are not the
# final one.
reports_before_end() {
    [[ $(grep -c '"type":"report","ts":[0-9.]*,"final":false' "$2") -ge $1 ]]
}

# replay N: flowaudit --workers N on x1 while the capture is replayed into
# x0; its NDJSON in $WORK/wN.ndjson, its text in wN.out / wN.err.
replay() {
    local n=$1
    start_bg "w$n" x "$FLOWAUDIT" -i x1 --workers "$n" --rules "$HERE/live/workers-rules" \
        -j "$WORK/w$n.ndjson" -w "$WORK/w$n.pcap" --interim 0 --no-progress
    local pid=$LAST_PID
    watch "w$n" "$pid"
    wait_until 10 "flowaudit --workers $n to capture" has_text "w$n.err" "capturing on x1"
    start_bg "replay$n" x tcpreplay -i x0 "$WORK/traffic.pcap"
    run_ok "replay$n" "$LAST_PID" 60
    # Without immediate mode a block is handed over at the 200 ms read
    # timeout; an ICMP error forwarded between threads waits up to 1 s.
    sleep 2
    if [[ $n -eq 4 ]]; then
        # The threads stop for a reload's swap and for a report, and go on.
        kill -HUP "$pid"
        wait_until 10 "a config_reload record" has_text "w$n.ndjson" '"type":"config_reload".*"ok":true'
        # The reload reported the window it closed; SIGUSR1 makes a second.
        kill -USR1 "$pid"
        wait_until 10 "a report on SIGUSR1" reports_before_end 2 "$WORK/w$n.ndjson"
    fi
    unwatch "$pid"
    kill -INT "$pid"
    finish "$pid" 30
    [[ $RC -eq 0 ]] || fail "flowaudit --workers $n exited with status $RC: $(tail -n 3 "$WORK/w$n.err")"
    SENT[$n]=$(sed -n 's/^Actual: \([0-9]*\) packets.*/\1/p' "$WORK/replay$n.out")
    note "--workers $n: tcpreplay sent ${SENT[$n]} packets"
}

# The facts of each flow that do not depend on timing, sorted by 5-tuple.
verdicts() {
    q "$1" '.[] | select(.type == "flow") |
            [.proto, ."id.orig_h", ."id.orig_p", ."id.resp_h", ."id.resp_p", .conn_state,
             .verdict, .attempt, ((.icmp_errors // 0) > 0)] | @tsv' | sort
}

# Hand table: what each service's flows must be judged (from the plan in
# workers-traffic.py and workers-firewall.nft), in the one-thread run.
check_expected() {
    local f=$WORK/w1.ndjson
    expect_jq "$f" "--workers 1: 16 flows to each refused or dropped port, 32 to nginx" \
        '[.[] | select(.type == "flow" and ."id.orig_h" != "198.51.100.1")] as $f |
         ([9100, 9200, 9300, 9301, 9400] | all(. as $p | [$f[] | select(."id.resp_p" == $p)] | length == 16))
         and ([$f[] | select(."id.resp_p" == 8080)] | length == 32)'
    expect_jq "$f" "--workers 1: nginx, listeners and UDP 5300 seen; 9100, 9200, 9300, 9301, UDP 5301 rejected; 9400 blocked" \
        '[.[] | select(.type == "flow" and .verdict == "documented")] as $f |
         ([$f[] | select(."id.resp_p" | IN(8080, 9001, 9002, 9003, 9004, 5300)) | .attempt] | unique == ["seen"]) and
         ([$f[] | select(."id.resp_p" | IN(9100, 9200, 9300, 9301, 5301)) | .attempt] | unique == ["rejected"]) and
         ([$f[] | select(."id.resp_p" == 9400) | .attempt] | unique == ["blocked"])'
    expect_jq "$f" "--workers 1: the ICMP-refused flows carry their error" \
        '[.[] | select(.type == "flow" and (."id.resp_p" | IN(9300, 9301, 5301)))] |
         length == 48 and all(.icmp_errors >= 1)'
}

# Per-thread counters: in the summary and in the final report record, and
# what the threads received adds up to what was sent.
check_counters() {
    local n=$1
    local f=$WORK/w$n.ndjson got
    got=$(q "$f" '[.[] | select(.type == "report" and .final)][0].capture | .received')
    expect_eq "$got" "${SENT[$n]}" "--workers $n: packets the kernel counted = packets replayed"
    if [[ $n -eq 1 ]]; then
        # One thread reads as before --workers existed: no thread lines.
        expect_eq "$(grep -c '^  worker [0-9]*: ' "$WORK/w1.out" || true)" 0 "--workers 1: no per-thread lines"
        expect_jq "$f" "--workers 1: no per-thread counters in the report record" \
            '[.[] | select(.type == "report")] | all(.capture | has("workers") | not)'
        return
    fi
    expect_eq "$(grep -c '^  worker [0-9]*: ' "$WORK/w$n.out" || true)" "$n" "--workers $n: summary lines per capture thread"
    expect_jq "$f" "--workers $n: the final report record counts each thread's packets and drops, and they add up" \
        '[.[] | select(.type == "report" and .final)][0].capture as $c |
         ($c.workers | length) == $n and
         ([$c.workers[].received] | add) == $c.received and
         ([$c.workers[].dropped] | add) == $c.dropped and
         ($c.workers | all(has("received") and has("dropped") and has("if_dropped")))' \
        --argjson n "$n"
    expect_jq "$f" "--workers $n: every thread received packets" \
        '[.[] | select(.type == "report" and .final)][0].capture.workers | all(.received > 0)'
}

# The refused and dropped connections' TCP and UDP packets.
REFUSED='(tcp and port (9100 or 9200 or 9300 or 9301 or 9400)) or (udp and port 5301)'

# packets FILE [FILTER]: one line a packet, tcpdump's header line without
# the time (absolute sequence numbers) and every byte of the frame, sorted.
packets() {
    tcpdump -r "$1" -nn -S -t -xx ${2:+"$2"} 2>/dev/null | awk '
        /^\t0x/ { sub(/^\t0x[0-9a-f]+: +/, ""); gsub(/ /, ""); line = line " " $0; next }
        { if (line != "") print line; line = $0 }
        END { if (line != "") print line }' | sort
}

# quoted FILE: the connection each ICMP destination unreachable in FILE
# quotes (its inner addresses and ports, from tshark), one line each.
quoted() {
    tshark -r "$1" -Y 'icmp.type == 3' -T fields -E occurrence=l -E separator=' ' \
        -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport 2>/dev/null
}

check_evidence() {
    local f=$WORK/w1.pcap n
    packets "$WORK/traffic.pcap" "$REFUSED" >"$WORK/refused.txt"
    packets "$f" "$REFUSED" >"$WORK/ev1-refused.txt"
    [[ -s $WORK/refused.txt ]] || fail "tcpdump found no packet of the refused connections in the capture"
    diff "$WORK/refused.txt" "$WORK/ev1-refused.txt" >"$WORK/ev-diff" ||
        fail "--workers 1: the evidence file's packets of the refused connections are not those tcpdump recorded: $(head -n 4 "$WORK/ev-diff" | cut -c1-160 | tr '\n' ' ')"
    note "ok: --workers 1: evidence holds the $(wc -l <"$WORK/refused.txt") packets tcpdump recorded of the refused connections"
    expect_eq "$(grep -c 'Flags \[R' "$WORK/ev1-refused.txt" || true)" "$(grep -c 'Flags \[R' "$WORK/refused.txt")" \
        "--workers 1: RSTs in the evidence, against the capture"
    quoted "$WORK/traffic.pcap" | sort -u >"$WORK/quoted.txt"
    quoted "$f" | sort >"$WORK/ev1-quoted.txt"
    expect_eq "$(wc -l <"$WORK/quoted.txt")" 48 "connections the capture's ICMP errors refuse (16 each to TCP 9300, 9301, UDP 5301)"
    diff "$WORK/quoted.txt" "$WORK/ev1-quoted.txt" >"$WORK/ev-diff" ||
        fail "--workers 1: the evidence does not hold one ICMP error for each refused connection: $(head -n 4 "$WORK/ev-diff" | tr '\n' ' ')"
    note "ok: --workers 1: evidence holds one ICMP error for each of the 48 connections they refused"
    packets "$f" >"$WORK/ev1.txt"
    for n in 2 4; do
        packets "$WORK/w$n.pcap" >"$WORK/ev$n.txt"
        diff "$WORK/ev1.txt" "$WORK/ev$n.txt" >"$WORK/ev-diff$n" ||
            fail "--workers $n: the evidence file's packets differ from --workers 1's: $(grep -c '^[<>]' "$WORK/ev-diff$n") lines, first $(grep -m 2 '^[<>]' "$WORK/ev-diff$n" | cut -c1-160 | tr '\n' ' ')"
        note "ok: --workers $n: the same $(wc -l <"$WORK/ev$n.txt") packets in the evidence file"
        expect_eq "$(grep -c '^  evidence  ' "$WORK/w$n.out" || true)" 2 "--workers $n: evidence lines in the summary"
        expect_eq "$(grep '^  evidence  ' "$WORK/w$n.out" | head -n 1 | cut -d';' -f1)" \
            "$(grep '^  evidence  ' "$WORK/w1.out" | head -n 1 | cut -d';' -f1)" \
            "--workers $n: flagged flows and packets written, summed over the threads, against --workers 1"
    done
}

# Drops: two threads with 1 MiB rings, stopped (SIGSTOP) while the
# capture is replayed 200 times over, must each count the packets their
# ring had no room for, in the summary and the final report record, and
# warn in the report.
drops() {
    start_bg drops x "$FLOWAUDIT" -i x1 --workers 2 -B 1 --rules "$HERE/live/workers-rules" \
        -j "$WORK/drops.ndjson" --interim 0 --no-progress
    local pid=$LAST_PID
    watch drops "$pid"
    wait_until 10 "flowaudit --workers 2 -B 1 to capture" has_text drops.err "capturing on x1"
    kill -STOP "$pid"
    start_bg replay-drops x tcpreplay --topspeed --loop 200 -i x0 "$WORK/traffic.pcap"
    run_ok replay-drops "$LAST_PID" 120
    kill -CONT "$pid"
    sleep 2
    unwatch "$pid"
    kill -INT "$pid"
    finish "$pid" 60
    [[ $RC -eq 0 ]] || fail "flowaudit --workers 2 -B 1 exited with status $RC: $(tail -n 3 "$WORK/drops.err")"
    local f=$WORK/drops.ndjson
    expect_jq "$f" "stopped threads: each counted kernel drops, and they add up in the final report record" \
        '[.[] | select(.type == "report" and .final)][0].capture as $c |
         ($c.workers | length) == 2 and ($c.workers | all(.dropped > 0)) and
         ([$c.workers[].dropped] | add) == $c.dropped'
    local lines
    lines=$(grep -c '^  worker [12]: [0-9]* packets, [0-9]* flows, peak active [0-9]*; kernel received [0-9]*, dropped [1-9][0-9]*,' "$WORK/drops.out" || true)
    expect_eq "$lines" 2 "stopped threads: summary lines with their drops"
    has_text drops.out "WARNING: [0-9]* packets dropped by the kernel" ||
        fail "the report does not warn that the kernel dropped packets"
    note "ok: the report warns of the drops"
}

topology
servers
record

SENT=()
for n in 1 2 4; do
    replay "$n"
    seq_check "$WORK/w$n.ndjson"
    check_counters "$n"
done
check_expected
verdicts "$WORK/w1.ndjson" >"$WORK/v1.tsv"
# The counts before "; peak active": each thread's table has its own peak.
flows1=$(grep '^flows ' "$WORK/w1.out" | cut -d';' -f1)
for n in 2 4; do
    verdicts "$WORK/w$n.ndjson" >"$WORK/v$n.tsv"
    diff "$WORK/v1.tsv" "$WORK/v$n.tsv" >"$WORK/diff$n" ||
        fail "--workers $n judged flows otherwise than --workers 1: $(head -n 6 "$WORK/diff$n" | tr '\n' ' ')"
    note "ok: --workers $n: the same $(wc -l <"$WORK/v$n.tsv") flows with the same states and verdicts"
    expect_eq "$(grep '^flows ' "$WORK/w$n.out" | cut -d';' -f1)" "$flows1" "--workers $n: summary flow counts"
    expect_eq "$(grep -c '^  timestamp_' "$WORK/w$n.out" || true)" "$(grep -c '^  timestamp_' "$WORK/w1.out" || true)" \
        "--workers $n: packets the flow clock did not take in order, against --workers 1"
done
check_evidence
drops
note "PASS"
