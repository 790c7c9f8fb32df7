#!/usr/bin/env python3
"""make-corpus.py - writes the malformed-capture corpus (tests/malformed/corpus).

Usage: make-corpus.py OUT_DIR
       make-corpus.py --check DIR   (exit 1 unless DIR holds exactly this corpus)

Each file is small, hand-built and deterministic (fixed timestamps,
addresses and ports), so the committed corpus can be checked against a fresh
run byte for byte. The comment above each builder says what the file holds;
EXPECTED says what flowaudit must make of it. Standard library only.
"""
import os
import struct
import sys

T0 = 1700000000          # 2023-11-14 22:13:20 UTC, as pcaps/synthetic
CLIENT4, SERVER4 = bytes([192, 0, 2, 10]), bytes([198, 51, 100, 20])
ROUTER4 = bytes([203, 0, 113, 1])
CLIENT6 = bytes.fromhex("20010db8000000000000000000000010")
SERVER6 = bytes.fromhex("20010db8000100000000000000000020")
MAC_C, MAC_S = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")
LINKTYPE_ETHERNET = 1
TCP, UDP, ICMP, ICMP6, GRE = 6, 17, 1, 58, 47
ACK, PSH, SYN = 0x10, 0x08, 0x02


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ether(payload, ethertype=0x0800):
    return MAC_S + MAC_C + struct.pack("!H", ethertype) + payload


def ipv4(proto, payload, src=CLIENT4, dst=SERVER4, ihl=5, total=None, frag=0x4000,
         ident=0x1000, options=b""):
    """An IPv4 header with a correct checksum; ihl, total and frag may lie."""
    hlen = 20 + len(options)
    total = hlen + len(payload) if total is None else total
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | (ihl & 0x0F), 0, total & 0xFFFF, ident, frag,
                      64, proto, 0, src, dst) + options
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(next_header, payload, src=CLIENT6, dst=SERVER6, plen=None):
    plen = len(payload) if plen is None else plen
    return struct.pack("!IHBB", 0x60000000, plen, next_header, 64) + src + dst + payload


def tcp(sport=40000, dport=80, flags=ACK | PSH, data=b"", doff=5, seq=1000, ack=2000):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (doff & 0x0F) << 4, flags, 65535,
                       0, 0) + data


def udp(sport=40000, dport=53, data=b"", length=None):
    length = 8 + len(data) if length is None else length
    return struct.pack("!HHHH", sport, dport, length, 0) + data


def icmp(icmp_type, code, body):
    return struct.pack("!BBHI", icmp_type, code, 0, 0) + body


def ext(next_header, body_len8=0):
    """An IPv6 options-style extension header of (body_len8 + 1) * 8 bytes."""
    return struct.pack("!BB", next_header, body_len8) + b"\x01\x04\0\0\0\0" + b"\0" * (8 * body_len8)


def good_tcp(i):
    return ether(ipv4(TCP, tcp(sport=40000 + i, data=b"GET / HTTP/1.1\r\n\r\n")))


# --- classic pcap -----------------------------------------------------------

def pcap_header(snaplen=65535, linktype=LINKTYPE_ETHERNET):
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)


def record(frame, i=0, ts=None, caplen=None, length=None):
    """One record; caplen and length default to the frame's size and may lie."""
    sec, usec = (T0, i * 1000) if ts is None else ts
    caplen = len(frame) if caplen is None else caplen
    length = len(frame) if length is None else length
    return struct.pack("<IIII", sec, usec, caplen, length) + frame


def pcap(frames, **hdr):
    return pcap_header(**hdr) + b"".join(record(f, i) for i, f in enumerate(frames))


def truncated_record():
    """Three good packets, the file cut in the middle of the third's data."""
    whole = pcap([good_tcp(i) for i in range(3)])
    return whole[:len(whole) - 20]


def truncated_header():
    """Two good packets, then 7 bytes of a third record header."""
    return pcap([good_tcp(i) for i in range(2)]) + record(good_tcp(2), 2)[:7]


def snaplen_lie():
    """Header snaplen 64, then records of 120 and 1000 bytes (caplen = len)."""
    big = ether(ipv4(TCP, tcp(data=b"x" * 946)))
    return pcap([good_tcp(0) + b"\0" * 44, big, good_tcp(1)], snaplen=64)


def caplen_over_len():
    """caplen (what the file holds) larger than len (what was on the wire)."""
    f = good_tcp(0)
    return pcap_header() + record(f, 0, length=40) + record(f, 1, length=0) + record(good_tcp(2), 2)


def caplen_huge():
    """A record claiming 300000 captured bytes: more than libpcap accepts."""
    return pcap_header() + record(good_tcp(0), 0) + struct.pack("<IIII", T0, 1000, 300000, 300000)


def zero_length():
    """Records with no bytes at all, with and without a wire length."""
    return (pcap_header() + record(b"", 0) + record(b"", 1, length=60) + record(good_tcp(2), 2)
            + record(b"", 3, length=0))


def empty():
    """Zero bytes: not even a file header."""
    return b""


def header_only():
    """A valid file header and no records."""
    return pcap_header()


def not_a_capture():
    """Text where a capture should be: libpcap does not know the format."""
    return b"this is not a capture file\n" * 3


def timestamps_backwards():
    """Four packets at 10 s, 9 s, 8 s then 11 s: two went back in time."""
    recs = [record(good_tcp(i), ts=(T0 + s, 0)) for i, s in enumerate((10, 9, 8, 11))]
    return pcap_header() + b"".join(recs)


def four_flows(hostile=(), seconds=10, start=T0, after=20):
    """Four connections, each sending a packet a second; after the after-th
    record, one more packet of the first connection for each hostile
    (sec, usec) time, as 32-bit fields."""
    recs = []
    for s in range(seconds):
        for c in range(4):
            recs.append(record(good_tcp(c), ts=(start + s, c * 1000)))
            if len(recs) == after:
                recs += [record(good_tcp(0), ts=t) for t in hostile]
    return recs


def ts_wrap():
    """Forty packets of four connections over ten seconds and, in the
    middle, one stamped 0xffffffff seconds: -1 to libpcap's signed field."""
    return pcap_header() + b"".join(four_flows([(0xFFFFFFFF, 0)]))


def ts_far_ahead():
    """The same with one packet stamped 0x7fffffff (2038) in the middle."""
    return pcap_header() + b"".join(four_flows([(0x7FFFFFFF, 0)]))


def ts_far_ahead_pair():
    """The same with two packets in a row stamped 0x7fffffff and 0x7fff0000
    (2038, 18 hours apart): far ahead, and too far apart to confirm each
    other."""
    return pcap_header() + b"".join(four_flows([(0x7FFFFFFF, 0), (0x7FFF0000, 0)]))


def ts_usec_overflow():
    """The same with one packet whose microsecond field is 0xffffffff."""
    return pcap_header() + b"".join(four_flows([(T0 + 5, 0xFFFFFFFF)]))


def ts_far_behind():
    """The same with one packet stamped one second after the epoch."""
    return pcap_header() + b"".join(four_flows([(1, 0)]))


def ts_gap():
    """Four connections for five seconds, silence for three hours (longer
    than the tcp-established timeout), four more seconds: a real jump."""
    return pcap_header() + b"".join(four_flows(seconds=5) + four_flows(seconds=4, start=T0 + 3 * 3600))


def ts_gap_batch_edge():
    """The same silence after 1023 packets, so that the first packet after
    it is the last of the first batch of 1024 the capture thread hands on
    (packet_batch.h); then seven more."""
    recs = [record(good_tcp(i % 4), ts=(T0 + i // 100, (i % 100) * 10000)) for i in range(1023)]
    recs += [record(good_tcp(i % 4), ts=(T0 + 3 * 3600 + i, 0)) for i in range(8)]
    return pcap_header() + b"".join(recs)


def ts_day(day):
    """Four connections for five seconds on day 0 or 1: the two files
    read together (golden test two-days) are one run across a day."""
    return pcap_header() + b"".join(four_flows(seconds=5, start=T0 + day * 86400))


def ts_invalid_first():
    """A first packet stamped 0xffffffff seconds, then three good ones."""
    return pcap_header() + record(good_tcp(0), ts=(0xFFFFFFFF, 0)) + b"".join(
        record(good_tcp(i), i) for i in range(1, 4))


def ipv4_bad_ihl():
    """IHL 0, 1 and 4 (fewer than the 5 words of the fixed header)."""
    return pcap([ether(ipv4(TCP, tcp(), ihl=n)) for n in (0, 1, 4)] + [good_tcp(3)])


def tcp_bad_doff():
    """Data offset 15 (60 bytes) in a 20-byte segment, offset 3 (12 bytes),
    and a segment the IP length says is 60 bytes long cut by the capture."""
    lie = ether(ipv4(TCP, tcp(doff=15)))
    short = ether(ipv4(TCP, tcp(doff=3)))
    cut = ether(ipv4(TCP, tcp(doff=15) + b"\0" * 40))
    return (pcap_header() + record(lie, 0) + record(short, 1)
            + record(cut[:14 + 20 + 30], 2, length=len(cut)))


def ipv6_ext_loops():
    """Nine destination-options headers in a row, a routing header naming
    itself as next nine times, a hop-by-hop header longer than the packet,
    and eight headers then TCP (the longest accepted chain)."""
    def chain(types, last):
        body = b""
        for i, t in enumerate(types):
            body += ext(types[i + 1] if i + 1 < len(types) else last)
        return body

    frames = [
        ether(ipv6(60, chain([60] * 9, TCP) + tcp()), 0x86DD),
        ether(ipv6(43, chain([43] * 9, TCP) + tcp()), 0x86DD),
        ether(ipv6(0, ext(TCP, 200) [:16] + tcp()), 0x86DD),
        ether(ipv6(60, chain([60] * 8, TCP) + tcp(sport=40008)), 0x86DD),
    ]
    return pcap(frames)


def fragments():
    """IPv4: a first fragment of 8 bytes (half a TCP header), a fragment at
    offset 8 bytes rewriting the TCP header (RFC 1858), two overlapping
    fragments of one datagram; IPv6: a first fragment too short for TCP."""
    seg = tcp(sport=40100, data=b"A" * 32)
    frames = [
        ether(ipv4(TCP, seg[:8], frag=0x2000, ident=0x2001)),
        ether(ipv4(TCP, seg[8:16], frag=0x0001, ident=0x2001)),
        ether(ipv4(TCP, seg[:24], frag=0x2000, ident=0x2002)),
        ether(ipv4(TCP, seg[16:40], frag=0x2002, ident=0x2002)),
        ether(ipv4(TCP, seg[8:52], frag=0x0001, ident=0x2002)),
        ether(ipv6(44, struct.pack("!BBHI", TCP, 0, 0x0001, 0x3001) + seg[:8]), 0x86DD),
    ]
    return pcap(frames)


def icmp_garbage():
    """ICMP errors whose quote is too short, not IPv4, has IHL 3 or claims
    60 header bytes in 20; an ICMPv6 error quoting IPv4; an ICMPv6 error
    quoting an endless extension chain (kept, without ports); an ICMP header
    of 4 bytes."""
    inner = ipv4(UDP, udp())
    frames = [
        ether(ipv4(ICMP, icmp(3, 3, inner[:10]), src=ROUTER4, dst=CLIENT4)),
        ether(ipv4(ICMP, icmp(3, 3, b"\x60" + inner[1:]), src=ROUTER4, dst=CLIENT4)),
        ether(ipv4(ICMP, icmp(11, 0, b"\x43" + inner[1:]), src=ROUTER4, dst=CLIENT4)),
        ether(ipv4(ICMP, icmp(12, 0, b"\x4f" + inner[1:]), src=ROUTER4, dst=CLIENT4)),
        ether(ipv6(ICMP6, icmp(1, 4, inner), src=SERVER6, dst=CLIENT6), 0x86DD),
        ether(ipv6(ICMP6, icmp(2, 0, ipv6(60, ext(60) * 12)), src=SERVER6, dst=CLIENT6), 0x86DD),
        ether(ipv4(ICMP, b"\x03\x03\0\0", src=ROUTER4, dst=CLIENT4)),
    ]
    return pcap(frames)


def gre(flags, ptype, body, fields=b""):
    return struct.pack("!HH", flags, ptype) + fields + body


def mpls_label(bottom):
    return struct.pack("!I", 16 << 12 | (0x100 if bottom else 0) | 64)


def tunnel_garbage():
    """One bad tunnel header per check: MPLS stacks that end with the frame,
    have nothing under them, or hold 17 labels; GRE with the routing bit
    set, or a key announced and missing; ERSPAN II of version 2, ERSPAN III
    with its subheader flagged and missing; VXLAN without the I flag, or too
    short for an Ethernet header; Geneve of version 1, or with options past
    its datagram; five GRE layers; then an ERSPAN II header cut by the
    capture."""
    inner = ipv4(TCP, tcp())
    eth_inner = ether(inner)
    nest = inner
    for _ in range(5):
        nest = ipv4(GRE, gre(0, 0x0800, nest))
    frames = [
        ether(mpls_label(False) * 3, 0x8847),
        ether(mpls_label(True), 0x8847),
        ether(mpls_label(False) * 16 + mpls_label(True) + inner, 0x8847),
        ether(ipv4(GRE, gre(0x4000, 0x0800, inner))),
        ether(ipv4(GRE, gre(0x2000, 0x0800, b""))),
        ether(ipv4(GRE, gre(0x1000, 0x88BE, eth_inner, struct.pack("!III", 1, 0x20000001, 0)))),
        ether(ipv4(GRE, gre(0x1000, 0x22EB, b"", struct.pack("!IIIHH", 1, 0x20000002, 0, 0, 1)))),
        ether(ipv4(UDP, udp(51000, 4789, bytes(8) + eth_inner))),
        ether(ipv4(UDP, udp(51000, 4789, b"\x08\0\0\0\0\0\x01\0" + bytes(10)))),
        ether(ipv4(UDP, udp(51000, 6081, b"\x40\0\x08\0\0\0\x01\0" + inner))),
        ether(ipv4(UDP, udp(51000, 6081, b"\x3f\0\x08\0\0\0\x01\0" + inner))),
        ether(nest),
    ]
    cut = ether(ipv4(GRE, gre(0x1000, 0x88BE, eth_inner, struct.pack("!III", 1, 0x10000001, 0))))
    return pcap(frames) + record(cut, len(frames), caplen=14 + 20 + 8 + 4)[:16 + 14 + 20 + 8 + 4]


# --- pcapng -----------------------------------------------------------------

def block(block_type, body):
    body += b"\0" * (-len(body) % 4)
    total = 12 + len(body)
    return struct.pack("<II", block_type, total) + body + struct.pack("<I", total)


def shb():
    return block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb():
    return block(0x00000001, struct.pack("<HHI", LINKTYPE_ETHERNET, 0, 65535))


def epb(frame, i):
    ts = T0 * 1000000 + i * 1000
    return block(0x00000006, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(frame),
                                         len(frame)) + frame)


def pcapng_unknown_blocks():
    """Unknown (0x0BADBEEF), custom (0x00000BAD) and reserved (0x80000001)
    blocks between valid ones."""
    return (shb() + block(0x0BADBEEF, b"junk") + idb() + epb(good_tcp(0), 0)
            + block(0x00000BAD, struct.pack("<I", 32473) + b"custom") + epb(good_tcp(1), 1)
            + block(0x80000001, b"") + epb(good_tcp(2), 2))


def pcapng_ts_huge():
    """Three packets, the second stamped 2^64 - 1 microseconds (year
    586524)."""
    huge = block(0x00000006, struct.pack("<IIIII", 0, 0xFFFFFFFF, 0xFFFFFFFF, len(good_tcp(1)),
                                         len(good_tcp(1))) + good_tcp(1))
    return shb() + idb() + epb(good_tcp(0), 0) + huge + epb(good_tcp(2), 2)


def pcapng_truncated():
    """Two packets, then a third enhanced packet block cut in the middle."""
    return shb() + idb() + epb(good_tcp(0), 0) + epb(good_tcp(1), 1) + epb(good_tcp(2), 2)[:40]


CORPUS = {
    "truncated-record.pcap": truncated_record,
    "truncated-header.pcap": truncated_header,
    "snaplen-lie.pcap": snaplen_lie,
    "caplen-over-len.pcap": caplen_over_len,
    "caplen-huge.pcap": caplen_huge,
    "zero-length.pcap": zero_length,
    "empty.pcap": empty,
    "header-only.pcap": header_only,
    "not-a-capture.pcap": not_a_capture,
    "timestamps-backwards.pcap": timestamps_backwards,
    "ts-wrap.pcap": ts_wrap,
    "ts-far-ahead.pcap": ts_far_ahead,
    "ts-far-ahead-pair.pcap": ts_far_ahead_pair,
    "ts-usec-overflow.pcap": ts_usec_overflow,
    "ts-far-behind.pcap": ts_far_behind,
    "ts-gap.pcap": ts_gap,
    "ts-gap-batch-edge.pcap": ts_gap_batch_edge,
    "ts-invalid-first.pcap": ts_invalid_first,
    "ts-day0.pcap": lambda: ts_day(0),
    "ts-day1.pcap": lambda: ts_day(1),
    "ts-huge.pcapng": pcapng_ts_huge,
    "ipv4-bad-ihl.pcap": ipv4_bad_ihl,
    "tcp-bad-doff.pcap": tcp_bad_doff,
    "ipv6-ext-loops.pcap": ipv6_ext_loops,
    "fragments.pcap": fragments,
    "icmp-garbage.pcap": icmp_garbage,
    "tunnel-garbage.pcap": tunnel_garbage,
    "unknown-blocks.pcapng": pcapng_unknown_blocks,
    "truncated-block.pcapng": pcapng_truncated,
}


def check(out_dir):
    """Returns the names whose bytes differ from (or are missing in) out_dir,
    and files out_dir holds that the corpus does not."""
    stale = sorted(set(os.listdir(out_dir)) - set(CORPUS))
    for name, build in sorted(CORPUS.items()):
        path = os.path.join(out_dir, name)
        if not os.path.exists(path):
            stale.append(name)
            continue
        with open(path, "rb") as f:
            if f.read() != build():
                stale.append(name)
    return stale


def main():
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "--check":
        stale = check(args[1])
        for name in stale:
            print("%s: differs from make-corpus.py's output; regenerate the corpus" % name)
        print("corpus %s" % ("stale" if stale else "up to date"))
        return 1 if stale else 0
    if len(args) != 1:
        sys.stderr.write(__doc__)
        return 2
    os.makedirs(args[0], exist_ok=True)
    for name, build in sorted(CORPUS.items()):
        with open(os.path.join(args[0], name), "wb") as f:
            f.write(build())
    return 0


if __name__ == "__main__":
    sys.exit(main())
