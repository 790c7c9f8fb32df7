#!/usr/bin/env python3
"""collect-test.py - flowaudit --collect fed by a real exporter.

Usage: collect-test.py FLOWAUDIT SRC VERSION [PRODUCT-KIND...]
       collect-test.py FLOWAUDIT SRC tcp SENDER

VERSION is 10 (IPFIX) or 9 (NetFlow v9). For each product capture (default:
all ten, run side by side), pmacctd reads the capture and its nfprobe
plugin exports the flows, one direction per record, over UDP to a relay in
this script, which keeps every datagram and passes it on at once to
flowaudit --collect on 127.0.0.1. When pmacctd is done, flowaudit gets
SIGTERM and its final report is checked:

- nothing lost: the records flowaudit counts are the data records tshark
  decodes from the datagrams the relay passed on (and, for IPFIX,
  libfixbuf's ipfixDump finds as many);
- the uniflows joined right: the flows marked "joined_uniflows" are the
  connections tshark shows records of in both directions;
- the verdicts agree with flowaudit's on the capture (check-agreement.py),
  except for the differences listed, with their reason, in
  exporter-differences.txt (lines "vVERSION CASE ...");
- sampling: ras-broken once more, pmacctd sampling 1 packet in 4
  (sampling_rate 4), which it announces in an options record: the report
  must warn of it, audit_totals give sampling_interval 4, and every
  not_seen and blocked finding carry it;
- NetFlow v9 losses: the relay loses ras-broken's third datagram once more;
  the summary and the final report must count 1 export packet lost (by
  the exporter's sequence numbers), and 0 for the runs that lost none;
  libfixbuf's message of the gap comes on stderr once, prefixed with the
  collector's input, and none for the runs that lost none (libfixbuf
  takes pmacctd's first packet, numbered 1, for a gap after 0);
- IPFIX: the datagrams, kept as a file of messages one after the other,
  read with -r give the same flows as the collector did; NetFlow v9: such
  a file is refused with the reason (libfixbuf cannot split it).

With tcp, SENDER (ipfix-tcp-send, built on libfixbuf's TCP exporter)
sends the records of tests/records/ras-broken.ipfix, pmacctd's IPFIX
export of pcaps/products/ras-broken.pcap, over one TCP connection to
flowaudit --collect tcp:...; the collector must count every record the
sender sent (as many as ipfixDump finds in the file), give the flows -r
gives from the file, and the verdicts of the capture, and go on
collecting after the exporter has closed its connection. Then the same
records as RFC 5103 biflows (SENDER -b pairs the two directions of each
connection): one flow per biflow, none joined, the capture's verdicts.
After each export a SIGUSR1 then
writes a report (a "report" record, not final), and a SIGHUP to another
collector reloads the rules and site (a "config_reload" record), as in
live capture. Last, random datagrams and messages cut short must neither
end a UDP collector nor keep it from reading the valid messages after
them.

Exit 77 when pmacctd, tshark or ipfixDump is not installed.
"""
import importlib.util
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

PRODUCTS = ["psw", "ras", "hyworks", "app-layering", "pcoip"]
HERE = os.path.dirname(os.path.abspath(__file__))


def load_agreement():
    spec = importlib.util.spec_from_file_location("agreement", os.path.join(HERE, "check-agreement.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


agreement = load_agreement()


class Relay(threading.Thread):
    """Receives the exporter's datagrams, keeps them and passes each on."""

    def __init__(self, target_port, drop=0):
        super().__init__(daemon=True)
        self.drop = drop                 # 1-based number of a datagram to lose; 0: none
        self.received = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.target = ("127.0.0.1", target_port)
        self.datagrams = []
        self.last = time.monotonic()
        self.done = False

    def run(self):
        out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        while not self.done:
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            self.last = time.monotonic()
            self.received += 1
            if self.received == self.drop:
                continue
            self.datagrams.append(data)
            out.sendto(data, self.target)
            # One at a time, as an exporter paces itself: a burst larger
            # than the socket buffer would be lost before the collector
            # could read it, and the test would count that as a loss.
            time.sleep(0.002)
        out.close()
        self.sock.close()


def write_pcap(path, datagrams, port):
    """The datagrams as IPv4/UDP packets (link type raw IP) for tshark."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
        for n, d in enumerate(datagrams):
            udp = struct.pack(">HHHH", 40000, port, 8 + len(d), 0) + d
            ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n & 0xffff, 0, 64, 17, 0,
                             bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1])) + udp
            f.write(struct.pack("<IIII", n, 0, len(ip), len(ip)) + ip)


def sent_records(pcap, port):
    """Data records tshark decodes: (src, sport, dst, dport, proto) each."""
    out = subprocess.run(["tshark", "-r", pcap, "-d", "udp.port==%d,cflow" % port, "-T", "fields",
                          "-E", "occurrence=a", "-e", "cflow.srcaddr", "-e", "cflow.srcport", "-e",
                          "cflow.dstaddr", "-e", "cflow.dstport", "-e", "cflow.protocol"],
                         capture_output=True, text=True, check=True)
    recs = []
    for line in out.stdout.splitlines():
        cols = [c.split(",") if c else [] for c in line.split("\t")]
        if len(cols) == 5 and cols[0]:
            recs += list(zip(*cols))
    return recs


def joined_expected(recs):
    """Connections with records in both directions: what a join makes."""
    dirs = {}
    for src, sport, dst, dport, proto in recs:
        a, b = (src, int(sport)), (dst, int(dport))
        dirs.setdefault((min(a, b), max(a, b), proto), set()).add(a < b)
    return sum(1 for d in dirs.values() if len(d) == 2)


def free_port(kind):
    """A port of kind (socket.SOCK_DGRAM, SOCK_STREAM) free on 127.0.0.1."""
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_collector(flowaudit, prefix, opts, json_path, text_path):
    """flowaudit --collect on a free port, once it has bound it: (process,
    port). A port taken between the look and the bind is tried again."""
    kind = socket.SOCK_STREAM if prefix == "tcp" else socket.SOCK_DGRAM
    for _ in range(3):
        port = free_port(kind)
        text = open(text_path, "w")
        proc = subprocess.Popen([flowaudit, "--no-progress", "--collect", "%s:127.0.0.1:%d" % (prefix, port),
                                 "-j", json_path] + opts, stdout=text, stderr=subprocess.PIPE, text=True)
        text.close()
        line = proc.stderr.readline()
        if "collecting" in line:
            return proc, port
        rest = proc.communicate(timeout=30)[1]
    raise RuntimeError("collector did not start: " + line + rest)


class Case:
    def __init__(self, flowaudit, src, tmp, case, version, sampling=0, drop=0):
        self.case, self.version, self.sampling = case, version, sampling
        self.product = case.rsplit("-", 1)[0]
        self.pcap = os.path.join(src, "pcaps/products/%s.pcap" % case)
        self.opts = ["--rules", os.path.join(src, "rules"), "--site", os.path.join(src, "sites/%s.site" % self.product)]
        self.base = os.path.join(tmp, "%s-v%d-s%d-d%d" % (case, version, sampling, drop))
        self.proc, self.port = start_collector(flowaudit, "udp" if version == 10 else "netflow", self.opts,
                                               self.base + ".json", self.base + ".txt")
        self.relay = Relay(self.port, drop)
        self.relay.start()
        conf = self.base + ".conf"
        with open(conf, "w") as f:
            f.write("daemonize: false\npcap_savefile: %s\nplugins: nfprobe\nnfprobe_receiver: 127.0.0.1:%d\n"
                    "nfprobe_version: %d\n" % (self.pcap, self.relay.port, version))
            if sampling:
                f.write("sampling_rate: %d\n" % sampling)
        self.pmacctd = subprocess.Popen(["pmacctd", "-f", conf], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)

    def finish(self):
        self.pmacctd.wait(timeout=60)
        while time.monotonic() - self.relay.last < 1.0:
            time.sleep(0.1)
        self.relay.done = True
        self.relay.join()
        time.sleep(0.5)
        self.proc.send_signal(signal.SIGTERM)
        err = self.proc.communicate(timeout=30)[1]
        if self.proc.returncode not in (0, 1) or "Sanitizer" in err or "runtime error:" in err:
            raise RuntimeError("collector: exit %d: %s" % (self.proc.returncode, err.strip()))
        self.mismatches = [line for line in err.splitlines() if "sequence number mismatch" in line]
        with open(self.base + ".msgs", "wb") as f:
            for d in self.relay.datagrams:
                f.write(d)
        write_pcap(self.base + ".pcap", self.relay.datagrams, self.port)


def collected_count(text_path):
    with open(text_path) as f:
        for line in f:
            if line.startswith("input     flow records collected live"):
                return int(line.split("), ")[1].split(" records")[0])
    raise RuntimeError("%s: no input line in the summary" % text_path)


def record_flows(json_path):
    flows, joined = [], 0
    with open(json_path) as f:
        for line in f:
            rec = json.loads(line)
            if rec["type"] == "flow":
                joined += rec.get("joined_uniflows", False)
                flows.append((rec["id.orig_h"], rec["id.orig_p"], rec["id.resp_h"], rec["id.resp_p"], rec["proto"],
                              rec["conn_state"], rec.get("verdict"), rec.get("attempt"),
                              rec.get("joined_uniflows", False)))
    return sorted(flows), joined


def ndjson_of(flowaudit, path, opts):
    out = subprocess.run([flowaudit, "-q", "--no-progress", "-j", "-", "-r", path] + opts,
                         capture_output=True, text=True)
    if out.returncode not in (0, 1):
        raise RuntimeError("-r %s: exit %d: %s" % (path, out.returncode, out.stderr.strip()))
    return out.stdout


def check(flowaudit, c):
    """Problems found (a list of lines) and the verdict differences."""
    problems = []
    recs = sent_records(c.base + ".pcap", c.port)
    got = collected_count(c.base + ".txt")
    if not recs:
        problems.append("tshark decodes no data record from what pmacctd sent")
    if got != len(recs):
        problems.append("collector counted %d records, tshark decodes %d sent" % (got, len(recs)))
    if c.version == 10:
        dump = subprocess.run(["ipfixDump", "--in", c.base + ".msgs"], capture_output=True, text=True)
        n = dump.stdout.count("--- data record")
        if dump.returncode != 0 or n != len(recs):
            problems.append("ipfixDump finds %d data records, tshark %d: %s" % (n, len(recs), dump.stderr.strip()))
    flows, joined = record_flows(c.base + ".json")
    if joined != joined_expected(recs):
        problems.append("%d flows joined from uniflows, tshark shows %d connections recorded both ways"
                        % (joined, joined_expected(recs)))
    if c.version == 9:
        out = subprocess.run([flowaudit, "-q", "-r", c.base + ".msgs"], capture_output=True, text=True)
        if out.returncode != 2 or "NetFlow v9 export packets are not read from files" not in out.stderr:
            problems.append("-r of NetFlow v9 messages not refused: exit %d %s" % (out.returncode, out.stderr))
    else:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(ndjson_of(flowaudit, c.base + ".msgs", c.opts))
        from_file, _ = record_flows(f.name)
        os.unlink(f.name)
        if from_file != flows:
            problems.append("-r of the same messages gives other flows: %s" % sorted(set(from_file) ^ set(flows)))
    pkt = agreement.run(flowaudit, c.pcap, c.opts)
    diffs = agreement.compare(pkt, agreement.parse(open(c.base + ".json").read()))
    return problems, ["v%d %s %s" % (c.version, c.case, d) for d in diffs]


def reload_problems(flowaudit, opts, tmp):
    """A collector given SIGHUP reloads rules and site (a new window)."""
    json_path = os.path.join(tmp, "reload.json")
    proc, _ = start_collector(flowaudit, "tcp", opts, json_path, os.path.join(tmp, "reload.txt"))
    proc.send_signal(signal.SIGHUP)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=30)[1]
    with open(json_path) as f:
        reloads = [line for line in f if json.loads(line)["type"] == "config_reload"]
    if len(reloads) != 1 or "configuration reloaded" not in err:
        return ["SIGHUP: %d config_reload records, stderr %r" % (len(reloads), err)]
    return []


def tcp_run(flowaudit, sender, biflows, opts, tmp):
    """One TCP export of ras-broken.ipfix; problems found."""
    ipfix = os.path.join(HERE, "ras-broken.ipfix")
    name = "biflow" if biflows else "uniflow"
    json_path, text_path = os.path.join(tmp, name + ".json"), os.path.join(tmp, name + ".txt")
    proc, port = start_collector(flowaudit, "tcp", opts, json_path, text_path)
    out = subprocess.run([sender] + (["-b"] if biflows else []) + ["127.0.0.1", str(port), ipfix],
                         capture_output=True, text=True)
    if out.returncode != 0:
        proc.kill()
        return ["sender failed: " + out.stderr.strip()]
    sent = int(out.stdout)
    time.sleep(1.0)
    problems = []
    if proc.poll() is not None:
        problems.append("the collector ended when the exporter closed its connection")
    proc.send_signal(signal.SIGUSR1)
    time.sleep(0.6)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=30)[1]
    if proc.returncode not in (0, 1) or "Sanitizer" in err or "runtime error:" in err:
        return ["collector: exit %d: %s" % (proc.returncode, err.strip())]
    dump = subprocess.run(["ipfixDump", "--in", ipfix], capture_output=True, text=True)
    in_file = dump.stdout.count("--- data record")
    got = collected_count(text_path)
    flows, joined = record_flows(json_path)
    if biflows:
        # Each biflow holds one connection: as many as -r makes of the
        # uniflows, none of them joined here.
        if got != sent or joined or len(flows) != sent:
            problems.append("biflows: %d sent, %d collected, %d flows, %d joined" % (sent, got, len(flows), joined))
    else:
        if not (got == sent == in_file):
            problems.append("collector counted %d records, the sender sent %d, ipfixDump finds %d in the file"
                            % (got, sent, in_file))
        with open(os.path.join(tmp, "file.json"), "w") as f:
            f.write(ndjson_of(flowaudit, ipfix, opts))
        from_file, _ = record_flows(os.path.join(tmp, "file.json"))
        if from_file != flows:
            problems.append("-r of the file gives other flows: %s" % sorted(set(from_file) ^ set(flows)))
    with open(json_path) as f:
        diffs = agreement.compare(agreement.run(flowaudit, os.path.join(HERE, "../../pcaps/products/ras-broken.pcap"),
                                                opts), agreement.parse(f.read()))
    problems += ["%s: verdict differs from the capture's: %s" % (name, d) for d in diffs]
    if not any(json.loads(line)["type"] == "report" and not json.loads(line)["final"] for line in open(json_path)):
        problems.append("SIGUSR1 wrote no report")
    print("tcp %s: %d records sent, %d collected, %d flows (%d joined from uniflows)" % (name, sent, got, len(flows),
                                                                                      joined))
    return problems


def garbage_problems(flowaudit, tmp):
    """Random datagrams and cut messages, then ras-broken.ipfix's messages
    one per datagram: the collector lives on and counts all 110 records
    (ipfixDump's count)."""
    data = open(os.path.join(HERE, "ras-broken.ipfix"), "rb").read()
    msgs, i = [], 0
    while i + 4 <= len(data):
        n = struct.unpack(">H", data[i + 2:i + 4])[0]
        msgs.append(data[i:i + n])
        i += n
    rng = random.Random(1)
    junk = [bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 200))) for _ in range(200)]
    junk += [b"\x00\x0a" + j for j in junk[:100]] + [m[:cut] for m in msgs[:3] for cut in (4, 16, 20, 30)]
    text_path = os.path.join(tmp, "garbage.txt")
    proc, port = start_collector(flowaudit, "udp", [], os.path.join(tmp, "garbage.json"), text_path)
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for d in junk + msgs:
        out.sendto(d, ("127.0.0.1", port))
        time.sleep(0.002)
    out.close()
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=30)[1]
    if proc.returncode != 0 or "Sanitizer" in err or "runtime error:" in err:
        return ["after garbage: exit %d: %s" % (proc.returncode, err.strip()[-500:])]
    got = collected_count(text_path)
    return [] if got == 110 else ["after garbage: %d records collected, not 110" % got]


def tcp_main(flowaudit, src, sender):
    if not shutil.which("ipfixDump"):
        print("ipfixDump not installed: skipped")
        return 77
    opts = ["--rules", os.path.join(src, "rules"), "--site", os.path.join(src, "sites/ras.site")]
    with tempfile.TemporaryDirectory() as tmp:
        problems = tcp_run(flowaudit, sender, False, opts, tmp) + tcp_run(flowaudit, sender, True, opts, tmp)
        problems += reload_problems(flowaudit, opts, tmp)
        problems += garbage_problems(flowaudit, tmp)
    for p in problems:
        print(p)
    return 1 if problems else 0


def missed_of(c):
    """Export packets lost, from the summary and the final report record."""
    with open(c.base + ".txt") as f:
        text = [line for line in f if "export packets lost, by the exporter's sequence numbers:" in line]
    with open(c.base + ".json") as f:
        final = [json.loads(line) for line in f if '"type":"report"' in line][-1]
    return (int(text[0].split(": ")[1].split(":")[0]) if text else None), final.get("export_packets_missed")


def check_sampled(c):
    """Problems with how a sampled export is reported."""
    problems = []
    with open(c.base + ".txt") as f:
        if "the exporter samples 1 packet in %d" % c.sampling not in f.read():
            problems.append("the report does not warn of the sampling")
    findings = 0
    with open(c.base + ".json") as f:
        for line in f:
            rec = json.loads(line)
            if rec["type"] == "audit_totals" and rec.get("sampling_interval") != c.sampling:
                problems.append("audit_totals sampling_interval %s" % rec.get("sampling_interval"))
            if rec["type"] == "finding" and rec["kind"] in ("not_seen", "blocked"):
                findings += 1
                if rec.get("sampling_interval") != c.sampling:
                    problems.append("finding %s %s without sampling_interval" % (rec["rule_id"], rec["kind"]))
    if findings == 0:
        problems.append("no not_seen or blocked finding to carry the sampling")
    return problems


def main(argv):
    if len(argv) == 5 and argv[3] == "tcp":
        return tcp_main(argv[1], argv[2], argv[4])
    if len(argv) < 4 or argv[3] not in ("9", "10"):
        print(__doc__, file=sys.stderr)
        return 2
    flowaudit, src, version = argv[1], argv[2], int(argv[3])
    if not shutil.which("pmacctd") or not shutil.which("tshark") or (version == 10 and not shutil.which("ipfixDump")):
        print("pmacctd, tshark or ipfixDump not installed: skipped")
        return 77
    cases = argv[4:] or ["%s-%s" % (p, k) for p in PRODUCTS for k in ("healthy", "broken")]
    failed, found = 0, []
    with tempfile.TemporaryDirectory() as tmp:
        running = [Case(flowaudit, src, tmp, case, version) for case in cases]
        sampled = Case(flowaudit, src, tmp, "ras-broken", version, sampling=4)
        # NetFlow v9: the relay loses the third datagram, as a network would.
        lossy = [Case(flowaudit, src, tmp, "ras-broken", version, drop=3)] if version == 9 else []
        for c in running + [sampled] + lossy:
            c.finish()
        for c in lossy:
            if missed_of(c) != (1, 1):
                print("ras-broken v9, one datagram lost: summary and report say %s lost, not 1" % (missed_of(c),))
                failed += 1
            if len(c.mismatches) != 1 or not c.mismatches[0].startswith("flowaudit: --collect netflow:"):
                print("ras-broken v9, one datagram lost: libfixbuf's messages %s, want one, prefixed"
                      % c.mismatches)
                failed += 1
        for c in running if version == 9 else []:
            if missed_of(c) != (0, 0):
                print("%s v9: %s export packets lost, none was" % (c.case, missed_of(c)))
                failed += 1
            if c.mismatches:
                print("%s v9: none lost, yet on stderr: %s" % (c.case, c.mismatches))
                failed += 1
        for p in check_sampled(sampled):
            print("ras-broken v%d sampled: %s" % (version, p))
            failed += 1
        for c in running:
            problems, diffs = check(flowaudit, c)
            for p in problems:
                print("%s v%d: %s" % (c.case, version, p))
            failed += len(problems)
            found += diffs
            print("%s v%d: %d records, %d differences" % (c.case, version, collected_count(c.base + ".txt"),
                                                          len(diffs)))
    known = agreement.listed_differences(os.path.join(HERE, "exporter-differences.txt"), "v%d" % version, cases)
    return 1 if not agreement.same_as_listed(found, known) or failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
