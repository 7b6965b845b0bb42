"""POST /widget/v1/session: which pages get a session, who the visitor is,
and how long the websocket pass lasts (docs/protocol.md, "Session")."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.utils import timezone

from chat.models import Visitor, visitor_token_digest
from chat.selectors import visitor_for_connect_token
from chat.services import Identity, widget_session_start
from helpdesk.customers.identity import identity_hmac
from helpdesk.customers.models import Customer, Shop
from tests.factories import make_shop

pytestmark = pytest.mark.django_db(transaction=True)

SHOP_ORIGIN = "https://shop.example"
URL = "/widget/v1/session"
# Every request with an `identity` object fails before the view looks at it.


@pytest.fixture(autouse=True)
def shop_site(settings):
    settings.WIDGET_ALLOWED_ORIGINS = [SHOP_ORIGIN]


def post(body: Any, *, origin: str | None = SHOP_ORIGIN, raw: str | None = None):
    headers = {"Origin": origin} if origin is not None else {}
    data = raw if raw is not None else json.dumps(body)
    return Client().post(URL, data=data, content_type="application/json", headers=headers)


def signed(shop: Shop, customer_id: str, *, email: str = "", name: str = "", secret: str | None = None) -> dict:
    """The identity object a shop's page hands to the widget."""
    mac = identity_hmac(secret=shop.widget_secret if secret is None else secret, external_id=customer_id)
    return {"id": customer_id, "email": email, "name": name, "hmac": mac}


def visitor_of(session: dict[str, Any]) -> Visitor:
    return Visitor.objects.select_related("customer").get(token_digest=visitor_token_digest(session["visitor_token"]))


# -- origins and CORS -------------------------------------------------------------------


def test_an_allowed_page_gets_an_anonymous_session_and_cors_for_its_origin_only(shop):
    response = post({"shop": shop.slug})

    assert response.status_code == 200
    session = response.json()
    assert session["visitor_token"] and session["connect_token"]
    assert session["websocket"] == "/ws/widget/"
    assert session["customer"] == {"name": "", "email": "", "verified": False}
    assert session["identity_rejected"] is False
    assert response["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    assert "Origin" in [v.strip() for v in response["Vary"].split(",")]
    assert visitor_of(session).customer.verified is False


@pytest.mark.parametrize(
    "origin",
    [None, "https://evil.example", "http://shop.example", "https://shop.example.evil.example", "null"],
)
@pytest.mark.parametrize("method", ["post", "options"])
def test_any_other_page_is_refused_without_cors_headers(shop, origin, method):
    headers = {"Origin": origin} if origin is not None else {}

    response = getattr(Client(), method)(
        URL, data=json.dumps({"shop": shop.slug}), content_type="application/json", headers=headers
    )

    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response
    assert not Visitor.objects.exists()


def test_a_preflight_from_the_allowed_page_is_answered_with_cors_headers(shop):
    response = Client().options(URL, headers={"Origin": SHOP_ORIGIN, "Access-Control-Request-Method": "POST"})

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "content-type" in response["Access-Control-Allow-Headers"].lower()
    assert not Visitor.objects.exists()


# -- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "error_key"),
    [
        pytest.param("{not json", "detail", id="bad json"),
        pytest.param("", "detail", id="empty body"),
        pytest.param('["acme"]', "detail", id="a list"),
        pytest.param('"acme"', "detail", id="a string"),
        pytest.param('{"shop": "acme", "colour": "red"}', "colour", id="unknown field"),
        pytest.param("{}", "shop", id="missing shop"),
        pytest.param('{"shop": "no-such-shop"}', "shop", id="unknown shop"),
        pytest.param('{"shop": "acme", "identity": "c-1"}', "identity", id="identity not an object"),
        pytest.param('{"shop": "acme", "identity": {"id": "c-1"}}', "identity", id="identity without hmac"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_readable_by_the_page(shop, raw, error_key):
    response = post(None, raw=raw)

    assert response.status_code == 400
    assert error_key in response.json()
    assert response["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    assert not Visitor.objects.exists()


def test_an_unknown_field_in_the_identity_is_a_400(shop):
    identity = {**signed(shop, "c-1"), "admin": True}

    response = post({"shop": shop.slug, "identity": identity})

    assert response.status_code == 400
    assert "admin" in response.json()["identity"]


def test_an_unknown_shop_says_so(shop):
    response = post({"shop": "no-such-shop"})

    assert response.json() == {"shop": ["No such shop."]}


# -- who the visitor is -----------------------------------------------------------------


def test_a_valid_identity_binds_the_session_to_the_synced_customer(shop, customer):
    response = post({"shop": shop.slug, "identity": signed(shop, customer.external_id, email=customer.email)})

    assert response.status_code == 200
    session = response.json()
    assert session["customer"] == {"name": "Dana Cohen", "email": "dana@example.com", "verified": True}
    assert session["identity_rejected"] is False
    assert visitor_of(session).customer == customer
    assert Customer.objects.count() == 1


def test_a_valid_identity_the_shop_has_not_synced_yet_makes_a_verified_customer(shop):
    response = post({"shop": shop.slug, "identity": signed(shop, "c-new", email="new@example.com", name="Noa")})

    session = response.json()
    assert session["customer"] == {"name": "Noa", "email": "new@example.com", "verified": True}
    made = Customer.objects.get(shop=shop, external_id="c-new")
    assert (made.verified, made.email, made.name) == (True, "new@example.com", "Noa")
    assert visitor_of(session).customer == made


def test_a_wrong_hmac_gives_an_anonymous_contact_and_leaves_the_customer_alone(shop, customer):
    forged = signed(shop, customer.external_id, email=customer.email, name="Mallory", secret="guessed")

    response = post({"shop": shop.slug, "identity": forged})

    assert response.status_code == 200
    session = response.json()
    assert session["identity_rejected"] is True
    assert session["customer"] == {"name": "", "email": "", "verified": False}
    customer.refresh_from_db()
    assert (customer.name, customer.email) == ("Dana Cohen", "dana@example.com")
    assert not customer.visitors.exists()
    assert visitor_of(session).customer != customer


def test_a_non_hex_hmac_is_a_wrong_hmac_not_a_server_error(shop, customer):
    identity = {**signed(shop, customer.external_id), "hmac": "ünsigned"}

    response = post({"shop": shop.slug, "identity": identity})

    assert response.status_code == 200
    assert response.json()["identity_rejected"] is True
    assert not customer.visitors.exists()


def test_an_anonymous_visitors_token_resumes_the_same_visitor_and_contact(shop):
    first = post({"shop": shop.slug}).json()

    again = post({"shop": shop.slug, "visitor_token": first["visitor_token"]}).json()

    assert again["visitor_token"] == first["visitor_token"]
    assert Visitor.objects.count() == 1
    assert Customer.objects.filter(shop=shop).count() == 1


def test_an_unknown_visitor_token_starts_a_new_anonymous_visitor(shop):
    session = post({"shop": shop.slug, "visitor_token": "made-up"}).json()

    assert session["visitor_token"] != "made-up"
    assert visitor_of(session).customer.verified is False


def test_a_signed_in_customers_token_is_not_resumed_without_their_identity(shop, customer):
    # Given Dana chatted signed in on a shared computer
    mac = identity_hmac(secret=shop.widget_secret, external_id=customer.external_id)
    dana = widget_session_start(shop=shop, identity=Identity(customer.external_id, customer.email, customer.name, mac))

    # When the next person opens the shop page, signed out, with Dana's token still stored
    response = post({"shop": shop.slug, "visitor_token": dana.visitor_token})

    # Then they are a new anonymous visitor and see nothing of Dana
    session = response.json()
    assert session["visitor_token"] != dana.visitor_token
    assert session["customer"] == {"name": "", "email": "", "verified": False}
    assert visitor_of(session).customer != customer
    assert customer.visitors.count() == 1


def test_an_anonymous_token_with_a_valid_identity_gives_a_new_visitor_of_the_customer(shop, customer):
    anonymous = post({"shop": shop.slug}).json()

    response = post(
        {"shop": shop.slug, "visitor_token": anonymous["visitor_token"], "identity": signed(shop, customer.external_id)}
    )

    session = response.json()
    assert session["visitor_token"] != anonymous["visitor_token"]
    assert session["customer"]["verified"] is True
    assert visitor_of(session).customer == customer
    assert visitor_of(anonymous).customer != customer


def test_a_visitor_token_of_another_shop_is_not_resumed(shop):
    other, _ = make_shop("globex")
    theirs = post({"shop": other.slug}).json()

    session = post({"shop": shop.slug, "visitor_token": theirs["visitor_token"]}).json()

    assert session["visitor_token"] != theirs["visitor_token"]
    assert visitor_of(session).shop == shop


# -- the websocket pass -----------------------------------------------------------------


def test_the_connect_token_opens_the_websocket_only_while_fresh(shop, settings):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        session = post({"shop": shop.slug}).json()
        visitor = visitor_of(session)

        traveller.shift(timedelta(seconds=settings.WIDGET_CONNECT_TOKEN_SECONDS - 1))
        assert visitor_for_connect_token(token=session["connect_token"]) == visitor

        traveller.shift(timedelta(seconds=2))
        assert visitor_for_connect_token(token=session["connect_token"]) is None


def test_each_session_gets_a_fresh_connect_token_for_the_same_visitor(shop):
    first = post({"shop": shop.slug}).json()

    again = post({"shop": shop.slug, "visitor_token": first["visitor_token"]}).json()

    assert visitor_for_connect_token(token=again["connect_token"]) == visitor_of(first)


def tampered(token: str) -> str:
    position = 3  # inside the signed payload
    return token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(tampered, id="one character changed"),
        pytest.param(lambda token: token[:-4], id="truncated"),
        pytest.param(lambda token: "", id="empty"),
        pytest.param(lambda token: signing.dumps({"v": 1}, compress=True), id="signed without the widget salt"),
        pytest.param(lambda token: signing.dumps({"v": 1}, salt="chat.widget.connect", key="guess"), id="wrong key"),
    ],
)
def test_a_forged_connect_token_opens_nothing(shop, forge):
    session = post({"shop": shop.slug}).json()

    assert visitor_for_connect_token(token=forge(session["connect_token"])) is None


def test_the_visitor_token_is_not_a_connect_token(shop):
    session = post({"shop": shop.slug}).json()

    assert visitor_for_connect_token(token=session["visitor_token"]) is None
