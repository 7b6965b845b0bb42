"""Per-agent unread marks: the ticket_read service, the inbox annotation, and
the three ways an agent reads a ticket (its page, a websocket receipt, writing)."""

from __future__ import annotations

import pytest
from django.test import Client

from helpdesk.tickets.filters import TicketFilter
from helpdesk.tickets.models import Agent, AuthorKind, Ticket, TicketRead
from helpdesk.tickets.selectors import ticket_inbox
from helpdesk.tickets.services import message_post, ticket_note, ticket_read, ticket_reply
from tests.chat.conftest import agent_connect, agent_cookie, chat_settings, close_other_connections, db, receive_until
from tests.factories import make_agent, make_customer, make_shop, make_ticket

# The websocket test needs the chat tests' per-test channel layer and connection clean-up.
__all__ = ["chat_settings", "close_other_connections"]


def unread(agent: Agent) -> dict[int, bool]:
    return {t.pk: getattr(t, "unread") for t in ticket_inbox(agent=agent)}  # noqa: B009 (an annotation)


def read_seq(agent: Agent, ticket: Ticket) -> int | None:
    return TicketRead.objects.filter(agent=agent, ticket=ticket).values_list("seq", flat=True).first()


def customer_writes(ticket: Ticket, body: str = "Any news?") -> None:
    message_post(ticket=ticket, author_kind=AuthorKind.CUSTOMER, body=body)


@pytest.fixture
def ticket(customer, logistics) -> Ticket:
    ticket = make_ticket(customer, logistics, subject="Parcel late")
    customer_writes(ticket)
    customer_writes(ticket, "Hello?")
    return ticket  # last_seq 3


# ---- the service ----


def test_reading_moves_the_mark_forward_only(logistics_agent, ticket):
    assert ticket_read(agent=logistics_agent, ticket=ticket, seq=2) is True
    assert ticket_read(agent=logistics_agent, ticket=ticket, seq=1) is False
    assert read_seq(logistics_agent, ticket) == 2

    assert ticket_read(agent=logistics_agent, ticket=ticket, seq=3) is True
    assert ticket_read(agent=logistics_agent, ticket=ticket, seq=3) is False
    assert read_seq(logistics_agent, ticket) == 3
    assert TicketRead.objects.filter(agent=logistics_agent, ticket=ticket).count() == 1


def test_a_mark_never_passes_the_last_message_nor_goes_below_zero(logistics_agent, ticket):
    ticket_read(agent=logistics_agent, ticket=ticket, seq=99)
    assert read_seq(logistics_agent, ticket) == 3

    customer_writes(ticket)  # seq 4 arrives after the agent "read" 99
    assert unread(logistics_agent)[ticket.pk] is True

    assert ticket_read(agent=logistics_agent, ticket=ticket, seq=-5) is False
    assert read_seq(logistics_agent, ticket) == 3


def test_reading_is_one_query(logistics_agent, ticket, django_assert_num_queries):
    with django_assert_num_queries(1):
        ticket_read(agent=logistics_agent, ticket=ticket, seq=3)


def test_marks_are_per_agent(logistics_agent, team_lead, ticket):
    ticket_read(agent=logistics_agent, ticket=ticket, seq=3)

    assert unread(logistics_agent)[ticket.pk] is False
    assert unread(team_lead)[ticket.pk] is True


# ---- what makes a ticket unread ----


def test_a_ticket_never_opened_is_unread(logistics_agent, ticket):
    assert unread(logistics_agent) == {ticket.pk: True}


def test_a_customer_message_makes_a_read_ticket_unread_again(logistics_agent, ticket):
    ticket_read(agent=logistics_agent, ticket=ticket, seq=ticket.last_seq)
    assert unread(logistics_agent)[ticket.pk] is False

    customer_writes(ticket)

    assert unread(logistics_agent)[ticket.pk] is True


def test_the_agents_own_reply_or_note_leaves_the_ticket_read(logistics_agent, ticket):
    ticket_reply(ticket=ticket, agent=logistics_agent, body="On its way.")
    assert unread(logistics_agent)[ticket.pk] is False  # writing reads what came before too

    ticket_note(ticket=ticket, agent=logistics_agent, body="Asked the carrier")
    assert unread(logistics_agent)[ticket.pk] is False
    assert read_seq(logistics_agent, ticket) == 5


def test_a_colleagues_reply_is_news_to_the_agent(logistics_agent, team_lead, ticket):
    ticket_read(agent=logistics_agent, ticket=ticket, seq=ticket.last_seq)

    ticket_reply(ticket=ticket, agent=team_lead, body="Done.")

    assert unread(logistics_agent)[ticket.pk] is True
    assert unread(team_lead)[ticket.pk] is False


def test_the_annotation_is_part_of_the_list_query(logistics_agent, customer, logistics, django_assert_num_queries):
    for n in range(6):
        make_ticket(customer, logistics, subject=f"Q{n}")

    with django_assert_num_queries(2):  # the tickets with their unread marks, then their tags
        assert len(unread(logistics_agent)) == 6


def test_unread_only_filters_through_the_shared_filter_set(rf, logistics_agent, ticket, customer, logistics):
    read = make_ticket(customer, logistics, subject="Read")
    ticket_read(agent=logistics_agent, ticket=read, seq=read.last_seq)
    request = rf.get("/", {"unread": "true"})
    request.agent = logistics_agent

    filtered = TicketFilter(request.GET, queryset=ticket_inbox(agent=logistics_agent), request=request)

    assert [t.pk for t in filtered.qs] == [ticket.pk]


# ---- the ways an agent reads ----


def test_opening_the_ticket_page_reads_it(logistics_agent, ticket):
    client = Client()
    client.force_login(logistics_agent.user)

    assert client.get(f"/desk/tickets/{ticket.pk}/").status_code == 200

    assert read_seq(logistics_agent, ticket) == 3
    assert unread(logistics_agent)[ticket.pk] is False


def test_a_ticket_the_agent_may_not_see_is_not_read_by_its_page(returns_agent, ticket):
    client = Client()
    client.force_login(returns_agent.user)

    assert client.get(f"/desk/tickets/{ticket.pk}/").status_code == 404
    assert read_seq(returns_agent, ticket) is None


@pytest.mark.django_db(transaction=True)
async def test_a_receipt_from_the_agents_tab_reads_up_to_its_seq(logistics):
    lena = await db(make_agent)("lena", teams=(logistics,))
    shop = (await db(make_shop)("acme"))[0]
    customer = await db(make_customer)(shop)
    ticket = await db(make_ticket)(customer, logistics)
    await db(customer_writes)(ticket)
    desk = await agent_connect(await db(agent_cookie)(lena))
    await receive_until(desk, "welcome")

    await desk.send_json_to({"type": "receipt", "ticket": ticket.pk, "seq": 1})
    await desk.send_json_to({"type": "ping"})
    await receive_until(desk, "pong")  # frames are handled in order: the receipt is done

    assert await db(read_seq)(lena, ticket) == 1
    assert (await db(unread)(lena))[ticket.pk] is True
    await desk.send_json_to({"type": "receipt", "ticket": ticket.pk, "seq": 2})
    await desk.send_json_to({"type": "ping"})
    await receive_until(desk, "pong")
    assert (await db(unread)(lena))[ticket.pk] is False
    await desk.disconnect()
