"""surveys.services: the policy applied to solved tickets, sending, answering
(validation, single use, reopen and close), follow-ups and recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from chat import schemas
from helpdesk.tickets.models import AuthorKind, SlaClock, TicketChannel, TicketEvent, TicketStatus
from helpdesk.tickets.services import message_post, ticket_set_status
from surveys import tasks
from surveys.models import FollowUp, Survey, SurveyKind, SurveyPolicy, SurveyResponse, SurveyStatus
from surveys.selectors import survey_answers_for_customer, survey_for_ticket, survey_widget_open
from surveys.services import SurveyError, survey_answer, survey_expire_due
from tests.factories import make_customer, make_order, make_team, make_ticket
from tests.surveys.conftest import email_survey, enqueued, run_enqueued, solve


def events(ticket, prefix="survey_"):
    return list(TicketEvent.objects.filter(ticket=ticket, kind__startswith=prefix).values_list("kind", flat=True))


# The policy, applied


def test_a_solved_chat_gets_a_csat_right_away_by_the_default_policy(chat_ticket, logistics_agent) -> None:
    solve(chat_ticket, logistics_agent)

    survey = Survey.objects.get(ticket=chat_ticket)
    assert (survey.kind, survey.status, survey.channel) == (SurveyKind.CSAT, SurveyStatus.PENDING, "chat")
    assert survey.sent_at is not None and survey.expires_at == survey.sent_at + timedelta(days=7)
    assert survey.token_digest is None  # the widget's visitor token authenticates the answer
    assert events(chat_ticket) == ["survey_sent"]
    assert enqueued(tasks.survey_send) == []


def test_an_email_ticket_without_a_policy_gets_no_survey(email_ticket, logistics_agent) -> None:
    solve(email_ticket, logistics_agent)
    assert not Survey.objects.exists()


def test_nps_three_days_later_for_delivered_orders_by_email(customer, logistics, logistics_agent) -> None:
    SurveyPolicy.objects.create(
        name="Delivered: NPS later",
        team=logistics,
        channel=TicketChannel.EMAIL,
        kind=SurveyKind.NPS,
        delay_minutes=3 * 24 * 60,
        only_delivered_orders=True,
    )
    in_transit = make_order(customer, status="shipped")
    shipped = make_ticket(customer, logistics, channel=TicketChannel.EMAIL, order=in_transit)
    delivered = make_ticket(customer, logistics, channel=TicketChannel.EMAIL, order=make_order(customer))

    solve(shipped, logistics_agent)
    before = timezone.now()
    solve(delivered, logistics_agent)

    assert not Survey.objects.filter(ticket=shipped).exists()
    survey = Survey.objects.get(ticket=delivered)
    assert (survey.kind, survey.status) == (SurveyKind.NPS, SurveyStatus.SCHEDULED)
    [row] = enqueued(tasks.survey_send)
    assert row.run_after is not None and row.run_after >= before + timedelta(days=3)
    assert row.args_kwargs["kwargs"] == {"survey_id": survey.pk}
    assert events(delivered) == ["survey_scheduled"]
    assert mail.outbox == []


def test_the_send_task_emails_a_single_link_and_stores_only_its_digest(
    email_ticket, logistics_agent, nps_by_email
) -> None:
    survey, token = email_survey(email_ticket, logistics_agent)

    assert survey.status == SurveyStatus.PENDING
    assert survey.token_digest and token not in survey.token_digest
    message = mail.outbox[-1]
    assert message.to == ["dana@example.com"]
    assert f"http://127.0.0.1:8000/survey/{token}/" in message.body
    assert events(email_ticket) == ["survey_scheduled", "survey_sent"]
    # Run again (a retried task): nothing more is sent.
    assert tasks.survey_send.call(survey_id=survey.pk) is False
    assert len(mail.outbox) == 1


def test_sampling_zero_surveys_nobody(chat_ticket, logistics_agent) -> None:
    SurveyPolicy.objects.filter(channel="chat").update(sampling_percent=0)
    solve(chat_ticket, logistics_agent)
    assert not Survey.objects.exists()


def test_a_team_policy_beats_the_chat_default(chat_ticket, logistics, logistics_agent) -> None:
    SurveyPolicy.objects.create(name="Logistics chats: NPS", team=logistics, channel="chat", kind=SurveyKind.NPS)
    solve(chat_ticket, logistics_agent)
    assert Survey.objects.get(ticket=chat_ticket).kind == SurveyKind.NPS


def test_no_customer_is_surveyed_twice_within_the_cooldown(customer, logistics, logistics_agent) -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        first = make_ticket(customer, logistics)
        solve(first, logistics_agent)
        clock.shift(timedelta(days=29))
        second = make_ticket(customer, logistics)
        solve(second, logistics_agent)
        clock.shift(timedelta(days=2))
        third = make_ticket(customer, logistics)
        solve(third, logistics_agent)
        other_customer = make_ticket(make_customer(customer.shop), logistics)
        solve(other_customer, logistics_agent)

    assert set(Survey.objects.values_list("ticket_id", flat=True)) == {first.pk, third.pk, other_customer.pk}


# Answering


def test_an_answer_is_recorded_once_with_its_event(chat_ticket, logistics_agent) -> None:
    solve(chat_ticket, logistics_agent)
    survey = Survey.objects.get(ticket=chat_ticket)

    answered = survey_answer(survey=survey, score=4, comment="  Quick and <b>kind</b>  ", ip="203.0.113.9")

    response = answered.response
    assert (response.score, response.comment) == (4, "Quick and <b>kind</b>")
    assert response.ip_hash and "203.0.113.9" not in response.ip_hash
    assert answered.follow_up is None
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.ANSWERED
    event = TicketEvent.objects.get(ticket=chat_ticket, kind="survey_answered")
    assert event.data == {"kind": "csat", "score": 4, "group": "happy", "follow_up": None}

    with pytest.raises(SurveyError) as error:
        survey_answer(survey=survey, score=1)
    assert error.value.code == "answered"
    assert SurveyResponse.objects.get().score == 4


@pytest.mark.parametrize(
    ("kind", "score"),
    [("csat", 0), ("csat", 6), ("csat", -1), ("nps", 11), ("nps", -1), ("csat", "5"), ("csat", None), ("nps", True)],
)
def test_scores_out_of_range_or_not_numbers_record_nothing(chat_ticket, logistics_agent, kind, score) -> None:
    SurveyPolicy.objects.filter(channel="chat").update(kind=kind)
    solve(chat_ticket, logistics_agent)
    survey = Survey.objects.get(ticket=chat_ticket)

    with pytest.raises(SurveyError) as error:
        survey_answer(survey=survey, score=score)

    assert error.value.code == "invalid" and "score" in error.value.fields
    assert not SurveyResponse.objects.exists()
    assert Survey.objects.get().status == SurveyStatus.PENDING


def test_nps_zero_and_ten_are_scores(chat_ticket, customer, logistics, logistics_agent) -> None:
    SurveyPolicy.objects.filter(channel="chat").update(kind="nps", delay_minutes=0)
    solve(chat_ticket, logistics_agent)
    assert survey_answer(survey=Survey.objects.get(), score=10).response.score == 10


def test_long_comments_and_unknown_reasons_are_refused(chat_ticket, logistics_agent) -> None:
    solve(chat_ticket, logistics_agent)
    survey = Survey.objects.get(ticket=chat_ticket)
    with pytest.raises(SurveyError) as error:
        survey_answer(survey=survey, score=1, comment="x" * 2001, reason="bribe")
    assert set(error.value.fields) == {"comment", "reason"}
    assert not SurveyResponse.objects.exists()


def test_a_reason_is_kept_only_for_a_low_score(chat_ticket, logistics_agent) -> None:
    solve(chat_ticket, logistics_agent)
    response = survey_answer(survey=Survey.objects.get(), score=5, reason="slow", reason_text="meh").response
    assert (response.reason, response.reason_text) == ("", "")


def test_an_expired_survey_records_nothing(chat_ticket, logistics_agent) -> None:
    solve(chat_ticket, logistics_agent)
    survey = Survey.objects.get(ticket=chat_ticket)
    assert survey.expires_at is not None
    with time_machine.travel(survey.expires_at + timedelta(seconds=1)):
        with pytest.raises(SurveyError) as error:
            survey_answer(survey=survey, score=5)
        assert survey_expire_due() == 1
    assert error.value.code == "expired"
    assert not SurveyResponse.objects.exists()
    assert Survey.objects.get().status == SurveyStatus.EXPIRED


def test_a_token_answers_its_own_survey_only(customer, logistics, logistics_agent, nps_by_email) -> None:
    _, first_token = email_survey(make_ticket(customer, logistics, channel="email"), logistics_agent)
    other = make_ticket(make_customer(customer.shop), logistics, channel="email")
    second, second_token = email_survey(other, logistics_agent)

    with pytest.raises(SurveyError) as error:
        survey_answer(survey=second, token=first_token, score=9)
    assert error.value.code == "wrong_survey"
    assert not SurveyResponse.objects.exists()

    survey_answer(survey=second, token=second_token, score=9)
    with pytest.raises(SurveyError) as again:
        survey_answer(survey=second, token=second_token, score=9)
    assert again.value.code == "answered"


def test_closing_a_ticket_with_a_survey_pending_keeps_it_answerable(chat_ticket, logistics_agent) -> None:
    solve(chat_ticket, logistics_agent)
    ticket_set_status(ticket=chat_ticket, actor=logistics_agent, status=TicketStatus.CLOSED)

    survey_answer(survey=Survey.objects.get(), score=5)

    assert Survey.objects.get().status == SurveyStatus.ANSWERED


def test_reopening_cancels_the_pending_survey_and_solving_again_brings_it_back(chat_ticket, logistics_agent) -> None:
    solve(chat_ticket, logistics_agent)
    survey = Survey.objects.get()
    message_post(ticket=chat_ticket, author_kind=AuthorKind.CUSTOMER, body="Actually, one more thing")

    with pytest.raises(SurveyError) as error:
        survey_answer(survey=survey, score=5)
    assert error.value.code == "cancelled"
    assert not SurveyResponse.objects.exists()

    solve(chat_ticket, logistics_agent)
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.PENDING
    survey_answer(survey=survey, score=5)


def test_reopening_before_a_delayed_survey_goes_out_cancels_it(email_ticket, logistics_agent, nps_by_email) -> None:
    nps_by_email.delay_minutes = 60
    nps_by_email.save()
    solve(email_ticket, logistics_agent)
    message_post(ticket=email_ticket, author_kind=AuthorKind.CUSTOMER, body="Still not here!")

    assert run_enqueued(tasks.survey_send) == [False]

    assert Survey.objects.get().status == SurveyStatus.CANCELLED
    assert mail.outbox == []
    assert events(email_ticket) == ["survey_scheduled", "survey_cancelled"]


def test_a_reopened_surveyed_ticket_keeps_its_answer(chat_ticket, logistics_agent) -> None:
    solve(chat_ticket, logistics_agent)
    survey_answer(survey=Survey.objects.get(), score=2)
    message_post(ticket=chat_ticket, author_kind=AuthorKind.CUSTOMER, body="Hello again")
    solve(chat_ticket, logistics_agent)

    survey = Survey.objects.get()
    assert survey.status == SurveyStatus.ANSWERED
    assert survey.response.score == 2


# Follow-ups


def test_a_low_csat_opens_a_follow_up_for_the_team_lead(chat_ticket, logistics_agent, team_lead, customer) -> None:
    message_post(ticket=chat_ticket, author_kind=AuthorKind.AGENT, agent=logistics_agent, body="It ships Monday.")
    solve(chat_ticket, logistics_agent)

    answered = survey_answer(
        survey=Survey.objects.get(),
        score=1,
        comment="Nobody <script>helped</script>",
        reason="not_solved",
        reason_text="Still torn",
    )

    follow_up = answered.follow_up
    assert follow_up is not None and FollowUp.objects.get() == follow_up
    ticket = follow_up.ticket
    assert ticket.pk != chat_ticket.pk
    assert (ticket.customer, ticket.team, ticket.assignee) == (customer, chat_ticket.team, team_lead)
    assert ticket.channel == TicketChannel.EMAIL  # the desk has Dana's address
    opening, note = ticket.messages.order_by("seq")
    assert opening.author_kind == AuthorKind.CUSTOMER and not opening.internal
    assert "1 of 5" in opening.body and "Nobody <script>helped</script>" in opening.body
    assert note.internal and note.author_agent == team_lead
    for text in ("1 of 5", "My problem is not solved", "Still torn", "My tent arrived torn.", "It ships Monday."):
        assert text in note.body
    assert events(ticket) == ["survey_follow_up"]
    # Its own SLA: the first-response clock runs for the lead.
    assert SlaClock.objects.filter(ticket=ticket, kind="first_response", stopped_at__isnull=True).exists()
    assert TicketEvent.objects.get(ticket=chat_ticket, kind="survey_answered").data["follow_up"] == ticket.pk
    # Linked both ways.
    assert follow_up.survey.ticket == chat_ticket
    shown = survey_for_ticket(ticket=chat_ticket)
    assert shown is not None and shown.follow_up_ticket_id == ticket.pk


def test_without_a_team_lead_the_follow_up_waits_in_the_team_queue(chat_ticket, logistics_agent) -> None:
    solve(chat_ticket, logistics_agent)
    follow_up = survey_answer(survey=Survey.objects.get(), score=2).follow_up
    assert follow_up is not None
    assert follow_up.ticket.team == chat_ticket.team
    assert follow_up.ticket.messages.count() == 1


@pytest.mark.parametrize(("score", "opens"), [(0, True), (6, True), (7, False), (10, False)])
def test_nps_detractors_open_follow_ups(chat_ticket, logistics_agent, team_lead, score, opens) -> None:
    SurveyPolicy.objects.filter(channel="chat").update(kind="nps")
    solve(chat_ticket, logistics_agent)
    assert (survey_answer(survey=Survey.objects.get(), score=score).follow_up is not None) is opens


def test_a_later_happy_answer_marks_the_detractor_recovered(customer, logistics, logistics_agent, team_lead) -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        first = make_ticket(customer, logistics)
        solve(first, logistics_agent)
        follow_up = survey_answer(survey=Survey.objects.get(ticket=first), score=1).follow_up
        assert follow_up is not None
        clock.shift(timedelta(days=40))
        second = make_ticket(customer, logistics)
        solve(second, logistics_agent)
        survey_answer(survey=Survey.objects.get(ticket=second), score=3)
        follow_up.refresh_from_db()
        assert follow_up.recovered_at is None  # 3 is not happy
        clock.shift(timedelta(days=40))
        third = make_ticket(customer, logistics)
        solve(third, logistics_agent)
        survey_answer(survey=Survey.objects.get(ticket=third), score=5)

    follow_up.refresh_from_db()
    assert follow_up.recovered_at is not None
    assert follow_up.recovered_by == Survey.objects.get(ticket=third)
    answers = survey_answers_for_customer(customer=customer)
    assert [(a.ticket_id, a.score, a.recovered) for a in answers] == [
        (third.pk, 5, False),
        (second.pk, 3, False),
        (first.pk, 1, True),
    ]


def test_the_customer_panel_reads_answers_in_one_query(
    customer, logistics, logistics_agent, django_assert_num_queries
) -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for score in (1, 4, 5):
            ticket = make_ticket(customer, logistics)
            solve(ticket, logistics_agent)
            survey_answer(survey=Survey.objects.get(ticket=ticket), score=score, comment=f"c{score}")
            clock.shift(timedelta(days=31))
    with django_assert_num_queries(1):
        answers = survey_answers_for_customer(customer=customer)
        assert [a.comment for a in answers] == ["c5", "c4", "c1"]


# Thanks


@override_settings(SURVEY_THANKS_MESSAGE="Thanks a lot, see you soon!")
def test_passives_and_promoters_are_thanked_by_email(email_ticket, logistics_agent, nps_by_email) -> None:
    survey, token = email_survey(email_ticket, logistics_agent)
    answered = survey_answer(survey=survey, token=token, score=8)
    assert answered.thanks == "Thanks a lot, see you soon!"
    run_enqueued(tasks.survey_thanks_send)
    assert mail.outbox[-1].body.startswith("Thanks a lot, see you soon!")


@override_settings(SURVEY_THANKS_MESSAGE="Thanks!")
def test_detractors_are_not_thanked(email_ticket, logistics_agent, nps_by_email) -> None:
    survey, token = email_survey(email_ticket, logistics_agent)
    assert survey_answer(survey=survey, token=token, score=3).thanks == ""
    assert enqueued(tasks.survey_thanks_send) == []


def test_no_thanks_unless_configured(email_ticket, logistics_agent, nps_by_email) -> None:
    survey, token = email_survey(email_ticket, logistics_agent)
    assert survey_answer(survey=survey, token=token, score=10).thanks == ""
    assert enqueued(tasks.survey_thanks_send) == []


def test_a_team_without_policy_and_other_channels(customer, logistics_agent) -> None:
    web = make_ticket(customer, make_team("web"), channel=TicketChannel.WEB)
    solve(web, logistics_agent)
    assert not Survey.objects.exists()


def test_the_widget_frame_of_a_solved_chat_until_it_is_reopened(chat_ticket, logistics_agent, customer) -> None:
    solve(chat_ticket, logistics_agent)
    [payload] = survey_widget_open(customer_id=customer.pk, ticket_id=chat_ticket.pk)
    frame = schemas.survey(payload)
    assert frame["type"] == "survey" and frame["ticket"] == chat_ticket.pk and frame["kind"] == "csat"
    assert frame["scale"] == [1, 5] and frame["reason_scores"] == [1, 2]
    assert survey_widget_open(customer_id=customer.pk, ticket_id=chat_ticket.pk + 1) == []
    message_post(ticket=chat_ticket, author_kind=AuthorKind.CUSTOMER, body="Wait")
    assert survey_widget_open(customer_id=customer.pk) == []


def test_the_expiry_command_marks_surveys_past_their_time(chat_ticket, logistics_agent) -> None:
    from io import StringIO

    from django.core.management import call_command

    solve(chat_ticket, logistics_agent)
    survey = Survey.objects.get()
    assert survey.expires_at is not None
    out = StringIO()
    call_command("surveys_expire", stdout=out)
    assert out.getvalue().strip() == "0 surveys expired"
    with time_machine.travel(survey.expires_at + timedelta(seconds=1)):
        call_command("surveys_expire", stdout=out)
    assert out.getvalue().strip().endswith("1 surveys expired")
    assert Survey.objects.get().status == SurveyStatus.EXPIRED
