"""Inbox queues: what each holds for whom, their counts in one query, and the
queue filter of the ticket list."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from helpdesk.tickets.models import TicketStatus
from helpdesk.tickets.selectors import ticket_queue_counts
from helpdesk.tickets.services import ticket_assign, ticket_set_status
from tests.conftest import api_client_for
from tests.factories import make_ticket

QUEUES = "/api/v1/tickets/queues/"


@pytest.fixture
def desk(customer, logistics, returns, logistics_agent, returns_agent, manager):
    """Logistics: one new, one mine (open), one waiting on the customer, one
    solved today and one solved a month ago; returns: one new."""
    new = make_ticket(customer, logistics, subject="new")
    mine = make_ticket(customer, logistics, subject="mine")
    ticket_assign(ticket=mine, actor=None, assignee=logistics_agent)
    ticket_set_status(ticket=mine, actor=logistics_agent, status=TicketStatus.OPEN)
    waiting = make_ticket(customer, logistics, subject="waiting")
    ticket_set_status(ticket=waiting, actor=logistics_agent, status=TicketStatus.PENDING)
    with time_machine.travel(timezone.now() - timedelta(days=30)):
        old = make_ticket(customer, logistics, subject="solved long ago")
        ticket_set_status(ticket=old, actor=logistics_agent, status=TicketStatus.SOLVED)
    solved = make_ticket(customer, logistics, subject="solved today")
    ticket_set_status(ticket=solved, actor=logistics_agent, status=TicketStatus.SOLVED)
    other = make_ticket(customer, returns, subject="returns new")
    return {"new": new, "mine": mine, "waiting": waiting, "solved": solved, "old": old, "other": other}


def test_an_agent_counts_only_tickets_of_their_teams(desk, logistics_agent, django_assert_num_queries):
    with django_assert_num_queries(1):
        counts = ticket_queue_counts(agent=logistics_agent)

    assert counts == {"mine": 1, "unassigned": 1, "teams": 3, "at_risk": 0, "breached": 0, "waiting": 1, "solved": 1}


def test_a_manager_also_has_the_all_queue_across_teams(desk, manager):
    counts = ticket_queue_counts(agent=manager)

    assert (counts["all"], counts["unassigned"], counts["mine"], counts["teams"]) == (4, 2, 0, 0)


def test_the_queue_filter_lists_the_same_tickets_the_counts_count(desk, logistics_agent, returns_agent):
    client = api_client_for(logistics_agent)
    counts = client.get(QUEUES).json()

    for queue, count in counts.items():
        subjects = [t["subject"] for t in client.get("/api/v1/tickets/", {"queue": queue}).json()["results"]]
        assert len(subjects) == count, queue
    unassigned = client.get("/api/v1/tickets/", {"queue": "unassigned"}).json()["results"]
    assert [t["subject"] for t in unassigned] == ["new"]  # not the returns team's new ticket
    assert api_client_for(returns_agent).get(QUEUES).json()["unassigned"] == 1


def test_an_unknown_queue_is_a_400_naming_the_parameter(desk, logistics_agent):
    response = api_client_for(logistics_agent).get("/api/v1/tickets/", {"queue": "everything"})

    assert response.status_code == 400 and "queue" in response.json()


def test_queue_counts_need_a_signed_in_agent(desk, anonymous_client):
    assert anonymous_client.get(QUEUES).status_code == 401
