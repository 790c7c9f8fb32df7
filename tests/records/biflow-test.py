#!/usr/bin/env python3
"""biflow-test.py - IPFIX biflow records (RFC 5103) judged as their facts say.

Usage: biflow-test.py FLOWAUDIT

pmacctd exports one direction per record, so the biflow path (reverse
counters and reverseTcpControlBits), a firewall's "flow denied" and an ICMP
unreachable record are checked here on a file written below, field by
field (RFC 7011 message and template layout, RFC 5103 reverse elements:
enterprise bit, PEN 29305). libfixbuf's ipfixDump must read it back with
every record (skipped when ipfixDump is absent). The expectations are
docs/detection.md's rules applied by hand to each record's flags and
counts, written next to each record.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import ipfix_bytes as ipfix

# (IE, length, reverse?)
FIELDS = [(152, 8, False), (153, 8, False), (8, 4, False), (12, 4, False), (7, 2, False),
          (11, 2, False), (4, 1, False), (6, 2, False), (2, 8, False), (1, 8, False),
          (2, 8, True), (1, 8, True), (6, 2, True), (233, 1, False), (32, 2, False)]
T0 = 1700000000000
SYN, RST, ACK, FIN = 0x02, 0x04, 0x10, 0x01

# start ms, src, dst, sport, dport, proto, flags, pkts, rflags, rpkts, fw event, icmp type/code
# -> expected (conn_state, attempt, extra fields)
RECORDS = [
    ((0, "10.0.0.1", "10.0.0.2", 40001, 443, 6, SYN, 2, 0, 0, 0, 0),
     ("S0", "blocked", {})),                       # a SYN sent twice, nothing back
    ((1000, "10.0.0.1", "10.0.0.2", 40002, 444, 6, SYN, 1, RST | ACK, 1, 0, 0),
     ("REJ", "rejected", {})),                     # SYN answered by RST-ACK
    ((2000, "10.0.0.1", "10.0.0.2", 40003, 445, 6, SYN | ACK | FIN, 5, SYN | ACK | FIN, 4, 0, 0),
     ("SF", "seen", {"history": "ShFf"})),          # handshake and FINs both ways
    ((3000, "10.0.0.1", "10.0.0.2", 40004, 53, 17, 0, 1, 0, 1, 3, 0),
     ("S0", "blocked", {"firewall_event": "denied"})),  # denied: what came back is not an answer
    ((4000, "10.0.0.1", "10.0.0.3", 40005, 161, 17, 0, 1, 0, 0, 0, 0),
     ("S0", "rejected", {"icmp_match": "host_pair_time", "icmp_type": 3, "icmp_code": 3})),
    ((4000, "10.0.0.3", "10.0.0.1", 0, 0, 1, 0, 1, 0, 0, 0, 0x0303),
     ("OTH", None, {})),                           # the port unreachable that refused it
    ((5000, "10.0.0.1", "10.0.0.4", 40006, 22, 6, SYN | ACK, 3, 0, 0, 0, 0),
     ("S0", "unconfirmed", {})),                   # ACKs sent, no answer recorded
]


def data_set():
    return ipfix.data_set(256, [
        struct.pack("!QQ4s4sHHBHQQQQHBH", T0 + start, T0 + start + 10, ipfix.ip4(src), ipfix.ip4(dst), sp, dp,
                    proto, fl, pk, pk * 60, rpk, rpk * 60, rfl, fw, icmp)
        for (start, src, dst, sp, dp, proto, fl, pk, rfl, rpk, fw, icmp), _ in RECORDS])


def main(argv):
    flowaudit = argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "biflow.ipfix")
        with open(path, "wb") as f:
            f.write(ipfix.message([ipfix.template_set(256, FIELDS)], T0 // 1000)
                    + ipfix.message([data_set()], T0 // 1000))
        if shutil.which("ipfixDump"):
            dump = subprocess.run(["ipfixDump", "--in", path], capture_output=True, text=True)
            if dump.stdout.count("--- data record") != len(RECORDS):
                print("ipfixDump does not read the file back: %s" % dump.stderr)
                return 1
        out = subprocess.run([flowaudit, "-q", "-j", "-", "-r", path, "--rules",
                              os.path.join(os.path.dirname(__file__), "../../rules")],
                             capture_output=True, text=True)
    flows = [json.loads(line) for line in out.stdout.splitlines() if '"type":"flow"' in line]
    by_start = {}
    for rec in flows:
        by_start.setdefault((rec["id.orig_h"], rec["id.orig_p"], rec["id.resp_h"], rec["id.resp_p"]), rec)
    bad = 0
    for (start, src, dst, sp, dp, proto, *_), (state, attempt, extra) in RECORDS:
        if proto == 1:
            sp, dp = 3, 3
        rec = by_start.get((src, sp, dst, dp))
        want = {"conn_state": state, "evidence": "flow-record", **extra}
        if attempt:
            want["attempt"] = attempt
        got = {k: rec.get(k) for k in want} if rec else None
        if got != want:
            print("%s:%d > %s:%d: want %s, got %s" % (src, sp, dst, dp, want, got))
            bad += 1
    if len(flows) != len(RECORDS):
        print("%d flows, want %d: %s" % (len(flows), len(RECORDS), out.stderr))
        bad += 1
    print("%d records, %d wrong" % (len(RECORDS), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
