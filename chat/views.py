"""POST /widget/v1/session: a shop page's widget asks who it is talking for;
POST /widget/v1/attachments: it uploads a file to send in a conversation.

Cross-origin by design: only pages from WIDGET_ALLOWED_ORIGINS get an answer,
and CORS headers name that origin alone. No cookies are involved, so there
is nothing for CSRF to protect."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from rest_framework import serializers

from chat.origins import widget_origin_allowed
from chat.selectors import shop_for_widget, visitor_for_token
from chat.services import Identity, widget_attachment_upload, widget_connect_token, widget_session_start
from helpdesk.api import StrictInputSerializer
from helpdesk.tickets.models import Ticket

log = logging.getLogger(__name__)


class IdentityInput(StrictInputSerializer):
    id = serializers.CharField(max_length=100)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
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


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    return response


def _parse(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except ValueError:
        return None


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def session(request: HttpRequest) -> HttpResponse:
    origin = request.headers.get("Origin", "")
    if not widget_origin_allowed(origin):
        return JsonResponse({"detail": "This site is not allowed to embed the chat."}, status=403)
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), origin)
    body = _parse(request)
    if not isinstance(body, dict):
        return _cors(JsonResponse({"detail": "Send a JSON object."}, status=400), origin)
    form = SessionInput(data=body)
    if not form.is_valid():
        return _cors(JsonResponse(form.errors, status=400), origin)
    shop = shop_for_widget(slug=form.validated_data["shop"])
    if shop is None:
        return _cors(JsonResponse({"shop": ["No such shop."]}, status=400), origin)
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
    return _cors(
        JsonResponse(
            {
                "visitor_token": started.visitor_token,
                "connect_token": widget_connect_token(visitor=started.visitor),
                "websocket": "/ws/widget/",
                "customer": {"name": customer.name, "email": customer.email, "verified": customer.verified},
                "identity_rejected": started.identity_rejected,
            }
        ),
        origin,
    )


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def attachments(request: HttpRequest) -> HttpResponse:
    """Multipart: ``visitor_token``, ``ticket`` (one of the visitor's
    conversations) and ``file``. Answers the attachment's id to put in the
    next ``message.send``."""
    origin = request.headers.get("Origin", "")
    if not widget_origin_allowed(origin):
        return JsonResponse({"detail": "This site is not allowed to embed the chat."}, status=403)
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), origin)
    length = request.headers.get("Content-Length", "")
    declared = int(length) if length.isdigit() else 0
    if declared > settings.ATTACHMENT_MAX_BYTES + MULTIPART_OVERHEAD:
        # Refused before the body is read.
        limit = settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)
        return _cors(JsonResponse({"file": [f"A file can have at most {limit} MB."]}, status=400), origin)
    form = AttachmentInput(data={**request.POST.dict(), **request.FILES.dict()})
    if not form.is_valid():
        return _cors(JsonResponse(form.errors, status=400), origin)
    visitor = visitor_for_token(token=form.validated_data["visitor_token"])
    if visitor is None:
        return _cors(JsonResponse({"visitor_token": ["Start a chat session first."]}, status=403), origin)
    try:
        attachment = widget_attachment_upload(
            visitor=visitor, ticket_id=form.validated_data["ticket"], upload=form.validated_data["file"]
        )
    except Ticket.DoesNotExist:
        return _cors(JsonResponse({"ticket": ["No such conversation."]}, status=404), origin)
    except ValidationError as error:
        return _cors(JsonResponse(error.message_dict, status=400), origin)
    return _cors(
        JsonResponse(
            {
                "id": attachment.pk,
                "name": attachment.name,
                "size": attachment.size,
                "content_type": attachment.content_type,
            },
            status=201,
        ),
        origin,
    )
