#!/usr/bin/env python3
"""TCP/UDP listeners and one-shot probes for the port-matrix captures.

The probe exits 0 only when the outcome is the expected one, so the
generator fails loudly if the firewall or a listener misbehaves. Used by
tools/netns-captures.sh and tools/netns-lab.sh.
"""

import argparse
import asyncio
import errno
import socket
import ssl
import sys


def endpoint(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


class UdpResponder(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(b"ACK " + data, addr)


class UdpSink(asyncio.DatagramProtocol):
    """Receives and never answers (syslog, log shipping)."""

    def datagram_received(self, data, addr):
        print("received %d bytes from %s:%d" % (len(data), *addr), flush=True)


def server_tls(args):
    if not args.cert:
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.cert, args.key)
    return ctx


async def serve(args):
    async def on_tcp(reader, writer):
        # Behind DROP/REJECT rules these listeners prove that every answer
        # in the capture comes from the firewall and not from a closed
        # port. Where the firewall lets the client through, the client
        # speaks first (one line, as LDAP, TDS or HTTPS clients do); the
        # server answers one line and hangs up, so its FIN comes first.
        try:
            request = await asyncio.wait_for(reader.readline(), 2)
        except asyncio.TimeoutError:
            request = b""
        writer.write(b"ready " + request.strip()[:40] + b"\n")
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    async def on_echo(reader, writer):
        # Long-lived sessions: every line comes back until the client
        # closes.
        while line := await reader.readline():
            writer.write(b"echo " + line)
            await writer.drain()
        writer.close()

    loop = asyncio.get_running_loop()
    tls = server_tls(args)
    servers = []
    for handler, plain, secure in ((on_tcp, args.tcp, args.tls),
                                   (on_echo, args.echo, args.echo_tls)):
        for host, port in map(endpoint, plain):
            servers.append(await asyncio.start_server(handler, host, port))
        for host, port in map(endpoint, secure):
            servers.append(await asyncio.start_server(handler, host, port, ssl=tls))
    for proto, where in ((UdpResponder, args.udp), (UdpSink, args.udp_sink)):
        for host, port in map(endpoint, where):
            await loop.create_datagram_endpoint(proto, local_addr=(host, port))
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
        if args.tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            s = ctx.wrap_socket(s)
        if args.http is not None:
            http_get(s, args.http, args.dst)
        elif args.send is not None:
            s.sendall(args.send.encode() + b"\n")
            data = b""
            while chunk := s.recv(4096):
                data += chunk
            print(data.decode(errors="replace").strip(), flush=True)
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
    s.add_argument("--tls", action="append", default=[], metavar="ADDR:PORT")
    s.add_argument("--echo", action="append", default=[], metavar="ADDR:PORT")
    s.add_argument("--echo-tls", action="append", default=[], metavar="ADDR:PORT")
    s.add_argument("--udp-sink", action="append", default=[], metavar="ADDR:PORT")
    s.add_argument("--cert", help="PEM certificate for the TLS listeners")
    s.add_argument("--key", help="PEM key for the TLS listeners")
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
            q.add_argument("--send", metavar="LINE",
                           help="send one line, read the answer until EOF")
            q.add_argument("--tls", action="store_true",
                           help="TLS handshake once connected (no verification)")
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
