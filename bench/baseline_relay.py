"""The bare baseline for bench/chat_latency.py: a minimal websockets relay that
does what the desk must do at the least for one customer message, and nothing
else: store it in PostgreSQL (lock the ticket row, take the next seq, insert
the row, commit), acknowledge it, and pass it to the paired agent's socket.

    python bench/baseline_relay.py --port 9000 --database-url postgres://postgres@127.0.0.1:5432/helpdesk_bench

Customers connect to /customer/<ticket>, agents to /agent/<ticket>. A customer
sends {"client_msg_id", "body"}; it gets {"type": "ack", "client_msg_id",
"id", "seq"} and the agent gets {"type": "message", "ticket", "id", "seq",
"client_msg_id", "body"}. Tables are made by ``schema_create``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from websockets.asyncio.server import ServerConnection, serve

SCHEMA = """
CREATE TABLE IF NOT EXISTS baseline_ticket (id integer PRIMARY KEY, last_seq integer NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS baseline_message (
    id bigserial PRIMARY KEY,
    ticket_id integer NOT NULL REFERENCES baseline_ticket (id),
    seq integer NOT NULL,
    client_msg_id varchar(64) NOT NULL,
    body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (ticket_id, seq),
    UNIQUE (ticket_id, client_msg_id)
);
"""


def schema_create(database_url: str, tickets: range) -> None:
    """Fresh tables with one ticket row per id in ``tickets``."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS baseline_message, baseline_ticket")
        conn.execute(SCHEMA)
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO baseline_ticket (id) VALUES (%s)", [(t,) for t in tickets])


class Pool:
    """A fixed set of connections handed out one at a time."""

    def __init__(self, database_url: str, size: int):
        self.database_url, self.size = database_url, size
        self.free: asyncio.Queue[psycopg.AsyncConnection] = asyncio.Queue()

    async def open(self) -> None:
        for _ in range(self.size):
            self.free.put_nowait(await psycopg.AsyncConnection.connect(self.database_url))

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        conn = await self.free.get()
        try:
            yield conn
        finally:
            self.free.put_nowait(conn)


async def message_store(pool: Pool, ticket: int, client_msg_id: str, body: str) -> tuple[int, int]:
    """(id, seq) of the stored message; a known client_msg_id returns the original."""
    async with pool.connection() as conn, conn.transaction():
        cur = await conn.execute("SELECT last_seq FROM baseline_ticket WHERE id = %s FOR UPDATE", (ticket,))
        (last_seq,) = await cur.fetchone() or (0,)
        cur = await conn.execute(
            "SELECT id, seq FROM baseline_message WHERE ticket_id = %s AND client_msg_id = %s", (ticket, client_msg_id)
        )
        if (known := await cur.fetchone()) is not None:
            return known[0], known[1]
        await conn.execute("UPDATE baseline_ticket SET last_seq = %s WHERE id = %s", (last_seq + 1, ticket))
        cur = await conn.execute(
            "INSERT INTO baseline_message (ticket_id, seq, client_msg_id, body) VALUES (%s, %s, %s, %s) RETURNING id",
            (ticket, last_seq + 1, client_msg_id, body),
        )
        row = await cur.fetchone()
        assert row is not None
        return row[0], last_seq + 1


async def relay(port: int, database_url: str, pool_size: int) -> None:
    pool = Pool(database_url, pool_size)
    await pool.open()
    agents: dict[int, ServerConnection] = {}

    async def handler(ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else ""
        role, _, ticket_text = path.strip("/").partition("/")
        ticket = int(ticket_text)
        if role == "agent":
            agents[ticket] = ws
            await ws.wait_closed()
            agents.pop(ticket, None)
            return
        async for text in ws:
            frame = json.loads(text)
            message_id, seq = await message_store(pool, ticket, frame["client_msg_id"], frame["body"])
            await ws.send(
                json.dumps({"type": "ack", "client_msg_id": frame["client_msg_id"], "id": message_id, "seq": seq})
            )
            agent = agents.get(ticket)
            if agent is not None:
                outgoing = {"type": "message", "ticket": ticket, "id": message_id, "seq": seq, **frame}
                await agent.send(json.dumps(outgoing))

    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with serve(handler, "127.0.0.1", port, compression=None, max_queue=None):
        print(f"baseline relay on ws://127.0.0.1:{port}/", flush=True)
        await stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--pool", type=int, default=6, help="PostgreSQL connections (default: 6, as daphne's threads)")
    args = parser.parse_args()
    asyncio.run(relay(args.port, args.database_url, args.pool))


if __name__ == "__main__":
    main()
