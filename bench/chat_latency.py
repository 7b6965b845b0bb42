"""Chat latency: how long a customer's message takes to reach the agent's
desk through the real desk (daphne on PostgreSQL + Redis, driven by
chat/client.py), next to a bare websockets relay that does the same
PostgreSQL insert (bench/baseline_relay.py), in the same run.

    .venv/bin/python bench/chat_latency.py --pairs 50 200 --messages 4 --duration 40

It makes a fresh database (helpdesk_bench), migrates it, and per run seeds one
customer, agent, team and open ticket per pair; each pair has its own team so
the figure is the path of one message, not a team-wide fan-out. Every
customer sends --messages messages spread evenly over --duration seconds
(open loop: a slow answer does not slow the sender). Latency is from just
before the customer's send to the agent's receipt of the ``message`` frame;
lost and duplicated messages are checked against the database and what each
agent holds. docs/performance.md has the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.baseline_relay import schema_create  # noqa: E402
from bench.common import database_create  # noqa: E402
from chat.client import AgentClient, CustomerClient  # noqa: E402
from tests.servers import free_port, wait_until_up  # noqa: E402

SHOP_ORIGIN = "http://bench-shop.example"
SECRET_KEY = "bench-only-secret-key-" + "x" * 40
# At most this many clients open their connection at the same time.
CONNECT_CONCURRENCY = 20


@dataclass
class Pair:
    agent_id: int
    agent_session: str
    shop: str
    ticket: int = 0  # opened once the customer's widget has its session


@dataclass
class Sent:
    pair: int
    client_msg_id: str
    started_at: float
    message_id: int | None = None
    error: str = ""


@dataclass
class Result:
    system: str
    pairs: int
    sent: int = 0
    acked: int = 0
    stored: int = 0  # rows in the database
    delivered: int = 0  # held by the paired agent
    lost: int = 0  # sent and never held by the agent
    duplicated: int = 0
    redelivered: int = 0  # frames for a message the receiver already held (merged away)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # why sends failed, once each
    elapsed: float = 0.0  # first send to last receipt

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


# Processes.


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def desk_env(database_url: str, redis_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CHANNEL_LAYER_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",
        "WIDGET_ALLOWED_ORIGINS": SHOP_ORIGIN,
        # The desk's per-connection limit is for people; the bench sends faster.
        "CHAT_RATE_LIMIT_PER_MINUTE": "100000",
        "LOG_LEVEL": "WARNING",
    }


# Seeding (Django ORM in this process, on the bench database).


def seed(pairs: int, tag: str) -> list[Pair]:
    """A shop, and per pair a team with one signed-in agent."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.db import SessionStore

    from helpdesk.customers.services import shop_create
    from helpdesk.tickets.models import Agent, Team

    shop, _ = shop_create(slug=f"bench-{tag}", name=f"Bench {tag}")
    seeded = []
    for i in range(pairs):
        team = Team.objects.create(slug=f"{tag}-team-{i}", name=f"Bench {tag} team {i}")
        user = User.objects.create_user(username=f"{tag}-agent-{i}", first_name=f"Agent {i}")
        agent = Agent.objects.create(user=user)
        agent.teams.set([team])
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        seeded.append(Pair(agent.pk, str(session.session_key), shop.slug))
    return seeded


def tickets_open(pairs: list[Pair], visitor_tokens: list[str]) -> None:
    """Open each pair's ticket for its widget visitor, in the agent's team and
    assigned to them. Runs on a worker thread; closes its connection."""
    from django.db import connection

    from chat.models import Visitor, visitor_token_digest
    from helpdesk.tickets.models import Agent, TicketChannel
    from helpdesk.tickets.services import ticket_assign, ticket_open

    try:
        for pair, token in zip(pairs, visitor_tokens, strict=True):
            visitor = Visitor.objects.select_related("customer").get(token_digest=visitor_token_digest(token))
            agent = Agent.objects.get(pk=pair.agent_id)
            ticket = ticket_open(
                customer=visitor.customer,
                subject="Bench",
                channel=TicketChannel.CHAT,
                body="Hello",
                team=agent.teams.get(),
            )
            ticket_assign(ticket=ticket, actor=None, assignee=agent)
            pair.ticket = ticket.pk
    finally:
        connection.close()


def desk_check(result: Result, pairs: list[Pair]) -> None:
    """What the database holds of the run: customer messages with a client id
    (the seeded opening message has none), and any client id stored twice."""
    from helpdesk.tickets.models import Message

    cids = Message.objects.filter(ticket_id__in=[p.ticket for p in pairs], client_msg_id__isnull=False).values_list(
        "client_msg_id", flat=True
    )
    stored = Counter(cids)
    result.stored = sum(stored.values())
    result.duplicated += sum(n - 1 for n in stored.values() if n > 1)


def baseline_check(result: Result, database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT client_msg_id, count(*) FROM baseline_message GROUP BY client_msg_id").fetchall()
    result.stored = sum(n for _, n in rows)
    result.duplicated += sum(n - 1 for _, n in rows if n > 1)


# Load.


async def gather_limited(factories: Sequence[Callable[[], Awaitable[Any]]], limit: int) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(factory: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await factory()

    return await asyncio.gather(*(one(f) for f in factories))


async def drive(
    pairs: int,
    messages: int,
    duration: float,
    send: Callable[[int, str], Awaitable[tuple[str, int]]],
    grace: float,
) -> list[Sent]:
    """Every pair sends ``messages`` messages evenly over ``duration`` seconds,
    from a random offset, without waiting for answers in between."""
    interval = duration / messages
    start = time.monotonic() + 0.5
    sent: list[Sent] = []

    async def one(pair: int, k: int, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        record = Sent(pair, "", time.monotonic())
        sent.append(record)
        try:
            record.client_msg_id, record.message_id = await asyncio.wait_for(
                send(pair, f"pair {pair} message {k}"), grace + duration
            )
        except Exception as error:  # counted as lost below
            record.error = repr(error)

    offsets = [random.uniform(0, interval) for _ in range(pairs)]
    await asyncio.gather(*(one(p, k, start + offsets[p] + k * interval) for p in range(pairs) for k in range(messages)))
    return sent


def acked(sent: list[Sent]) -> list[Sent]:
    return [s for s in sent if s.message_id is not None]


def measure(result: Result, sent: list[Sent], received: Callable[[Sent], float | None]) -> None:
    result.sent = len(sent)
    result.acked = len(acked(sent))
    result.errors = sorted({s.error for s in sent if s.error})
    first = min(s.started_at for s in sent)
    last = first
    for record in sent:
        at = received(record)
        if at is None:
            result.lost += 1
            continue
        result.delivered += 1
        result.latencies.append(at - record.started_at)
        last = max(last, at)
    result.elapsed = last - first


async def desk_run(servers: list[str], pairs: list[Pair], messages: int, duration: float, grace: float) -> Result:
    n = len(pairs)
    result = Result("desk", n)
    agents = [AgentClient(servers[(i + 1) % len(servers)], session_id=p.agent_session) for i, p in enumerate(pairs)]
    # Anonymous visitors: a signed-in customer's session (identity) would do as well.
    customers = [
        CustomerClient(servers[i % len(servers)], shop=p.shop, origin=SHOP_ORIGIN) for i, p in enumerate(pairs)
    ]
    await gather_limited([a.start for a in agents], CONNECT_CONCURRENCY)
    await gather_limited([c.start for c in customers], CONNECT_CONCURRENCY)
    await asyncio.to_thread(tickets_open, pairs, [c.visitor_token for c in customers])
    await gather_limited(
        [partial(a.subscribe, p.ticket, timeout=60) for a, p in zip(agents, pairs, strict=True)],
        CONNECT_CONCURRENCY,
    )

    async def send(pair: int, body: str) -> tuple[str, int]:
        ack = await customers[pair].send(body, ticket=pairs[pair].ticket)
        return ack["client_msg_id"], ack["id"]

    try:
        sent = await drive(n, messages, duration, send, grace)

        def held() -> list[dict[int, Any]]:
            return [{m.id: m for m in a.messages(p.ticket)} for a, p in zip(agents, pairs, strict=True)]

        deadline = time.monotonic() + grace
        holding = held()
        while time.monotonic() < deadline and any(s.message_id not in holding[s.pair] for s in acked(sent)):
            await asyncio.sleep(0.2)
            holding = held()

        def received(s: Sent) -> float | None:
            message = holding[s.pair].get(s.message_id or -1)
            return message.received_at if message else None

        measure(result, sent, received)
        for agent_held in holding:
            counts = Counter(m.client_msg_id for m in agent_held.values() if m.client_msg_id)
            result.duplicated += sum(c - 1 for c in counts.values() if c > 1)
        result.redelivered = sum(a.duplicates_ignored for a in agents)
    finally:
        await asyncio.gather(*(c.close() for c in [*customers, *agents]))
    return result


class BaselineAgent:
    def __init__(self, ws: ClientConnection):
        self.ws = ws
        self.received: dict[int, float] = {}
        self.redelivered = 0
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        async for text in self.ws:
            at = time.monotonic()
            frame = json.loads(text)
            if frame["id"] in self.received:
                self.redelivered += 1
            self.received.setdefault(frame["id"], at)


class BaselineCustomer:
    def __init__(self, ws: ClientConnection):
        self.ws = ws
        self.acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        async for text in self.ws:
            frame = json.loads(text)
            self.acks.pop(frame["client_msg_id"]).set_result(frame)

    async def send(self, body: str) -> tuple[str, int]:
        cid = str(uuid.uuid4())
        self.acks[cid] = asyncio.get_running_loop().create_future()
        await self.ws.send(json.dumps({"client_msg_id": cid, "body": body}))
        ack = await self.acks[cid]
        return cid, ack["id"]


async def baseline_run(url: str, pairs: int, messages: int, duration: float, grace: float) -> Result:
    result = Result("baseline", pairs)

    async def open_agent(i: int) -> BaselineAgent:
        return BaselineAgent(await connect(f"{url}/agent/{i + 1}", proxy=None))

    async def open_customer(i: int) -> BaselineCustomer:
        return BaselineCustomer(await connect(f"{url}/customer/{i + 1}", proxy=None))

    agents = await gather_limited([partial(open_agent, i) for i in range(pairs)], CONNECT_CONCURRENCY)
    customers = await gather_limited([partial(open_customer, i) for i in range(pairs)], CONNECT_CONCURRENCY)
    try:

        async def send(pair: int, body: str) -> tuple[str, int]:
            result: tuple[str, int] = await customers[pair].send(body)
            return result

        sent = await drive(pairs, messages, duration, send, grace)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(s.message_id not in agents[s.pair].received for s in acked(sent)):
            await asyncio.sleep(0.2)

        def received(s: Sent) -> float | None:
            return agents[s.pair].received.get(s.message_id or -1)

        measure(result, sent, received)
        result.redelivered = sum(a.redelivered for a in agents)
    finally:
        for client in [*agents, *customers]:
            client.reader.cancel()
            await client.ws.close()
    return result


# The run.


def print_table(results: list[Result]) -> None:
    # redeliv: frames for a message the agent already held (merged by id);
    # msgs/s: messages delivered per second, from the first send to the last receipt.
    header = ["system", "pairs", "sent", "acked", "stored", "delivered", "lost", "dup", "redeliv"]
    header += ["p50 ms", "p99 ms", "msgs/s"]
    rows = [
        (
            r.system,
            str(r.pairs),
            str(r.sent),
            str(r.acked),
            str(r.stored),
            str(r.delivered),
            str(r.lost),
            str(r.duplicated),
            str(r.redelivered),
            f"{r.percentile(50):.1f}",
            f"{r.percentile(99):.1f}",
            f"{r.delivered / r.elapsed:.0f}" if r.elapsed else "-",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
    for r in results:
        for error in r.errors:
            print(f"{r.system} {r.pairs}: a send failed: {error}")
    print()
    by_pairs: dict[int, dict[str, Result]] = {}
    for r in results:
        by_pairs.setdefault(r.pairs, {})[r.system] = r
    print("pairs  p50 desk/baseline  p99 desk/baseline")
    for n, runs in by_pairs.items():
        desk, base = runs.get("desk"), runs.get("baseline")
        if desk and base:
            p50 = desk.percentile(50) / base.percentile(50)
            p99 = desk.percentile(99) / base.percentile(99)
            print(f"{n:5d}  {p50:17.1f}  {p99:17.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, nargs="+", default=[50, 200], help="customer/agent pairs per run")
    parser.add_argument("--messages", type=int, default=4, help="messages each customer sends (default: 4)")
    parser.add_argument("--duration", type=float, default=40, help="seconds the sending is spread over (default: 40)")
    parser.add_argument(
        "--grace", type=float, default=60, help="seconds to wait for stragglers after the last send (default: 60)"
    )
    parser.add_argument("--servers", type=int, default=1, help="daphne processes; agents use the next one (default: 1)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/"),
        help="the PostgreSQL server (default: $DATABASE_URL, else the local one); its database name is ignored",
    )
    parser.add_argument(
        "--database-name", default="helpdesk_bench", help="the bench's own database, DROPPED and created on every run"
    )
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    # Never the database of the URL: $DATABASE_URL may well be one that matters.
    database_url = urlunsplit(urlsplit(args.database_url)._replace(path="/" + args.database_name))
    logs = Path(tempfile.mkdtemp(prefix="chat-bench-"))

    database_create(database_url)
    env = desk_env(database_url, args.redis_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    # Django here only seeds and checks; its notifications need not reach anyone.
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY", "DATABASE_URL")})
    os.environ["REDIS_URL"] = ""
    import django

    django.setup()

    results: list[Result] = []
    for n in args.pairs:
        tag = f"r{n}-{uuid.uuid4().hex[:4]}"
        pairs = seed(n, tag)
        print(f"{n} pairs: seeded; desk with {args.servers} daphne process(es)...", flush=True)
        ports = [free_port() for _ in range(args.servers)]
        daphnes = [
            spawn(
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "helpdesk.asgi:application"],
                env,
                logs / f"daphne-{n}-{port}.log",
            )
            for port in ports
        ]
        try:
            for port, process in zip(ports, daphnes, strict=True):
                wait_until_up(f"http://127.0.0.1:{port}/healthz", process, timeout=60)
            urls = [f"http://127.0.0.1:{p}" for p in ports]
            desk = asyncio.run(desk_run(urls, pairs, args.messages, args.duration, args.grace))
        finally:
            for process in daphnes:
                stop(process)
        desk_check(desk, pairs)
        results.append(desk)

        print(f"{n} pairs: baseline relay...", flush=True)
        schema_create(database_url, range(1, n + 1))
        port = free_port()
        relay = spawn(
            [
                sys.executable,
                str(ROOT / "bench" / "baseline_relay.py"),
                *("--port", str(port), "--database-url", database_url),
            ],
            env,
            logs / f"baseline-{n}.log",
        )
        try:
            wait_for_port(port, relay)
            base = asyncio.run(baseline_run(f"ws://127.0.0.1:{port}", n, args.messages, args.duration, args.grace))
        finally:
            stop(relay)
        baseline_check(base, database_url)
        results.append(base)

    print()
    print(
        f"{args.messages} messages per pair over {args.duration:.0f} s, {args.servers} daphne process(es), "
        f"offered {max(args.pairs) * args.messages / args.duration:.0f} msgs/s at {max(args.pairs)} pairs, "
        f"{os.cpu_count()} CPUs; logs in {logs}"
    )
    print_table(results)


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} did not open within {timeout}s")


if __name__ == "__main__":
    main()
