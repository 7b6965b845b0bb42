"""Desk sockets end with the sign-in they were opened with (docs/protocol.md).

Signing out closes the sockets of that session; a password change, a
deactivation or a deleted user closes all of the user's sockets. The change
is sent to the user's group once it is committed, and the channel layer is
only a nudge: each socket also re-checks its sign-in on every ping
(``sign_in_problem``), so a lost event costs at most one heartbeat.

The hooks are model and auth signals because the changes come from Django
itself (its login views, the admin, ``manage.py changepassword``), not from
our services. They change nothing; they only tell sockets to close.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import import_module
from typing import Any, Literal

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.signals import user_logged_out
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare

log = logging.getLogger(__name__)

# The one handler name (consumer method ``desk_revoked``).
EVENT_TYPE = "desk.revoked"
Reason = Literal["signed_out", "password_changed", "deactivated"]


def user_group(user_id: int) -> str:
    """Every desk socket of one user."""
    return f"desk.user.{user_id}"


def session_digest(session_key: str) -> str:
    """Names a session in channel-layer events without putting the key, a
    credential, into Redis."""
    return hashlib.sha256(session_key.encode()).hexdigest()


@dataclass(frozen=True)
class SignIn:
    """What a socket was opened with: its session and the session's auth hash."""

    session_key: str
    auth_hash: str

    @property
    def digest(self) -> str:
        return session_digest(self.session_key)


def sign_in_of(session: SessionBase) -> SignIn | None:
    """The sign-in of a handshake's session, None when it has none. May read
    the session, so call it off the event loop."""
    key, auth_hash = session.session_key, session.get(HASH_SESSION_KEY)
    return SignIn(key, auth_hash) if key and auth_hash else None


def sign_in_problem(sign_in: SignIn, user: AbstractBaseUser) -> Reason | None:
    """Why ``user``'s socket opened with ``sign_in`` may no longer be open,
    or None: the session must still exist and be theirs, the user active, and
    the hash (which changes with the password) still the user's. Two queries
    at most: the session and nothing else (``user`` is fresh from the caller)."""
    if not user.is_active:
        return "deactivated"
    if not _hash_is_current(sign_in.auth_hash, user):
        return "password_changed"
    engine = import_module(settings.SESSION_ENGINE)
    data = engine.SessionStore(session_key=sign_in.session_key).load()  # {} when gone or expired
    if str(data.get(SESSION_KEY)) != str(user.pk) or not _hash_is_current(data.get(HASH_SESSION_KEY) or "", user):
        return "signed_out"
    return None


def _hash_is_current(auth_hash: str, user: AbstractBaseUser) -> bool:
    """As Django checks a session: the current secret, or one of SECRET_KEY_FALLBACKS."""
    if constant_time_compare(auth_hash, user.get_session_auth_hash()):
        return True
    return any(constant_time_compare(auth_hash, h) for h in user.get_session_auth_fallback_hash())


def revoke_on_commit(*, user_id: int, reason: Reason, session_key: str | None = None) -> None:
    """After commit, close the user's desk sockets: those of ``session_key``
    only, or all of them when it is None."""
    event = {
        "type": EVENT_TYPE,
        "reason": reason,
        "session": session_digest(session_key) if session_key else None,
    }
    transaction.on_commit(lambda: _send(user_group(user_id), event))


def _send(group: str, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            async_to_sync(layer.group_send)(group, event)
        else:
            # async_to_sync cannot run on a thread with a running loop (see notify._send).
            with ThreadPoolExecutor(max_workers=1) as pool:
                pool.submit(async_to_sync(layer.group_send), group, event).result(timeout=10)
    except Exception:  # the sockets' next ping closes them anyway
        log.warning("%s: %s not sent", group, event["reason"], exc_info=True)


# Signal receivers, connected by chat.apps.


def on_logged_out(sender: Any, request: HttpRequest, user: AbstractBaseUser | None, **kwargs: Any) -> None:
    # Sent before the session is flushed, so its key is still the one signed out.
    if user is not None and user.pk is not None and request.session.session_key:
        revoke_on_commit(user_id=user.pk, reason="signed_out", session_key=request.session.session_key)


_WATCHED = frozenset({"password", "is_active"})


def on_user_pre_save(sender: Any, instance: Any, update_fields: frozenset[str] | None, **kwargs: Any) -> None:
    """Compare the password and is_active being saved with the stored ones.
    Every way Django changes a password ends in this save (set_password does
    not save); a queryset ``update()`` skips it, and the ping check is the net."""
    instance._desk_revoke = None
    if instance.pk is None or (update_fields is not None and not _WATCHED & set(update_fields)):
        return
    stored = sender._default_manager.filter(pk=instance.pk).values("password", "is_active").first()
    if stored is None:
        return
    if stored["is_active"] and not instance.is_active:
        instance._desk_revoke = "deactivated"
    elif stored["password"] != instance.password:
        instance._desk_revoke = "password_changed"


def on_user_post_save(sender: Any, instance: Any, **kwargs: Any) -> None:
    reason = getattr(instance, "_desk_revoke", None)
    if reason is not None:
        instance._desk_revoke = None
        revoke_on_commit(user_id=instance.pk, reason=reason)


def on_user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    revoke_on_commit(user_id=instance.pk, reason="deactivated")


def connect_signals() -> None:
    user_model = get_user_model()
    user_logged_out.connect(on_logged_out, dispatch_uid="chat.sessions.logged_out")
    pre_save.connect(on_user_pre_save, sender=user_model, dispatch_uid="chat.sessions.pre_save")
    post_save.connect(on_user_post_save, sender=user_model, dispatch_uid="chat.sessions.post_save")
    post_delete.connect(on_user_deleted, sender=user_model, dispatch_uid="chat.sessions.deleted")
