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

The healthy spec holds one successful flow for every port (or range) of
every rule the site requires in its phase (required, or conditional on a
feature the site enables, with both roles deployed) that can be seen on the
wire; one port suffices for an 'any-of' rule. The broken spec is the same
with one rule blocked, one rejected by a TCP reset, one rejected by ICMP
administratively prohibited, one left out, one multi-port rule with one
port answered and another dropped, plus one undocumented flow and one
wrong-direction flow (the rule's destination host opening a connection to
the rule's port on the rule's source host). Rules are broken only where no
other flow hides the change: the matching below mirrors flowaudit's
(src/audit.c, src/audit_status.c, src/site.c), so every spec states in its
'# expect' header exactly what the audit must report.

These samples are generated from the rule files and the site files, and the
'# expect' header comes from a copy of flowaudit's own matching, so --check
only tells whether the generator made the breaks it meant to: it is the
generator's self-check, run by tools/gen-product-pcaps.sh --check, and no
ctest runs it. What the audit must report for each capture is written from
the vendor documents in the verdict.products-* cases of
tests/golden/VERDICTS.
"""

import glob
import ipaddress
import json
import os
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


def port_items(ports):
    """The requirements of a port set: one per port or range; a set of any
    port ('*') or of none ('-') is one requirement."""
    return [None] if not ports else list(ports)


def item_of(ports, port):
    """Index of the item of ports that holds port (0 for '*' and '-')."""
    if not ports:
        return 0
    return next((i for i, (lo, hi) in enumerate(ports) if lo <= port <= hi), 0)


def item_label(ports, i):
    if not ports:
        return "*" if ports is None else "-"
    lo, hi = ports[i]
    return "%d" % lo if lo == hi else "%d-%d" % (lo, hi)


def rule_file_facts(rules_dir):
    """Group roles ({(product, group): [members]}) and the rules whose ports
    are alternatives (any-of), read from the rule files themselves."""
    groups, any_of = {}, set()
    for path in sorted(glob.glob(os.path.join(rules_dir, "*.rules"))):
        if os.path.basename(path).startswith("."):
            continue
        product, rule = None, None
        with open(path, encoding="utf-8") as fp:
            for line in fp:
                w = site_words(line)
                if not w:
                    continue
                if line[0] in " \t":
                    if w == ["any-of", "yes"] and rule:
                        any_of.add(rule)
                elif w[0] == "product":
                    product = w[1]
                elif w[0] == "group":
                    groups[(product, w[1])] = w[2:]
                elif w[0] == "rule":
                    rule = w[1]
    return groups, any_of


def load_rules(flowaudit, rules_dir):
    out = subprocess.run([flowaudit, "--list-rules", "--rules", rules_dir, "--json"],
                         check=True, capture_output=True, text=True).stdout
    groups, any_of = rule_file_facts(rules_dir)
    rules = []
    for line in out.splitlines():
        r = json.loads(line)
        r["transports"] = r["transport"].split(",")
        r["dports"] = parse_ports(r["ports"])
        r["sports"] = parse_ports(r["src_ports"])
        r["phases"] = r["phase"].split(",")
        r["any_of"] = r["id"] in any_of
        rules.append(r)
    return rules, groups


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


def load_site(path, groups):
    """The site; roles maps (product, role) to its networks (group roles
    included, from their members), external holds the roles that also stand
    for every host outside the inventory, mapped the roles deployed."""
    site = {"path": path, "products": [], "phase": "operation", "features": set(),
            "roles": {}, "ports": {}, "external": set(), "mapped": set()}
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
                site["mapped"].add(key)
                if "external" in w[2:]:
                    site["external"].add(key)
                site["roles"].setdefault(key, []).extend(
                    ipaddress.ip_network(a, strict=True) for a in w[2:] if a != "external")
            elif w[0] == "port":
                site["ports"][w[1]] = parse_ports(w[2])
    site["inventory"] = [net for nets in site["roles"].values() for net in nets]
    # A group is deployed where one of its members is, plays on its members'
    # hosts and stands for outside hosts where one of its members does.
    for (product, group), members in groups.items():
        if product not in site["products"]:
            continue
        own = site["roles"].get((product, group), [])
        nets = list(own)
        for m in members:
            nets += [n for n in site["roles"].get((product, m), []) if n not in nets]
            if (product, m) in site["mapped"]:
                site["mapped"].add((product, group))
            if (product, m) in site["external"]:
                site["external"].add((product, group))
        if (product, group) in site["mapped"]:
            site["roles"][(product, group)] = nets
    return site


def inventory(site):
    return site["inventory"]


def in_inventory(site, addr):
    return any(addr in net for net in inventory(site))


# ---- flowaudit's matching, as src/audit.c does it -------------------------

def in_force(site, r):
    """The rule may document a flow: deployed product, audited phase, and
    its feature on when it has one (optional rules are in force)."""
    if r["product"] not in site["products"] or site["phase"] not in r["phases"]:
        return False
    return r["requirement"] != "conditional" or (r["product"], r["feature"]) in site["features"]


def role_deployed(site, product, role):
    return role == "any" or (product, role) in site["mapped"]


def audited(site, r):
    """Required in the site's phase: required, or conditional and enabled,
    between two roles the site deploys."""
    return (in_force(site, r) and r["requirement"] != "optional" and
            role_deployed(site, r["product"], r["from"]) and role_deployed(site, r["product"], r["to"]))


def has_role(site, product, role, addr):
    """An inventory host plays the roles the site gives it; an external role
    also stands for every host outside the inventory; an unmapped role
    matches no address."""
    if role == "any":
        return True
    if any(addr in n for n in site["roles"].get((product, role), [])):
        return True
    return (product, role) in site["external"] and not in_inventory(site, addr)


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
    """('documented'|'undocumented'|'wrong_direction'|'out_of_scope', rule
    ids, only_rule). Every flow written here is opened by its source (a SYN,
    or the first datagram), so its initiator is known: it is documented by
    the rules in force it fits as it goes, wrong-direction when the roles
    are the other way round (same ports: the destination host opened a
    connection to the rule's port on the source host). only_rule is a rule
    not in force that would have allowed an undocumented flow."""
    rules = [r for r in rules if r["product"] in site["products"]]
    fwd = [r["id"] for r in rules if in_force(site, r) and
           rule_matches(site, r, f["proto"], f["src"], f["sport"], f["dst"], f["dport"])]
    if fwd:
        return "documented", fwd, None
    if not (in_inventory(site, f["src"]) or in_inventory(site, f["dst"])):
        return "out_of_scope", [], None
    rev = [r["id"] for r in rules if in_force(site, r) and
           rule_matches(site, r, f["proto"], f["dst"], f["sport"], f["src"], f["dport"])]
    if rev:
        return "wrong_direction", rev, None
    off = [r["id"] for r in rules if not in_force(site, r) and
           rule_matches(site, r, f["proto"], f["src"], f["sport"], f["dst"], f["dport"])]
    return "undocumented", [], off[0] if off else None


def attempt(f):
    if f["outcome"] in ("ok", "open", "echo"):
        return "seen"
    if f["outcome"] in ("reset", "icmp-admin", "icmp-port"):
        return "rejected"
    if f["outcome"] == "send" and not isinstance(f["proto"], str):
        return "seen"
    return "blocked"


def rule_dports(site, r):
    return site["ports"].get(r["id"], r["dports"])


def settle_port(pairs):
    """A port is seen when every host pair that tried it got through at
    least once; otherwise the pairs that never did decide."""
    if not pairs:
        return "not_seen"
    failed = set().union(*(a for a in pairs.values() if "seen" not in a))
    return "rejected" if "rejected" in failed else "blocked" if "blocked" in failed else "seen"


def settle_rule(r, ports):
    """The worst of the ports; for any-of rules a refused or dropped port
    still counts, but one answered port satisfies the row."""
    for s in ("rejected", "blocked"):
        if s in ports:
            return s
    if r["any_of"]:
        return "seen" if "seen" in ports else "not_seen"
    return "not_seen" if "not_seen" in ports else "seen"


def simulate(site, rules, flows):
    """(rule statuses, port statuses {(rule id, item): status}, odd flows)
    of an audit: each port (or range) of a rule is a requirement of its own."""
    by_id = {r["id"]: r for r in rules}
    pairs = {}
    odd = []
    for f in flows:
        verdict, ids, only = classify(site, rules, f)
        if verdict in ("undocumented", "wrong_direction"):
            odd.append((verdict, f, ids, only))
            continue
        att = attempt(f)
        if att == "blocked" and any(by_id[rid]["oneway"] for rid in ids):
            att = "seen"    # syslog and traps are never answered
        for rid in ids if verdict == "documented" else []:
            r = by_id[rid]
            item = item_of(rule_dports(site, r), f["dport"]) if f["proto"] in ("tcp", "udp") else 0
            p = pairs.setdefault((rid, item), {}).setdefault((f["src"], f["dst"]), set())
            p.add(att)
    status, ports = {}, {}
    for r in rules:
        if r["product"] not in site["products"]:
            continue
        items = range(len(port_items(rule_dports(site, r))))
        if not audited(site, r):
            status[r["id"]] = "not_audited"
        elif not r["observable"]:
            status[r["id"]] = "not_observable"
        else:
            for i in items:
                ports[(r["id"], i)] = settle_port(pairs.get((r["id"], i), {}))
            status[r["id"]] = settle_rule(r, [ports[(r["id"], i)] for i in items])
    return status, ports, odd


# ---- healthy flows ----------------------------------------------------------

def host_of(net):
    return net.network_address if net.num_addresses == 1 else net.network_address + 1


def spare_hosts(site):
    return [ipaddress.ip_address(a) for a in SPARE_HOSTS
            if not in_inventory(site, ipaddress.ip_address(a))]


def outside_host(site, product, role):
    """A host outside the inventory for role 'any' (the first spare address)
    or for an external role without addresses (one spare address per role,
    so that the capture tells the roles apart)."""
    spare = spare_hosts(site)
    ext = sorted(r for p, r in site["external"] if p == product and not site["roles"].get((p, r)))
    k = 0 if role == "any" else 1 + ext.index(role)
    if k >= len(spare):
        raise SpecError("no documentation address left outside the inventory")
    return spare[k]


def role_hosts(site, product, role):
    nets = site["roles"].get((product, role))
    return [host_of(n) for n in nets] if nets and role != "any" else [outside_host(site, product, role)]


def first_port(ports):
    return ANY_PORT if ports is None else ports[0][0]


def rule_flows(site, r):
    """The successful flows that exercise rule r: one per port item (the
    first port of a range, 443 for '*'), one in all for an any-of rule."""
    src = role_hosts(site, r["product"], r["from"])[0]
    dsts = [h for h in role_hosts(site, r["product"], r["to"]) if h != src]
    dst = dsts[0] if dsts else src
    tr = "tcp" if "tcp" in r["transports"] else r["transports"][0]
    dports = rule_dports(site, r)
    items = port_items(dports)
    if r["any_of"] or tr not in ("tcp", "udp"):
        items = items[:1]
    out = []
    for i, item in enumerate(items):
        f = {"rule": r["id"], "item": i, "src": src, "dst": dst, "sport": None, "dport": None}
        if tr in ("tcp", "udp"):
            f.update(proto=tr, outcome="ok", dport=ANY_PORT if item is None else item[0])
            if r["sports"] is not None:
                f["sport"] = first_port(r["sports"])
        elif tr in ("icmp", "icmp6"):
            f.update(proto="icmp", outcome="echo")
        else:
            f.update(proto=int(tr.split(":")[1]), outcome="send")
        several = len(port_items(dports)) > 1
        f["note"] = "%s %s -> %s %s/%s%s" % (r["id"], r["from"], r["to"], r["transport"], r["ports"],
                                           ", port %s" % item_label(dports, i) if several else "")
        f["multi"] = several and not r["any_of"]
        out.append(f)
    return out


def healthy_flows(site, rules, product):
    """One flow per port of every required rule; client ports are fixed here
    (40001, 40002, ...) so that the simulation sees the ports the capture
    will carry."""
    flows = [f for r in rules if r["product"] == product and audited(site, r) and r["observable"]
             for f in rule_flows(site, r)]
    for i, f in enumerate(flows):
        f["at"] = i * FLOW_SPACING_S
        if f["proto"] in ("tcp", "udp") and f["sport"] is None:
            f["sport"] = CLIENT_PORT_BASE + 1 + i
    return flows


# ---- broken flows -----------------------------------------------------------

BREAKS = (  # (status, outcome, transports in order of preference, why, one port of several)
    ("blocked", "drop", ("udp", "tcp"), "drop: requests unanswered", False),
    ("rejected", "reset", ("tcp",), "reset: RST/ACK to the SYN", False),
    ("rejected", "icmp-admin", ("tcp", "udp"), "icmp-admin: ICMP administratively prohibited", False),
    ("not_seen", None, ("tcp", "udp", "icmp"), "omitted: no flow at all", False),
    ("blocked", "drop", ("tcp", "udp"),
     "drop: this port unanswered while another port of the row is answered", True),
)


def fkey(f):
    return (f["rule"], f.get("item", 0))


def break_flow(f, b):
    """Flow f changed as break b says; its outcome is None when left out."""
    return dict(f, outcome=b[1], note="%s; broken, %s" % (f["note"], b[2]))


def apply_breaks(flows, breaks):
    out = (break_flow(f, breaks[fkey(f)]) if fkey(f) in breaks else f for f in flows)
    return [f for f in out if f["outcome"] is not None]


def pick_breaks(site, rules, flows):
    """One flow per kind of BREAKS whose change shows on its rule and port
    alone, preferring the transports in the order BREAKS lists them. The
    single-port kinds break a rule that has one flow; the last kind breaks a
    port other than the first of a multi-port (not any-of) rule, or, when
    the product has none, adds a dropped attempt on the second port of an
    any-of rule (a dropped alternative is a finding even when another port
    was answered). Returns (breaks, added flows)."""
    base, base_ports, _ = simulate(site, rules, flows)
    by_id = {r["id"]: r for r in rules}
    nflows = {}
    for f in flows:
        nflows[f["rule"]] = nflows.get(f["rule"], 0) + 1
    chosen, added = {}, []
    for status, outcome, transports, why, multi in BREAKS:
        taken = {k[0] for k in chosen}
        candidates = sorted((f for f in flows if f["proto"] in transports and f["rule"] not in taken and
                             (f["multi"] and f["item"] > 0 if multi else nflows[f["rule"]] == 1)),
                            key=lambda f: transports.index(f["proto"]))
        extra = [None] * len(candidates)
        if multi:
            for f in flows:
                dports = rule_dports(site, by_id[f["rule"]])
                if (f["proto"] in ("tcp", "udp") and by_id[f["rule"]]["any_of"] and
                        f["rule"] not in taken and len(port_items(dports)) > 1):
                    g = dict(f, item=1, dport=dports[1][0], sport=f["sport"] + 1000,
                             note="%s, port %s" % (f["note"].rsplit(", port ", 1)[0],
                                                   item_label(dports, 1)))
                    candidates.append(g)
                    extra.append(g)
        for f, new in zip(candidates, extra):
            trial = dict(chosen)
            trial[fkey(f)] = (status, outcome, why)
            want, want_ports = dict(base), dict(base_ports)
            for k, b in trial.items():
                want[k[0]] = want_ports[k] = b[0]
            more = added + ([break_flow(new, trial[fkey(f)])] if new else [])
            got, got_ports, _ = simulate(site, rules, apply_breaks(flows, trial) + more)
            if got == want and got_ports == want_ports:
                chosen, added = trial, more
                break
    return chosen, added


def product_hosts(site, product):
    return [host_of(n) for (p, _), nets in sorted(site["roles"].items()) if p == product
            for n in nets]


def undocumented_flow(site, rules, flows, product):
    hosts = []
    for h in [flows[0]["src"], flows[0]["dst"]] + product_hosts(site, product):
        if h not in hosts and in_inventory(site, h):
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
    """A tcp connection opened the wrong way round: the rule's destination
    host connects to the rule's port on the rule's source host. Rules
    already broken are skipped so each finding has its own rule."""
    broken = {k[0] for k in breaks}
    inside = [h for h in flows if in_inventory(site, h["src"]) and in_inventory(site, h["dst"])]
    for h in inside + [h for h in flows if h not in inside]:
        if h["proto"] != "tcp" or h["rule"] in broken:
            continue
        f = {"rule": None, "proto": "tcp", "src": h["dst"], "sport": EPHEMERAL_PORT, "dst": h["src"],
             "dport": h["dport"], "outcome": "ok"}
        verdict, ids, _ = classify(site, rules, f)
        if verdict == "wrong_direction" and h["rule"] in ids:
            f["note"] = ("wrong direction: %s opened by its destination host, to port %d on its "
                         "source host" % (h["rule"], h["dport"]))
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


def odd_key(verdict, f, only=None):
    proto = f["proto"] if isinstance(f["proto"], str) else "proto:%d" % f["proto"]
    port = ":%d" % f["dport"] if f["dport"] is not None else ""
    key = "%s %s %s -> %s%s" % (verdict, proto, f["src"], f["dst"], port)
    return key + (" only_rule %s" % only if only else "")


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
    status, ports, odd = simulate(site, rules, apply_breaks(flows, breaks) + extra)
    by_id = {r["id"]: r for r in rules}
    why_of = {}
    for (rid, item), b in breaks.items():
        why_of.setdefault(rid, b[2])
    lines = [
        "# %s-%s.flows - %s capture of %s, written by tools/make-product-flows.py"
        % (product, kind, kind, site["path"]),
        "# from the rules and the site file; regenerate with tools/gen-product-pcaps.sh.",
        "# Generated from the rule files: this capture can only confirm them.",
        "#",
        "# expect coverage: %s" % coverage_line(status, rules, product),
    ]
    for rid in sorted(status):
        if status[rid] not in ("seen", "not_audited"):
            why = why_of.get(rid, "not observable on the wire")
            lines.append("# expect rule %s %s (%s)" % (rid, status[rid], why))
    for (rid, item) in sorted(ports):
        r = by_id[rid]
        if len(port_items(rule_dports(site, r))) > 1 and (
                ports[(rid, item)] in ("blocked", "rejected") or
                (ports[(rid, item)] != "seen" and not r["any_of"])):
            lines.append("# expect port %s %s %s" % (rid, item_label(rule_dports(site, r), item),
                                                     ports[(rid, item)]))
    for verdict, f, ids, only in odd:
        rev = " reverse_of %s" % ids[0] if verdict == "wrong_direction" else ""
        lines.append("# expect %s%s" % (odd_key(verdict, f, only), rev))
    lines.append("# every other required rule and port: seen; nothing else undocumented\n")
    lines += [flow_line(break_flow(f, breaks[fkey(f)]) if fkey(f) in breaks else f)
              for f in flows] + [flow_line(f) for f in extra]
    with open(path, "w", encoding="utf-8") as fp:
        fp.write("\n".join(lines) + "\n")
    return status, odd


def generate(flowaudit, rules_dir, site_path, outdir):
    rules, groups = load_rules(flowaudit, rules_dir)
    site = load_site(site_path, groups)
    for product in site["products"]:
        flows = healthy_flows(site, rules, product)
        if not flows:
            raise SpecError("%s: no observable required rule" % product)
        status, odd = write_spec("%s/%s-healthy.flows" % (outdir, product), site, rules, product,
                                 "healthy", flows, {}, [])
        bad = [rid for rid, s in status.items() if s not in ("seen", "not_observable", "not_audited")]
        if bad or odd:
            raise SpecError("%s: healthy flows would not come out clean: %s" % (product, bad or odd))
        breaks, added = pick_breaks(site, rules, flows)
        if len(breaks) < len(BREAKS):
            print("%s: only %d of %d breaks possible" % (product, len(breaks), len(BREAKS)),
                  file=sys.stderr)
        extra = added + [undocumented_flow(site, rules, flows, product),
                         wrong_direction_flow(site, rules, flows, breaks)]
        for i, f in enumerate(extra):
            f["at"] = (len(flows) + i) * FLOW_SPACING_S
        write_spec("%s/%s-broken.flows" % (outdir, product), site, rules, product, "broken",
                   flows, breaks, extra)


# ---- checking a capture -----------------------------------------------------

def read_expectations(flows_path):
    exp = {"coverage": None, "rules": {}, "ports": {}, "odd": set()}
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
            elif body.startswith("port "):
                w = body.split()
                exp["ports"][(w[1], w[2])] = w[3]
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
    rules, groups = load_rules(flowaudit, rules_dir)
    site = load_site(site_path, groups)
    exp = read_expectations(flows_path)
    text, records = audit_capture(flowaudit, rules_dir, site_path, pcap)
    problems = []
    for rec in (r for r in records if r["type"] == "rule"):
        rule = next(r for r in rules if r["id"] == rec["rule_id"])
        want = exp["rules"].get(rec["rule_id"]) or ("seen" if audited(site, rule) else "not_audited")
        if rec["status"] != want:
            problems.append("rule %s: %s, expected %s" % (rec["rule_id"], rec["status"], want))
        if rec["any_of"] != rule["any_of"]:
            problems.append("rule %s: any_of %s, expected %s" % (rec["rule_id"], rec["any_of"], rule["any_of"]))
        if rec["status"] in ("not_audited", "not_observable") or len(rec["ports"]) < 2:
            continue
        for p in rec["ports"]:
            want = exp["ports"].get((rec["rule_id"], p["port"]), "seen")
            if rule["any_of"] and want == "seen" and p["status"] in ("seen", "not_seen"):
                continue    # an alternative need not be used
            if p["status"] != want:
                problems.append("rule %s port %s: %s, expected %s" % (rec["rule_id"], p["port"], p["status"], want))
    cov = [l.strip() for l in text.splitlines() if " required: " in l]
    if not exp["coverage"] or not any(l.endswith(exp["coverage"]) for l in cov):
        problems.append("coverage %s, expected '%s'" % (cov, exp["coverage"]))
    got = set()
    for rec in (r for r in records if r["type"] in ("undocumented", "wrong_direction")):
        port = ":%d" % rec["resp_p"] if rec["resp_p"] is not None else ""
        proto = rec["proto"] if rec["proto"] in ("tcp", "udp", "icmp") else "proto:%d" % rec["ip_proto"]
        rev = " reverse_of %s" % rec["reverse_of"] if rec["reverse_of"] else ""
        only = " only_rule %s" % rec["only_rule"] if rec.get("only_rule") else ""
        got.add("%s %s %s -> %s%s%s%s" % (rec["type"], proto, rec["orig_h"], rec["resp_h"], port, only, rev))
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
