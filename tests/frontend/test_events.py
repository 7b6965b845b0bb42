"""System lines in the ticket's conversation, their formatter, and the
fragments the ticket page fetches when a live event arrives (no browser)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from helpdesk.tickets.event_text import HIDDEN_KINDS, event_text
from helpdesk.tickets.models import Agent, EventKind, Ticket, TicketPriority
from helpdesk.tickets.services import (
    ticket_assign,
    ticket_link_order,
    ticket_merge,
    ticket_note,
    ticket_reply,
    ticket_set_priority,
    ticket_set_tags,
)
from tests.factories import make_order, make_ticket

# The formatter


@pytest.mark.parametrize(
    ("kind", "data", "actor", "text"),
    [
        (EventKind.OPENED, {"channel": "chat", "team": "logistics"}, "", "Opened via chat in Logistics"),
        (
            EventKind.OPENED,
            {"channel": "email", "team": "x", "claimed_order_number": "77"},
            "",
            "Opened via email in x; the customer gave order number 77",
        ),
        (EventKind.ASSIGNED, {"old": None, "new": 2, "name": "Dan"}, "Lena", "Lena assigned this to Dan"),
        (EventKind.ASSIGNED, {"old": None, "new": 1, "name": "Lena"}, "Lena", "Lena took this"),
        (EventKind.ASSIGNED, {"old": 1, "new": None, "name": ""}, "Lena", "Lena unassigned this"),
        (EventKind.ASSIGNED, {"old": None, "new": 2, "name": "Dan"}, "", "The desk assigned this to Dan"),
        (
            EventKind.TEAM_CHANGED,
            {"old": "logistics", "new": "returns"},
            "Lena",
            "Lena moved this from Logistics to Returns",
        ),
        (
            EventKind.STATUS_CHANGED,
            {"old": "open", "new": "solved", "reason": "set by agent"},
            "Lena",
            "Status: Open → Solved by Lena",
        ),
        (
            EventKind.STATUS_CHANGED,
            {"old": "solved", "new": "open", "reason": "customer replied"},
            "",
            "Status: Solved → Open (customer replied)",
        ),
        (
            EventKind.PRIORITY_CHANGED,
            {"old": "normal", "new": "high", "reason": "angry customer"},
            "",
            "Priority raised to High: angry customer",
        ),
        (
            EventKind.PRIORITY_CHANGED,
            {"old": "urgent", "new": "low", "reason": "set by agent"},
            "Lena",
            "Priority lowered to Low by Lena",
        ),
        (
            EventKind.CATEGORY_CHANGED,
            {"old": "", "new": "delivery", "reason": "set by agent"},
            "",
            "Category: Delivery",
        ),
        (EventKind.CATEGORY_CHANGED, {"old": "delivery", "new": "", "reason": "set by agent"}, "", "Category cleared"),
        (EventKind.TAGS_CHANGED, {"added": ["vip"], "removed": ["late"]}, "Lena", "Tags: +vip -late by Lena"),
        (EventKind.ORDER_LINKED, {"number": "1042", "old": None}, "", "Linked to order #1042"),
        (EventKind.ORDER_LINKED, {"number": None, "old": "1042"}, "Lena", "Unlinked from order #1042 by Lena"),
        (EventKind.MERGED, {"into": 12, "into_subject": "Parcel"}, "Lena", "Merged into #12 “Parcel” by Lena"),
        (EventKind.MERGED, {"from": 11, "from_subject": "Late"}, "", "#11 “Late” was merged into this"),
        (
            EventKind.SENTIMENT_CHANGED,
            {"old": "neutral", "new": "negative", "score": -0.7, "trend": "worsening"},
            "",
            "Mood: Neutral → Negative (worsening since the first message)",
        ),
        (EventKind.SENTIMENT_CHANGED, {"old": "", "new": "positive", "trend": ""}, "", "Mood: Positive"),
        (
            EventKind.SENTIMENT_CORRECTED,
            {"seq": 3, "model": "negative", "old": "negative", "new": "neutral"},
            "Lena",
            "Mood tag of message 3 corrected from Negative to Neutral by Lena",
        ),
        (
            EventKind.ESCALATED,
            {"reason": "a confidently negative customer message (97%)", "leads": [4]},
            "",
            "Escalated to the team lead: a confidently negative customer message (97%)",
        ),
        (EventKind.RECOVERED, {"reason": "x"}, "", "Recovered: the customer's mood turned from negative to positive"),
        ("refund_issued", {"reason": "5 EUR back"}, "", "Refund issued: 5 EUR back"),
        ("survey.sent", {}, "", "Survey sent"),
    ],
)
def test_every_kind_has_a_line(kind, data, actor, text):
    assert event_text(kind, data, actor=actor, teams={"logistics": "Logistics", "returns": "Returns"}) == text


def test_a_known_kind_without_its_own_wording_uses_its_label():
    assert event_text(EventKind.FIRST_RESPONSE, {"seconds": 3}) == "First response"
    assert EventKind.FIRST_RESPONSE in HIDDEN_KINDS


def test_missing_data_never_breaks_a_line():
    for kind in EventKind.values:
        assert event_text(kind, {})


# The page and the fragments


def client_for(agent: Agent) -> Client:
    client = Client()
    client.force_login(agent.user)
    return client


def lines(html: str) -> list[tuple[str, str]]:
    return re.findall(
        r'data-testid="system-event" data-kind="([^"]+)".*?<span class="system-text" dir="auto">([^<]*)<', html
    )


def thread(html: str) -> list[str]:
    """The conversation's items in order: "m:<seq>" or "e:<kind>"."""
    found = re.findall(r'data-testid="(message|system-event)" data-(?:id="\d+" data-seq="(\d+)"|kind="([^"]+)")', html)
    return [f"m:{seq}" if what == "message" else f"e:{kind}" for what, seq, kind in found]


@pytest.fixture
def ticket(customer, logistics) -> Ticket:
    return make_ticket(customer, logistics, subject="Parcel late")


def test_the_conversation_interleaves_system_lines_with_messages(ticket, logistics_agent, team_lead):
    ticket_assign(ticket=ticket, actor=team_lead, assignee=logistics_agent)
    ticket_reply(ticket=ticket, agent=logistics_agent, body="Looking")
    ticket_set_tags(ticket=ticket, actor=logistics_agent, tags=["vip"])

    html = client_for(logistics_agent).get(f"/desk/tickets/{ticket.pk}/").content.decode()

    mine = {"e:opened", "e:assigned", "e:status_changed", "e:tags_changed"}  # other features add lines too
    assert [item for item in thread(html) if item.startswith("m:") or item in mine] == [
        "e:opened",
        "m:1",
        "e:assigned",
        "m:2",
        "e:status_changed",
        "e:tags_changed",
    ]
    assert ("assigned", "Tal assigned this to Lena") in lines(html)
    assert ("tags_changed", "Tags: +vip by Lena") in lines(html)


def test_the_events_fragment_holds_only_newer_lines(ticket, logistics_agent):
    client = client_for(logistics_agent)
    last = ticket.events.order_by("-id").first().pk
    ticket_note(ticket=ticket, agent=logistics_agent, body="internal")  # a note event: no line
    ticket_set_priority(
        ticket=ticket, actor=logistics_agent, priority=TicketPriority.HIGH, reason="vip <b>customer</b>"
    )

    response = client.get(f"/desk/tickets/{ticket.pk}/events/?after={last}")

    assert response.status_code == 200
    html = response.content.decode()
    assert lines(html) == [("priority_changed", "Priority raised to High: vip &lt;b&gt;customer&lt;/b&gt; by Lena")]
    assert client.get(f"/desk/tickets/{ticket.pk}/events/?after=x").status_code == 400


def test_fragments_of_another_teams_ticket_are_404(ticket, returns_agent, client):
    other = client_for(returns_agent)

    assert other.get(f"/desk/tickets/{ticket.pk}/events/").status_code == 404
    assert other.get(f"/desk/tickets/{ticket.pk}/context/").status_code == 404
    assert client.get(f"/desk/tickets/{ticket.pk}/events/").status_code == 302  # signed out: to the sign-in page


def test_the_context_fragment_marks_the_linked_order(ticket, customer, logistics_agent):
    order = make_order(customer, number="1042")
    make_order(customer, number="1043")
    ticket_link_order(ticket=ticket, actor=logistics_agent, order=order)

    html = client_for(logistics_agent).get(f"/desk/tickets/{ticket.pk}/context/").content.decode()

    assert html.lstrip().startswith('<div class="customer-panel"')
    assert re.findall(r'data-order-number="(\d+)" data-current="true"', html) == ["1042"]
    assert html.count('data-testid="link-order"') == 1
    assert html.count('data-testid="unlink-order"') == 1


def test_a_merged_ticket_shows_a_banner_and_the_target_is_offered(ticket, customer, logistics, logistics_agent):
    other = make_ticket(customer, logistics, subject="Second question")
    client = client_for(logistics_agent)
    before = client.get(f"/desk/tickets/{ticket.pk}/").content.decode()

    ticket_merge(source=ticket, target=other, actor=logistics_agent)
    after = client.get(f"/desk/tickets/{ticket.pk}/").content.decode()

    assert re.search(rf'<option value="{other.pk}">#{other.pk} Second question</option>', before)
    assert re.search(r'data-testid="merged-banner" role="status" hidden', before)
    assert not re.search(r'data-testid="merged-banner" role="status" hidden', after)
    assert f'href="/desk/tickets/{other.pk}/"' in after


def test_the_page_query_count_does_not_grow_with_messages_events_and_tags(
    ticket, customer, logistics_agent, team_lead, django_assert_num_queries
):
    client = client_for(logistics_agent)
    orders = [make_order(customer)]
    # session, user, agent, ticket, messages, their attachments, events, tags, the agent's read mark, teams,
    # agents, agents' teams, orders, their items and scans, past tickets, tag options, the customer's shop,
    # surveys
    queries = 19
    with django_assert_num_queries(queries):
        client.get(f"/desk/tickets/{ticket.pk}/")
    orders += [make_order(customer) for _ in range(2)]
    for n in range(4):
        ticket_reply(ticket=ticket, agent=logistics_agent, body=f"update {n}")
        ticket_set_tags(ticket=ticket, actor=team_lead, tags=[f"tag{n}", "vip"])
        ticket_link_order(ticket=ticket, actor=team_lead, order=orders[n % 3])

    with django_assert_num_queries(queries):
        response = client.get(f"/desk/tickets/{ticket.pk}/")
    assert len(lines(response.content.decode())) > 8
