#!/usr/bin/env python3
"""Connections for the --workers live test (workers-test.sh).

From each client address, one connection (two to nginx) to each service of
PLAN, many at a time. Each outcome is what the test's router and servers
are set up to give, written here from that set-up (workers-firewall.nft,
the listeners the test starts); the script exits 1 when one differs, so a
capture made from it is known to hold every kind of ending.
"""

import argparse
import concurrent.futures
import errno
import socket
import sys

SERVERS = "192.0.2.10"
NGINX = "192.0.2.60"

# (proto, server, port, outcome, connections per client address)
PLAN = [
    ("tcp", NGINX, 8080, "answered", 2),        # nginx
    ("tcp", SERVERS, 9001, "answered", 1),      # Python listeners
    ("tcp", SERVERS, 9002, "answered", 1),
    ("tcp", SERVERS, 9003, "answered", 1),
    ("tcp", SERVERS, 9004, "answered", 1),
    ("tcp", SERVERS, 9100, "refused", 1),       # no listener: RST from the server
    ("tcp", SERVERS, 9200, "refused", 1),       # router: reject with tcp reset
    ("tcp", SERVERS, 9300, "refused", 1),       # router: ICMP port unreachable
    ("tcp", SERVERS, 9301, "unreachable", 1),   # router: ICMP admin prohibited
    ("tcp", SERVERS, 9400, "timeout", 1),       # router: drop
    ("udp", SERVERS, 5300, "answered", 1),      # Python UDP responder
    ("udp", SERVERS, 5301, "refused", 1),       # closed: ICMP port unreachable
]


def outcome_of(exc):
    if isinstance(exc, socket.timeout):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "unreachable"
    return "error: %r" % (exc,)


def tcp(src, dst, port, timeout):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.bind((src, 0))
        s.connect((dst, port))
        if port == 8080:
            s.sendall(b"GET / HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n")
        else:
            s.sendall(b"hello\n")
        # Both servers close first once they have answered.
        while s.recv(4096):
            pass
    return "answered"


def udp(src, dst, port, timeout):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.bind((src, 0))
        s.connect((dst, port))
        s.send(b"hello")
        s.recv(4096)
    return "answered"


def attempt(src, proto, dst, port, timeout):
    try:
        return (udp if proto == "udp" else tcp)(src, dst, port, timeout)
    except OSError as exc:
        return outcome_of(exc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", action="append", required=True, help="client address (repeat)")
    ap.add_argument("--timeout", type=float, default=1.5)
    args = ap.parse_args()
    jobs = [(src, proto, dst, port, want)
            for src in args.src
            for proto, dst, port, want, n in PLAN
            for _ in range(n)]
    bad = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=64) as pool:
        results = pool.map(lambda j: attempt(j[0], j[1], j[2], j[3], args.timeout), jobs)
        for (src, proto, dst, port, want), got in zip(jobs, results):
            if got != want:
                bad += 1
                print("%s %s -> %s:%d: %s, expected %s" % (proto, src, dst, port, got, want))
    print("%d connections, %d not as expected" % (len(jobs), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
