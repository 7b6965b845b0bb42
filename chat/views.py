"""POST /widget/v1/session: a shop page's widget asks who it is talking for;
POST /widget/v1/attachments: it uploads a file to send in a conversation.

Cross-origin by design: only pages from WIDGET_ALLOWED_ORIGINS get an answer,
and CORS headers name that origin alone (chat.origins). No cookies are
involved, so there is nothing for CSRF to protect. Sessions are rate limited
per client IP: each makes a visitor and a contact row."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from rest_framework import serializers

from chat.origins import widget_cors, widget_gate
from chat.selectors import shop_for_widget, visitor_for_token
from chat.services import Identity, widget_attachment_upload, widget_connect_token, widget_session_start
from helpdesk.api import StrictInputSerializer
from helpdesk.tickets.models import Ticket
from surveys.ratelimit import WINDOW_SECONDS, client_ip, rate_allow

log = logging.getLogger(__name__)


class IdentityInput(StrictInputSerializer):
    id = serializers.CharField(max_length=100)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True, default="")  # as Customer.email
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    hmac = serializers.CharField(max_length=128)


class AttachmentInput(StrictInputSerializer):
    visitor_token = serializers.CharField(max_length=100)
    ticket = serializers.IntegerField(min_value=1)
    file = serializers.FileField(allow_empty_file=True, use_url=False)


# Room for the multipart envelope and the other fields around the file.
MULTIPART_OVERHEAD = 64 * 1024


class SessionInput(StrictInputSerializer):
    shop = serializers.SlugField()
    visitor_token = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    identity = IdentityInput(required=False, allow_null=True, default=None)


def _parse(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        return None


def _too_many_sessions(request: HttpRequest) -> HttpResponse | None:
    """429 once this client IP asked for more than WIDGET_SESSION_RATE_PER_MINUTE sessions this minute."""
    ip = client_ip(request.META.get("REMOTE_ADDR"))
    if rate_allow("widget-session", ip, per_minute=settings.WIDGET_SESSION_RATE_PER_MINUTE):
        return None
    response = JsonResponse({"detail": "Too many chat sessions from this address; try again in a minute."}, status=429)
    response["Retry-After"] = str(WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS)
    return response


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def session(request: HttpRequest) -> HttpResponse:
    if (refused := widget_gate(request)) is not None:
        return refused
    if (limited := _too_many_sessions(request)) is not None:
        return widget_cors(request, limited)
    body = _parse(request)
    if not isinstance(body, dict):
        return widget_cors(request, JsonResponse({"detail": "Send a JSON object."}, status=400))
    form = SessionInput(data=body)
    if not form.is_valid():
        return widget_cors(request, JsonResponse(form.errors, status=400))
    shop = shop_for_widget(slug=form.validated_data["shop"])
    if shop is None:
        return widget_cors(request, JsonResponse({"shop": ["No such shop."]}, status=400))
    raw_identity = form.validated_data["identity"]
    identity = (
        Identity(raw_identity["id"], raw_identity["email"], raw_identity["name"], raw_identity["hmac"])
        if raw_identity
        else None
    )
    started = widget_session_start(shop=shop, visitor_token=form.validated_data["visitor_token"], identity=identity)
    if started.identity_rejected:
        log.warning(
            "shop %s: widget identity with a wrong hmac for customer id %r",
            shop.slug,
            identity and identity.external_id,
        )
    customer = started.visitor.customer
    return widget_cors(
        request,
        JsonResponse(
            {
                "visitor_token": started.visitor_token,
                "connect_token": widget_connect_token(visitor=started.visitor),
                "websocket": "/ws/widget/",
                "customer": {"name": customer.name, "email": customer.email, "verified": customer.verified},
                "identity_rejected": started.identity_rejected,
            }
        ),
    )


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def attachments(request: HttpRequest) -> HttpResponse:
    """Multipart: ``visitor_token``, ``ticket`` (one of the visitor's
    conversations) and ``file``. Answers the attachment's id to put in the
    next ``message.send``."""
    if (refused := widget_gate(request)) is not None:
        return refused
    length = request.headers.get("Content-Length", "")
    declared = int(length) if length.isdigit() else 0
    if declared > settings.ATTACHMENT_MAX_BYTES + MULTIPART_OVERHEAD:
        # Refused before the body is read.
        limit = settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)
        return widget_cors(request, JsonResponse({"file": [f"A file can have at most {limit} MB."]}, status=400))
    form = AttachmentInput(data={**request.POST.dict(), **request.FILES.dict()})
    if not form.is_valid():
        return widget_cors(request, JsonResponse(form.errors, status=400))
    visitor = visitor_for_token(token=form.validated_data["visitor_token"])
    if visitor is None:
        return widget_cors(request, JsonResponse({"visitor_token": ["Start a chat session first."]}, status=403))
    try:
        attachment = widget_attachment_upload(
            visitor=visitor, ticket_id=form.validated_data["ticket"], upload=form.validated_data["file"]
        )
    except Ticket.DoesNotExist:
        return widget_cors(request, JsonResponse({"ticket": ["No such conversation."]}, status=404))
    except ValidationError as error:
        return widget_cors(request, JsonResponse(error.message_dict, status=400))
    return widget_cors(
        request,
        JsonResponse(
            {
                "id": attachment.pk,
                "name": attachment.name,
                "size": attachment.size,
                "content_type": attachment.content_type,
            },
            status=201,
        ),
    )
