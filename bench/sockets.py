"""Sockets: what one daphne process pays to hold many widget sockets, how it
takes a connect storm and a restart, and whether anything creeps over a soak.
Each part prints a markdown table ready for docs/performance.md.

    .venv/bin/python bench/sockets.py --part all
    .venv/bin/python bench/sockets.py --part idle --sockets 1000 --idle-seconds 30
    .venv/bin/python bench/sockets.py --part storm --storm-sockets 1000 --storm-seconds 10
    .venv/bin/python bench/sockets.py --part reconnect --reconnect-sockets 1000 --signals TERM KILL
    .venv/bin/python bench/sockets.py --part soak --minutes 5     # a real hour: --minutes 60

Parts, each on its own daphne process (PostgreSQL + Redis channel layer, as
bench/chat_latency.py):

- idle: --sockets authenticated widget sockets (a visitor token, a session
  POST, /ws/widget/ as the widget opens them, pinging every 20 s +-25% as
  chat/client.py), held for --idle-seconds: daphne's RSS per socket and its
  CPU while they sit idle, next to bench/bare_sockets.py holding as many.
- storm: --storm-sockets widget opens (session POST, upgrade, welcome) spread
  evenly over --storm-seconds, open loop, each with a --connect-timeout:
  share that succeed, time to welcome p50/p95/max, timeouts; the bare server
  takes the same storm (upgrade and welcome only).
- reconnect: --reconnect-sockets chat/client.py customers held, then daphne
  is stopped (SIGTERM, then a run with SIGKILL) and started again on the same
  port; the clients come back with their own jittered backoff: share back,
  time until all are back, open p95 during the storm, reconnects per second.
- soak: --soak-pairs customer/agent pairs chatting (a message per customer
  every --message-every s), churners connecting and leaving (--churn-rate a
  second, each staying 5-25 s), and one pair socket dropped every
  --drop-every s; daphne RSS, PostgreSQL connections, Redis clients sampled
  every --sample-seconds; lost and duplicated messages at the end.

It DROPS and creates its own database (--database-name, helpdesk_sockets_bench)
and uses a fresh channel-layer prefix in Redis. The session rate limit
(WIDGET_SESSION_RATE_PER_MINUTE) is raised for the bench: every client comes
from 127.0.0.1. The bench's clients run in this one process, on the same
cores as the server: its own CPU is printed next to the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import os
import platform
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg
import redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.chat_latency import (  # noqa: E402
    SHOP_ORIGIN,
    Pair,
    desk_env,
    gather_limited,
    seed,
    spawn,
    stop,
    tickets_open,
    wait_for_port,
)
from bench.common import database_create  # noqa: E402
from chat.client import PING_SECONDS, AgentClient, ChatError, CustomerClient  # noqa: E402
from tests.servers import free_port  # noqa: E402

# Clients opening their socket at the same time while a part sets up (not in the storm).
SETUP_CONCURRENCY = 20
CLK_TCK = os.sysconf("SC_CLK_TCK")


# Numbers and tables.


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def ms(seconds: float) -> str:
    return "-" if seconds != seconds else f"{1000 * seconds:.0f}"  # nan: no value


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], left: int = 1) -> None:
    """A markdown table; the first ``left`` columns are text, the rest numbers."""
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if i < left else "---:" for i in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")
    print()


def machine_load() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"load average {load} on {os.cpu_count()} CPUs"


# The server processes, seen from /proc.


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def threads(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system time of every thread of the process."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime: fields 14, 15 of stat(5)


def sockets_by_remote_port(pid: int) -> Counter[int]:
    """The process's TCP connections, counted by remote port (5432: PostgreSQL, 6379: Redis)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports: Counter[int] = Counter()
    for table_path in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table_path) as lines:
            next(lines)
            for line in lines:
                parts = line.split()
                if parts[9] in inodes and parts[3] == "01":  # ESTABLISHED
                    ports[int(parts[2].rsplit(":", 1)[1], 16)] += 1
    return ports


def redis_info(client: redis.Redis, section: str) -> dict[str, Any]:
    """INFO of one section (the sync client; redis-py types it for both)."""
    info: dict[str, Any] = client.info(section)  # type: ignore[assignment]
    return info


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class Server:
    """One server process on a port: daphne, or the bare baseline."""

    def __init__(self, kind: str, port: int, env: dict[str, str], logs: Path):
        self.kind, self.port, self.env, self.logs = kind, port, env, logs
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, *, healthy: bool = True) -> float:
        """Start and wait until /healthz answers 200 (``healthy``) or the port
        is open; returns when (monotonic) it did."""
        self.starts += 1
        log = self.logs / f"{self.kind}-{self.port}-{self.starts}.log"
        if self.kind == "desk":
            args = [
                sys.executable,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "helpdesk.asgi:application",
            ]
            self.process = spawn(args, self.env, log)
            if healthy:
                self.wait_healthy(timeout=120)
            else:
                wait_for_port(self.port, self.process, timeout=120)
        else:
            args = [sys.executable, str(ROOT / "bench" / "bare_sockets.py"), "--port", str(self.port)]
            self.process = spawn(args, self.env, log)
            wait_for_port(self.port, self.process, timeout=60)
        return time.monotonic()

    def wait_healthy(self, timeout: float) -> None:
        """Until /healthz answers 200 (tests.servers.wait_until_up, saying why not)."""
        assert self.process is not None
        deadline, problem = time.monotonic() + timeout, ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.process.returncode}; see {self.logs}")
            try:
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
                with opener.open(f"{self.base_url}/healthz", timeout=5):
                    return
            except OSError as error:
                problem = repr(error)
                time.sleep(0.2)
        raise RuntimeError(f"{self.base_url}/healthz did not answer within {timeout}s: {problem}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop(self.process)

    def log_problems(self) -> str:
        """What went wrong inside the server, from its logs."""
        text = "".join(p.read_text(errors="replace") for p in self.logs.glob(f"{self.kind}-{self.port}-*.log"))
        found = {
            "HTTP 500s": text.count("Internal Server Error"),
            "'too many clients' from PostgreSQL": text.count("too many clients"),
            "tracebacks": text.count("Traceback"),
            "sockets dropped over CHAT_MAX_OUTBOUND_BYTES": text.count("over CHAT_MAX_OUTBOUND_BYTES"),
        }
        said = ", ".join(f"{n} {what}" for what, n in found.items() if n)
        return f"{self.kind} server log: {said or 'no errors'}"

    def kill(self, sig: signal.Signals) -> None:
        """Send ``sig`` and wait for the process to go (SIGKILL after 30 s)."""
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


# Clients.


async def post_json(base_url: str, path: str, body: dict[str, Any], origin: str) -> tuple[int, dict[str, Any]]:
    """One HTTP/1.1 POST on its own connection, without a thread (1,000 of
    them at once would not fit a thread pool). Network and protocol problems
    are OSErrors, which the clients retry."""
    parts = urlsplit(base_url)
    data = json.dumps(body).encode()
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
            f"Origin: {origin}\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + data)
        raw = await reader.read()
    finally:
        writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    _, _, payload = rest.partition(b"\r\n\r\n")
    try:
        status = int(status_line.split()[1])
        return status, json.loads(payload) if status == 200 else {"detail": payload[:200].decode(errors="replace")}
    except (IndexError, ValueError):
        raise OSError(f"bad HTTP answer: {raw[:80]!r}") from None


@dataclass
class Attempt:
    """One try at opening a widget socket."""

    started: float
    ended: float = 0.0  # welcome received, or the failure
    ok: bool = False
    problem: str = ""


class BenchCustomer(CustomerClient):
    """chat/client.py's customer (its reconnect loop, backoff, heartbeat and
    delivery rules), with the session POST made on the event loop instead of a
    thread, and every open timed from the session POST to ``welcome``."""

    def __init__(self, *args: Any, open_timeout: float = 30, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.open_timeout = open_timeout
        self.attempts: list[Attempt] = []
        self.pongs = 0

    async def _open(self) -> ClientConnection:
        attempt = Attempt(time.monotonic())
        self.attempts.append(attempt)
        try:
            async with asyncio.timeout(self.open_timeout):
                body: dict[str, Any] = {"shop": self.shop}
                if self.visitor_token:
                    body["visitor_token"] = self.visitor_token
                status, answer = await post_json(self.base_url, "/widget/v1/session", body, self.origin)
                if 400 <= status < 500:  # as chat/client.py: a 4xx is for good
                    raise ChatError("session_refused", f"{status} {answer.get('detail', '')}")
                if status != 200:
                    raise OSError(f"session answered {status}")
                self.session = answer
                self.visitor_token = answer["visitor_token"]
                query = urlencode({"token": answer["connect_token"]})
                url = f"ws://{urlsplit(self.base_url).netloc}{answer['websocket']}?{query}"
                return await connect(url, origin=Origin(self.origin), proxy=None, open_timeout=self.open_timeout)
        except BaseException as problem:
            attempt.ended, attempt.problem = time.monotonic(), type(problem).__name__
            raise

    async def _on_welcome(self, frame: dict[str, Any]) -> None:
        attempt = self.attempts[-1]
        attempt.ended, attempt.ok = time.monotonic(), True
        await super()._on_welcome(frame)

    async def _handle(self, frame: dict[str, Any], at: float) -> None:
        if frame.get("type") == "pong":
            self.pongs += 1
        await super()._handle(frame, at)


def drop(client: Any) -> None:
    """Cut a chat/client.py client's socket as a lost network would (no close
    handshake); the client reconnects by itself."""
    ws = client._ws
    if ws is not None:
        ws.transport.abort()


class BareClient:
    """A socket on bench/bare_sockets.py with the widget's heartbeat."""

    def __init__(self, url: str, ping_seconds: float = PING_SECONDS):
        self.url, self.ping_seconds = url, ping_seconds
        self.pongs = 0
        self.ws: ClientConnection | None = None
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self, timeout: float = 30) -> BareClient:
        async with asyncio.timeout(timeout):
            self.ws = await connect(self.url, proxy=None)
            await self.ws.recv()  # welcome
        self.tasks = [asyncio.create_task(self.read()), asyncio.create_task(self.ping())]
        return self

    async def read(self) -> None:
        assert self.ws is not None
        async for _ in self.ws:
            self.pongs += 1

    async def ping(self) -> None:
        assert self.ws is not None
        while True:
            await asyncio.sleep(self.ping_seconds * random.uniform(0.75, 1.25))
            await self.ws.send(json.dumps({"type": "ping"}))

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        if self.ws is not None:
            await self.ws.close()


async def close_all(clients: Sequence[Any]) -> None:
    await gather_limited([c.close for c in clients], SETUP_CONCURRENCY)


async def start_all(clients: Sequence[Any], timeout: float = 120) -> tuple[int, list[str]]:
    """Open every client; returns how many are up and why the others are not."""

    async def one(client: Any) -> str:
        try:
            await client.start(timeout=timeout)
            return ""
        except Exception as error:
            return repr(error)[:120]

    problems = await gather_limited([partial(one, c) for c in clients], SETUP_CONCURRENCY)
    return sum(1 for p in problems if not p), sorted({p for p in problems if p})


# Seeding, in this process on the bench database.


def visitors_create(count: int) -> tuple[str, list[str]]:
    """A shop and ``count`` anonymous widget visitors of it, made through the
    widget's own service; returns the shop's slug and the visitor tokens."""
    from django.db import connections

    from chat.services import widget_session_start
    from helpdesk.customers.services import shop_create

    shop, _ = shop_create(slug="sockets-bench", name="Sockets bench")
    tokens = [widget_session_start(shop=shop).visitor_token for _ in range(count)]
    connections.close_all()
    return shop.slug, tokens


# Part 1: idle sockets.


@dataclass
class IdleResult:
    system: str
    sockets: int
    connected: int = 0
    rss_before_kb: int = 0
    rss_after_kb: int = 0
    rss_end_kb: int = 0
    cpu_seconds: float = 0.0
    window: float = 0.0
    pongs: int = 0
    client_cpu: float = 0.0
    pg_connections: int = 0  # the server's own, with the sockets up
    problems: list[str] = field(default_factory=list)

    @property
    def kb_per_socket(self) -> float:
        return (self.rss_after_kb - self.rss_before_kb) / max(1, self.connected)

    @property
    def cpu_percent(self) -> float:
        return 100 * self.cpu_seconds / self.window if self.window else float("nan")


async def idle_hold(server: Server, clients: Sequence[Any], result: IdleResult, settle: float) -> None:
    result.rss_before_kb = rss_kb(server.pid)
    result.connected, result.problems = await start_all(clients)
    await asyncio.sleep(settle)
    result.rss_after_kb = rss_kb(server.pid)
    result.pg_connections = sockets_by_remote_port(server.pid)[5432]
    cpu0, client0, pongs0, t0 = (
        cpu_seconds(server.pid),
        time.process_time(),
        sum(c.pongs for c in clients),
        time.monotonic(),
    )
    await asyncio.sleep(result.window)
    result.cpu_seconds = cpu_seconds(server.pid) - cpu0
    result.window = time.monotonic() - t0
    result.client_cpu = time.process_time() - client0
    result.pongs = sum(c.pongs for c in clients) - pongs0
    result.rss_end_kb = rss_kb(server.pid)
    await close_all(clients)


async def warm_up(clients: Sequence[Any]) -> None:
    """A few sockets opened and closed first, so that what a server loads
    once (modules, database connections) is not counted per socket."""
    await start_all(clients)
    await close_all(clients)
    await asyncio.sleep(2)


def part_idle(args: argparse.Namespace, env: dict[str, str], logs: Path, shop: str, tokens: list[str]) -> None:
    print(f"\n## idle: {args.sockets} sockets, {args.idle_seconds:.0f} s idle  ({machine_load()})\n", flush=True)
    results = []
    desk = Server("desk", free_port(), env, logs)
    desk.start()
    try:

        def customers(chosen: Sequence[str]) -> list[BenchCustomer]:
            return [BenchCustomer(desk.base_url, shop=shop, origin=SHOP_ORIGIN) for _ in chosen]

        warm = customers(tokens[:10])
        for client, token in zip(warm, tokens, strict=False):
            client.visitor_token = token
        asyncio.run(warm_up(warm))
        held = customers(tokens[: args.sockets])
        for client, token in zip(held, tokens, strict=False):
            client.visitor_token = token
        result = IdleResult("desk (daphne)", args.sockets, window=args.idle_seconds)
        asyncio.run(idle_hold(desk, held, result, args.settle_seconds))
        results.append(result)
    finally:
        desk.stop()
    server_logs = [desk.log_problems()]

    bare = Server("bare", free_port(), env, logs)
    bare.start()
    try:
        url = f"ws://127.0.0.1:{bare.port}/"
        asyncio.run(warm_up([BareClient(url) for _ in range(10)]))
        result = IdleResult("bare websockets", args.sockets, window=args.idle_seconds)
        asyncio.run(idle_hold(bare, [BareClient(url) for _ in range(args.sockets)], result, args.settle_seconds))
        results.append(result)
    finally:
        bare.stop()
    server_logs.append(bare.log_problems())

    table(
        [
            "system",
            "sockets up",
            "RSS before MB",
            "RSS with sockets MB",
            "RSS at end MB",
            "KB per socket",
            f"CPU idle ({results[0].window:.0f} s)",
            "pongs",
            "server PG conns",
            "bench client CPU",
        ],
        [
            (
                r.system,
                f"{r.connected} of {r.sockets}",
                f"{r.rss_before_kb / 1024:.1f}",
                f"{r.rss_after_kb / 1024:.1f}",
                f"{r.rss_end_kb / 1024:.1f}",
                f"{r.kb_per_socket:.1f}",
                f"{r.cpu_percent:.1f}%",
                r.pongs,
                r.pg_connections,
                f"{100 * r.client_cpu / r.window:.1f}%",
            )
            for r in results
        ],
    )
    desk_r, bare_r = results
    table(
        ["ratio", "desk / bare"],
        [
            (
                "memory per socket",
                f"{desk_r.kb_per_socket / bare_r.kb_per_socket:.1f}" if bare_r.kb_per_socket > 0 else "-",
            ),
            ("idle CPU", f"{desk_r.cpu_percent / bare_r.cpu_percent:.1f}" if bare_r.cpu_percent > 0 else "-"),
        ],
    )
    for r in results:
        for problem in r.problems:
            print(f"{r.system}: a socket did not open: {problem}")
    print("\n".join(server_logs))
    print(
        f"CPU is the server process's user+system time over the window, in % of one core. Pongs are the "
        f"widget heartbeat answered in the window (every {PING_SECONDS:.0f} s +-25% per socket). "
        f"RSS from /proc/<pid>/status VmRSS: before is after a warm-up of 10 sockets; with sockets is "
        f"{args.settle_seconds:.0f} s after the last opened; at end is after the idle window."
    )


# Part 2: connect storm.


@dataclass
class Open:
    """One widget open of the storm."""

    at: float  # scheduled start
    session: float = float("nan")  # seconds for the session POST
    upgrade: float = float("nan")  # seconds for the websocket handshake
    welcome: float = float("nan")  # seconds from start to welcome
    problem: str = ""


async def storm_open(
    server: Server, shop: str, token: str, at: float, timeout: float, held: list[ClientConnection]
) -> Open:
    await asyncio.sleep(max(0.0, at - time.monotonic()))
    record = Open(time.monotonic())
    try:
        async with asyncio.timeout(timeout):
            if server.kind == "desk":
                body = {"shop": shop, "visitor_token": token}
                status, answer = await post_json(server.base_url, "/widget/v1/session", body, SHOP_ORIGIN)
                if status != 200:
                    raise OSError(f"session {status}")
                record.session = time.monotonic() - record.at
                url = (
                    f"ws://127.0.0.1:{server.port}{answer['websocket']}?{urlencode({'token': answer['connect_token']})}"
                )
            else:
                record.session = 0.0
                url = f"ws://127.0.0.1:{server.port}/"
            upgrade_started = time.monotonic()
            ws = await connect(url, origin=Origin(SHOP_ORIGIN), proxy=None, open_timeout=None)
            record.upgrade = time.monotonic() - upgrade_started
            held.append(ws)
            while json.loads(await ws.recv()).get("type") != "welcome":
                pass
            record.welcome = time.monotonic() - record.at
    except TimeoutError:
        record.problem = "timeout"
    except Exception as error:
        record.problem = type(error).__name__ + (f" {error}" if isinstance(error, OSError) else "")
    return record


async def storm_run(
    server: Server, shop: str, tokens: list[str], args: argparse.Namespace
) -> tuple[list[Open], dict[str, Any]]:
    held: list[ClientConnection] = []
    n, seconds = args.storm_sockets, args.storm_seconds
    start = time.monotonic() + 0.5
    if args.storm_bursts:
        # --storm-bursts B: B opens at once, every seconds*B/n seconds.
        times = [start + (i // args.storm_bursts) * seconds * args.storm_bursts / n for i in range(n)]
    else:
        times = [start + i * seconds / n for i in range(n)]
    samples: list[tuple[float, float, int, int]] = []  # (t, cpu seconds, rss kb, PostgreSQL connections)

    async def sample() -> None:
        while True:
            pg = sockets_by_remote_port(server.pid)[5432]
            samples.append((time.monotonic(), cpu_seconds(server.pid), rss_kb(server.pid), pg))
            await asyncio.sleep(1)

    sampler = asyncio.create_task(sample())
    client_cpu0 = time.process_time()
    opens = await asyncio.gather(
        *(storm_open(server, shop, tokens[i % len(tokens)], times[i], args.connect_timeout, held) for i in range(n))
    )
    sampler.cancel()
    stats = {
        "client_cpu": time.process_time() - client_cpu0,
        "elapsed": time.monotonic() - start,
        "peak_cpu": max(((b[1] - a[1]) / (b[0] - a[0]) for a, b in itertools.pairwise(samples)), default=float("nan")),
        "rss_kb": samples[-1][2] if samples else 0,
        "peak_pg": max((s[3] for s in samples), default=0),
        "start": start,
    }
    await asyncio.gather(*(ws.close() for ws in held), return_exceptions=True)
    return opens, stats


def part_storm(args: argparse.Namespace, env: dict[str, str], logs: Path, shop: str, tokens: list[str]) -> None:
    mode = f"bursts of {args.storm_bursts}" if args.storm_bursts else "evenly spread"
    print(
        f"\n## storm: {args.storm_sockets} opens over {args.storm_seconds:.0f} s, {mode}, "
        f"{args.connect_timeout:.0f} s timeout each  ({machine_load()})\n",
        flush=True,
    )
    rows, histograms, problems, server_logs = [], {}, {}, []
    for kind in ("desk", "bare"):
        server = Server(kind, free_port(), env, logs)
        server.start()
        try:
            opens, stats = asyncio.run(storm_run(server, shop, tokens, args))
        finally:
            server.stop()
        server_logs.append(server.log_problems())
        ok = [o for o in opens if not o.problem]
        welcome = [o.welcome for o in ok]
        rows.append(
            (
                "desk (daphne)" if kind == "desk" else "bare websockets",
                len(opens),
                f"{len(ok)} ({100 * len(ok) / len(opens):.1f}%)",
                sum(1 for o in opens if o.problem == "timeout"),
                sum(1 for o in opens if o.problem and o.problem != "timeout"),
                ms(percentile([o.session for o in ok], 50)) if kind == "desk" else "-",
                ms(percentile([o.upgrade for o in ok], 50)),
                ms(percentile(welcome, 50)),
                ms(percentile(welcome, 95)),
                ms(max(welcome, default=float("nan"))),
                f"{100 * stats['peak_cpu']:.0f}%",
                stats["peak_pg"],
                f"{100 * stats['client_cpu'] / stats['elapsed']:.0f}%",
            )
        )
        histograms[kind] = Counter(int(o.at + o.welcome - stats["start"]) for o in ok)
        problems[kind] = Counter(o.problem for o in opens if o.problem)
    table(
        [
            "system",
            "opens",
            "succeeded",
            "timeouts",
            "errors",
            "session p50 ms",
            "upgrade p50 ms",
            "to welcome p50 ms",
            "p95 ms",
            "max ms",
            "server peak CPU (1 s)",
            "server peak PG conns",
            "bench client CPU",
        ],
        rows,
    )
    last = max(max(h, default=0) for h in histograms.values())
    table(
        ["second", "desk welcomes", "bare welcomes"],
        [(s, histograms["desk"].get(s, 0), histograms["bare"].get(s, 0)) for s in range(last + 1)],
    )
    for kind, counted in problems.items():
        for problem, count in counted.most_common():
            print(f"{kind}: {count} opens failed: {problem}")
    print("\n".join(server_logs))
    print(
        "An open is the widget's: session POST (resuming a visitor token), websocket upgrade, and the "
        "welcome frame (the bare server has no session). 'to welcome' runs from the open's scheduled start; "
        "a timeout is an open with no welcome within --connect-timeout."
    )


# Part 3: reconnect storm after a restart.


def part_reconnect(args: argparse.Namespace, env: dict[str, str], logs: Path, shop: str, tokens: list[str]) -> None:
    print(
        f"\n## reconnect: {args.reconnect_sockets} sockets, daphne stopped and started again  ({machine_load()})\n",
        flush=True,
    )
    desk = Server("desk", free_port(), env, logs)
    desk.start()
    try:
        results = asyncio.run(reconnect_run(desk, shop, tokens, args))
    finally:
        desk.stop()
    print(desk.log_problems() + " (all its starts)\n")
    table(
        [
            "signal",
            "sockets",
            "back",
            "down s (kill to listening)",
            "all back s after kill",
            "after up",
            "50% back s",
            "95% back s",
            "open p50 ms",
            "open p95 ms",
            "open max ms",
            "failed tries",
            "tries per client (max)",
            "peak reconnects in 1 s",
        ],
        [r["row"] for r in results],
    )
    for r in results:
        print(f"SIG{r['signal']}: reconnects per second after the kill (server answering from second {r['up']:.1f}):\n")
        table(["second", "tries", "failed", "back", ""], r["histogram"])
        for problem, count in r["problems"].most_common():
            print(f"SIG{r['signal']}: {count} tries failed: {problem}")
        print()
    print(
        "Clients are chat/client.py customers: after a lost connection they wait random(0, min(30, 0.5 * 2^attempt)) s "
        "before each try, and a try is a session POST plus the websocket. 'back' is a client that got a welcome "
        "again; 'open' times the successful tries during the storm (session POST to welcome); "
        f"the deadline was {args.reconnect_deadline:.0f} s after the kill."
    )


async def reconnect_run(desk: Server, shop: str, tokens: list[str], args: argparse.Namespace) -> list[dict[str, Any]]:
    clients = [
        BenchCustomer(desk.base_url, shop=shop, origin=SHOP_ORIGIN, open_timeout=args.connect_timeout)
        for _ in range(args.reconnect_sockets)
    ]
    for client, token in zip(clients, tokens, strict=False):
        client.visitor_token = token
    started = time.monotonic()
    up, problems = await start_all(clients)
    # A client whose start timed out keeps trying: wait for it, so that every client was up before the kill.
    for client in clients:
        with contextlib.suppress(Exception):
            await client.wait_connected(max(1.0, started + 600 - time.monotonic()))
    up = sum(1 for c in clients if c.connected)
    print(f"{up} of {len(clients)} connected before the restart, in {time.monotonic() - started:.0f} s; {problems[:3]}")
    results = []
    try:
        for name in args.signals:
            # Long enough up for every client's backoff to start over (chat.client.STABLE_SECONDS).
            await asyncio.sleep(12)
            results.append(await restart_once(desk, clients, signal.Signals["SIG" + name], args.reconnect_deadline))
    finally:
        await close_all(clients)
    return results


async def restart_once(
    desk: Server, clients: list[BenchCustomer], sig: signal.Signals, deadline: float
) -> dict[str, Any]:
    before = [len(c.attempts) for c in clients]
    killed = time.monotonic()
    await asyncio.to_thread(desk.kill, sig)
    # Listening is enough: under the storm /healthz may not answer for a while.
    up = await asyncio.to_thread(partial(desk.start, healthy=False)) - killed

    def back() -> list[float]:
        return [
            next((a.ended - killed for a in c.attempts[b:] if a.ok), float("nan"))
            for c, b in zip(clients, before, strict=True)
        ]

    while time.monotonic() - killed < deadline and any(t != t for t in back()):
        await asyncio.sleep(0.2)
    times = back()
    returned = sorted(t for t in times if t == t)
    tries = [a for c, b in zip(clients, before, strict=True) for a in c.attempts[b:]]
    opens = [a.ended - a.started for a in tries if a.ok]
    per_client = [len(c.attempts) - b for c, b in zip(clients, before, strict=True)]
    n = len(clients)
    seconds = int(max([a.ended - killed for a in tries], default=0)) + 1
    histogram = []
    peak = 0
    for s in range(seconds):
        started = sum(1 for a in tries if int(a.started - killed) == s)
        failed = sum(1 for a in tries if not a.ok and int(a.ended - killed) == s)
        came = sum(1 for t in returned if int(t) == s)
        peak = max(peak, came)
        histogram.append((s, started, failed, came, "#" * round(40 * came / n)))

    def share(q: float) -> str:
        k = max(1, round(q * n))
        return f"{returned[k - 1]:.1f}" if len(returned) >= k else "-"

    row = (
        f"SIG{sig.name[3:]}",
        n,
        f"{len(returned)} ({100 * len(returned) / n:.1f}%)",
        f"{up:.1f}",
        f"{returned[-1]:.1f}" if len(returned) == n else "not all",
        f"{returned[-1] - up:.1f}" if len(returned) == n else "-",
        share(0.5),
        share(0.95),
        ms(percentile(opens, 50)),
        ms(percentile(opens, 95)),
        ms(max(opens, default=float("nan"))),
        sum(1 for a in tries if not a.ok),
        f"{sum(per_client) / n:.1f} ({max(per_client)})",
        f"{peak} ({100 * peak / n:.0f}%)",
    )
    return {
        "signal": sig.name[3:],
        "row": row,
        "histogram": histogram,
        "up": up,
        "problems": Counter(a.problem or "socket open, closed before welcome" for a in tries if not a.ok),
    }


# Part 4: soak.


@dataclass
class SoakSample:
    t: float
    rss_mb: float
    threads: int
    fds: int
    daphne_pg: int
    daphne_redis: int
    pg_backends: int
    redis_clients: int
    sockets: int
    sent: int
    acked: int
    cpu_percent: float


def part_soak(args: argparse.Namespace, env: dict[str, str], logs: Path, shop: str, tokens: list[str]) -> None:
    print(
        f"\n## soak: {args.minutes:g} min, {args.soak_pairs} chatting pairs, {args.churn_rate:g} churn connects/s "
        f"({machine_load()})\n",
        flush=True,
    )
    tag = f"soak-{uuid.uuid4().hex[:4]}"
    pairs = seed(args.soak_pairs, tag)
    from django.db import connections

    connections.close_all()
    desk = Server("desk", free_port(), env, logs)
    desk.start()
    try:
        samples, outcome = asyncio.run(soak_run(desk, pairs, shop, tokens, args))
    finally:
        desk.stop()
    print(desk.log_problems())
    outcome.update(soak_check(pairs, outcome.pop("held")))
    soak_print(samples, outcome, args)


async def soak_run(
    desk: Server, pairs: list[Pair], shop: str, tokens: list[str], args: argparse.Namespace
) -> tuple[list[SoakSample], dict[str, Any]]:
    agents = [AgentClient(desk.base_url, session_id=p.agent_session) for p in pairs]
    customers = [BenchCustomer(desk.base_url, shop=p.shop, origin=SHOP_ORIGIN) for p in pairs]
    await start_all(agents)
    await start_all(customers)
    await asyncio.to_thread(tickets_open, pairs, [c.visitor_token for c in customers])
    await gather_limited([partial(a.subscribe, p.ticket, timeout=60) for a, p in zip(agents, pairs, strict=True)], 20)

    sends: list[tuple[int, asyncio.Task[dict[str, Any]]]] = []
    churn = Counter[str]()
    churn_opens: list[float] = []
    churners: set[BenchCustomer] = set()
    drops = Counter[str]()
    tasks: set[asyncio.Task[Any]] = set()
    started = time.monotonic()
    end = started + 60 * args.minutes

    def background(coro: Any) -> None:
        task = asyncio.create_task(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def chat(i: int) -> None:
        await asyncio.sleep(random.uniform(0, args.message_every))
        k = 0
        while time.monotonic() < end:
            task = asyncio.create_task(customers[i].send(f"pair {i} message {k}", ticket=pairs[i].ticket))
            sends.append((i, task))
            k += 1
            await asyncio.sleep(args.message_every)

    async def churner(token: str) -> None:
        client = BenchCustomer(desk.base_url, shop=shop, origin=SHOP_ORIGIN, open_timeout=args.connect_timeout)
        client.visitor_token = token
        churners.add(client)
        try:
            await client.start(timeout=args.connect_timeout)
            churn["up"] += 1
            churn_opens.append(client.attempts[0].ended - client.attempts[0].started)
            await asyncio.sleep(random.uniform(5, 25))
        except Exception as error:
            churn[type(error).__name__] += 1
        finally:
            await client.close()
            churners.discard(client)

    async def churn_loop() -> None:
        k = 0
        while time.monotonic() < end:
            background(churner(tokens[k % len(tokens)]))
            k += 1
            await asyncio.sleep(random.expovariate(args.churn_rate))

    async def drop_loop() -> None:
        while args.drop_every and time.monotonic() + args.drop_every < end:
            await asyncio.sleep(args.drop_every)
            i = random.randrange(len(pairs))
            victim = random.choice(["agent", "customer"])
            drop(agents[i] if victim == "agent" else customers[i])
            drops[victim] += 1

    samples: list[SoakSample] = []
    database = urlsplit(desk.env["DATABASE_URL"]).path.lstrip("/")
    server_url = urlunsplit(urlsplit(desk.env["DATABASE_URL"])._replace(path="/postgres"))
    redis_client = redis.Redis.from_url(desk.env["REDIS_URL"])

    async def sample_loop() -> None:
        last_cpu, last_t = cpu_seconds(desk.pid), time.monotonic()
        while True:
            await asyncio.sleep(args.sample_seconds)

            def read() -> tuple[int, int]:
                with psycopg.connect(server_url, autocommit=True) as conn:
                    row = conn.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database,)
                    ).fetchone()
                return int(row[0]) if row else 0, redis_info(redis_client, "clients")["connected_clients"]

            pg, redis_clients = await asyncio.to_thread(read)
            now, cpu = time.monotonic(), cpu_seconds(desk.pid)
            ports = sockets_by_remote_port(desk.pid)
            open_sockets = sum(1 for c in [*agents, *customers, *churners] if c.connected)
            acked = sum(1 for _, t in sends if t.done() and not t.cancelled() and t.exception() is None)
            samples.append(
                SoakSample(
                    now - started,
                    rss_kb(desk.pid) / 1024,
                    threads(desk.pid),
                    open_fds(desk.pid),
                    ports[5432],
                    ports[6379],
                    pg,
                    redis_clients,
                    open_sockets,
                    len(sends),
                    acked,
                    100 * (cpu - last_cpu) / (now - last_t),
                )
            )
            last_cpu, last_t = cpu, now
            s = samples[-1]
            print(
                f"  {s.t:6.0f} s  rss {s.rss_mb:6.1f} MB  pg {s.pg_backends}  redis {s.redis_clients}  "
                f"sockets {s.sockets}  sent {s.sent}  acked {s.acked}  cpu {s.cpu_percent:.0f}%",
                flush=True,
            )

    sampler = asyncio.create_task(sample_loop())
    loops = [asyncio.create_task(chat(i)) for i in range(len(pairs))]
    loops += [asyncio.create_task(churn_loop()), asyncio.create_task(drop_loop())]
    await asyncio.gather(*loops)
    sampler.cancel()  # the samples cover the traffic, not the wind-down
    # Every send waits for its ack; the outbox resends after a dropped socket.
    pending = [t for _, t in sends]
    if pending:
        await asyncio.wait(pending, timeout=args.grace)
    await asyncio.gather(*list(tasks), return_exceptions=True)
    # Give the agents the last messages, then take what they hold.
    deadline = time.monotonic() + args.grace
    acked_ids = {t.result()["id"] for _, t in sends if t.done() and not t.cancelled() and t.exception() is None}

    def held_ids() -> set[int]:
        return {m.id for a, p in zip(agents, pairs, strict=True) for m in a.messages(p.ticket)}

    while time.monotonic() < deadline and not acked_ids <= held_ids():
        await asyncio.sleep(0.5)
    held = [[(m.id, m.client_msg_id) for m in a.messages(p.ticket)] for a, p in zip(agents, pairs, strict=True)]
    outcome: dict[str, Any] = {
        "sent": len(sends),
        "acked": len(acked_ids),
        "unacked": sum(1 for _, t in sends if not t.done() or t.cancelled() or t.exception() is not None),
        "send_errors": Counter(
            repr(t.exception())[:80] for _, t in sends if t.done() and not t.cancelled() and t.exception()
        ),
        "acked_ids": acked_ids,
        "held": held,
        "churn": churn,
        "churn_open_p95": percentile(churn_opens, 95),
        "drops": drops,
        "redelivered": sum(a.duplicates_ignored for a in agents),
        "reconnects": sum(c.connections - 1 for c in [*agents, *customers]),
    }
    for _, task in sends:
        if not task.done():
            task.cancel()
    await close_all([*agents, *customers])
    redis_client.close()
    return samples, outcome


def soak_check(pairs: list[Pair], held: list[list[tuple[int, str]]]) -> dict[str, Any]:
    """Customer messages stored (those with a client id: the opening message
    has none) against what each ticket's agent holds."""
    from django.db import connections

    from helpdesk.tickets.models import Message

    stored = list(
        Message.objects.filter(ticket_id__in=[p.ticket for p in pairs], client_msg_id__isnull=False).values_list(
            "id", "client_msg_id"
        )
    )
    connections.close_all()
    held_ids = Counter(i for agent in held for i, _ in agent)
    held_cids = Counter(c for agent in held for _, c in agent if c)
    stored_cids = Counter(c for _, c in stored)
    return {
        "stored": len(stored),
        "stored_ids": {i for i, _ in stored},
        "delivered": sum(1 for i, _ in stored if held_ids[i]),
        "lost": sum(1 for i, _ in stored if not held_ids[i]),
        "dup_stored": sum(n - 1 for n in stored_cids.values() if n > 1),
        "dup_held": sum(n - 1 for n in held_cids.values() if n > 1),
    }


def soak_print(samples: list[SoakSample], outcome: dict[str, Any], args: argparse.Namespace) -> None:
    print()
    table(
        [
            "t s",
            "daphne RSS MB",
            "threads",
            "fds",
            "daphne PG conns",
            "daphne Redis conns",
            "pg_stat_activity",
            "Redis connected_clients",
            "client sockets up",
            "sent",
            "acked",
            "daphne CPU",
        ],
        [
            (
                f"{s.t:.0f}",
                f"{s.rss_mb:.1f}",
                s.threads,
                s.fds,
                s.daphne_pg,
                s.daphne_redis,
                s.pg_backends,
                s.redis_clients,
                s.sockets,
                s.sent,
                s.acked,
                f"{s.cpu_percent:.0f}%",
            )
            for s in samples
        ],
    )
    third = max(1, len(samples) // 3)
    first, last = samples[:third], samples[-third:]
    rows = []
    metrics: list[tuple[str, Callable[[SoakSample], float]]] = [
        ("daphne RSS MB", lambda s: s.rss_mb),
        ("daphne fds", lambda s: s.fds),
        ("daphne threads", lambda s: s.threads),
        ("daphne PG connections", lambda s: s.daphne_pg),
        ("pg_stat_activity (bench DB)", lambda s: s.pg_backends),
        ("daphne Redis connections", lambda s: s.daphne_redis),
        ("Redis connected_clients (whole server)", lambda s: s.redis_clients),
        ("client sockets up", lambda s: s.sockets),
        ("daphne CPU %", lambda s: s.cpu_percent),
    ]
    for name, get in metrics:
        a = sum(map(get, first)) / len(first)
        b = sum(map(get, last)) / len(last)
        change = 100 * (b - a) / a if a else float("nan") if b else 0.0
        verdict = "flat" if abs(change) <= args.flat_percent else ("grows" if change > 0 else "falls")
        rows.append((name, f"{a:.1f}", f"{b:.1f}", f"{change:+.1f}%", verdict))
    table(["measure", "first third (mean)", "last third (mean)", "change", f"within {args.flat_percent:g}%"], rows)
    lost_acked = len(outcome["acked_ids"] - outcome["stored_ids"])
    churn = outcome["churn"]
    table(
        [
            "messages sent",
            "acked",
            "unacked",
            "stored",
            "delivered to agent",
            "lost",
            "dup stored",
            "dup held",
            "redelivered (merged)",
            "pair reconnects",
            "drops (agent/customer)",
            "churn opens ok",
            "churn failed",
            "churn open p95 ms",
        ],
        [
            (
                outcome["sent"],
                outcome["acked"],
                outcome["unacked"],
                outcome["stored"],
                outcome["delivered"],
                outcome["lost"] + lost_acked,
                outcome["dup_stored"],
                outcome["dup_held"],
                outcome["redelivered"],
                outcome["reconnects"],
                f"{outcome['drops']['agent']}/{outcome['drops']['customer']}",
                churn["up"],
                sum(v for k, v in churn.items() if k != "up"),
                ms(outcome["churn_open_p95"]),
            )
        ],
    )
    for problem, count in outcome["send_errors"].most_common():
        print(f"{count} sends failed: {problem}")
    for problem, count in churn.items():
        if problem != "up":
            print(f"{count} churn opens failed: {problem}")
    print(
        "lost: a stored customer message its agent does not hold at the end (or an ack with no row); dup: a "
        "client_msg_id stored twice, or held twice by the agent. Redis connected_clients counts the whole "
        "server (other users of this Redis included); 'daphne Redis/PG conns' are daphne's own TCP connections "
        f"(/proc). Flat: the last third's mean within {args.flat_percent:g}% of the first third's."
    )


# The run.


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--part",
        nargs="+",
        choices=["idle", "storm", "reconnect", "soak", "all"],
        default=["all"],
        help="(default: all)",
    )
    parser.add_argument("--sockets", type=int, default=1000, help="idle: sockets held (default: 1000)")
    parser.add_argument("--idle-seconds", type=float, default=30, help="idle: CPU window (default: 30)")
    parser.add_argument("--settle-seconds", type=float, default=5, help="idle: wait after the last open (default: 5)")
    parser.add_argument("--storm-sockets", type=int, default=1000, help="storm: opens (default: 1000)")
    parser.add_argument("--storm-seconds", type=float, default=10, help="storm: seconds they spread over (default: 10)")
    parser.add_argument(
        "--storm-bursts", type=int, default=0, help="storm: open this many at once instead of evenly (default: evenly)"
    )
    parser.add_argument("--connect-timeout", type=float, default=30, help="seconds one open may take (default: 30)")
    parser.add_argument("--reconnect-sockets", type=int, default=1000, help="reconnect: sockets held (default: 1000)")
    parser.add_argument("--signals", nargs="+", choices=["TERM", "KILL"], default=["TERM", "KILL"])
    parser.add_argument(
        "--reconnect-deadline", type=float, default=180, help="reconnect: seconds after the kill to wait (default: 180)"
    )
    parser.add_argument("--minutes", type=float, default=5, help="soak: length (default: 5; a real hour: 60)")
    parser.add_argument("--soak-pairs", type=int, default=50, help="soak: chatting customer/agent pairs (default: 50)")
    parser.add_argument("--message-every", type=float, default=10, help="soak: seconds between a customer's messages")
    parser.add_argument("--churn-rate", type=float, default=5, help="soak: churn connects a second (default: 5)")
    parser.add_argument("--drop-every", type=float, default=10, help="soak: seconds between socket drops (0: none)")
    parser.add_argument("--sample-seconds", type=float, default=10, help="soak: sampling interval (default: 10)")
    parser.add_argument("--flat-percent", type=float, default=10, help="soak: 'flat' tolerance (default: 10)")
    parser.add_argument("--grace", type=float, default=60, help="soak: seconds to wait for the last acks and messages")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/"),
        help="the PostgreSQL server (default: $DATABASE_URL, else the local one); its database name is ignored",
    )
    parser.add_argument(
        "--database-name",
        default="helpdesk_sockets_bench",
        help="the bench's own database, DROPPED and created on every run",
    )
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument(
        "--desk-env",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="settings for daphne, to try a change (e.g. DB_CONN_MAX_AGE=0); printed with the figures",
    )
    args = parser.parse_args()
    parts = [p for p in ["idle", "storm", "reconnect", "soak"] if p in args.part or "all" in args.part]

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    needed = 3 * max(args.sockets, args.storm_sockets, args.reconnect_sockets) + 200  # clients' sockets and more
    if hard < needed:
        sys.exit(f"the open file limit is {hard}; this run needs about {needed}")

    database_url = urlunsplit(urlsplit(args.database_url)._replace(path="/" + args.database_name))
    logs = Path(tempfile.mkdtemp(prefix="sockets-bench-"))
    database_create(database_url)
    env = desk_env(database_url, args.redis_url)  # one fresh channel-layer prefix for the run
    env["WIDGET_SESSION_RATE_PER_MINUTE"] = "10000000"
    env.update(dict(setting.split("=", 1) for setting in args.desk_env))
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY", "DATABASE_URL")})
    os.environ["REDIS_URL"] = ""  # Django here only seeds and checks
    import daphne
    import django

    django.setup()
    # A client's lost connection is part of the show here, not news.
    logging.getLogger("chat.client").setLevel(logging.WARNING)
    with psycopg.connect(database_url) as conn:
        pg_version = conn.execute("SHOW server_version").fetchone()
    redis_version = redis_info(redis.Redis.from_url(args.redis_url), "server")["redis_version"]
    print(
        f"{time.strftime('%Y-%m-%d %H:%M')}  {machine_load()}; Python {platform.python_version()}, "
        f"daphne {daphne.__version__}, PostgreSQL {pg_version[0] if pg_version else '?'}, Redis {redis_version}; "
        f"database {args.database_name}, channel-layer prefix {env['CHANNEL_LAYER_PREFIX']}; logs in {logs}"
        + (f"; daphne with {' '.join(args.desk_env)}" if args.desk_env else ""),
        flush=True,
    )
    count = max(
        args.sockets if "idle" in parts else 0,
        args.storm_sockets if "storm" in parts else 0,
        args.reconnect_sockets if "reconnect" in parts else 0,
        200 if "soak" in parts else 0,
    )
    started = time.monotonic()
    shop, tokens = visitors_create(count)
    print(f"{count} widget visitors made in {time.monotonic() - started:.1f} s", flush=True)
    for part in parts:
        {"idle": part_idle, "storm": part_storm, "reconnect": part_reconnect, "soak": part_soak}[part](
            args, env, logs, shop, tokens
        )
    print(f"finished {time.strftime('%H:%M')}, {machine_load()}")


if __name__ == "__main__":
    main()
