#!/usr/bin/env python3
"""One TCP connection attempt that must end the expected way.

Exits 0 only when the outcome (connected, refused, timeout) is the expected
one, so a test fails loudly when a firewall rule or a listener misbehaves.
A connection reads until the server hangs up before closing: the server's
FIN always comes first and the flow always ends SF (closing with unread
data would send a RST instead).
"""

import argparse
import socket
import sys


def attempt(args):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((args.src, 0))
        s.settimeout(args.timeout)
        try:
            s.connect((args.dst, args.dport))
        except socket.timeout:
            return "timeout"
        except ConnectionRefusedError:
            return "refused"
        while s.recv(4096):
            pass
        return "connected"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--dport", type=int, required=True)
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("--expect", required=True,
                   choices=["connected", "refused", "timeout"])
    args = p.parse_args()
    outcome = attempt(args)
    print("tcp %s -> %s:%d %s" % (args.src, args.dst, args.dport, outcome),
          flush=True)
    if outcome != args.expect:
        print("expected %s" % args.expect, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
