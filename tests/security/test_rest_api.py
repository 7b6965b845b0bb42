"""Attacks on the agent API (/api/v1/): hostile HTML in every text an agent
writes, guessed and incremented ids of other teams' tickets, customers and
orders, arbitrary ordering and filter fields, malformed and oversized
bodies, and forged tokens."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from helpdesk.tickets.models import Message, Ticket, TicketEvent
from helpdesk.tickets.services import ticket_reply
from tests.conftest import api_client_for
from tests.factories import make_customer, make_order, make_ticket
from tests.security.conftest import HOSTILE_TEXTS

TICKETS = "/api/v1/tickets/"
CUSTOMERS = "/api/v1/customers/"


@pytest.fixture
def mine(customer, logistics):
    return make_ticket(customer, logistics, subject="Parcel late")


@pytest.fixture
def theirs(shop, returns):
    """Another customer's ticket, in a team the logistics agent is not in."""
    other = make_customer(shop, name="Eve Other", email="eve@example.com")
    make_order(other, number="EVE-1")
    return make_ticket(other, returns, subject="Refund for EVE-1", body="My IBAN is DE89 3704")


@pytest.fixture
def client(logistics_agent) -> APIClient:
    return api_client_for(logistics_agent)


def stored() -> tuple[int, int]:
    return Message.objects.count(), TicketEvent.objects.count()


def leaks(response) -> bool:
    text = response.content.decode()
    return any(secret in text for secret in ("Eve Other", "eve@example.com", "DE89", "EVE-1"))


# Hostile text


def test_html_in_replies_and_notes_is_stored_as_text_and_escaped_in_the_desk(client, mine):
    for text in HOSTILE_TEXTS:
        for action in ("reply", "notes"):
            response = client.post(f"{TICKETS}{mine.pk}/{action}/", {"body": text}, format="json")
            assert response.status_code == 201
            assert response.json()["body"] == text  # data, unchanged

    bodies = set(Message.objects.filter(ticket=mine, seq__gt=1).values_list("body", flat=True))
    assert bodies == set(HOSTILE_TEXTS)
    html = client.get(f"/desk/tickets/{mine.pk}/").content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert 'href="javascript:' not in html.lower()
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


@pytest.mark.parametrize("tag", ["<script>", "a onerror=x", "javascript:alert(1)", "x" * 41])
def test_tags_that_are_not_plain_words_are_a_400_and_nothing_changes(client, mine, tag):
    before = stored()

    response = client.patch(f"{TICKETS}{mine.pk}/", {"tags": [tag], "priority": "urgent"}, format="json")

    assert response.status_code == 400 and "tags" in response.json()
    mine.refresh_from_db()
    assert mine.priority == "normal" and not mine.tags.exists()
    assert stored() == before


# Other people's ids


def test_guessed_and_incremented_ticket_ids_are_404_for_every_action_and_store_nothing(client, mine, theirs):
    before = stored()
    for guess in (theirs.pk, mine.pk + 1, theirs.pk + 1, theirs.pk + 1000):
        for method, path, body in (
            ("get", "", None),
            ("patch", "", {"status": "closed"}),
            ("post", "reply/", {"body": "hi"}),
            ("post", "notes/", {"body": "hi"}),
            ("post", "assign/", {"assignee": None}),
            ("post", "merge/", {"into": mine.pk}),
            ("get", "canned/", None),
            ("post", "messages/1/sentiment/", {"label": "negative"}),
        ):
            response = getattr(client, method)(f"{TICKETS}{guess}/{path}", body, format="json")
            assert response.status_code == 404, (guess, path, response.content)
            assert not leaks(response)
    assert stored() == before
    theirs.refresh_from_db()
    assert theirs.status == "new"


def test_an_other_teams_ticket_is_absent_from_lists_search_and_filters(client, mine, theirs):
    for params in ({}, {"q": "IBAN"}, {"q": "EVE-1"}, {"q": str(theirs.pk)}, {"customer": theirs.customer_id}):
        response = client.get(TICKETS, params)
        assert response.status_code == 200
        assert theirs.pk not in [t["id"] for t in response.json()["results"]] and not leaks(response)


def test_an_other_teams_customer_is_404_and_absent_from_the_customer_list(client, mine, theirs):
    assert client.get(f"{CUSTOMERS}{theirs.customer_id}/").status_code == 404
    assert client.get(f"{CUSTOMERS}{theirs.customer_id + 1}/").status_code == 404
    listed = client.get(CUSTOMERS, {"q": "eve"})
    assert listed.status_code == 200 and listed.json()["results"] == [] and not leaks(listed)


def test_linking_another_customers_order_is_a_400_and_the_ticket_stays_unlinked(client, mine, theirs):
    eve_order = theirs.customer.orders.get()
    before = stored()

    for ref in (eve_order.number, str(eve_order.pk), f"#{eve_order.number}", eve_order.pk):
        response = client.patch(f"{TICKETS}{mine.pk}/", {"order": ref}, format="json")
        assert response.status_code == 400 and "order" in response.json(), ref
        assert not leaks(response)

    mine.refresh_from_db()
    assert mine.order_id is None and stored() == before


def test_merging_into_another_customers_ticket_is_refused(manager, mine, theirs):
    client = api_client_for(manager)  # sees both tickets
    before = stored()

    response = client.post(f"{TICKETS}{mine.pk}/merge/", {"into": theirs.pk}, format="json")

    assert response.status_code == 400 and "into" in response.json()
    assert Ticket.objects.filter(merged_into__isnull=False).count() == 0 and stored() == before


def test_attachments_of_another_ticket_cannot_be_sent_here(client, manager, mine, theirs):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = api_client_for(manager).post(
        f"{TICKETS}{theirs.pk}/attachments/",
        {"file": SimpleUploadedFile("id.pdf", b"%PDF-1.4 secret")},
        format="multipart",
    )
    assert upload.status_code == 201
    before = stored()

    response = client.post(
        f"{TICKETS}{mine.pk}/reply/", {"body": "", "attachments": [upload.json()["id"]]}, format="json"
    )

    assert response.status_code == 400 and "attachments" in response.json()
    assert stored() == before


# Ordering and filters


@pytest.mark.parametrize(
    "params",
    [
        {"ordering": "customer__email"},
        {"ordering": "-id"},
        {"order_by": "subject"},
        {"customer__email": "eve@example.com"},
        {"team__slug": "returns"},
        {"assignee__user__password__startswith": "md5"},
        {"status__in": "new,open"},
    ],
    ids=lambda params: next(iter(params)),
)
def test_arbitrary_ordering_and_filter_fields_are_a_400_naming_them(client, mine, theirs, params):
    for path in (TICKETS, CUSTOMERS):
        response = client.get(path, params)
        assert response.status_code == 400, path
        assert response.json() == {key: ["Unknown parameter."] for key in params}
        assert not leaks(response)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "<script>"}, "status"),
        ({"team": "returns' OR 1=1 --"}, "team"),
        ({"assignee": "1 OR 1=1"}, "assignee"),
        ({"customer": "1;DROP TABLE tickets_ticket"}, "customer"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"score": "99"}, "score"),
        ({"tier": "platinum"}, "tier"),
    ],
)
def test_bad_filter_values_are_a_400_naming_the_parameter(client, mine, theirs, params, field):
    response = client.get(TICKETS, params)

    assert response.status_code == 400 and field in response.json() and not leaks(response)


def test_sql_and_markup_in_search_are_plain_text(client, mine, theirs):
    for q in ("' OR '1'='1", "eve@example.com' --", '"unterminated', "-DE89", "<script>"):
        response = client.get(TICKETS, {"q": q})
        assert response.status_code == 200 and not leaks(response), q


def test_a_huge_page_size_is_capped_and_a_forged_cursor_is_404(client, mine):
    assert client.get(TICKETS, {"page_size": 10**9}).status_code == 200
    assert client.get(TICKETS, {"cursor": "cD1hYmM="}).status_code == 404
    assert client.get(TICKETS, {"cursor": "!!not-base64!!"}).status_code == 404


# Malformed and oversized bodies


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        pytest.param("[" * 50_000 + "]" * 50_000, "detail", id="deeply-nested"),
        pytest.param('{"body": ' + "[" * 50_000 + "]" * 50_000 + "}", "detail", id="nested-value"),
        pytest.param('{"body": "hi', "detail", id="truncated"),
        pytest.param('["hi"]', "non_field_errors", id="list"),
        pytest.param('{"body": "a\\u0000b"}', "body", id="nul"),
        pytest.param(json.dumps({"body": "x" * 100_000}), "body", id="too-long"),
        pytest.param(json.dumps({"body": "hi", "internal": True}), "internal", id="unknown-field"),
        pytest.param(json.dumps({"body": "hi", "attachments": [1] * 1000}), "attachments", id="many-files"),
        pytest.param(json.dumps({"body": "hi", "seen_seq": -1}), "seen_seq", id="negative-seq"),
        pytest.param(json.dumps({"body": "hi", "client_msg_id": "x" * 65}), "client_msg_id", id="long-id"),
    ],
)
def test_malformed_and_oversized_reply_bodies_are_400_and_store_nothing(client, mine, raw, field):
    before = stored()

    response = client.post(f"{TICKETS}{mine.pk}/reply/", raw, content_type="application/json")

    assert response.status_code == 400 and field in response.json(), response.content
    assert stored() == before


def test_a_patch_with_a_bad_value_changes_nothing_at_all(client, mine):
    before = stored()

    response = client.patch(f"{TICKETS}{mine.pk}/", {"priority": "urgent", "status": "reopened"}, format="json")

    assert response.status_code == 400 and "status" in response.json()
    mine.refresh_from_db()
    assert (mine.priority, mine.status) == ("normal", "new") and stored() == before


# Credentials


def test_forged_tokens_and_a_deactivated_agents_token_are_refused(logistics_agent, mine):
    token = (
        APIClient()
        .post("/api/v1/auth/token/", {"username": "lena", "password": "pw-lena"}, format="json")
        .json()["token"]
    )
    for header in (f"Token {token[:-1]}x", "Token ", "Token a b", f"Bearer {token}", "Basic bGVuYTpwdy1sZW5h"):
        response = APIClient().get(TICKETS, HTTP_AUTHORIZATION=header)
        assert response.status_code in (401, 403), header
        assert "Parcel late" not in response.content.decode()

    logistics_agent.user.is_active = False
    logistics_agent.user.save()
    response = APIClient().get(TICKETS, HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 401


def test_a_token_sign_in_with_a_wrong_password_or_malformed_body_gets_no_token(logistics_agent):
    for body in ({"username": "lena", "password": "wrong"}, {"username": "lena"}, {"username": ["lena"]}):
        response = APIClient().post("/api/v1/auth/token/", body, format="json")
        assert response.status_code == 400 and "token" not in response.json()
    deep = APIClient().post("/api/v1/auth/token/", "[" * 50_000 + "]" * 50_000, content_type="application/json")
    assert deep.status_code == 400


def test_a_reply_by_another_agent_cannot_be_rewritten_through_a_retry(client, mine, team_lead):
    # Given the team lead's reply with a client id the agent has seen in the page
    ticket_reply(ticket=mine, agent=team_lead, body="Original", client_msg_id="lead-1")

    # When the agent posts another body under the same client id
    response = client.post(f"{TICKETS}{mine.pk}/reply/", {"body": "Forged", "client_msg_id": "lead-1"}, format="json")

    # Then the stored message is untouched
    assert Message.objects.filter(ticket=mine, body="Forged").count() == 0
    assert Message.objects.get(ticket=mine, client_msg_id="lead-1").body == "Original"
    assert response.status_code in (200, 400)
