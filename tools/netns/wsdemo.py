#!/usr/bin/env python3
"""WebSocket echo server and scripted clients for tools/netns-captures.sh.

Every run of a client mode produces the same sequence of frames, so the
captures differ only in timestamps, sequence numbers and masking keys.
Compression is off so message payloads stay readable on the wire.
"""

import argparse
import asyncio
import socket
import ssl
import struct
import sys

import websockets
from websockets.exceptions import ConnectionClosed


def log(msg):
    # The generator polls these lines to know where the client is.
    print(msg, flush=True)


def abort(ws):
    # Linger 0: close() sends a RST instead of a FIN, as a server that gives
    # up on a peer without a goodbye does.
    sock = ws.transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ws.transport.abort()
    log("aborted")


async def serve(args):
    async def handler(ws):
        try:
            await ws.send("hello from server")
            while True:
                # abort_after: the client has been silent that long.
                msg = await asyncio.wait_for(ws.recv(), args.abort_after or None)
                await ws.send("echo: " + msg)
        except asyncio.TimeoutError:
            abort(ws)
        except ConnectionClosed:
            # Abnormal closes (proxy timeouts, resets) are the point of
            # several scenarios, not server errors.
            pass

    # ping_interval=None: only the client decides whether pings are sent.
    async with websockets.serve(handler, args.host, args.port,
                                ping_interval=None, compression=None):
        log("listening")
        await asyncio.Future()


async def exchange(ws, count, gap):
    log("greeting: " + await ws.recv())
    for i in range(1, count + 1):
        # The gap outlasts the delayed-ACK timer, so every reply is acked by
        # a segment of its own instead of racing the next message.
        await asyncio.sleep(gap)
        await ws.send("message %d" % i)
        log("reply: " + await ws.recv())


async def wait_for_end(ws, seconds):
    try:
        reply = await asyncio.wait_for(ws.recv(), seconds)
        log("unexpected reply: " + reply)
        return 1
    except ConnectionClosed as e:
        log("closed by peer: code=%d" % e.code)
        return 0
    except asyncio.TimeoutError:
        log("no reply after %g s" % seconds)
        return 0


async def client(args):
    scheme, ctx = "ws", None
    if args.tls:
        # A throw-away certificate made at run time: nothing to verify.
        scheme, ctx = "wss", ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    uri = "%s://%s:%d%s" % (scheme, args.host, args.port, args.path)
    ping = args.ping_interval if args.ping_interval > 0 else None
    # A fixed source address and port keep the flow key identical between
    # runs, so the README can name the exact endpoints.
    ws = await websockets.connect(uri, local_addr=(args.src, args.sport),
                                  ssl=ctx,
                                  ping_interval=ping, ping_timeout=5,
                                  compression=None, close_timeout=5)
    log("connected")
    await exchange(ws, args.messages, args.gap)
    log("exchanged")
    if args.mode == "clean":
        await asyncio.sleep(args.idle)
        await ws.close(1000, "done")
        log("closed clean: code=%d" % ws.close_code)
        return 0
    if args.mode == "await-close":
        return await wait_for_end(ws, args.wait)
    if args.mode == "send-after-idle":
        await asyncio.sleep(args.idle)
        await ws.send("after idle")
        log("sent after idle")
        return await wait_for_end(ws, args.wait)
    # "hold": stay connected until the generator kills the process.
    await asyncio.Future()
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("server")
    s.add_argument("--host", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--abort-after", type=float, default=0.0,
                   help="reset a connection whose client is silent this long")
    c = sub.add_parser("client")
    c.add_argument("--host", required=True)
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--path", default="/ws")
    c.add_argument("--src", required=True)
    c.add_argument("--sport", type=int, required=True)
    c.add_argument("--mode", required=True,
                   choices=["clean", "await-close", "send-after-idle", "hold"])
    c.add_argument("--messages", type=int, default=3)
    c.add_argument("--gap", type=float, default=0.2)
    c.add_argument("--idle", type=float, default=0.0)
    c.add_argument("--wait", type=float, default=20.0)
    c.add_argument("--ping-interval", type=float, default=0.0)
    c.add_argument("--tls", action="store_true", help="wss:// (no verification)")
    args = p.parse_args()
    if args.cmd == "server":
        asyncio.run(serve(args))
        return 0
    return asyncio.run(client(args))


if __name__ == "__main__":
    sys.exit(main())
