"""Every websocket frame of the chat, declared once (docs/protocol.md).

Inbound frames are checked here before a consumer sees them: the ``type``
must be declared for the endpoint, every field declared and of its type, no
field unknown. Outbound frames are built by the functions below, one per
``type``, so what a client can receive is listed in one place too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from helpdesk.tickets import attachments
from helpdesk.tickets.notify import initials

CLIENT_ID_MAX = 64
# Ids and seqs are 64-bit columns; a larger number names nothing.
INT_MAX = 2**63 - 1


@dataclass(frozen=True)
class Field:
    kind: type | tuple[type, ...]
    required: bool = True
    max_chars: int | None = None
    nullable: bool = False
    # For lists: the settings name of the most items allowed; items are ids (integers from 1).
    max_items_setting: str | None = None

    def check(self, value: Any) -> str | None:
        """An error message, or None when the value fits."""
        if value is None:
            return None if self.nullable else "This field may not be null."
        if isinstance(value, bool) and self.kind is not bool:
            return f"Expected {self._name()}."
        if not isinstance(value, self.kind):
            return f"Expected {self._name()}."
        if isinstance(value, list):
            if any(isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= INT_MAX for item in value):
                return "Expected a list of ids."
            most = getattr(settings, self.max_items_setting) if self.max_items_setting else None
            if most is not None and len(value) > most:
                return f"At most {most} items."
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            return "Must be zero or more."
        if isinstance(value, int) and value > INT_MAX:
            return f"Must be at most {INT_MAX}."
        if isinstance(value, str) and "\x00" in value:
            return "Null characters are not allowed."  # PostgreSQL text cannot hold them
        if self.max_chars is not None and isinstance(value, str) and len(value) > self.max_chars:
            return f"At most {self.max_chars} characters."
        return None

    def _name(self) -> str:
        names: dict[Any, str] = {str: "a string", int: "an integer", bool: "true or false", list: "a list"}
        return names.get(self.kind, "a value")


Schema = Mapping[str, Field]

TICKET = Field(int)
CLIENT_MSG_ID = Field(str, max_chars=CLIENT_ID_MAX)
# Bodies are bounded by the frame size here and by CHAT_MAX_MESSAGE_CHARS in the consumer.
BODY = Field(str)
# Files uploaded beforehand (POST /widget/v1/attachments or the ticket API), sent with the message.
ATTACHMENTS = Field(list, required=False, max_items_setting="ATTACHMENTS_PER_MESSAGE")
SYNC: Schema = {"ticket": TICKET, "after_seq": Field(int), "until_seq": Field(int, required=False, nullable=True)}
PING: Schema = {}

WIDGET_IN: Mapping[str, Schema] = {
    "contact": {
        "name": Field(str, max_chars=200),
        "email": Field(str, max_chars=254),
        "order_number": Field(str, required=False),
    },
    "message.send": {
        "client_msg_id": CLIENT_MSG_ID,
        "body": BODY,
        "ticket": Field(int, required=False, nullable=True),
        "attachments": ATTACHMENTS,
    },
    "sync": SYNC,
    "typing": {"ticket": TICKET, "typing": Field(bool)},
    "receipt": {"ticket": TICKET, "seq": Field(int), "read": Field(bool)},
    "ping": PING,
}

AGENT_IN: Mapping[str, Schema] = {
    "subscribe": {"ticket": TICKET},
    "unsubscribe": {"ticket": TICKET},
    "message.send": {
        "ticket": TICKET,
        "client_msg_id": CLIENT_MSG_ID,
        "body": BODY,
        "internal": Field(bool, required=False),
        "attachments": ATTACHMENTS,
        # The newest seq the agent's page shows: a public reply waits while the customer wrote after it.
        "seen_seq": Field(int, required=False, nullable=True),
    },
    "sync": SYNC,
    "typing": {"ticket": TICKET, "typing": Field(bool), "internal": Field(bool, required=False)},
    "receipt": {"ticket": TICKET, "seq": Field(int)},
    "status": {"status": Field(str, max_chars=16)},
    "ping": PING,
}


class ProtocolError(Exception):
    def __init__(self, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.code, self.message, self.extra = code, message, extra

    def frame(self) -> dict[str, Any]:
        return error(self.code, self.message, **self.extra)


@dataclass(frozen=True)
class Inbound:
    type: str
    data: dict[str, Any]


def parse(text: str | None, *, declared: Mapping[str, Schema], max_bytes: int) -> Inbound:
    """Check one frame against the endpoint's declared types; raises ProtocolError."""
    if text is None:
        raise ProtocolError("bad_json", "Frames are JSON text, not binary.")
    if len(text.encode()) > max_bytes:
        raise ProtocolError("frame_too_large", f"A frame can have at most {max_bytes} bytes.")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        raise ProtocolError("bad_json", "The frame is not valid JSON.") from None
    if not isinstance(frame, dict):
        raise ProtocolError("bad_json", "A frame is a JSON object.")
    kind = frame.pop("type", None)
    if not isinstance(kind, str) or kind not in declared:
        raise ProtocolError("unknown_type", f"Unknown type; expected one of: {', '.join(sorted(declared))}.")
    schema = declared[kind]
    errors = {key: ["Unknown field."] for key in frame if key not in schema}
    for key, field in schema.items():
        if key not in frame:
            if field.required:
                errors[key] = ["This field is required."]
        elif (problem := field.check(frame[key])) is not None:
            errors[key] = [problem]
    if errors:
        raise ProtocolError("invalid", "Some fields are wrong.", fields=errors)
    return Inbound(kind, frame)


# Outbound frames. ``message``/``ticket`` payloads come from helpdesk.tickets.notify.


def error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, **extra}


def ack(message: dict[str, Any], *, duplicate: bool) -> dict[str, Any]:
    return {
        "type": "ack",
        "client_msg_id": message["client_msg_id"],
        "ticket": message["ticket"],
        "id": message["id"],
        "seq": message["seq"],
        "created_at": message["created_at"],
        "duplicate": duplicate,
    }


def message_frame(message: dict[str, Any], *, for_customer: bool) -> dict[str, Any]:
    frame = {"type": "message", **message}
    if for_customer:
        del frame["internal"]  # customers only ever receive public messages
        # No session on the shop's origin: signed, expiring links instead.
        frame["attachments"] = [attachments.for_customer(item) for item in message.get("attachments", ())]
    return frame


def newer_messages(*, ticket: int, client_msg_id: str, seqs: list[int]) -> ProtocolError:
    return ProtocolError(
        "newer_messages",
        "The customer wrote again while you were typing. Read it, then send again.",
        ticket=ticket,
        client_msg_id=client_msg_id,
        seqs=seqs,
    )


def synced(*, ticket: int, through: int, last_seq: int) -> dict[str, Any]:
    return {"type": "synced", "ticket": ticket, "through": through, "last_seq": last_seq}


def typing(
    *, ticket: int, typing: bool, who: dict[str, Any], internal: bool = False, for_customer: bool
) -> dict[str, Any]:
    if for_customer:
        return {
            "type": "typing",
            "ticket": ticket,
            "typing": typing,
            "name": who["name"],
            "initials": initials(who["name"]),
        }
    return {"type": "typing", "ticket": ticket, "typing": typing, "who": who, "internal": internal}


def pong(*, tickets: Mapping[int, int], **extra: Any) -> dict[str, Any]:
    return {"type": "pong", "tickets": {str(k): v for k, v in tickets.items()}, **extra}


def availability(
    *, online: bool, business_hours: bool, expected_reply_seconds: int | None, email_required: bool
) -> dict[str, Any]:
    return {
        "type": "availability",
        "online": online,
        "business_hours": business_hours,
        "expected_reply_seconds": expected_reply_seconds,
        "email_required": email_required,
    }


def conversation(ticket: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "conversation", **conversation_summary(ticket)}


def conversation_summary(ticket: Mapping[str, Any]) -> dict[str, Any]:
    """A customer's view of a ticket: no team, priority or assignee."""
    return {
        "ticket": ticket["id"],
        "subject": ticket["subject"],
        "status": ticket["status"],
        "channel": ticket["channel"],
        "last_seq": ticket["last_seq"],
        "read_seq": ticket["agent_read_seq"],
    }


def customer_receipt(ticket: Mapping[str, Any]) -> dict[str, Any]:
    return {"type": "receipt", "ticket": ticket["id"], "read_seq": ticket["agent_read_seq"]}


def agent_receipt(ticket: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "receipt",
        "ticket": ticket["id"],
        "customer_delivered_seq": ticket["customer_delivered_seq"],
        "customer_read_seq": ticket["customer_read_seq"],
    }


def ticket_frame(ticket: Mapping[str, Any], *, change: str, message: Mapping[str, Any] | None) -> dict[str, Any]:
    """For agents' lists: what changed, with a preview of a new message."""
    frame: dict[str, Any] = {"type": "ticket", "ticket": dict(ticket), "change": change, "removed": False}
    if message is not None:
        frame["message"] = {
            "seq": message["seq"],
            "author": message["author"],
            "internal": message["internal"],
            "preview": message["body"][:140] or _files_preview(message.get("attachments", ())),
        }
    return frame


def _files_preview(items: Any) -> str:
    names = [item["name"] for item in items]
    return ("Attachment: " + ", ".join(names))[:140] if names else ""


def ticket_removed(ticket_id: int) -> dict[str, Any]:
    return {"type": "ticket", "ticket": {"id": ticket_id}, "change": "assigned", "removed": True}


def presence(*, ticket: int, viewers: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "presence", "ticket": ticket, "viewers": viewers}


def survey(payload: Mapping[str, Any]) -> dict[str, Any]:
    """An open CSAT/NPS survey for the customer's widget; ``payload`` comes
    from surveys.selectors.survey_widget_payload (docs/protocol.md, docs/surveys.md)."""
    return {"type": "survey", **payload}
