#!/usr/bin/env python3
"""check-agreement.py - verdicts from flow records against verdicts from packets.

Usage: check-agreement.py FLOWAUDIT PCAP RECORDS [--unmask] [-- OPTIONS...]

Runs flowaudit on the capture and on the flow records of the same traffic
with the same options, and compares, per connection (the 5-tuple, its two
ends in sorted order: which end opened is in the verdict, documented or
wrong_direction), the verdicts and attempts, and per rule the status of
each port.
The capture is the reference: its verdicts come from packets. Every record
flow must also say "evidence":"flow-record". --unmask replaces the masked
times of Zeek's btest baselines (XXXXXXXXXX.XXXXXX) by 0 before reading.
Exit 0 when they agree, 1 with the differences listed, 2 on error.
"""
import json
import os
import subprocess
import sys
import tempfile


def run(flowaudit, path, opts):
    out = subprocess.run([flowaudit, "-q", "--no-progress", "-j", "-", "-r", path] + opts,
                         capture_output=True, text=True)
    if out.returncode not in (0, 1):
        raise RuntimeError("%s: exit %d: %s" % (path, out.returncode, out.stderr.strip()))
    return parse(out.stdout)


def parse(ndjson):
    """Verdicts per connection and port statuses per rule, from NDJSON."""
    flows, ports = {}, {}
    for line in ndjson.splitlines():
        rec = json.loads(line)
        if rec["type"] == "flow":
            ends = sorted([(rec["id.orig_h"], rec["id.orig_p"]), (rec["id.resp_h"], rec["id.resp_p"])])
            key = (ends[0], ends[1], rec["proto"])
            flows.setdefault(key, []).append((rec.get("verdict"), rec.get("attempt"), rec.get("evidence")))
        elif rec["type"] == "rule":
            for p in rec.get("ports") or []:
                ports[(rec["rule_id"], p["port"])] = p["status"]
    return flows, ports


def compare(pkt, rec):
    diffs = []
    (pf, pp), (rf, rp) = pkt, rec
    for key in sorted(set(pf) | set(rf)):
        want = sorted((v, a) for v, a, _ in pf.get(key, []))
        got = sorted((v, a) for v, a, _ in rf.get(key, []))
        if want != got:
            diffs.append("flow %s: packets %s, records %s" % (key, want, got))
        if any(e != "flow-record" for _, _, e in rf.get(key, [])):
            diffs.append("flow %s: a record flow without evidence flow-record" % (key,))
    for key in sorted(set(pp) | set(rp)):
        if pp.get(key) != rp.get(key):
            diffs.append("rule %s port %s: packets %s, records %s" % (key[0], key[1], pp.get(key), rp.get(key)))
    return diffs


def listed_differences(path, prefix, cases):
    """The lines of a differences file ("[PREFIX ]CASE difference") for cases."""
    out = []
    with open(path) as f:
        for line in f:
            words = line.rstrip("\n").split(" ")
            if prefix and words[0] != prefix:
                continue
            if words[1 if prefix else 0] in cases:
                out.append(line.rstrip("\n"))
    return out


def same_as_listed(found, known):
    """Prints each difference found but not listed and listed but not found."""
    for line in sorted(set(found) - set(known)):
        print("new difference: " + line)
    for line in sorted(set(known) - set(found)):
        print("listed difference not found: " + line)
    return set(found) == set(known)


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    flowaudit, pcap, records = argv[1:4]
    rest = argv[4:]
    unmask = "--unmask" in rest
    opts = rest[rest.index("--") + 1:] if "--" in rest else []
    with tempfile.TemporaryDirectory() as tmp:
        if unmask:
            path = os.path.join(tmp, "conn.log")
            with open(records) as src, open(path, "w") as dst:
                dst.write(src.read().replace("XXXXXXXXXX.XXXXXX", "0.000000"))
            records = path
        try:
            diffs = compare(run(flowaudit, pcap, opts), run(flowaudit, records, opts))
        except (RuntimeError, ValueError, KeyError) as e:
            print(e, file=sys.stderr)
            return 2
    for d in diffs:
        print(d)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
