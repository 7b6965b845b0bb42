"""What the SLA, sentiment and survey services would have written around the
demo's past conversations: first-response SLA clocks with their warnings,
breaches and escalations; sentiment tags on customer messages and the
tickets' mood; surveys of solved tickets, their answers and the follow-up
tickets low scores opened.

Those services stamp timezone.now(), so they cannot write the past (as with
helpdesk.tickets.history). This module writes the same rows and events at
the times they would have happened, deciding with the services' own pure
rules (helpdesk.tickets.sla_calendar, sentiment.mood, surveys.policy).
Preconditions: the demo's fresh database, whose only SLA policy is the
default (targets do not depend on priority, so an escalation never moves a
due time), and the tickets' rows as ticket_history_import stored them.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection

from helpdesk.demo.shop import DemoCustomer
from helpdesk.demo.tickets import DemoTicket, DemoTickets
from helpdesk.tickets.history import PastMessage, PastTicket, ticket_history_import
from helpdesk.tickets.models import (
    Agent,
    AgentRole,
    AuthorKind,
    EventKind,
    Message,
    SlaClock,
    SlaClockKind,
    SlaPolicy,
    Ticket,
    TicketChannel,
    TicketEvent,
    TicketPriority,
)
from helpdesk.tickets.sla_calendar import ALWAYS, due_at, warn_at
from helpdesk.tickets.sla_services import breach_reason, sla_policy_for, sla_team_calendar
from sentiment import mood
from surveys import policy, tasks
from surveys.models import FollowUp, Survey, SurveyKind, SurveyPolicy, SurveyReason, SurveyResponse, SurveyStatus
from surveys.selectors import survey_policy_rules
from surveys.services import SurveyEvent

# Besides the chat CSAT the migrations add: e-mail gets an NPS a day after
# solving, the web form a CSAT an hour after.
SURVEY_POLICIES = (
    ("Email: NPS a day later", TicketChannel.EMAIL, SurveyKind.NPS, 24 * 60),
    ("Web form: CSAT an hour later", TicketChannel.WEB, SurveyKind.CSAT, 60),
)
SENTIMENT_MODEL = "demo seed (scripted moods)"
# The share of surveys answered, by channel, and how long after sending.
ANSWER_RATE = {TicketChannel.CHAT: 0.6, TicketChannel.EMAIL: 0.45, TicketChannel.WEB: 0.5}
ANSWER_AFTER_MINUTES = {
    TicketChannel.CHAT: (0.5, 20),
    TicketChannel.EMAIL: (30, 48 * 60),
    TicketChannel.WEB: (5, 24 * 60),
}
# Score weights, lowest score first: a customer who waited, or left upset, answers lower.
CSAT_WEIGHTS = {"fine": (2, 3, 8, 27, 60), "let_down": (10, 12, 18, 30, 30)}
NPS_WEIGHTS = {
    "fine": (1, 1, 1, 2, 2, 4, 7, 12, 16, 24, 30),
    "let_down": (4, 3, 4, 5, 6, 8, 10, 14, 14, 14, 14),
}
DELIVERY_SCENARIOS = {"late", "late_open", "damaged", "wrong_size"}
REASON_WEIGHTS = {
    SurveyReason.NOT_SOLVED: 35,
    SurveyReason.UNFRIENDLY: 15,
    SurveyReason.PRODUCT: 20,
    SurveyReason.SLOW: 20,
    SurveyReason.OTHER: 10,
}
REASON_TEXTS = {
    SurveyReason.SLOW: "Nobody answered for ages.",
    SurveyReason.NOT_SOLVED: "I still don't know what happens next.",
    SurveyReason.UNFRIENDLY: "It felt like a copy-paste answer.",
    SurveyReason.PRODUCT: "The parcel took far too long.",
    SurveyReason.OTHER: "Too much back and forth.",
}
HAPPY_COMMENTS = ("Quick and friendly, thank you!", "Sorted in minutes.", "Very helpful.", "Great service as always.")
PRIORITIES = list(TicketPriority.values)  # low to urgent
# What this module changes on the imported rows.
MESSAGE_FIELDS = ("sentiment", "sentiment_confidence", "sentiment_model", "sentiment_tagged_at")
TICKET_FIELDS = (
    "priority",
    "updated_at",
    "sla_due_at",
    "sla_breached_at",
    "sentiment",
    "sentiment_score",
    "sentiment_first_score",
    "sentiment_trend",
    "sentiment_escalated_at",
    "sentiment_recovered_at",
)


@dataclass
class _Writes:
    """Rows to insert and tickets to update, collected in memory and written at once."""

    clocks: list[SlaClock] = field(default_factory=list)
    events: list[TicketEvent] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    def event(self, ticket: Ticket, kind: str, *, at: datetime, actor: Agent | None = None, **data: Any) -> None:
        self.events.append(TicketEvent(ticket=ticket, kind=kind, actor=actor, data=data, created_at=at))


def _leads(team_id: int, leads_by_team: dict[int, list[Agent]]) -> list[int]:
    return [lead.pk for lead in leads_by_team.get(team_id, [])]


# -- priority raises: SLA breaches and confidently negative messages ------------------------


@dataclass(frozen=True)
class _Raise:
    at: datetime
    reason: str
    escalated: dict[str, Any]  # the ESCALATED event's data
    names_step: bool = False  # the event also says the priority's old and new value (an SLA breach's does)


def _apply_raises(ticket: Ticket, raises: list[_Raise], writes: _Writes) -> None:
    """Raise the priority a step per cause, in time order, as ticket_set_priority
    does: a PRIORITY_CHANGED event (no actor), then the ESCALATED one."""
    for cause in sorted(raises, key=lambda r: r.at):
        old = ticket.priority
        new = PRIORITIES[min(PRIORITIES.index(old) + 1, len(PRIORITIES) - 1)]
        if new != old:
            writes.event(ticket, EventKind.PRIORITY_CHANGED, at=cause.at, old=old, new=new, reason=cause.reason)
            ticket.priority = new
            ticket.updated_at = max(ticket.updated_at, cause.at)
        data = {**cause.escalated, "old": old, "new": new} if cause.names_step else cause.escalated
        writes.event(ticket, EventKind.ESCALATED, at=cause.at, **data)


# -- SLA --------------------------------------------------------------------------------------


def _first_response_clock(
    ticket: Ticket, now: datetime, leads: list[int], writes: _Writes, policies: dict[tuple[int, str], SlaPolicy]
) -> list[_Raise]:
    """The clock sla_ticket_opened starts, stopped by the first public reply
    (or by solving), breached at its due time when still running then."""
    scope = (ticket.team_id, ticket.priority)
    if scope not in policies:
        policies[scope] = sla_policy_for(team_id=ticket.team_id, priority=ticket.priority)
    sla = policies[scope]
    calendar = sla_team_calendar(ticket.team) if sla.business_hours else ALWAYS
    due = due_at(started=ticket.created_at, target_minutes=sla.first_response_minutes, calendar=calendar)
    assert due is not None  # a clock without pauses is always due
    warn = warn_at(
        due, calendar=calendar, business=sla.business_hours, warn_before=timedelta(minutes=sla.warn_before_minutes)
    )
    stopped = ticket.first_response_at or ticket.solved_at
    clock = SlaClock(
        ticket=ticket,
        policy=sla if sla.pk else None,
        kind=SlaClockKind.FIRST_RESPONSE,
        target_minutes=sla.first_response_minutes,
        business_hours=sla.business_hours,
        started_at=ticket.created_at,
        due_at=due,
        warn_at=warn,
        stopped_at=stopped,
    )
    writes.clocks.append(clock)
    writes.event(
        ticket,
        EventKind.SLA_STARTED,
        at=ticket.created_at,
        clock=clock.kind,
        policy=sla.name,
        target_minutes=clock.target_minutes,
        business_hours=clock.business_hours,
        due_at=due.isoformat(),
    )
    running_until = stopped or now
    if warn < due and warn < running_until:
        clock.warned_at = warn
        writes.event(ticket, EventKind.SLA_WARNED, at=warn, clock=clock.kind, due_at=due.isoformat())
    if stopped is None:
        ticket.sla_due_at = due
    if due >= running_until:
        return []
    clock.breached_at = due
    reason = breach_reason(clock)
    writes.event(ticket, EventKind.SLA_BREACHED, at=due, clock=clock.kind, due_at=due.isoformat(), reason=reason)
    if stopped is None:
        ticket.sla_breached_at = due
    escalated = {"clock": clock.kind, "leads": leads, "late_seconds": 0, "reason": reason}
    return [_Raise(at=due, reason=f"SLA breached: {reason}", escalated=escalated, names_step=True)]


# -- sentiment ----------------------------------------------------------------------------------


def _confidence(rng: random.Random, label: str) -> float:
    if label == mood.NEUTRAL:
        return round(rng.uniform(0.5, 0.9), 4)
    return round(rng.uniform(0.45, 0.88), 4)


def _mood(
    rng: random.Random, ticket: Ticket, messages: list[Message], moods: Sequence[str], leads: list[int], writes: _Writes
) -> list[_Raise]:
    """Tag each customer message as the worker would, a few seconds after it
    came, and replay the ticket's mood (sentiment_services._mood_update)."""
    if len(messages) != len(moods):
        raise ValueError(f"ticket {ticket.pk}: {len(messages)} customer messages but {len(moods)} moods")
    threshold = settings.SENTIMENT_ESCALATE_CONFIDENCE
    scores: list[float] = []
    raises: list[_Raise] = []
    for message, label in zip(messages, moods, strict=True):
        tagged = message.created_at + timedelta(seconds=rng.uniform(2, 20))
        message.sentiment, message.sentiment_confidence = label, _confidence(rng, label)
        message.sentiment_model, message.sentiment_tagged_at = SENTIMENT_MODEL, tagged
        writes.messages.append(message)
        scores.append(mood.score(label, message.sentiment_confidence))
        previous = ticket.sentiment
        current = mood.mood_score(scores)
        ticket.sentiment_first_score, ticket.sentiment_score = scores[0], current
        ticket.sentiment = mood.mood_label(current)
        ticket.sentiment_trend = mood.trend(scores[0], current) if len(scores) > 1 else ""
        was_negative = any(
            mood.mood_label(mood.mood_score(scores[: i + 1])) == mood.NEGATIVE for i in range(len(scores))
        )
        if ticket.sentiment_recovered_at is None and mood.recovered(
            previous, ticket.sentiment, was_ever_negative=was_negative
        ):
            ticket.sentiment_recovered_at = tagged
            writes.event(
                ticket, EventKind.RECOVERED, at=tagged, reason="the customer's mood turned from negative to positive"
            )
        if ticket.sentiment != previous:
            writes.event(
                ticket,
                EventKind.SENTIMENT_CHANGED,
                at=tagged,
                old=previous,
                new=ticket.sentiment,
                score=round(current or 0.0, 3),
                trend=ticket.sentiment_trend,
            )
        # A customer message reopens a solved ticket, so the ticket is never finished when it is tagged.
        if ticket.sentiment_escalated_at is None and mood.confidently_negative(
            label, message.sentiment_confidence, threshold=threshold
        ):
            ticket.sentiment_escalated_at = tagged
            reason = f"a confidently negative customer message ({message.sentiment_confidence:.0%})"
            raises.append(_Raise(at=tagged, reason=reason, escalated={"reason": reason, "leads": leads}))
    return raises


def _sla_and_mood(
    rng: random.Random,
    now: datetime,
    plans: Sequence[DemoTicket],
    stored: Sequence[Ticket],
    leads: dict[int, list[Agent]],
) -> set[int]:
    """Clocks and moods of ``stored`` (``plans`` in the same order); returns
    the ids of the tickets whose first response breached its target."""
    writes = _Writes()
    policies: dict[tuple[int, str], SlaPolicy] = {}
    customer_messages: dict[int, list[Message]] = defaultdict(list)
    for message in Message.objects.filter(ticket__in=[t.pk for t in stored], author_kind=AuthorKind.CUSTOMER).order_by(
        "ticket_id", "seq"
    ):
        customer_messages[message.ticket_id].append(message)
    for plan, ticket in zip(plans, stored, strict=True):
        team_leads = _leads(ticket.team_id, leads)
        raises = _first_response_clock(ticket, now, team_leads, writes, policies)
        raises += _mood(rng, ticket, customer_messages[ticket.pk], plan.moods, team_leads, writes)
        _apply_raises(ticket, raises, writes)
    SlaClock.objects.bulk_create(writes.clocks)
    breached = {clock.ticket.pk for clock in writes.clocks if clock.breached_at is not None}
    TicketEvent.objects.bulk_create(writes.events)
    _write_back(Message, MESSAGE_FIELDS, writes.messages)
    _write_back(Ticket, TICKET_FIELDS, stored)
    return breached


def _write_back(model: type[Message] | type[Ticket], names: Sequence[str], rows: Sequence[Message | Ticket]) -> None:
    """Store ``names`` of ``rows``: one statement sent many times, as
    sentiment_services does; bulk_update's CASE expressions take longer to
    build than the seed's whole history takes to insert."""
    fields = [field for field in model._meta.concrete_fields if field.name in names]
    quote = connection.ops.quote_name
    columns = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {quote(model._meta.db_table)} SET {columns} WHERE id = %s",  # noqa: S608
            [
                [field.get_db_prep_save(getattr(row, field.attname), connection) for field in fields] + [row.pk]
                for row in rows
            ],
        )


# -- surveys -------------------------------------------------------------------------------------


@dataclass
class _Survey:
    survey: Survey
    ticket: Ticket
    scenario: str
    response: SurveyResponse | None = None
    follow_up: DemoTicket | None = None
    follow_up_ticket: Ticket | None = None
    events: list[tuple[str, datetime, dict[str, Any]]] = field(default_factory=list)


def _survey_policies() -> list[policy.PolicyRule]:
    for name, channel, kind, delay in SURVEY_POLICIES:
        SurveyPolicy.objects.get_or_create(
            team=None, channel=channel, defaults={"name": name, "kind": kind, "delay_minutes": delay}
        )
    return survey_policy_rules()


def _score(rng: random.Random, kind: str, *, let_down: bool) -> int:
    weights = (CSAT_WEIGHTS if kind == SurveyKind.CSAT else NPS_WEIGHTS)["let_down" if let_down else "fine"]
    return rng.choices(list(policy.score_range(kind)), weights=weights)[0]


def _reason(rng: random.Random, *, breached: bool, scenario: str) -> SurveyReason:
    if breached and rng.random() < 0.7:
        return SurveyReason.SLOW
    if scenario in DELIVERY_SCENARIOS and rng.random() < 0.5:
        return SurveyReason.PRODUCT
    return rng.choices(list(REASON_WEIGHTS), weights=list(REASON_WEIGHTS.values()))[0]


def _answer(
    rng: random.Random, planned: _Survey, *, sent: datetime, now: datetime, breached: bool
) -> SurveyResponse | None:
    survey, ticket = planned.survey, planned.ticket
    channel = TicketChannel(survey.channel)
    if rng.random() >= ANSWER_RATE[channel]:
        return None
    answered = sent + timedelta(minutes=rng.uniform(*ANSWER_AFTER_MINUTES[channel]))
    if answered > now or (survey.expires_at is not None and answered >= survey.expires_at):
        return None
    let_down = breached or ticket.sentiment == mood.NEGATIVE
    score = _score(rng, survey.kind, let_down=let_down)
    response = SurveyResponse(survey=survey, score=score, answered_at=answered)
    if policy.is_unhappy(survey.kind, score):  # the form asks why only after a low score
        response.reason = _reason(rng, breached=breached, scenario=planned.scenario)
        response.reason_text = REASON_TEXTS[SurveyReason(response.reason)] if rng.random() < 0.4 else ""
    elif policy.is_happy(survey.kind, score) and rng.random() < 0.3:
        response.comment = rng.choice(HAPPY_COMMENTS)
    return response


def _answer_text(survey: Survey, ticket: Ticket, response: SurveyResponse) -> str:
    """The follow-up's opening message, as surveys.services words it."""
    scale = "5" if survey.kind == SurveyKind.CSAT else "10"
    lines = [f"Survey answer on #{ticket.pk} “{ticket.subject}”: {response.score} of {scale}."]
    if response.reason:
        lines.append(f"Reason: {SurveyReason(response.reason).label}")
    if response.reason_text:
        lines.append(f"In their words: {response.reason_text}")
    if response.comment:
        lines.append(f"Comment: {response.comment}")
    return "\n".join(lines)


def _plan_surveys(
    rng: random.Random,
    now: datetime,
    plans: Sequence[DemoTicket],
    stored: Sequence[Ticket],
    builder: DemoTickets,
    customers: dict[str, DemoCustomer],
    leads: dict[int, list[Agent]],
    breached: set[int],
) -> list[_Survey]:
    """Survey the solved tickets in the order they were solved, as
    survey_on_solved decides (policy, cooldown, sampling), and answer some."""
    rules = _survey_policies()
    last_surveyed: dict[int, datetime] = {}
    planned: list[_Survey] = []
    solved = sorted(
        ((plan, ticket) for plan, ticket in zip(plans, stored, strict=True) if ticket.solved_at is not None),
        key=lambda pair: pair[1].solved_at or now,
    )
    for plan, ticket in solved:
        assert ticket.solved_at is not None
        order = ticket.order
        decision = policy.survey_decide(
            rules,
            ticket_id=ticket.pk,
            team_id=ticket.team_id,
            channel=ticket.channel,
            order_delivered=order is not None and (order.status == "delivered" or order.delivered_at is not None),
            last_surveyed_at=last_surveyed.get(ticket.customer_id),
            cooldown_days=settings.SURVEY_COOLDOWN_DAYS,
            now=ticket.solved_at,
        )
        if not decision.send or decision.rule is None or decision.send_at is None:
            continue
        send_at = decision.send_at
        last_surveyed[ticket.customer_id] = send_at
        survey = Survey(
            ticket=ticket,
            customer_id=ticket.customer_id,
            policy_id=decision.rule.id,
            kind=decision.kind,
            channel=ticket.channel,
            created_at=ticket.solved_at,
            send_at=send_at,
        )
        item = _Survey(survey=survey, ticket=ticket, scenario=plan.scenario)
        planned.append(item)
        widget_now = ticket.channel == TicketChannel.CHAT and send_at <= ticket.solved_at
        if not widget_now:
            item.events.append(
                (SurveyEvent.SCHEDULED, ticket.solved_at, {"kind": survey.kind, "send_at": send_at.isoformat()})
            )
        if send_at > now:
            continue  # still scheduled: its task is enqueued once the survey is stored
        survey.sent_at, survey.expires_at = send_at, send_at + timedelta(days=settings.SURVEY_TOKEN_DAYS)
        via = "widget" if widget_now or not ticket.customer.email else "email"
        item.events.append((SurveyEvent.SENT, send_at, {"kind": survey.kind, "via": via}))
        item.response = _answer(rng, item, sent=send_at, now=now, breached=ticket.pk in breached)
        if item.response is None:
            survey.status = SurveyStatus.PENDING if survey.expires_at > now else SurveyStatus.EXPIRED
            continue
        survey.status = SurveyStatus.ANSWERED
        if policy.is_unhappy(survey.kind, item.response.score):
            item.follow_up = _follow_up(builder, item, item.response, customers, leads)
    return planned


def _follow_up(
    builder: DemoTickets,
    item: _Survey,
    response: SurveyResponse,
    customers: dict[str, DemoCustomer],
    leads: dict[int, list[Agent]],
) -> DemoTicket:
    """The ticket _follow_up_open opens for the low score, and what came of it."""
    survey, original = item.survey, item.ticket
    customer = original.customer
    answer = _answer_text(survey, original, response)
    kind_label = SurveyKind(survey.kind).label.split(" ")[0]
    team_leads = leads.get(original.team_id, [])
    opened = response.answered_at
    past = PastTicket(
        customer=customer,
        subject=f"Follow-up: {kind_label} {response.score} on #{original.pk}"[:200],
        channel=TicketChannel.EMAIL if customer.email else TicketChannel(original.channel),
        team=original.team,
        steps=[PastMessage(at=opened, body=answer)],
        order=original.order,
    )
    note = f"Follow-up of a low survey score, opened by the desk.\n{answer}\n\nThe conversation is on #{original.pk}."
    demo_customer = customers[customer.external_id]
    return builder.follow_up(
        past,
        opened=opened,
        lead=team_leads[0] if team_leads else None,
        note=note,
        first_name=demo_customer.first_name_latin,
        ticket_number=original.pk,
        reason=response.reason or SurveyReason.OTHER,
    )


def _store_surveys(planned: list[_Survey], now: datetime) -> None:
    Survey.objects.bulk_create([item.survey for item in planned])
    SurveyResponse.objects.bulk_create([item.response for item in planned if item.response is not None])
    follow_ups = [item for item in planned if item.follow_up_ticket is not None]
    FollowUp.objects.bulk_create(
        [
            FollowUp(survey=item.survey, ticket=item.follow_up_ticket, created_at=item.response.answered_at)
            for item in follow_ups
            if item.follow_up_ticket is not None and item.response is not None
        ]
    )
    # A later happy answer of the same customer recovers their earlier follow-ups.
    happy = sorted(
        (item for item in planned if item.response and policy.is_happy(item.survey.kind, item.response.score)),
        key=lambda item: item.response.answered_at if item.response else now,
    )
    recovered = []
    for follow_up in FollowUp.objects.filter(survey__in=[item.survey for item in follow_ups]).select_related("survey"):
        later = next(
            (
                item
                for item in happy
                if item.survey.customer_id == follow_up.survey.customer_id
                and item.response is not None
                and item.response.answered_at > follow_up.created_at
            ),
            None,
        )
        if later is not None and later.response is not None:
            follow_up.recovered_at, follow_up.recovered_by = later.response.answered_at, later.survey
            recovered.append(follow_up)
    FollowUp.objects.bulk_update(recovered, ["recovered_at", "recovered_by"])
    events = [
        TicketEvent(ticket=item.ticket, kind=kind, data=data, created_at=at)
        for item in planned
        for kind, at, data in item.events
    ]
    for item in planned:
        response = item.response
        if response is None:
            continue
        kind = item.survey.kind
        group = policy.csat_group(response.score) if kind == SurveyKind.CSAT else policy.nps_group(response.score)
        follow_up_id = item.follow_up_ticket.pk if item.follow_up_ticket else None
        data = {"kind": kind, "score": response.score, "group": group, "follow_up": follow_up_id}
        events.append(
            TicketEvent(ticket=item.ticket, kind=SurveyEvent.ANSWERED, data=data, created_at=response.answered_at)
        )
        if item.follow_up_ticket is not None:
            data = {"of": item.ticket.pk, "kind": kind, "score": response.score}
            events.append(
                TicketEvent(
                    ticket=item.follow_up_ticket, kind=SurveyEvent.FOLLOW_UP, data=data, created_at=response.answered_at
                )
            )
    TicketEvent.objects.bulk_create(events)
    for item in planned:
        if item.survey.status == SurveyStatus.SCHEDULED:
            tasks.survey_send.using(run_after=item.survey.send_at).enqueue(survey_id=item.survey.pk)


def demo_backfill(
    *,
    rng: random.Random,
    now: datetime,
    plans: Sequence[DemoTicket],
    stored: Sequence[Ticket],
    builder: DemoTickets,
    customers: dict[str, DemoCustomer],
) -> None:
    """Write the SLA, sentiment and survey rows of the imported ``stored``
    tickets (``plans`` in the same order), importing the follow-up tickets
    low scores opened. Runs in the seed's transaction."""
    leads: dict[int, list[Agent]] = defaultdict(list)
    for lead in Agent.objects.filter(role=AgentRole.TEAM_LEAD).prefetch_related("teams").order_by("id"):
        for team in lead.teams.all():
            leads[team.pk].append(lead)
    breached = _sla_and_mood(rng, now, plans, stored, leads)
    planned = _plan_surveys(rng, now, plans, stored, builder, customers, leads, breached)
    # Follow-ups are solved within days of the survey that opened them: inside
    # the customer's survey cooldown, so they get no survey of their own.
    with_follow_up = [item for item in planned if item.follow_up is not None]
    follow_up_plans = [item.follow_up for item in with_follow_up if item.follow_up is not None]
    follow_up_tickets = ticket_history_import(tickets=[plan.past for plan in follow_up_plans])
    for item, ticket in zip(with_follow_up, follow_up_tickets, strict=True):
        item.follow_up_ticket = ticket
    _sla_and_mood(rng, now, follow_up_plans, follow_up_tickets, leads)
    _store_surveys(planned, now)
