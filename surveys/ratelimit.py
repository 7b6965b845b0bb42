"""Fixed-window request counters for the public survey endpoints, kept in
the "ratelimit" cache (Redis when REDIS_URL is set, so every process counts
together; settings.CACHES)."""

from __future__ import annotations

import time

from django.core.cache import caches

WINDOW_SECONDS = 60


def rate_allow(scope: str, key: str, *, per_minute: int, now: float | None = None) -> bool:
    """Count one request of ``key`` in ``scope``; False once more than
    ``per_minute`` came in the current minute."""
    cache = caches["ratelimit"]
    window = int((now if now is not None else time.time()) // WINDOW_SECONDS)
    name = f"surveys:{scope}:{key}:{window}"
    # add() then incr(): atomic in Redis, so concurrent requests cannot both read the old count.
    cache.add(name, 0, timeout=WINDOW_SECONDS * 2)
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, timeout=WINDOW_SECONDS * 2)
        count = 1
    return count <= per_minute


def client_ip(remote_addr: str | None) -> str:
    """The peer address daphne saw. Behind a proxy, daphne's --proxy-headers
    puts the client's address here; forwarded headers are never read directly,
    as a client could forge them."""
    return remote_addr or "unknown"
