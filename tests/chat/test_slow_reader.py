"""A desk socket that stops reading cannot grow daphne's memory without
bound: past CHAT_MAX_OUTBOUND_BYTES waiting to be written, daphne drops it
(chat.transport), and keeps serving everyone else.

Across a real daphne process: the slow reader is a raw TCP socket with a tiny
receive buffer that does the websocket handshake, opens a ticket, and then
reads nothing while notes of several kilobytes are written on that ticket
through the services (so each reaches it as a ``ticket`` and a ``message``
frame, through Redis).

A reading client is never dropped for asking: a ``sync`` answer holds at most
half the limit, and the client asks for the rest."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client
from websockets.asyncio.client import connect as ws_connect

from helpdesk.tickets.models import Agent, Ticket
from helpdesk.tickets.services import ticket_note
from tests.chat.conftest import agent_connect, agent_cookie, db, drain, receive_until
from tests.factories import make_agent, make_customer, make_shop, make_team, make_ticket
from tests.servers import Daphne

# Each note's message frame is about 24 KB: its body's characters are
# written as \u00fc escapes. 400 of them are 10 MB, ten times the default limit.
NOTE_BODY = "\u00fc" * 4000
NOTES = 400
MiB = 1024 * 1024


@pytest.fixture
def desk(transactional_db, settings) -> Iterator[Daphne]:
    """One daphne sharing this test's channel-layer namespace, so that the
    notes written here reach its sockets."""
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.fail("Set REDIS_URL: the notes reach daphne only through Redis")
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    process = Daphne(env={"REDIS_URL": redis_url, "CHANNEL_LAYER_PREFIX": prefix})
    try:
        yield process.start()
    finally:
        process.stop()


def session_of(agent: Agent) -> str:
    client = Client()
    client.force_login(agent.user)
    return client.cookies["sessionid"].value


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def client_frame(payload: dict[str, object]) -> bytes:
    """One masked text frame, as a browser sends it."""
    data = json.dumps(payload).encode()
    mask = os.urandom(4)
    header = bytes([0x81, 0x80 | len(data)]) if len(data) < 126 else bytes([0x81, 0xFE]) + struct.pack("!H", len(data))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def slow_reader(port: int, session_id: str, ticket_id: int) -> socket.socket:
    """A desk socket that opens ``ticket_id`` and will read nothing more."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/agent/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:{port}\r\n"
            f"Cookie: sessionid={session_id}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    sock.sendall(client_frame({"type": "subscribe", "ticket": ticket_id}))
    return sock


def read_until_closed(sock: socket.socket, timeout: float) -> tuple[bool, int]:
    """Start reading again: (whether the server had closed the connection, bytes read)."""
    sock.settimeout(timeout)
    received = 0
    try:
        while chunk := sock.recv(65536):
            received += len(chunk)
    except ConnectionResetError:
        return True, received
    except TimeoutError:
        return False, received
    return True, received


def write_notes(ticket: Ticket, author: Agent) -> None:
    # In batches: the events of one transaction leave together once it commits.
    for _ in range(NOTES // 50):
        with transaction.atomic():
            for _ in range(50):
                ticket_note(ticket=ticket, agent=author, body=NOTE_BODY)


@pytest.mark.multiprocess
def test_a_socket_that_stops_reading_is_dropped_and_others_are_still_served(desk):
    general = make_team("general")
    lena, omar = make_agent("lena", teams=(general,)), make_agent("omar", teams=(general,))
    rami = make_agent("rami", teams=(make_team("returns"),))
    ticket = make_ticket(make_customer(make_shop("acme")[0]), general)
    lena_session, rami_session = session_of(lena), session_of(rami)
    pid = desk.process.pid

    async def scenario() -> tuple[int, int, bool, int]:
        # Given rami's desk (another team) reading normally, and lena's desk
        # reading nothing with a ticket of her team open
        url = desk.url.replace("http://", "ws://") + "/ws/agent/"
        headers = {"Cookie": f"sessionid={rami_session}"}
        async with ws_connect(url, origin=desk.url, additional_headers=headers, proxy=None) as healthy:
            assert json.loads(await asyncio.wait_for(healthy.recv(), 10))["type"] == "welcome"
            stalled = await asyncio.to_thread(slow_reader, desk.port, lena_session, ticket.pk)
            await asyncio.sleep(1)  # the subscribe is handled
            before = rss_bytes(pid)

            # When omar writes 10 MB of notes on the ticket
            started = time.monotonic()
            await asyncio.to_thread(write_notes, ticket, omar)
            await asyncio.sleep(2)  # the last events reach daphne
            after = rss_bytes(pid)
            print(  # the figures, with -s
                f"\nslow reader: {NOTES} notes in {time.monotonic() - started:.1f}s;"
                f" daphne RSS {before / MiB:.1f} MiB -> {after / MiB:.1f} MiB"
            )

            # Then rami's desk, open all along, is still answered
            await healthy.send(json.dumps({"type": "ping"}))
            async with asyncio.timeout(10):
                while json.loads(await healthy.recv())["type"] != "pong":
                    pass
        closed, received = await asyncio.to_thread(read_until_closed, stalled, 5)
        stalled.close()
        print(f"slow reader: closed by the server: {closed}, bytes it could still read: {received}")
        return before, after, closed, received

    before, after, closed, received = asyncio.run(scenario())

    # And daphne had dropped the stalled socket and grew by far less than what was sent to it
    assert closed
    assert received < 5 * MiB
    assert after - before < 4 * MiB  # without the limit: 8 MiB, and the socket kept open


@pytest.mark.django_db(transaction=True)
async def test_a_sync_answer_holds_at_most_half_the_outbound_limit(settings):
    # Given a ticket with five notes of 24 KB each and a 64 KiB limit
    settings.CHAT_MAX_OUTBOUND_BYTES = 64 * 1024

    def given() -> tuple[Agent, Ticket]:
        general = make_team("general")
        lena = make_agent("lena", teams=(general,))
        ticket = make_ticket(make_customer(make_shop("acme")[0]), general)
        for _ in range(5):
            ticket_note(ticket=ticket, agent=lena, body=NOTE_BODY)
        return lena, ticket

    lena, ticket = await db(given)()
    desk = await agent_connect(await db(agent_cookie)(lena))
    await receive_until(desk, "welcome")

    # When the desk syncs the whole ticket, page by page as the protocol says
    held: list[int] = []
    after = 0
    pages = 0
    while after < 6:
        await desk.send_json_to({"type": "sync", "ticket": ticket.pk, "after_seq": after})
        frames = await drain(desk)
        held += [f["seq"] for f in frames if f["type"] == "message"]
        after = next(f for f in frames if f["type"] == "synced")["through"]
        assert sum(len(json.dumps(f)) for f in frames if f["type"] == "message") < 32 * 1024 + 25 * 1024
        pages += 1

    # Then it got every message once, in pages of at most two 24 KB messages
    assert held == [1, 2, 3, 4, 5, 6]
    assert pages == 3
    await desk.disconnect()
