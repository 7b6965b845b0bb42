"""Reads of surveys: a customer's answers for the agents' panels, a ticket's
survey, a widget's open surveys, and the survey an emailed token names."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.utils import timezone

from helpdesk.customers.models import Customer
from helpdesk.tickets.models import Agent, Ticket, TicketStatus
from helpdesk.tickets.selectors import ticket_visibility
from surveys import policy
from surveys.models import Survey, SurveyKind, SurveyPolicy, SurveyReason, SurveyStatus
from surveys.tokens import TokenError, token_read


@dataclass(frozen=True)
class SurveyAnswer:
    """One survey as agents see it. ``score`` and what follows are None
    while unanswered; ``group`` is low/neutral/happy (CSAT) or
    detractor/passive/promoter (NPS)."""

    survey_id: int
    ticket_id: int
    ticket_subject: str
    kind: str  # "csat" | "nps"
    status: str  # SurveyStatus value
    sent_at: datetime | None
    score: int | None
    scale_max: int  # 5 or 10
    group: str
    comment: str
    reason: str  # SurveyReason value
    reason_label: str
    reason_text: str
    answered_at: datetime | None
    follow_up_ticket_id: int | None
    recovered_at: datetime | None

    @property
    def recovered(self) -> bool:
        return self.recovered_at is not None


def _answer(survey: Survey) -> SurveyAnswer:
    response = getattr(survey, "response", None)
    follow_up = getattr(survey, "follow_up", None)
    group = ""
    if response is not None:
        group = (
            policy.csat_group(response.score) if survey.kind == SurveyKind.CSAT else policy.nps_group(response.score)
        )
    return SurveyAnswer(
        survey_id=survey.pk,
        ticket_id=survey.ticket_id,
        ticket_subject=survey.ticket.subject,
        kind=survey.kind,
        status=survey.status,
        sent_at=survey.sent_at,
        score=response.score if response else None,
        scale_max=5 if survey.kind == SurveyKind.CSAT else 10,
        group=group,
        comment=response.comment if response else "",
        reason=response.reason if response else "",
        reason_label=response.get_reason_display() if response and response.reason else "",
        reason_text=response.reason_text if response else "",
        answered_at=response.answered_at if response else None,
        follow_up_ticket_id=follow_up.ticket_id if follow_up else None,
        recovered_at=follow_up.recovered_at if follow_up else None,
    )


def _with_related(queryset: QuerySet[Survey]) -> QuerySet[Survey]:
    return queryset.select_related("ticket", "response", "follow_up")


def survey_answers_for_customer(*, customer: Customer, limit: int = 10) -> list[SurveyAnswer]:
    """The customer's answered surveys, newest first, for the customer panel.
    One query. The caller has checked the agent may see the customer."""
    rows = _with_related(Survey.objects.filter(customer=customer, status=SurveyStatus.ANSWERED)).order_by(
        "-response__answered_at", "-id"
    )[:limit]
    return [_answer(row) for row in rows]


def survey_for_ticket(*, ticket: Ticket) -> SurveyAnswer | None:
    """The ticket's survey in any state (pending, answered ...), or None; for
    the ticket view. The caller has checked the agent may see the ticket."""
    row = _with_related(Survey.objects.filter(ticket=ticket)).first()
    return _answer(row) if row is not None else None


@dataclass(frozen=True)
class SurveyPanel:
    """What the ticket page's customer panel shows of surveys."""

    this_ticket: SurveyAnswer | None  # the ticket's own survey in any state
    answers: list[SurveyAnswer]  # the customer's other answered surveys, newest first
    by_ticket: dict[int, SurveyAnswer]  # the same answers by ticket id, for the past conversations


def survey_panel(*, agent: Agent, ticket: Ticket, limit: int = 10) -> SurveyPanel:
    """The ticket's survey and the customer's answers on other tickets the
    agent may see, in one query. Precondition: the agent may see ``ticket``."""
    visible = Ticket.objects.filter(ticket_visibility(agent)).values("pk")
    rows = (
        _with_related(
            Survey.objects.filter(customer_id=ticket.customer_id).filter(
                Q(ticket_id=ticket.pk) | Q(status=SurveyStatus.ANSWERED, ticket__in=visible)
            )
        )
        # The ticket's own survey first, whatever its state; then answers, newest first.
        .annotate(own=Case(When(ticket_id=ticket.pk, then=Value(0)), default=Value(1)))
        .order_by("own", F("response__answered_at").desc(nulls_last=True), "-id")[: limit + 1]
    )
    found = [_answer(row) for row in rows]
    this_ticket = found[0] if found and found[0].ticket_id == ticket.pk else None
    answers = [a for a in found if a.ticket_id != ticket.pk][:limit]
    return SurveyPanel(this_ticket=this_ticket, answers=answers, by_ticket={a.ticket_id: a for a in answers})


def survey_widget_payload(survey: Survey) -> dict[str, Any]:
    """A survey as the customer's widget shows it: the ``survey`` frame of
    docs/protocol.md without its type, and the items of POST /widget/v1/surveys/."""
    scores = policy.score_range(survey.kind)
    return {
        "survey": survey.pk,
        "ticket": survey.ticket_id,
        "subject": survey.ticket.subject,
        "kind": survey.kind,
        "scale": [scores[0], scores[-1]],
        "reason_scores": [s for s in scores if policy.is_unhappy(survey.kind, s)],
        "reasons": [{"value": value, "label": label} for value, label in SurveyReason.choices],
        "expires_at": survey.expires_at.isoformat() if survey.expires_at else None,
    }


def survey_widget_open(*, customer_id: int, ticket_id: int | None = None) -> list[dict[str, Any]]:
    """Payloads of the customer's open surveys (of one ticket when given),
    for the widget consumer: on a ``status`` change to solved, and in ``welcome``."""
    rows = Survey.objects.filter(
        customer_id=customer_id,
        status=SurveyStatus.PENDING,
        expires_at__gt=timezone.now(),
        ticket__status__in=(TicketStatus.SOLVED, TicketStatus.CLOSED),
    ).select_related("ticket")
    if ticket_id is not None:
        rows = rows.filter(ticket_id=ticket_id)
    return [survey_widget_payload(row) for row in rows.order_by("-sent_at", "-id")[:5]]


def survey_for_widget(*, customer: Customer, survey_id: int) -> Survey | None:
    """The customer's own survey, or None: never another customer's."""
    return Survey.objects.filter(customer=customer, pk=survey_id).select_related("ticket").first()


def survey_for_token(*, token: str) -> Survey:
    """The survey an emailed token names; raises TokenError ("invalid" for a
    forged, altered or unknown token, "expired" for an old one)."""
    claim = token_read(token, max_age=timedelta(days=settings.SURVEY_TOKEN_DAYS))
    survey = Survey.objects.select_related("ticket", "customer__shop").filter(pk=claim.survey_id).first()
    if survey is None or not survey.token_digest or not hmac.compare_digest(survey.token_digest, claim.digest):
        raise TokenError("invalid", "This survey link is not valid.")
    return survey


def survey_policy_rules() -> list[policy.PolicyRule]:
    """Every survey policy as surveys.policy reads it (policy_pick)."""
    return [
        policy.PolicyRule(
            id=row.pk,
            team_id=row.team_id,
            channel=row.channel,
            kind=row.kind,
            delay_minutes=row.delay_minutes,
            sampling_percent=row.sampling_percent,
            only_delivered_orders=row.only_delivered_orders,
            active=row.active,
        )
        for row in SurveyPolicy.objects.all()
    ]
