"""The managers' weekly digest: scheduled once per week by the sweepers, sent
once per manager, with the week's figures against the week before."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from helpdesk.reports import services
from helpdesk.reports.models import DigestRun
from helpdesk.reports.tasks import digest_send
from helpdesk.tickets.models import Agent, AgentRole, Team, Ticket, TicketChannel
from surveys.models import Survey, SurveyResponse, SurveyStatus
from tests.factories import make_agent, make_customer

MONDAY = datetime(2026, 11, 16, tzinfo=UTC)  # desk TIME_ZONE is UTC in these tests unless set


@pytest.fixture(autouse=True)
def digest_settings(settings):
    settings.TIME_ZONE = "UTC"
    settings.REPORTS_DIGEST_ENABLED = True
    settings.REPORTS_DIGEST_WEEKDAY = 0
    settings.REPORTS_DIGEST_HOUR = 7
    settings.DESK_BASE_URL = "https://desk.example.com/"
    return settings


def queued() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=digest_send.module_path))


def test_not_before_the_hour(db):
    assert services.digest_schedule(now=MONDAY + timedelta(hours=6, minutes=59)) is False

    assert not DigestRun.objects.exists()
    assert queued() == []


def test_once_the_hour_has_passed_the_week_is_scheduled_once(db):
    # when: a pass at 7:00 and later passes the same week
    first = services.digest_schedule(now=MONDAY + timedelta(hours=7))
    again = services.digest_schedule(now=MONDAY + timedelta(hours=7, seconds=15))
    later_in_week = services.digest_schedule(now=MONDAY + timedelta(days=6, hours=23))

    # then
    assert (first, again, later_in_week) == (True, False, False)
    run = DigestRun.objects.get()
    assert (run.week_start, run.period_from, run.period_to) == (
        date(2026, 11, 16),
        date(2026, 11, 9),
        date(2026, 11, 15),
    )
    (task,) = queued()
    assert task.args_kwargs["kwargs"] == {"run_id": run.pk}
    assert task.queue_name == "default"


def test_the_next_week_gets_its_own_digest(db):
    services.digest_schedule(now=MONDAY + timedelta(hours=8))

    assert services.digest_schedule(now=MONDAY + timedelta(days=7, hours=8)) is True

    assert list(DigestRun.objects.order_by("week_start").values_list("period_to", flat=True)) == [
        date(2026, 11, 15),
        date(2026, 11, 22),
    ]
    assert len(queued()) == 2


def test_a_second_sweeper_racing_past_the_check_inserts_nothing(db, monkeypatch):
    # given: both sweepers read "not scheduled" before either inserted
    monkeypatch.setattr(services, "_scheduled", lambda week_start: False)

    # when
    results = [services.digest_schedule(now=MONDAY + timedelta(hours=9)) for _sweeper in range(2)]

    # then: the unique week turns the second insert, and its enqueue, away
    assert results == [True, False]
    assert DigestRun.objects.count() == 1
    assert len(queued()) == 1


def test_two_sweep_passes_schedule_it_once(db):
    with time_machine.travel(MONDAY + timedelta(hours=7, minutes=1), tick=False):
        call_command("desk_sweep", "--once")
        call_command("desk_sweep", "--once")

    assert DigestRun.objects.count() == 1
    assert len(queued()) == 1


def test_configured_weekday_and_hour_in_the_desk_time_zone(db, digest_settings):
    # given: Fridays at 9:00 in Jerusalem (UTC+2 in November)
    digest_settings.TIME_ZONE = "Asia/Jerusalem"
    digest_settings.REPORTS_DIGEST_WEEKDAY = 4
    digest_settings.REPORTS_DIGEST_HOUR = 9
    friday_9_local = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)

    # then
    assert services.digest_schedule(now=friday_9_local - timedelta(minutes=1)) is False
    assert services.digest_schedule(now=friday_9_local) is True
    run = DigestRun.objects.get()
    assert (run.week_start, run.period_from, run.period_to) == (
        date(2026, 11, 16),
        date(2026, 11, 13),
        date(2026, 11, 19),
    )


def test_disabled(db, digest_settings):
    digest_settings.REPORTS_DIGEST_ENABLED = False

    assert services.digest_schedule(now=MONDAY + timedelta(hours=12)) is False
    assert not DigestRun.objects.exists()


def agent_with_email(username: str, role: str, email: str = "", active: bool = True) -> Agent:
    agent = make_agent(username, role=role)
    agent.user.email, agent.user.is_active = email, active
    agent.user.save()
    return agent


@pytest.fixture
def people(db) -> dict[str, Agent]:
    return {
        "maya": agent_with_email("maya", AgentRole.MANAGER, "maya@example.com"),
        "omer": agent_with_email("omer", AgentRole.MANAGER, "omer@example.com"),
        "no_email": agent_with_email("nadav", AgentRole.MANAGER),
        "gone": agent_with_email("gil", AgentRole.MANAGER, "gil@example.com", active=False),
        "lead": agent_with_email("tal", AgentRole.TEAM_LEAD, "tal@example.com"),
        "agent": agent_with_email("lena", AgentRole.AGENT, "lena@example.com"),
    }


def surveyed_ticket(shop, team: Team, opened: datetime, score: int) -> Ticket:
    ticket = Ticket.objects.create(
        customer=make_customer(shop), team=team, subject="Parcel", channel=TicketChannel.CHAT, created_at=opened
    )
    survey = Survey.objects.create(
        ticket=ticket,
        customer=ticket.customer,
        kind="csat",
        channel=ticket.channel,
        status=SurveyStatus.ANSWERED,
        send_at=opened,
        sent_at=opened,
    )
    SurveyResponse.objects.create(survey=survey, score=score)
    return ticket


@pytest.fixture
def week_run(shop, logistics) -> DigestRun:
    """9-15 Nov: CSAT 5 and 4 (100.0); the week before: 5 and 1 (50.0)."""
    for day, score in [(10, 5), (12, 4), (3, 5), (5, 1)]:
        surveyed_ticket(shop, logistics, datetime(2026, 11, day, 12, tzinfo=UTC), score)
    return DigestRun.objects.create(
        week_start=date(2026, 11, 16), period_from=date(2026, 11, 9), period_to=date(2026, 11, 15)
    )


def test_the_digest_goes_to_active_managers_with_an_email_only(week_run, people):
    sent = services.digest_run_send(run_id=week_run.pk)

    assert sent == 2
    assert sorted(message.to[0] for message in mail.outbox) == ["maya@example.com", "omer@example.com"]
    assert all(len(message.to) == 1 for message in mail.outbox)
    week_run.refresh_from_db()
    assert (week_run.sent_at is not None, week_run.recipients) == (True, 2)


def test_the_digest_shows_the_figures_and_their_change(week_run, people):
    services.digest_run_send(run_id=week_run.pk)

    message = mail.outbox[0]
    assert message.subject == "Desk weekly report: 9 Nov - 15 Nov 2026"
    assert "CSAT: 100.0% (week before: 50.0%; +50.0 pts, better)" in message.body
    assert "Tickets: 2 (week before: 2; no change)" in message.body
    assert "NPS: no data (week before: no data)" in message.body
    assert "Customer retention rate: no data" in message.body
    assert "All reports: https://desk.example.com/reports/?from=2026-11-09&to=2026-11-15" in message.body
    assert isinstance(message, EmailMultiAlternatives)
    ((html, mime),) = message.alternatives
    assert mime == "text/html"
    assert isinstance(html, str)
    assert '<td>CSAT</td><td align="right">100.0%</td><td align="right">50.0%</td><td>+50.0 pts, better</td>' in html
    assert 'href="https://desk.example.com/reports/?from=2026-11-09&amp;to=2026-11-15"' in html


def test_a_worse_figure_says_so(shop, logistics, people):
    surveyed_ticket(shop, logistics, datetime(2026, 11, 10, 12, tzinfo=UTC), 1)
    surveyed_ticket(shop, logistics, datetime(2026, 11, 3, 12, tzinfo=UTC), 5)
    run = DigestRun.objects.create(
        week_start=date(2026, 11, 16), period_from=date(2026, 11, 9), period_to=date(2026, 11, 15)
    )

    services.digest_run_send(run_id=run.pk)

    assert "CSAT: 0.0% (week before: 100.0%; -100.0 pts, worse)" in mail.outbox[0].body


def test_running_the_task_twice_emails_each_manager_once(week_run, people):
    assert digest_send.call(run_id=week_run.pk) == 2
    assert digest_send.call(run_id=week_run.pk) == 0

    assert len(mail.outbox) == 2


def test_no_managers_marks_the_week_sent(week_run):
    assert digest_send.call(run_id=week_run.pk) == 0

    week_run.refresh_from_db()
    assert week_run.sent_at is not None
    assert mail.outbox == []
