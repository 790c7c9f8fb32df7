#!/usr/bin/env python3
"""zeek-compare.py - compare flowaudit's flow records with the Zeek conn.log
baselines of the public capture corpus, field by field.

For every corpus trace with a Zeek connection baseline (conn.log in any of
its cut forms, or an `out` file printing history / conn_state / endpoint
records from connection_state_remove), runs flowaudit on the trace, matches
flows by 5-tuple and reports per-field agreement and every disagreement.
Other Zeek logs carrying a connection's 5-tuple (ssl.log, dns.log, ...) add
direction-only checks for connections no conn.log covers. How to read the
results: docs/zeek-agreement.md.

Exit status: 0 done, 1 conn_state+history agreement below --min-agreement,
a field below its --min-field rate, or more disagreements of no documented
kind than --max-unexplained; 2 usage or flowaudit failure, 77 corpus not
found (ctest's skip code).
Standard library only.
"""

import argparse
import ipaddress
import itertools
import json
import os
import re
import shlex
import subprocess
import sys

FIELDS = ["direction", "conn_state", "history", "orig_pkts", "resp_pkts",
          "orig_ip_bytes", "resp_ip_bytes", "orig_bytes", "resp_bytes",
          "duration"]
INT_FIELDS = {"orig_pkts", "resp_pkts", "orig_ip_bytes", "resp_ip_bytes",
              "orig_bytes", "resp_bytes"}
DURATION_TOLERANCE = 1e-6
HISTORY_MAX = 12  # FA_HISTORY_MAX in include/flow.h
SKIP_EXIT = 77

# Zeek runs flowaudit cannot be asked to reproduce: the btest changes Zeek's
# behaviour in a way that has no flowaudit equivalent.
SKIPPED_BASELINES = {
    ("tcp-retransmit-timeout", "conn-limited.log"):
        "the btest floods the timer queue so Zeek's inactivity timeout "
        "cannot fire (conn-all.log is the same trace with timers working)",
}

# Zeek's default timers (init-bare.zeek): tcp_attempt_delay 5 s for an
# unanswered SYN, tcp_inactivity_timeout 5 min, tcp_close_delay 5 s,
# udp_inactivity_timeout and icmp_inactivity_timeout 1 min, so that
# connections are split where Zeek would split them.
ZEEK_TIMEOUTS = ["--timeout", "tcp-attempt=5",
                 "--timeout", "tcp-established=300",
                 "--timeout", "tcp-half-closed=300",
                 "--timeout", "tcp-closed=5",
                 "--timeout", "udp=60", "--timeout", "icmp=60"]

CONN_STATES = ("S0|S1|SF|REJ|S2|S3|RSTO|RSTR|RSTOS0|RSTRH|SH|SHR|OTH")
RE_HIST_STATE = re.compile(r"^([\^A-Za-z]*), (" + CONN_STATES + r")$")
RE_CONN_ID = re.compile(r"\[orig_h=([^,\]]+), orig_p=(\d+)/(\w+), "
                        r"resp_h=([^,\]]+), resp_p=(\d+)/\w+")
RE_REMOVE = re.compile(r"^REMOVE:, (\[.*\]), ([\^A-Za-z]*)$")
RE_ENDPOINT = re.compile(r"^\[size=(\d+), state=(\d+), num_pkts=(\d+), "
                         r"num_bytes_ip=(\d+)")
RE_TRACE_ARG = re.compile(r"\s-\w*r\s+(\S+)")
RE_TRACE_NAME = re.compile(r"^[\w.+-]+\.(pcap|pcapng|trace)$")
RE_WS_ESTABLISHED = re.compile(r"^websocket_established, (C\w+), \d+, (.*)$")


def norm_addr(a):
    """Canonical text form of an IPv4/IPv6 address."""
    try:
        return str(ipaddress.ip_address(a))
    except ValueError:
        return a


def make_key(oh, op, rh, rp, proto):
    return (norm_addr(oh), int(op), norm_addr(rh), int(rp), proto)


def reverse_key(k):
    return (k[2], k[3], k[0], k[1], k[4])


def key_text(k):
    return "%s:%d>%s:%d/%s" % (k[0], k[1], k[2], k[3], k[4] or "?")


# ---------------------------------------------------------------- btest ----

def parse_btest_script(path):
    """Which zeek run (trace file name) wrote each baseline file, and the
    columns of headerless zeek-cut outputs. Returns (runs, owner, cut_cols):
    runs is a list of trace names, owner maps file name -> list of run
    indices, cut_cols maps file name -> column list."""
    runs, owner, cut_cols = [], {}, {}
    last = None
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = [ln.split("@TEST-EXEC:", 1)[1].strip()
                 for ln in fh if "@TEST-EXEC:" in ln]
    for cmd in lines:
        for part in re.split(r"&&|;", cmd):
            words = part.split()
            if not words:
                continue
            m = RE_TRACE_ARG.search(" " + part)
            if words[0] == "zeek" and m and "TRACES" in m.group(1):
                runs.append(os.path.basename(m.group(1)))
                last = len(runs) - 1
                owner["conn.log"] = [last]
                for op, out in re.findall(r"(>>?)\s*(\S+)", part):
                    owner[out] = owner.get(out, []) + [last] if op == ">>" else [last]
            elif last is None:
                continue
            elif words[0] == "mv" and len(words) == 3:
                owner[words[2]] = owner.get(words[1], [last])
            elif "zeek-cut" in words:
                dest = re.search(r">\s*(\S+)\s*$", part)
                if not dest:
                    continue
                owner[dest.group(1)] = [last]
                cut = words[words.index("zeek-cut") + 1:]
                opts = [w for w in cut if w.startswith("-")]
                if not any(("m" in o or "C" in o) for o in opts):
                    cut_cols[dest.group(1)] = [
                        w for w in itertools.takewhile(
                            lambda w: w not in ("<", "|", ">"), cut)
                        if not w.startswith("-")]
            elif words[0].startswith("btest-diff"):
                owner.setdefault(words[-1], [last])
    return runs, owner, cut_cols


# ----------------------------------------------------------- baselines ----

def read_zeek_log(path, cut_cols=None):
    """Rows of a Zeek TSV log (full, zeek-cut -m, or headerless with
    cut_cols) as dicts of strings; None when no header can be found."""
    header, rows = None, []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line.startswith("#fields\t"):
                header = line.split("\t")[1:]
                continue
            if line.startswith("#") or not line.strip():
                continue
            cols = line.split("\t")
            if header is None:
                if "uid" in cols or "id.orig_h" in cols or "history" in cols:
                    header = cols
                    continue
                if not cut_cols:
                    return None
                header = cut_cols
            rows.append(dict(zip(header, cols)))
    return rows if header is not None else None


def conn_rows_from_log(path, cut_cols, siblings):
    """Baseline rows of one conn.log variant; a cut log without the
    5-tuple borrows it from another log of the same run via the uid."""
    rows = read_zeek_log(path, cut_cols)
    if rows is None:
        return None
    out = []
    for r in rows:
        row = {f: r[f] for f in FIELDS[1:] if f in r}
        row["uid"] = r.get("uid")
        if "id.orig_h" in r:
            row["key"] = make_key(r["id.orig_h"], r["id.orig_p"],
                                  r["id.resp_h"], r["id.resp_p"],
                                  r.get("proto"))
        else:
            row["key"] = siblings.get(r.get("uid"))
        out.append(row)
    return out


def direction_rows_from_log(path):
    """One direction-only row per connection (uid) of any other Zeek log
    that carries the connection's 5-tuple (ssl.log, dns.log, ...)."""
    rows, seen = [], set()
    for r in read_zeek_log(path) or []:
        uid = r.get("uid")
        if not uid or "id.orig_h" not in r or uid in seen:
            continue
        seen.add(uid)
        proto = r.get("proto") if r.get("proto") in ("tcp", "udp") else None
        rows.append({"uid": uid, "key": make_key(
            r["id.orig_h"], r["id.orig_p"], r["id.resp_h"], r["id.resp_p"],
            proto)})
    return rows


def sibling_tuples(expected_dir, skip):
    """uid -> 5-tuple (proto unknown) from the other logs of a btest."""
    tuples = {}
    for name in sorted(os.listdir(expected_dir)):
        p = os.path.join(expected_dir, name)
        if name == skip or not name.endswith(".log") or not os.path.isfile(p):
            continue
        for row in direction_rows_from_log(p):
            tuples.setdefault(row["uid"], row["key"])
    return tuples


def out_line_row(line):
    """The connection facts one line of a btest's printed output gives,
    or None: 'history, conn_state' and 'REMOVE:, <conn_id>, history' from
    connection_state_remove handlers, the 5-tuple from
    websocket_established."""
    m = RE_HIST_STATE.match(line)
    if m:
        return {"key": None, "history": m.group(1), "conn_state": m.group(2)}
    m = RE_REMOVE.match(line)
    if m:
        cid = RE_CONN_ID.search(m.group(1))
        key = make_key(cid.group(1), cid.group(2), cid.group(4),
                       cid.group(5), cid.group(3)) if cid else None
        return {"key": key, "history": m.group(2)}
    m = RE_WS_ESTABLISHED.match(line)
    if m:
        cid = RE_CONN_ID.search(m.group(2))
        if cid:
            return {"uid": m.group(1), "key": make_key(
                cid.group(1), cid.group(2), cid.group(4), cid.group(5),
                cid.group(3))}
    return None


def rows_from_out(path):
    """Rows from a btest's printed output. A line naming a trace (the
    btest's `echo NAME >>out`) starts that trace's section; a pair of
    endpoint records (orig then resp) gives sizes and packet counts."""
    rows, endpoints, section = [], [], None
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if RE_TRACE_NAME.match(line):
                section = line
                continue
            row = out_line_row(line)
            if row is not None:
                row["section"] = section
                rows.append(row)
                continue
            m = RE_ENDPOINT.match(line)
            if m:
                endpoints.append(m)
    for o, r in zip(endpoints[0::2], endpoints[1::2]):
        rows.append({"key": None, "section": section,
                     "orig_bytes": o.group(1), "orig_pkts": o.group(3),
                     "orig_ip_bytes": o.group(4),
                     "resp_bytes": r.group(1), "resp_pkts": r.group(3),
                     "resp_ip_bytes": r.group(4)})
    return rows


def is_conn_baseline(name):
    return name.startswith("conn") and name != "conn.log2"


def is_direction_only(row):
    return not any(f in row for f in FIELDS[1:])


def btest_rows(bdir, name, cut_cols):
    """Rows of one baseline file, or None when it has no usable header."""
    path = os.path.join(bdir, name)
    if is_conn_baseline(name):
        return conn_rows_from_log(path, cut_cols.get(name),
                                  sibling_tuples(bdir, name))
    if name.startswith("out"):
        return rows_from_out(path)
    if name.endswith(".log"):
        return direction_rows_from_log(path)
    return []


def case_baselines(case, cdir, skipped):
    """(btest, file, trace path, rows) for one corpus case. Direction-only
    rows are kept only for connections no fuller baseline already covers
    (the same trace gives the same uids in every btest)."""
    exp = os.path.join(cdir, "expected")
    traces = sorted(n for n in os.listdir(cdir)
                    if os.path.isfile(os.path.join(cdir, n)))
    full, partial = [], []
    for btest in sorted(os.listdir(exp)):
        bdir = os.path.join(exp, btest)
        script = os.path.join(bdir, "btest-script.txt")
        runs, owner, cut_cols = (parse_btest_script(script)
                                 if os.path.exists(script) else ([], {}, {}))
        for name in sorted(os.listdir(bdir)):
            desc = "%s/%s/%s" % (case, btest, name)
            if (case, name) in SKIPPED_BASELINES:
                skipped.append((desc, SKIPPED_BASELINES[(case, name)]))
                continue
            rows = btest_rows(bdir, name, cut_cols)
            if rows is None:
                skipped.append((desc, "no column header"))
                continue
            for trace, trows in assign_rows(rows, owner.get(name, []),
                                            runs, traces):
                if trace is None:
                    skipped.append((desc, "cannot tell which trace each "
                                    "line belongs to"))
                    continue
                for kind, sel in ((full, False), (partial, True)):
                    part = [r for r in trows if is_direction_only(r) == sel]
                    if part:
                        kind.append((btest, name, trace, part))
    claimed = {(t, r.get("uid")) for _, _, t, rows in full for r in rows}
    for btest, name, trace, rows in partial:
        keep = []
        for r in rows:
            if r.get("uid") and (trace, r["uid"]) in claimed:
                continue
            claimed.add((trace, r.get("uid")))
            keep.append(r)
        if keep:
            full.append((btest, name, trace, keep))
    return [(b, n, os.path.join(cdir, t), rows) for b, n, t, rows in full]


def find_baselines(corpus):
    """Every (case, btest, file, trace path, rows) with connection facts,
    plus (description, reason) pairs for baselines that were set aside."""
    found, skipped = [], []
    zroot = os.path.join(corpus, "zeek")
    for case in sorted(os.listdir(zroot)):
        cdir = os.path.join(zroot, case)
        if os.path.isdir(os.path.join(cdir, "expected")):
            found += [(case,) + b for b in case_baselines(case, cdir, skipped)]
    return found, skipped


def assign_rows(rows, run_ids, runs, traces):
    """Splits a baseline's rows among the zeek runs that wrote it: by the
    trace sections of a printed output, else by run when there is one row
    per run. Sections for traces stored elsewhere are dropped."""
    if rows and all(r.get("section") for r in rows):
        by_trace = {}
        for r in rows:
            by_trace.setdefault(r["section"], []).append(r)
        return [(t, rs) for t, rs in by_trace.items() if t in traces]
    names = [runs[i] for i in run_ids] or (traces if len(traces) == 1 else [])
    present = [n if n in traces else None for n in names]
    if len(present) == 1:
        return [(present[0], rows)]
    if len(present) == len(rows):
        return [(t, [r]) for t, r in zip(present, rows) if t is not None]
    if not rows:
        return []
    return [(None, rows)]


# ----------------------------------------------------------- flowaudit ----

def run_flowaudit(exe, trace, extra):
    cmd = [exe, "-r", trace, "-j", "-", "-q"] + extra
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          check=False)
    if proc.returncode not in (0, 1):
        raise RuntimeError("%s exited %d: %s" % (
            " ".join(shlex.quote(c) for c in cmd), proc.returncode,
            proc.stderr.decode(errors="replace").strip()))
    flows = []
    for line in proc.stdout.decode(errors="replace").splitlines():
        rec = json.loads(line)
        if rec.get("type") != "flow":
            continue
        rec["key"] = make_key(rec["id.orig_h"], rec["id.orig_p"],
                              rec["id.resp_h"], rec["id.resp_p"],
                              rec["proto"])
        flows.append(rec)
    flows.sort(key=lambda r: r["ts"])
    return flows


# ------------------------------------------------------------ matching ----

def field_value(flow, field):
    v = flow.get(field)
    return "-" if v is None else v


def compare_field(field, zeek, flow):
    """(agree, zeek text, flowaudit text, note) or None when the baseline
    does not give the field."""
    if field not in zeek:
        return None
    z, f = zeek[field], field_value(flow, field)
    note = ""
    if field == "duration":
        zv = 0.0 if z == "-" else float(z)
        return (abs(zv - float(f)) <= DURATION_TOLERANCE, z, "%.6f" % f, note)
    if field in INT_FIELDS:
        if z == "-":
            return None
        return (int(z) == int(f), z, str(f), note)
    f = str(f)
    agree = z == f
    if not agree and field == "history":
        note = history_note(z, f)
    return (agree, z, f, note)


def history_note(z, f):
    """Names a documented reason for a history difference, if one fits."""
    if len(z) > HISTORY_MAX and f == z[:HISTORY_MAX]:
        return "known: history capped at %d letters" % HISTORY_MAX
    stripped = re.sub("[Cc]", "", z)
    if stripped != z and stripped == f:
        return "known: checksums are not verified ('C')"
    stripped = re.sub("[Gg]", "", z)
    if stripped != z and stripped[:HISTORY_MAX] == f:
        return "known: no reassembly, so no content gaps ('G')"
    return ""


# Zeek analyzers that flip a UDP connection after reading its payload: the
# DNS analyzer when the first message is a response, the NTP analyzer when
# the originator sends a server-mode message.
APP_FLIP_LOGS = ("dns.log", "ntp.log")


def app_flip_note(row, name):
    """Zeek's UDP code never flips a connection after its first packet, so
    a '^' later in a UDP history, or a DNS/NTP log disagreeing on the
    direction, comes from a protocol analyzer reading the payload, which
    flowaudit does not do."""
    key = row.get("key")
    if not key or key[4] not in ("udp", None):
        return ""
    if "^" in row.get("history", "")[1:] or name in APP_FLIP_LOGS:
        return "known: Zeek's protocol analyzer flipped the roles"
    return ""


def score(zeek, flow):
    return sum(1 for fld in FIELDS[1:]
               if (c := compare_field(fld, zeek, flow)) is not None and c[0])


def match_rows(rows, flows):
    """Pairs each baseline row with a flowaudit flow: same 5-tuple first
    (proto ignored when the baseline lacks it), else the reversed tuple;
    rows sharing a tuple take the pairing that agrees most. A row without a
    tuple matches the trace's only flow. Returns (row, flow, reversed)."""
    used, result = set(), []

    def candidates(key, rev):
        want = reverse_key(key) if rev else key
        return [i for i, fl in enumerate(flows) if i not in used and
                fl["key"][:4] == want[:4] and
                (want[4] is None or fl["key"][4] == want[4])]

    groups = {}
    for idx, row in enumerate(rows):
        groups.setdefault(row["key"], []).append(idx)
    paired = {}
    for key, idxs in groups.items():
        if key is None:
            for i in idxs:
                paired[i] = (0, False) if len(flows) == 1 else (None, False)
            continue
        for rev in (False, True):
            pending = [i for i in idxs if i not in paired]
            cands = candidates(key, rev)
            if not pending or not cands:
                continue
            for i, c in best_assignment(pending, cands, rows, flows):
                paired[i] = (c, rev)
                used.add(c)
    for idx, row in enumerate(rows):
        fi, rev = paired.get(idx, (None, False))
        result.append((row, flows[fi] if fi is not None else None, rev))
    return result


def best_assignment(pending, cands, rows, flows):
    """Row/flow pairs maximising agreement (exhaustive for small groups,
    in capture order otherwise)."""
    if len(pending) > 6 or len(cands) > 6:
        return list(zip(pending, cands))
    best, best_score = [], -1
    n = min(len(pending), len(cands))
    for perm in itertools.permutations(cands, n):
        pairs = list(zip(pending[:n], perm))
        s = sum(score(rows[i], flows[c]) for i, c in pairs)
        if s > best_score:
            best, best_score = pairs, s
    return best


# ------------------------------------------------------------- report ----

def compare_all(baselines, exe, extra):
    stats = {f: [0, 0] for f in FIELDS}
    diffs, cache = [], {}
    for case, btest, name, trace, rows in baselines:
        if trace not in cache:
            cache[trace] = run_flowaudit(exe, trace, extra)
        label = os.path.relpath(trace, os.path.dirname(os.path.dirname(
            os.path.dirname(trace))))
        for row, flow, rev in match_rows(rows, cache[trace]):
            tup = key_text(row["key"]) if row["key"] else "(only flow)"
            row_note = app_flip_note(row, name)
            if flow is None:
                for fld in FIELDS:
                    if fld in row or fld == "direction":
                        stats[fld][1] += 1
                diffs.append({"trace": label, "baseline": name,
                              "tuple": tup, "field": "missing",
                              "zeek": "present", "flowaudit": "absent",
                              "note": ""})
                continue
            if row["key"]:
                stats["direction"][1] += 1
                stats["direction"][0] += not rev
                if rev:
                    diffs.append({"trace": label, "baseline": name,
                                  "tuple": tup, "field": "direction",
                                  "zeek": key_text(row["key"]),
                                  "flowaudit": key_text(flow["key"]),
                                  "note": row_note})
            for fld in FIELDS[1:]:
                c = compare_field(fld, row, flow)
                if c is None:
                    continue
                stats[fld][1] += 1
                stats[fld][0] += c[0]
                if not c[0]:
                    diffs.append({"trace": label, "baseline": name,
                                  "tuple": tup, "field": fld, "zeek": c[1],
                                  "flowaudit": c[2], "note": c[3] or row_note})
    return stats, diffs


def rate(agree, total):
    return agree / total if total else 1.0


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--flowaudit", default=os.path.join(root, "build", "flowaudit"),
                    help="flowaudit binary (default: build/flowaudit)")
    ap.add_argument("--corpus", default=os.path.join(root, "..", "shared", "corpus"),
                    help="corpus directory (default: ../shared/corpus)")
    ap.add_argument("--json", action="store_true",
                    help="print one JSON document instead of text")
    ap.add_argument("--min-agreement", type=float, metavar="RATE",
                    help="exit 1 if conn_state+history agreement is below "
                         "RATE (0..1)")
    ap.add_argument("--min-field", action="append", default=[], metavar="FIELD=RATE",
                    help="exit 1 if FIELD's agreement is below RATE (0..1); "
                         "repeat for several fields (%s)" % ", ".join(FIELDS))
    ap.add_argument("--max-unexplained", type=int, metavar="N",
                    help="exit 1 if more than N disagreements have no "
                         "documented reason")
    ap.add_argument("--default-timeouts", action="store_true",
                    help="run flowaudit with its own idle timeouts instead "
                         "of Zeek's")
    args = ap.parse_args()

    floors = {}
    for spec in args.min_field:
        field, _, value = spec.partition("=")
        if field not in FIELDS:
            ap.error("--min-field: unknown field %r" % field)
        floors[field] = float(value)

    if not os.path.isdir(os.path.join(args.corpus, "zeek")):
        print("corpus not found, skipping")
        return SKIP_EXIT
    if not os.access(args.flowaudit, os.X_OK):
        print("flowaudit not found: %s" % args.flowaudit, file=sys.stderr)
        return 2
    baselines, skipped = find_baselines(args.corpus)
    extra = [] if args.default_timeouts else ZEEK_TIMEOUTS
    try:
        stats, diffs = compare_all(baselines, args.flowaudit, extra)
    except (RuntimeError, OSError, ValueError) as e:
        print("zeek-compare: %s" % e, file=sys.stderr)
        return 2

    sh = [stats["conn_state"][i] + stats["history"][i] for i in (0, 1)]
    sh_rate = rate(*sh)
    known = sum(1 for d in diffs if d["note"].startswith("known"))
    if args.json:
        json.dump({
            "baselines": ["%s/%s/%s (%s)" % (c, b, n, os.path.basename(t))
                          for c, b, n, t, _ in baselines],
            "skipped": [{"baseline": d, "reason": r} for d, r in skipped],
            "fields": {f: {"agree": a, "compared": n, "rate": rate(a, n)}
                       for f, (a, n) in stats.items()},
            "conn_state_history": {"agree": sh[0], "compared": sh[1],
                                   "rate": sh_rate},
            "disagreements": diffs,
        }, sys.stdout, indent=1)
        print()
    else:
        print("Zeek baselines compared: %d (traces: %d)" % (
            len(baselines), len({b[3] for b in baselines})))
        for d, r in skipped:
            print("skipped %s: %s" % (d, r))
        print("\n%-18s %9s %9s %8s" % ("field", "agree", "compared", "rate"))
        for f, (a, n) in stats.items():
            print("%-18s %9d %9d %7.1f%%" % (f, a, n, 100 * rate(a, n)))
        print("%-18s %9d %9d %7.1f%%" % ("conn_state+history", sh[0], sh[1],
                                          100 * sh_rate))
        print("\n%d disagreements (%d of a documented kind)" % (
            len(diffs), known))
        for d in diffs:
            print("%s [%s] %s %s zeek=%s flowaudit=%s%s" % (
                d["trace"], d["baseline"], d["tuple"], d["field"], d["zeek"],
                d["flowaudit"], "  (%s)" % d["note"] if d["note"] else ""))
    status = 0
    if args.min_agreement is not None and sh_rate < args.min_agreement:
        print("conn_state+history agreement %.4f is below %.4f" % (
            sh_rate, args.min_agreement), file=sys.stderr)
        status = 1
    for field, floor in sorted(floors.items()):
        r = rate(*stats[field])
        if r < floor:
            print("%s agreement %.4f is below %.4f" % (field, r, floor),
                  file=sys.stderr)
            status = 1
    unexplained = len(diffs) - known
    if args.max_unexplained is not None and unexplained > args.max_unexplained:
        print("%d disagreements of no documented kind, at most %d allowed" % (
            unexplained, args.max_unexplained), file=sys.stderr)
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
