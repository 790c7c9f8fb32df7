#!/usr/bin/env python3
"""check-real-ws.py - flowaudit's verdict on each real WebSocket capture.

Usage: check-real-ws.py FLOWAUDIT PCAPDIR

PCAPDIR is pcaps/real. The expected values are the facts its README.md
states for each ws-*.pcap (how the session ended, on which side, after how
much idle, close codes and data messages per side). Prints one line per
run; exit status 0 when all agree, 1 otherwise.
"""
import json
import os
import subprocess
import sys

# capture, extra options, expected fields; "idle" is idle_before_end with
# 0.1 s of slack (run-to-run jitter of the lab's timers).
CASES = [
    ("ws-clean.pcap", [], {
        "ending": "clean", "side": None, "killed": False, "client_close_code": 1000,
        "server_close_code": 1000, "client_messages": 3, "server_messages": 4,
        "client_pings": 0, "server_pings": 0}),
    ("ws-nginx-idle.pcap", [], {
        "ending": "killed_idle_close", "side": "server", "killed": True, "idle": 3.0,
        "server_h": "192.0.2.20", "server_p": 80, "client_close_code": None,
        "server_close_code": None, "client_messages": 2, "server_messages": 3}),
    ("ws-nginx-idle-5s.pcap", [], {
        "ending": "killed_idle_close", "side": "server", "killed": True, "idle": 5.0,
        "server_h": "192.0.2.20", "server_p": 80, "client_close_code": None,
        "server_close_code": None, "client_messages": 2, "server_messages": 3,
        "evidence~": "longest silence"}),
    ("ws-blackhole.pcap", [], {
        "ending": "killed_black_hole", "side": "client", "killed": True, "idle": 8.0,
        "client_close_code": None, "server_close_code": None, "client_messages": 3,
        "server_messages": 3, "evidence~": "7 retransmissions"}),
    ("ws-rst-inject.pcap", [], {
        "ending": "killed_rst_injected", "side": "server", "killed": True, "idle": 8.0,
        "client_close_code": None, "server_close_code": None, "evidence~": "RST with TTL 64"}),
    # Judged on the first RST (TTL 64), not the server's own later one (63).
    ("ws-rst-endpoint-rst.pcap", [], {
        "ending": "killed_rst_injected", "side": "server", "killed": True, "idle": 3.0,
        "client_close_code": None, "server_close_code": None, "client_messages": 3,
        "server_messages": 3, "evidence~": "RST with TTL 64"}),
    ("ws-open.pcap", [], {
        "ending": "still_open", "side": None, "killed": False, "client_close_code": None,
        "server_close_code": None, "client_messages": 3, "server_messages": 4}),
    ("ws-pings.pcap", [], {
        "ending": "clean", "side": None, "killed": False, "client_pings": 7, "server_pongs": 7,
        "client_pongs": 0, "server_pings": 0, "client_messages": 1, "server_messages": 2,
        "client_close_code": 1000, "server_close_code": 1000}),
]

COMMON = {"client_h": "198.51.100.10", "client_p": 40001, "kind": "websocket", "confidence": "high",
          "http_status": 101, "http_path": "/ws", "client_frames_unparsed": False,
          "server_frames_unparsed": False}


def run(flowaudit, pcap, extra):
    env = dict(os.environ, TZ="UTC", LC_ALL="C")
    out = subprocess.run([flowaudit, "-q", "--no-progress", "-r", pcap, "-j", "-"] + extra, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    recs = [json.loads(l) for l in out.stdout.decode().splitlines() if l.strip()]
    return out.returncode, [r for r in recs if r.get("type") == "websocket"]


def check(rec, want):
    errs = []
    for key, value in sorted(dict(COMMON, **want).items()):
        if key == "idle":
            got = rec.get("idle_before_end")
            if not isinstance(got, (int, float)) or abs(got - value) > 0.1:
                errs.append("idle_before_end %s, expected %.1f" % (got, value))
        elif key.endswith("~"):
            if value not in str(rec.get(key[:-1])):
                errs.append("%s %r lacks %r" % (key[:-1], rec.get(key[:-1]), value))
        elif rec.get(key, "<absent>") != value:
            errs.append("%s %r, expected %r" % (key, rec.get(key, "<absent>"), value))
    return errs


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    flowaudit, pdir = sys.argv[1], sys.argv[2]
    ok = True
    for name, extra, want in CASES:
        label = " ".join([name] + extra)
        rc, recs = run(flowaudit, os.path.join(pdir, name), extra)
        errs = ["exit status %d" % rc] if rc != 0 else []
        if len(recs) != 1:
            errs.append("%d WebSocket sessions, expected 1" % len(recs))
        else:
            errs += check(recs[0], want)
        for e in errs:
            print("FAIL %s: %s" % (label, e))
        if not errs:
            print("ok   %s: %s, %s" % (label, recs[0]["ending"], recs[0]["evidence"] or "-"))
        ok &= not errs
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
