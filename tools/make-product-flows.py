#!/usr/bin/env python3
"""make-product-flows.py - writes fa_flowgen specs of a healthy and a broken
deployment for every product of a site file, and checks captures made from
them against flowaudit's verdicts.

Usage:
  make-product-flows.py FLOWAUDIT RULES_DIR SITE OUTDIR
      writes OUTDIR/<product>-healthy.flows and OUTDIR/<product>-broken.flows
  make-product-flows.py --check FLOWAUDIT RULES_DIR SITE FLOWS PCAP
      audits PCAP and compares the result with what FLOWS expects;
      exit status 1 and a list of differences when they disagree

The healthy spec holds one successful flow for every rule the site requires
in its phase (required, or conditional on a feature the site enables) that
can be seen on the wire. The broken spec is the same with one rule blocked,
one rejected by a TCP reset, one rejected by ICMP administratively
prohibited, one left out, plus one undocumented and one wrong-direction
flow. Rules are broken only where no other flow hides the change: the
matching below mirrors flowaudit's (src/audit.c), so every spec states in
its '# expect' header exactly what the audit must report.
"""

import ipaddress
import json
import subprocess
import sys

FLOW_SPACING_S = 5      # a dropped SYN is retried for 3 s: flows do not overlap
ANY_PORT = 443          # port used for rules that allow every port
CLIENT_PORT_BASE = 40000
EPHEMERAL_PORT = 50000  # client port answered by a wrong-direction flow
UNDOCUMENTED_PORTS = (23, 5900, 2323, 6000, 7777)
SPARE_HOSTS = ["203.0.113.%d" % h for h in range(200, 255)] + \
              ["198.51.100.%d" % h for h in range(200, 255)]


class SpecError(Exception):
    """A rule or site file this script cannot turn into flows."""


# ---- rules and site ------------------------------------------------------

def parse_ports(text):
    """'80,443', '49152-65535', '*' or '-' as a list of (lo, hi); None is any."""
    if text == "*":
        return None
    if text == "-":
        return []
    out = []
    for item in text.split(","):
        lo, _, hi = item.partition("-")
        out.append((int(lo), int(hi or lo)))
    return out


def ports_contain(ports, port):
    return ports is None or any(lo <= port <= hi for lo, hi in ports)


def load_rules(flowaudit, rules_dir):
    out = subprocess.run([flowaudit, "--list-rules", "--rules", rules_dir, "--json"],
                         check=True, capture_output=True, text=True).stdout
    rules = []
    for line in out.splitlines():
        r = json.loads(line)
        r["transports"] = r["transport"].split(",")
        r["dports"] = parse_ports(r["ports"])
        r["sports"] = parse_ports(r["src_ports"])
        r["phases"] = r["phase"].split(",")
        rules.append(r)
    return rules


def site_words(line):
    """Splits a site line into words: blanks separate, '#' comments, quotes."""
    words, cur, quoted, i = [], None, False, 0
    while i < len(line):
        ch = line[i]
        if quoted:
            if ch == "\\" and i + 1 < len(line):
                i += 1
                cur += line[i]
            elif ch == '"':
                quoted = False
            else:
                cur += ch
        elif ch == "#":
            break
        elif ch in " \t\r\n":
            if cur is not None:
                words.append(cur)
                cur = None
        elif ch == '"':
            quoted, cur = True, cur or ""
        else:
            cur = (cur or "") + ch
        i += 1
    if cur is not None:
        words.append(cur)
    return words


def load_site(path):
    site = {"path": path, "products": [], "phase": "operation", "features": set(),
            "roles": {}, "ports": {}}
    with open(path, encoding="utf-8") as fp:
        for w in (site_words(line) for line in fp):
            if not w:
                continue
            if w[0] == "product":
                site["products"].append(w[1])
            elif w[0] == "phase":
                site["phase"] = w[1]
            elif w[0] == "feature":
                site["features"].add(tuple(w[1].split(".", 1)))
            elif w[0] == "role":
                key = tuple(w[1].split(".", 1))
                site["roles"].setdefault(key, []).extend(
                    ipaddress.ip_network(a, strict=True) for a in w[2:])
            elif w[0] == "port":
                site["ports"][w[1]] = parse_ports(w[2])
    return site


def inventory(site):
    return [net for nets in site["roles"].values() for net in nets]


def in_inventory(site, addr):
    return any(addr in net for net in inventory(site))


# ---- flowaudit's matching, as src/audit.c does it -------------------------

def audited(site, r):
    """Required in the site's phase: required, or conditional and enabled."""
    if r["product"] not in site["products"] or site["phase"] not in r["phases"]:
        return False
    if r["requirement"] == "required":
        return True
    return r["requirement"] == "conditional" and (r["product"], r["feature"]) in site["features"]


def has_role(site, product, role, addr):
    nets = site["roles"].get((product, role))
    return role == "any" or nets is None or any(addr in n for n in nets)


def transport_ok(r, proto):
    if proto in ("tcp", "udp"):
        return proto in r["transports"]
    if proto == "icmp":
        return "icmp" in r["transports"] or "icmp6" in r["transports"]
    return "proto:%d" % proto in r["transports"]


def rule_matches(site, r, proto, src, sport, dst, dport):
    if r["product"] not in site["products"] or not transport_ok(r, proto):
        return False
    if proto in ("tcp", "udp"):
        dports = site["ports"].get(r["id"], r["dports"])
        if not ports_contain(dports, dport) or not ports_contain(r["sports"], sport):
            return False
    return (has_role(site, r["product"], r["from"], src) and
            has_role(site, r["product"], r["to"], dst))


def classify(site, rules, f):
    """('documented'|'undocumented'|'wrong_direction'|'out_of_scope', rule ids)."""
    fwd = [r["id"] for r in rules
           if rule_matches(site, r, f["proto"], f["src"], f["sport"], f["dst"], f["dport"])]
    if fwd:
        return "documented", fwd
    if not (in_inventory(site, f["src"]) or in_inventory(site, f["dst"])):
        return "out_of_scope", []
    rev = [r["id"] for r in rules
           if rule_matches(site, r, f["proto"], f["dst"], f["dport"], f["src"], f["sport"])]
    return ("wrong_direction" if rev else "undocumented"), rev


def attempt(f):
    if f["outcome"] in ("ok", "open", "echo"):
        return "seen"
    if f["outcome"] in ("reset", "icmp-admin", "icmp-port"):
        return "rejected"
    if f["outcome"] == "send" and not isinstance(f["proto"], str):
        return "seen"
    return "blocked"


def simulate(site, rules, flows):
    """Rule statuses and undocumented/wrong-direction flows of an audit."""
    pairs = {}
    odd = []
    for f in flows:
        verdict, ids = classify(site, rules, f)
        if verdict in ("undocumented", "wrong_direction"):
            odd.append((verdict, f, ids))
        for rid in ids if verdict == "documented" else []:
            p = pairs.setdefault(rid, {}).setdefault((f["src"], f["dst"]), set())
            p.add(attempt(f))
    status = {}
    for r in rules:
        if r["product"] not in site["products"]:
            continue
        if not audited(site, r):
            status[r["id"]] = "not_audited"
        elif not r["observable"]:
            status[r["id"]] = "not_observable"
        elif r["id"] not in pairs:
            status[r["id"]] = "not_seen"
        else:
            failed = set().union(*(a for a in pairs[r["id"]].values() if "seen" not in a))
            status[r["id"]] = ("rejected" if "rejected" in failed else
                               "blocked" if "blocked" in failed else "seen")
    return status, odd


# ---- healthy flows ----------------------------------------------------------

def host_of(net):
    return net.network_address if net.num_addresses == 1 else net.network_address + 1


def spare_host(site):
    for a in SPARE_HOSTS:
        if not in_inventory(site, ipaddress.ip_address(a)):
            return ipaddress.ip_address(a)
    raise SpecError("no documentation address left outside the inventory")


def role_hosts(site, product, role):
    nets = site["roles"].get((product, role))
    return [host_of(n) for n in nets] if nets and role != "any" else [spare_host(site)]


def first_port(ports):
    return ANY_PORT if ports is None else ports[0][0]


def rule_flow(site, r):
    """The successful flow that exercises rule r."""
    src = role_hosts(site, r["product"], r["from"])[0]
    dsts = [h for h in role_hosts(site, r["product"], r["to"]) if h != src]
    dst = dsts[0] if dsts else src
    tr = "tcp" if "tcp" in r["transports"] else r["transports"][0]
    f = {"rule": r["id"], "src": src, "dst": dst, "sport": None, "dport": None}
    if tr in ("tcp", "udp"):
        f.update(proto=tr, outcome="ok", dport=first_port(site["ports"].get(r["id"], r["dports"])))
        if r["sports"] is not None:
            f["sport"] = first_port(r["sports"])
    elif tr in ("icmp", "icmp6"):
        f.update(proto="icmp", outcome="echo")
    else:
        f.update(proto=int(tr.split(":")[1]), outcome="send")
    f["note"] = "%s %s -> %s %s/%s" % (r["id"], r["from"], r["to"], r["transport"], r["ports"])
    return f


def healthy_flows(site, rules, product):
    """One flow per rule; client ports are fixed here (40001, 40002, ...) so
    that the simulation sees the ports the capture will carry."""
    flows = [rule_flow(site, r) for r in rules
             if r["product"] == product and audited(site, r) and r["observable"]]
    for i, f in enumerate(flows):
        f["at"] = i * FLOW_SPACING_S
        if f["proto"] in ("tcp", "udp") and f["sport"] is None:
            f["sport"] = CLIENT_PORT_BASE + 1 + i
    return flows


# ---- broken flows -----------------------------------------------------------

BREAKS = (  # (status, outcome, transports in order of preference, why)
    ("blocked", "drop", ("udp", "tcp"), "drop: requests unanswered"),
    ("rejected", "reset", ("tcp",), "reset: RST/ACK to the SYN"),
    ("rejected", "icmp-admin", ("tcp", "udp"), "icmp-admin: ICMP administratively prohibited"),
    ("not_seen", None, ("tcp", "udp", "icmp"), "omitted: no flow at all"),
)


def break_flow(f, b):
    """Flow f changed as break b says; its outcome is None when left out."""
    return dict(f, outcome=b[1], note="%s; broken, %s" % (f["note"], b[2]))


def apply_breaks(flows, breaks):
    out = (break_flow(f, breaks[f["rule"]]) if f["rule"] in breaks else f for f in flows)
    return [f for f in out if f["outcome"] is not None]


def pick_breaks(site, rules, flows):
    """One rule per kind of BREAKS whose change shows on that rule alone,
    preferring the transports in the order BREAKS lists them."""
    base, _ = simulate(site, rules, flows)
    chosen = {}
    for status, outcome, transports, why in BREAKS:
        candidates = sorted((f for f in flows if f["proto"] in transports and f["rule"] not in chosen),
                            key=lambda f: transports.index(f["proto"]))
        for f in candidates:
            trial = dict(chosen, **{f["rule"]: (status, outcome, why)})
            want = dict(base, **{rid: b[0] for rid, b in trial.items()})
            if simulate(site, rules, apply_breaks(flows, trial))[0] == want:
                chosen = trial
                break
    return chosen


def product_hosts(site, product):
    return [host_of(n) for (p, _), nets in sorted(site["roles"].items()) if p == product
            for n in nets]


def undocumented_flow(site, rules, flows, product):
    hosts = []
    for h in [flows[0]["src"], flows[0]["dst"]] + product_hosts(site, product):
        if h not in hosts:
            hosts.append(h)
    for port in UNDOCUMENTED_PORTS:
        for src in hosts:
            for dst in hosts:
                f = {"rule": None, "proto": "tcp", "src": src, "dst": dst,
                     "sport": CLIENT_PORT_BASE + len(flows) + 1,
                     "dport": port, "outcome": "ok",
                     "note": "undocumented: no rule allows tcp/%d between these hosts" % port}
                if src != dst and classify(site, rules, f)[0] == "undocumented":
                    return f
    raise SpecError("%s: no undocumented tcp flow found" % product)


def wrong_direction_flow(site, rules, flows, breaks):
    """A tcp flow opened from a rule's own port: the rule run backwards.
    Rules already broken are skipped so each finding has its own rule."""
    for h in flows:
        if h["proto"] != "tcp" or h["rule"] in breaks:
            continue
        f = {"rule": None, "proto": "tcp", "src": h["dst"], "sport": h["dport"], "dst": h["src"],
             "dport": EPHEMERAL_PORT, "outcome": "ok"}
        verdict, ids = classify(site, rules, f)
        if verdict == "wrong_direction" and h["rule"] in ids:
            f["note"] = "wrong direction: %s backwards, opened from port %d" % (h["rule"], h["dport"])
            return f
    raise SpecError("no tcp rule whose reverse is unallowed")


# ---- writing specs ----------------------------------------------------------

def endpoint(addr, port):
    a = "[%s]" % addr if addr.version == 6 and port is not None else str(addr)
    return a if port is None else "%s:%d" % (a, port)


def flow_line(f):
    proto = f["proto"] if isinstance(f["proto"], str) else "proto:%d" % f["proto"]
    line = "at %d %s %s -> %s %s  # %s" % (f["at"], proto, endpoint(f["src"], f["sport"]),
                                          endpoint(f["dst"], f["dport"]), f["outcome"] or "ok",
                                          f["note"])
    return line if f["outcome"] else "# " + line


def odd_key(verdict, f):
    proto = f["proto"] if isinstance(f["proto"], str) else "proto:%d" % f["proto"]
    port = ":%d" % f["dport"] if f["dport"] is not None else ""
    return "%s %s %s -> %s%s" % (verdict, proto, f["src"], f["dst"], port)


def coverage_line(status, rules, product):
    n = {}
    for r in rules:
        if r["product"] == product:
            n[status[r["id"]]] = n.get(status[r["id"]], 0) + 1
    req = sum(n.get(k, 0) for k in ("seen", "blocked", "rejected", "not_seen"))
    line = "%d required: %d seen, %d blocked, %d rejected, %d not seen" % (
        req, n.get("seen", 0), n.get("blocked", 0), n.get("rejected", 0), n.get("not_seen", 0))
    if n.get("not_observable"):
        line += "; %d not observable" % n["not_observable"]
    return line


def write_spec(path, site, rules, product, kind, flows, breaks, extra):
    """Writes flows (with breaks applied) and extra after an '# expect'
    header computed by simulating the audit. Returns (statuses, odd flows)."""
    status, odd = simulate(site, rules, apply_breaks(flows, breaks) + extra)
    lines = [
        "# %s-%s.flows - %s capture of %s, written by tools/make-product-flows.py"
        % (product, kind, kind, site["path"]),
        "# from the rules and the site file; regenerate with tools/gen-product-pcaps.sh.",
        "#",
        "# expect coverage: %s" % coverage_line(status, rules, product),
    ]
    for rid in sorted(status):
        if status[rid] not in ("seen", "not_audited"):
            why = breaks[rid][2] if rid in breaks else "not observable on the wire"
            lines.append("# expect rule %s %s (%s)" % (rid, status[rid], why))
    for verdict, f, ids in odd:
        rev = " reverse_of %s" % ids[0] if verdict == "wrong_direction" else ""
        lines.append("# expect %s%s" % (odd_key(verdict, f), rev))
    lines.append("# every other required rule: seen; nothing else undocumented\n")
    lines += [flow_line(break_flow(f, breaks[f["rule"]]) if f["rule"] in breaks else f)
              for f in flows + extra]
    with open(path, "w", encoding="utf-8") as fp:
        fp.write("\n".join(lines) + "\n")
    return status, odd


def generate(flowaudit, rules_dir, site_path, outdir):
    rules = load_rules(flowaudit, rules_dir)
    site = load_site(site_path)
    for product in site["products"]:
        flows = healthy_flows(site, rules, product)
        if not flows:
            raise SpecError("%s: no observable required rule" % product)
        status, odd = write_spec("%s/%s-healthy.flows" % (outdir, product), site, rules, product,
                                 "healthy", flows, {}, [])
        bad = [rid for rid, s in status.items() if s not in ("seen", "not_observable", "not_audited")]
        if bad or odd:
            raise SpecError("%s: healthy flows would not come out clean: %s" % (product, bad or odd))
        breaks = pick_breaks(site, rules, flows)
        if len(breaks) < len(BREAKS):
            print("%s: only %d of %d breaks possible" % (product, len(breaks), len(BREAKS)),
                  file=sys.stderr)
        extra = [undocumented_flow(site, rules, flows, product),
                 wrong_direction_flow(site, rules, flows, breaks)]
        for i, f in enumerate(extra):
            f["at"] = (len(flows) + i) * FLOW_SPACING_S
        write_spec("%s/%s-broken.flows" % (outdir, product), site, rules, product, "broken",
                   flows, breaks, extra)


# ---- checking a capture -----------------------------------------------------

def read_expectations(flows_path):
    exp = {"coverage": None, "rules": {}, "odd": set()}
    with open(flows_path, encoding="utf-8") as fp:
        for line in fp:
            if not line.startswith("# expect "):
                continue
            body = line[len("# expect "):].strip()
            if body.startswith("coverage: "):
                exp["coverage"] = body[len("coverage: "):]
            elif body.startswith("rule "):
                w = body.split()
                exp["rules"][w[1]] = w[2]
            else:
                exp["odd"].add(body)
    return exp


def audit_capture(flowaudit, rules_dir, site_path, pcap):
    cmd = [flowaudit, "--rules", rules_dir, "--site", site_path, "-r", pcap, "--no-progress"]
    text = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    records = subprocess.run(cmd + ["-q", "-j", "-"], check=True, capture_output=True,
                             text=True).stdout
    return text, [json.loads(line) for line in records.splitlines()]


def check(flowaudit, rules_dir, site_path, flows_path, pcap):
    rules = load_rules(flowaudit, rules_dir)
    site = load_site(site_path)
    exp = read_expectations(flows_path)
    text, records = audit_capture(flowaudit, rules_dir, site_path, pcap)
    problems = []
    for rec in (r for r in records if r["type"] == "rule"):
        rule = next(r for r in rules if r["id"] == rec["id"])
        want = exp["rules"].get(rec["id"]) or ("seen" if audited(site, rule) else "not_audited")
        if rec["status"] != want:
            problems.append("rule %s: %s, expected %s" % (rec["id"], rec["status"], want))
    cov = [l.strip() for l in text.splitlines() if " required: " in l]
    if not exp["coverage"] or not any(l.endswith(exp["coverage"]) for l in cov):
        problems.append("coverage %s, expected '%s'" % (cov, exp["coverage"]))
    got = set()
    for rec in (r for r in records if r["type"] in ("undocumented", "wrong_direction")):
        port = ":%d" % rec["resp_p"] if rec["resp_p"] is not None else ""
        proto = rec["proto"] if rec["proto"] in ("tcp", "udp", "icmp") else "proto:%d" % rec["ip_proto"]
        rev = " reverse_of %s" % rec["reverse_of"] if rec["reverse_of"] else ""
        got.add("%s %s %s -> %s%s%s" % (rec["type"], proto, rec["orig_h"], rec["resp_h"], port, rev))
    for k in sorted(got - exp["odd"]):
        problems.append("unexpected: %s" % k)
    for k in sorted(exp["odd"] - got):
        problems.append("missing: %s" % k)
    for p in problems:
        print("%s: %s" % (pcap, p))
    return 1 if problems else 0


def main(argv):
    try:
        if len(argv) == 7 and argv[1] == "--check":
            return check(*argv[2:])
        if len(argv) == 5:
            generate(*argv[1:])
            return 0
    except (SpecError, OSError, subprocess.CalledProcessError, ValueError) as e:
        print("make-product-flows.py: %s" % e, file=sys.stderr)
        return 2
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
