#!/usr/bin/env python3
"""exporter-test.py - IPFIX from a real exporter, judged as the packets are.

Usage: exporter-test.py FLOWAUDIT SRC [PRODUCT-KIND...]

For each product capture (default: all ten), pmacctd reads the capture and
its nfprobe plugin exports the flows as IPFIX (version 10, one direction
per record) over UDP to 127.0.0.1, where this script keeps every message,
in order, as an IPFIX file (RFC 5655: messages one after the other).
libfixbuf's ipfixDump must read the file and find data records in it;
then check-agreement.py compares the verdicts flowaudit gives from the
file with those from the capture. The differences found must be exactly
those listed, with their reason, in exporter-differences.txt. Exit 77
when pmacctd or ipfixDump is not installed.
"""
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile

PRODUCTS = ["psw", "ras", "hyworks", "app-layering", "pcoip"]


def load_agreement(src):
    spec = importlib.util.spec_from_file_location("agreement", os.path.join(src, "tests/records/check-agreement.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def export(pcap, out_path, tmp):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    conf = os.path.join(tmp, "pmacctd.conf")
    with open(conf, "w") as f:
        f.write("daemonize: false\npcap_savefile: %s\nplugins: nfprobe\n"
                "nfprobe_receiver: 127.0.0.1:%d\nnfprobe_version: 10\n" % (pcap, sock.getsockname()[1]))
    proc = subprocess.Popen(["pmacctd", "-f", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    n = 0
    with open(out_path, "wb") as out:
        sock.settimeout(0.5)
        while True:
            try:
                data, _ = sock.recvfrom(65535)
            except socket.timeout:
                if proc.poll() is not None:
                    break
                continue
            out.write(data)
            n += 1
    proc.wait(timeout=10)
    sock.close()
    return n


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    flowaudit, src = argv[1], argv[2]
    if not shutil.which("pmacctd") or not shutil.which("ipfixDump"):
        print("pmacctd or ipfixDump not installed: skipped")
        return 77
    cases = argv[3:] or ["%s-%s" % (p, k) for p in PRODUCTS for k in ("healthy", "broken")]
    failed, found = 0, []
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            product = case.rsplit("-", 1)[0]
            pcap = os.path.join(src, "pcaps/products/%s.pcap" % case)
            ipfix = os.path.join(tmp, case + ".ipfix")
            if export(pcap, ipfix, tmp) == 0:
                print("%s: pmacctd sent nothing" % case)
                failed += 1
                continue
            dump = subprocess.run(["ipfixDump", "--in", ipfix], capture_output=True, text=True)
            if dump.returncode != 0 or "--- data record" not in dump.stdout:
                print("%s: ipfixDump finds no data record: %s" % (case, dump.stderr.strip()))
                failed += 1
                continue
            check = subprocess.run([sys.executable, os.path.join(src, "tests/records/check-agreement.py"),
                                    flowaudit, pcap, ipfix, "--", "--rules", os.path.join(src, "rules"),
                                    "--site", os.path.join(src, "sites/%s.site" % product)],
                                   capture_output=True, text=True)
            if check.returncode > 1:
                print("%s: %s" % (case, check.stderr.strip()))
                failed += 1
            found += ["%s %s" % (case, line) for line in check.stdout.splitlines()]
            print("%s: %d differences" % (case, len(check.stdout.splitlines())))
    agreement = load_agreement(src)
    known = agreement.listed_differences(os.path.join(src, "tests/records/exporter-differences.txt"), "", cases)
    return 1 if not agreement.same_as_listed(found, known) or failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
