#!/usr/bin/env python3
"""make-seeds.py - builds the fuzz targets' seed corpora from the repository.

Usage: make-seeds.py SOURCE_DIR OUT_DIR

Writes OUT_DIR/<target>/<sha1> files (libFuzzer's naming), deterministically:
  decode    every distinct frame of pcaps/{synthetic,real,products}/*.pcap,
            prefixed with the index of its link type in
            tests/fuzz/fuzz_linktypes.h, and Ethernet frames built here
            with each encapsulation's variants the encap-* captures do not
            hold (encap_seeds: GRE option fields and PPTP, ERSPAN III
            subheader and frame types, Geneve options and control, MPLS at
            the label cap, every kind nested in one frame)
  pipeline  whole captures of at most 64 KiB from the same directories and
            tests/malformed/corpus, and two TLS connections built here (one
            ClientHello whole, one split across segments): no committed
            capture carries TLS, and the detector parses its handshake
  rules     rules/*.rules and tests/data/rules/**/*.rules
  http_upgrade, ws_frame, tls_hello
            an upgrade request and its answer, frames of every length form,
            a ClientHello, built here (detector_seeds)
  site      sites/*.site and tests/data/rules/*.site, and each shipped site
            again with a port override of every customizable rule of its
            products (the shipped sites have none, and a fuzzer rarely
            guesses a valid rule id)
Standard library only.
"""
import hashlib
import os
import shutil
import struct
import sys

# pcap LINKTYPE_ values in the order of FUZZ_LINKTYPES: EN10MB, LINUX_SLL,
# LINUX_SLL2, NULL, LOOP, RAW, IPV4, IPV6.
LINKTYPE_INDEX = {1: 0, 113: 1, 276: 2, 0: 3, 108: 4, 101: 5, 228: 6, 229: 7}
PIPELINE_MAX = 64 * 1024


def pcap_frames(blob):
    """Yields (linktype, frame) for each record of a classic pcap file."""
    if len(blob) < 24:
        return
    magic = blob[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        return
    linktype = struct.unpack(end + "I", blob[20:24])[0] & 0xFFFF
    off = 24
    while off + 16 <= len(blob):
        caplen = struct.unpack(end + "I", blob[off + 8:off + 12])[0]
        off += 16
        if off + caplen > len(blob):
            return
        yield linktype, blob[off:off + caplen]
        off += caplen


def tcp_frame(client_sends, flags, seq, ack, payload=b""):
    """An Ethernet/IPv4/TCP frame between 192.0.2.10:50000 and
    198.51.100.20:443 (checksums left zero: flowaudit does not check them)."""
    hosts = (bytes([192, 0, 2, 10]), bytes([198, 51, 100, 20]))
    src, dst = hosts if client_sends else hosts[::-1]
    sport, dport = (50000, 443) if client_sends else (443, 50000)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src, dst)
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip + tcp


ETH_HDR = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01"


def ipv4(proto, body, src=b"\xcb\x00\x71\x0b", dst=b"\xcb\x00\x71\x0c"):
    """An IPv4 header (no options, checksum zero) in front of body."""
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 1, 0, 64, proto, 0, src, dst) + body


def inner_tcp():
    """IPv4 TCP 192.0.2.10:50000 -> 198.51.100.20:443 with 4 payload bytes."""
    tcp = struct.pack("!HHIIBBHHH", 50000, 443, 1, 0, 5 << 4, 0x18, 65535, 0, 0) + b"data"
    return ipv4(6, tcp, bytes([192, 0, 2, 10]), bytes([198, 51, 100, 20]))


def udp(dport, body):
    return struct.pack("!HHHH", 51000, dport, 8 + len(body), 0) + body


def gre(flags, ptype, body, fields=b""):
    return struct.pack("!HH", flags, ptype) + fields + body


def encap_seeds():
    """Ethernet frames (link type index 0) through each encapsulation."""
    ip = inner_tcp()
    eth_ip = ETH_HDR + b"\x08\x00" + ip
    mpls = lambda n, body: b"".join(struct.pack("!I", (16 + i) << 12 | (0x100 if i == n - 1 else 0) | 64)
                                    for i in range(n)) + body
    vxlan = b"\x08\x00\x00\x00\x00\x00\x64\x00"
    geneve = lambda opts, flags, ptype: struct.pack("!BBHI", len(opts) // 4, flags, ptype, 200 << 8) + opts
    gwlb = bytes([1, 8, 3, 1, 0x12, 0x34, 0x56, 0x78])
    frames = [
        ETH_HDR + b"\x88\x47" + mpls(16, ip),
        ETH_HDR + b"\x88\x48" + mpls(17, ip),
        ETH_HDR + b"\x08\x00" + ipv4(47, gre(0xb000, 0x0800, ip, bytes(12))),
        ETH_HDR + b"\x08\x00" + ipv4(47, gre(0x3081, 0x880b, b"\xff\x03\x00\x21" + ip, bytes(12))),
        ETH_HDR + b"\x08\x00" + ipv4(47, gre(0x2000, 0x8847, mpls(1, ip), bytes(4))),
        ETH_HDR + b"\x08\x00" + ipv4(47, gre(0x0000, 0x6558, eth_ip)),
        ETH_HDR + b"\x08\x00" + ipv4(47, gre(0x1000, 0x22eb, eth_ip,
                                              struct.pack("!IIIHH", 1, 0x20000002, 0, 0, 0x0001) + bytes(8))),
        ETH_HDR + b"\x08\x00" + ipv4(47, gre(0x1000, 0x22eb, ip,
                                              struct.pack("!IIIHH", 1, 0x20000002, 0, 0, 0x0800))),
        ETH_HDR + b"\x08\x00" + ipv4(17, udp(6081, geneve(gwlb, 0x40, 0x0800) + ip)),
        ETH_HDR + b"\x08\x00" + ipv4(17, udp(6081, geneve(b"", 0x80, 0x0800) + ip)),
        ETH_HDR + b"\x08\x00" + ipv4(17, udp(6081, geneve(b"", 0, 0x8847) + mpls(2, ip))),
        ETH_HDR + b"\x08\x00" + ipv4(17, udp(4789, vxlan + ETH_HDR + b"\x08\x00"
                                              + ipv4(17, udp(6081, geneve(b"", 0, 0x0800) + ip)))),
    ]
    # every kind, one inside the other: MPLS, GRE with ERSPAN II, VXLAN, Geneve
    nested = ipv4(17, udp(6081, geneve(b"", 0, 0x0800) + ip))
    nested = ipv4(17, udp(4789, vxlan + ETH_HDR + b"\x08\x00" + nested))
    nested = ipv4(47, gre(0x1000, 0x88be, ETH_HDR + b"\x08\x00" + nested,
                          struct.pack("!III", 1, 0x10000001, 0)))
    frames.append(ETH_HDR + b"\x88\x47" + mpls(1, nested))
    return [b"\x00" + f for f in frames]


def client_hello():
    """A TLS 1.2 record holding a ClientHello with SNI and ALPN."""
    sni = b"broker.example.com"
    alpn = b"\x02h2\x08http/1.1"
    exts = (struct.pack("!HHHBH", 0, len(sni) + 5, len(sni) + 3, 0, len(sni)) + sni
            + struct.pack("!HHH", 16, len(alpn) + 2, len(alpn)) + alpn)
    body = (b"\x03\x03" + bytes(range(32)) + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00"
            + struct.pack("!H", len(exts)) + exts)
    handshake = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(handshake)) + handshake


def detector_seeds():
    """(target, bytes) seeds for the detector's parsers: an upgrade request
    and its answer, frames of every length form, masked and not, and a
    ClientHello."""
    yield ("http_upgrade", b"GET /ws HTTP/1.1\r\nHost: gw.example.com\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    yield ("http_upgrade", b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\n\r\n\x89\x00")
    mask = b"\x01\x02\x03\x04"
    frames = (b"\x81\x05hello" + b"\x82\x7e\x00\x80" + bytes(128)
              + b"\x82\xff" + struct.pack("!Q", 3) + mask + b"abc"
              + b"\x01\x02hi\x80\x01!" + b"\x89\x00\x8a\x00" + b"\x88\x82" + mask + b"\x03\xea")
    for lead in (0x00, 0x07, 0x41):
        yield ("ws_frame", bytes([lead]) + frames)
    yield ("tls_hello", client_hello())


def tls_capture(split):
    """A pcap of one TLS connection: handshake, ClientHello (in two segments
    when split), a server reply, FIN both ways."""
    hello = client_hello()
    parts = [hello[:split], hello[split:]] if split else [hello]
    c, s = 1000, 5000
    frames = [tcp_frame(True, 0x02, c, 0), tcp_frame(False, 0x12, s, c + 1),
              tcp_frame(True, 0x10, c + 1, s + 1)]
    seq = c + 1
    for part in parts:
        frames.append(tcp_frame(True, 0x18, seq, s + 1, part))
        seq += len(part)
    frames += [tcp_frame(False, 0x18, s + 1, seq, b"\x16\x03\x03\x00\x04\x02\x00\x00\x00"),
               tcp_frame(True, 0x11, seq, s + 10), tcp_frame(False, 0x11, s + 10, seq + 1),
               tcp_frame(True, 0x10, seq + 1, s + 11)]
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for i, f in enumerate(frames):
        out += struct.pack("<IIII", 1700000000, i * 1000, len(f), len(f)) + f
    return out


def files_in(src, rel, suffixes, recursive=False):
    top = os.path.join(src, rel)
    if not os.path.isdir(top):
        return []
    found = []
    for root, dirs, names in os.walk(top):
        dirs.sort()
        found += [os.path.join(root, n) for n in sorted(names) if n.endswith(suffixes)]
        if not recursive:
            break
    return found


def customizable_rules(src):
    """Maps product id to the ids of its rules marked customizable yes."""
    found = {}
    for path in files_in(src, "rules", (".rules",)):
        product = rule = None
        with open(path) as f:
            for line in f:
                words = line.split()
                if not words:
                    continue
                if words[0] == "product" and len(words) > 1 and not line[0].isspace():
                    product = words[1]
                elif words[0] == "rule" and len(words) > 1 and not line[0].isspace():
                    rule = words[1]
                elif words[:2] == ["customizable", "yes"] and product and rule:
                    found.setdefault(product, []).append(rule)
    return found


def with_port_overrides(text, customizable):
    """The site text plus "port RULE 10000+n" for each customizable rule of
    the products it deploys; None when it deploys none with such rules."""
    lines = []
    for line in text.splitlines():
        words = line.split()
        if len(words) > 1 and words[0] == "product":
            for product in words[1:]:
                lines += customizable.get(product, [])
    if not lines:
        return None
    return text + "".join("port %s %d\n" % (r, 10000 + n) for n, r in enumerate(lines))


def write(out, target, blob):
    path = os.path.join(out, target, hashlib.sha1(blob).hexdigest())
    with open(path, "wb") as f:
        f.write(blob)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: make-seeds.py SOURCE_DIR OUT_DIR\n")
        return 2
    src, out = sys.argv[1], sys.argv[2]
    targets = ("decode", "pipeline", "rules", "site", "http_upgrade", "ws_frame", "tls_hello")
    for t in targets:
        shutil.rmtree(os.path.join(out, t), ignore_errors=True)
        os.makedirs(os.path.join(out, t))
    captures = [path for d in ("pcaps/synthetic", "pcaps/real", "pcaps/products")
                for path in files_in(src, d, (".pcap",))]
    for path in captures:
        with open(path, "rb") as f:
            blob = f.read()
        for linktype, frame in pcap_frames(blob):
            if linktype in LINKTYPE_INDEX:
                write(out, "decode", bytes([LINKTYPE_INDEX[linktype]]) + frame)
    for frame in encap_seeds():
        write(out, "decode", frame)
    for path in captures + files_in(src, "tests/malformed/corpus", (".pcap", ".pcapng")):
        if os.path.getsize(path) <= PIPELINE_MAX:
            with open(path, "rb") as f:
                write(out, "pipeline", f.read())
    for split in (0, 20):
        write(out, "pipeline", tls_capture(split))
    inputs = {
        "rules": files_in(src, "rules", (".rules",))
        + files_in(src, "tests/data/rules", (".rules",), recursive=True),
        "site": files_in(src, "sites", (".site",)) + files_in(src, "tests/data/rules", (".site",)),
    }
    for target, paths in inputs.items():
        for path in paths:
            with open(path, "rb") as f:
                write(out, target, f.read())
    for blob in detector_seeds():
        write(out, *blob)
    customizable = customizable_rules(src)
    for path in files_in(src, "sites", (".site",)):
        with open(path) as f:
            text = with_port_overrides(f.read(), customizable)
        if text:
            write(out, "site", text.encode())
    for t in targets:
        print("%-8s %d seeds" % (t, len(os.listdir(os.path.join(out, t)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
