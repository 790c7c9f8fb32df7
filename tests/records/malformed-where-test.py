#!/usr/bin/env python3
"""malformed-where-test.py - the summary names where the first malformed
record is, and a file with bytes but no record says so.

Usage: malformed-where-test.py FLOWAUDIT SRC

- Zeek TSV: SRC's tests/records/ras-broken.conn.log with its 12th and
  20th lines cut to one field: the summary must give FILE:12, the first;
- IPFIX (RFC 7011 layout written below): a message of two templates, one
  without addresses, a message of one record under the other, then a
  message of one record without addresses (docs/detection.md: malformed),
  then a good one: the summary must give the third message's byte offset
  (the two before it, counted here);
- a conn.log of its header alone, and an IPFIX file of a template alone:
  stderr must say the file has bytes and no flow record in it.
"""
import os
import struct
import subprocess
import sys
import tempfile

FIELDS = [(152, 8), (153, 8), (8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (2, 8)]


def message(sets, seq):
    body = b"".join(sets)
    return struct.pack("!HHIII", 10, 16 + len(body), 1700000000, seq, 1) + body


NO_ADDR = [(152, 8), (153, 8), (7, 2), (11, 2), (4, 1), (2, 8)]


def template_set():
    rec = b"".join(struct.pack("!HH", tid, len(fields)) + b"".join(struct.pack("!HH", i, n) for i, n in fields)
                   for tid, fields in ((256, FIELDS), (257, NO_ADDR)))
    return struct.pack("!HH", 2, 4 + len(rec)) + rec


def no_addr_set(k):
    rec = struct.pack("!QQHHBQ", 1700000000000 + k, 1700000000010 + k, 40000 + k, 53, 17, 1)
    return struct.pack("!HH", 257, 4 + len(rec)) + rec


def data_set(tid, k):
    rec = struct.pack("!QQ4s4sHHBQ", 1700000000000 + k, 1700000000010 + k, bytes([192, 0, 2, 1]),
                      bytes([192, 0, 2, 2]), 40000 + k, 53, 17, 1)
    return struct.pack("!HH", tid, 4 + len(rec)) + rec


def run(flowaudit, path):
    out = subprocess.run([flowaudit, "-r", path], capture_output=True, text=True)
    return out.stdout + out.stderr


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    flowaudit, src = argv[1], argv[2]
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        lines = open(os.path.join(src, "tests/records/ras-broken.conn.log")).read().split("\n")
        for n in (12, 20):
            lines[n - 1] = lines[n - 1].split("\t")[0]
        tsv = os.path.join(tmp, "cut.conn.log")
        with open(tsv, "w") as f:
            f.write("\n".join(lines))
        text = run(flowaudit, tsv)
        if "skipped 2 malformed" not in text or "the first at %s:12\n" % tsv not in text:
            problems.append("TSV: want 2 malformed, the first at %s:12: %s" % (tsv, text[:600]))

        msgs = [message([template_set()], 0), message([data_set(256, 0)], 0), message([no_addr_set(1)], 1),
                message([data_set(256, 2)], 1)]
        ipfix = os.path.join(tmp, "bad.ipfix")
        with open(ipfix, "wb") as f:
            f.write(b"".join(msgs))
        at = len(msgs[0]) + len(msgs[1])
        text = run(flowaudit, ipfix)
        if "the first at %s: the message at byte %d\n" % (ipfix, at) not in text:
            problems.append("IPFIX: want the first malformed at byte %d: %s" % (at, text[:600]))

        header = os.path.join(tmp, "header.conn.log")
        with open(header, "w") as f:
            f.write("\n".join(l for l in lines if l.startswith("#")) + "\n")
        alone = os.path.join(tmp, "template.ipfix")
        with open(alone, "wb") as f:
            f.write(msgs[0])
        for path in (header, alone):
            text = run(flowaudit, path)
            want = "flowaudit: %s: %d bytes and no flow record in them" % (path, os.path.getsize(path))
            if want not in text:
                problems.append("%s: want %r: %s" % (os.path.basename(path), want, text[:600]))
    for p in problems:
        print(p)
    print("%d problems" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
