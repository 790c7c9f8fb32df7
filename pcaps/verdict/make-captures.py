#!/usr/bin/env python3
"""make-captures.py - writes the crafted captures of pcaps/verdict.

Usage: make-captures.py [OUTDIR]   (default: the directory of this script)

Each capture holds a few hand-built Ethernet/IPv4 packets whose expected
conn_state, history and audit verdicts are worked out in README.md beside
this script, packet by packet. Standard library only; the output is the
same on every run (fixed timestamps, sequence numbers and IP IDs).
"""
import os
import struct
import sys

T0 = 1700000000  # 2023-11-14T22:13:20Z

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ip4(a):
    return bytes(int(x) for x in a.split("."))


class Capture:
    """Packets in time order; write() saves them as a classic pcap."""

    def __init__(self):
        self.frames = []
        self.ip_id = 1

    def ipv4(self, t, src, dst, proto, payload, ttl=64):
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), self.ip_id, 0, ttl, proto, 0,
                          ip4(src), ip4(dst))
        hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
        self.ip_id += 1
        eth = b"\x02\xfa\x00\x00\x00\x02" + b"\x02\xfa\x00\x00\x00\x01" + b"\x08\x00"
        self.frames.append((t, eth + hdr + payload))

    def tcp(self, t, src, sport, dst, dport, flags, seq, ack=0, data=b"", ttl=64):
        hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
        pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 6, len(hdr) + len(data))
        csum = checksum(pseudo + hdr + data)
        hdr = hdr[:16] + struct.pack("!H", csum) + hdr[18:]
        self.ipv4(t, src, dst, 6, hdr + data, ttl)

    def udp(self, t, src, sport, dst, dport, data, ttl=64):
        hdr = struct.pack("!HHHH", sport, dport, 8 + len(data), 0)
        pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 17, len(hdr) + len(data))
        csum = checksum(pseudo + hdr + data) or 0xffff
        self.ipv4(t, src, dst, 17, hdr[:6] + struct.pack("!H", csum) + data, ttl)

    def icmp_unreach(self, t, src, dst, code, quoted_ip_packet, ttl=64):
        """ICMP destination unreachable quoting the IP header and the first
        8 bytes of the packet that was refused (RFC 792)."""
        body = struct.pack("!BBHI", 3, code, 0, 0) + quoted_ip_packet[:28]
        body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
        self.ipv4(t, src, dst, 1, body, ttl)

    def last_ip_packet(self):
        return self.frames[-1][1][14:]

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
            for t, frame in self.frames:
                sec = int(t)
                usec = int(round((t - sec) * 1e6))
                f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
                f.write(frame)


# ------------------------------------------------------------ flows ----
# Every helper starts a flow at time t and spaces its packets 1 ms apart.

def tcp_sf(c, t, cli, cport, srv, sport, ttl_srv=64):
    """Handshake, 20 bytes each way, FINs both ways, last ACK: SF,
    history ShADadFf (9 packets: 5 from the client, 4 from the server)."""
    ms = 0.001
    c.tcp(t, cli, cport, srv, sport, SYN, 1000)
    c.tcp(t + ms, srv, sport, cli, cport, SYN | ACK, 5000, 1001, ttl=ttl_srv)
    c.tcp(t + 2 * ms, cli, cport, srv, sport, ACK, 1001, 5001)
    c.tcp(t + 3 * ms, cli, cport, srv, sport, PSH | ACK, 1001, 5001, b"q" * 20)
    c.tcp(t + 4 * ms, srv, sport, cli, cport, ACK, 5001, 1021, ttl=ttl_srv)
    c.tcp(t + 5 * ms, srv, sport, cli, cport, PSH | ACK, 5001, 1021, b"r" * 20, ttl=ttl_srv)
    c.tcp(t + 6 * ms, cli, cport, srv, sport, FIN | ACK, 1021, 5021)
    c.tcp(t + 7 * ms, srv, sport, cli, cport, FIN | ACK, 5021, 1022, ttl=ttl_srv)
    c.tcp(t + 8 * ms, cli, cport, srv, sport, ACK, 1022, 5022)


def udp_answered(c, t, cli, cport, srv, sport, size=48):
    c.udp(t, cli, cport, srv, sport, b"\x23" + b"\0" * (size - 1))
    c.udp(t + 0.001, srv, sport, cli, cport, b"\x24" + b"\0" * (size - 1))


def ws_ldap(c, t):
    tcp_sf(c, t, "192.0.2.10", 40001, "192.0.2.31", 389)


def ws_rdp(c, t):
    tcp_sf(c, t, "192.0.2.10", 40002, "192.0.2.50", 3389)


def ws_ntp(c, t):
    udp_answered(c, t, "192.0.2.10", 40003, "203.0.113.10", 123)


def dvm_syslog(c, t):
    # One syslog message, never answered (a oneway rule), to the port the
    # site moved HYW-060 to.
    c.udp(t, "192.0.2.70", 40004, "192.0.2.62", 1514, b"<14>flowaudit test message")


def healthy_set(c, skip=()):
    for i, (name, fn) in enumerate((("ldap", ws_ldap), ("rdp", ws_rdp), ("ntp", ws_ntp),
                                    ("syslog", dvm_syslog))):
        if name not in skip:
            fn(c, T0 + 10 * i)


def healthy(c):
    healthy_set(c)


def only_missing(c):
    healthy_set(c, skip=("rdp",))


def only_blocked_s0(c):
    healthy_set(c, skip=("rdp",))
    c.tcp(T0 + 50, "192.0.2.10", 40002, "192.0.2.50", 3389, SYN, 1000)


def only_blocked_sh(c):
    healthy_set(c, skip=("rdp",))
    c.tcp(T0 + 50, "192.0.2.10", 40002, "192.0.2.50", 3389, SYN, 1000)
    c.tcp(T0 + 50.5, "192.0.2.10", 40002, "192.0.2.50", 3389, FIN, 1001)


def only_rejected_rst(c):
    healthy_set(c, skip=("rdp",))
    c.tcp(T0 + 50, "192.0.2.10", 40002, "192.0.2.50", 3389, SYN, 1000)
    c.tcp(T0 + 50.001, "192.0.2.50", 3389, "192.0.2.10", 40002, RST | ACK, 0, 1001)


def only_rejected_icmp(c):
    healthy_set(c, skip=("ntp",))
    c.udp(T0 + 50, "192.0.2.10", 40003, "203.0.113.10", 123, b"\x23" + b"\0" * 47)
    c.icmp_unreach(T0 + 50.001, "203.0.113.10", "192.0.2.10", 3, c.last_ip_packet())


def only_undocumented(c):
    healthy_set(c)
    tcp_sf(c, T0 + 50, "192.0.2.10", 40005, "192.0.2.31", 23)


def only_wrong_direction(c):
    healthy_set(c)
    # The LDAP server opens a connection to the Workspace VM's port 389:
    # PSW-006's own port, the rule's roles swapped.
    tcp_sf(c, T0 + 50, "192.0.2.31", 50006, "192.0.2.10", 389)


def tcp_open(c, t, cli, cport, srv, sport):
    """Handshake and 20 bytes each way, left open (Zeek S1)."""
    ms = 0.001
    c.tcp(t, cli, cport, srv, sport, SYN, 1000)
    c.tcp(t + ms, srv, sport, cli, cport, SYN | ACK, 5000, 1001)
    c.tcp(t + 2 * ms, cli, cport, srv, sport, ACK, 1001, 5001)
    c.tcp(t + 3 * ms, cli, cport, srv, sport, PSH | ACK, 1001, 5001, b"q" * 20)
    c.tcp(t + 4 * ms, srv, sport, cli, cport, PSH | ACK, 5001, 1021, b"r" * 20)


def evicted_resume(c):
    # Three clustering connections mgmt1 -> mgmt2:38866 left open; with
    # --max-flows 2 the third evicts the first, and the first one's next
    # packet (the server's data, no SYN) evicts the second. That resumed
    # flow is met mid-stream, server first.
    m1, m2 = "192.0.2.11", "192.0.2.12"
    for i in range(3):
        tcp_open(c, T0 + i, m1, 40100 + i, m2, 38866)
    c.tcp(T0 + 5, m2, 38866, m1, 40100, PSH | ACK, 5021, 1021, b"s" * 20)
    c.tcp(T0 + 5.001, m1, 40100, m2, 38866, ACK, 1021, 5041)
    c.tcp(T0 + 5.002, m1, 40100, m2, 38866, FIN | ACK, 1021, 5041)
    c.tcp(T0 + 5.003, m2, 38866, m1, 40100, FIN | ACK, 5041, 1022)
    c.tcp(T0 + 5.004, m1, 40100, m2, 38866, ACK, 1022, 5042)


def midstream_reversed(c):
    # A connection met in its middle (no SYN): data from the LDAP server's
    # port 50006 to the Workspace VM's port 389, the answer, an ACK.
    c.tcp(T0, "192.0.2.31", 50006, "192.0.2.10", 389, PSH | ACK, 7000, 3000, b"q" * 20)
    c.tcp(T0 + 0.001, "192.0.2.10", 389, "192.0.2.31", 50006, PSH | ACK, 3000, 7020, b"r" * 20)
    c.tcp(T0 + 0.002, "192.0.2.31", 50006, "192.0.2.10", 389, ACK, 7020, 3020)


def synack_first(c):
    # The client's SYN was not captured: the server's SYN-ACK comes first,
    # and nothing follows. Zeek keeps the SYN-ACK's sender as originator
    # (history H): the server, so the flow is HYW-001 seen from its far end.
    c.tcp(T0, "192.0.2.12", 38866, "192.0.2.11", 40200, SYN | ACK, 7000, 3001)


def hr_rej(c):
    # A SYN-ACK seen first (its SYN was not captured), answered by a RST,
    # between two ports that are not likely server ports.
    c.tcp(T0, "10.0.0.1", 40000, "10.0.0.2", 50000, SYN | ACK, 7000, 3001)
    c.tcp(T0 + 0.001, "10.0.0.2", 50000, "10.0.0.1", 40000, RST, 3001)


def data_then_rsts(c, t, cport, rsts):
    """Handshake, 20 bytes each way, then RSTs in the server's name, given
    as (delay after the last ACK, TTL). The server's packets arrive with
    TTL 52."""
    cli, srv = "192.0.2.10", "198.51.100.80"
    c.tcp(t, cli, cport, srv, 443, SYN, 1000)
    c.tcp(t + 0.001, srv, 443, cli, cport, SYN | ACK, 5000, 1001, ttl=52)
    c.tcp(t + 0.002, cli, cport, srv, 443, ACK, 1001, 5001)
    c.tcp(t + 0.003, cli, cport, srv, 443, PSH | ACK, 1001, 5001, b"q" * 20)
    c.tcp(t + 0.004, srv, 443, cli, cport, PSH | ACK, 5001, 1021, b"r" * 20, ttl=52)
    c.tcp(t + 0.005, cli, cport, srv, 443, ACK, 1021, 5021)
    for delay, ttl in rsts:
        c.tcp(t + 0.005 + delay, srv, 443, cli, cport, RST, 5021, 0, ttl=ttl)


def rst_ttl(c):
    # Two connections, each ended by one RST: forged (TTL 40), then the
    # server's own (TTL 52).
    for i, rst_ttl_value in enumerate((40, 52)):
        data_then_rsts(c, T0 + 10 * i, 40010 + i, [(0.001, rst_ttl_value)])


def rst_ttl_first(c):
    # As rst_ttl's first connection, then 5 ms after the forged RST (TTL 40)
    # the server's own RST (TTL 52), as a server answers a connection that
    # a middlebox killed in its name when the client's next segment arrives.
    data_then_rsts(c, T0, 40020, [(0.001, 40), (0.006, 52)])


def pcoip_sport(c):
    # PCoIP user data from the Security Gateway to an agent (sites/pcoip.site
    # addresses): first from UDP 55000, the source port the vendor row
    # names, then from UDP 40007; each answered once.
    udp_answered(c, T0, "192.0.2.11", 55000, "192.0.2.30", 4172)
    udp_answered(c, T0 + 10, "192.0.2.11", 40007, "192.0.2.30", 4172)


CAPTURES = {
    "healthy": healthy,
    "only-missing": only_missing,
    "only-blocked-s0": only_blocked_s0,
    "only-blocked-sh": only_blocked_sh,
    "only-rejected-rst": only_rejected_rst,
    "only-rejected-icmp": only_rejected_icmp,
    "only-undocumented": only_undocumented,
    "only-wrong-direction": only_wrong_direction,
    "hr-rej": hr_rej,
    "rst-ttl": rst_ttl,
    "rst-ttl-first": rst_ttl_first,
    "evicted-resume": evicted_resume,
    "synack-first": synack_first,
    "midstream-reversed": midstream_reversed,
    "pcoip-sport": pcoip_sport,
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for name, build in CAPTURES.items():
        c = Capture()
        build(c)
        c.frames.sort(key=lambda f: f[0])
        c.write(os.path.join(out, name + ".pcap"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
