#!/usr/bin/env python3
"""check-html.py - the --html page and the --dot diagram, checked on their
structure (no browser needed).

  check-html.py FLOWAUDIT SRC structure PRODUCT-CAPTURE
      runs the audit of pcaps/products/PRODUCT-CAPTURE.pcap with its site
      and checks the page: well nested, nothing to fetch or run, every
      section; each finding the capture's .flows header expects ("# expect
      rule ID rejected|blocked|not_seen|unconfirmed", written from the
      vendor's table) in the findings table with that status; each role the
      site file maps as a node of the diagram; the expected wrong-direction
      and undocumented flows as edges; the DOT file with the same nodes and
      edges; and the same bytes from a second run.
  check-html.py FLOWAUDIT SRC browser OUTDIR
      renders the page of ras-broken (and the WebSocket captures of
      pcaps/real) in headless Chromium, with every host name resolving to
      nothing and a NetLog of the network stack: the DOM it builds must hold
      every expected finding, every role of the site and the diagram, and
      the NetLog no request for anything but the file itself. Writes
      OUTDIR/html-report.png for people to look at (never compared). Exit
      77 when no Chromium is installed.
  check-html.py FLOWAUDIT SRC hostile
      writes a rule file, a site file and a capture full of markup (in a
      product name, a role's description, a purpose, an impact text, the
      site's name, the input's file name, a WebSocket's Host header and
      path, with a control character and a byte that is not UTF-8, which the
      detector already turns into '?') and
      checks that every one of them is shown as text: no element, no
      attribute and no character the page did not mean.
"""
import html.parser
import json
import os
import shutil
import re
import struct
import subprocess
import sys
import tempfile

VOID = {"meta", "br"}
SECTIONS = ["coverage", "diagram", "findings", "wrong-direction", "undocumented", "hits", "totals", "sessions"]
FINDING = {"rejected", "blocked", "not_seen", "unconfirmed"}


class Page(html.parser.HTMLParser):
    """Collects what the checks look at, and every nesting error."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.ids, self.tags = [], [], set(), []
        self.text, self.cells, self.titles = [], [], []
        self.cell = None
        self.in_title = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag in ("td", "th"):
            self.cell = [a.get("class", ""), ""]
            self.cells.append(self.cell)
        if tag == "title":
            self.in_title = True
            self.titles.append("")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("</%s> closes <%s>" % (tag, self.stack[-1] if self.stack else "nothing"))
            return
        self.stack.pop()
        if tag in ("td", "th"):
            self.cell = None
        if tag == "title":
            self.in_title = False

    def handle_data(self, data):
        self.text.append(data)
        if self.cell is not None:
            self.cell[1] += data
        if self.in_title:
            self.titles[-1] += data


def parse(path):
    raw = open(path, "rb").read()
    text = raw.decode("utf-8")  # strict: every byte the page holds is UTF-8
    p = Page()
    p.feed(text)
    p.close()
    if p.stack:
        p.errors.append("left open: %s" % p.stack)
    return raw, text, p


def safety(raw, p, problems):
    """Nothing to fetch, nothing to run. A vendor's description may quote
    an address as text (ras.licensing does); no attribute and no style may
    hold one."""
    style = re.search(rb"<style>(.*?)</style>", raw, re.S)
    if not style or re.search(rb"url\(|@import|https?:", style.group(1), re.I):
        problems.append("style sheet missing, or it fetches")
    for tag, attrs in p.tags:
        if tag in ("script", "img", "iframe", "object", "embed", "link", "image", "use", "foreignobject"):
            problems.append("element <%s>" % tag)
        for name, value in attrs:
            if name.startswith("on") or name in ("src", "href", "xlink:href", "srcset", "action"):
                problems.append("attribute %s=%r on <%s>" % (name, value, tag))
            if value and re.search(r"https?:|//", value, re.I):
                problems.append("address in %s=%r" % (name, value))
            if value and "url(" in value and not re.fullmatch(r"url\(#[a-z0-9]+\)", value):
                problems.append("url() other than a fragment: %r" % value)


def run(cmd, cwd):
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode not in (0, 1):
        sys.exit("flowaudit failed (%d): %s" % (r.returncode, r.stderr.decode(errors="replace")))


def expectations(flows):
    findings, odd = {}, []
    for line in open(flows):
        m = re.match(r"# expect rule (\S+) (\S+)", line)
        if m and m.group(2) in FINDING:
            findings[m.group(1)] = m.group(2)
        m = re.match(r"# expect (undocumented|wrong_direction) \S+ (\S+) -> ([^:]+):", line)
        if m:
            odd.append((m.group(1), m.group(2), m.group(3)))
    return findings, odd


def site_roles(site):
    roles = []
    for line in open(site):
        m = re.match(r"role\s+(\S+)", line)
        if m:
            roles.append(m.group(1))
    return roles


def check_findings(p, findings, problems):
    cells = p.cells
    shown = {}
    for i, (cls, text) in enumerate(cells):
        if cls == "rule" and i + 1 < len(cells):
            shown.setdefault(text, set()).add(cells[i + 1][1].strip())
    for rule, status in sorted(findings.items()):
        if status not in shown.get(rule, set()):
            problems.append("finding %s %s not in the findings table (%s)" % (rule, status, shown.get(rule)))


def check_diagram(p, dot, roles, odd, problems):
    nodes = [a for tag, a in p.tags if tag == "g" and ("class", "role") in a]
    for role in roles:
        if not any(t == role or t.startswith(role + ": ") for t in p.titles):
            problems.append("role %s is no node of the diagram" % role)
        if '"%s' % role not in dot:
            problems.append("role %s is no node of the DOT graph" % role)
    for kind, orig, resp in odd:
        name = kind.replace("_", " ")
        if not any(t.startswith(name + ":") and ("%s -> %s " % (orig, resp)) in t for t in p.titles):
            problems.append("no %s edge for %s -> %s" % (name, orig, resp))
    edges = [t for t in p.titles if re.match(r"(rejected|blocked|wrong direction|undocumented|not seen|"
                                             r"unconfirmed|seen):\n", t)]
    if len(edges) != dot.count(" -> n"):
        problems.append("%d edges drawn, %d in DOT" % (len(edges), dot.count(" -> n")))
    if not nodes or not edges:
        problems.append("empty diagram")


def structure(flowaudit, src, name):
    product = name.rsplit("-", 1)[0]
    site = os.path.join(src, "sites", product + ".site")
    findings, odd = expectations(os.path.join(src, "pcaps/products", name + ".flows"))
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        pages = []
        for k in range(2):
            page, dotf = os.path.join(tmp, "p%d.html" % k), os.path.join(tmp, "p%d.dot" % k)
            run([flowaudit, "-q", "--no-progress", "--rules", "rules", "--site", site, "-r",
                 "pcaps/products/%s.pcap" % name, "--html", page, "--dot", dotf], src)
            pages.append((open(page, "rb").read(), open(dotf).read()))
            if os.path.exists(page + ".tmp"):
                problems.append("%s.tmp left behind" % page)
        if pages[0] != pages[1]:
            problems.append("two runs wrote different pages")
        raw, text, p = parse(os.path.join(tmp, "p0.html"))
        dot = pages[0][1]
    problems += p.errors
    safety(raw, p, problems)
    for sec in SECTIONS:
        if sec not in p.ids:
            problems.append("section #%s missing" % sec)
    check_findings(p, findings, problems)
    check_diagram(p, dot, site_roles(site), odd, problems)
    if not dot.startswith("//") or not dot.rstrip().endswith("}") or dot.count("{") != dot.count("}"):
        problems.append("DOT file not one closed graph")
    return problems


# Hostile text, each ending in a marker the checks look for as text.
PRODUCT = '<script>alert(1)</script> & \\"Co\\"'
DESCRIPTION = "<img src=x onerror=alert(2)>"
PURPOSE = '\\"><svg onload=alert(3)>'
IMPACT = "</td></tr></table><script>alert(4)</script>"
SITE = "</title><script>alert(5)</script>"
HOST = b"<script>alert(6)</script>\x01"
PATH = b"/\"><img/src=x/onerror=alert(7)>\xff"  # no space: it ends the path

RULES = """product evil "%s"
role srv "%s"
role cli "client"
rule EV-001 cli -> srv tcp 8080
    purpose "WebSocket"
    websocket yes
rule EV-002 srv -> cli tcp 9999
    purpose "%s"
    impact "%s"
""" % (PRODUCT, DESCRIPTION, PURPOSE, IMPACT)

SITE_FILE = """site "%s"
product evil
phase operation
role evil.srv 192.0.2.10
role evil.cli 198.51.100.10
""" % SITE.replace('"', '\\"')


def tcp_packet(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, bytes(src), bytes(dst))
    return b"\x00" * 12 + b"\x08\x00" + ip + tcp


def websocket_pcap(path):
    """An Upgrade with the hostile Host and path, its 101, a FIN each way."""
    c, s = [198, 51, 100, 10], [192, 0, 2, 10]
    req = b"GET " + PATH + b" HTTP/1.1\r\nHost: " + HOST + b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" \
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    resp = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" \
           b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    pkts = [
        (c, s, 1000, 0, 0x02, b""), (s, c, 5000, 1001, 0x12, b""), (c, s, 1001, 5001, 0x10, b""),
        (c, s, 1001, 5001, 0x18, req), (s, c, 5001, 1001 + len(req), 0x18, resp),
        (c, s, 1001 + len(req), 5001 + len(resp), 0x11, b""),
        (s, c, 5001 + len(resp), 1002 + len(req), 0x11, b""),
        (c, s, 1002 + len(req), 5002 + len(resp), 0x10, b""),
    ]
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, (a, b, seq, ack, flags, data) in enumerate(pkts):
            frame = tcp_packet(a, b, 40001 if a == c else 8080, 8080 if a == c else 40001, seq, ack, flags, data)
            f.write(struct.pack("<IIII", 1700000000 + i, 0, len(frame), len(frame)) + frame)


def hostile(flowaudit, src):
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        os.mkdir(os.path.join(tmp, "rules"))
        open(os.path.join(tmp, "rules", "evil.rules"), "w").write(RULES)
        open(os.path.join(tmp, "evil.site"), "w").write(SITE_FILE)
        capture = os.path.join(tmp, "<b>x&y.pcap")
        websocket_pcap(capture)
        page, dotf = os.path.join(tmp, "page.html"), os.path.join(tmp, "page.dot")
        run([flowaudit, "-q", "--no-progress", "--rules", os.path.join(tmp, "rules"), "--site",
             os.path.join(tmp, "evil.site"), "-r", capture, "--html", page, "--dot", dotf], tmp)
        raw, text, p = parse(page)
        dot = open(dotf, encoding="utf-8").read()
    # Every DOT string closes on its line: a quote in the text is escaped.
    for line in dot.splitlines():
        if len(re.findall(r'(?<!\\)"', line.replace("\\\\", ""))) % 2:
            problems.append("DOT line with an open string: %s" % line)
    if DESCRIPTION not in dot:
        problems.append("role description not in the DOT tooltip")
    problems += p.errors
    safety(raw, p, problems)
    shown = "".join(p.text)
    for want in ["<script>alert(1)</script>", DESCRIPTION, '"><svg onload=alert(3)>', IMPACT, SITE,
                 "<script>alert(6)</script>?", '/"><img/src=x/onerror=alert(7)>?', "<b>x&y.pcap"]:
        if want not in shown:
            problems.append("not shown as text: %r" % want)
    return problems


BROWSERS = ["chromium-headless-shell", "chromium", "chromium-browser", "google-chrome"]


def chromium(browser, tmp, *args):
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + os.path.join(tmp, "profile"),
           "--host-resolver-rules=MAP * ~NOTFOUND"] + list(args)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120).stdout


def requests_made(netlog):
    """Addresses the network stack was asked for, other than the page's."""
    urls = set()
    for e in json.load(open(netlog)).get("events", []):
        url = e.get("params", {}).get("url")
        if url and not url.startswith("file://"):
            urls.add(url)
    return urls


def browser_check(flowaudit, src, outdir):
    browser = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if not browser:
        print("no Chromium installed (tools/install-deps.sh installs chromium-headless-shell)")
        sys.exit(77)
    site = os.path.join(src, "sites", "ras.site")
    findings, odd = expectations(os.path.join(src, "pcaps/products/ras-broken.flows"))
    ws = sorted(f for f in os.listdir(os.path.join(src, "pcaps/real")) if f.startswith("ws-"))
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        page, netlog = os.path.join(tmp, "report.html"), os.path.join(tmp, "net.json")
        cmd = [flowaudit, "-q", "--no-progress", "--rules", "rules", "--site", site, "--html", page,
               "-r", "pcaps/products/ras-broken.pcap"]
        for f in ws:
            cmd += ["-r", "pcaps/real/" + f]
        run(cmd, src)
        dom = chromium(browser, tmp, "--log-net-log=" + netlog, "--dump-dom", "file://" + page).decode("utf-8")
        chromium(browser, tmp, "--hide-scrollbars", "--window-size=1400,2400",
                 "--screenshot=" + os.path.join(outdir, "html-report.png"), "file://" + page)
        problems += ["request for %s" % u for u in sorted(requests_made(netlog))]
    p = Page()
    p.feed(dom)
    if "deployment" not in p.ids or "timeline" not in p.ids:
        problems.append("the browser built no diagram or no timeline")
    check_findings(p, findings, problems)
    for role in site_roles(site):
        if not any(t == role or t.startswith(role + ": ") for t in p.titles):
            problems.append("role %s not in the browser's DOM" % role)
    sessions = sum(1 for t in p.titles if re.match(r"C\w+: \w+, [0-9.]+ s idle", t))
    stated = re.search(r"(\d+) sessions:", "".join(p.text))
    # Each ws-* capture holds one session at least (pcaps/real/README.md).
    if not stated or sessions != int(stated.group(1)) or sessions < len(ws):
        problems.append("%d sessions on the timeline, the page says %s" % (sessions, stated and stated.group(1)))
    return problems


def main():
    flowaudit, src, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "structure":
        problems = structure(flowaudit, src, sys.argv[4])
    elif mode == "browser":
        problems = browser_check(flowaudit, src, sys.argv[4])
    else:
        problems = hostile(flowaudit, src)
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
