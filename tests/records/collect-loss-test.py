#!/usr/bin/env python3
"""collect-loss-test.py - records lost before flowaudit --collect read them.

Usage: collect-loss-test.py FLOWAUDIT SRC

An IPFIX exporter written here (RFC 7011 by hand: one template, then
messages of 40 TCP SYN records each, the header's sequence number counting
the data records sent before it in the observation domain) sends to
flowaudit --collect udp:127.0.0.1:PORT (SRC's rules, sites/hyworks.site):

libfixbuf's own messages (out of sequence) must come on stderr prefixed
with the input they concern, at most 10, never raw from GLib; in gaps,
one per gap, from the collector and from -r of the messages sent, kept as
a file.

- gaps: 200 messages, paced, from two observation domains; the 50th
  message of domain 1 and the 71st and 72nd of domain 2 are not sent.
  The summary must say 120 records lost by the sequence numbers (40 + 80,
  the sender's count), the final report record export_records_missed 120,
  the records collected 200 * 40 - 120 (the rest), and the text report
  warn that a verdict may be wrong;
- burst: 30000 messages (1,200,000 records) as fast as the socket takes
  them, then one more after a pause. Whatever was not collected must be
  accounted for: records collected plus records lost by the sequence
  numbers make what was sent; the kernel's count of datagrams its socket
  buffer dropped, 40 records each, makes the same loss (on the loopback
  nothing else loses them); the report warns when records were lost.
"""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import ipfix_bytes as ipfix

FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (152, 8), (153, 8), (2, 8), (1, 8)]
PER_MSG = 40
OPTS = []
T0 = 1700000000000


def message(k, seq, domain, with_template):
    recs = [struct.pack("!4s4sHHBBQQQQ", bytes([192, 0, 2, 11]), bytes([192, 0, 2, 12]),
                        (k * PER_MSG + j) % 60000 + 1024, 38866, 6, 0x02, T0 + k, T0 + k, 1, 60)
            for j in range(PER_MSG)]
    sets = ([ipfix.template_set(256, FIELDS)] if with_template else []) + [ipfix.data_set(256, recs)]
    return ipfix.message(sets, T0 // 1000, seq, domain)


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(flowaudit, tmp, name, send):
    """Starts a collector, lets send(port) export, stops it: (summary text,
    report records, stderr)."""
    port = free_udp_port()
    text_path, json_path = os.path.join(tmp, name + ".txt"), os.path.join(tmp, name + ".json")
    with open(text_path, "w") as text:
        proc = subprocess.Popen([flowaudit, "--no-progress", "--collect", "udp:127.0.0.1:%d" % port, "-j", json_path] + OPTS,
                                stdout=text, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    if "collecting" not in line:
        raise RuntimeError("collector did not start: " + line + proc.communicate(timeout=30)[1])
    send(port)
    time.sleep(2.0)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=120)[1]
    if proc.returncode not in (0, 1) or "Sanitizer" in err or "runtime error:" in err:
        raise RuntimeError("%s: exit %d: %s" % (name, proc.returncode, err.strip()[-800:]))
    with open(json_path) as f:
        reports = [json.loads(line) for line in f if '"type":"report"' in line]
    return open(text_path).read(), reports, err


def number_after(text, label):
    for line in text.splitlines():
        if label in line:
            return int(line.split(label)[1].strip().split()[0].rstrip(":;,"))
    return None


def collected(text):
    for line in text.splitlines():
        if line.startswith("input     flow records collected live"):
            return int(line.split("), ")[1].split(" records")[0])
    return None


def log_problems(name, err, where, most):
    """libfixbuf's out-of-sequence messages on stderr: prefixed with the
    input, at most most of them, none raw from GLib."""
    lines = [line for line in err.splitlines() if "out of sequence" in line]
    problems = []
    if "** (process" in err or any(not line.startswith("flowaudit: " + where) for line in lines):
        problems.append("%s: libfixbuf's messages not prefixed with %r: %s" % (name, where, err[:500]))
    if not lines or len(lines) > most:
        problems.append("%s: %d libfixbuf messages on stderr, want 1 to %d" % (name, len(lines), most))
    return problems


def gaps(flowaudit, tmp):
    skip = {(1, 49), (2, 70), (2, 71)}

    sent = []

    def send(port):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        seq = {1: 0, 2: 0}
        for k in range(200):
            dom = 1 + k % 2
            idx = k // 2
            if (dom, idx) not in skip:
                sent.append(message(k, seq[dom], dom, idx == 0))
                s.sendto(sent[-1], ("127.0.0.1", port))
            seq[dom] += PER_MSG
            time.sleep(0.002)
        s.close()

    text, reports, err = run(flowaudit, tmp, "gaps", send)
    problems = log_problems("gaps --collect", err, "--collect udp:127.0.0.1:", 3)
    path = os.path.join(tmp, "gaps.ipfix")
    with open(path, "wb") as f:
        f.write(b"".join(sent))
    out = subprocess.run([flowaudit, "-r", path], capture_output=True, text=True)
    problems += log_problems("gaps -r", out.stderr, path + ":", 3)
    lost = number_after(text, "records lost, by the exporters' sequence numbers:")
    if lost != 120:
        problems.append("gaps: summary says %s records lost by sequence numbers, the sender skipped 120" % lost)
    if not reports or reports[-1].get("export_records_missed") != 120:
        problems.append("gaps: final report record export_records_missed %s, not 120"
                        % (reports[-1].get("export_records_missed") if reports else None))
    if collected(text) != 200 * PER_MSG - 120:
        problems.append("gaps: %s records collected, %d sent" % (collected(text), 200 * PER_MSG - 120))
    if "verdict may be wrong" not in text:
        problems.append("gaps: the report does not warn that a verdict may be wrong")
    # The header names a collector, not a capture, and the clock of its
    # window: this host's, while the flows carry the exporter's times.
    if "  collector: udp:127.0.0.1:" not in text or "; this host's clock, the flows carry the exporter's)" not in text:
        problems.append("gaps: the header does not name the collector and its window's clock: %s" % text[:600])
    return problems


def burst(flowaudit, tmp):
    n = 30000

    def send(port):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for k in range(n):
            s.sendto(message(k, k * PER_MSG, 1, k == 0), ("127.0.0.1", port))
        # Sequence numbers show a loss only to the message after it: one
        # more, once the buffer has drained, closes the burst.
        time.sleep(3.0)
        s.sendto(message(n, n * PER_MSG, 1, False), ("127.0.0.1", port))
        s.close()

    text, reports, err = run(flowaudit, tmp, "burst", send)
    problems = log_problems("burst", err, "--collect udp:127.0.0.1:", 10)
    got = collected(text)
    lost = number_after(text, "records lost, by the exporters' sequence numbers:")
    dropped = number_after(text, "datagrams the kernel dropped (socket buffer full):")
    print("burst: %d records sent, %s collected, %s lost by sequence numbers, %s datagrams dropped by the kernel"
          % ((n + 1) * PER_MSG, got, lost, dropped))
    if got is None or lost is None or got + lost != (n + 1) * PER_MSG:
        problems.append("burst: %s collected + %s lost by sequence numbers != %d sent"
                        % (got, lost, (n + 1) * PER_MSG))
    # On the loopback only the socket buffer loses datagrams, 40 records
    # each: both counts must tell the same loss.
    if dropped is None or lost != dropped * PER_MSG:
        problems.append("burst: %s records lost by sequence numbers, %s datagrams of %d dropped by the kernel"
                        % (lost, dropped, PER_MSG))
    if lost and "verdict may be wrong" not in text:
        problems.append("burst: records lost and no warning")
    if reports and lost and (reports[-1].get("datagrams_dropped") != dropped):
        problems.append("burst: final report datagrams_dropped %s, summary %s"
                        % (reports[-1].get("datagrams_dropped"), dropped))
    return problems


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    OPTS.extend(["--rules", os.path.join(argv[2], "rules"), "--site", os.path.join(argv[2], "sites/hyworks.site")])
    with tempfile.TemporaryDirectory() as tmp:
        problems = gaps(argv[1], tmp) + burst(argv[1], tmp)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
