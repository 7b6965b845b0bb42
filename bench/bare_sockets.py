"""The bare baseline for bench/sockets.py: a websockets server that holds
sockets and does the least a chat socket must: send a ``welcome`` on open and
answer each ``{"type": "ping"}`` with a ``pong``. No database, no channel
layer, no authentication.

    python bench/bare_sockets.py --port 9001

Compression is off, as in daphne (it does not negotiate permessage-deflate),
so the two hold the same bytes per socket. Keepalive pings at the protocol
level stay at their default, every 20 s, as daphne's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal

from websockets.asyncio.server import ServerConnection, serve

WELCOME = json.dumps({"type": "welcome"})
PONG = json.dumps({"type": "pong", "tickets": {}})


async def handler(ws: ServerConnection) -> None:
    await ws.send(WELCOME)
    async for text in ws:
        if json.loads(text).get("type") == "ping":
            await ws.send(PONG)


async def run(port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with serve(handler, "127.0.0.1", port, compression=None):
        print(f"bare sockets on ws://127.0.0.1:{port}/", flush=True)
        await stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(run(parser.parse_args().port))


if __name__ == "__main__":
    main()
