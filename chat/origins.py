"""Which shop sites may embed the widget: WIDGET_ALLOWED_ORIGINS, exact
``scheme://host[:port]`` matches, read on every check so a settings change
needs no code reload. The widget's HTTP endpoints (chat.views, surveys.views)
share the gate and the CORS headers below."""

from __future__ import annotations

from typing import Any
from urllib.parse import ParseResult

from channels.security.websocket import OriginValidator
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


def widget_origin_allowed(origin: str | None) -> bool:
    if not origin:
        return False
    allowed = {o.rstrip("/").lower() for o in settings.WIDGET_ALLOWED_ORIGINS}
    return origin.rstrip("/").lower() in allowed


def widget_gate(request: HttpRequest) -> HttpResponse | None:
    """The whole answer when the view must not run: 403 for a page outside
    WIDGET_ALLOWED_ORIGINS (no CORS headers, so it cannot read it), the CORS
    preflight for an allowed one. None: go on, and answer through widget_cors."""
    origin = request.headers.get("Origin", "")
    if not widget_origin_allowed(origin):
        return JsonResponse({"detail": "This site is not allowed to embed the chat."}, status=403)
    if request.method == "OPTIONS":
        return widget_cors(request, HttpResponse(status=204))
    return None


def widget_cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """CORS headers naming the request's origin alone; call after widget_gate let it through."""
    response["Access-Control-Allow-Origin"] = request.headers["Origin"]
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Expose-Headers"] = "Retry-After"
    response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    return response


class WidgetOriginValidator(OriginValidator):
    """Refuses the widget's websocket handshake from any other origin."""

    def __init__(self, application: Any):
        super().__init__(application, allowed_origins=())

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        if parsed_origin is None or not parsed_origin.scheme or not parsed_origin.netloc:
            return False
        return widget_origin_allowed(f"{parsed_origin.scheme}://{parsed_origin.netloc}")
