#!/usr/bin/env python3
"""check-zeek-ws.py - flowaudit's WebSocket sessions against Zeek's baselines.

Usage: check-zeek-ws.py FLOWAUDIT CORPUS

For every zeek/ws-*/ directory of the shared capture corpus, reads what
Zeek's btest baselines say about each capture (websocket.log rows, the
websocket_established / websocket_frame / websocket_close lines of the
event scripts' output, weird.log endpoints) and checks that flowaudit -j
reports the same WebSocket sessions: endpoints, Host and URI, close codes
per side, data messages, pings and pongs per side, and no kill (none of
these captures shows a middlebox kill). Prints one line per capture.

A capture that a baseline describes must be in the corpus: a missing one
fails, unless KNOWN_ABSENT names it with the reason.

Exit status: 0 all agree, 1 a disagreement or a missing capture, 77 the
corpus directory is absent.
"""
import json
import os
import re
import subprocess
import sys

FIELD_MAX = 127  # flowaudit keeps paths and hosts up to this many bytes

EXEC = re.compile(r"^#\s*@TEST-EXEC:\s*(.*)$")
ZEEK_RUN = re.compile(r"\bzeek\b.*?-\w*r\s*\$TRACES/+websocket/(\S+)")
REDIRECT = re.compile(r">>?\s*(\S+)\s*$")
ECHO = re.compile(r'^echo\s+"?([^"\s]+)"?\s*>>')
MV = re.compile(r"^mv\s+(\S+)\s+(\S+)")
DIFF = re.compile(r"^btest-diff(?:-cut)?\b.*?\s(\S+)\s*$")
ESTABLISHED = re.compile(r"^websocket_established(?:, (\S+), \d+(?:, \[(.*)\])?)?$")
ENDPOINTS = re.compile(r"orig_h=([^,]+), orig_p=(\d+)/tcp, resp_h=([^,]+), resp_p=(\d+)/tcp")
HOST_URI = re.compile(r"\], host=(.*?), uri=(.*?), user_agent=")
FRAME = re.compile(r"^websocket_frame, (\S+), ([TF]), fin, ([TF]), rsv, \d+, opcode, (\w+), payload_len, \d+$")
CLOSE = re.compile(r"^websocket_close, (\S+), ([TF]), status, (\d+), reason, ")
CLOSE_LENGTH = re.compile(r"^Close length: \d+$")

# Captures that a baseline describes but that the corpus does not hold, and
# why. One that turns up in the corpus fails too, so the list stays true.
KNOWN_ABSENT = {
    "broker-websocket.pcap":
        "named by the shared websocket.events baseline of several zeek/ws-* "
        "cases; its own case (zeek/ws-broker in MANIFEST.md's prose) was not "
        "collected: MANIFEST.json has no row for it",
}


class Session:
    """What Zeek's baselines say about one connection (one uid)."""

    def __init__(self):
        self.established = False
        self.endpoints = None     # (orig_h, orig_p, resp_h, resp_p)
        self.host = None
        self.uri = None
        self.closes = {}          # "T"/"F" -> status
        self.close_events = None  # True when the output lists websocket_close
        self.frames = None        # "T"/"F" -> {"messages", "pings", "pongs"}
        self.unsided_closes = 0   # "Close length" lines in one output


def script_map(script_text):
    """Which capture each output file of a btest script describes.

    Returns (owner, sections, prints_close, prints_frames): owner maps an
    output file to the capture of the zeek run that wrote it; sections
    lists capture names echoed into shared outputs as separators."""
    owner, sections, last = {}, set(), None
    for line in script_text.splitlines():
        m = EXEC.match(line)
        if not m:
            continue
        cmd = m.group(1).strip()
        run = ZEEK_RUN.search(cmd)
        if run:
            last = run.group(1)
            red = REDIRECT.search(cmd)
            if red and red.group(1) not in owner:
                owner[red.group(1)] = last
            continue
        echo = ECHO.match(cmd)
        if echo:
            sections.add(echo.group(1))
            continue
        mv = MV.match(cmd)
        if mv and last:
            owner[mv.group(2)] = owner.get(mv.group(1), last)
            continue
        diff = DIFF.match(cmd)
        if diff and last and diff.group(1) not in owner:
            owner[diff.group(1)] = last
    return (owner, sections, "event websocket_close" in script_text,
            "event websocket_frame(" in script_text)


def read_table(path):
    """Rows of a Zeek log as written by btest-diff-cut or by Zeek itself."""
    fields, rows = None, []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f.read().splitlines():
            if line.startswith("#fields\t"):
                fields = line.split("\t")[1:]
            elif line.startswith("ts\t") and fields is None:
                fields = line.split("\t")
            elif line and not line.startswith("#") and fields:
                rows.append(dict(zip(fields, line.split("\t"))))
    return rows


def session_for(facts, capture, uid):
    return facts.setdefault(capture, {}).setdefault(uid or "-", Session())


def new_frames():
    return {d: {"messages": 0, "pings": 0, "pongs": 0} for d in "TF"}


def read_events(lines, capture, facts, prints_close, prints_frames):
    """One capture's lines of an event script's output."""
    unsided = 0
    for line in lines:
        m = ESTABLISHED.match(line)
        if m:
            s = session_for(facts, capture, m.group(1))
            s.established = True
            rec = m.group(2) or ""
            ep, hu = ENDPOINTS.search(rec), HOST_URI.search(rec)
            if ep:
                s.endpoints = (ep.group(1), int(ep.group(2)), ep.group(3), int(ep.group(4)))
            if hu:
                s.host, s.uri = hu.group(1), hu.group(2)
            s.close_events = s.close_events or prints_close
            if prints_frames and s.frames is None:
                s.frames = new_frames()
            continue
        m = FRAME.match(line)
        if m:
            s = session_for(facts, capture, m.group(1))
            if s.frames is None:
                s.frames = new_frames()
            side, fin, op = m.group(2), m.group(3) == "T", m.group(4)
            if op == "ping":
                s.frames[side]["pings"] += 1
            elif op == "pong":
                s.frames[side]["pongs"] += 1
            elif op in ("text", "binary", "continuation") and fin:
                s.frames[side]["messages"] += 1
            continue
        m = CLOSE.match(line)
        if m:
            session_for(facts, capture, m.group(1)).closes[m.group(2)] = int(m.group(3))
            continue
        if CLOSE_LENGTH.match(line):
            unsided += 1
    if unsided:
        s = session_for(facts, capture, "-")
        s.unsided_closes = max(s.unsided_closes, unsided)


def settle(facts):
    """Facts read without a uid ("-") belong to the capture's only other
    session; a close frame means the WebSocket was established."""
    for sessions in facts.values():
        anon = sessions.get("-")
        named = [s for uid, s in sessions.items() if uid != "-"]
        if anon and len(named) == 1:
            s = named[0]
            s.established |= anon.established
            s.unsided_closes = max(s.unsided_closes, anon.unsided_closes)
            s.closes = s.closes or anon.closes
            s.frames = s.frames or anon.frames
            s.close_events = s.close_events or anon.close_events
            del sessions["-"]
        for s in sessions.values():
            s.established |= bool(s.closes or s.unsided_closes)


def read_output(path, default_capture, sections, facts, prints_close, prints_frames):
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = [l for l in f.read().splitlines() if not l.startswith("###")]
    chunks, current = {}, default_capture
    for line in lines:
        if line in sections:
            current = line
            continue
        chunks.setdefault(current, []).append(line)
    for capture, chunk in chunks.items():
        if capture:
            read_events(chunk, capture, facts, prints_close, prints_frames)


def read_log(path, capture, facts):
    name = os.path.basename(path)
    for row in read_table(path):
        uid = row.get("uid", "-")
        endpoints = None
        if "id.orig_h" in row:
            endpoints = (row["id.orig_h"], int(row["id.orig_p"]), row["id.resp_h"], int(row["id.resp_p"]))
        if name == "websocket.log":
            s = session_for(facts, capture, uid)
            s.established = True
            s.endpoints, s.host, s.uri = endpoints, row.get("host"), row.get("uri")
        elif name.startswith("weird") and endpoints:
            s = session_for(facts, capture, uid)
            if s.endpoints is None:
                s.endpoints = endpoints


def zeek_facts(ws_dirs):
    """capture file name -> {uid: Session} from every baseline. Several
    directories carry the same event output: each distinct file is read
    once."""
    facts, seen = {}, set()
    for ws_dir in ws_dirs:
        expected = os.path.join(ws_dir, "expected")
        for test in sorted(os.listdir(expected)) if os.path.isdir(expected) else []:
            tdir = os.path.join(expected, test)
            try:
                with open(os.path.join(tdir, "btest-script.txt"), encoding="utf-8") as f:
                    script = f.read()
            except OSError:
                continue
            owner, sections, prints_close, prints_frames = script_map(script)
            for name in sorted(os.listdir(tdir)):
                path = os.path.join(tdir, name)
                with open(path, "rb") as f:
                    key = (script, name, f.read())
                if name == "btest-script.txt" or key in seen:
                    continue
                seen.add(key)
                capture = owner.get(name)
                if name.endswith(".log"):
                    if capture:
                        read_log(path, capture, facts)
                else:
                    read_output(path, capture, sections, facts, prints_close, prints_frames)
    settle(facts)
    return facts


def flowaudit_sessions(flowaudit, pcap):
    env = dict(os.environ, TZ="UTC", LC_ALL="C")
    out = subprocess.run([flowaudit, "-q", "--no-progress", "-r", pcap, "-j", "-"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if out.returncode != 0:
        raise RuntimeError("flowaudit exited %d: %s" % (out.returncode, out.stderr.decode(errors="replace")))
    recs = [json.loads(l) for l in out.stdout.decode().splitlines() if l.strip()]
    return [r for r in recs if r.get("type") == "websocket" and r.get("kind") == "websocket"]


def compare(zs, fa):
    """Disagreements between one Zeek session and one flowaudit record."""
    errs = []
    if zs.endpoints:
        got = (fa["client_h"], fa["client_p"], fa["server_h"], fa["server_p"])
        if got != zs.endpoints:
            errs.append("endpoints %s:%d > %s:%d, Zeek %s:%d > %s:%d" % (got + zs.endpoints))
    if fa.get("http_status") != 101:
        errs.append("http_status %s, Zeek says established" % fa.get("http_status"))
    if zs.host is not None and fa.get("http_host") != zs.host[:FIELD_MAX]:
        errs.append("http_host %r, Zeek %r" % (fa.get("http_host"), zs.host))
    if zs.uri is not None and fa.get("http_path") != zs.uri[:FIELD_MAX]:
        errs.append("http_path %r, Zeek uri %r" % (fa.get("http_path"), zs.uri))
    for side, who in (("T", "client"), ("F", "server")):
        got = fa.get(who + "_close_code")
        if side in zs.closes and got != zs.closes[side]:
            errs.append("%s close code %s, Zeek status %d" % (who, got, zs.closes[side]))
        elif side not in zs.closes and zs.close_events and got is not None:
            errs.append("%s close code %s, Zeek saw no close frame" % (who, got))
        if zs.frames:
            for what in ("messages", "pings", "pongs"):
                if fa.get("%s_%s" % (who, what)) != zs.frames[side][what]:
                    errs.append("%s %s %s, Zeek %d" % (who, what, fa.get("%s_%s" % (who, what)),
                                                         zs.frames[side][what]))
    if zs.unsided_closes:
        closes = sum(fa.get(w + "_close_code") is not None for w in ("client", "server"))
        if closes != zs.unsided_closes:
            errs.append("%d close frames, Zeek %d" % (closes, zs.unsided_closes))
    if zs.closes and fa.get("ending") != "clean":
        errs.append("ending %s after close frames" % fa.get("ending"))
    if fa.get("killed"):
        errs.append("reported killed (%s): %s" % (fa.get("ending"), fa.get("evidence")))
    return errs


def check_capture(flowaudit, pcap, label, sessions):
    found = flowaudit_sessions(flowaudit, pcap)
    zeek = [s for s in sessions.values() if s.established]
    errs = []
    if len(found) != len(zeek):
        errs.append("%d WebSocket sessions, Zeek %d" % (len(found), len(zeek)))
    for zs in zeek:
        match = [f for f in found if not zs.endpoints or
                 (f["client_h"], f["client_p"], f["server_h"], f["server_p"]) == zs.endpoints]
        if not match:
            errs.append("no session for Zeek's %s" % (zs.endpoints,))
            continue
        errs += compare(zs, match[0])
    if errs:
        for e in errs:
            print("FAIL %s: %s" % (label, e))
        return False
    for f in found:
        print("ok   %s: %s:%d > %s:%d %s %s, close %s/%s, msgs %d/%d, %s" % (
            label, f["client_h"], f["client_p"], f["server_h"], f["server_p"], f["http_host"],
            f["http_path"][:40], f["client_close_code"], f["server_close_code"], f["client_messages"],
            f["server_messages"], f["ending"]))
    return True


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    flowaudit, corpus = sys.argv[1], os.path.join(sys.argv[2], "zeek")
    if not os.path.isdir(sys.argv[2]):
        print("skip: no corpus at %s" % sys.argv[2])
        return 77
    dirs = sorted(os.path.join(corpus, d) for d in os.listdir(corpus)
                  if d.startswith("ws-")) if os.path.isdir(corpus) else []
    if not dirs:
        print("FAIL: the corpus at %s has no zeek/ws-* captures" % sys.argv[2])
        return 1
    pcaps = {}
    for d in dirs:
        for name in sorted(os.listdir(d)):
            if name.endswith((".pcap", ".pcapng")):
                pcaps[name] = os.path.join(d, name)
    facts = zeek_facts(dirs)
    ok = True
    for capture, sessions in sorted(facts.items()):
        if capture not in pcaps:
            if capture in KNOWN_ABSENT:
                print("absent %s: %s" % (capture, KNOWN_ABSENT[capture]))
            else:
                print("FAIL %s: in a baseline, not in the corpus" % capture)
                ok = False
            continue
        if capture in KNOWN_ABSENT:
            print("FAIL %s: in the corpus after all: take it out of KNOWN_ABSENT" % capture)
            ok = False
        label = os.path.relpath(pcaps[capture], corpus)
        ok &= check_capture(flowaudit, pcaps[capture], label, sessions)
    for name in sorted(set(pcaps) - set(facts)):
        print("FAIL %s: no Zeek baseline names it" % os.path.relpath(pcaps[name], corpus))
        ok = False
    print("%d of %d captures checked" % (len(set(pcaps) & set(facts)), len(pcaps)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
