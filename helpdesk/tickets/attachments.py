"""Files sent with messages: what a file is (sniffed from its first bytes,
never from the upload's name or header), what name it may show, and the
signed links that let a customer's widget (cross-origin, no cookies) fetch
attachments of their own conversation. No ORM here.
"""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core import signing

OCTET_STREAM = "application/octet-stream"
# Raster images a browser shows without running anything: served inline.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# How many bytes sniffing needs.
SNIFF_BYTES = 16
LINK_SALT = "helpdesk.tickets.attachment-link"
NAME_MAX_CHARS = 200


def sniff_content_type(head: bytes) -> str:
    """The type of a file from its first bytes: png, jpeg, gif, webp or pdf;
    anything else (svg and html included) is application/octet-stream."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(head) >= 12 and head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return OCTET_STREAM


def is_inline(content_type: str) -> bool:
    return content_type in INLINE_TYPES


def clean_name(raw: str) -> str:
    """The name to show: the last path part, without control characters, at
    most NAME_MAX_CHARS, keeping the extension when it has to be cut."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip().strip(".") or "file"
    if len(name) > NAME_MAX_CHARS:
        stem, dot, ext = name.rpartition(".")
        keep_ext = bool(dot) and 0 < len(ext) <= 16
        return stem[: NAME_MAX_CHARS - len(ext) - 1] + "." + ext if keep_ext else name[:NAME_MAX_CHARS]
    return name


def content_disposition(name: str, content_type: str) -> str:
    """``inline`` for raster images, ``attachment`` for everything else; the
    name as RFC 6266 ``filename*`` with a plain ASCII fallback."""
    kind = "inline" if is_inline(content_type) else "attachment"
    fallback = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def download_path(attachment_id: int, name: str) -> str:
    """The desk's download path; agents use it with their session."""
    return f"/attachments/{attachment_id}/{quote(name, safe='')}"


def customer_link(attachment_id: int, name: str) -> str:
    """A download path a customer may use without a session, for
    ATTACHMENT_LINK_SECONDS. Only put it in frames sent to the attachment's
    customer, and only for public messages."""
    token = signing.dumps({"a": attachment_id}, salt=LINK_SALT, compress=True)
    return f"{download_path(attachment_id, name)}?s={token}"


def customer_link_valid(token: str, attachment_id: int) -> bool:
    """False for a forged, expired or other attachment's token."""
    try:
        data: Any = signing.loads(token, salt=LINK_SALT, max_age=settings.ATTACHMENT_LINK_SECONDS)
    except signing.BadSignature:
        return False
    return isinstance(data, dict) and data.get("a") == attachment_id


def payload(*, attachment_id: int, name: str, size: int, content_type: str) -> dict[str, Any]:
    """An attachment as messages carry it to agents."""
    return {
        "id": attachment_id,
        "name": name,
        "size": size,
        "content_type": content_type,
        "url": download_path(attachment_id, name),
    }


def for_customer(item: dict[str, Any]) -> dict[str, Any]:
    """The same attachment with a signed link instead of the session path."""
    return {**item, "url": customer_link(item["id"], item["name"])}
