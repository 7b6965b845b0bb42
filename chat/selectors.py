"""Reads for the widget: which visitor a handshake is, and their conversations."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.db.models import QuerySet

from chat.models import Visitor, visitor_token_digest
from chat.services import CONNECT_SALT
from helpdesk.customers.models import Customer, Shop
from helpdesk.tickets.models import Ticket


def shop_for_widget(*, slug: str) -> Shop | None:
    return Shop.objects.filter(slug=slug).first()


def visitor_for_connect_token(*, token: str) -> Visitor | None:
    """None for a missing, forged or expired pass."""
    try:
        data = signing.loads(token, salt=CONNECT_SALT, max_age=settings.WIDGET_CONNECT_TOKEN_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("v"), int):
        return None
    return Visitor.objects.select_related("customer", "shop").filter(pk=data["v"]).first()


def visitor_for_token(*, token: str) -> Visitor | None:
    """The visitor a widget's stored token names, or None."""
    if not token:
        return None
    return Visitor.objects.select_related("customer").filter(token_digest=visitor_token_digest(token)).first()


def conversation_list(*, customer: Customer, limit: int = 20) -> QuerySet[Ticket]:
    return Ticket.objects.filter(customer=customer).order_by("-created_at", "-id")[:limit]


def conversation_get(*, customer: Customer, ticket_id: int) -> Ticket | None:
    """The customer's own ticket, or None: never another customer's."""
    return Ticket.objects.filter(customer=customer, pk=ticket_id).first()
