#!/usr/bin/env python3
"""evidence-flood.py - under a flood, -w still writes the packets that
prove each flagged flow's verdict, and counts the flows whose proof the
key store had no room for.

Usage: evidence-flood.py FLOWAUDIT SRCDIR WORKDIR

The capture: FLOWS connection attempts, one SYN each from its own source
port, to port 9 (discard) of a documentation address, 100000 a second;
nothing answers. Audited by port only (--rules, no site), every attempt is
undocumented, so every flow is flagged. With --max-flows 50000 a flow is
evicted when 50000 newer ones have started, long after the 41120-packet
ring of --evidence-buffer 16 has overwritten its SYN: the ring alone keeps
the SYNs of the last flows only. The key store (--evidence-keys 32, a SYN
in 160 bytes, 50000 active flows at most) must keep every one, and the
evidence file hold FLOWS flows of one packet each.

Run again with --evidence-keys 1 (6553 slots), the store cannot hold the
SYNs of 50000 active flows: the flows it lost must be counted, and the
flows written without a packet must be among them.
Standard library only.
"""
import os
import re
import struct
import subprocess
import sys

T0 = 1700000000
FLOWS = 120000
MAX_FLOWS = 50000


def syn(i):
    """A SYN from 192.0.2.(1..250), a port of its own, to 198.51.100.9:9."""
    src = bytes([192, 0, 2, 1 + i % 250])
    sport = 1024 + i // 250
    tcp = struct.pack("!HHIIBBHHH", sport, 9, i, 0, 5 << 4, 0x02, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, i & 0xFFFF, 0x4000, 64, 6, 0, src,
                     bytes([198, 51, 100, 9])) + tcp
    return bytes.fromhex("020000000002020000000001") + b"\x08\x00" + ip


def write_flood(path):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(FLOWS):
            frame = syn(i)
            usec = i * 10
            f.write(struct.pack("<IIII", T0 + usec // 1000000, usec % 1000000, len(frame),
                                len(frame)) + frame)


def evidence_line(out):
    """The numbers of the summary's two evidence lines."""
    m = re.search(r"evidence\s+(\d+) flagged flows, (\d+) packets written \((\d+) of them key", out)
    n = re.search(r"evidence\s+(\d+) flagged flows lost a SYN.*?, (\d+) a first payload or last "
                  r"packet; (\d+) have no packet at all", out)
    if not m or not n:
        sys.exit("no evidence lines in:\n" + out)
    return [int(x) for x in m.groups() + n.groups()]


def audit(flowaudit, src, pcap, evidence, keys_mib):
    cmd = [flowaudit, "--no-progress", "--rules", os.path.join(src, "rules"), "-r", pcap,
           "--max-flows", str(MAX_FLOWS), "-w", evidence, "--evidence-keys", str(keys_mib)]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    out = p.stdout.decode()
    if p.returncode not in (0, 1):
        sys.exit("%s: exit %d\n%s" % (" ".join(cmd), p.returncode, out))
    return evidence_line(out)


def flows_in(flowaudit, pcap):
    """Flows and packets of a capture, read back by flowaudit."""
    p = subprocess.run([flowaudit, "--no-progress", "-r", pcap], stdout=subprocess.PIPE, timeout=120)
    out = p.stdout.decode()
    packets = int(re.search(r"^input\s+\d+ files?, (\d+) packets", out, re.M).group(1))
    flows = int(re.search(r"^flows\s+(\d+)", out, re.M).group(1))
    return flows, packets


def main():
    if len(sys.argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    flowaudit, src, work = sys.argv[1:]
    os.makedirs(work, exist_ok=True)
    pcap, evidence = os.path.join(work, "flood.pcap"), os.path.join(work, "evidence.pcap")
    write_flood(pcap)
    failed = []

    flagged, written, keys, lost, thin, empty = audit(flowaudit, src, pcap, evidence, 32)
    print("keys 32 MiB: %d flagged, %d packets written (%d from the key store), %d lost, %d thin, "
          "%d empty" % (flagged, written, keys, lost, thin, empty))
    if flagged != FLOWS or written != FLOWS or lost or thin or empty:
        failed.append("every flagged flow's SYN must be written, none lost")
    if keys < FLOWS - 41120:
        failed.append("the SYNs the ring lost must come from the key store")
    if flows_in(flowaudit, evidence) != (FLOWS, FLOWS):
        failed.append("the evidence file must hold %d flows of one packet" % FLOWS)

    flagged, written, keys, lost, thin, empty = audit(flowaudit, src, pcap, evidence, 1)
    print("keys 1 MiB: %d flagged, %d packets written (%d from the key store), %d lost, %d thin, "
          "%d empty" % (flagged, written, keys, lost, thin, empty))
    if not lost or empty > lost or written + empty != FLOWS:
        failed.append("a full key store: lost flows counted, every flow without a packet among them")

    for f in failed:
        print("FAIL: " + f)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
