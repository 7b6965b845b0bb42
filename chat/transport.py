"""A per-socket limit on what daphne holds for a client that does not read.

ASGI has no backpressure: a consumer's send returns as soon as daphne has
handed the frame to Twisted, which keeps in memory whatever the client's TCP
window does not take. A socket that stops reading (a frozen tab, a hostile
client) would so hold every event sent to it, without bound. After each frame
we look at what the connection still holds unwritten and drop it past
CHAT_MAX_OUTBOUND_BYTES; its consumer then gets the disconnect of any lost
connection, and a client that is alive after all reconnects and resyncs
(docs/protocol.md).

helpdesk.asgi calls ``limit_daphne_buffers``. It patches daphne's websocket
protocol, which only daphne runs: under other servers and the test
communicator it changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from daphne.ws_protocol import WebSocketProtocol
from django.conf import settings

log = logging.getLogger(__name__)


def buffered_bytes(transport: Any) -> int:
    """Bytes a Twisted transport holds unwritten, down to the TCP one under
    TLS. Reads Twisted's FileDescriptor buffers (``dataBuffer`` from
    ``offset``, plus ``_tempDataLen`` not yet joined to it); tests/chat/
    test_slow_reader.py fails if a Twisted upgrade renames them."""
    total = 0
    for _ in range(3):  # websocket -> TLS -> TCP at most
        if transport is None:
            break
        data = getattr(transport, "dataBuffer", None)
        if data is not None:
            total += len(data) - getattr(transport, "offset", 0) + getattr(transport, "_tempDataLen", 0)
        transport = getattr(transport, "transport", None)
    return total


def _limited(handle_reply: Any) -> Any:
    def handle_reply_within_limit(protocol: WebSocketProtocol, message: dict[str, Any]) -> None:
        handle_reply(protocol, message)
        if message.get("type") != "websocket.send" or protocol.transport is None:
            return
        held = buffered_bytes(protocol.transport)
        if held > settings.CHAT_MAX_OUTBOUND_BYTES:
            log.warning(
                "websocket %s %s: %d bytes the client has not read, over CHAT_MAX_OUTBOUND_BYTES; dropped",
                protocol.client_addr,
                protocol.request.path,
                held,
            )
            protocol.wasNotCleanReason = "client stopped reading: over CHAT_MAX_OUTBOUND_BYTES"
            # Daphne sends nothing more to a disconnected protocol; the
            # consumer's disconnect follows once Twisted reports the loss.
            protocol.server.protocol_disconnected(protocol)
            protocol.dropConnection(abort=True)  # discards the buffer, no close handshake

    handle_reply_within_limit.within_limit = True  # type: ignore[attr-defined]
    return handle_reply_within_limit


def limit_daphne_buffers() -> None:
    """Idempotent: the ASGI module may be imported more than once."""
    if not getattr(WebSocketProtocol.handle_reply, "within_limit", False):
        WebSocketProtocol.handle_reply = _limited(WebSocketProtocol.handle_reply)
