"""Tickets with known report facts: opened at a given moment, answered after
so many minutes, SLA met or breached, surveyed with a score."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from helpdesk.customers.models import Customer
from helpdesk.reports.scope import ReportScope
from helpdesk.tickets.models import Agent, SlaClock, SlaClockKind, Team, Ticket
from surveys.models import FollowUp, Survey, SurveyResponse
from tests.factories import make_ticket

DAY1 = date(2025, 3, 1)  # the reports' period in these tests: 1-10 March 2025
DAY10 = date(2025, 3, 10)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A moment in the desk's time zone."""
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def period(**fields: Any) -> ReportScope:
    return ReportScope(date_from=fields.pop("date_from", DAY1), date_to=fields.pop("date_to", DAY10), **fields)


def ticket(
    customer: Customer,
    team: Team,
    *,
    opened: datetime,
    assignee: Agent | None = None,
    answered_after: float | None = None,
    sla: str | None = None,
    solved_after: float | None = None,
    survey: tuple[str, int | None] | None = None,
    reason: str = "",
    sent: bool = True,
    **fields: Any,
) -> Ticket:
    """A ticket opened at ``opened``; ``answered_after``/``solved_after`` in
    minutes; ``sla`` "met" or "breached" (the first-response clock) or None
    (running); ``survey`` (kind, score or None for no answer)."""
    channel = fields.pop("channel", "chat")
    t = make_ticket(customer, team, channel=channel)
    values: dict[str, Any] = {"created_at": opened, "assignee": assignee, **fields}
    if answered_after is not None:
        values["first_response_at"] = opened + timedelta(minutes=answered_after)
    if solved_after is not None:
        values["solved_at"] = opened + timedelta(minutes=solved_after)
    Ticket.objects.filter(pk=t.pk).update(**values)
    clock = SlaClock.objects.filter(ticket=t, kind=SlaClockKind.FIRST_RESPONSE)
    if sla == "met":
        clock.update(stopped_at=opened + timedelta(minutes=5))
    elif sla == "breached":
        clock.update(breached_at=opened + timedelta(minutes=10), stopped_at=opened + timedelta(minutes=30))
    if survey is not None:
        kind, score = survey
        s = Survey.objects.create(
            ticket=t,
            customer=customer,
            kind=kind,
            channel=channel,
            status="answered" if score is not None else "pending",
            send_at=opened,
            sent_at=opened + timedelta(days=1) if sent else None,
        )
        if score is not None:
            SurveyResponse.objects.create(survey=s, score=score, reason=reason)
    t.refresh_from_db()
    return t


def follow_up(original: Ticket, follow: Ticket, *, recovered: bool = False) -> FollowUp:
    """``follow`` is the follow-up ticket the low score on ``original`` opened."""
    return FollowUp.objects.create(
        survey=original.survey, ticket=follow, recovered_at=timezone.now() if recovered else None
    )


def figure(report: dict[str, Any], key: str) -> dict[str, Any]:
    return next(f for f in report["figures"] if f["key"] == key)


def chart(report: dict[str, Any], key: str) -> dict[str, Any]:
    return next(c for c in report["charts"] if c["key"] == key)


def points(report: dict[str, Any], key: str, series: str = "tickets") -> dict[str, Any]:
    return {p["key"]: p["values"][series] for p in chart(report, key)["points"]}
