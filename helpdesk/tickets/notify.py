"""Tell connected desk and widget clients that a ticket changed.

Services call ``notify_on_commit`` and nothing else does: the event leaves
only once the change is committed. The database is the truth and the channel
layer a best-effort nudge; a lost event costs a client a resync, never a
message (docs/protocol.md). Consumers re-check every event against what their
user may see before passing it on.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from helpdesk.tickets import attachments
from helpdesk.tickets.models import Message, Ticket

log = logging.getLogger(__name__)

MANAGERS_GROUP = "desk.managers"
# The one handler name (consumer method ``desk_event``) for ticket events.
EVENT_TYPE = "desk.event"

Change = Literal[
    "opened",
    "message",
    "assigned",
    "status",
    "priority",
    "category",
    "receipt",
    "tags",
    "order",
    "merged",
    "context",
    "sla_warned",
    "sla_breached",
    "sentiment",
    "escalated",
]
# Changes only agents hear of: the customer's widgets are not sent them.
AGENT_ONLY_CHANGES = frozenset({"sla_warned", "sla_breached", "sentiment", "escalated"})


def team_group(team_id: int) -> str:
    return f"desk.team.{team_id}"


def agent_group(agent_id: int) -> str:
    return f"desk.agent.{agent_id}"


def customer_group(customer_id: int) -> str:
    return f"desk.customer.{customer_id}"


def viewers_group(ticket_id: int) -> str:
    """Agents with the ticket open: presence and typing go here."""
    return f"desk.viewers.{ticket_id}"


def initials(name: str) -> str:
    letters = [word[0] for word in name.split() if word[:1].isalpha()]
    return "".join(letters[:2]).upper() or "?"


def message_payload(message: Message) -> dict[str, Any]:
    agent = message.author_agent
    name = agent.display_name if agent is not None else ""
    return {
        "ticket": message.ticket_id,
        "id": message.pk,
        "seq": message.seq,
        "author": {"kind": message.author_kind, "name": name, "initials": initials(name) if name else ""},
        "body": message.body,
        "internal": message.internal,
        "created_at": message.created_at.isoformat(),
        "client_msg_id": message.client_msg_id or "",
        # Links for agents; the widget's consumer swaps them for signed ones.
        "attachments": [
            attachments.payload(attachment_id=a.pk, name=a.name, size=a.size, content_type=a.content_type)
            for a in message.attachments.all()
        ],
    }


def ticket_payload(ticket: Ticket) -> dict[str, Any]:
    assignee = ticket.assignee
    return {
        "id": ticket.pk,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category,
        "channel": ticket.channel,
        "team": ticket.team_id,
        "assignee": {"id": assignee.pk, "name": assignee.display_name} if assignee else None,
        "customer": {"id": ticket.customer_id, "name": str(ticket.customer)},
        "last_seq": ticket.last_seq,
        "customer_delivered_seq": ticket.customer_delivered_seq,
        "customer_read_seq": ticket.customer_read_seq,
        "agent_read_seq": ticket.agent_read_seq,
        "updated_at": ticket.updated_at.isoformat(),
        "sentiment": ticket.sentiment,
        "sentiment_trend": ticket.sentiment_trend,
        # SLA: the nearest due time of a running clock and the earliest breach
        # among them (null when none), for the lists' countdowns.
        "sla_due_at": ticket.sla_due_at.isoformat() if ticket.sla_due_at else None,
        "sla_breached_at": ticket.sla_breached_at.isoformat() if ticket.sla_breached_at else None,
    }


def notify_on_commit(
    ticket: Ticket,
    change: Change,
    *,
    message: Message | None = None,
    also_teams: tuple[int, ...] = (),
    also_agents: tuple[int, ...] = (),
) -> None:
    """After commit, send one event about ``ticket`` to every group that may
    care: its team, managers, its assignee, and the customer's widgets unless
    the change is internal. ``also_*`` reach those who just lost the ticket,
    so their consumers can tell them it is gone."""
    event = {
        "type": EVENT_TYPE,
        # A consumer in several of the groups gets several copies; the id lets it keep one.
        "id": uuid.uuid4().hex,
        "change": change,
        "ticket": ticket_payload(ticket),
        "message": message_payload(message) if message is not None else None,
    }
    groups = {MANAGERS_GROUP, team_group(ticket.team_id), *map(team_group, also_teams), *map(agent_group, also_agents)}
    if ticket.assignee_id:
        groups.add(agent_group(ticket.assignee_id))
    if not (message is not None and message.internal) and change not in AGENT_ONLY_CHANGES:
        groups.add(customer_group(ticket.customer_id))
    _outbox().append((sorted(groups), event))


class _Outbox(list[tuple[list[str], dict[str, Any]]]):
    """The events of one transaction, sent together once it commits: one
    trip to the channel layer per transaction, not per event (a batch of
    sentiment tags changes dozens of tickets at once)."""

    def __call__(self) -> None:
        _send(list(self))


def _outbox() -> _Outbox:
    """Where an event of the current transaction waits for its commit: the
    newest on_commit callback when it is an outbox of this very savepoint
    level, else a new one. Events stay in the order they were made, and a
    rolled-back savepoint drops its outbox with the change that did not happen."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return _Immediate()  # autocommit: the change is committed already
    if connection.run_on_commit:
        sids, callback, _robust = connection.run_on_commit[-1]
        if isinstance(callback, _Outbox) and sids == set(connection.savepoint_ids):
            return callback
    outbox = _Outbox()
    transaction.on_commit(outbox)
    return outbox


class _Immediate(_Outbox):
    def append(self, item: tuple[list[str], dict[str, Any]]) -> None:
        _send([item])


def _send(events: list[tuple[list[str], dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None or not events:
        return
    try:
        if _loop_running_here():
            # async_to_sync cannot run on a thread that runs an event loop (a
            # script or test driving asyncio code); send from a helper thread.
            with ThreadPoolExecutor(max_workers=1) as pool:
                pool.submit(async_to_sync(_send_all), layer, events).result(timeout=10)
        else:
            async_to_sync(_send_all)(layer, events)
    except Exception:  # the change is committed; clients will resync
        log.warning("tickets %s: events not sent", sorted({e["ticket"]["id"] for _, e in events}), exc_info=True)


def _loop_running_here() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def _send_all(layer: Any, events: list[tuple[list[str], dict[str, Any]]]) -> None:
    # Concurrently: each group_send is several Redis round trips. Events about
    # one ticket keep their order within each group (a group's sends are awaited in turn).
    by_group: dict[str, list[dict[str, Any]]] = {}
    for groups, event in events:
        for group in groups:
            by_group.setdefault(group, []).append(event)

    async def send_in_order(group: str, group_events: list[dict[str, Any]]) -> None:
        for event in group_events:
            await layer.group_send(group, event)

    await asyncio.gather(*(send_in_order(group, group_events) for group, group_events in by_group.items()))
