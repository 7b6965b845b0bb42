"""Websocket clients for consumer tests: the whole ASGI application, driven
by Channels' WebsocketCommunicator, on the test database (transactional, as
consumers run ORM calls on other threads)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.cache import caches
from django.db import connection, connections
from django.test import Client

from helpdesk.asgi import application
from helpdesk.tickets.models import Agent

T = TypeVar("T")
SHOP_ORIGIN = "https://shop.example"
DESK_ORIGIN = "http://127.0.0.1"


@pytest.fixture(autouse=True)
def chat_settings(settings):
    settings.WIDGET_ALLOWED_ORIGINS = [SHOP_ORIGIN]
    caches["ratelimit"].clear()  # sessions are counted per client IP, and every test client is 127.0.0.1
    if "CONFIG" in settings.CHANNEL_LAYERS["default"]:  # Redis: a namespace of its own per test
        layer = copy.deepcopy(settings.CHANNEL_LAYERS)
        layer["default"]["CONFIG"]["prefix"] = f"test-{uuid.uuid4().hex[:8]}"
        settings.CHANNEL_LAYERS = layer
    return settings


@pytest.fixture(autouse=True)
def close_other_connections(transactional_db):
    """Threads that ran consumers end with the test's event loop and may
    leave their connections open; close them so the database can be dropped."""
    yield
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


def widget_session(shop_slug: str, **body: Any) -> dict[str, Any]:
    response = Client().post(
        "/widget/v1/session", {"shop": shop_slug, **body}, content_type="application/json", HTTP_ORIGIN=SHOP_ORIGIN
    )
    assert response.status_code == 200, response.content
    return response.json()


async def connect(path: str, headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def widget_connect(session: dict[str, Any], origin: str = SHOP_ORIGIN) -> WebsocketCommunicator:
    return await connect(f"/ws/widget/?token={session['connect_token']}", [(b"origin", origin.encode())])


def agent_cookie(agent: Agent) -> str:
    client = Client()
    client.force_login(agent.user)
    return client.cookies["sessionid"].value


async def agent_connect(cookie: str) -> WebsocketCommunicator:
    headers = [(b"origin", DESK_ORIGIN.encode()), (b"cookie", f"sessionid={cookie}".encode()), (b"host", b"127.0.0.1")]
    return await connect("/ws/agent/", headers)


async def receive_until(communicator: WebsocketCommunicator, kind: str, timeout: float = 3) -> dict[str, Any]:
    """The next frame of type ``kind``, skipping others."""
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        if frame["type"] == kind:
            return frame


async def drain(communicator: WebsocketCommunicator) -> list[dict[str, Any]]:
    frames = []
    while not await communicator.receive_nothing(timeout=0.3):
        frames.append(await communicator.receive_json_from())
    return frames


def new_id() -> str:
    return str(uuid.uuid4())


def db(func: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """ORM calls from async tests, on a worker thread that closes its
    connection afterwards, so the test database can be dropped at the end."""

    def run(*args: Any, **kwargs: Any) -> T:
        connections.close_all()  # one a previous test's clean-up may have cut
        try:
            return func(*args, **kwargs)
        finally:
            connections.close_all()

    return sync_to_async(run)
