#!/usr/bin/env python3
"""mutants.py - plants small bugs in the verdict path, one at a time, and
reports which tests catch each.

Usage: tools/mutants.py [--rev REV] [--scratch DIR] [--only ID,...] [--list]
                        [--markdown FILE]

Each mutant is (file, exact original text, replacement). The committed tree
at REV (default HEAD) is copied with `git archive` into a scratch directory
(default /tmp/flowaudit-mutants), built once in its own build directory,
and tested once unmutated. Then, for each mutant: the original text must
occur exactly once in the file, or the mutant is STALE (the source moved
on: update the list); the edit is made, the tree rebuilt and

    ctest -LE 'live|fuzz|integration' -j2 --timeout 120

run (every group but the live namespaces, the fuzz replays and the Zeek
corpus comparison); the file is put back. A mutant is caught when a test
that passed unmutated fails. Failing tests are split into unit tests
(unit.*) and end-to-end tests (golden, verdict, records, ws, malformed,
...). The score is caught / (mutants that built), and the end-to-end
score counts only mutants that an end-to-end test caught.

The shared capture corpus is linked beside the scratch tree when the
repository has one beside it, so ws.zeek-corpus runs too.

Slow (a rebuild and a test run per mutant): run it by hand before
resolving a verdict-related issue, and record the score in docs/mutants.md.
Exit status: 0 every built mutant caught end to end, 1 otherwise, 2 setup
failure.
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

LABELS = "live|fuzz|integration"

# (id, area, file, original, replacement, what the bug would mean)
MUTANTS = [
    ("M01", "state machine", "src/tcp_state.c",
     "if (os == FA_EP_SYN_SENT || os == FA_EP_SYN_ACK_SENT ||",
     "if (os == FA_EP_SYN_SENT ||",
     "a SYN-ACK sender refused by RST (Hr) is not REJ"),
    ("M02", "state machine", "src/tcp_state.c",
     "return r_inactive ? FA_CS_SH : FA_CS_S2;",
     "return FA_CS_S2;",
     "SYN then FIN with no answer is S2, not SH"),
    ("M03", "state machine", "src/tcp_state.c",
     "if (os == FA_EP_SYN_SENT && rs == FA_EP_INACTIVE)\n        return FA_CS_S0;",
     "if (os == FA_EP_SYN_SENT && rs == FA_EP_PARTIAL)\n        return FA_CS_S0;",
     "an unanswered SYN is not S0"),
    ("M04", "attempt classification", "src/audit.c",
     "if (st == FA_CS_S0 || st == FA_CS_RSTOS0 || st == FA_CS_SH)",
     "if (st == FA_CS_S0 || st == FA_CS_RSTOS0)",
     "SH (SYN then FIN, no answer) is not a blocked attempt"),
    ("M05", "attempt classification", "src/audit.c",
     "if (st == FA_CS_REJ || (refused_by_icmp && !answered))",
     "if (st == FA_CS_REJ)",
     "a TCP SYN refused by ICMP is not rejected"),
    ("M06", "ICMP attribution", "src/audit.c",
     "    if (refused_by_icmp && !answered)\n        return FA_ATTEMPT_REJECTED;\n    if (f->key.proto == FA_PROTO_UDP ||",
     "    if (f->key.proto == FA_PROTO_UDP ||",
     "a UDP flow refused by ICMP is blocked, not rejected"),
    ("M07", "ICMP attribution", "src/flow_table.c",
     "bool quoted_from_orig = fa_addr_cmp(&q->src, fa_flow_addr(f, 0)) == 0;",
     "bool quoted_from_orig = fa_addr_cmp(&q->src, fa_flow_addr(f, 0)) != 0;",
     "the ICMP error is taken to refuse the wrong side"),
    ("M08", "attempt classification", "src/audit.c",
     "return answered ? FA_ATTEMPT_SEEN : FA_ATTEMPT_BLOCKED;",
     "return FA_ATTEMPT_SEEN;",
     "unanswered UDP is never blocked"),
    ("M09", "attempt classification", "src/audit.c",
     "        for (int i = 0; i < v->nrules && v->attempt == FA_ATTEMPT_BLOCKED; i++)\n"
     "            if (a->rs->rules[v->rules[i]].oneway)\n"
     "                v->attempt = FA_ATTEMPT_SEEN;\n",
     "",
     "a oneway rule's unanswered flow is blocked"),
    ("M10", "port sets", "src/portset.c",
     "        return true;\n    for (unsigned i = 0; i < ps->count; i++) {\n"
     "        if (port >= ps->ranges[i].lo && port <= ps->ranges[i].hi)",
     "        return true;\n    for (unsigned i = 0; i < ps->count; i++) {\n"
     "        if (port >= ps->ranges[i].lo && port < ps->ranges[i].hi)",
     "the last port of a range (or a single port) is not in the set"),
    ("M11", "port sets", "src/audit.c",
     "(!fa_portset_contains(a->dports[i], dport) || !fa_portset_contains(&r->sports, sport))",
     "(!fa_portset_contains(a->dports[i], dport) || (!fa_portset_contains(&r->sports, sport) && r->sports.any))",
     "a rule's source port is not checked"),
    ("M12", "port sets", "src/audit.c",
     "a->dports[i] = a->site ? fa_site_rule_dports(a->site, rs, i) : &rs->rules[i].dports;",
     "a->dports[i] = &rs->rules[i].dports;",
     "a site's port override is ignored"),
    ("M13", "wrong-direction", "src/audit.c",
     "ends reversed = {r, o, fa_flow_port(f, 0), fa_flow_port(f, 1)};",
     "ends reversed = {r, o, fa_flow_port(f, 1), fa_flow_port(f, 0)};",
     "a wrong-direction flow to the rule's own port is undocumented"),
    ("M14", "wrong-direction", "src/audit.c",
     "return memchr(f->history, 'S', sizeof f->history) != NULL;",
     "return (f->dir[0].flags & FA_TH_SYN) != 0;",
     "a SYN-ACK sender (the server, its client's SYN not captured) is taken as the initiator"),
    ("M23", "wrong-direction", "src/audit.c",
     "v->nrules = v->initiator_known ? match_rules(a, f->key.proto, &reversed, true, v->rules) : 0;",
     "v->nrules = match_rules(a, f->key.proto, &reversed, true, v->rules);",
     "a flow whose initiator was not seen can be wrong-direction"),
    ("M15", "RST sender", "src/flow.c",
     "return (dir->ttl_rst < dir->ttl_min || dir->ttl_rst > dir->ttl_max) ? FA_RST_MIDDLEBOX",
     "return (dir->ttl_rst > dir->ttl_max) ? FA_RST_MIDDLEBOX",
     "a forged RST with a lower TTL is taken for the endpoint's"),
    ("M16", "RST sender", "src/flow.c",
     "return (dir->ttl_rst < dir->ttl_min || dir->ttl_rst > dir->ttl_max) ? FA_RST_MIDDLEBOX",
     "return (dir->ttl_rst < dir->ttl_min) ? FA_RST_MIDDLEBOX",
     "a forged RST with a higher TTL is taken for the endpoint's"),
    ("M17", "WebSocket close parsing", "src/ws_frame.c",
     "r->st.close_code = (uint16_t)((r->close_bytes[0] << 8) | r->close_bytes[1]);",
     "r->st.close_code = (uint16_t)((r->close_bytes[1] << 8) | r->close_bytes[0]);",
     "close codes read little-endian"),
    ("M18", "WebSocket close parsing", "src/ws_frame.c",
     "r->close_bytes[at] = data[i] ^ (r->masked ? r->mask[at % 4] : 0);",
     "r->close_bytes[at] = data[i];",
     "a masked close frame's code is not unmasked"),
    ("M19", "fail-on mapping", "src/audit.c",
     "{\"wrong-direction\", FA_FAIL_WRONG_DIRECTION}",
     "{\"wrong-direction\", FA_FAIL_BLOCKED}",
     "--fail-on wrong-direction acts on blocked rules"),
    ("M20", "fail-on mapping", "src/audit_status.c",
     "case FA_RULE_NOT_SEEN: m |= FA_FAIL_MISSING; break;",
     "case FA_RULE_NOT_SEEN: break;",
     "a required rule never seen does not trip --fail-on missing"),
    ("M21", "fail-on mapping", "src/audit.c",
     "FA_FAIL_WRONG_DIRECTION | FA_FAIL_WS_KILLED;",
     "FA_FAIL_WRONG_DIRECTION;",
     "--fail-on all leaves out ws-killed"),
    ("M22", "rule status", "src/audit_status.c",
     "    if (rejected)\n        return FA_RULE_REJECTED;\n    if (blocked)\n        return FA_RULE_BLOCKED;",
     "    if (blocked)\n        return FA_RULE_BLOCKED;\n    if (rejected)\n        return FA_RULE_REJECTED;",
     "a port both blocked and rejected is reported blocked"),
    ("M24", "rule status", "src/audit_status.c",
     "bool alternatives = r->any_of || optional;",
     "bool alternatives = optional;",
     "ports a row gives as alternatives (any-of) are each required"),
]


def sh(cmd, cwd=None, timeout=None, log=None):
    """Runs cmd; returns its exit status (124 on timeout)."""
    try:
        p = subprocess.run(cmd, cwd=cwd, stdout=log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
                           timeout=timeout, check=False)
        return p.returncode
    except subprocess.TimeoutExpired:
        return 124


def ctest(build, log):
    """Names of the tests that failed in one ctest run of the label set."""
    failed_log = os.path.join(build, "Testing", "Temporary", "LastTestsFailed.log")
    if os.path.exists(failed_log):
        os.remove(failed_log)
    sh(["ctest", "-LE", LABELS, "-j2", "--timeout", "120"], cwd=build, timeout=1800, log=log)
    if not os.path.exists(failed_log):
        return set()
    with open(failed_log, encoding="utf-8") as f:
        return {line.strip().split(":", 1)[1] for line in f if ":" in line}


def is_unit(test):
    return test.startswith("unit.")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rev", default="HEAD")
    ap.add_argument("--scratch", default="/tmp/flowaudit-mutants")
    ap.add_argument("--only", help="comma-separated mutant ids")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--markdown", metavar="FILE", help="also write the results as a Markdown table")
    args = ap.parse_args()
    mutants = [m for m in MUTANTS if not args.only or m[0] in args.only.split(",")]
    if args.list:
        for mid, area, path, _, _, what in mutants:
            print("%s  %-24s %-18s %s" % (mid, area, path, what))
        return 0

    repo = subprocess.run(["git", "rev-parse", "--show-toplevel"], stdout=subprocess.PIPE, check=True,
                          cwd=os.path.dirname(os.path.abspath(__file__))).stdout.decode().strip()
    rev = subprocess.run(["git", "rev-parse", "--short", args.rev], cwd=repo, stdout=subprocess.PIPE,
                         check=True).stdout.decode().strip()
    src, build = os.path.join(args.scratch, "src"), os.path.join(args.scratch, "build")
    shutil.rmtree(args.scratch, ignore_errors=True)
    os.makedirs(src)
    archive = subprocess.run(["git", "archive", args.rev], cwd=repo, stdout=subprocess.PIPE, check=True)
    subprocess.run(["tar", "-x", "-C", src], input=archive.stdout, check=True)
    shared = os.path.join(os.path.dirname(repo), "shared")
    if os.path.isdir(shared):
        os.symlink(shared, os.path.join(args.scratch, "shared"))
    log = open(os.path.join(args.scratch, "log"), "w")
    print("scratch %s, %s at %s, labels -LE '%s'" % (args.scratch, args.rev, rev, LABELS), flush=True)
    if (sh(["cmake", "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], log=log) or
            sh(["cmake", "--build", build, "-j2"], timeout=1800, log=log)):
        print("the unmutated tree does not build: see %s/log" % args.scratch)
        return 2
    start = time.time()
    broken = ctest(build, log)
    if broken:
        print("failing unmutated, left out of the counts: %s" % " ".join(sorted(broken)))

    results = []
    for mid, area, path, old, new, what in mutants:
        t = time.time()
        full = os.path.join(src, path)
        with open(full, encoding="utf-8") as f:
            text = f.read()
        if text.count(old) != 1:
            results.append((mid, area, path, what, "STALE", [], []))
            print("%s STALE (%d matches of the original text in %s)" % (mid, text.count(old), path), flush=True)
            continue
        with open(full, "w", encoding="utf-8") as f:
            f.write(text.replace(old, new))
        try:
            if sh(["cmake", "--build", build, "-j2"], timeout=1800, log=log):
                outcome, failed = "BUILD-FAIL", set()
            else:
                failed = ctest(build, log) - broken
                outcome = "caught" if failed else "SURVIVED"
        finally:
            with open(full, "w", encoding="utf-8") as f:
                f.write(text)
        unit = sorted(x for x in failed if is_unit(x))
        e2e = sorted(x for x in failed if not is_unit(x))
        if outcome == "caught" and not e2e:
            outcome = "unit only"
        results.append((mid, area, path, what, outcome, unit, e2e))
        print("%s %-10s %3.0fs  %s\n     unit: %s\n     end-to-end: %s" % (
            mid, outcome, time.time() - t, what, " ".join(unit) or "-", " ".join(e2e) or "-"), flush=True)
    sh(["cmake", "--build", build, "-j2"], timeout=1800, log=log)

    built = [r for r in results if r[4] not in ("STALE", "BUILD-FAIL")]
    caught = [r for r in built if r[4] != "SURVIVED"]
    e2e = [r for r in built if r[6]]
    stale = [r[0] for r in results if r[4] == "STALE"]
    summary = ("mutation score %d/%d (caught by any test), end-to-end %d/%d; %d stale, %d did not build; "
               "%.0f s" % (len(caught), len(built), len(e2e), len(built), len(stale),
                           sum(r[4] == "BUILD-FAIL" for r in results), time.time() - start))
    print(summary)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write("Run of %s on %s (%s), labels -LE '%s'.\n\n%s.\n\n" % (
                rev, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), args.rev, LABELS, summary))
            f.write("| id | area | planted bug | outcome | end-to-end tests that failed | unit tests that failed |\n")
            f.write("|---|---|---|---|---|---|\n")
            for mid, area, path, what, outcome, unit, e2e_t in results:
                f.write("| %s | %s | %s (`%s`) | %s | %s | %s |\n" % (
                    mid, area, what, path, outcome, ", ".join(e2e_t) or "-", ", ".join(unit) or "-"))
    return 0 if len(e2e) == len(built) else 1


if __name__ == "__main__":
    sys.exit(main())
