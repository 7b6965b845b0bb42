"""A small asyncio client of the chat protocol (docs/protocol.md), for the
multi-process tests, the benchmark and shops' scripted checks.

It keeps the protocol's delivery rules and nothing more: an outbox of unacked
messages resent with the same ``client_msg_id`` after every reconnect; per
ticket a watermark ``have`` moved on by contiguous messages and by ``synced``;
``sync`` for a gap, after a reconnect and when ``pong`` shows a higher
``last_seq``; messages merged by id; reconnects with jittered exponential
backoff. Every message received is kept by ticket, once, so a caller can check
that it holds each message exactly once.

    customer = await CustomerClient("http://127.0.0.1:8000", shop="acme", origin="https://shop.example").start()
    ack = await customer.send("Where is my parcel?")
    reply = await customer.wait_for_message(lambda m: m.author_kind == "agent")
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Self, TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Origin

log = logging.getLogger(__name__)
T = TypeVar("T")

PING_SECONDS = 20.0
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 30.0
# A connection that stayed up this long starts the backoff over.
STABLE_SECONDS = 10.0
# A sync unanswered for this long (its connection died, say) may be sent again.
SYNC_RETRY_SECONDS = 10.0
# Errors that refuse a frame for now, not for good: resent after ``retry_after``.
RETRYABLE_ERRORS = frozenset({"rate_limited", "unavailable"})


def backoff_delay(attempt: int) -> float:
    """Seconds to wait before reconnect ``attempt`` (0 for the first)."""
    return random.uniform(0, min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt))


class ChatError(Exception):
    """An ``error`` frame answering one of our messages, or a refused session."""

    def __init__(self, code: str, message: str, frame: dict[str, Any] | None = None):
        super().__init__(f"{code}: {message}")
        self.code, self.frame = code, frame or {}


@dataclass(frozen=True)
class ChatMessage:
    ticket: int
    id: int
    seq: int
    author_kind: str
    body: str
    client_msg_id: str
    internal: bool
    received_at: float  # time.monotonic() when the frame arrived

    @classmethod
    def from_frame(cls, frame: dict[str, Any], received_at: float) -> ChatMessage:
        return cls(
            ticket=frame["ticket"],
            id=frame["id"],
            seq=frame["seq"],
            author_kind=frame["author"]["kind"],
            body=frame["body"],
            client_msg_id=frame.get("client_msg_id") or "",
            internal=bool(frame.get("internal", False)),
            received_at=received_at,
        )


@dataclass
class _Ticket:
    """What the client holds of one ticket."""

    have: int = 0  # every message we may see with seq <= have is held
    last_seq: int = 0  # the highest seq the server has told us of
    messages: dict[int, ChatMessage] = field(default_factory=dict)  # by id
    ahead: set[int] = field(default_factory=set)  # seqs held above have
    sync_sent_at: float | None = None
    subscribed_seq: int | None = None  # agents: last_seq in this connection's `subscribed`


@dataclass
class _Outgoing:
    frame: dict[str, Any]
    ack: asyncio.Future[dict[str, Any]]


class ChatClient:
    """What both kinds share. Subclasses say how to open a connection and what
    to do right after ``welcome``."""

    def __init__(self, base_url: str, *, origin: str, ping_seconds: float = PING_SECONDS):
        self.base_url = base_url.rstrip("/")
        self.origin = origin
        self.ping_seconds = ping_seconds
        self.welcome: dict[str, Any] = {}
        self.connected = False  # open, and welcomed
        self.connections = 0  # successful opens, for tests of reconnects
        self.last_problem = ""  # why the last connection failed, for diagnostics
        self.duplicates_ignored = 0  # message frames for a message already held
        self.errors: list[dict[str, Any]] = []
        self._tickets: dict[int, _Ticket] = {}
        self._outbox: dict[str, _Outgoing] = {}
        self._ws: ClientConnection | None = None
        self._changed = asyncio.Condition()
        self._fatal: BaseException | None = None
        self._closing = False
        self._runner: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()

    # Public API.

    async def start(self, timeout: float = 30) -> Self:
        """Connect, and return once the first ``welcome`` is in."""
        self._runner = asyncio.create_task(self._run())
        await self.wait_connected(timeout)
        return self

    async def wait_connected(self, timeout: float = 30) -> None:
        try:
            await self.wait_until(lambda: self.connected, timeout)
        except TimeoutError:
            raise TimeoutError(f"not connected after {timeout}s; last problem: {self.last_problem}") from None

    async def close(self) -> None:
        """Disconnect for good; a ``send`` still waiting for its ack is cancelled."""
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        tasks = [task for task in [self._runner, *self._background] if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for outgoing in self._outbox.values():
            outgoing.ack.cancel()

    @property
    def ticket_ids(self) -> list[int]:
        return sorted(self._tickets)

    def messages(self, ticket: int) -> list[ChatMessage]:
        """Every message held for the ticket, in seq order."""
        state = self._tickets.get(ticket)
        return sorted(state.messages.values(), key=lambda m: m.seq) if state else []

    def have(self, ticket: int) -> int:
        state = self._tickets.get(ticket)
        return state.have if state else 0

    def unacked(self) -> list[str]:
        """client_msg_ids sent and not yet acknowledged."""
        return list(self._outbox)

    async def wait_until(self, condition: Callable[[], T | None], timeout: float = 10) -> T:
        """Wait until ``condition()`` is truthy (checked after every frame); return its value."""
        async with asyncio.timeout(timeout), self._changed:
            while not (result := condition()):
                if self._fatal is not None:
                    raise self._fatal
                await self._changed.wait()
            return result

    async def wait_for_message(self, predicate: Callable[[ChatMessage], bool], timeout: float = 10) -> ChatMessage:
        def found() -> ChatMessage | None:
            for state in self._tickets.values():
                for message in state.messages.values():
                    if predicate(message):
                        return message
            return None

        return await self.wait_until(found, timeout)

    async def _send_message(self, frame: dict[str, Any]) -> dict[str, Any]:
        """Put a ``message.send`` in the outbox, send it, and return its ``ack``.
        Cancelling the wait does not take the message back: it stays in the
        outbox until acknowledged."""
        client_msg_id = str(uuid.uuid4())
        frame = {"type": "message.send", "client_msg_id": client_msg_id, **frame}
        ack: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._outbox[client_msg_id] = _Outgoing(frame, ack)
        await self._send_frame(frame)
        return await asyncio.shield(ack)

    # The connection.

    async def _open(self) -> ClientConnection:
        raise NotImplementedError

    async def _resume(self) -> None:
        """After ``welcome``: catch up on every followed ticket, then resend the outbox."""
        for ticket, state in self._tickets.items():
            await self._sync(ticket, state, after_seq=state.have)
        await self._resend_outbox()

    async def _run(self) -> None:
        try:
            await self._connect_forever()
        except Exception as error:  # a bug here must not leave callers waiting for nothing
            log.exception("%s stopped", type(self).__name__)
            await self._fail(error)

    async def _connect_forever(self) -> None:
        attempt = 0
        while not self._closing:
            opened_at = None
            try:
                self._ws = await self._open()
                opened_at = time.monotonic()
                self.connections += 1
                pinger = asyncio.create_task(self._ping_loop(self._ws))
                try:
                    async for text in self._ws:
                        await self._handle(json.loads(text), time.monotonic())
                finally:
                    pinger.cancel()
            except ChatError as error:  # refused for good: a caller must fix something
                await self._fail(error)
                return
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError) as problem:
                self.last_problem = repr(problem)
                log.info("%s: connection lost or refused: %r", type(self).__name__, problem)
            finally:
                self._ws = None
                self.connected = False
                for state in self._tickets.values():
                    state.sync_sent_at, state.subscribed_seq = None, None
            if opened_at is not None and time.monotonic() - opened_at >= STABLE_SECONDS:
                attempt = 0
            await asyncio.sleep(backoff_delay(attempt))
            attempt += 1

    async def _fail(self, error: BaseException) -> None:
        self._fatal = error
        async with self._changed:
            self._changed.notify_all()

    async def _ping_loop(self, ws: ClientConnection) -> None:
        # Jittered, so clients that connected together (a restart) do not ping together.
        while True:
            await asyncio.sleep(self.ping_seconds * random.uniform(0.75, 1.25))
            await self._send_frame({"type": "ping"}, ws)

    async def _send_frame(self, frame: dict[str, Any], ws: ClientConnection | None = None) -> None:
        """Send if connected; a frame lost with its connection is covered by the
        outbox and the resume sync."""
        ws = ws or self._ws
        if ws is None:
            return
        with contextlib.suppress(ConnectionClosed):
            await ws.send(json.dumps(frame))

    # Frames from the server.

    async def _handle(self, frame: dict[str, Any], at: float) -> None:
        kind = frame.get("type")
        if kind == "welcome":
            self.welcome = frame
            await self._on_welcome(frame)
            self.connected = True
        elif kind == "message":
            await self._on_message(ChatMessage.from_frame(frame, at))
        elif kind == "ack":
            outgoing = self._outbox.pop(frame["client_msg_id"], None)
            if outgoing is not None and not outgoing.ack.done():
                outgoing.ack.set_result(frame)
        elif kind == "synced":
            state = self._state(frame["ticket"])
            state.have = max(state.have, frame["through"])
            state.last_seq = max(state.last_seq, frame.get("last_seq", 0))
            state.sync_sent_at = None
            await self._check(frame["ticket"])
        elif kind == "pong":
            for ticket, last_seq in frame["tickets"].items():
                state = self._state(int(ticket))
                state.last_seq = max(state.last_seq, last_seq)
                await self._check(int(ticket))
        elif kind == "error":
            await self._on_error(frame)
        else:
            await self._on_other(frame)
        async with self._changed:
            self._changed.notify_all()

    async def _on_welcome(self, frame: dict[str, Any]) -> None:
        await self._resume()

    async def _on_other(self, frame: dict[str, Any]) -> None:
        """Frames a subclass cares about (typing, presence, receipts...)."""

    async def _on_message(self, message: ChatMessage) -> None:
        state = self._state(message.ticket)
        if message.id in state.messages:
            self.duplicates_ignored += 1
            return
        state.messages[message.id] = message
        if message.seq > state.have:
            state.ahead.add(message.seq)
        await self._check(message.ticket)

    async def _on_error(self, frame: dict[str, Any]) -> None:
        self.errors.append(frame)
        log.info("%s: error frame %s", type(self).__name__, frame)
        if frame["code"] in RETRYABLE_ERRORS:
            # Resend the refused message later; when the error does not name one
            # (a frame other than message.send was refused), the whole outbox.
            refused = self._outbox.get(frame.get("client_msg_id") or "")
            resend = partial(self._send_frame, refused.frame) if refused else self._resend_outbox
            self._later(frame.get("retry_after", 1), resend)
            return
        outgoing = self._outbox.pop(frame.get("client_msg_id") or "", None)
        if outgoing is not None:
            if not outgoing.ack.done():
                outgoing.ack.set_exception(ChatError(frame["code"], frame.get("message", ""), frame))
        elif isinstance(frame.get("ticket"), int) and frame["ticket"] in self._tickets:
            self._tickets[frame["ticket"]].sync_sent_at = None

    async def _resend_outbox(self) -> None:
        for outgoing in list(self._outbox.values()):
            await self._send_frame(outgoing.frame)

    def _later(self, seconds: float, action: Callable[[], Awaitable[None]]) -> None:
        async def run() -> None:
            await asyncio.sleep(seconds)
            await action()

        task = asyncio.create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # The watermark.

    def _state(self, ticket: int) -> _Ticket:
        return self._tickets.setdefault(ticket, _Ticket())

    async def _check(self, ticket: int) -> None:
        """Move ``have`` over contiguous messages, then ask for what is missing:
        up to the first held message after a gap, or to the newest we know of."""
        state = self._state(ticket)
        while state.have + 1 in state.ahead:
            state.have += 1
        state.ahead = {seq for seq in state.ahead if seq > state.have}
        if state.sync_sent_at is not None and time.monotonic() - state.sync_sent_at < SYNC_RETRY_SECONDS:
            return
        if state.ahead:
            await self._sync(ticket, state, after_seq=state.have, until_seq=min(state.ahead) - 1)
        elif state.last_seq > state.have:
            await self._sync(ticket, state, after_seq=state.have)

    async def _sync(self, ticket: int, state: _Ticket, *, after_seq: int, until_seq: int | None = None) -> None:
        if self._ws is None:
            return
        frame: dict[str, Any] = {"type": "sync", "ticket": ticket, "after_seq": after_seq}
        if until_seq is not None:
            frame["until_seq"] = until_seq
        state.sync_sent_at = time.monotonic()
        await self._send_frame(frame)


class CustomerClient(ChatClient):
    """A shop customer's widget: a session over HTTP, then ``/ws/widget/``.
    Reconnects resume the same visitor with its ``visitor_token``."""

    def __init__(
        self,
        base_url: str,
        *,
        shop: str,
        origin: str,
        identity: dict[str, str] | None = None,
        ping_seconds: float = PING_SECONDS,
    ):
        super().__init__(base_url, origin=origin, ping_seconds=ping_seconds)
        self.shop, self.identity = shop, identity
        self.visitor_token = ""
        self.session: dict[str, Any] = {}

    async def send(self, body: str, ticket: int | None = None) -> dict[str, Any]:
        """Send a message (``ticket`` None: the open conversation, or a new one); return its ``ack``."""
        return await self._send_message({"body": body, "ticket": ticket})

    async def _open(self) -> ClientConnection:
        body: dict[str, Any] = {"shop": self.shop}
        if self.visitor_token:
            body["visitor_token"] = self.visitor_token
        if self.identity:
            body["identity"] = self.identity
        self.session = await asyncio.to_thread(_post_json, self.base_url + "/widget/v1/session", body, self.origin)
        self.visitor_token = self.session["visitor_token"]
        query = urllib.parse.urlencode({"token": self.session["connect_token"]})
        url = _ws_url(self.base_url) + self.session.get("websocket", "/ws/widget/") + "?" + query
        return await connect(url, origin=Origin(self.origin), proxy=None)

    async def _on_welcome(self, frame: dict[str, Any]) -> None:
        for conversation in frame.get("conversations", []):
            state = self._state(conversation["ticket"])
            state.last_seq = max(state.last_seq, conversation["last_seq"])
        await self._resume()

    async def _on_other(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "conversation":
            self._state(frame["ticket"])  # follow it from now on


class AgentClient(ChatClient):
    """A signed-in agent's desk tab on ``/ws/agent/``, with the desk's session
    cookie. Follows the tickets it subscribes to (all new ones with
    ``auto_subscribe``); ``tickets`` holds the newest ``ticket`` event of each."""

    def __init__(
        self,
        base_url: str,
        *,
        session_id: str,
        origin: str | None = None,
        auto_subscribe: bool = False,
        ping_seconds: float = PING_SECONDS,
    ):
        parts = urllib.parse.urlsplit(base_url)
        super().__init__(base_url, origin=origin or f"{parts.scheme}://{parts.netloc}", ping_seconds=ping_seconds)
        self.session_id = session_id
        self.auto_subscribe = auto_subscribe
        self.tickets: dict[int, dict[str, Any]] = {}

    async def send(self, body: str, ticket: int, *, internal: bool = False) -> dict[str, Any]:
        return await self._send_message({"ticket": ticket, "body": body, "internal": internal})

    async def subscribe(self, ticket: int, timeout: float = 10) -> None:
        """Open the ticket and return once every message up to its ``last_seq`` is held."""
        state = self._state(ticket)
        await self._subscribe_frames(ticket, state)

        def caught_up() -> bool:
            return state.subscribed_seq is not None and state.have >= state.subscribed_seq

        await self.wait_until(caught_up, timeout)

    async def _subscribe_frames(self, ticket: int, state: _Ticket) -> None:
        await self._send_frame({"type": "subscribe", "ticket": ticket})
        await self._sync(ticket, state, after_seq=state.have)

    async def _open(self) -> ClientConnection:
        headers = {"Cookie": f"sessionid={self.session_id}"}
        return await connect(
            _ws_url(self.base_url) + "/ws/agent/", origin=Origin(self.origin), additional_headers=headers, proxy=None
        )

    async def _resume(self) -> None:
        # Subscriptions belong to a connection: open the tickets again first.
        for ticket, state in self._tickets.items():
            await self._send_frame({"type": "subscribe", "ticket": ticket})
            await self._sync(ticket, state, after_seq=state.have)
        await self._resend_outbox()

    async def _on_other(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "subscribed":
            state = self._state(frame["ticket"])
            state.subscribed_seq = frame["last_seq"]
            state.last_seq = max(state.last_seq, frame["last_seq"])
        elif frame["type"] == "ticket":
            ticket = frame["ticket"]
            self.tickets[ticket["id"]] = ticket
            if self.auto_subscribe and not frame["removed"] and ticket["id"] not in self._tickets:
                await self._subscribe_frames(ticket["id"], self._state(ticket["id"]))


def _ws_url(base_url: str) -> str:
    parts = urllib.parse.urlsplit(base_url)
    return f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"


def _post_json(url: str, body: dict[str, Any], origin: str) -> dict[str, Any]:
    """POST JSON; a 4xx is a ChatError (the caller must fix something), other
    failures are OSErrors worth retrying."""
    request = urllib.request.Request(  # noqa: S310 (the caller's desk URL)
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Origin": origin},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer
    except urllib.error.HTTPError as error:
        if 400 <= error.code < 500:
            raise ChatError("session_refused", f"{error.code} {error.read()[:300]!r}") from None
        raise
