"""Identity signing for the chat widget.

A shop that knows its logged-in customer signs the customer's id with the
shop's widget secret (hex HMAC-SHA256) on its own server and hands the
signature to the widget. Only a valid signature binds a chat to that customer.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

VISITOR_ID_PREFIX = "visitor:"


def widget_secret_new() -> str:
    return secrets.token_urlsafe(32)


def identity_hmac(*, secret: str, external_id: str) -> str:
    """What the shop's server computes for its logged-in customer."""
    return hmac.new(secret.encode(), external_id.encode(), hashlib.sha256).hexdigest()


def identity_valid(*, secret: str, external_id: str, mac: str) -> bool:
    if not secret or not external_id or not mac:
        return False
    expected = identity_hmac(secret=secret, external_id=external_id).encode()
    return hmac.compare_digest(expected, mac.lower().encode())
