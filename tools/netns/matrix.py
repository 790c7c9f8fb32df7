#!/usr/bin/env python3
"""TCP/UDP listeners and one-shot probes for the port-matrix capture.

The probe exits 0 only when the outcome is the expected one, so the
generator fails loudly if the firewall or a listener misbehaves.
"""

import argparse
import asyncio
import errno
import socket
import sys


def endpoint(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


class UdpResponder(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(b"ACK " + data, addr)


async def serve(args):
    async def on_tcp(reader, writer):
        # These listeners sit behind DROP/REJECT rules: they exist so that
        # every answer in the capture provably comes from the firewall and
        # not from a closed port. If a rule is ever loosened, answer and
        # hang up so nothing lingers.
        writer.write(b"ready\n")
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    loop = asyncio.get_running_loop()
    servers = []
    for host, port in map(endpoint, args.tcp):
        servers.append(await asyncio.start_server(on_tcp, host, port))
    for host, port in map(endpoint, args.udp):
        await loop.create_datagram_endpoint(UdpResponder, local_addr=(host, port))
    print("listening", flush=True)
    await asyncio.Future()


def http_get(s, path, host):
    request = ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
               % (path, host))
    s.sendall(request.encode())
    data = b""
    # Connection: close makes the server send its FIN first, which keeps
    # the teardown order the same on every run.
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    print(data.split(b"\r\n", 1)[0].decode(), flush=True)


def probe_tcp(args):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((args.src, args.sport))
        s.settimeout(args.timeout)
        try:
            s.connect((args.dst, args.dport))
        except socket.timeout:
            return "timeout"
        except ConnectionRefusedError:
            return "refused"
        except OSError as e:
            if e.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
                return "unreachable"
            raise
        if args.http is not None:
            http_get(s, args.http, args.dst)
        return "connected"


def probe_udp(args):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((args.src, args.sport))
        s.settimeout(args.timeout)
        s.sendto(args.payload.encode(), (args.dst, args.dport))
        try:
            data, _ = s.recvfrom(2048)
        except socket.timeout:
            return "timeout"
    print(data.decode(errors="replace"), flush=True)
    return "reply"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--tcp", action="append", default=[], metavar="ADDR:PORT")
    s.add_argument("--udp", action="append", default=[], metavar="ADDR:PORT")
    for proto in ("tcp", "udp"):
        q = sub.add_parser(proto)
        q.add_argument("--src", required=True)
        q.add_argument("--sport", type=int, required=True)
        q.add_argument("--dst", required=True)
        q.add_argument("--dport", type=int, required=True)
        q.add_argument("--timeout", type=float, default=5.0)
        q.add_argument("--expect", required=True)
        if proto == "tcp":
            q.add_argument("--http", metavar="PATH")
        else:
            q.add_argument("--payload", default="probe")
    args = p.parse_args()
    if args.cmd == "serve":
        asyncio.run(serve(args))
        return 0
    outcome = probe_tcp(args) if args.cmd == "tcp" else probe_udp(args)
    print("%s %s:%d -> %s:%d %s" % (args.cmd, args.src, args.sport, args.dst,
                                    args.dport, outcome), flush=True)
    if outcome != args.expect:
        print("expected %s" % args.expect, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
