"""Widget sessions and what customers do in the chat. Ticket changes go
through helpdesk.tickets.services; this module decides which customer a
browser is and which conversation a message belongs to."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from chat.models import Visitor, visitor_token_digest
from helpdesk.customers.identity import VISITOR_ID_PREFIX, identity_valid
from helpdesk.customers.models import Customer, Order, Shop
from helpdesk.tickets.models import Attachment, AuthorKind, Message, Ticket, TicketChannel, TicketStatus
from helpdesk.tickets.selectors import desk_availability
from helpdesk.tickets.services import PostedMessage, attachment_upload, message_post, ticket_open

CONNECT_SALT = "chat.widget.connect"


@dataclass(frozen=True)
class Identity:
    """What the shop's page says about its logged-in customer."""

    external_id: str
    email: str
    name: str
    mac: str


@dataclass(frozen=True)
class WidgetSession:
    visitor: Visitor
    visitor_token: str
    identity_rejected: bool


def _visitor_new(shop: Shop, customer: Customer) -> tuple[Visitor, str]:
    raw = secrets.token_urlsafe(32)
    return Visitor.objects.create(shop=shop, customer=customer, token_digest=visitor_token_digest(raw)), raw


def _verified_customer(shop: Shop, identity: Identity) -> Customer:
    """The shop vouched for this customer; make the row if the shop has not synced it yet."""
    customer, _ = Customer.objects.get_or_create(
        shop=shop,
        external_id=identity.external_id,
        defaults={"email": identity.email, "name": identity.name, "verified": True},
    )
    return customer


@transaction.atomic
def widget_session_start(*, shop: Shop, visitor_token: str = "", identity: Identity | None = None) -> WidgetSession:
    """Resume the browser's visitor or make one. A token is resumed only for
    the same person: a signed-in customer's token needs their identity, and
    an anonymous contact's token is dropped once the shop signs someone in,
    so a shared computer never shows one customer another's chats."""
    verified = identity is not None and identity_valid(
        secret=shop.widget_secret, external_id=identity.external_id, mac=identity.mac
    )
    visitor = (
        Visitor.objects.select_related("customer")
        .filter(shop=shop, token_digest=visitor_token_digest(visitor_token))
        .first()
        if visitor_token
        else None
    )
    if verified:
        assert identity is not None
        customer = _verified_customer(shop, identity)
        if visitor is None or visitor.customer_id != customer.pk:
            visitor, visitor_token = _visitor_new(shop, customer)
    elif visitor is None or visitor.customer.verified:
        contact = Customer.objects.create(
            shop=shop, external_id=f"{VISITOR_ID_PREFIX}{uuid.uuid4().hex}", email="", verified=False
        )
        visitor, visitor_token = _visitor_new(shop, contact)
    Visitor.objects.filter(pk=visitor.pk).update(last_seen_at=timezone.now())
    return WidgetSession(visitor, visitor_token, identity_rejected=identity is not None and not verified)


def widget_connect_token(*, visitor: Visitor) -> str:
    """A short-lived signed pass for the websocket handshake."""
    return signing.dumps({"v": visitor.pk}, salt=CONNECT_SALT, compress=True)


def widget_contact_update(*, visitor: Visitor, name: str, email: str, order_number: str = "") -> Customer:
    """The pre-chat form of an anonymous visitor. Stored on their own contact
    row, unverified; it never touches a shop customer with the same email."""
    contact = visitor.customer
    if contact.verified:
        raise ValidationError({"email": ["You are signed in with the shop; your details come from it."]})
    errors: dict[str, list[str]] = {}
    name, email = name.strip()[:200], email.strip()[:254]
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = ["Enter a valid email address."]
    if len(order_number.strip()) > 50:
        errors["order_number"] = ["An order number has at most 50 characters."]
    if errors:
        raise ValidationError(errors)
    contact.name, contact.email = name or contact.name, email or contact.email
    contact.save(update_fields=["name", "email", "updated_at"])
    visitor.claimed_order_number = order_number.strip()
    visitor.save(update_fields=["claimed_order_number"])
    return contact


@transaction.atomic
def widget_message_send(
    *, visitor: Visitor, client_msg_id: str, body: str, ticket_id: int | None, attachments: Sequence[int] = ()
) -> PostedMessage:
    """Store a customer's chat message in ``ticket_id``, else in their open
    conversation, else in a new ticket: a chat while agents are online, an
    email ticket otherwise (which needs an email address to answer).
    ``attachments`` were uploaded to that conversation beforehand, so a new
    conversation starts with text."""
    customer = Customer.objects.select_for_update().get(pk=visitor.customer_id)  # one new ticket at a time
    existing = (
        Message.objects.select_related("ticket", "author_agent__user")
        .filter(ticket__customer=customer, client_msg_id=client_msg_id)
        .first()
    )
    if existing is not None:
        return PostedMessage(existing, created=False)
    # A merged ticket is closed, but message_post carries its messages over to the one it went into.
    tickets = Ticket.objects.filter(customer=customer).exclude(status=TicketStatus.CLOSED, merged_into__isnull=True)
    ticket = (
        tickets.filter(pk=ticket_id).first()
        if ticket_id is not None
        else tickets.filter(merged_into__isnull=True).order_by("-created_at").first()
    )
    if ticket_id is not None and ticket is None:
        raise Ticket.DoesNotExist
    if ticket is not None:
        return message_post(
            ticket=ticket,
            author_kind=AuthorKind.CUSTOMER,
            body=body,
            client_msg_id=client_msg_id,
            attachments=attachments,
        )
    if attachments:
        raise ValidationError({"attachments": ["Files go with a conversation: send a message first."]})
    online = desk_availability().online
    if not online and not customer.email:
        raise ValidationError({"email": ["We are away: leave your email address so we can answer you."]})
    claimed = visitor.claimed_order_number
    order = Order.objects.filter(customer=customer, number=claimed).first() if claimed and customer.verified else None
    ticket = ticket_open(
        customer=customer,
        subject="",
        channel=TicketChannel.CHAT if online else TicketChannel.EMAIL,
        body=body,
        order=order,
        client_msg_id=client_msg_id,
        claimed_order_number="" if order else claimed,
    )
    return PostedMessage(ticket.messages.select_related("ticket").get(seq=1), created=True)


def widget_attachment_upload(*, visitor: Visitor, ticket_id: int, upload: UploadedFile) -> Attachment:
    """A file the visitor will send in their conversation ``ticket_id``;
    raises Ticket.DoesNotExist for a ticket that is not their customer's."""
    ticket = Ticket.objects.filter(customer_id=visitor.customer_id, pk=ticket_id).first()
    if ticket is None:
        raise Ticket.DoesNotExist
    return attachment_upload(ticket=ticket, author_kind=AuthorKind.CUSTOMER, upload=upload)
