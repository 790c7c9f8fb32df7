#!/usr/bin/env python3
"""time-elements-test.py - every IPFIX flow time element is read.

Usage: time-elements-test.py FLOWAUDIT

One UDP record per way an exporter can date a flow (RFC 7011 section 6.1
encodings; IANA elements 150/151 seconds, 152/153 milliseconds, 154/155
microseconds and 156/157 nanoseconds as NTP timestamps (seconds since
1900, 32-bit fraction), 22/21 flowStart/EndSysUpTime with 160
systemInitTimeMilliseconds), each under a template of its own, and one
record with no time at all, written field by field below; ipfixDump must
read every record back (skipped when it is absent). The expected start
and duration of each flow are the values written, converted by hand:
NTP = Unix + 2208988800 s; SysUpTime + systemInitTime = Unix ms. The
record without a time must be counted malformed, with the reason, not
dated 1970.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import ipfix_bytes as ipfix

NTP = 2208988800
ADDR = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (2, 8)]


def ntp(unix_s, frac):
    return ((unix_s + NTP) << 32) | int(frac * (1 << 32))


# template id, time elements, their values, expected (ts, duration)
CASES = [
    (256, [(150, 4), (151, 4)], "!II", (1700000000, 1700000002), (1700000000.0, 2.0)),
    (257, [(152, 8), (153, 8)], "!QQ", (1700000010250, 1700000011250), (1700000010.25, 1.0)),
    (258, [(154, 8), (155, 8)], "!QQ", (ntp(1700000020, 0.25), ntp(1700000021, 0.75)), (1700000020.25, 1.5)),
    (259, [(156, 8), (157, 8)], "!QQ", (ntp(1700000030, 0.5), ntp(1700000030, 0.75)), (1700000030.5, 0.25)),
    (260, [(22, 4), (21, 4), (160, 8)], "!IIQ", (1000250, 1003250, 1699999040000), (1700000040.25, 3.0)),
    (261, [], "!", (), None),
]


def data(tid, k, fmt, values):
    rec = struct.pack("!4s4sHHBQ", bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2]), 40000 + k, 53, 17, 1)
    return ipfix.data_set(tid, [rec + struct.pack(fmt, *values)])


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "times.ipfix")
        with open(path, "wb") as f:
            f.write(ipfix.message([ipfix.template_set(t, ADDR + times) for t, times, *_ in CASES], 1700000000))
            f.write(ipfix.message([data(t, k, fmt, values) for k, (t, _, fmt, values, _) in enumerate(CASES)],
                                  1700000000))
        if shutil.which("ipfixDump"):
            dump = subprocess.run(["ipfixDump", "--in", path], capture_output=True, text=True)
            if dump.stdout.count("--- data record") != len(CASES):
                print("ipfixDump does not read the file back: %s" % dump.stderr)
                return 1
        out = subprocess.run([argv[1], "-j", "-", "-r", path], capture_output=True, text=True)
    flows = {}
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            rec = json.loads(line)
            if rec["type"] == "flow":
                flows[rec["id.orig_p"] - 40000] = (rec["ts"], rec["duration"])
    bad = 0
    for k, (tid, _, _, _, want) in enumerate(CASES):
        got = flows.get(k)
        if want is None and got is None:
            continue
        if got is None or want is None or abs(got[0] - want[0]) > 1e-3 or abs(got[1] - want[1]) > 1e-3:
            print("template %d: want (ts, duration) %s, got %s" % (tid, want, got))
            bad += 1
    text = out.stdout + out.stderr
    if "skipped 1 malformed" not in text or "1 record with no flow start time" not in text:
        print("the record without a time is not counted malformed with its reason:\n%s%s"
              % ("\n".join(line for line in out.stdout.splitlines() if "malformed" in line), out.stderr))
        bad += 1
    print("%d records, %d wrong" % (len(CASES), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
