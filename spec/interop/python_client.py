#!/usr/bin/python3
"""Interop client for strictws on Python's websockets (Debian python3-websockets 10.x).

Run with /usr/bin/python3 (the interpreter python3-websockets installs for).
Reads one JSON command per line on stdin and writes one JSON answer per line
on stdout, so spec/interop/python.test.ts runs the shared case table through it:

  {"id": 1, "op": "exchange", "args": {"url": ..., "messages": [...], "expected": 3}}
  -> {"id": 1, "ok": true, "result": [...]}   or   {"id": 1, "ok": false, "error": "..."}

Messages are {"type": "text", "text": ...} or {"type": "binary", "base64": ...}.
The first line written is {"ready": true, "websockets": "<version>"}.
"""
import asyncio
import base64
import json
import sys

import websockets


def to_wire(message):
    if isinstance(message, str):
        return {"type": "text", "text": message}
    return {"type": "binary", "base64": base64.b64encode(message).decode("ascii")}


def from_wire(message):
    if message["type"] == "text":
        return message["text"]
    return base64.b64decode(message["base64"])


def connect(url):
    # No size cap (1 MiB messages), no keepalive pings of our own; the default
    # permessage-deflate offer stays: strictws echo declines it, and
    # strictws echo --deflate accepts it.
    return websockets.connect(url, max_size=None, ping_interval=None, open_timeout=10, close_timeout=10)


async def exchange(url, messages, expected):
    async with connect(url) as ws:
        for message in messages:
            await ws.send(from_wire(message))
        return [to_wire(await ws.recv()) for _ in range(expected)]
    # Leaving the block closes with 1000 and waits for the server's answer.


async def close_with(url, code, reason):
    async with connect(url) as ws:
        await ws.close(code, reason)
        # What the server's close frame said (RFC 6455 §7.1.5, §7.1.6).
        return {"code": ws.close_code, "reason": ws.close_reason}


async def until_closed(url, messages):
    async with connect(url) as ws:
        received = []
        try:
            for message in messages:
                await ws.send(from_wire(message))
            while True:
                received.append(to_wire(await ws.recv()))
        except websockets.ConnectionClosed:
            pass
        return {"received": received, "close": {"code": ws.close_code, "reason": ws.close_reason}}


async def ping(url, payload):
    data = base64.b64decode(payload)
    async with connect(url) as ws:
        # The waiter resolves only for a pong carrying the same payload.
        waiter = await ws.ping(data)
        await asyncio.wait_for(waiter, 10)
        return {"pong": base64.b64encode(data).decode("ascii")}


async def extensions(url):
    async with connect(url) as ws:
        # Negotiated for real: an extension object is active, and the server's
        # Sec-WebSocket-Extensions header says what was agreed.
        if not ws.extensions:
            return ""
        return ws.response_headers.get("Sec-WebSocket-Extensions", "")


OPS = {"exchange": exchange, "closeWith": close_with, "untilClosed": until_closed, "ping": ping, "extensions": extensions}


def write(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def main():
    loop = asyncio.get_running_loop()
    write({"ready": True, "websockets": websockets.__version__})
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        command = json.loads(line)
        try:
            result = await asyncio.wait_for(OPS[command["op"]](**command["args"]), 30)
            write({"id": command["id"], "ok": True, "result": result})
        except Exception as error:  # reported to the test, which fails with it
            write({"id": command["id"], "ok": False, "error": f"{type(error).__name__}: {error}"})


if __name__ == "__main__":
    asyncio.run(main())
