#!/usr/bin/env python3
"""oversized-frames.py - frames too long for the packet queue's arena keep
their place in the packet order.

Usage: oversized-frames.py FLOWAUDIT

flowaudit queues decoded packets for the flow table (src/packet_queue.c)
and processes a frame longer than the queue's arena at once, after the
packets queued before it. This writes two captures of the same 40
interleaved TCP connections: in one, every seventh frame carries a 200,000
byte link-layer trailer (captured, beyond the IP datagram), in the other
none does. The flow records must be the same: a frame taken out of order
would change a history, a state or a count. Standard library only.
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

T0 = 1700000000
TRAILER = 200000
SNAPLEN = 262144
SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def tcp_frame(src, dst, sport, dport, flags, seq, ack, payload=b"", trailer=0):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, src, dst) + tcp
    eth = bytes.fromhex("020000000002020000000001") + b"\x08\x00"
    return eth + ip + b"\0" * trailer


def conversation(i):
    """One connection's segments, client first: handshake, data, close."""
    cli, srv = bytes([192, 0, 2, 10]), bytes([198, 51, 100, 20 + i % 5])
    cport, c, s = 40000 + i, 1000 * i, 500000 + i
    data = b"x" * (100 + i)
    return [
        (cli, srv, cport, 443, SYN, c, 0, b""),
        (srv, cli, 443, cport, SYN | ACK, s, c + 1, b""),
        (cli, srv, cport, 443, ACK, c + 1, s + 1, b""),
        (cli, srv, cport, 443, PSH | ACK, c + 1, s + 1, data),
        (srv, cli, 443, cport, ACK, s + 1, c + 1 + len(data), b""),
        (cli, srv, cport, 443, FIN | ACK, c + 1 + len(data), s + 1, b""),
        (srv, cli, 443, cport, FIN | ACK, s + 1, c + 2 + len(data), b""),
        (cli, srv, cport, 443, ACK, c + 2 + len(data), s + 2, b""),
    ]


def write_capture(path, with_trailers):
    """Round-robin over the connections so that many are open at once."""
    convs = [conversation(i) for i in range(40)]
    n = 0
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, 1))
        for step in range(8):
            for conv in convs:
                trailer = TRAILER if with_trailers and n % 7 == 3 else 0
                frame = tcp_frame(*conv[step], trailer=trailer)
                usec = n * 1000
                f.write(struct.pack("<IIII", T0 + usec // 1000000, usec % 1000000, len(frame), len(frame)))
                f.write(frame)
                n += 1


def flow_records(flowaudit, path):
    out = subprocess.run([flowaudit, "-q", "--no-progress", "-j", "-", "-r", path],
                         check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: oversized-frames.py FLOWAUDIT")
    with tempfile.TemporaryDirectory() as tmp:
        long_path, plain_path = os.path.join(tmp, "long.pcap"), os.path.join(tmp, "plain.pcap")
        write_capture(long_path, True)
        write_capture(plain_path, False)
        with_long, plain = flow_records(sys.argv[1], long_path), flow_records(sys.argv[1], plain_path)
    if len(plain) != 40 or any(r.get("conn_state") != "SF" or r.get("history") != "ShADaFf" for r in plain):
        sys.exit("the plain capture did not give 40 SF connections: %s" % plain[:2])
    if with_long != plain:
        for a, b in zip(with_long, plain):
            if a != b:
                sys.exit("records differ:\n  with long frames: %s\n  without:         %s" % (a, b))
        sys.exit("record counts differ: %d vs %d" % (len(with_long), len(plain)))
    print("40 connections, %d frames of %d bytes: same records" % (sum(1 for n in range(320) if n % 7 == 3),
                                                                  TRAILER))


if __name__ == "__main__":
    main()
