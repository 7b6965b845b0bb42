"""Attacks on the widget's session (POST /widget/v1/session) and its other
cross-origin endpoints: claimed identities without a valid signature,
replayed visitor tokens, lookalike origins, malformed and oversized bodies,
and flooding one address with sessions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from chat.models import Visitor
from helpdesk.customers.identity import identity_hmac
from helpdesk.customers.models import Customer
from helpdesk.tickets.models import Ticket
from tests.factories import make_customer, make_shop, make_team, make_ticket
from tests.security.conftest import HOSTILE_TEXTS

SHOP_ORIGIN = "https://shop.example"
SESSION = "/widget/v1/session"


@pytest.fixture(autouse=True)
def shop_site(settings):
    settings.WIDGET_ALLOWED_ORIGINS = [SHOP_ORIGIN]


@pytest.fixture
def victim(shop):
    """A synced customer with a conversation about their order."""
    customer = make_customer(shop, external_id="cust-7", name="Dana Victim", email="dana@example.com")
    make_ticket(customer, make_team("general"), body="My address is 1 Secret Road")
    return customer


def post(body: Any, *, origin: str | None = SHOP_ORIGIN, raw: str | None = None, ip: str = "203.0.113.5"):
    headers = {"Origin": origin} if origin is not None else {}
    data = raw if raw is not None else json.dumps(body)
    return Client(REMOTE_ADDR=ip).post(SESSION, data=data, content_type="application/json", headers=headers)


def rows() -> tuple[int, int]:
    return Visitor.objects.count(), Customer.objects.count()


# Claimed identities


def test_an_identity_without_a_signature_is_a_400_and_makes_nobody(shop, victim):
    before = rows()

    response = post({"shop": "acme", "identity": {"id": victim.external_id, "email": victim.email}})

    assert response.status_code == 400
    assert response.json() == {"identity": {"hmac": ["This field is required."]}}
    assert rows() == before


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda shop, other: identity_hmac(secret=shop.widget_secret, external_id="attacker-1"), id="own"),
        pytest.param(lambda shop, other: identity_hmac(secret=other.widget_secret, external_id="cust-7"), id="shop2"),
        pytest.param(lambda shop, other: identity_hmac(secret="", external_id="cust-7"), id="empty-secret"),
        pytest.param(lambda shop, other: identity_hmac(secret=shop.widget_secret, external_id="cust-7")[:-1], id="cut"),
        pytest.param(lambda shop, other: "0" * 64, id="zeros"),
        pytest.param(lambda shop, other: "é" * 64, id="non-ascii"),
    ],
)
def test_a_claimed_identity_with_a_wrong_signature_gets_an_anonymous_contact_and_no_data(shop, victim, forge):
    # Given an attacker who knows a customer's shop id and email
    other_shop = make_shop("other")[0]
    mac = forge(shop, other_shop)

    # When they claim to be that customer
    response = post({"shop": "acme", "identity": {"id": "cust-7", "email": victim.email, "name": "x", "hmac": mac}})

    # Then they are an anonymous contact, told so, and see nothing of the customer
    assert response.status_code == 200
    session = response.json()
    assert session["identity_rejected"] is True
    assert session["customer"] == {"name": "", "email": "", "verified": False}
    visitor = Visitor.objects.select_related("customer").get()
    assert visitor.customer_id != victim.pk and not visitor.customer.verified
    victim.refresh_from_db()
    assert (victim.name, victim.email) == ("Dana Victim", "dana@example.com")


def test_a_signed_in_customers_visitor_token_replayed_without_their_signature_is_not_resumed(shop, victim):
    # Given the customer's session on a shared computer
    mac = identity_hmac(secret=shop.widget_secret, external_id="cust-7")
    theirs = post({"shop": "acme", "identity": {"id": "cust-7", "hmac": mac}}).json()
    assert theirs["customer"]["verified"] is True

    # When someone else replays the stored visitor token, bare or with a forged identity
    bare = post({"shop": "acme", "visitor_token": theirs["visitor_token"]}).json()
    forged = post(
        {"shop": "acme", "visitor_token": theirs["visitor_token"], "identity": {"id": "cust-7", "hmac": "00"}}
    ).json()

    # Then neither resumes the customer
    for session in (bare, forged):
        assert session["visitor_token"] != theirs["visitor_token"]
        assert session["customer"] == {"name": "", "email": "", "verified": False}
        assert "Dana" not in json.dumps(session)


def test_a_visitor_token_of_another_shop_is_not_resumed(shop, victim):
    other = make_shop("other")[0]
    mac = identity_hmac(secret=other.widget_secret, external_id="cust-7")
    theirs = post({"shop": "other", "identity": {"id": "cust-7", "hmac": mac}}).json()

    here = post({"shop": "acme", "visitor_token": theirs["visitor_token"]}).json()

    assert here["visitor_token"] != theirs["visitor_token"] and here["customer"]["verified"] is False


def test_html_in_a_signed_identity_is_stored_as_text_and_answered_as_json(shop):
    # Given the shop signs a customer whose name is a script
    mac = identity_hmac(secret=shop.widget_secret, external_id="cust-9")
    name = HOSTILE_TEXTS[0]

    response = post({"shop": "acme", "identity": {"id": "cust-9", "name": name, "hmac": mac}})

    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response.json()["customer"]["name"] == name
    assert Customer.objects.get(external_id="cust-9").name == name


# Malformed and oversized bodies


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        pytest.param("[" * 50_000 + "]" * 50_000, "detail", id="deeply-nested"),
        pytest.param('{"shop": "acme", "x": ' + "[" * 50_000 + "]" * 50_000 + "}", "detail", id="nested-value"),
        pytest.param("NaN", "detail", id="nan"),
        pytest.param('"acme"', "detail", id="string"),
        pytest.param('{"shop": "acme\\u0000"}', "shop", id="nul-shop"),
        pytest.param('{"shop": "acme", "visitor_token": "' + "t" * 101 + '"}', "visitor_token", id="long-token"),
        pytest.param('{"shop": "acme", "identity": ["cust-7"]}', "identity", id="identity-list"),
        pytest.param('{"shop": "acme", "identity": {"id": "c\\u0000", "hmac": "00"}}', "identity", id="nul-id"),
        pytest.param('{"shop": "acme", "identity": {"id": "' + "c" * 101 + '", "hmac": "0"}}', "identity", id="id"),
        pytest.param('{"shop": "acme", "admin": true}', "admin", id="unknown-field"),
    ],
)
def test_malformed_session_bodies_are_400_and_make_nobody(shop, raw, field):
    response = post(None, raw=raw)

    assert response.status_code == 400 and field in response.json()
    assert response["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    assert rows() == (0, 0)


def test_a_signed_identity_with_an_email_longer_than_the_desk_stores_is_a_400_not_a_500(shop):
    # The shop vouches for the id, not for the email's length.
    mac = identity_hmac(secret=shop.widget_secret, external_id="cust-9")
    email = "a" * 64 + "@" + "b" * 60 + "." + "c" * 60 + "." + "d" * 60 + ".example"

    response = post({"shop": "acme", "identity": {"id": "cust-9", "email": email, "hmac": mac}})

    assert response.status_code == 400 and "email" in response.json()["identity"]
    assert rows() == (0, 0)


# Origins


@pytest.mark.parametrize(
    "origin",
    [
        "https://shop.example.evil.com",
        "https://evil-shop.example",
        "http://shop.example",
        "https://shop.example:8443",
        "https://shop.example.",
        "null",
        "",
        None,
    ],
)
@pytest.mark.parametrize(
    "path",
    ["/widget/v1/session", "/widget/v1/attachments", "/widget/v1/surveys/", "/widget/v1/surveys/1/answer"],
)
def test_lookalike_and_missing_origins_are_refused_without_cors_on_every_widget_endpoint(shop, origin, path):
    headers = {"Origin": origin} if origin is not None else {}

    for method in ("post", "options"):
        response = getattr(Client(), method)(path, data="{}", content_type="application/json", headers=headers)
        assert response.status_code == 403, (method, response.content)
        assert "Access-Control-Allow-Origin" not in response
    assert rows() == (0, 0)


# Flooding


def test_flooding_sessions_from_one_address_is_429_with_retry_after_and_makes_nobody_more(shop, settings):
    settings.WIDGET_SESSION_RATE_PER_MINUTE = 5

    answers = [post({"shop": "acme"}) for _ in range(12)]

    assert [a.status_code for a in answers] == [200] * 5 + [429] * 7
    assert 1 <= int(answers[-1]["Retry-After"]) <= 60
    # The page may read the refusal and its Retry-After
    assert answers[-1]["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    assert "Retry-After" in answers[-1]["Access-Control-Expose-Headers"]
    assert rows() == (5, 5)
    # Preflights are not counted, and another address still gets its session
    assert Client().options(SESSION, headers={"Origin": SHOP_ORIGIN}).status_code == 204
    assert post({"shop": "acme"}, ip="198.51.100.7").status_code == 200


def test_a_rate_limited_session_leaks_no_visitor(shop, victim, settings):
    settings.WIDGET_SESSION_RATE_PER_MINUTE = 1
    mac = identity_hmac(secret=shop.widget_secret, external_id="cust-7")
    post({"shop": "acme"})

    response = post({"shop": "acme", "identity": {"id": "cust-7", "hmac": mac}})

    assert response.status_code == 429
    assert set(response.json()) == {"detail"}
    assert Visitor.objects.filter(customer=victim).count() == 0
    assert Ticket.objects.filter(customer=victim).count() == 1
