#!/usr/bin/env python3
"""check-lab.py - holds flowaudit's audit of one lab capture to its
expectation file (pcaps/lab/NAME.expect, written from the vendor document
and the lab scenario; format in pcaps/lab/README.md).

Both ways: every statement must hold, and every finding, undocumented flow
and killed session flowaudit reports must be one the file expects, so a
false finding fails the test as surely as a missed one. Runs with default
options apart from --rules and --site.

usage: check-lab.py FLOWAUDIT SRCDIR NAME
"""
import json
import subprocess
import sys

KILL = {"idle_close": "killed_idle_close", "rst_injected": "killed_rst_injected",
        "black_hole": "killed_black_hole"}


def run(flowaudit, src, name):
    cmd = [flowaudit, "--no-progress", "-q", "-j", "-", "--rules", "rules", "--site",
           "pcaps/lab/%s.site" % name, "-r", "pcaps/lab/%s.pcap" % name]
    out = subprocess.run(cmd, cwd=src, capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit("%s: flowaudit exited %d: %s" % (name, out.returncode, out.stderr))
    return [json.loads(line) for line in out.stdout.splitlines()]


def endpoints(words):
    """'SRC -> DST PROTO/PORT' -> (src, dst, proto, port)."""
    proto, _, port = words[3].partition("/")
    return words[0], words[2], proto, int(port) if port else None


class Checker:
    def __init__(self, name, records):
        self.name = name
        self.errors = []
        self.rules = {r["rule_id"]: r for r in records if r["type"] == "rule"}
        self.findings = [r for r in records if r["type"] == "finding"]
        self.flows = [r for r in records if r["type"] == "flow"]
        self.undoc = [r for r in records if r["type"] in ("undocumented", "wrong_direction")]
        self.sessions = [r for r in records if r["type"] == "websocket"]
        self.expected_findings = set()
        self.expected_undoc = set()
        self.expected_kills = set()

    def fail(self, line, why):
        self.errors.append("%s.expect:%d: %s" % (self.name, line, why))

    def rule(self, n, w):
        r = self.rules.get(w[0])
        if r is None:
            return self.fail(n, "no rule record %s" % w[0])
        if w[1] == "port":
            port = next((p for p in r["ports"] if p["port"] == w[2]), None)
            if port is None:
                return self.fail(n, "%s has no port %s" % (w[0], w[2]))
            got, want = port["status"], w[3]
            if want in ("blocked", "rejected", "not_seen", "unconfirmed"):
                self.expected_findings.add((w[0], w[2], want))
        else:
            got, want = r["status"], w[1]
            if want in ("blocked", "rejected", "not_seen", "unconfirmed"):
                self.expected_findings.add((w[0], None, want))
        if got != want:
            self.fail(n, "%s%s is %s, expected %s" % (w[0], " port " + w[2] if w[1] == "port" else "",
                                                      got, want))

    def not_audited(self, n, w):
        self.rule(n, [w[0], "not_audited"])

    def flow(self, n, w):
        src, dst, proto, port = endpoints(w)
        hits = [f for f in self.flows if f["id.orig_h"] == src and f["id.resp_h"] == dst and
                f["proto"] == proto and f["id.resp_p"] == port]
        if not any(f.get("attempt") == w[4] for f in hits):
            self.fail(n, "no %s flow %s" % (w[4], " ".join(w[:4])))

    def undocumented(self, n, w):
        src, dst, proto, port = endpoints(w)
        self.expected_undoc.add((src, dst, proto, port))
        if not any(u["orig_h"] == src and u["resp_h"] == dst and u["proto"] == proto and
                   u["resp_p"] == port for u in self.undoc):
            self.fail(n, "no undocumented flow %s" % " ".join(w))

    def outside(self, n, w):
        src, dst, proto, port = endpoints(w)
        if not any(f["id.orig_h"] == src and f["id.resp_h"] == dst and f["id.resp_p"] == port and
                   f.get("verdict") == "out_of_scope" for f in self.flows):
            self.fail(n, "no out-of-scope flow %s" % " ".join(w))

    def session(self, n, w, ending, idle=None):
        src, dst, _, port = endpoints(w)
        if ending in ("clean", "still_open") and self.unreported(src, dst, port, ending):
            return None
        for s in self.sessions:
            if s["client_h"] == src and s["server_h"] == dst and s["server_p"] == port:
                if s["ending"] != ending:
                    return self.fail(n, "%s ended %s, expected %s" % (" ".join(w[:4]), s["ending"], ending))
                if idle is not None and abs(s["idle_before_end"] - idle) > max(1.0, idle * 0.2):
                    return self.fail(n, "%s: %.1f s idle before the end, expected about %.0f s" %
                                     (" ".join(w[:4]), s["idle_before_end"], idle))
                return None
        return self.fail(n, "no session %s" % " ".join(w[:4]))

    def unreported(self, src, dst, port, ending):
        """A short session the detector did not list (it lists long-lived
        and killed ones), whose flow shows the ending: closed by both sides
        (Zeek SF), or still open when the capture ended."""
        listed = any(s["client_h"] == src and s["server_h"] == dst and s["server_p"] == port
                     for s in self.sessions)
        shows = (lambda f: f["conn_state"] == "SF") if ending == "clean" else \
            (lambda f: f["end_reason"] == "end_of_input")
        return not listed and any(f["id.orig_h"] == src and f["id.resp_h"] == dst and
                                  f["id.resp_p"] == port and shows(f) for f in self.flows)

    def ws_killed(self, n, w):
        src, dst, _, port = endpoints(w)
        self.expected_kills.add((src, dst, port))
        idle = float(w[5].split("~")[1].rstrip("s"))
        self.session(n, w, KILL[w[4]], idle)

    def session_ending(self, n, w):
        self.session(n, w, w[4])

    def unexpected(self):
        for f in self.findings:
            service = f["service"].partition("/")[2]
            if ((f["rule_id"], service, f["kind"]) not in self.expected_findings and
                    (f["rule_id"], None, f["kind"]) not in self.expected_findings):
                self.errors.append("%s: unexpected finding %s %s %s" % (self.name, f["kind"], f["rule_id"],
                                                                         f["service"]))
        for u in self.undoc:
            if (u["orig_h"], u["resp_h"], u["proto"], u["resp_p"]) not in self.expected_undoc:
                self.errors.append("%s: unexpected %s flow %s -> %s %s/%s" % (
                    self.name, u["type"], u["orig_h"], u["resp_h"], u["proto"], u["resp_p"]))
        for s in self.sessions:
            if s["killed"] and (s["client_h"], s["server_h"], s["server_p"]) not in self.expected_kills:
                self.errors.append("%s: unexpected kill %s %s -> %s:%s" % (
                    self.name, s["ending"], s["client_h"], s["server_h"], s["server_p"]))


def main(argv):
    flowaudit, src, name = argv[1:4]
    c = Checker(name, run(flowaudit, src, name))
    verbs = {"rule": c.rule, "not_audited": c.not_audited, "flow": c.flow, "undocumented": c.undocumented,
             "outside": c.outside, "ws_killed": c.ws_killed, "session": c.session_ending}
    with open("%s/pcaps/lab/%s.expect" % (src, name)) as f:
        for n, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if words[0] not in verbs:
                sys.exit("%s.expect:%d: unknown statement %s" % (name, n, words[0]))
            verbs[words[0]](n, words[1:])
    c.unexpected()
    for e in c.errors:
        print("FAIL " + e)
    print("%s: %s" % (name, "ok" if not c.errors else "%d failures" % len(c.errors)))
    return 1 if c.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
