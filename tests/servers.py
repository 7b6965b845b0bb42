"""Real server processes for tests that cross process boundaries: daphne on
the test database, a static file server standing in for a shop's site, and,
for the fault tests, manage.py workers, a private Redis and a TCP proxy that
can cut the database off."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
ASGI_APP = "helpdesk.asgi:application"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_database_url() -> str:
    """The URL of the database the test run is using, for child processes."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (a local URL)
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


SHOP_ORIGIN = "https://shop.example"


def shared_desk_env(prefix: str, **extra: str) -> dict[str, str]:
    """What desk processes of one test share: the run's Redis (their only link
    to each other), a fresh channel-layer prefix and the shop's origin."""
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        raise RuntimeError("Set REDIS_URL: processes reach each other only through Redis")
    return {
        "REDIS_URL": redis_url,
        "CHANNEL_LAYER_PREFIX": f"test-{prefix}-{uuid.uuid4().hex[:8]}",
        "WIDGET_ALLOWED_ORIGINS": SHOP_ORIGIN,
        **extra,
    }


class DeskProcess:
    """A process of the desk on the test database, as in production: started
    by a subclass, stopped with SIGTERM (``stop``) or SIGKILL (``kill``)."""

    def __init__(self, *, env: Mapping[str, str] | None = None, log: Path | None = None):
        self.log = log
        self.env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings_test",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    def spawn(self, *args: str) -> subprocess.Popen[bytes]:
        self.process = subprocess.Popen(  # noqa: S603
            args,
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("ab") if self.log else subprocess.DEVNULL,
            stderr=subprocess.STDOUT if self.log else subprocess.DEVNULL,
        )
        return self.process

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is recorded, no clean websocket
        close, as when a machine dies."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class Daphne(DeskProcess):
    """One daphne process serving the desk."""

    def __init__(self, *, port: int | None = None, env: Mapping[str, str] | None = None, log: Path | None = None):
        super().__init__(env=env, log=log)
        self.port = port or free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Daphne:
        process = self.spawn(sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), ASGI_APP)
        wait_until_up(self.url + "/healthz", process)
        return self


class StaticSite:
    """python -m http.server over a folder: a page on another origin."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "http.server", "-b", "127.0.0.1", str(self.port), "-d", str(folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_up(self.url + "/", self.process)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class ManageCommand(DeskProcess):
    """A long-running ``manage.py`` command (``db_worker``, ``desk_sweep``)."""

    def __init__(self, *args: str, env: Mapping[str, str] | None = None, log: Path | None = None):
        super().__init__(env=env, log=log)
        self.args = args

    def start(self) -> ManageCommand:
        self.spawn(sys.executable, "manage.py", *self.args)
        return self


class RedisServer:
    """A private redis-server on a free port, which a test may kill and start
    again; never the machine's shared Redis. Nothing is kept on disk."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> RedisServer:
        self.process = subprocess.Popen(  # noqa: S603
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],  # noqa: S607
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on {self.port} did not answer within {timeout}s")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class TcpProxy:
    """A TCP proxy on a free port in front of ``host:port`` (PostgreSQL), on a
    thread of its own. ``cut()`` resets every connection through it and
    refuses new ones, as a database that went out of reach; ``restore()``
    accepts again."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> TcpProxy:
        self.thread.start()
        self._call(self._listen())
        return self

    def cut(self) -> None:
        self._call(self._cut())

    def restore(self) -> None:
        self._call(self._listen())

    def stop(self) -> None:
        self._call(self._cut())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    async def _listen(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, reuse_address=True)

    async def _cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            transport = writer.transport
            if isinstance(transport, asyncio.WriteTransport):
                transport.abort()  # a reset, not a polite close
        self.writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, upstream_writer}
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer), return_exceptions=True
        )
        self.writers -= {writer, upstream_writer}

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()
