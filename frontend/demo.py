"""Reads for /demo/shop/, the pretend shop page that embeds the widget.

The page stands in for a shop's own server: for a signed-in customer it
computes the identity HMAC the way a real shop would, with the shop's widget
secret, and hands it to the widget.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.http import HttpRequest

from helpdesk.customers.identity import identity_hmac
from helpdesk.customers.models import Customer, Shop

DEMO_SHOP_SLUG = "demo"
DEMO_SHOP_PATH = "/demo/shop/"
# How many demo customers the page offers to sign in as.
SIGN_IN_CHOICES = 5


@dataclass(frozen=True)
class DemoShop:
    shop: Shop | None  # None: the demo data is not loaded
    customer: Customer | None  # the signed-in demo customer, or None for an anonymous visitor
    identity: dict[str, str] | None  # what the page sets as window.HelpdeskWidget.identity
    choices: list[Customer]


def demo_shop_get(*, external_id: str = "") -> DemoShop:
    shop = Shop.objects.filter(slug=DEMO_SHOP_SLUG).first()
    if shop is None:
        return DemoShop(None, None, None, [])
    customers = Customer.objects.filter(shop=shop, verified=True)
    choices = list(customers.order_by("external_id")[:SIGN_IN_CHOICES])
    customer = customers.filter(external_id=external_id).first() if external_id else None
    if customer is None:
        return DemoShop(shop, None, None, choices)
    identity = {
        "id": customer.external_id,
        "email": customer.email,
        "name": customer.name,
        "hmac": identity_hmac(secret=shop.widget_secret, external_id=customer.external_id),
    }
    return DemoShop(shop, customer, identity, choices)


def desk_origin_for(request: HttpRequest) -> str:
    """The desk's origin as the demo shop page should name it in its script tag.

    The widget must come from another origin than the shop page, as it does on
    a real shop. `make run` serves both from one daphne, so the page is opened
    as http://localhost:8000/demo/shop/ and names the desk as
    http://127.0.0.1:8000: the page's own scheme and port, with host
    "127.0.0.1" when the page's host is "localhost". Any other host is used as
    it is (then the shop page and the desk share an origin, which the widget
    also handles). No setting is involved, so nothing can drift.
    """
    host = request.get_host()  # already checked against ALLOWED_HOSTS
    parts = urlsplit(f"//{host}")
    if parts.hostname == "localhost":
        host = "127.0.0.1" + (f":{parts.port}" if parts.port else "")
    return f"{request.scheme}://{host}"


def demo_shop_url_for(request: HttpRequest) -> str:
    """Where the home page links the demo shop: the reverse of desk_origin_for,
    so that a desk opened on 127.0.0.1 opens the shop on "localhost", another
    origin, as a real shop would be."""
    parts = urlsplit(f"//{request.get_host()}")
    if parts.hostname == "127.0.0.1":
        return f"{request.scheme}://localhost" + (f":{parts.port}" if parts.port else "") + DEMO_SHOP_PATH
    return DEMO_SHOP_PATH
