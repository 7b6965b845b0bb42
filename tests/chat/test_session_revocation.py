"""Desk sockets end with their sign-in: signing out closes that session's
sockets, a password change or a deactivation all of the user's, each with an
``error`` frame (code ``signed_out``) and close code 4401. When the
channel-layer event is lost, the next ping closes the socket."""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.test import Client
from django.utils.crypto import get_random_string
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from chat.consumers import CLOSE_UNAUTHORISED
from helpdesk.tickets.models import Agent
from tests.chat.conftest import agent_connect, db, receive_until
from tests.factories import make_agent, make_team
from tests.servers import Daphne

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lena() -> Agent:
    """An agent who may use the admin, whose logout view is the desk's sign-out."""
    agent = make_agent("lena", teams=(make_team("general"),))
    get_user_model().objects.filter(pk=agent.user_id).update(is_staff=True)
    return agent


def signed_in(agent: Agent) -> Client:
    """A browser of ``agent``: a session of its own."""
    client = Client()
    client.force_login(agent.user)
    return client


async def open_desk(client: Client) -> WebsocketCommunicator:
    desk = await agent_connect(client.cookies["sessionid"].value)
    await receive_until(desk, "welcome")
    return desk


async def assert_revoked(desk: WebsocketCommunicator, reason: str) -> None:
    frame = await receive_until(desk, "error")
    assert (frame["code"], frame["reason"]) == ("signed_out", reason)
    assert await desk.receive_output(timeout=3) == {"type": "websocket.close", "code": CLOSE_UNAUTHORISED}


async def assert_open(desk: WebsocketCommunicator) -> None:
    await desk.send_json_to({"type": "ping"})
    await receive_until(desk, "pong")


def save_user(agent: Agent, **fields: Any) -> None:
    user = get_user_model().objects.get(pk=agent.user_id)
    password = fields.pop("password", None)
    if password is not None:
        user.set_password(password)
    for name, value in fields.items():
        setattr(user, name, value)
    user.save()


async def test_signing_out_closes_the_sockets_of_that_session_only(lena):
    # Given lena's desk open in two browsers, the second signed in after the first connected
    first_browser = await db(signed_in)(lena)
    first = await open_desk(first_browser)
    second = await open_desk(await db(signed_in)(lena))
    await assert_open(first)

    # When she signs out in the first browser (the admin's logout view)
    response = await db(first_browser.post)("/admin/logout/")
    assert response.status_code == 200

    # Then only the first browser's socket closes
    await assert_revoked(first, "signed_out")
    await assert_open(second)
    await second.disconnect()


async def test_a_password_change_closes_all_of_the_users_sockets(lena):
    desks = [await open_desk(await db(signed_in)(lena)) for _ in range(2)]

    await db(save_user)(lena, password="a-new-password")

    for desk in desks:
        await assert_revoked(desk, "password_changed")


async def test_deactivating_an_agent_closes_all_of_their_sockets(lena):
    desks = [await open_desk(await db(signed_in)(lena)) for _ in range(2)]
    other = await open_desk(await db(signed_in)(await db(make_agent)("omar")))

    await db(save_user)(lena, is_active=False)

    for desk in desks:
        await assert_revoked(desk, "deactivated")
    await assert_open(other)
    await other.disconnect()


async def test_saves_that_change_neither_password_nor_activity_close_nothing(lena):
    desk = await open_desk(await db(signed_in)(lena))

    await db(save_user)(lena, first_name="Lena")

    await assert_open(desk)
    await desk.disconnect()


async def test_a_password_change_rolled_back_closes_nothing(lena):
    desk = await open_desk(await db(signed_in)(lena))

    def change_then_fail() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            save_user(lena, password="never-committed")
            raise RuntimeError

    await db(change_then_fail)()

    assert await desk.receive_nothing(timeout=0.5)
    await assert_open(desk)
    await desk.disconnect()


async def test_a_lost_sign_out_event_closes_the_socket_at_the_next_ping(lena):
    # Given a desk whose sign-out event never reaches the channel layer
    browser = await db(signed_in)(lena)
    desk = await open_desk(browser)
    with mock.patch("chat.sessions._send"):
        await db(browser.logout)()
    assert await desk.receive_nothing(timeout=0.5)

    # When the desk's heartbeat comes, then the socket closes
    await desk.send_json_to({"type": "ping"})
    await assert_revoked(desk, "signed_out")


async def test_a_password_changed_behind_the_models_back_closes_at_the_next_ping(lena):
    # A queryset update sends no signal: only the ping's check sees it.
    desk = await open_desk(await db(signed_in)(lena))
    await db(get_user_model().objects.filter(pk=lena.user_id).update)(password=make_password("changed"))

    await desk.send_json_to({"type": "ping"})
    await assert_revoked(desk, "password_changed")


async def test_a_message_sent_after_a_lost_sign_out_event_is_refused(lena):
    browser = await db(signed_in)(lena)
    desk = await open_desk(browser)
    with mock.patch("chat.sessions._send"):
        await db(browser.logout)()

    await desk.send_json_to({"type": "message.send", "ticket": 1, "client_msg_id": str(uuid.uuid4()), "body": "hi"})

    await assert_revoked(desk, "signed_out")


# Across a real daphne process: the sign-out reaches the socket through Redis.


@pytest.fixture
def desk_process(transactional_db) -> Iterator[Daphne]:
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.fail("Set REDIS_URL: the logout and the socket meet only through Redis")
    desk = Daphne(env={"REDIS_URL": redis_url, "CHANNEL_LAYER_PREFIX": f"test-rv-{uuid.uuid4().hex[:8]}"})
    try:
        yield desk.start()
    finally:
        desk.stop()


def http_logout(base_url: str, session_id: str) -> int:
    """POST /admin/logout/ as the browser would, with a CSRF cookie and header."""
    csrf = get_random_string(32)
    request = urllib.request.Request(  # noqa: S310 (a local URL)
        base_url + "/admin/logout/",
        method="POST",
        data=b"",
        headers={
            "Cookie": f"sessionid={session_id}; csrftoken={csrf}",
            "X-CSRFToken": csrf,
            "Origin": base_url,
            "Referer": base_url + "/inbox/",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return int(response.status)


@pytest.mark.multiprocess
def test_signing_out_over_http_closes_the_socket_on_daphne_within_seconds(desk_process, lena):
    session_id = signed_in(lena).cookies["sessionid"].value
    ws_url = desk_process.url.replace("http://", "ws://") + "/ws/agent/"

    async def scenario() -> tuple[list[dict[str, Any]], int | None, float]:
        headers = {"Cookie": f"sessionid={session_id}"}
        async with ws_connect(ws_url, origin=desk_process.url, additional_headers=headers, proxy=None) as socket:
            frames = [json.loads(await asyncio.wait_for(socket.recv(), 10))]
            assert frames[0]["type"] == "welcome"
            started = time.monotonic()
            assert await asyncio.to_thread(http_logout, desk_process.url, session_id) == 200
            try:
                async with asyncio.timeout(5):
                    async for text in socket:
                        frames.append(json.loads(text))
            except ConnectionClosed:
                pass
            return frames, socket.close_code, time.monotonic() - started

    frames, close_code, seconds = asyncio.run(scenario())

    assert close_code == CLOSE_UNAUTHORISED
    assert frames[-1]["type"] == "error" and frames[-1]["reason"] == "signed_out"
    assert seconds < 5
