#!/usr/bin/env python3
"""join-window-test.py - uniflows of an IPFIX file joined or summed only
when their times lie within 60 s of each other.

Usage: join-window-test.py FLOWAUDIT

The file is written below field by field (RFC 7011 message and template
layout; a uniflow template as pmacctd's nfprobe sends), and libfixbuf's
ipfixDump must read every record back (skipped when it is absent). Each
key's expectation comes from docs/detection.md ("Flow records as input":
a uniflow waits at most 60 s for its other direction, the same window
joins and sums) applied by hand, and is written next to its records.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import ipfix_bytes as ipfix

FIELDS = [(152, 8), (153, 8), (8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (2, 8), (1, 8)]
T0 = 1700000000000
SYN, ACK = 0x02, 0x10

# start s, src, sport, dst, dport, proto, flags
RECORDS = [
    (0, "192.0.2.1", 40001, "192.0.2.53", 53, 17, 0),        # a query ...
    (100, "192.0.2.1", 40002, "192.0.2.80", 443, 6, SYN),    # a SYN ...
    (100.5, "192.0.2.80", 443, "192.0.2.1", 40002, 6, SYN | ACK),  # ... answered at once
    (200, "192.0.2.1", 40003, "192.0.2.80", 80, 6, SYN),     # a SYN ...
    (300, "192.0.2.1", 40004, "192.0.2.80", 81, 6, SYN),     # a SYN ...
    (330, "192.0.2.1", 40004, "192.0.2.80", 81, 6, SYN),     # ... again 30 s later: one flow
    (3800, "192.0.2.1", 40003, "192.0.2.80", 80, 6, SYN),    # ... again an hour later: another
    (7200, "192.0.2.53", 53, "192.0.2.1", 40001, 17, 0),     # ... and a datagram back 2 h later
]

# (orig, orig_p, resp, resp_p) -> [(joined, orig_pkts, resp_pkts)] of its flows, by hand
EXPECTED = {
    ("192.0.2.1", 40001, "192.0.2.53", 53): [(False, 1, 0)],
    ("192.0.2.53", 53, "192.0.2.1", 40001): [(False, 1, 0)],
    ("192.0.2.1", 40002, "192.0.2.80", 443): [(True, 1, 1)],
    ("192.0.2.1", 40003, "192.0.2.80", 80): [(False, 1, 0), (False, 1, 0)],
    ("192.0.2.1", 40004, "192.0.2.80", 81): [(False, 2, 0)],
}


def data_set():
    recs = []
    for start, src, sp, dst, dp, proto, fl in RECORDS:
        ms = T0 + int(start * 1000)
        recs.append(struct.pack("!QQ4s4sHHBBQQ", ms, ms + 10, ipfix.ip4(src), ipfix.ip4(dst), sp, dp, proto, fl,
                                1, 60))
    return ipfix.data_set(256, recs)


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "window.ipfix")
        with open(path, "wb") as f:
            f.write(ipfix.message([ipfix.template_set(256, FIELDS)], T0 // 1000)
                    + ipfix.message([data_set()], T0 // 1000))
        if shutil.which("ipfixDump"):
            dump = subprocess.run(["ipfixDump", "--in", path], capture_output=True, text=True)
            if dump.stdout.count("--- data record") != len(RECORDS):
                print("ipfixDump does not read the file back: %s" % dump.stderr)
                return 1
        out = subprocess.run([argv[1], "-q", "-j", "-", "-r", path], capture_output=True, text=True)
        rules = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../rules")
        report = subprocess.run([argv[1], "-r", path, "--rules", rules], capture_output=True, text=True).stdout
    got, bad = {}, 0
    for line in out.stdout.splitlines():
        rec = json.loads(line)
        if rec["type"] == "flow":
            key = (rec["id.orig_h"], rec["id.orig_p"], rec["id.resp_h"], rec["id.resp_p"])
            got.setdefault(key, []).append((rec.get("joined_uniflows", False), rec["orig_pkts"], rec["resp_pkts"]))
            if rec["duration"] > 60:
                print("%s: duration %s s, longer than the window" % (key, rec["duration"]))
                bad += 1
    for key in sorted(set(EXPECTED) | set(got)):
        if sorted(got.get(key, [])) != sorted(EXPECTED.get(key, [])):
            print("%s: want %s, got %s" % (key, EXPECTED.get(key), got.get(key)))
            bad += 1
    # One pair joined (40002): the report's header says so in the singular.
    if "1 flow joined by its 5-tuple from two uniflow records" not in report:
        print("the report does not count 1 flow joined: %s" % report[:800])
        bad += 1
    print("%d records, %d keys wrong" % (len(RECORDS), bad))
    return 1 if bad or out.returncode not in (0, 1) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
