"""Chat and task scenarios through a fault, shared by the fault tests
(tests/chat/test_faults.py) and the fault benchmark (bench/faults.py), which
runs them with more traffic. A scenario drives real clients (chat.client)
against real processes; ``tally`` then compares what the clients hold with
what the database stored."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from chat.client import AgentClient, ChatClient, ChatMessage, CustomerClient
from helpdesk.tickets.models import Message


@dataclass
class ChatRun:
    """What one conversation through a fault left on the clients."""

    tickets: list[int] = field(default_factory=list)
    sent: dict[int, list[str]] = field(default_factory=dict)  # bodies, by ticket
    customer_held: dict[int, list[ChatMessage]] = field(default_factory=dict)
    agent_held: dict[int, list[ChatMessage]] = field(default_factory=dict)
    error_codes: list[str] = field(default_factory=list)
    recovery_seconds: float = float("nan")  # from the repair until both sides held everything
    complete: bool = False  # every message acked and held on both sides in time


@dataclass(frozen=True)
class Tally:
    scenario: str
    sent: int
    stored: int
    shown_to_customer: int
    shown_to_agent: int
    duplicates: int
    lost: int
    recovery_seconds: float

    HEADER = ("scenario", "sent", "stored", "shown to customer", "shown to agent", "duplicates", "lost", "recovery s")

    def row(self) -> tuple[str, ...]:
        return (
            self.scenario,
            str(self.sent),
            str(self.stored),
            str(self.shown_to_customer),
            str(self.shown_to_agent),
            str(self.duplicates),
            str(self.lost),
            f"{self.recovery_seconds:.1f}",
        )


async def chat_through_fault(
    *,
    customer_url: str,
    agent_url: str,
    agent_session: str,
    shop: str,
    origin: str,
    breaks: Callable[[], object],
    repairs: Callable[[], object],
    customers: int = 1,
    rounds: int = 3,
    down_seconds: float = 1.0,
    timeout: float = 20,
) -> ChatRun:
    """``customers`` widgets chat with one agent (``rounds`` messages each
    way per ticket); then, with a round still in flight, ``breaks`` runs,
    both sides send another round, and ``repairs`` runs ``down_seconds``
    later. Returns once both sides hold every message, or at ``timeout``."""
    run = ChatRun()
    agent = await AgentClient(agent_url, session_id=agent_session, auto_subscribe=True).start()
    people = [await CustomerClient(customer_url, shop=shop, origin=origin).start() for _ in range(customers)]
    clients: list[CustomerClient | AgentClient] = [agent, *people]

    def body(ticket: int, text: str) -> str:
        run.sent.setdefault(ticket, []).append(text)
        return text

    try:
        for n, customer in enumerate(people):
            ack = await customer.send(f"customer {n} hello")
            run.tickets.append(ack["ticket"])
            run.sent[ack["ticket"]] = [f"customer {n} hello"]
        pairs = list(zip(people, run.tickets, strict=True))
        await agent.wait_until(lambda: all(agent.have(t) >= 1 for t in run.tickets), timeout)

        def round_of(phase: str, i: int) -> list[asyncio.Task[object]]:
            sends = [customer.send(body(t, f"customer {t} {phase} {i}"), t) for customer, t in pairs]
            sends += [agent.send(body(t, f"agent {t} {phase} {i}"), t) for t in run.tickets]
            return [asyncio.ensure_future(send) for send in sends]

        for i in range(rounds):
            await asyncio.gather(*round_of("before", i))
        # The fault strikes with a round in flight: some may be stored with their ack lost.
        in_flight = [task for i in range(rounds) for task in round_of("in flight", i)]
        await asyncio.sleep(0.03)
        await asyncio.to_thread(breaks)
        during = [task for i in range(rounds) for task in round_of("during", i)]
        await asyncio.sleep(down_seconds)
        await asyncio.to_thread(repairs)
        repaired = time.monotonic()

        async with asyncio.timeout(timeout):
            await asyncio.gather(*in_flight, *during)
            for client, tickets in [(agent, run.tickets), *((c, [t]) for c, t in pairs)]:
                await client.wait_until(_holds(client, tickets, run), timeout)
        run.recovery_seconds = time.monotonic() - repaired
        run.complete = True
    except TimeoutError:
        pass
    finally:
        run.customer_held = {t: c.messages(t) for c, t in zip(people, run.tickets, strict=False)}
        run.agent_held = {t: agent.messages(t) for t in run.tickets}
        run.error_codes = [e["code"] for c in clients for e in c.errors]
        await asyncio.gather(*(c.close() for c in clients))
    return run


def _holds(client: ChatClient, tickets: list[int], run: ChatRun) -> Callable[[], bool]:
    return lambda: all(client.have(t) >= len(run.sent[t]) for t in tickets)


def stored_messages(tickets: list[int]) -> dict[int, list[Message]]:
    rows = Message.objects.filter(ticket_id__in=tickets).order_by("ticket_id", "seq")
    stored: dict[int, list[Message]] = {t: [] for t in tickets}
    for message in rows:
        stored[message.ticket_id].append(message)
    return stored


def _shown(held: list[ChatMessage], stored: list[Message]) -> int:
    keys = {(m.pk, m.seq, m.body) for m in stored}
    return sum((m.id, m.seq, m.body) in keys for m in held)


def tally(scenario: str, run: ChatRun) -> Tally:
    """Compare the database with both sides. ``duplicates``: rows stored for a
    message already stored (same client_msg_id or body); ``lost``: messages
    sent and not stored, plus stored ones a side does not hold."""
    stored = stored_messages(run.tickets)
    rows = [m for t in run.tickets for m in stored[t]]
    sent = sum(len(bodies) for bodies in run.sent.values())
    duplicates = max(len(rows) - len({m.client_msg_id for m in rows}), len(rows) - len({m.body for m in rows}))
    customer = sum(_shown(run.customer_held.get(t, []), stored[t]) for t in run.tickets)
    agent = sum(_shown(run.agent_held.get(t, []), stored[t]) for t in run.tickets)
    unstored = len({b for bodies in run.sent.values() for b in bodies} - {m.body for m in rows})
    lost = unstored + (len(rows) - customer) + (len(rows) - agent)
    return Tally(scenario, sent, len(rows), customer, agent, duplicates, lost, run.recovery_seconds)


def assert_every_message_once(run: ChatRun) -> None:
    """Both sides hold every stored message once (same ids, seqs and bodies),
    every message sent is stored once, and each client_msg_id is stored once."""
    assert run.complete, "not every message was acked and held on both sides in time"
    stored = stored_messages(run.tickets)
    for ticket in run.tickets:
        rows = stored[ticket]
        assert [m.seq for m in rows] == list(range(1, len(rows) + 1))
        assert sorted(m.body for m in rows) == sorted(run.sent[ticket])
        expected = [(m.pk, m.seq, m.body) for m in rows]
        assert [(m.id, m.seq, m.body) for m in run.customer_held[ticket]] == expected
        assert [(m.id, m.seq, m.body) for m in run.agent_held[ticket]] == expected
    ids = Counter(Message.objects.filter(ticket_id__in=run.tickets).values_list("client_msg_id", flat=True))
    assert all(n == 1 for n in ids.values()), [i for i, n in ids.items() if n > 1]


def mails_with(folder: Path, header: str) -> int:
    """How many mails the file-based email backend wrote with ``header`` (a whole header line)."""
    return sum(path.read_text(errors="replace").count(header + "\n") for path in folder.glob("*.log"))
