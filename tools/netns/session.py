#!/usr/bin/env python3
"""Long-lived session client and TCP/UDP relay for tools/netns-lab.sh.

"session" holds one TLS control connection and one UDP stream to the same
server port for a few seconds, as a PCoIP client does (TCP 4172 control,
UDP 4172 user data); the server side is `matrix.py serve --echo-tls --udp`.
"idle" is a TLS session (an RDP user's) that exchanges a few lines, goes
idle, then sends one more and waits for its echo.
"relay" forwards TCP connections and a UDP stream to a backend, as the
PCoIP Security Gateway (or the HySecure gateway) does; its UDP leg leaves
from a fixed source port (the gateway's UDP 55000).
"""

import argparse
import asyncio
import ssl
import sys

from matrix import endpoint


def log(msg):
    print(msg, flush=True)


class UdpCounter(asyncio.DatagramProtocol):
    def __init__(self):
        self.replies = 0

    def datagram_received(self, data, addr):
        self.replies += 1


def connect_tls(args, sport):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return asyncio.open_connection(args.dst, args.port, ssl=ctx,
                                   local_addr=(args.src, sport))


async def idle_session(args):
    reader, writer = await connect_tls(args, args.sport)
    log("connected")
    for i in range(1, args.messages + 1):
        await asyncio.sleep(0.2)
        writer.write(b"RDP input %d\n" % i)
        await writer.drain()
        log("reply: " + (await reader.readline()).decode().strip())
    log("exchanged")
    await asyncio.sleep(args.idle)
    writer.write(b"RDP input after idle\n")
    await writer.drain()
    log("sent after idle")
    try:
        line = await asyncio.wait_for(reader.readline(), args.wait)
        log("reply after idle: " + line.decode().strip())
    except asyncio.TimeoutError:
        log("no reply after %g s" % args.wait)
    # Stay connected: the generator ends the process after the capture.
    await asyncio.Future()


async def session(args):
    reader, writer = await connect_tls(args, args.tcp_sport)
    log("control connected")
    loop = asyncio.get_running_loop()
    udp, counter = await loop.create_datagram_endpoint(
        UdpCounter, local_addr=(args.src, args.udp_sport),
        remote_addr=(args.dst, args.port))
    echoes = 0
    ticks = int(args.seconds / args.interval)
    for i in range(ticks):
        udp.sendto(b"PCoIP media %04d " % i + b"x" * 64)
        if i % 4 == 0:
            writer.write(b"PCoIP control %d\n" % i)
            await writer.drain()
            if (await reader.readline()).startswith(b"echo"):
                echoes += 1
        await asyncio.sleep(args.interval)
    await asyncio.sleep(0.2)
    udp.close()
    writer.close()
    await writer.wait_closed()
    log("session ended: control echoes=%d udp sent=%d replies=%d"
        % (echoes, ticks, counter.replies))
    return 0 if echoes and counter.replies == ticks else 1


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


class UdpRelay(asyncio.DatagramProtocol):
    """Client side of the UDP relay: datagrams go out through `upstream`."""

    def __init__(self, upstream_factory):
        self.upstream_factory = upstream_factory
        self.upstream = None
        self.peer = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.peer = addr
        if self.upstream is None:
            self.upstream = asyncio.ensure_future(self.upstream_factory(self))
            self.upstream.add_done_callback(lambda f: f.result()[0].sendto(data))
        elif self.upstream.done():
            self.upstream.result()[0].sendto(data)


class UdpBack(asyncio.DatagramProtocol):
    def __init__(self, relay):
        self.relay = relay

    def datagram_received(self, data, addr):
        self.relay.transport.sendto(data, self.relay.peer)


async def relay(args):
    loop = asyncio.get_running_loop()
    for spec in args.tcp:
        listen, target = spec.split("=")
        thost, tport = endpoint(target)

        async def on_conn(reader, writer, thost=thost, tport=tport):
            ureader, uwriter = await asyncio.open_connection(thost, tport)
            await asyncio.gather(pipe(reader, uwriter), pipe(ureader, writer),
                                 return_exceptions=True)

        await asyncio.start_server(on_conn, *endpoint(listen))
    for spec in args.udp:
        listen, rest = spec.split("=")
        target, bind = rest.split("@")

        def upstream(rel, target=endpoint(target), bind=endpoint(bind)):
            return loop.create_datagram_endpoint(
                lambda: UdpBack(rel), local_addr=bind, remote_addr=target)

        await loop.create_datagram_endpoint(lambda up=upstream: UdpRelay(up),
                                            local_addr=endpoint(listen))
    log("relaying")
    await asyncio.Future()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("session")
    s.add_argument("--src", required=True)
    s.add_argument("--tcp-sport", type=int, required=True)
    s.add_argument("--udp-sport", type=int, required=True)
    s.add_argument("--dst", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--seconds", type=float, default=3.0)
    s.add_argument("--interval", type=float, default=0.25)
    i = sub.add_parser("idle")
    i.add_argument("--src", required=True)
    i.add_argument("--sport", type=int, required=True)
    i.add_argument("--dst", required=True)
    i.add_argument("--port", type=int, required=True)
    i.add_argument("--messages", type=int, default=2)
    i.add_argument("--idle", type=float, default=6.0)
    i.add_argument("--wait", type=float, default=30.0)
    r = sub.add_parser("relay")
    r.add_argument("--tcp", action="append", default=[],
                   metavar="LISTEN:PORT=TARGET:PORT")
    r.add_argument("--udp", action="append", default=[],
                   metavar="LISTEN:PORT=TARGET:PORT@BIND:PORT")
    args = p.parse_args()
    if args.cmd == "relay":
        asyncio.run(relay(args))
        return 0
    if args.cmd == "idle":
        return asyncio.run(idle_session(args))
    return asyncio.run(session(args))


if __name__ == "__main__":
    sys.exit(main())
