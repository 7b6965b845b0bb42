from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient

from helpdesk.tickets.models import (
    EventKind,
    Ticket,
    TicketCategory,
    TicketChannel,
    TicketPriority,
    TicketStatus,
)
from helpdesk.tickets.services import ticket_assign, ticket_reply, ticket_set_status
from tests.conftest import api_client_for
from tests.factories import make_agent, make_customer, make_order, make_team, make_ticket

TICKETS = "/api/v1/tickets/"


def url(ticket: Ticket, action: str = "") -> str:
    return f"{TICKETS}{ticket.pk}/{action + '/' if action else ''}"


def kinds(ticket: Ticket) -> list[str]:
    return list(ticket.events.order_by("id").values_list("kind", flat=True))


def ids(response) -> list[int]:
    return [item["id"] for item in response.json()["results"]]


@pytest.fixture
def logistics_ticket(customer, logistics) -> Ticket:
    return make_ticket(customer, logistics, subject="Parcel late")


@pytest.fixture
def returns_ticket(shop, returns) -> Ticket:
    return make_ticket(make_customer(shop), returns, subject="Refund please")


# Who may call


def test_a_request_without_credentials_is_a_401(anonymous_client):
    response = anonymous_client.get(TICKETS)

    assert response.status_code == 401


def test_a_signed_in_user_who_is_not_an_agent_is_refused(db):
    client = APIClient()
    client.force_login(User.objects.create_user(username="shopper", password="pw"))

    response = client.get(TICKETS)

    assert response.status_code == 403


def test_an_agent_exchanges_username_and_password_for_a_token_that_works(
    anonymous_client, logistics_ticket, logistics_agent
):
    response = anonymous_client.post("/api/v1/auth/token/", {"username": "lena", "password": "pw-lena"})
    assert response.status_code == 200
    token = response.json()["token"]

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    listed = client.get(TICKETS)

    assert listed.status_code == 200
    assert ids(listed) == [logistics_ticket.pk]
    again = anonymous_client.post("/api/v1/auth/token/", {"username": "lena", "password": "pw-lena"})
    assert again.json()["token"] == token


@pytest.mark.parametrize(
    ("username", "password"),
    [("lena", "wrong"), ("nobody", "pw"), ("shopper", "pw-shopper")],
    ids=["wrong password", "unknown user", "not an agent"],
)
def test_no_token_for_a_wrong_password_or_a_user_who_is_not_an_agent(
    anonymous_client, logistics_agent, username, password
):
    User.objects.create_user(username="shopper", password="pw-shopper")

    response = anonymous_client.post("/api/v1/auth/token/", {"username": username, "password": password})

    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    assert "token" not in response.json()


def test_no_token_for_an_agent_whose_account_is_deactivated(anonymous_client, logistics_agent):
    User.objects.filter(pk=logistics_agent.user_id).update(is_active=False)

    response = anonymous_client.post("/api/v1/auth/token/", {"username": "lena", "password": "pw-lena"})

    assert response.status_code == 400


# Listing


def test_agents_see_their_teams_tickets_and_managers_see_all(
    logistics_ticket, returns_ticket, logistics_agent, returns_agent, team_lead, manager
):
    assert ids(api_client_for(logistics_agent).get(TICKETS)) == [logistics_ticket.pk]
    assert ids(api_client_for(team_lead).get(TICKETS)) == [logistics_ticket.pk]
    assert ids(api_client_for(returns_agent).get(TICKETS)) == [returns_ticket.pk]
    assert ids(api_client_for(manager).get(TICKETS)) == [returns_ticket.pk, logistics_ticket.pk]


def test_an_agent_who_changed_teams_still_sees_the_tickets_assigned_to_them(logistics_ticket, logistics_agent, returns):
    ticket_assign(ticket=logistics_ticket, actor=logistics_agent, assignee=logistics_agent)
    logistics_agent.teams.set([returns])

    response = api_client_for(logistics_agent).get(TICKETS)

    assert ids(response) == [logistics_ticket.pk]


def test_a_list_item_carries_team_assignee_customer_and_order(customer, logistics, logistics_agent):
    order = make_order(customer, number="A-1001")
    ticket = make_ticket(customer, logistics, order=order, subject="Where is A-1001?")
    ticket_assign(ticket=ticket, actor=logistics_agent, assignee=logistics_agent)

    [item] = api_client_for(logistics_agent).get(TICKETS).json()["results"]

    assert item["subject"] == "Where is A-1001?"
    assert item["status"] == TicketStatus.NEW
    assert item["team"] == {"slug": "logistics", "name": "Logistics"}
    assert item["assignee"] == {"id": logistics_agent.pk, "name": "Lena"}
    assert item["customer"] == {"id": customer.pk, "name": "Dana Cohen", "email": "dana@example.com"}
    assert item["order"] == {"id": order.pk, "number": "A-1001"}
    assert item["last_seq"] == 1
    assert set(item) >= {"priority", "category", "channel", "created_at", "updated_at", "first_response_at"}


def test_list_query_count_does_not_grow_with_the_number_of_tickets(
    customer, logistics, logistics_agent, django_assert_num_queries
):
    client = api_client_for(logistics_agent)

    def add_tickets(n: int) -> None:
        for _ in range(n):
            ticket = make_ticket(customer, logistics, order=make_order(customer))
            ticket_assign(ticket=ticket, actor=logistics_agent, assignee=logistics_agent)

    add_tickets(3)
    # session, user, agent, one page of tickets with their team, assignee, customer and order, their tags
    with django_assert_num_queries(5):
        assert len(client.get(TICKETS).json()["results"]) == 3
    add_tickets(7)
    with django_assert_num_queries(5):
        assert len(client.get(TICKETS).json()["results"]) == 10


# Filters


def test_filters_by_status_priority_channel_category_team_and_customer(shop, customer, logistics, returns, manager):
    other_customer = make_customer(shop)
    solved = make_ticket(customer, logistics, channel=TicketChannel.EMAIL)
    ticket_set_status(ticket=solved, actor=manager, status=TicketStatus.SOLVED)
    urgent = make_ticket(other_customer, returns)
    Ticket.objects.filter(pk=urgent.pk).update(priority=TicketPriority.URGENT, category=TicketCategory.DAMAGED)
    plain = make_ticket(customer, returns)
    client = api_client_for(manager)

    assert ids(client.get(TICKETS, {"status": "solved"})) == [solved.pk]
    assert ids(client.get(TICKETS, {"priority": "urgent"})) == [urgent.pk]
    assert ids(client.get(TICKETS, {"channel": "email"})) == [solved.pk]
    assert ids(client.get(TICKETS, {"category": "damaged"})) == [urgent.pk]
    assert ids(client.get(TICKETS, {"category": "none"})) == [plain.pk, solved.pk]
    assert ids(client.get(TICKETS, {"team": "returns"})) == [plain.pk, urgent.pk]
    assert ids(client.get(TICKETS, {"customer": other_customer.pk})) == [urgent.pk]
    assert ids(client.get(TICKETS, {"team": "returns", "customer": customer.pk})) == [plain.pk]


def test_filters_by_assignee_id_me_and_none(customer, logistics, logistics_agent, team_lead):
    mine = make_ticket(customer, logistics)
    ticket_assign(ticket=mine, actor=team_lead, assignee=logistics_agent)
    leads = make_ticket(customer, logistics)
    ticket_assign(ticket=leads, actor=team_lead, assignee=team_lead)
    queued = make_ticket(customer, logistics)
    client = api_client_for(logistics_agent)

    assert ids(client.get(TICKETS, {"assignee": "me"})) == [mine.pk]
    assert ids(client.get(TICKETS, {"assignee": team_lead.pk})) == [leads.pk]
    assert ids(client.get(TICKETS, {"assignee": "none"})) == [queued.pk]


def test_filters_by_creation_time(customer, logistics, manager):
    now = timezone.now()
    old = make_ticket(customer, logistics)
    Ticket.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=10))
    new = make_ticket(customer, logistics)
    client = api_client_for(manager)
    cut = (now - timedelta(days=1)).isoformat()

    assert ids(client.get(TICKETS, {"created_after": cut})) == [new.pk]
    assert ids(client.get(TICKETS, {"created_before": cut})) == [old.pk]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("status", "bogus"),
        ("priority", "whenever"),
        ("channel", "pigeon"),
        ("category", "misc"),
        ("team", "no-such-team"),
        ("assignee", "someone"),
        ("customer", "dana"),
        ("created_after", "last tuesday"),
    ],
)
def test_a_filter_value_that_is_not_valid_is_a_400_naming_the_parameter(logistics_ticket, manager, name, value):
    response = api_client_for(manager).get(TICKETS, {name: value})

    assert response.status_code == 400
    assert list(response.json()) == [name]


# Pagination


def walk(client: APIClient, first_url: str) -> list[list[int]]:
    pages, next_url = [], first_url
    while next_url:
        body = client.get(next_url).json()
        pages.append([item["id"] for item in body["results"]])
        next_url = body["next"]
    return pages


def test_pages_walk_every_ticket_once_newest_first_even_when_times_tie(customer, logistics, manager):
    tickets = [make_ticket(customer, logistics) for _ in range(11)]
    # Five tickets share one timestamp, straddling page boundaries.
    same_time = timezone.now() - timedelta(hours=1)
    Ticket.objects.filter(pk__in=[t.pk for t in tickets[3:8]]).update(created_at=same_time)
    expected = list(Ticket.objects.order_by("-created_at", "-id").values_list("id", flat=True))

    pages = walk(api_client_for(manager), f"{TICKETS}?page_size=3")

    assert [len(page) for page in pages] == [3, 3, 3, 2]
    assert [pk for page in pages for pk in page] == expected


def test_previous_links_walk_back_to_the_first_page(customer, logistics, manager):
    for _ in range(7):
        make_ticket(customer, logistics)
    client = api_client_for(manager)
    first = client.get(TICKETS, {"page_size": 3}).json()
    second = client.get(first["next"]).json()

    back = client.get(second["previous"]).json()

    assert [t["id"] for t in back["results"]] == [t["id"] for t in first["results"]]
    assert back["previous"] is None


def test_page_size_defaults_to_50_and_is_capped_at_200(customer, logistics, manager):
    Ticket.objects.bulk_create(
        Ticket(customer=customer, team=logistics, subject=f"t{i}", channel=TicketChannel.WEB) for i in range(205)
    )
    client = api_client_for(manager)

    assert len(client.get(TICKETS).json()["results"]) == 50
    assert len(client.get(TICKETS, {"page_size": 1000}).json()["results"]) == 200


@pytest.mark.parametrize("cursor", ["not-a-cursor", "cD1ub3QtYS1kYXRl"])  # the second is "p=not-a-date"
def test_a_made_up_cursor_is_a_404(logistics_ticket, manager, cursor):
    response = api_client_for(manager).get(TICKETS, {"cursor": cursor})

    assert response.status_code == 404


# Detail


def test_detail_has_the_conversation_and_the_event_log(logistics_ticket, logistics_agent):
    ticket_reply(ticket=logistics_ticket, agent=logistics_agent, body="It ships today", client_msg_id="web-1")

    detail = api_client_for(logistics_agent).get(url(logistics_ticket)).json()

    assert [(m["seq"], m["author_kind"], m["body"]) for m in detail["messages"]] == [
        (1, "customer", "Where is my parcel?"),
        (2, "agent", "It ships today"),
    ]
    assert detail["messages"][0]["author"] is None
    assert detail["messages"][1]["author"] == {"id": logistics_agent.pk, "name": "Lena"}
    assert detail["messages"][1]["client_msg_id"] == "web-1"
    assert [e["kind"] for e in detail["events"]] == kinds(logistics_ticket)
    assert detail["events"][0]["actor"] is None
    assert detail["events"][-1] == {
        "kind": EventKind.STATUS_CHANGED,
        "actor": "Lena",
        "data": {"old": "new", "new": "open", "reason": "agent replied"},
        "created_at": detail["events"][-1]["created_at"],
    }


def test_detail_query_count_does_not_grow_with_messages(logistics_ticket, logistics_agent, django_assert_num_queries):
    client = api_client_for(logistics_agent)
    # session, user, agent, ticket, messages with authors, their attachments, events with actors, tags
    with django_assert_num_queries(8):
        client.get(url(logistics_ticket))
    for n in range(8):
        ticket_reply(ticket=logistics_ticket, agent=logistics_agent, body=f"update {n}")

    with django_assert_num_queries(8):
        detail = client.get(url(logistics_ticket)).json()
    assert len(detail["messages"]) == 9


def test_a_ticket_the_agent_may_not_see_is_a_404_for_every_action(logistics_ticket, returns_agent, logistics_agent):
    client = api_client_for(returns_agent)
    before = kinds(logistics_ticket)

    responses = [
        client.get(url(logistics_ticket)),
        client.patch(url(logistics_ticket), {"status": "solved"}),
        client.post(url(logistics_ticket, "reply"), {"body": "hi"}),
        client.post(url(logistics_ticket, "notes"), {"body": "hi"}),
        client.post(url(logistics_ticket, "assign"), {"assignee": returns_agent.pk}),
        client.get(f"{TICKETS}999999/"),
    ]

    assert [r.status_code for r in responses] == [404] * 6
    assert kinds(logistics_ticket) == before


# Replies and notes


def test_a_reply_is_stored_logged_and_a_retry_returns_the_original(logistics_ticket, logistics_agent):
    client = api_client_for(logistics_agent)

    first = client.post(url(logistics_ticket, "reply"), {"body": "On its way", "client_msg_id": "m-1"})
    retry = client.post(url(logistics_ticket, "reply"), {"body": "On its way", "client_msg_id": "m-1"})

    assert first.status_code == 201
    assert first.json()["seq"] == 2
    assert first.json()["internal"] is False
    assert first.json()["author"] == {"id": logistics_agent.pk, "name": "Lena"}
    assert retry.status_code == 200
    assert retry.json()["id"] == first.json()["id"]
    assert logistics_ticket.messages.count() == 2
    logistics_ticket.refresh_from_db()
    assert logistics_ticket.first_response_at is not None
    assert EventKind.REPLIED in kinds(logistics_ticket)


def test_a_note_is_internal_and_is_not_a_first_response(logistics_ticket, logistics_agent):
    response = api_client_for(logistics_agent).post(url(logistics_ticket, "notes"), {"body": "Asked the carrier"})

    assert response.status_code == 201
    assert response.json()["internal"] is True
    logistics_ticket.refresh_from_db()
    assert logistics_ticket.first_response_at is None
    assert kinds(logistics_ticket)[-1] == EventKind.NOTE


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": "   "}, "body"),
        ({}, "body"),
        ({"body": "x" * 20_001}, "body"),
        ({"body": "hi", "internal": True}, "internal"),
        ({"body": "hi", "client_msg_id": "x" * 65}, "client_msg_id"),
    ],
)
def test_a_reply_that_is_not_valid_is_a_400_and_stores_nothing(logistics_ticket, logistics_agent, payload, field):
    response = api_client_for(logistics_agent).post(url(logistics_ticket, "reply"), payload)

    assert response.status_code == 400
    assert field in response.json()
    assert logistics_ticket.messages.count() == 1


def test_a_closed_ticket_takes_no_reply(logistics_ticket, logistics_agent):
    ticket_set_status(ticket=logistics_ticket, actor=logistics_agent, status=TicketStatus.CLOSED)

    response = api_client_for(logistics_agent).post(url(logistics_ticket, "reply"), {"body": "hello?"})

    assert response.status_code == 400
    assert "ticket" in response.json()


def test_a_body_that_is_not_json_is_a_400(logistics_ticket, logistics_agent):
    response = api_client_for(logistics_agent).post(
        url(logistics_ticket, "reply"), data="{not json", content_type="application/json"
    )

    assert response.status_code == 400


# Assignment


def test_assigning_and_unassigning_log_events(logistics_ticket, team_lead, logistics_agent):
    client = api_client_for(team_lead)

    assigned = client.post(url(logistics_ticket, "assign"), {"assignee": logistics_agent.pk})
    unassigned = client.post(url(logistics_ticket, "assign"), {"assignee": None})

    assert assigned.status_code == 200
    assert assigned.json()["assignee"] == {"id": logistics_agent.pk, "name": "Lena"}
    assert unassigned.json()["assignee"] is None
    assert kinds(logistics_ticket)[-2:] == [EventKind.ASSIGNED, EventKind.ASSIGNED]
    assert logistics_ticket.events.order_by("id").last().actor == team_lead


def test_moving_a_ticket_to_another_team_answers_even_though_the_agent_loses_sight_of_it(
    logistics_ticket, logistics_agent, returns_agent
):
    client = api_client_for(logistics_agent)

    response = client.post(url(logistics_ticket, "assign"), {"assignee": returns_agent.pk, "team": "returns"})

    assert response.status_code == 200
    assert response.json()["team"]["slug"] == "returns"
    assert response.json()["assignee"]["id"] == returns_agent.pk
    assert client.get(url(logistics_ticket)).status_code == 404
    assert kinds(logistics_ticket)[-2:] == [EventKind.TEAM_CHANGED, EventKind.ASSIGNED]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"assignee": 999999}, "assignee"),
        ({"assignee": None, "team": "no-such-team"}, "team"),
        ({"team": "returns"}, "assignee"),
        ({"assignee": None, "priority": "high"}, "priority"),
    ],
)
def test_an_unknown_agent_or_team_is_a_400_field_error(logistics_ticket, returns, team_lead, payload, field):
    before = kinds(logistics_ticket)

    response = api_client_for(team_lead).post(url(logistics_ticket, "assign"), payload)

    assert response.status_code == 400
    assert field in response.json()
    assert kinds(logistics_ticket) == before


def test_an_assignee_outside_the_team_is_a_400(logistics_ticket, team_lead, returns_agent):
    response = api_client_for(team_lead).post(url(logistics_ticket, "assign"), {"assignee": returns_agent.pk})

    assert response.status_code == 400
    assert "assignee" in response.json()
    logistics_ticket.refresh_from_db()
    assert logistics_ticket.assignee is None


def test_a_deactivated_agent_cannot_be_assigned(logistics_ticket, team_lead):
    gone = make_agent("gil", teams=(make_team("logistics"),))
    User.objects.filter(pk=gone.user_id).update(is_active=False)

    response = api_client_for(team_lead).post(url(logistics_ticket, "assign"), {"assignee": gone.pk})

    assert response.status_code == 400
    assert "assignee" in response.json()


# Status, priority, category


def test_patch_changes_status_priority_and_category_and_logs_each(logistics_ticket, logistics_agent):
    response = api_client_for(logistics_agent).patch(
        url(logistics_ticket), {"status": "pending", "priority": "high", "category": "delivery"}
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["priority"], body["category"]) == ("pending", "high", "delivery")
    assert [e["kind"] for e in body["events"]][-3:] == [
        EventKind.PRIORITY_CHANGED,
        EventKind.CATEGORY_CHANGED,
        EventKind.STATUS_CHANGED,
    ]
    assert {e["data"]["reason"] for e in body["events"][-3:]} == {"set by agent"}
    assert {e["actor"] for e in body["events"][-3:]} == {"Lena"}


def test_patch_can_set_the_category_back_to_unsorted(logistics_ticket, logistics_agent):
    client = api_client_for(logistics_agent)
    client.patch(url(logistics_ticket), {"category": "delivery"})

    response = client.patch(url(logistics_ticket), {"category": ""})

    assert response.json()["category"] == ""


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"priority": "high", "status": "bogus"}, "status", None),
        ({"priority": "asap"}, "priority", None),
        ({"category": "misc"}, "category", None),
        ({"priority": "high", "subject": "New subject"}, "subject", "Unknown field."),
        ({"priority": "high", "team": "returns"}, "team", "Unknown field."),
    ],
)
def test_patch_with_a_bad_value_or_an_unknown_field_is_a_400_and_changes_nothing(
    logistics_ticket, logistics_agent, payload, field, message
):
    before = kinds(logistics_ticket)

    response = api_client_for(logistics_agent).patch(url(logistics_ticket), payload)

    assert response.status_code == 400
    assert field in response.json()
    if message:
        assert response.json()[field] == [message]
    logistics_ticket.refresh_from_db()
    assert (logistics_ticket.priority, logistics_ticket.subject) == (TicketPriority.NORMAL, "Parcel late")
    assert kinds(logistics_ticket) == before


def test_patch_is_all_or_nothing_when_a_service_refuses_one_change(logistics_ticket, logistics_agent):
    ticket_set_status(ticket=logistics_ticket, actor=logistics_agent, status=TicketStatus.CLOSED)
    before = kinds(logistics_ticket)

    # Priority is applied first; the closed ticket then refuses the status change.
    response = api_client_for(logistics_agent).patch(url(logistics_ticket), {"priority": "urgent", "status": "open"})

    assert response.status_code == 400
    assert "status" in response.json()
    logistics_ticket.refresh_from_db()
    assert logistics_ticket.priority == TicketPriority.NORMAL
    assert kinds(logistics_ticket) == before


def test_put_is_not_offered(logistics_ticket, logistics_agent):
    response = api_client_for(logistics_agent).put(url(logistics_ticket), {"status": "open"})

    assert response.status_code == 405


# Teams and agents


def test_teams_and_agents_are_listed_for_any_agent(logistics_agent, returns_agent, manager, django_assert_num_queries):
    client = api_client_for(returns_agent)

    teams = client.get("/api/v1/teams/").json()
    with django_assert_num_queries(5):  # session, user, agent, agents, their teams
        agents = client.get("/api/v1/agents/").json()

    assert [t["slug"] for t in teams] == ["logistics", "returns"]
    assert {a["name"]: (a["role"], a["teams"]) for a in agents} == {
        "Lena": ("agent", ["logistics"]),
        "Rami": ("agent", ["returns"]),
        "Maya": ("manager", []),
    }
    assert set(agents[0]) == {"id", "name", "role", "teams", "status"}
