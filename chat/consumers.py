"""Websocket transport of the chat (docs/protocol.md).

Consumers check every frame against chat.schemas, authorise every request and
every event, and call services in worker threads. They keep no truth of their
own: a message exists once it is in the database, and anything a consumer
misses from the channel layer the client fetches again with ``sync``.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from chat import schemas, sessions
from chat.models import Visitor
from chat.schemas import ProtocolError, Schema
from chat.selectors import conversation_get, conversation_list, visitor_for_connect_token
from chat.services import widget_contact_update, widget_message_send
from helpdesk.tickets import notify
from helpdesk.tickets.models import Agent, AgentRole, AgentStatus, AuthorKind, Ticket, TicketStatus
from helpdesk.tickets.selectors import (
    Availability,
    agent_for_user,
    desk_availability,
    messages_after,
    ticket_visible,
)
from helpdesk.tickets.services import (
    NewerMessagesError,
    PostedMessage,
    agent_seen,
    message_post,
    ticket_mark_seen,
    ticket_read,
)
from surveys.ratelimit import WINDOW_SECONDS, rate_allow
from surveys.selectors import survey_widget_open

log = logging.getLogger(__name__)
T = TypeVar("T")

# Websocket close codes sent before accept are not seen by browsers; these are
# for logs and for clients that read them. After accept, 4401 means the
# sign-in behind the socket ended: the desk stops reconnecting (docs/protocol.md).
CLOSE_UNAUTHORISED = 4401
REVOKED_TEXT: dict[sessions.Reason, str] = {
    "signed_out": "You were signed out.",
    "password_changed": "Your password was changed; sign in again.",
    "deactivated": "Your desk account was deactivated.",
}
# Agents' team lists are re-read at most this often, and whenever they open a ticket.
SCOPE_REFRESH_SECONDS = 10
# A viewer not heard from for this long has left (their tab or process died).
PRESENCE_EXPIRY_SECONDS = 60


def db(func: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """Run ORM code in the loop's thread pool, not the single shared thread
    Channels uses by default, so one slow query does not hold up every
    connection of the process. Each call is one unit of work (its own
    transaction), so it may run on any thread."""
    return database_sync_to_async(func, thread_sensitive=False)


class TokenBucket:
    """Allows ``per_minute`` events a minute, in bursts of up to ``burst``."""

    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.capacity, self.clock = per_minute / 60, float(burst), clock
        self.tokens, self.stamp = float(burst), clock()

    def take(self) -> float:
        """0 when allowed, else the seconds until the next event would be."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


def _limited(wait: float, client_msg_id: str | None = None) -> ProtocolError:
    """Names the refused message, if it was one, so the client can resend it."""
    extra = {"client_msg_id": client_msg_id} if client_msg_id else {}
    return ProtocolError(
        "rate_limited", "You are sending too fast; wait a moment.", retry_after=max(1, round(wait + 0.5)), **extra
    )


def _stored_or_error(error: ValidationError, client_msg_id: str) -> ProtocolError:
    fields = error.message_dict if hasattr(error, "error_dict") else {"body": error.messages}
    code = "closed" if "ticket" in fields else "invalid"
    return ProtocolError(
        code, " ".join(text for texts in fields.values() for text in texts), fields=fields, client_msg_id=client_msg_id
    )


class ChatConsumer(AsyncJsonWebsocketConsumer):
    """What both endpoints share: frame checks, rate limits, sending messages."""

    declared: Mapping[str, Schema]
    for_customer: bool

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        per_minute = settings.CHAT_RATE_LIMIT_PER_MINUTE
        self.sends = TokenBucket(per_minute, burst=min(per_minute, 10))
        # Every frame counts here: typing, pings and syncs included.
        self.frames = TokenBucket(per_minute * 10, burst=min(per_minute * 10, 100))
        self.groups_joined: set[str] = set()
        self.recent_events: deque[str] = deque(maxlen=256)
        await super().websocket_connect(message)

    async def join(self, group: str) -> None:
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.add(group)

    def first_copy(self, event: Mapping[str, Any]) -> bool:
        """False for an event already handled: one sent to several of our groups."""
        if event["id"] in self.recent_events:
            return False
        self.recent_events.append(event["id"])
        return True

    async def leave(self, group: str) -> None:
        if group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
            self.groups_joined.discard(group)

    async def disconnect(self, code: int) -> None:
        for group in list(getattr(self, "groups_joined", ())):
            await self.leave(group)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            inbound = schemas.parse(text_data, declared=self.declared, max_bytes=settings.CHAT_MAX_FRAME_BYTES)
            if wait := self.frames.take():
                raise _limited(wait, inbound.data.get("client_msg_id"))
            # The type was checked against the declared list, so this names one of our handlers.
            await getattr(self, "on_" + inbound.type.replace(".", "_"))(**inbound.data)
        except ProtocolError as problem:
            await self.send_json(problem.frame())
        except (OperationalError, InterfaceError) as error:
            # The database is out of reach. Say so, naming the message, so the
            # client resends it later with the same client_msg_id: one stored
            # just before the failure then gets a duplicate ack.
            log.warning("%s frame not handled, database unavailable: %s", inbound.type, error)
            extra = {"client_msg_id": inbound.data["client_msg_id"]} if "client_msg_id" in inbound.data else {}
            text = "The desk cannot be reached right now; try again in a moment."
            unavailable = ProtocolError("unavailable", text, retry_after=2, **extra)
            await self.send_json(unavailable.frame())

    def check_send(self, body: str, client_msg_id: str) -> None:
        limit = settings.CHAT_MAX_MESSAGE_CHARS
        if len(body) > limit:
            raise ProtocolError(
                "too_long", f"A message can have at most {limit} characters.", client_msg_id=client_msg_id
            )
        if wait := self.sends.take():
            raise _limited(wait, client_msg_id)

    async def send_posted(self, posted: PostedMessage) -> None:
        # Reads the message's attachments, unless they were loaded with it.
        payload = await db(notify.message_payload)(posted.message)
        await self.send_json(schemas.ack(payload, duplicate=not posted.created))

    async def replay(self, ticket: Ticket, after_seq: int, until_seq: int | None) -> None:
        page = await db(messages_after)(
            ticket=ticket, after_seq=after_seq, until_seq=until_seq, internal=not self.for_customer
        )
        through, budget = page.through, settings.CHAT_MAX_OUTBOUND_BYTES // 2
        for i, message in enumerate(page.messages):
            payload = notify.message_payload(message)
            text = await self.encode_json(schemas.message_frame(payload, for_customer=self.for_customer))
            await self.send(text_data=text)
            # Daphne drops a socket holding more than CHAT_MAX_OUTBOUND_BYTES
            # (chat.transport), and a replay is written out all at once: stop
            # at half of it, and the client asks for the rest once it has read this.
            budget -= len(text)
            if budget <= 0 and i + 1 < len(page.messages):
                through = message.seq
                break
        last_seq = await db(lambda: Ticket.objects.values_list("last_seq", flat=True).get(pk=ticket.pk))()
        await self.send_json(schemas.synced(ticket=ticket.pk, through=through, last_seq=last_seq))


class WidgetConsumer(ChatConsumer):
    """One customer's browser. Sees only its customer's tickets, never notes."""

    declared = schemas.WIDGET_IN
    for_customer = True

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode())
        token = (query.get("token") or [""])[0]
        visitor = await db(visitor_for_connect_token)(token=token) if token else None
        if visitor is None:
            await self.close(code=CLOSE_UNAUTHORISED)
            return
        self.visitor: Visitor = visitor
        self.customer_id = visitor.customer_id
        await self.join(notify.customer_group(self.customer_id))
        await self.accept()
        await self.send_json(await db(self._welcome)())
        # A customer who comes back later still finds their open surveys.
        await self.send_surveys(ticket_id=None)

    def _welcome(self) -> dict[str, Any]:
        customer = self.visitor.customer
        available = desk_availability()
        return {
            "type": "welcome",
            "customer": {"name": customer.name, "email": customer.email, "verified": customer.verified},
            "conversations": [
                schemas.conversation_summary(notify.ticket_payload(t))
                for t in conversation_list(customer=customer).select_related("customer", "assignee__user")
            ],
            "availability": self._availability(available),
            "limits": {
                "max_chars": settings.CHAT_MAX_MESSAGE_CHARS,
                "messages_per_minute": settings.CHAT_RATE_LIMIT_PER_MINUTE,
            },
        }

    def _availability(self, available: Availability) -> dict[str, Any]:
        frame = schemas.availability(
            online=available.online,
            business_hours=available.business_hours,
            expected_reply_seconds=available.expected_reply_seconds,
            email_required=not available.online and not self.visitor.customer.email,
        )
        del frame["type"]
        return frame

    async def send_surveys(self, *, ticket_id: int | None) -> None:
        """The customer's own open surveys (of one ticket when given)."""
        for payload in await db(survey_widget_open)(customer_id=self.customer_id, ticket_id=ticket_id):
            await self.send_json(schemas.survey(payload))

    async def my_ticket(self, ticket_id: int) -> Ticket:
        ticket = await db(conversation_get)(customer=self.visitor.customer, ticket_id=ticket_id)
        if ticket is None:
            raise ProtocolError("not_found", "No such conversation.", ticket=ticket_id)
        return ticket

    async def on_contact(self, name: str, email: str, order_number: str = "") -> None:
        try:
            contact = await db(widget_contact_update)(
                visitor=self.visitor, name=name, email=email, order_number=order_number
            )
        except ValidationError as error:
            raise ProtocolError("invalid", "Some fields are wrong.", fields=error.message_dict) from None
        await self.send_json(
            {"type": "contact", "name": contact.name, "email": contact.email, "order_number": order_number.strip()}
        )

    async def on_message_send(
        self, client_msg_id: str, body: str, ticket: int | None = None, attachments: list[int] | None = None
    ) -> None:
        self.check_send(body, client_msg_id)
        # One budget per visitor, counted in the shared cache: a visitor opening
        # several sockets (on any daphne) does not get a budget for each.
        per_minute = settings.CHAT_RATE_LIMIT_PER_MINUTE
        if not await db(rate_allow)("chat-send", f"visitor:{self.visitor.pk}", per_minute=per_minute):
            raise _limited(WINDOW_SECONDS - time.time() % WINDOW_SECONDS, client_msg_id)
        try:
            posted = await db(widget_message_send)(
                visitor=self.visitor,
                client_msg_id=client_msg_id,
                body=body,
                ticket_id=ticket,
                attachments=attachments or [],
            )
        except Ticket.DoesNotExist:
            raise ProtocolError("not_found", "No such conversation.", client_msg_id=client_msg_id) from None
        except ValidationError as error:
            raise _stored_or_error(error, client_msg_id) from None
        await self.send_posted(posted)

    async def on_sync(self, ticket: int, after_seq: int, until_seq: int | None = None) -> None:
        await self.replay(await self.my_ticket(ticket), after_seq, until_seq)

    async def on_typing(self, ticket: int, typing: bool) -> None:
        found = await self.my_ticket(ticket)
        who = {"kind": AuthorKind.CUSTOMER, "id": self.customer_id, "name": self.visitor.customer.name or "Customer"}
        await self.channel_layer.group_send(
            notify.viewers_group(found.pk),
            {"type": "desk.typing", "ticket": found.pk, "typing": typing, "who": who, "internal": False},
        )

    async def on_receipt(self, ticket: int, seq: int, read: bool) -> None:
        found = await self.my_ticket(ticket)
        await db(ticket_mark_seen)(ticket=found, reader="customer", seq=seq, read=read)

    async def on_ping(self) -> None:
        def read() -> tuple[dict[int, int], Availability]:
            Visitor.objects.filter(pk=self.visitor.pk).update(last_seen_at=timezone.now())
            tickets = conversation_list(customer=self.visitor.customer, limit=5)
            return {t.pk: t.last_seq for t in tickets}, desk_availability()

        tickets, available = await db(read)()
        await self.send_json(schemas.pong(tickets=tickets, availability=self._availability(available)))

    async def desk_event(self, event: dict[str, Any]) -> None:
        ticket, message = event["ticket"], event["message"]
        if ticket["customer"]["id"] != self.customer_id or (message and message["internal"]):
            return
        change = event["change"]
        if message is not None:
            await self.send_json(schemas.message_frame(message, for_customer=True))
        if change in ("opened", "status"):
            await self.send_json(schemas.conversation(ticket))
            if change == "status" and ticket["status"] == TicketStatus.SOLVED:
                await self.send_surveys(ticket_id=ticket["id"])
        elif change == "receipt":
            await self.send_json(schemas.customer_receipt(ticket))

    async def desk_typing(self, event: dict[str, Any]) -> None:
        if event["who"]["kind"] == AuthorKind.AGENT and not event["internal"] and event["customer"] == self.customer_id:
            await self.send_json(
                schemas.typing(ticket=event["ticket"], typing=event["typing"], who=event["who"], for_customer=True)
            )


class AgentConsumer(ChatConsumer):
    """One signed-in agent's desk tab: events of every ticket they may see,
    and messages, typing and presence of the tickets they have open."""

    declared = schemas.AGENT_IN
    for_customer = False
    team_ids: set[int]
    scope_read_at: float
    accepted = False
    # Set once the socket is being closed for a revoked sign-in: nothing more is sent.
    ended = False

    async def connect(self) -> None:
        def read() -> tuple[Agent | None, sessions.SignIn | None]:
            return agent_for_user(self.scope["user"]), sessions.sign_in_of(self.scope["session"])

        agent, sign_in = await db(read)() if "session" in self.scope else (None, None)
        if agent is None or sign_in is None:
            await self.close(code=CLOSE_UNAUTHORISED)
            return
        self.agent: Agent = agent
        self.sign_in = sign_in
        self.subscribed: set[int] = set()
        # ticket -> channel name -> (agent id, name, typing, last heard)
        self.viewers: dict[int, dict[str, tuple[int, str, bool, float]]] = {}
        # Joined before the sign-in is checked again below, so that no
        # revocation falls between the check and the join.
        await self.join(sessions.user_group(agent.user_id))
        if not await self.refresh_scope(force=True):
            return
        await self.accept()
        self.accepted = True
        status = AgentStatus.ONLINE if agent.status == AgentStatus.OFFLINE else None
        await db(agent_seen)(agent=agent, status=status)
        await self.send_json(
            {
                "type": "welcome",
                "agent": {
                    "id": agent.pk,
                    "name": agent.display_name,
                    "role": agent.role,
                    "teams": sorted(self.team_ids),
                    "status": agent.status,
                },
            }
        )

    async def disconnect(self, code: int) -> None:
        for ticket_id in list(getattr(self, "subscribed", ())):
            await self.announce(ticket_id, "gone")
        await super().disconnect(code)

    async def refresh_scope(self, *, force: bool = False) -> bool:
        """Re-read the agent's role and teams and follow the matching groups;
        an agent who was signed out, deactivated or removed, or whose password
        changed, is disconnected (False)."""
        if not force and time.monotonic() - self.scope_read_at < SCOPE_REFRESH_SECONDS:
            return True

        def read() -> tuple[Agent | None, set[int], sessions.Reason | None]:
            agent = Agent.objects.filter(pk=self.agent.pk).select_related("user").first()
            if agent is None:
                return None, set(), "deactivated"
            if problem := sessions.sign_in_problem(self.sign_in, agent.user):
                return None, set(), problem
            return agent, set(agent.teams.values_list("pk", flat=True)), None

        agent, team_ids, problem = await db(read)()
        self.scope_read_at = time.monotonic()
        if agent is None:
            await self.revoked(problem or "deactivated")
            return False
        self.agent, self.team_ids = agent, team_ids
        wanted = {sessions.user_group(agent.user_id), notify.agent_group(agent.pk)}
        wanted |= {notify.team_group(t) for t in team_ids}
        if agent.role == AgentRole.MANAGER:
            wanted.add(notify.MANAGERS_GROUP)
        wanted |= {notify.viewers_group(t) for t in self.subscribed}
        for group in self.groups_joined - wanted:
            await self.leave(group)
        for group in wanted:
            await self.join(group)
        return True

    def may_see(self, ticket: Mapping[str, Any]) -> bool:
        assignee = ticket.get("assignee")
        return (
            self.agent.is_manager
            or ticket["team"] in self.team_ids
            or (assignee is not None and assignee["id"] == self.agent.pk)
        )

    async def visible_ticket(self, ticket_id: int) -> Ticket:
        """Checked against the database on every request that names a ticket."""
        ticket = await db(ticket_visible)(agent=self.agent, ticket_id=ticket_id)
        if ticket is None:
            self.subscribed.discard(ticket_id)
            await self.leave(notify.viewers_group(ticket_id))
            raise ProtocolError("not_found", "No such ticket.", ticket=ticket_id)
        return ticket

    async def on_subscribe(self, ticket: int) -> None:
        if not await self.refresh_scope(force=True):
            return
        found = await self.visible_ticket(ticket)
        self.subscribed.add(found.pk)
        await self.join(notify.viewers_group(found.pk))
        await self.send_json(
            {
                "type": "subscribed",
                "ticket": found.pk,
                "last_seq": found.last_seq,
                "customer_delivered_seq": found.customer_delivered_seq,
                "customer_read_seq": found.customer_read_seq,
            }
        )
        await self.send_presence(found.pk)
        await self.announce(found.pk, "here", hello=True)

    async def on_unsubscribe(self, ticket: int) -> None:
        if ticket in self.subscribed:
            self.subscribed.discard(ticket)
            await self.announce(ticket, "gone")
            await self.leave(notify.viewers_group(ticket))
            self.viewers.pop(ticket, None)

    async def on_message_send(
        self,
        ticket: int,
        client_msg_id: str,
        body: str,
        internal: bool = False,
        attachments: list[int] | None = None,
        seen_seq: int | None = None,
    ) -> None:
        self.check_send(body, client_msg_id)
        # A write others see: made only while the sign-in still holds.
        if not await self.refresh_scope(force=True):
            return
        found = await self.visible_ticket(ticket)
        try:
            posted = await db(message_post)(
                ticket=found,
                author_kind=AuthorKind.AGENT,
                agent=self.agent,
                body=body,
                internal=internal,
                client_msg_id=client_msg_id,
                attachments=attachments or [],
                seen_seq=seen_seq,
            )
        except ValidationError as error:
            raise _stored_or_error(error, client_msg_id) from None
        except NewerMessagesError as newer:
            raise schemas.newer_messages(ticket=found.pk, client_msg_id=client_msg_id, seqs=newer.seqs) from None
        await self.send_posted(posted)

    async def on_sync(self, ticket: int, after_seq: int, until_seq: int | None = None) -> None:
        await self.replay(await self.visible_ticket(ticket), after_seq, until_seq)

    async def on_typing(self, ticket: int, typing: bool, internal: bool = False) -> None:
        if ticket not in self.subscribed:
            raise ProtocolError("not_found", "Open the ticket first.", ticket=ticket)
        found = await self.visible_ticket(ticket)
        who = {"kind": AuthorKind.AGENT, "id": self.agent.pk, "name": self.agent.display_name}
        event = {
            "type": "desk.typing",
            "ticket": found.pk,
            "typing": typing,
            "who": who,
            "internal": internal,
            "customer": found.customer_id,
            "sender": self.channel_name,
        }
        await self.channel_layer.group_send(notify.viewers_group(found.pk), event)
        if not internal and found.status != TicketStatus.CLOSED:
            await self.channel_layer.group_send(notify.customer_group(found.customer_id), event)

    async def on_receipt(self, ticket: int, seq: int) -> None:
        found = await self.visible_ticket(ticket)
        await db(ticket_mark_seen)(ticket=found, reader="agent", seq=seq, read=True)
        await db(ticket_read)(agent=self.agent, ticket=found, seq=seq)  # this agent's unread mark

    async def on_status(self, status: str) -> None:
        if status not in (AgentStatus.ONLINE, AgentStatus.AWAY):
            raise ProtocolError("invalid", "Some fields are wrong.", fields={"status": ["Use online or away."]})
        await db(agent_seen)(agent=self.agent, status=AgentStatus(status))
        await self.send_json({"type": "status", "status": status})

    async def on_ping(self) -> None:
        # The net under lost revocation events: every ping checks the sign-in.
        if not await self.refresh_scope(force=True):
            return
        await db(agent_seen)(agent=self.agent)

        def last_seqs() -> dict[int, int]:
            return dict(Ticket.objects.filter(pk__in=self.subscribed).values_list("pk", "last_seq"))

        tickets = await db(last_seqs)() if self.subscribed else {}
        for ticket_id in self.subscribed:
            await self.announce(ticket_id, "here")  # keeps other viewers from expiring us
            await self.send_presence(ticket_id)
        await self.send_json(schemas.pong(tickets=tickets))

    async def revoked(self, reason: sessions.Reason) -> None:
        """Say why, then close with CLOSE_UNAUTHORISED: the desk shows
        "You were signed out" instead of reconnecting."""
        if self.ended:
            return
        if self.accepted:
            await self.send_json(schemas.error("signed_out", REVOKED_TEXT[reason], reason=reason))
        self.ended = True
        await self.close(code=CLOSE_UNAUTHORISED)
        for group in list(self.groups_joined):  # no more events while the close completes
            await self.leave(group)

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False) -> None:
        # Daphne refuses frames after a close (the consumer would crash on them).
        if not self.ended:
            await super().send(text_data, bytes_data, close)

    # Events from the channel layer.

    async def desk_revoked(self, event: dict[str, Any]) -> None:
        if event["session"] in (None, self.sign_in.digest):
            await self.revoked(event["reason"])

    async def desk_event(self, event: dict[str, Any]) -> None:
        if not self.first_copy(event) or not await self.refresh_scope():
            return
        ticket, message = event["ticket"], event["message"]
        if not self.may_see(ticket):
            if event["change"] == "assigned":
                await self.send_json(schemas.ticket_removed(ticket["id"]))
            return
        await self.send_json(schemas.ticket_frame(ticket, change=event["change"], message=message))
        if ticket["id"] in self.subscribed:
            if message is not None:
                await self.send_json(schemas.message_frame(message, for_customer=False))
            if event["change"] == "receipt":
                await self.send_json(schemas.agent_receipt(ticket))

    async def desk_typing(self, event: dict[str, Any]) -> None:
        ticket_id = event["ticket"]
        if ticket_id not in self.subscribed or event.get("sender") == self.channel_name:
            return
        who = event["who"]
        if who["kind"] == AuthorKind.AGENT:
            if who["id"] == self.agent.pk:
                return
            await self.note_viewer(ticket_id, event["sender"], who, typing=event["typing"])
        await self.send_json(
            schemas.typing(
                ticket=ticket_id, typing=event["typing"], who=who, internal=event["internal"], for_customer=False
            )
        )

    async def desk_presence(self, event: dict[str, Any]) -> None:
        ticket_id, sender = event["ticket"], event["sender"]
        if ticket_id not in self.subscribed or sender == self.channel_name:
            return
        if event["state"] == "gone":
            if self.viewers.get(ticket_id, {}).pop(sender, None) is not None:
                await self.send_presence(ticket_id)
            return
        await self.note_viewer(ticket_id, sender, event["who"], typing=None)
        if event["hello"]:
            # Tell the newcomer we are here too.
            await self.channel_layer.send(sender, self.presence_event(ticket_id, "here"))

    # Presence: each tab viewing a ticket tells the others, and repeats it on
    # every ping; a viewer not heard from in PRESENCE_EXPIRY_SECONDS is gone.

    def presence_event(self, ticket_id: int, state: str, *, hello: bool = False) -> dict[str, Any]:
        return {
            "type": "desk.presence",
            "ticket": ticket_id,
            "state": state,
            "hello": hello,
            "sender": self.channel_name,
            "who": {"kind": AuthorKind.AGENT, "id": self.agent.pk, "name": self.agent.display_name},
        }

    async def announce(self, ticket_id: int, state: str, *, hello: bool = False) -> None:
        await self.channel_layer.group_send(
            notify.viewers_group(ticket_id), self.presence_event(ticket_id, state, hello=hello)
        )

    async def note_viewer(self, ticket_id: int, sender: str, who: dict[str, Any], *, typing: bool | None) -> None:
        if who["id"] == self.agent.pk:
            return
        viewers = self.viewers.setdefault(ticket_id, {})
        before = viewers.get(sender)
        was_typing = before[2] if before else False
        viewers[sender] = (who["id"], who["name"], was_typing if typing is None else typing, time.monotonic())
        if before is None or before[2] != viewers[sender][2]:
            await self.send_presence(ticket_id)

    async def send_presence(self, ticket_id: int) -> None:
        viewers = self.viewers.setdefault(ticket_id, {})
        cutoff = time.monotonic() - PRESENCE_EXPIRY_SECONDS
        for sender in [s for s, v in viewers.items() if v[3] < cutoff]:
            del viewers[sender]
        people: dict[int, dict[str, Any]] = {}
        for agent_id, name, typing, _ in viewers.values():
            person = people.setdefault(agent_id, {"id": agent_id, "name": name, "typing": False})
            person["typing"] = person["typing"] or typing
        await self.send_json(
            schemas.presence(ticket=ticket_id, viewers=sorted(people.values(), key=lambda p: p["name"]))
        )
