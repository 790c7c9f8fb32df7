#!/usr/bin/env python3
"""check-verdicts.py - holds flowaudit's verdicts on a crafted capture to
expectations written by hand in tests/golden/VERDICTS.

Usage: check-verdicts.py FLOWAUDIT SRCDIR NAME

VERDICTS is a list of cases. A case starts with
    case NAME PCAP [OPTIONS...]
(PCAP and paths in OPTIONS relative to SRCDIR; the word "audit" stands for
--rules pcaps/verdict/rules --site pcaps/verdict/verdict.site) and its
lines, each checked against one run of flowaudit with -j:
    flows N                        exactly N flow records
    flow H:P > H:P PROTO F=V...    the flow with that 5-tuple has these fields
    rule ID F=V...                 the rule record has these fields
    findings KIND:RULE...|none     exactly these findings
    aggregate TYPE H > H PROTO/PORT F=V...
                                   an undocumented or wrong_direction
                                   aggregate; those listed are all there are
    text REGEX                     a line of the text report matches
    notext REGEX                   no line of the text report matches
    exit KINDS STATUS              with --fail-on KINDS (and -q), the exit
                                   status is STATUS
A value is compared with the record's field as text (null, a list as its
items joined by commas). '#' starts a comment: each expectation says there
where it comes from.

Exit status: 0 every line holds, 1 one does not, 2 usage or a broken case.
"""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

AUDIT = ["--rules", "pcaps/verdict/rules", "--site", "pcaps/verdict/verdict.site"]
ENV = dict(os.environ, TZ="UTC", LC_ALL="C", NO_COLOR="1")


def read_case(path, name):
    """The case's (pcap, options, [(line number, words)])."""
    head, lines = None, []
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            text = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
            if not text:
                continue
            words = shlex.split(text)
            if words[0] == "case":
                if head is not None:
                    break
                if words[1] == name:
                    head = words[2:]
            elif head is not None:
                lines.append((n, words))
    if not head:
        raise ValueError("no case '%s' in %s" % (name, path))
    opts = []
    for w in head[1:]:
        opts += AUDIT if w == "audit" else [w]
    return head[0], opts, lines


def run(flowaudit, src, pcap, opts, json_path=None, quiet=False):
    cmd = [flowaudit, "--no-progress", "-r", pcap] + opts
    if json_path:
        cmd += ["-j", json_path]
    if quiet:
        cmd.append("-q")
    p = subprocess.run(cmd, cwd=src, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def as_text(v):
    if v is None:
        return "null"
    if isinstance(v, list):
        return ",".join(as_text(x) for x in v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def fields_differ(rec, pairs):
    errs = []
    for pair in pairs:
        k, _, want = pair.partition("=")
        got = as_text(rec.get(k)) if k in rec else "(absent)"
        if got != want:
            errs.append("%s=%s, expected %s" % (k, got, want))
    return errs


def endpoint(text):
    h, _, p = text.rpartition(":")
    return h, int(p)


def check(flowaudit, src, name, spec):
    pcap, opts, lines = read_case(spec, name)
    with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
        status, text, err = run(flowaudit, src, pcap, opts, tmp.name)
        records = [json.loads(l) for l in open(tmp.name, encoding="utf-8") if l.strip()]
    if status not in (0, 1):
        print("%s: flowaudit exited %d: %s" % (name, status, err.strip()))
        return 1
    flows = [r for r in records if r.get("type") == "flow"]
    rules = {r["rule_id"]: r for r in records if r.get("type") == "rule"}
    findings = sorted("%s:%s" % (r["kind"], r["rule_id"]) for r in records if r.get("type") == "finding")
    aggregates = [r for r in records if r.get("type") in ("undocumented", "wrong_direction")]
    listed = []
    errs = []
    for n, w in lines:
        what, where = w[0], "line %d (%s)" % (n, " ".join(w[:6]))
        if what == "flows":
            if len(flows) != int(w[1]):
                errs.append("%s: %d flow records" % (where, len(flows)))
        elif what == "flow":
            (oh, op), (rh, rp), proto = endpoint(w[1]), endpoint(w[3]), w[4]
            hit = [f for f in flows if (f["id.orig_h"], f["id.orig_p"], f["id.resp_h"], f["id.resp_p"],
                                        f["proto"]) == (oh, op, rh, rp, proto)]
            if len(hit) != 1:
                errs.append("%s: %d flows with this 5-tuple" % (where, len(hit)))
            else:
                errs += ["%s: %s" % (where, e) for e in fields_differ(hit[0], w[5:])]
        elif what == "rule":
            if w[1] not in rules:
                errs.append("%s: no rule record" % where)
            else:
                errs += ["%s: %s" % (where, e) for e in fields_differ(rules[w[1]], w[2:])]
        elif what == "findings":
            want = [] if w[1:] == ["none"] else sorted(w[1:])
            if findings != want:
                errs.append("%s: findings %s" % (where, " ".join(findings) or "none"))
        elif what == "aggregate":
            proto, _, port = w[5].partition("/")
            hit = [a for a in aggregates if (a["type"], a["orig_h"], a["resp_h"], a["proto"], a["resp_p"]) ==
                   (w[1], w[2], w[4], proto, int(port))]
            if len(hit) != 1:
                errs.append("%s: %d such aggregates" % (where, len(hit)))
            else:
                listed.append(hit[0])
                errs += ["%s: %s" % (where, e) for e in fields_differ(hit[0], w[6:])]
        elif what in ("text", "notext"):
            found = any(re.search(w[1], l) for l in text.splitlines())
            if found != (what == "text"):
                errs.append("%s: %s in the text report" % (where, "found" if found else "not found"))
        elif what == "exit":
            got, _, e = run(flowaudit, src, pcap, opts + ["--fail-on", w[1]], quiet=True)
            if got != int(w[2]):
                errs.append("%s: exit status %d%s" % (where, got, (" (%s)" % e.strip()) if e.strip() else ""))
        else:
            print("%s: line %d: unknown check '%s'" % (name, n, what))
            return 2
    if any(w[0] == "aggregate" for _, w in lines) or any(w[0] == "findings" for _, w in lines):
        for a in aggregates:
            if a not in listed:
                errs.append("unexpected %s aggregate %s > %s %s/%s" % (
                    a["type"], a["orig_h"], a["resp_h"], a["proto"], a["resp_p"]))
    for e in errs:
        print("FAIL %s: %s" % (name, e))
    if not errs:
        print("ok   %s: %d checks" % (name, len(lines)))
    return 1 if errs else 0


def main():
    if len(sys.argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    flowaudit, src, name = sys.argv[1:]
    spec = os.path.join(os.path.dirname(os.path.abspath(__file__)), "VERDICTS")
    try:
        return check(os.path.abspath(flowaudit), src, name, spec)
    except (ValueError, OSError, KeyError, IndexError) as e:
        print("%s: %s" % (name, e))
        return 2


if __name__ == "__main__":
    sys.exit(main())
