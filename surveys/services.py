"""Every write of surveys: scheduling one when a ticket is solved, sending it,
recording an answer and what follows from it (a follow-up ticket, a
recovered detractor, thanks, webhooks). Each public function is one
transaction that writes its rows and the ticket's events together.

Surveys call ticket services (ticket_open, ticket_assign, message_post);
ticket services call only ``survey_on_solved`` and ``survey_cancel_for_reopened``.
Every change of a survey's state tells the agents' pages ("context"), whose
customer panels show it.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from helpdesk.tickets.models import (
    Agent,
    AgentRole,
    AuthorKind,
    Ticket,
    TicketChannel,
    TicketEvent,
    TicketStatus,
)
from helpdesk.tickets.notify import notify_on_commit
from helpdesk.tickets.services import (
    MERGE_NOTE_CHARS,
    customer_context_changed,
    message_post,
    ticket_assign,
    ticket_open,
)
from surveys import policy, tasks
from surveys.models import FollowUp, Survey, SurveyKind, SurveyReason, SurveyResponse, SurveyStatus
from surveys.selectors import survey_policy_rules
from surveys.tokens import token_digest, token_make
from surveys.webhooks import webhook_body

MAX_COMMENT_CHARS = 2000
MAX_REASON_TEXT_CHARS = 1000
# A survey can be answered while its ticket is in one of these; a reopened ticket cancels it.
ANSWERABLE_TICKET_STATUSES = (TicketStatus.SOLVED, TicketStatus.CLOSED)


class SurveyEvent:
    """Kinds of TicketEvent rows surveys write (the event log's kind is free
    text; helpdesk.tickets.event_text labels kinds it does not know)."""

    SCHEDULED = "survey_scheduled"
    SENT = "survey_sent"
    ANSWERED = "survey_answered"
    CANCELLED = "survey_cancelled"
    FOLLOW_UP = "survey_follow_up"


class SurveyError(Exception):
    """An answer was refused and nothing was recorded. ``code``:
    invalid (the input: see ``fields``), wrong_survey, not_open, answered,
    expired, cancelled."""

    def __init__(self, code: str, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.code, self.message, self.fields = code, message, fields or {}


@dataclass(frozen=True)
class Answered:
    response: SurveyResponse
    follow_up: FollowUp | None
    thanks: str  # the configured thanks for this answer, or ""


def _event(ticket: Ticket, event: str, /, *, at: datetime, **data: Any) -> None:
    TicketEvent.objects.create(ticket=ticket, kind=event, data=data, created_at=at)


def _last_surveyed_at(ticket: Ticket) -> datetime | None:
    """When the customer was last surveyed (or is scheduled to be) about another ticket."""
    row = (
        Survey.objects.filter(customer_id=ticket.customer_id)
        .exclude(ticket_id=ticket.pk)
        .filter(Q(sent_at__isnull=False) | Q(status=SurveyStatus.SCHEDULED))
        .aggregate(last=Max(Coalesce("sent_at", "send_at")))
    )
    return row["last"]


def _order_delivered(ticket: Ticket) -> bool:
    order = ticket.order
    return order is not None and (order.status == "delivered" or order.delivered_at is not None)


def survey_on_solved(*, ticket: Ticket) -> Survey | None:
    """The ticket just became solved (called by ticket_set_status, inside its
    transaction, with the ticket row locked). Decides by policy whether and
    when to survey; a chat survey due now opens at once in the customer's
    widget, any other is sent by the durable task ``survey_send`` at its
    time. A ticket re-solved after a reopen gets its cancelled survey back;
    an answered, pending or expired one is left alone."""
    now = timezone.now()
    existing = Survey.objects.select_for_update().filter(ticket=ticket).first()
    if existing is not None:
        if existing.status != SurveyStatus.CANCELLED:
            return existing
        delay = existing.policy.delay_minutes if existing.policy else 0
        existing.status, existing.send_at = SurveyStatus.SCHEDULED, now + timedelta(minutes=delay)
        existing.sent_at = existing.expires_at = existing.token_digest = None
        existing.save(update_fields=["status", "send_at", "sent_at", "expires_at", "token_digest"])
        return _schedule(existing, now=now)
    decision = policy.survey_decide(
        survey_policy_rules(),
        ticket_id=ticket.pk,
        team_id=ticket.team_id,
        channel=ticket.channel,
        order_delivered=_order_delivered(ticket),
        last_surveyed_at=_last_surveyed_at(ticket),
        cooldown_days=settings.SURVEY_COOLDOWN_DAYS,
        now=now,
    )
    if not decision.send or decision.rule is None or decision.send_at is None:
        return None
    survey = Survey.objects.create(
        ticket=ticket,
        customer_id=ticket.customer_id,
        policy_id=decision.rule.id,
        kind=decision.kind,
        channel=ticket.channel,
        created_at=now,
        send_at=decision.send_at,
    )
    return _schedule(survey, now=now)


def _schedule(survey: Survey, *, now: datetime) -> Survey:
    if survey.channel == TicketChannel.CHAT and survey.send_at <= now:
        # The widget shows it: no link, the visitor's own token authenticates the answer.
        _open(survey, now=now, via="widget")
    else:
        _event(survey.ticket, SurveyEvent.SCHEDULED, at=now, kind=survey.kind, send_at=survey.send_at.isoformat())
        # Enqueued in this transaction: the survey and its sending stand or fall together.
        run_after = survey.send_at if survey.send_at > now else None
        tasks.survey_send.using(run_after=run_after).enqueue(survey_id=survey.pk)
    return survey


def _open(survey: Survey, *, now: datetime, via: str) -> None:
    survey.status = SurveyStatus.PENDING
    survey.sent_at = now
    survey.expires_at = now + timedelta(days=settings.SURVEY_TOKEN_DAYS)
    survey.save(update_fields=["status", "sent_at", "expires_at", "token_digest"])
    _event(survey.ticket, SurveyEvent.SENT, at=now, kind=survey.kind, via=via)
    notify_on_commit(survey.ticket, "context")


@transaction.atomic
def survey_send(*, survey_id: int) -> str | None:
    """Open a scheduled survey and return the token for its email link
    (None: nothing to send, as the survey is no longer scheduled, or its
    ticket was reopened, which cancels it). The caller emails the link
    inside this transaction, so a failed email leaves it scheduled."""
    survey = (
        Survey.objects.select_for_update(of=("self",)).select_related("ticket", "customer").filter(pk=survey_id).first()
    )
    if survey is None or survey.status != SurveyStatus.SCHEDULED:
        return None
    now = timezone.now()
    if survey.ticket.status not in ANSWERABLE_TICKET_STATUSES:
        _cancel(survey, now=now, reason="ticket reopened")
        return None
    token = token_make(survey.pk)
    survey.token_digest = token_digest(token)
    # Without an address (a delayed chat survey of an anonymous visitor) only the widget shows it.
    _open(survey, now=now, via="email" if survey.customer.email else "widget")
    return token


def _cancel(survey: Survey, *, now: datetime, reason: str) -> None:
    survey.status = SurveyStatus.CANCELLED
    survey.save(update_fields=["status"])
    _event(survey.ticket, SurveyEvent.CANCELLED, at=now, reason=reason)
    notify_on_commit(survey.ticket, "context")


def survey_cancel_for_reopened(*, ticket: Ticket) -> Survey | None:
    """The ticket was just reopened from solved (called by ticket services
    inside their transaction, with the ticket row locked: ticket, then
    survey, as survey_on_solved locks). Its pending survey can no longer be
    answered, so it is cancelled now and the widget and the agents' panel say
    so; solving the ticket again opens it anew. A scheduled survey is
    cancelled by survey_send when due; answered and expired ones are kept."""
    now = timezone.now()
    survey = (
        Survey.objects.select_for_update()
        .filter(ticket=ticket, status=SurveyStatus.PENDING)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )
    if survey is None:
        return None
    survey.ticket = ticket  # the caller's locked row, for the event and the notification
    _cancel(survey, now=now, reason="ticket reopened")
    return survey


def survey_refusal(survey: Survey, *, now: datetime) -> SurveyError | None:
    """Why the survey cannot be answered now, or None when it can. Reads only:
    the public page asks it before showing the form."""
    if survey.status == SurveyStatus.ANSWERED:
        return SurveyError("answered", "This survey was already answered. Thank you!")
    if survey.status == SurveyStatus.CANCELLED or survey.ticket.status not in ANSWERABLE_TICKET_STATUSES:
        return SurveyError("cancelled", "This conversation was reopened, so this survey is closed.")
    if survey.status == SurveyStatus.SCHEDULED:
        return SurveyError("not_open", "This survey is not open yet.")
    if survey.status == SurveyStatus.EXPIRED or (survey.expires_at is not None and survey.expires_at <= now):
        return SurveyError("expired", "This survey has expired.")
    return None


def _clean_answer(kind: str, score: object, comment: str, reason: str, reason_text: str) -> tuple[int, str, str, str]:
    errors: dict[str, list[str]] = {}
    allowed = policy.score_range(kind)
    low, high = allowed[0], allowed[-1]
    value = -1
    if isinstance(score, bool) or not isinstance(score, int):
        errors["score"] = [f"Choose a score from {low} to {high}."]
    elif score not in allowed:
        errors["score"] = [f"A score is from {low} to {high}."]
    else:
        value = score
    comment, reason_text = comment.strip(), reason_text.strip()
    if len(comment) > MAX_COMMENT_CHARS:
        errors["comment"] = [f"A comment can have at most {MAX_COMMENT_CHARS} characters."]
    if reason and reason not in SurveyReason.values:
        errors["reason"] = ["Choose one of the listed reasons."]
    if len(reason_text) > MAX_REASON_TEXT_CHARS:
        errors["reason_text"] = [f"At most {MAX_REASON_TEXT_CHARS} characters."]
    if errors:
        raise SurveyError("invalid", "Some answers are not valid.", errors)
    if not policy.is_unhappy(kind, value):
        reason, reason_text = "", ""  # asked only after a low score
    return value, comment, reason, reason_text


def survey_answer(
    *,
    survey: Survey,
    score: object,
    comment: str = "",
    reason: str = "",
    reason_text: str = "",
    token: str | None = None,
    ip: str = "",
) -> Answered:
    """Record the customer's answer, once. ``token`` (the email link's) must
    be this survey's own; the widget passes none, having checked that the
    survey is its customer's. Refusals raise SurveyError and record nothing.
    Locks the survey row, then (in ticket services) tickets."""
    with transaction.atomic():
        return _answer(survey, score, comment, reason, reason_text, token, ip)


def _answer(
    survey: Survey, score: object, comment: str, reason: str, reason_text: str, token: str | None, ip: str
) -> Answered:
    locked = (
        Survey.objects.select_for_update(of=("self",))
        .select_related("ticket__team", "ticket__customer", "customer")
        .get(pk=survey.pk)
    )
    if token is not None and not (
        locked.token_digest and hmac.compare_digest(locked.token_digest, token_digest(token))
    ):
        raise SurveyError("wrong_survey", "This link belongs to another survey.")
    now = timezone.now()
    refusal = survey_refusal(locked, now=now)
    if refusal is not None:
        raise refusal
    value, comment, reason, reason_text = _clean_answer(locked.kind, score, comment, reason, reason_text)

    response = SurveyResponse.objects.create(
        survey=locked,
        score=value,
        comment=comment,
        reason=reason,
        reason_text=reason_text,
        answered_at=now,
        ip_hash=_ip_hash(ip),
    )
    locked.status = SurveyStatus.ANSWERED
    locked.save(update_fields=["status"])
    group = policy.csat_group(value) if locked.kind == SurveyKind.CSAT else policy.nps_group(value)
    follow_up = _follow_up_open(locked, response, now=now) if policy.is_unhappy(locked.kind, value) else None
    _event(
        locked.ticket,
        SurveyEvent.ANSWERED,
        at=now,
        kind=locked.kind,
        score=value,
        group=group,
        follow_up=follow_up.ticket_id if follow_up else None,
    )
    recovered = _recover(locked, now=now) if policy.is_happy(locked.kind, value) else []
    thanks = settings.SURVEY_THANKS_MESSAGE if policy.is_thankable(locked.kind, value) else ""
    if thanks and locked.channel != TicketChannel.CHAT and locked.customer.email:
        tasks.survey_thanks_send.enqueue(survey_id=locked.pk)
    webhook_enqueue("survey.answered", survey_payload(locked, response, follow_up, recovered))
    if follow_up is not None:
        webhook_enqueue("follow_up.opened", survey_payload(locked, response, follow_up, recovered))
    # The answer shows in the customer panel of each of the customer's open tickets.
    customer_context_changed(customer_ids=[locked.customer_id])
    return Answered(response, follow_up, thanks)


def _ip_hash(ip: str) -> str:
    if not ip:
        return ""
    return hmac.new(settings.SECRET_KEY.encode(), f"survey-ip:{ip}".encode(), hashlib.sha256).hexdigest()


def team_lead_for(ticket: Ticket) -> Agent | None:
    """The lead of the team that handled the ticket (the longest-serving, by id)."""
    return (
        Agent.objects.filter(role=AgentRole.TEAM_LEAD, teams=ticket.team_id)
        .select_related("user")
        .order_by("id")
        .first()
    )


def _answer_text(survey: Survey, response: SurveyResponse) -> str:
    scale = "5" if survey.kind == SurveyKind.CSAT else "10"
    lines = [f"Survey answer on #{survey.ticket_id} “{survey.ticket.subject}”: {response.score} of {scale}."]
    if response.reason:
        lines.append(f"Reason: {response.get_reason_display()}")
    if response.reason_text:
        lines.append(f"In their words: {response.reason_text}")
    if response.comment:
        lines.append(f"Comment: {response.comment}")
    return "\n".join(lines)


def _conversation_note(survey: Survey, response: SurveyResponse) -> str:
    original = survey.ticket
    head = (
        f"Follow-up of a low survey score, opened by the desk.\n{_answer_text(survey, response)}\n\n"
        f"The conversation of #{original.pk}:\n\n"
    )
    messages = list(original.messages.filter(internal=False).select_related("author_agent__user").order_by("seq"))
    lines: list[str] = []
    for message in messages:
        if message.author_kind == AuthorKind.CUSTOMER:
            who = original.customer.name or "Customer"
        else:
            who = message.author_agent.display_name if message.author_agent else "The desk"
        lines.append(f"{who}, {timezone.localtime(message.created_at):%Y-%m-%d %H:%M}:")
        lines.extend("> " + line for line in message.body.splitlines() or [""])
        lines.append("")
    text = "\n".join(lines).strip()
    if len(head) + len(text) > MERGE_NOTE_CHARS:
        text = text[: MERGE_NOTE_CHARS - len(head)] + f"\n… (shortened; the whole conversation is on #{original.pk})"
    return head + text


def _follow_up_open(survey: Survey, response: SurveyResponse, *, now: datetime) -> FollowUp:
    """A follow-up ticket for the same customer in the team that handled the
    original: its opening message is the customer's answer, it is assigned
    to the team's lead, and an internal note quotes the original conversation."""
    original = survey.ticket
    customer = original.customer
    ticket = ticket_open(
        customer=customer,
        subject=f"Follow-up: {survey.get_kind_display().split(' ')[0]} {response.score} on #{original.pk}"[:200],
        # Agents' replies reach the customer by email where the desk has an address.
        channel=TicketChannel.EMAIL if customer.email else TicketChannel(original.channel),
        body=_answer_text(survey, response),
        team=original.team,
        order=original.order,
    )
    _event(ticket, SurveyEvent.FOLLOW_UP, at=now, of=original.pk, kind=survey.kind, score=response.score)
    lead = team_lead_for(original)
    if lead is not None:
        ticket = ticket_assign(ticket=ticket, actor=None, assignee=lead)
        # Notes need an agent author: the lead it is assigned to; the text says the desk wrote it.
        message_post(
            ticket=ticket,
            author_kind=AuthorKind.AGENT,
            agent=lead,
            internal=True,
            body=_conversation_note(survey, response),
        )
    return FollowUp.objects.create(survey=survey, ticket=ticket, created_at=now)


def _recover(survey: Survey, *, now: datetime) -> list[FollowUp]:
    """A happy answer recovers the customer's earlier unrecovered follow-ups."""
    earlier = list(
        FollowUp.objects.select_for_update()
        .filter(survey__customer_id=survey.customer_id, recovered_at__isnull=True)
        .exclude(survey=survey)
        .order_by("id")
    )
    for follow_up in earlier:
        follow_up.recovered_at, follow_up.recovered_by = now, survey
        follow_up.save(update_fields=["recovered_at", "recovered_by"])
    return earlier


def survey_expire_due(*, now: datetime | None = None) -> int:
    """Mark pending surveys past their time expired; returns how many. Answers
    check the time themselves, so this only keeps lists and reports tidy."""
    now = now or timezone.now()
    return Survey.objects.filter(status=SurveyStatus.PENDING, expires_at__lte=now).update(status=SurveyStatus.EXPIRED)


# Webhooks


def survey_payload(
    survey: Survey, response: SurveyResponse, follow_up: FollowUp | None, recovered: list[FollowUp]
) -> dict[str, Any]:
    return {
        "survey": {
            "id": survey.pk,
            "kind": survey.kind,
            "ticket": survey.ticket_id,
            "channel": survey.channel,
            "customer": {
                "id": survey.customer_id,
                "external_id": survey.customer.external_id,
                "email": survey.customer.email,
            },
        },
        "response": {
            "score": response.score,
            "group": policy.csat_group(response.score)
            if survey.kind == SurveyKind.CSAT
            else policy.nps_group(response.score),
            "comment": response.comment,
            "reason": response.reason,
            "reason_text": response.reason_text,
            "answered_at": response.answered_at.isoformat(),
        },
        "follow_up": {"ticket": follow_up.ticket_id} if follow_up else None,
        "recovered_follow_ups": [item.ticket_id for item in recovered],
    }


def webhook_enqueue(event: str, data: dict[str, Any]) -> int:
    """One delivery task per configured URL, enqueued in the caller's
    transaction; each delivery keeps its id and body across retries."""
    urls = settings.SURVEY_WEBHOOK_URLS
    if not urls:
        return 0
    body = webhook_body(event, data, delivery=uuid.uuid4().hex, at=timezone.now())
    for url in urls:
        tasks.webhook_deliver.enqueue(url=url, event=event, body=body, attempt=1)
    return len(urls)
