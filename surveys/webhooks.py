"""Outgoing webhooks: the body, its signature, one delivery attempt and when
to retry. The durable task surveys.tasks.webhook_deliver drives them."""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any

SIGNATURE_HEADER = "X-Helpdesk-Signature"
EVENT_HEADER = "X-Helpdesk-Event"
TIMEOUT_SECONDS = 10


def webhook_body(event: str, data: dict[str, Any], *, delivery: str, at: datetime) -> str:
    """The JSON sent: ``event``, a delivery ``id`` (the same on every retry, so
    a receiver can drop duplicates), ``created_at`` and ``data``."""
    return json.dumps({"event": event, "id": delivery, "created_at": at.isoformat(), "data": data}, sort_keys=True)


def webhook_signature(body: str, secret: str) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of the exact body bytes with the secret."""
    return "sha256=" + hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


def webhook_retry_at(attempt: int, *, now: datetime, max_attempts: int, base_seconds: int) -> datetime | None:
    """When to try again after attempt number ``attempt`` (from 1) failed:
    base, 2 x base, 4 x base ...; None once ``max_attempts`` were made."""
    if attempt >= max_attempts:
        return None
    return now + timedelta(seconds=base_seconds * 2 ** (attempt - 1))


class DeliveryFailed(Exception):
    pass


def webhook_post(url: str, *, event: str, body: str, secret: str) -> int:
    """POST the body; returns the 2xx status, raises DeliveryFailed otherwise."""
    request = urllib.request.Request(  # noqa: S310 (URLs come from the desk's own settings)
        url,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "helpdesk-surveys/1",
            EVENT_HEADER: event,
            SIGNATURE_HEADER: webhook_signature(body, secret),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            status = int(answer.status)
    except urllib.error.HTTPError as error:
        raise DeliveryFailed(f"HTTP {error.code}") from None
    except (urllib.error.URLError, OSError, TimeoutError) as error:
        raise DeliveryFailed(str(error)) from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status}")
    return status
