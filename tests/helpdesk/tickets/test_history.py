from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from helpdesk.tickets.history import (
    HistoryError,
    PastAssignment,
    PastMessage,
    PastStatus,
    PastTicket,
    ticket_history_import,
)
from helpdesk.tickets.models import (
    AuthorKind,
    EventKind,
    Ticket,
    TicketCategory,
    TicketChannel,
    TicketEvent,
    TicketPriority,
    TicketStatus,
)
from helpdesk.tickets.services import (
    message_post,
    ticket_assign,
    ticket_note,
    ticket_open,
    ticket_reply,
    ticket_set_status,
)
from tests.factories import make_customer, make_order

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def trail(ticket: Ticket) -> dict:
    """Everything the services keep about a ticket, with times relative to its opening."""
    ticket.refresh_from_db()

    def since(moment):
        return None if moment is None else moment - ticket.created_at

    return {
        "fields": (
            ticket.status,
            ticket.priority,
            ticket.category,
            ticket.team_id,
            ticket.assignee_id,
            ticket.last_seq,
            since(ticket.updated_at),
            since(ticket.first_response_at),
            since(ticket.solved_at),
            since(ticket.closed_at),
        ),
        "messages": [
            (m.seq, m.author_kind, m.author_agent_id, m.internal, m.body, since(m.created_at))
            for m in ticket.messages.order_by("seq")
        ],
        "events": [
            (e.kind, e.actor_id, e.data, since(e.created_at))
            for e in ticket.events.exclude(kind__startswith="sla_").order_by("created_at", "id")
        ],  # SLA clocks are live timers: history imports none
    }


def test_imported_history_matches_what_the_services_would_have_written(customer, logistics, logistics_agent, team_lead):
    # Given a conversation played live through the services at known times
    with time_machine.travel(at(0), tick=False):
        live = ticket_open(
            customer=customer, subject="Late", channel=TicketChannel.EMAIL, body="Where?", team=logistics
        )
    with time_machine.travel(at(5), tick=False):
        ticket_assign(ticket=live, actor=team_lead, assignee=logistics_agent)
    with time_machine.travel(at(10), tick=False):
        ticket_note(ticket=live, agent=logistics_agent, body="asked DHL")
    with time_machine.travel(at(20), tick=False):
        ticket_reply(ticket=live, agent=logistics_agent, body="It is on its way")
    with time_machine.travel(at(21), tick=False):
        ticket_set_status(ticket=live, actor=logistics_agent, status=TicketStatus.PENDING)
    with time_machine.travel(at(120), tick=False):
        message_post(ticket=live, author_kind=AuthorKind.CUSTOMER, body="Still nothing")
    with time_machine.travel(at(180), tick=False):
        ticket_reply(ticket=live, agent=logistics_agent, body="Delivered today")
    with time_machine.travel(at(185), tick=False):
        ticket_set_status(ticket=live, actor=logistics_agent, status=TicketStatus.SOLVED)
    with time_machine.travel(at(60 * 24 * 4), tick=False):
        ticket_set_status(ticket=live, actor=logistics_agent, status=TicketStatus.CLOSED)

    # When the same conversation is imported as history
    [imported] = ticket_history_import(
        tickets=[
            PastTicket(
                customer=customer,
                subject="Late",
                channel=TicketChannel.EMAIL,
                team=logistics,
                steps=[
                    PastMessage(at=at(0), body="Where?"),
                    PastAssignment(at=at(5), actor=team_lead, assignee=logistics_agent),
                    PastMessage(at=at(10), body="asked DHL", agent=logistics_agent, internal=True),
                    PastMessage(at=at(20), body="It is on its way", agent=logistics_agent),
                    PastStatus(at=at(21), actor=logistics_agent, status=TicketStatus.PENDING),
                    PastMessage(at=at(120), body="Still nothing"),
                    PastMessage(at=at(180), body="Delivered today", agent=logistics_agent),
                    PastStatus(at=at(185), actor=logistics_agent, status=TicketStatus.SOLVED),
                    PastStatus(at=at(60 * 24 * 4), actor=logistics_agent, status=TicketStatus.CLOSED),
                ],
            )
        ]
    )

    # Then both tickets carry the same fields, messages and events
    assert trail(imported) == trail(live)
    assert imported.created_at == at(0)


def test_category_and_priority_are_recorded_as_imported_changes(customer, logistics):
    [ticket] = ticket_history_import(
        tickets=[
            PastTicket(
                customer=customer,
                subject="Refund",
                channel=TicketChannel.CHAT,
                team=logistics,
                steps=[PastMessage(at=T0, body="Money back?")],
                priority=TicketPriority.HIGH,
                category=TicketCategory.RETURN,
            )
        ]
    )

    assert (ticket.priority, ticket.category, ticket.status) == ("high", "return", TicketStatus.NEW)
    events = list(ticket.events.values_list("kind", "data"))
    assert events == [
        (EventKind.OPENED, {"channel": "chat", "team": "logistics"}),
        (EventKind.MESSAGE, {"seq": 1}),
        (EventKind.CATEGORY_CHANGED, {"old": "", "new": "return", "reason": "imported"}),
        (EventKind.PRIORITY_CHANGED, {"old": "normal", "new": "high", "reason": "imported"}),
    ]


def test_moving_a_ticket_to_another_team_is_logged(customer, logistics, returns, returns_agent, manager):
    [ticket] = ticket_history_import(
        tickets=[
            PastTicket(
                customer=customer,
                subject="Broken tent",
                channel=TicketChannel.WEB,
                team=logistics,
                steps=[
                    PastMessage(at=T0, body="The pole snapped"),
                    PastAssignment(at=at(30), actor=manager, assignee=returns_agent, team=returns),
                ],
            )
        ]
    )

    assert (ticket.team, ticket.assignee) == (returns, returns_agent)
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds[-2:] == [EventKind.TEAM_CHANGED, EventKind.ASSIGNED]


def test_a_manager_may_take_any_teams_ticket(customer, logistics, manager):
    [ticket] = ticket_history_import(
        tickets=[
            PastTicket(
                customer=customer,
                subject="Hi",
                channel=TicketChannel.CHAT,
                team=logistics,
                steps=[PastMessage(at=T0, body="Hello"), PastAssignment(at=at(1), actor=manager, assignee=manager)],
            )
        ]
    )

    assert ticket.assignee == manager


def past(customer, team, *steps, **fields) -> PastTicket:
    return PastTicket(customer=customer, subject="Broken", channel=TicketChannel.CHAT, team=team, steps=steps, **fields)


@pytest.mark.parametrize(
    "make_steps",
    [
        pytest.param(lambda agent: [], id="no messages"),
        pytest.param(lambda agent: [PastMessage(at=T0, body="Hi", agent=agent)], id="an agent opens it"),
        pytest.param(lambda agent: [PastMessage(at=T0, body="   ")], id="an empty message"),
        pytest.param(
            lambda agent: [PastMessage(at=at(5), body="Hi"), PastMessage(at=at(1), body="Earlier?")],
            id="out of time order",
        ),
        pytest.param(
            lambda agent: [
                PastMessage(at=T0, body="Hi"),
                PastStatus(at=at(1), actor=agent, status=TicketStatus.CLOSED),
                PastMessage(at=at(2), body="Hello?"),
            ],
            id="a message after closing",
        ),
        pytest.param(
            lambda agent: [
                PastMessage(at=T0, body="Hi"),
                PastStatus(at=at(1), actor=agent, status=TicketStatus.CLOSED),
                PastStatus(at=at(2), actor=agent, status=TicketStatus.OPEN),
            ],
            id="reopening a closed ticket",
        ),
        pytest.param(
            lambda agent: [PastMessage(at=T0, body="Hi"), PastAssignment(at=at(1), actor=agent, assignee=agent)],
            id="an assignee from another team",
        ),
    ],
)
def test_history_that_breaks_a_service_rule_is_refused_whole(customer, logistics, returns_agent, make_steps):
    good = past(customer, logistics, PastMessage(at=T0, body="Fine"))
    bad = past(customer, logistics, *make_steps(returns_agent))

    with pytest.raises(HistoryError):
        ticket_history_import(tickets=[good, bad])

    assert not Ticket.objects.exists()
    assert not TicketEvent.objects.exists()


def test_an_order_of_another_customer_is_refused(shop, customer, logistics):
    stranger = make_customer(shop)
    their_order = make_order(stranger)

    with pytest.raises(HistoryError):
        ticket_history_import(
            tickets=[past(customer, logistics, PastMessage(at=T0, body="About my order"), order=their_order)]
        )
