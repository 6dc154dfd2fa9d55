#!/usr/bin/python3
"""The Autobahn|Testsuite client driver loop on Python's websockets client
(Debian python3-websockets 10.x; run with /usr/bin/python3):

  autobahn_driver.py ws://127.0.0.1:9001 AGENT

asks /getCaseCount, runs every case echoing each message back as it came,
then /updateReports?agent=AGENT. Prints the case count on stdout.
"""
import asyncio
import sys
import urllib.parse

import websockets


def connect(url):
    # No size cap (Autobahn 9.x sends 16 MiB), no keepalive pings of our own;
    # the default permessage-deflate offer stays (sections 12 and 13 need it).
    return websockets.connect(url, max_size=None, ping_interval=None, open_timeout=10, close_timeout=10)


async def main(base, agent):
    async with connect(base + "/getCaseCount") as ws:
        count = int(await ws.recv())
    quoted = urllib.parse.quote(agent)
    for case in range(1, count + 1):
        try:
            async with connect(f"{base}/runCase?case={case}&agent={quoted}") as ws:
                async for message in ws:
                    await ws.send(message)
        except (websockets.exceptions.WebSocketException, OSError):
            # The client failed the connection, as many cases want: the server gives the verdict.
            pass
    async with connect(f"{base}/updateReports?agent={quoted}") as ws:
        try:
            await ws.recv()
        except websockets.exceptions.ConnectionClosed:
            pass
    print(count)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
