#!/usr/bin/env python3
"""Sends the Ethernet frames of a classic pcap file out of an interface.

A paced, bounded replay for the flood test (tcpreplay's job, without the
extra package): frames leave in file order at --pps frames per second, and
the run stops at the end of the file or after --max-seconds. Prints the
frames sent and the time taken.
"""

import argparse
import errno
import socket
import struct
import sys
import time

PCAP_MAGICS = (0xA1B2C3D4, 0xA1B23C4D)  # microsecond and nanosecond files
LINKTYPE_ETHERNET = 1
BATCH = 500


def frames(path):
    with open(path, "rb") as f:
        header = f.read(24)
        if len(header) < 24:
            raise ValueError("%s: not a pcap file" % path)
        endian = "<" if struct.unpack("<I", header[:4])[0] in PCAP_MAGICS else ">"
        if struct.unpack(endian + "I", header[:4])[0] not in PCAP_MAGICS:
            raise ValueError("%s: not a classic pcap file" % path)
        if struct.unpack(endian + "I", header[20:24])[0] != LINKTYPE_ETHERNET:
            raise ValueError("%s: link type is not Ethernet" % path)
        record = struct.Struct(endian + "IIII")
        while True:
            head = f.read(record.size)
            if len(head) < record.size:
                return
            _, _, caplen, _ = record.unpack(head)
            data = f.read(caplen)
            if len(data) < caplen:
                return
            yield data


def send(sock, data):
    # A full socket buffer is back-pressure, not an error: wait and retry.
    while True:
        try:
            sock.send(data)
            return
        except BlockingIOError:
            time.sleep(0.0005)
        except OSError as e:
            if e.errno != errno.ENOBUFS:
                raise
            time.sleep(0.0005)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--iface", required=True)
    p.add_argument("--pps", type=float, required=True)
    p.add_argument("--max-seconds", type=float, default=60.0)
    p.add_argument("pcap")
    args = p.parse_args()
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((args.iface, 0))
    start = time.monotonic()
    sent = 0
    for data in frames(args.pcap):
        send(sock, data)
        sent += 1
        if sent % BATCH == 0:
            elapsed = time.monotonic() - start
            if elapsed > args.max_seconds:
                break
            ahead = sent / args.pps - elapsed
            if ahead > 0:
                time.sleep(ahead)
    elapsed = time.monotonic() - start
    print("sent %d frames in %.1f s" % (sent, elapsed), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
