"""The inbox page (/inbox/) and its rows fragment (/inbox/rows/): filters
through the API's FilterSet, keyset pages, unread marks, scope, query counts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from helpdesk.customers.models import CustomerTier
from helpdesk.tickets.models import (
    Agent,
    AuthorKind,
    Tag,
    Ticket,
    TicketCategory,
    TicketChannel,
    TicketPriority,
    TicketStatus,
)
from helpdesk.tickets.selectors import TicketCursor
from helpdesk.tickets.services import (
    message_post,
    ticket_assign,
    ticket_read,
    ticket_set_category,
    ticket_set_priority,
    ticket_set_status,
)
from tests.conftest import api_client_for
from tests.factories import make_customer, make_ticket

INBOX = "/inbox/"
ROWS = "/inbox/rows/"


def client_for(agent: Agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


def row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-testid="ticket-row" data-ticket-id="(\d+)"', html)]


def found(pattern: str, html: str) -> str:
    """The first group of ``pattern`` in ``html``, which must match."""
    match = re.search(pattern, html)
    assert match is not None, pattern
    return match.group(1)


def unread_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-ticket-id="(\d+)" data-cursor="[\d_]+" data-unread="true"', html)]


def many_tickets(customer, team, count: int) -> list[Ticket]:
    """``count`` tickets, newest first, several sharing one created_at so the
    id has to break ties."""
    tickets = [make_ticket(customer, team, subject=f"Question {n}") for n in range(count)]
    base = timezone.now() - timedelta(days=1)
    for n, ticket in enumerate(tickets):
        Ticket.objects.filter(pk=ticket.pk).update(created_at=base + timedelta(minutes=n // 3))
    return sorted(
        Ticket.objects.filter(pk__in=[t.pk for t in tickets]), key=lambda t: (t.created_at, t.pk), reverse=True
    )


# ---- the address ----


def test_the_old_desk_address_redirects_to_the_inbox_keeping_the_query(logistics_agent):
    response = client_for(logistics_agent).get("/desk/?queue=mine&q=tent")

    assert response.status_code == 302
    assert response["Location"] == "/inbox/?queue=mine&q=tent"


def test_the_top_bar_links_the_inbox(logistics_agent, customer, logistics):
    ticket = make_ticket(customer, logistics)

    html = client_for(logistics_agent).get(f"/desk/tickets/{ticket.pk}/").content.decode()

    assert 'href="/inbox/">Inbox</a>' in html


def test_an_agent_signs_out_from_the_top_bar(logistics_agent):
    client = client_for(logistics_agent)
    assert 'action="/sign-out/"' in client.get(INBOX).content.decode()

    response = client.post("/sign-out/")

    assert response.status_code == 302
    assert client.get(INBOX).status_code == 302  # signed out: the inbox sends to sign in
    assert client.get("/sign-out/").status_code == 405  # a link cannot sign anyone out


# ---- filters ----


@pytest.fixture
def assorted(customer, shop, logistics, returns, logistics_agent, manager):
    """Tickets that differ in one filter each from the plain one."""
    gold = make_customer(shop, name="Gil Gold", email="gil@example.com", tier=CustomerTier.GOLD)
    plain = make_ticket(customer, logistics, subject="Plain")
    urgent = make_ticket(customer, logistics, subject="Urgent one")
    ticket_set_priority(ticket=urgent, actor=None, priority=TicketPriority.URGENT, reason="test")
    pending = make_ticket(customer, logistics, subject="Waiting")
    ticket_set_status(ticket=pending, actor=logistics_agent, status=TicketStatus.PENDING)
    mine = make_ticket(customer, logistics, subject="Mine")
    ticket_assign(ticket=mine, actor=None, assignee=manager)  # "me" for the manager, who lists them all
    email = make_ticket(customer, logistics, subject="By email", channel=TicketChannel.EMAIL)
    damaged = make_ticket(customer, logistics, subject="Broken")
    ticket_set_category(ticket=damaged, actor=None, category=TicketCategory.DAMAGED, reason="test")
    vip = make_ticket(gold, logistics, subject="Gold customer")
    tagged = make_ticket(customer, logistics, subject="Tagged")
    tagged.tags.add(Tag.objects.create(name="chargeback"))
    returns_ticket = make_ticket(customer, returns, subject="Refund")
    old = make_ticket(customer, logistics, subject="Old")
    Ticket.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    return {
        "plain": plain,
        "urgent": urgent,
        "pending": pending,
        "mine": mine,
        "email": email,
        "damaged": damaged,
        "vip": vip,
        "tagged": tagged,
        "returns": returns_ticket,
        "old": old,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "pending"}, ["pending"]),
        ({"priority": "urgent"}, ["urgent"]),
        ({"assignee": "me"}, ["mine"]),
        ({"channel": "email"}, ["email"]),
        ({"category": "damaged"}, ["damaged"]),
        ({"tier": "gold"}, ["vip"]),
        ({"tag": "chargeback"}, ["tagged"]),
        ({"team": "logistics", "status": "new", "tier": "gold"}, ["vip"]),
        ({"status": "new", "q": "Tagged"}, ["tagged"]),
        ({"queue": "mine", "status": "new"}, ["mine"]),
        ({"queue": "waiting", "priority": "urgent"}, []),
    ],
)
def test_filters_narrow_the_list_and_combine_with_queue_and_search(manager, assorted, query, expected):
    response = client_for(manager).get(INBOX, query)

    assert response.status_code == 200
    assert sorted(row_ids(response.content.decode())) == sorted(assorted[name].pk for name in expected)


def test_created_dates_are_whole_days_in_the_desks_time_zone(manager, assorted):
    today = timezone.localdate()
    old_day = timezone.localtime(Ticket.objects.get(pk=assorted["old"].pk).created_at).date()
    client = client_for(manager)

    recent = row_ids(client.get(INBOX, {"created_from": today.isoformat()}).content.decode())
    only_old = row_ids(
        client.get(INBOX, {"created_from": old_day.isoformat(), "created_to": old_day.isoformat()}).content.decode()
    )

    assert assorted["old"].pk not in recent and len(recent) == len(assorted) - 1
    assert only_old == [assorted["old"].pk]


def test_a_reports_drill_down_filter_is_named_above_the_list_without_a_control(manager, assorted):
    # When a report's link opens the inbox with a drill-down filter
    page = client_for(manager).get(INBOX, {"first_response": "waiting", "merged": "false"}).content.decode()

    # Then the agent reads what it filters by, the filter is kept on Apply, and no select is added to the bar
    assert re.search(r'data-testid="kept-filters">.*First response: No first response yet', page, re.S)
    assert '<input type="hidden" name="first_response" value="waiting">' in page
    assert 'name="merged" value="false"' in page
    assert '<select name="first_response"' not in page


def test_unassigned_and_unread_only(logistics_agent, customer, logistics):
    read = make_ticket(customer, logistics, subject="Read")
    ticket_read(agent=logistics_agent, ticket=read, seq=read.last_seq)
    unread = make_ticket(customer, logistics, subject="Unread")
    ticket_assign(ticket=read, actor=None, assignee=logistics_agent)
    client = client_for(logistics_agent)

    assert row_ids(client.get(INBOX, {"assignee": "none"}).content.decode()) == [unread.pk]
    assert row_ids(client.get(INBOX, {"unread": "on"}).content.decode()) == [unread.pk]


def test_the_bar_keeps_the_values_and_labels_every_control(manager, assorted, logistics):
    html = client_for(manager).get(INBOX, {"status": "new", "team": "logistics", "unread": "on"}).content.decode()

    for name in ("status", "priority", "team", "assignee", "channel", "category", "tier", "tag", "created_from"):
        assert re.search(rf'<label for="id_{name}">[^<]+</label>', html), name
    assert '<option value="new" selected>New</option>' in html
    assert '<option value="logistics" selected>Logistics</option>' in html
    assert '<input type="checkbox" name="unread" id="id_unread" checked>' in html
    assert '<option value="me">Me</option>' in html and '<option value="none">Unassigned</option>' in html


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "reopened"}, "status"),
        ({"team": "nope"}, "team"),
        ({"assignee": "someone"}, "assignee"),
        ({"tag": "no-such-tag"}, "tag"),
        ({"created_from": "yesterday"}, "created_from"),
        ({"created_to": "2026-02-31"}, "created_to"),
    ],
)
def test_an_invalid_filter_is_a_400_with_the_error_next_to_its_control(
    logistics_agent, customer, logistics, query, field
):
    make_ticket(customer, logistics)

    response = client_for(logistics_agent).get(INBOX, query)

    assert response.status_code == 400
    html = response.content.decode()
    assert row_ids(html) == []
    assert f'id="id_{field}-error"' in html and 'data-testid="field-error"' in html
    control = found(rf'(<(?:select|input)[^>]*id="id_{field}"[^>]*>)', html)
    assert 'aria-invalid="true"' in control and f'aria-describedby="id_{field}-error"' in control
    # The value typed is kept, and the fragment refuses it too.
    assert client_for(logistics_agent).get(ROWS, query).status_code == 400


def test_an_invalid_queue_is_listed_above_the_bar(logistics_agent):
    response = client_for(logistics_agent).get(INBOX, {"queue": "everything"})

    assert response.status_code == 400
    assert 'data-testid="filter-errors"' in response.content.decode()
    assert "Queue:" in response.content.decode()


def test_the_api_takes_the_same_filters(logistics_agent, customer, logistics):
    tagged = make_ticket(customer, logistics, subject="Tagged")
    tagged.tags.add(Tag.objects.create(name="vip"))
    make_ticket(customer, logistics, subject="Other")
    api = api_client_for(logistics_agent)

    assert [t["id"] for t in api.get("/api/v1/tickets/", {"tag": "vip"}).json()["results"]] == [tagged.pk]
    assert [t["id"] for t in api.get("/api/v1/tickets/", {"unread": "true"}).json()["results"]] != []
    assert api.get("/api/v1/tickets/", {"tag": "nope"}).status_code == 400


# ---- keyset pages ----


def walk(client: Client, query: dict[str, str] | None = None) -> list[int]:
    """Every row, as the page and then "Load more" would fetch them."""
    response = client.get(INBOX, query or {})
    html = response.content.decode()
    seen = row_ids(html)
    after = found(r'data-testid="load-more" data-after="([\d_]*)"', html)
    while after:
        page = client.get(ROWS, {**(query or {}), "after": after})
        assert page.status_code == 200
        seen += row_ids(page.content.decode())
        after = page["X-Next-Cursor"]
    return seen


def test_load_more_walks_every_ticket_once_in_order(logistics_agent, customer, logistics):
    tickets = many_tickets(customer, logistics, 120)

    seen = walk(client_for(logistics_agent))

    assert seen == [t.pk for t in tickets]  # no duplicates, no gaps, ties broken by id


def test_pages_stay_correct_while_tickets_arrive(logistics_agent, customer, logistics):
    tickets = many_tickets(customer, logistics, 60)
    client = client_for(logistics_agent)
    first = client.get(INBOX).content.decode()
    after = found(r'data-after="([\d_]+)"', first)

    make_ticket(customer, logistics, subject="Arrived meanwhile")
    rest = row_ids(client.get(ROWS, {"after": after}).content.decode())

    assert row_ids(first) + rest == [t.pk for t in tickets]


def test_the_fragment_is_rows_only_with_the_next_cursor(logistics_agent, customer, logistics):
    tickets = many_tickets(customer, logistics, 55)
    cursor = TicketCursor.of(tickets[49]).encode()

    response = client_for(logistics_agent).get(ROWS, {"after": cursor})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith("<tr")
    assert row_ids(html) == [t.pk for t in tickets[50:]]
    assert response["X-Next-Cursor"] == ""


def test_through_rereads_from_the_newest_down_to_a_row(logistics_agent, customer, logistics):
    tickets = many_tickets(customer, logistics, 70)
    through = TicketCursor.of(tickets[59]).encode()
    ticket_set_status(ticket=tickets[10], actor=logistics_agent, status=TicketStatus.PENDING)

    response = client_for(logistics_agent).get(ROWS, {"through": through, "status": "new"})

    assert row_ids(response.content.decode()) == [t.pk for t in tickets[:60] if t.pk != tickets[10].pk]


def test_a_reread_takes_rows_further_down_by_id(logistics_agent, customer, logistics, django_assert_num_queries):
    tickets = many_tickets(customer, logistics, 30)
    ticket_set_status(ticket=tickets[25], actor=logistics_agent, status=TicketStatus.PENDING)
    asked = [tickets[20].pk, tickets[25].pk, tickets[2].pk]
    client = client_for(logistics_agent)

    # session, user, agent, the range and its tags, the asked rows and their tags
    with django_assert_num_queries(7):
        response = client.get(
            ROWS, {"through": TicketCursor.of(tickets[4]).encode(), "ids": ",".join(map(str, asked)), "status": "new"}
        )

    # The first five, then of the asked rows further down those that still match.
    assert row_ids(response.content.decode()) == [t.pk for t in tickets[:5]] + [tickets[20].pk]
    assert client.get(ROWS, {"through": "0_0", "ids": "1,x"}).status_code == 400
    assert client.get(ROWS, {"through": "0_0", "ids": ",".join(["1"] * 101)}).status_code == 400


@pytest.mark.parametrize("cursor", ["x", "12", "1_2_3", "-5_1", "9" * 30 + "_1"])
def test_a_cursor_the_desk_did_not_make_is_a_400(logistics_agent, cursor):
    assert client_for(logistics_agent).get(ROWS, {"after": cursor}).status_code == 400
    assert client_for(logistics_agent).get(ROWS, {"through": cursor}).status_code == 400


def test_keyset_pages_use_no_offset(logistics_agent, customer, logistics, django_assert_num_queries):
    tickets = many_tickets(customer, logistics, 3)
    client = client_for(logistics_agent)

    with django_assert_num_queries(5) as captured:
        client.get(ROWS, {"after": TicketCursor.of(tickets[0]).encode()})

    listing = next(q["sql"] for q in captured.captured_queries if 'FROM "tickets_ticket"' in q["sql"])
    assert "OFFSET" not in listing and "LIMIT 51" in listing


# ---- scope ----


def test_an_agent_never_sees_other_teams_tickets_in_the_list_or_the_fragment(
    returns_agent, customer, logistics, returns
):
    others = many_tickets(customer, logistics, 5)
    own = make_ticket(customer, returns, subject="Refund")
    client = client_for(returns_agent)

    for query in ({}, {"team": "logistics"}, {"q": "Question"}, {"queue": "teams"}):
        assert set(row_ids(client.get(INBOX, query).content.decode())) <= {own.pk}
        assert set(row_ids(client.get(ROWS, query).content.decode())) <= {own.pk}
    past_everything = TicketCursor(timezone.now() + timedelta(days=1), 10**9).encode()
    assert row_ids(client.get(ROWS, {"after": past_everything}).content.decode()) == [own.pk]
    reread = client.get(ROWS, {"through": "0_0", "ids": ",".join(str(t.pk) for t in others)})
    assert row_ids(reread.content.decode()) == [own.pk]


def test_the_fragment_needs_a_desk_agent(db, customer, logistics):
    assert Client().get(ROWS).status_code == 302


# ---- unread and columns ----


def test_rows_show_unread_channel_category_and_tags(logistics_agent, customer, logistics):
    read = make_ticket(customer, logistics, subject="Seen it")
    unread = make_ticket(customer, logistics, subject="Fresh", channel=TicketChannel.EMAIL)
    unread.tags.add(Tag.objects.create(name="vip"), Tag.objects.create(name="late"))
    ticket_set_category(ticket=unread, actor=None, category=TicketCategory.DELIVERY, reason="test")
    client = client_for(logistics_agent)
    client.get(f"/desk/tickets/{read.pk}/")  # opening a ticket reads it

    html = client.get(INBOX).content.decode()

    assert unread_ids(html) == [unread.pk]
    fresh_row = html[html.index(f'data-ticket-id="{unread.pk}"') : html.index(f'data-ticket-id="{read.pk}"')]
    assert '<span class="sr-only">Unread</span>' in fresh_row
    assert 'data-channel="email">Email<' in fresh_row and ">Delivery<" in fresh_row
    assert '<span class="tag" dir="auto">late</span> <span class="tag" dir="auto">vip</span>' in fresh_row

    message_post(ticket=read, author_kind=AuthorKind.CUSTOMER, body="One more thing")
    assert sorted(unread_ids(client.get(INBOX).content.decode())) == sorted([read.pk, unread.pk])


# ---- query counts ----

# session, user, agent, tickets (with customer, team, assignee, order and unread), their tags,
# queue counts, teams; the filter bar's agents, teams and tags
PAGE_QUERIES = 10
# session, user, agent, tickets, their tags
ROWS_QUERIES = 5


def test_the_page_and_fragment_query_counts_do_not_grow_with_rows(
    logistics_agent, customer, logistics, django_assert_num_queries
):
    client = client_for(logistics_agent)
    vip = Tag.objects.create(name="vip")
    for count in (3, 60):
        for ticket in many_tickets(customer, logistics, count):
            ticket.tags.add(vip)
        after = TicketCursor.of(Ticket.objects.order_by("-created_at", "-id")[1]).encode()

        with django_assert_num_queries(PAGE_QUERIES):
            client.get(INBOX)
        with django_assert_num_queries(PAGE_QUERIES):
            client.get(INBOX, {"status": "new", "assignee": "none", "unread": "on", "channel": "chat"})
        with django_assert_num_queries(ROWS_QUERIES):
            client.get(ROWS, {"after": after})
        with django_assert_num_queries(ROWS_QUERIES):
            client.get(ROWS, {"through": "0_0", "priority": "normal"})
