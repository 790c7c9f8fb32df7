#!/usr/bin/env python3
"""Many sensors, one audit, over Kafka.

kafka-test.py CASE FLOWAUDIT MOCK_CLUSTER SOURCE_DIR

Every case starts librdkafka's mock cluster (mock-cluster.c) as a process
of its own on 127.0.0.1, flowaudit sensors (--kafka-out) and auditors
(--kafka-in), and checks them against something else than the Kafka path:

  audit        two sensors, each reading half of the broken PSW sample
               (split by host with tcpdump), and one auditor: its rule,
               finding and flow verdicts equal those of one flowaudit
               reading both halves (-r a.pcap -r b.pcap). A sensor run
               again publishes its records again: the auditor drops them
               (sensor id + uid). An auditor restarted in the group starts
               after the committed offsets: it judges nothing again.
               Sensors announcing only networks away from a rule's hosts
               turn that rule's "not seen" into "not observable" (the
               hosts are those of sites/psw.site), and a sensor of another
               site on the same partition is skipped: its records are not
               judged, its hello makes nothing observable.
  kcat         kcat, an independent client, reads the topic: one message
               per flow record the sensors wrote with -j (the same record
               but for seq, plus sensor and site_key), and their hellos,
               every message keyed by the site key. Then kcat writes
               messages no sensor would (not JSON, no sensor, a sensor id
               too long, a bad network, 70 kB) and a sensor whose messages
               1 to 4 are missing: an auditor counts each bad one as
               malformed and the 4 as missing, and judges the rest as one
               flowaudit would.
  broker-down  the broker goes down before the second sensor publishes and
               comes back three seconds later: no record is lost (the
               audit is the single-process one, and no sensor's message
               numbers have a gap).
  broker-away  no broker at all and a producer queue of 5 messages: the
               sensor reads its capture to the end without waiting, drops
               and counts the records that found no room ("not published",
               in the summary and the error), and a
               SIGINT ends its wait for the brokers within seconds, with
               exit status 2 (docs/flowaudit.1, EXIT STATUS).
  conf         a --kafka-set value librdkafka rejects (it may be a password)
               is not repeated in the error, its key and the reason are.
  readme       the README's Kafka example, as written but for the brokers
               (the mock cluster's), the sensor's input (-r the broken
               HyWorks sample for -i eth1) and my.site (made by the
               README's --init-site line): the auditor starts from the
               source tree and judges the sensor's records.
  cooperative  an auditor with partition.assignment.strategy=cooperative-
               sticky (incremental rebalances) gets its partition and
               judges the sensor's records.
  fenced       the group coordinator answers an auditor with static
               membership (group.instance.id) FENCED_INSTANCE_ID, as when
               another member took its id: librdkafka's fatal error ends
               it with exit status 2 and the reason.
  group        two auditors in one group, two sites whose keys fall on
               different partitions: each auditor judges one whole site,
               as one flowaudit reading that site's capture would.

Exits 77 (skipped) without librdkafka, tcpdump or (kcat case) kcat.
"""
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zlib

SKIP = 77
TOPIC = "flows"
PCAP = "pcaps/products/psw-broken.pcap"
SITE = "sites/psw.site"
# One half of the capture: the Workspace node's traffic with LDAP, Kerberos
# (with its ICMP error), CIFS and the outside; the other half the rest.
HALF = "host 192.0.2.31 or host 192.0.2.32 or host 192.0.2.40 or net 203.0.113.0/24"
ALL_NETS = "192.0.2.0/24,198.51.100.0/24,203.0.113.0/24"
# Records that close a report, compared between the Kafka audit and the
# single-process one.
CLOSING = ("rule", "finding", "one_way", "undocumented", "wrong_direction")
WAIT_S = 30
# The mock cluster's coordinator sometimes loses a member when two join at
# once (SyncGroup "Invalid request"), and waits for a member that left
# until its session times out: a short session lets the group settle
# within seconds instead of 45.
FAST_GROUP = ("--kafka-set", "session.timeout.ms=6000", "--kafka-set", "heartbeat.interval.ms=500")


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


class Cluster:
    """The mock cluster: bootstrap servers on its first line, then one
    command a line on its standard input."""

    def __init__(self, mock, partitions, workdir, name="mock"):
        self.err = open(os.path.join(workdir, name + ".err"), "w")
        self.proc = subprocess.Popen([mock, TOPIC, str(partitions)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.bootstrap = self.proc.stdout.readline().strip()
        check(self.bootstrap.startswith("127.0.0.1:"), "mock cluster did not start: %r" % self.bootstrap)
        self.spec = "%s/%s" % (self.bootstrap, TOPIC)

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        check(answer == "ok", "mock cluster: %s: %s" % (line, answer))

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()


class Auditor:
    """flowaudit --kafka-in in the background, writing NDJSON to a file."""

    def __init__(self, env, name, group, extra=()):
        self.env = env
        self.json = os.path.join(env.dir, name + ".json")
        self.errpath = os.path.join(env.dir, name + ".err")
        self.out = open(os.path.join(env.dir, name + ".txt"), "w")
        self.errf = open(self.errpath, "w")
        self.proc = subprocess.Popen(
            [env.fa, "--kafka-in", env.cluster.spec, "--group", group, "--rules", env.src("rules"),
             "--site", env.src(SITE), "-j", self.json] + list(FAST_GROUP) + list(extra or ("--site-key", "psw")),
            stdout=self.out, stderr=self.errf)

    def records(self):
        try:
            with open(self.json) as f:
                return [json.loads(line) for line in f if line.endswith("\n")]
        except FileNotFoundError:
            return []

    def flows(self):
        return [r for r in self.records() if r["type"] == "flow"]

    def partitions(self):
        """Partitions the group gave it last, from its stderr."""
        parts = None
        with open(self.errpath) as f:
            for line in f:
                if "--kafka-in: auditing partitions" in line:
                    listed = line.split("partitions")[1].split(" of ")[0].strip()
                    parts = set(int(p) for p in listed.split(",")) if listed else set()
                elif "--kafka-in: handing back" in line:
                    parts = set()
        return parts

    def wait_assigned(self):
        deadline = time.time() + WAIT_S
        while time.time() < deadline and not self.partitions():
            time.sleep(0.2)
        check(self.partitions(), "the group gave the auditor no partition")

    def wait_flows(self, n):
        deadline = time.time() + WAIT_S
        while time.time() < deadline and len(self.flows()) < n:
            check(self.proc.poll() is None, "auditor exited early: %s" % self.stderr())
            time.sleep(0.2)
        check(len(self.flows()) == n, "auditor has %d flow records, expected %d" % (len(self.flows()), n))

    def report(self):
        """SIGUSR1: a report, and the commit after it."""
        before = sum(1 for r in self.records() if r["type"] == "report")
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.time() + WAIT_S
        while time.time() < deadline and sum(1 for r in self.records() if r["type"] == "report") == before:
            time.sleep(0.2)
        check(sum(1 for r in self.records() if r["type"] == "report") > before, "no report after SIGUSR1")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=WAIT_S)
        self.out.close()
        self.errf.close()
        check(rc == 0, "auditor exit status %d: %s" % (rc, self.stderr()))
        return self.final()

    def stderr(self):
        with open(self.errpath) as f:
            return f.read()

    def final(self):
        """The records of the last report, and every flow record."""
        recs = self.records()
        last = max(i for i, r in enumerate(recs) if r["type"] == "report")
        return recs[last:], [r for r in recs if r["type"] == "flow"]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Env:
    def __init__(self, fa, mock, srcdir, workdir, partitions=1):
        self.fa, self.mock, self.srcdir, self.dir = fa, mock, srcdir, workdir
        self.cluster = Cluster(mock, partitions, workdir)

    def src(self, rel):
        return os.path.join(self.srcdir, rel)

    def sensor(self, pcap, sensor_id, site_key, nets=ALL_NETS, json_out=None, wait=True):
        cmd = [self.fa, "-q", "-r", pcap, "--kafka-out", self.cluster.spec, "--sensor-id", sensor_id,
               "--site-key", site_key, "--sensor-networks", nets]
        if json_out:
            cmd += ["-j", json_out]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if not wait:
            return proc
        return finish_sensor(proc)

    def single(self, *pcaps):
        """One flowaudit over the captures: the expectation."""
        out = os.path.join(self.dir, "single-%d.json" % len(os.listdir(self.dir)))
        cmd = [self.fa, "-q", "--no-progress", "--rules", self.src("rules"), "--site", self.src(SITE), "-j", out]
        for p in pcaps:
            cmd += ["-r", p]
        subprocess.run(cmd, check=False)
        with open(out) as f:
            recs = [json.loads(line) for line in f]
        return recs, [r for r in recs if r["type"] == "flow"]


def finish_sensor(proc):
    out, err = proc.communicate(timeout=WAIT_S * 2)
    check(proc.returncode == 0, "sensor exit status %d: %s" % (proc.returncode, err))
    return proc.returncode


def split(env):
    """The capture in two halves, by host: no connection in both."""
    a, b = os.path.join(env.dir, "a.pcap"), os.path.join(env.dir, "b.pcap")
    for path, expr in ((a, HALF), (b, "not (%s)" % HALF)):
        subprocess.run(["tcpdump", "-r", env.src(PCAP), "-w", path, expr], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        check(len(env.single(path)[1]) >= 4, "%s: too few flows to split the capture" % path)
    return a, b


def closing(recs):
    """The report's closing records, without their numbering and time."""
    return sorted(json.dumps({k: v for k, v in r.items() if k not in ("seq", "ts")}, sort_keys=True)
                  for r in recs if r["type"] in CLOSING)


def verdicts(flows):
    return sorted((f["uid"], f["verdict"], f["attempt"], tuple(f["rules"])) for f in flows)


def rule_status(recs):
    return {r["rule_id"]: r["status"] for r in recs if r["type"] == "rule"}


def same_audit(got, want, what):
    (grecs, gflows), (wrecs, wflows) = got, want
    check(verdicts(gflows) == verdicts(wflows), "%s: flow verdicts differ from the single-process audit" % what)
    g, w = closing(grecs), closing(wrecs)
    if g != w:
        for line in sorted(set(g) ^ set(w))[:6]:
            print(("kafka:  " if line in g else "single: ") + line)
        raise Failure("%s: report differs from the single-process audit" % what)


def case_audit(env):
    a, b = split(env)
    want = env.single(a, b)
    check(len(want[1]) > 10 and any(r["status"] == "not_seen" for r in want[0] if r["type"] == "rule"),
          "the sample capture no longer has a rule not seen")
    aud = Auditor(env, "auditor", "audit")
    try:
        env.sensor(a, "span-1", "psw")
        env.sensor(b, "span-2", "psw", nets="192.0.2.0/24")
        aud.wait_flows(len(want[1]))
        aud.report()
        # span-1 restarts and publishes its records again.
        env.sensor(a, "span-1", "psw")
        time.sleep(3)
        got = aud.stop()
    finally:
        aud.kill()
    same_audit(got, want, "two sensors")
    check(missing(env, "auditor") == 0, "messages missing although none was lost")
    with open(aud.json) as f:
        schema_check(env, f.readlines())
    nflows_a = len(env.single(a)[1])
    with open(os.path.join(env.dir, "auditor.txt")) as f:
        text = f.read()
    check("records met again (sensor and uid) and dropped %d" % nflows_a in text,
          "the replayed records were not all dropped as duplicates")
    check("\ninput     flow records from Kafka (" in text, "the summary does not say the records came from Kafka")
    # The same group again, once a third sensor published: offsets were
    # committed, only the new records are judged. (The mock cluster refuses
    # a fetch at the very end of a partition as out of range, so the group's
    # offset must not be the end when the auditor starts.)
    env.sensor(b, "span-3", "psw")
    again = Auditor(env, "restarted", "audit")
    try:
        again.wait_flows(len(env.single(b)[1]))
        time.sleep(2)
        recs, flows = again.stop()
    finally:
        again.kill()
    check({f["sensor"] for f in flows} == {"span-3"},
          "a restarted auditor judged %d records again" % sum(f["sensor"] != "span-3" for f in flows))
    # Sensors that observe only 198.51.100.0/24 could not have seen PSW-008
    # (workspace 192.0.2.10-11 -> kerberos 192.0.2.32, sites/psw.site).
    env.cluster.close()
    env.cluster = Cluster(env.mock, 1, env.dir, "mock-narrow")
    # A sensor of another site on the same partition: its records are not
    # judged, its hello makes nothing observable.
    narrow = Auditor(env, "narrow", "narrow")
    try:
        env.sensor(a, "far-1", "psw", nets="198.51.100.0/24")
        env.sensor(a, "other-1", "other-site", nets=ALL_NETS)
        env.sensor(b, "far-2", "psw", nets="198.51.100.0/24")
        narrow.wait_flows(len(want[1]))
        time.sleep(2)
        recs, flows = narrow.stop()
    finally:
        narrow.kill()
    check({f["sensor"] for f in flows} == {"far-1", "far-2"}, "the auditor judged records of another site")
    with open(os.path.join(env.dir, "narrow.txt")) as f:
        text = f.read()
    # Its flow records and its two hellos, first and last.
    check("messages of other sites skipped %d" % (nflows_a + 2) in text,
          "the %d messages of another site are not counted as skipped: %s" % (nflows_a + 2, text[-600:]))
    status = rule_status(recs)
    check(rule_status(want[0])["PSW-008"] == "not_seen", "PSW-008 is no longer not seen in the sample")
    check(status["PSW-008"] == "not_observable",
          "PSW-008 is %s, not not_observable, where no sensor could see it" % status["PSW-008"])


def case_kcat(env):
    if not shutil.which("kcat"):
        print("SKIP: kcat is not installed")
        return SKIP
    a, b = split(env)
    ja, jb = os.path.join(env.dir, "a.json"), os.path.join(env.dir, "b.json")
    env.sensor(a, "span-1", "psw", json_out=ja)
    env.sensor(b, "span-2", "psw", json_out=jb)
    written = []
    for path, sensor in ((ja, "span-1"), (jb, "span-2")):
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                if r["type"] == "flow":
                    r.pop("seq")
                    written.append(dict(r, sensor=sensor, site_key="psw"))
    got = subprocess.run(["kcat", "-C", "-b", env.cluster.bootstrap, "-t", TOPIC, "-e", "-q",
                          "-f", "%k\t%s\n"], stdout=subprocess.PIPE, text=True, timeout=WAIT_S, check=True)
    msgs = [line.split("\t", 1) for line in got.stdout.splitlines()]
    check(all(k == "psw" for k, _ in msgs), "a message not keyed by its site")
    recs = [json.loads(v) for _, v in msgs]
    for sensor in ("span-1", "span-2"):
        seqs = [r["seq"] for r in recs if r["sensor"] == sensor]
        check(seqs == list(range(len(seqs))), "%s: its messages are not numbered 0.. in order" % sensor)
    schema_check(env, [v for _, v in msgs])
    for r in recs:
        r.pop("seq")
    flows = [r for r in recs if r["type"] == "flow"]
    hellos = [r for r in recs if r["type"] == "sensor_hello"]
    print("kcat read %d messages: %d flow records, %d hellos" % (len(recs), len(flows), len(hellos)))
    check(len(flows) == len(written) and len(written) > 10,
          "kcat read %d flow records, the sensors wrote %d" % (len(flows), len(written)))
    key = lambda r: json.dumps(r, sort_keys=True)
    check(sorted(map(key, flows)) == sorted(map(key, written)), "the messages are not the -j records")
    check(sorted((h["sensor"], h["networks"][0]) for h in hellos)
          == [("span-1", "192.0.2.0/24")] * 2 + [("span-2", "192.0.2.0/24")] * 2,
          "each sensor says hello when it starts and when it stops")
    # kcat writes what no sensor would: the auditor skips and counts it,
    # and judges the real records as before.
    bad = ["not json", "[1,2]", '{"type":"flow"}', '{"type":"flow","sensor":"x","uid":"C1"}',
           '{"type":"flow","sensor":"%s","uid":"C2"}' % ("x" * 64),
           '{"type":"sensor_hello","sensor":"x","networks":["192.0.2.0/33"]}',
           '{"type":"flow","sensor":"x","uid":"C3","pad":"%s"}' % ("y" * 70000)]
    ignored = ['{"type":"flow_update","sensor":"x","site_key":"psw","uid":"C4"}']
    # A sensor whose messages 1 to 4 never came.
    gap = ['{"type":"sensor_hello","sensor":"gap","site_key":"psw","networks":[],"seq":%d}' % n for n in (0, 5)]
    subprocess.run(["kcat", "-P", "-b", env.cluster.bootstrap, "-t", TOPIC, "-k", "psw"],
                   input="\n".join(bad + ignored + gap) + "\n", text=True, timeout=WAIT_S, check=True)
    aud = Auditor(env, "auditor", "kcat")
    try:
        aud.wait_flows(len(written))
        time.sleep(2)
        got = aud.stop()
    finally:
        aud.kill()
    same_audit(got, env.single(a, b), "with foreign messages")
    with open(os.path.join(env.dir, "auditor.txt")) as f:
        text = f.read()
    check("records; skipped %d malformed" % len(bad) in text,
          "the auditor did not count the %d malformed messages: %s" % (len(bad), text[-600:]))
    check("messages missing (gaps in a sensor's seq) 4\n" in text, "the 4 messages of the gap are not counted")


def missing(env, name):
    """The messages an auditor's summary says never came."""
    with open(os.path.join(env.dir, name + ".txt")) as f:
        for line in f:
            if "messages missing (gaps in a sensor's seq)" in line:
                return int(line.rsplit(" ", 1)[1])
    raise Failure("%s: no count of missing messages in the summary" % name)


def schema_check(env, lines):
    """Validates NDJSON lines against docs/ndjson.schema.json."""
    path = os.path.join(env.dir, "schema-%d.ndjson" % len(os.listdir(env.dir)))
    with open(path, "w") as f:
        f.write("".join(line.rstrip("\n") + "\n" for line in lines))
    rc = subprocess.run([sys.executable, env.src("tests/golden/check-schema.py"), "--files", env.srcdir, path])
    check(rc.returncode == 0, "records do not follow docs/ndjson.schema.json")


def case_broker_down(env):
    a, b = split(env)
    want = env.single(a, b)
    nflows_a = len(env.single(a)[1])
    aud = Auditor(env, "auditor", "down")
    try:
        env.sensor(a, "span-1", "psw")
        aud.wait_flows(nflows_a)
        env.cluster.command("down 1")
        sensor = env.sensor(b, "span-2", "psw", wait=False)
        time.sleep(3)
        check(len(aud.flows()) == nflows_a, "records arrived while the broker was down")
        env.cluster.command("up 1")
        finish_sensor(sensor)
        aud.wait_flows(len(want[1]))
        got = aud.stop()
    finally:
        aud.kill()
    same_audit(got, want, "broker down and back")
    check(missing(env, "auditor") == 0, "the auditor found messages missing after the broker came back")


def case_broker_away(env):
    hyworks = env.src("pcaps/products/hyworks-broken.pcap")
    nflows = len(env.single(hyworks)[1])
    check(nflows > 5, "the sample capture has too few flows to fill the queue")
    # Port 1 of the loopback: nothing listens, every connection is refused.
    proc = subprocess.Popen([env.fa, "--no-progress", "-r", hyworks, "--kafka-out", "127.0.0.1:1/" + TOPIC,
                             "--sensor-id", "s1", "--site-key", "dc1",
                             "--kafka-set", "queue.buffering.max.messages=5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    start = time.time()
    proc.send_signal(signal.SIGINT)
    try:
        text, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise Failure("the sensor did not exit within 20 s of SIGINT with its broker away")
    took = time.time() - start
    print("exit %d %.1f s after SIGINT" % (proc.returncode, took))
    check(proc.returncode == 2, "exit status %d, not 2, with records not published: %s" % (proc.returncode, err))
    # The queue holds 5 messages, the first a hello: every flow record but
    # 4 found no room.
    lost = [line for line in text.splitlines() if "records not published" in line]
    check(lost, "no 'records not published' line in the summary: %s" % text[-800:])
    count = int(lost[0].split("records not published")[1].split()[0])
    check(count == nflows - 4, "%d records not published, expected %d" % (count, nflows - 4))
    check("not published" in err and "may be wrong" in err, "no warning on stderr: %s" % err)
    check("%d flow records not published" % count in err, "the error does not count them: %s" % err)
    # The library's own complaints about the refused connections come under
    # the program's name, a few of them, not as raw "%3|...|FAIL|" lines.
    library = [line for line in err.splitlines() if line.startswith("flowaudit: --kafka-out: ")
               and "not published" not in line]
    check(library, "no Kafka library message under flowaudit's name: %s" % err)
    check(len(library) <= 10, "%d Kafka library messages shown, more than 10" % len(library))
    check(not any(line.startswith("%") for line in err.splitlines()), "raw librdkafka lines: %s" % err)


def case_conf(env):
    secret = "hunter2-not-a-number"
    for side in (["-r", env.src(PCAP), "--kafka-out", env.cluster.spec, "--site-key", "s"],
                 ["--kafka-in", env.cluster.spec, "--rules", env.src("rules"), "--site", env.src(SITE),
                  "--site-key", "s"]):
        # librdkafka's reason quotes the value for security.protocol, not
        # for linger.ms.
        for key in ("linger.ms", "security.protocol"):
            run = subprocess.run([env.fa, "-q"] + side + ["--kafka-set", key + "=" + secret],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=WAIT_S)
            check(run.returncode == 2, "exit status %d with a rejected property" % run.returncode)
            check(key in run.stderr and "Invalid value" in run.stderr,
                  "the rejected key or the reason is not given: %s" % run.stderr)
            check(secret not in run.stderr + run.stdout, "the rejected value is in the error: %s" % run.stderr)


def case_readme(env):
    with open(env.src("README.md")) as f:
        readme = f.read()
    section = readme.split("\n## Many sensors, one audit (Kafka)\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1).replace("\\\n", " ")
    sensor, auditor = [shlex.split(line) for line in block.strip().split("\n")]
    init = shlex.split(re.search(r"\n(\./build/flowaudit [^\n]*--init-site[^>]*)>", readme).group(1))
    with open(os.path.join(env.dir, "my.site"), "w") as f:
        subprocess.run([env.fa] + init[1:], cwd=env.srcdir, stdout=f, check=True)
    os.symlink(env.src("rules"), os.path.join(env.dir, "rules"))

    def mine(cmd):
        cmd = [env.fa if w in ("flowaudit", "./build/flowaudit") else w for w in cmd if w != "sudo"]
        return [w.replace("kafka1:9092", env.cluster.bootstrap) for w in cmd]
    sensor = mine(sensor)
    i = sensor.index("-i")
    sensor[i:i + 2] = ["-r", env.src("pcaps/products/hyworks-broken.pcap")]
    finish_sensor(subprocess.Popen(sensor, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    with open(os.path.join(env.dir, "readme-auditor.err"), "w") as err:
        proc = subprocess.Popen(mine(auditor) + list(FAST_GROUP), cwd=env.dir, stdout=subprocess.DEVNULL,
                                stderr=err)
        out = os.path.join(env.dir, "audit.ndjson")
        deadline, flows = time.time() + WAIT_S, 0
        while time.time() < deadline and proc.poll() is None and not flows:
            time.sleep(0.5)
            if os.path.exists(out):
                with open(out) as f:
                    flows = sum('"type":"flow"' in line for line in f)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=WAIT_S)
    with open(os.path.join(env.dir, "readme-auditor.err")) as f:
        said = f.read()
    check(rc == 0 and flows > 0, "the README's auditor: exit %d, %d flow records: %s" % (rc, flows, said))


def case_cooperative(env):
    hyworks = env.src("pcaps/products/hyworks-broken.pcap")
    aud = Auditor(env, "auditor", "coop", ("--site-key", "psw", "--kafka-set",
                                           "partition.assignment.strategy=cooperative-sticky"))
    try:
        env.sensor(hyworks, "span-1", "psw")
        aud.wait_flows(len(env.single(hyworks)[1]))
        aud.stop()
    finally:
        aud.kill()


def case_fenced(env):
    static = ("--site-key", "psw", "--kafka-set", "group.instance.id=auditor-1")
    first = Auditor(env, "first", "static", static)
    try:
        first.wait_assigned()
        env.cluster.command("fence 3")
        try:
            rc = first.proc.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            raise Failure("the fenced auditor still runs: %s" % first.stderr()[-400:])
        check(rc == 2 and "fatal" in first.stderr(), "fenced auditor: exit %d: %s" % (rc, first.stderr()[-400:]))
    finally:
        first.kill()


def partition_of(key, partitions):
    """librdkafka's default partitioner for a keyed message: CRC-32 of
    the key (consistent_random)."""
    return zlib.crc32(key.encode()) % partitions


def case_group(env):
    a, b = split(env)
    keys = ["site-%d" % i for i in range(1, 50)]
    east = next(k for k in keys if partition_of(k, 2) == 0)
    west = next(k for k in keys if partition_of(k, 2) == 1)
    keys = ("--site-key", east, "--site-key", west)
    auditors = [Auditor(env, "auditor-1", "split", keys), Auditor(env, "auditor-2", "split", keys)]
    try:
        deadline, settled = time.time() + WAIT_S, None
        while time.time() < deadline:
            split_now = sorted(len(x.partitions() or ()) for x in auditors) == [1, 1]
            settled = (settled or time.time()) if split_now else None
            if settled and time.time() - settled > 2:
                break
            time.sleep(0.2)
        parts = [x.partitions() for x in auditors]
        check(sorted(len(p or ()) for p in parts) == [1, 1], "the group did not give each auditor one partition")
        env.sensor(a, "span-east", east)
        env.sensor(b, "span-west", west)
        by_part = {0: (a, "span-east"), 1: (b, "span-west")}
        for x, p in zip(auditors, parts):
            pcap, _ = by_part[next(iter(p))]
            x.wait_flows(len(env.single(pcap)[1]))
        for x in auditors:
            x.proc.send_signal(signal.SIGTERM)
        results = [x.stop() for x in auditors]
    finally:
        for x in auditors:
            x.kill()
    for x, p, got in zip(auditors, parts, results):
        pcap, sensor = by_part[next(iter(p))]
        check({f["sensor"] for f in got[1]} == {sensor}, "an auditor judged records of another site")
        same_audit(got, env.single(pcap), "auditor of partition %d" % next(iter(p)))


CASES = {"audit": case_audit, "kcat": case_kcat, "broker-down": case_broker_down,
         "broker-away": case_broker_away, "conf": case_conf, "readme": case_readme, "cooperative": case_cooperative, "fenced": case_fenced,
         "group": case_group}


def main():
    case, fa, mock, srcdir = sys.argv[1:5]
    if not mock:
        print("SKIP: flowaudit was built without librdkafka")
        return SKIP
    if not shutil.which("tcpdump"):
        print("SKIP: tcpdump (to split the sample capture) is not installed")
        return SKIP
    workdir = tempfile.mkdtemp(prefix="flowaudit-kafka-")
    env = None
    try:
        env = Env(fa, mock, srcdir, workdir, partitions=2 if case == "group" else 1)
        rc = CASES[case](env)
        if rc == SKIP:
            return SKIP
        print("kafka.%s: ok" % case)
        return 0
    except Failure as e:
        print("FAIL: kafka.%s: %s (files in %s)" % (case, e, workdir))
        workdir = None
        return 1
    finally:
        if env:
            env.cluster.close()
        if workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
