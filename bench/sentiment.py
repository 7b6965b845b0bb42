"""Sentiment tagging: the model's raw batched rate, the rate through the desk's
tagging path, the lag from a chat message stored to its tag pushed to the
agent, and chat latency with the tagger on and off, in one run.

    .venv/bin/python bench/sentiment.py --messages 1000 --pairs 20 --chat-messages 4 --duration 20

1. Raw: ``sentiment_model().predict`` over support messages from the
   project's corpus, in batches of SENTIMENT_BATCH_SIZE (messages/s).
2. Desk path: the same number of customer messages stored through
   ``message_post`` in a fresh PostgreSQL database, then tagged by
   ``messages_tag_batch`` until none wait: claims, model, stores, mood, events,
   notifications (messages/s, and the ratio to raw; the target is >= 0.7).
3. Live: daphne on that database with Redis, customers chatting through the
   widget protocol (chat/client.py) to signed-in agents; once with a
   sentiment worker (``manage.py db_worker --queue-name sentiment``) and once
   without. Prints the lag from a message's ack to the agent receiving the
   ticket's ``sentiment`` event (p50/p95), and message latency p99 with the
   tagger on and off (the target is a ratio <= 1.2).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.chat_latency import (  # noqa: E402
    CONNECT_CONCURRENCY,
    SHOP_ORIGIN,
    desk_env,
    gather_limited,
    seed,
    spawn,
    stop,
    tickets_open,
)
from bench.common import database_create  # noqa: E402
from chat.client import AgentClient, CustomerClient  # noqa: E402
from tests.servers import free_port, wait_until_up  # noqa: E402


def corpus_texts(count: int) -> list[str]:
    texts = []
    for path in sorted((ROOT / "sentiment" / "corpus").glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [texts[i % len(texts)] for i in range(count)]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def raw_rate(texts: list[str]) -> float:
    from django.conf import settings

    from sentiment.adapter import sentiment_model

    model = sentiment_model()
    model.predict(texts[: settings.SENTIMENT_BATCH_SIZE])  # warm up: first-call costs are not the rate
    started = time.perf_counter()
    size = settings.SENTIMENT_BATCH_SIZE
    for i in range(0, len(texts), size):
        model.predict(texts[i : i + size])
    return len(texts) / (time.perf_counter() - started)


def path_rate(texts: list[str]) -> float:
    from helpdesk.customers.services import shop_create
    from helpdesk.tickets.models import AuthorKind, TicketChannel
    from helpdesk.tickets.sentiment_services import messages_tag_batch
    from helpdesk.tickets.services import message_post, team_default, ticket_open
    from tests.factories import make_customer

    shop, _ = shop_create(slug=f"path-{uuid.uuid4().hex[:6]}", name="Path")
    customer = make_customer(shop, name="Bench", email="bench@example.com")
    team = team_default()
    per_ticket = 5
    for i in range(0, len(texts), per_ticket):
        chunk = texts[i : i + per_ticket]
        ticket = ticket_open(customer=customer, subject="Bench", channel=TicketChannel.CHAT, body=chunk[0], team=team)
        for text in chunk[1:]:
            message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body=text)
    started = time.perf_counter()
    tagged = 0
    while True:
        run = messages_tag_batch()
        if run.failed:
            raise RuntimeError(run.failed)
        if not run.tagged:
            break
        tagged += run.tagged
    return tagged / (time.perf_counter() - started)


class LagAgent(AgentClient):
    """Also notes when each ticket's ``sentiment`` events arrive."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sentiment_at: dict[int, list[float]] = {}

    async def _on_other(self, frame: dict[str, Any]) -> None:
        if frame.get("type") == "ticket" and frame.get("change") == "sentiment":
            self.sentiment_at.setdefault(frame["ticket"]["id"], []).append(time.monotonic())
        await super()._on_other(frame)


async def live_run(
    url: str, pairs: list[Any], messages: int, duration: float, *, warm: bool
) -> tuple[list[float], list[float]]:
    """Message latencies (customer's send to agent) and tag lags (ack to sentiment event), in seconds."""
    agents = [LagAgent(url, session_id=p.agent_session) for p in pairs]
    customers = [CustomerClient(url, shop=p.shop, origin=SHOP_ORIGIN) for p in pairs]
    await gather_limited([a.start for a in agents], CONNECT_CONCURRENCY)
    await gather_limited([c.start for c in customers], CONNECT_CONCURRENCY)
    await asyncio.to_thread(tickets_open, pairs, [c.visitor_token for c in customers])
    await gather_limited(
        [lambda a=a, p=p: a.subscribe(p.ticket, timeout=60) for a, p in zip(agents, pairs, strict=True)],
        CONNECT_CONCURRENCY,
    )
    if warm:
        # The worker loads the model on its first batch: tag one message before timing.
        await customers[0].send("Hello, warming up", ticket=pairs[0].ticket)
        deadline = time.monotonic() + 120
        while not agents[0].sentiment_at.get(pairs[0].ticket) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        agents[0].sentiment_at.clear()
    texts = corpus_texts(len(pairs) * messages)
    sent: list[tuple[int, int, float, float]] = []  # pair, message id, send time, ack time

    async def customer(i: int) -> None:
        await asyncio.sleep(duration / messages * (i / len(pairs)))
        for k in range(messages):
            started = time.monotonic()
            ack = await customers[i].send(texts[i * messages + k], ticket=pairs[i].ticket)
            sent.append((i, ack["id"], started, time.monotonic()))
            await asyncio.sleep(max(0.0, duration / messages - (time.monotonic() - started)))

    try:
        await asyncio.gather(*(customer(i) for i in range(len(pairs))))
        await asyncio.sleep(5)  # stragglers
        latencies, lags = [], []
        for i, message_id, started, acked in sent:
            held = {m.id: m for m in agents[i].messages(pairs[i].ticket)}
            if message_id in held:
                latencies.append(held[message_id].received_at - started)
            after = [t for t in agents[i].sentiment_at.get(pairs[i].ticket, []) if t >= acked]
            if after:
                lags.append(after[0] - acked)
    finally:
        await asyncio.gather(*(c.close() for c in [*customers, *agents]))
    return latencies, lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000, help="messages for the raw and path rates")
    parser.add_argument("--pairs", type=int, default=20, help="chatting customer/agent pairs in the live part")
    parser.add_argument("--chat-messages", type=int, default=4, help="messages each customer sends (live part)")
    parser.add_argument("--duration", type=float, default=20, help="seconds the live sending is spread over")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/"))
    parser.add_argument("--database-name", default="helpdesk_sentiment_bench", help="DROPPED and created on every run")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()
    database_url = urlunsplit(urlsplit(args.database_url)._replace(path="/" + args.database_name))
    logs = Path(tempfile.mkdtemp(prefix="sentiment-bench-"))

    database_create(database_url)
    env = desk_env(database_url, args.redis_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY", "DATABASE_URL")})
    os.environ["REDIS_URL"] = ""  # this process's notifications need not reach anyone
    import django

    django.setup()
    from django.conf import settings

    texts = corpus_texts(args.messages)
    print(
        f"{len(texts)} messages, batch {settings.SENTIMENT_BATCH_SIZE}, {settings.SENTIMENT_THREADS} threads",
        flush=True,
    )
    raw = raw_rate(texts)
    print(f"raw model: {raw:.0f} msgs/s", flush=True)
    path = path_rate(texts)
    print(f"desk tagging path: {path:.0f} msgs/s ({path / raw:.2f} x raw)", flush=True)

    results = {}
    for tagger in (True, False):
        pairs = seed(args.pairs, f"s{int(tagger)}-{uuid.uuid4().hex[:4]}")
        port = free_port()
        daphne = spawn(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "helpdesk.asgi:application"],
            env,
            logs / f"daphne-{tagger}.log",
        )
        worker = None
        if tagger:
            worker = spawn(
                [
                    sys.executable,
                    "manage.py",
                    "db_worker",
                    "--queue-name",
                    "sentiment",
                    "--no-reload",
                    "--interval",
                    "0.2",
                ],
                env,
                logs / "worker.log",
            )
        try:
            wait_until_up(f"http://127.0.0.1:{port}/healthz", daphne, timeout=60)
            results[tagger] = asyncio.run(
                live_run(f"http://127.0.0.1:{port}", pairs, args.chat_messages, args.duration, warm=tagger)
            )
        finally:
            for process in (daphne, worker):
                if process is not None:
                    stop(process)

    (on_latency, lags), (off_latency, _) = results[True], results[False]
    ms = 1000
    print()
    print(f"live: {args.pairs} pairs x {args.chat_messages} messages over {args.duration:.0f} s; logs in {logs}")
    print("| measure | value |")
    print("|---|---:|")
    print(f"| raw model, batched | {raw:.0f} msgs/s |")
    print(f"| desk tagging path | {path:.0f} msgs/s ({path / raw:.2f} x raw) |")
    lag50, lag95 = pct(lags, 0.5) * ms, pct(lags, 0.95) * ms
    print(f"| stored to tag pushed, p50 / p95 | {lag50:.0f} / {lag95:.0f} ms ({len(lags)} tags) |")
    print(f"| chat latency p99, tagger on | {pct(on_latency, 0.99) * ms:.1f} ms |")
    print(f"| chat latency p99, tagger off | {pct(off_latency, 0.99) * ms:.1f} ms |")
    print(f"| p99 on / off | {pct(on_latency, 0.99) / pct(off_latency, 0.99):.2f} |")
    on50, off50 = statistics.median(on_latency) * ms, statistics.median(off_latency) * ms
    print(f"| chat latency p50 on / off | {on50:.1f} / {off50:.1f} ms |")


if __name__ == "__main__":
    main()
