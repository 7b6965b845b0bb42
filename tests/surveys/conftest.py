"""Surveys: solved tickets of Dana (the customer), handled by logistics whose
lead is Tal; helpers to solve a ticket and to run what it enqueued."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import caches
from django_tasks_db.models import DBTaskResult

from helpdesk.customers.models import Customer
from helpdesk.tickets.models import Agent, Team, Ticket, TicketChannel, TicketStatus
from helpdesk.tickets.services import ticket_set_status
from surveys import tasks
from surveys.models import Survey, SurveyKind, SurveyPolicy
from tests.factories import make_ticket


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    caches["ratelimit"].clear()


def solve(ticket: Ticket, agent: Agent) -> Ticket:
    return ticket_set_status(ticket=ticket, actor=agent, status=TicketStatus.SOLVED)


def enqueued(task: Any) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=task.module_path).order_by("enqueued_at", "id"))


def run_enqueued(task: Any) -> list[Any]:
    """Run every enqueued row of ``task`` once, in order, and delete it (a worker's job)."""
    results = []
    for row in enqueued(task):
        row.delete()
        results.append(task.call(**row.args_kwargs["kwargs"]))
    return results


def email_survey(ticket: Ticket, agent: Agent) -> tuple[Survey, str]:
    """Solve an email ticket under an NPS-by-email policy and send its survey; the link's token."""
    solve(ticket, agent)
    survey = Survey.objects.get(ticket=ticket)
    run_enqueued(tasks.survey_send)
    survey.refresh_from_db()
    return survey, last_token()


def last_token() -> str:
    from django.core import mail

    body = mail.outbox[-1].body
    link = next(line for line in body.splitlines() if "/survey/" in line)
    return link.rstrip("/").rsplit("/", 1)[-1]


@pytest.fixture
def nps_by_email(db) -> SurveyPolicy:
    return SurveyPolicy.objects.create(name="Email NPS", channel=TicketChannel.EMAIL, kind=SurveyKind.NPS)


@pytest.fixture
def chat_ticket(customer: Customer, logistics: Team) -> Ticket:
    return make_ticket(customer, logistics, body="My tent arrived torn.", channel=TicketChannel.CHAT)


@pytest.fixture
def email_ticket(customer: Customer, logistics: Team) -> Ticket:
    return make_ticket(customer, logistics, body="Where is my parcel?", channel=TicketChannel.EMAIL)
