"""Which shop sites may embed the widget: WIDGET_ALLOWED_ORIGINS, exact
``scheme://host[:port]`` matches, read on every check so a settings change
needs no code reload."""

from __future__ import annotations

from typing import Any
from urllib.parse import ParseResult

from channels.security.websocket import OriginValidator
from django.conf import settings


def widget_origin_allowed(origin: str | None) -> bool:
    if not origin:
        return False
    allowed = {o.rstrip("/").lower() for o in settings.WIDGET_ALLOWED_ORIGINS}
    return origin.rstrip("/").lower() in allowed


class WidgetOriginValidator(OriginValidator):
    """Refuses the widget's websocket handshake from any other origin."""

    def __init__(self, application: Any):
        super().__init__(application, allowed_origins=())

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        if parsed_origin is None or not parsed_origin.scheme or not parsed_origin.netloc:
            return False
        return widget_origin_allowed(f"{parsed_origin.scheme}://{parsed_origin.netloc}")
