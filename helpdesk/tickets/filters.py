"""Query-string filters of GET /api/v1/tickets/ and of the inbox page
(/inbox/). A value that does not parse or is not a known choice makes the
request a 400 naming the parameter."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters as filters
from django import forms
from django.db.models import FilteredRelation, Q, QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from helpdesk.customers.models import CustomerTier
from helpdesk.reports.formulas import CSAT_SATISFIED_MIN, NPS_DETRACTOR_MAX, NPS_PROMOTER_MIN
from helpdesk.tickets import selectors
from helpdesk.tickets.models import (
    SentimentLabel,
    SentimentTrend,
    SlaClockKind,
    Ticket,
    TicketCategory,
    TicketChannel,
    TicketPriority,
    TicketStatus,
)
from surveys.models import SurveyKind, SurveyReason

# TicketCategory.UNSORTED is the empty string, which a query string cannot
# tell apart from "no filter"; "none" stands for it, as it does for assignee.
NONE = "none"
ME = "me"
ANY = "Any"
CATEGORY_CHOICES = [(NONE, TicketCategory.UNSORTED.label)] + [
    (value, label) for value, label in TicketCategory.choices if value
]


class AssigneeField(forms.CharField):
    """An agent id, "me" or "none"."""

    def clean(self, value: Any) -> int | str:
        value = super().clean(value)
        if value in ("", ME, NONE):
            return value
        try:
            return int(value)
        except ValueError:
            raise forms.ValidationError('Give an agent id, "me" or "none".', code="invalid") from None


@extend_schema_field({"type": "string", "description": 'An agent id, "me" or "none" (unassigned).'})
class AssigneeFilter(filters.Filter):
    field_class = AssigneeField


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.Filter):
    field_class = forms.IntegerField


# -- drill-down: the tickets behind a report's figure ----------------------------------
# The reports (helpdesk.reports.selectors) count with these same conditions, so
# a figure and the inbox list its link opens agree by construction.

SCORE_GROUPS: dict[str, Q] = {
    "satisfied": Q(survey__kind=SurveyKind.CSAT, survey__response__score__gte=CSAT_SATISFIED_MIN),
    "unsatisfied": Q(survey__kind=SurveyKind.CSAT, survey__response__score__lt=CSAT_SATISFIED_MIN),
    "promoter": Q(survey__kind=SurveyKind.NPS, survey__response__score__gte=NPS_PROMOTER_MIN),
    "passive": Q(
        survey__kind=SurveyKind.NPS,
        survey__response__score__gt=NPS_DETRACTOR_MAX,
        survey__response__score__lt=NPS_PROMOTER_MIN,
    ),
    "detractor": Q(survey__kind=SurveyKind.NPS, survey__response__score__lte=NPS_DETRACTOR_MAX),
}
SURVEY_STATES: dict[str, Q] = {
    "sent": Q(survey__sent_at__isnull=False),
    "answered": Q(survey__response__isnull=False),
    "unanswered": Q(survey__sent_at__isnull=False, survey__response__isnull=True),
}
FOLLOW_UPS: dict[str, Q] = {
    "opened": Q(survey_follow_up__isnull=False),
    "recovered": Q(survey_follow_up__recovered_at__isnull=False),
}


def with_first_response_clock(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """``tickets`` with the alias ``first_response_clock`` that first_response_q's
    met, breached and measured read: the ticket's first-response SLA clock,
    joined once (LEFT JOIN) where a subquery per ticket made every report scan
    the clocks. A ticket has at most one (the slaclock_one_first_response
    constraint: started when it opens, never restarted), so the join never
    repeats a ticket. Applying it twice is harmless."""
    clock = FilteredRelation("sla_clocks", condition=Q(sla_clocks__kind=SlaClockKind.FIRST_RESPONSE))
    return tickets.alias(first_response_clock=clock)


def first_response_q(value: str) -> Q:
    """met: the first-response SLA clock stopped without a breach; breached: it
    breached; measured: either of the two (what SLA compliance divides by);
    responded: the ticket has a first response; waiting: it has none yet.
    met, breached and measured need a queryset from with_first_response_clock."""
    if value == "met":
        return Q(first_response_clock__stopped_at__isnull=False, first_response_clock__breached_at__isnull=True)
    if value == "breached":
        return Q(first_response_clock__breached_at__isnull=False)
    if value == "measured":
        return Q(first_response_clock__stopped_at__isnull=False) | Q(first_response_clock__breached_at__isnull=False)
    if value == "responded":
        return Q(first_response_at__isnull=False)
    if value == "waiting":
        return Q(first_response_at__isnull=True)
    raise ValueError(value)


def survey_kind_q(kind: str, *, answered: bool = True) -> Q:
    """The ticket's survey is of this kind (and, by default, answered)."""
    q = Q(survey__kind=kind)
    return q & Q(survey__response__isnull=False) if answered else q


FIRST_RESPONSE_CHOICES = [
    ("met", "SLA met"),
    ("breached", "SLA breached"),
    ("measured", "SLA met or breached"),
    ("responded", "Answered"),
    ("waiting", "No first response yet"),
]
CUSTOMER_GROUP_CHOICES = [
    ("start", "Customers at the start"),
    ("end", "Customers at the end"),
    ("new", "New"),
    ("retained", "Retained"),
    ("lost", "Lost"),
]


# Filters the reports' drill-down links use (helpdesk.reports): the inbox keeps
# them without a control of their own and names them above the list.
DRILL_DOWN = (
    "survey_kind",
    "score",
    "score_group",
    "survey",
    "reason",
    "follow_up",
    "first_response",
    "hour",
    "trend",
    "solved",
    "customers",
    "merged",
)


class TicketFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # Retention groups belong to a period: the report's, given as the created dates.
        if cleaned.get("customers") and not (cleaned.get("created_from") and cleaned.get("created_to")):
            self.add_error("customers", "Give created_from and created_to with customers.")
        return cleaned


@extend_schema_field(OpenApiTypes.INT)
class ScoreFilter(filters.Filter):
    """A whole number within min_value..max_value (given as keyword arguments)."""

    field_class = forms.IntegerField


class TicketFilter(filters.FilterSet):
    """One filter set for the API and the inbox page's filter bar: a filter
    added here is a query parameter of both and a control in the bar
    (frontend/views.py renders every field it does not list as hidden)."""

    status = filters.ChoiceFilter(choices=TicketStatus.choices, empty_label=ANY)
    priority = filters.ChoiceFilter(choices=TicketPriority.choices, empty_label=ANY)
    team = filters.ModelChoiceFilter(
        queryset=selectors.team_list(), to_field_name="slug", empty_label=ANY, help_text="Team slug."
    )
    assignee = AssigneeFilter(method="filter_assignee")
    channel = filters.ChoiceFilter(choices=TicketChannel.choices, empty_label=ANY)
    category = filters.ChoiceFilter(choices=CATEGORY_CHOICES, method="filter_category", empty_label=ANY)
    sentiment = filters.ChoiceFilter(
        choices=SentimentLabel.choices, empty_label=ANY, help_text="The customer's current mood in the conversation."
    )
    tier = filters.ChoiceFilter(
        field_name="customer__tier",
        choices=CustomerTier.choices,
        empty_label=ANY,
        label="Customer tier",
        help_text="Customer tier.",
    )
    tag = filters.ModelChoiceFilter(
        field_name="tags",
        queryset=selectors.tag_list(),
        to_field_name="name",
        empty_label=ANY,
        label="Tag",
        help_text="Tag name.",
    )
    created_from = filters.DateFilter(
        method="filter_created_from",
        label="Created from",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Created on or after this day (YYYY-MM-DD, the desk's time zone).",
    )
    created_to = filters.DateFilter(
        method="filter_created_to",
        label="Created to",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Created on or before this day (YYYY-MM-DD, the desk's time zone).",
    )
    unread = filters.BooleanFilter(
        method="filter_unread",
        widget=forms.CheckboxInput,
        label="Unread only",
        help_text="Only tickets with messages the signed-in agent has not read.",
    )
    customer = IdFilter(field_name="customer_id", help_text="Customer id.")
    q = filters.CharFilter(
        method="filter_search",
        label="Search",
        help_text="Words in the subject, messages, notes, customer name or email; an order number.",
    )
    queue = filters.ChoiceFilter(
        choices=selectors.Queue.choices, method="filter_queue", label="Queue", help_text="An inbox queue."
    )
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    # Drill-down from the reports (helpdesk.reports): the tickets behind a figure.
    survey_kind = filters.ChoiceFilter(
        label="Survey kind",
        choices=SurveyKind.choices,
        method="filter_survey_kind",
        empty_label=ANY,
        help_text="The ticket's survey is of this kind and answered (with survey=..., of this kind in that state).",
    )
    score = ScoreFilter(
        label="Survey score",
        field_name="survey__response__score",
        min_value=0,
        max_value=10,
        help_text="The survey answer, 0-10.",
    )
    score_group = filters.ChoiceFilter(
        label="Score group",
        choices=[(name, name.title()) for name in SCORE_GROUPS],
        method="filter_score_group",
        empty_label=ANY,
        help_text="CSAT satisfied (4-5) / unsatisfied (1-3); NPS promoter (9-10) / passive (7-8) / detractor (0-6).",
    )
    survey = filters.ChoiceFilter(
        label="Survey",
        choices=[(name, name.title()) for name in SURVEY_STATES],
        method="filter_survey",
        empty_label=ANY,
        help_text="sent: a survey went out; answered: it has an answer; unanswered: sent without an answer.",
    )
    reason = filters.ChoiceFilter(
        label="Low-score reason",
        field_name="survey__response__reason",
        choices=SurveyReason.choices,
        empty_label=ANY,
        help_text="The reason given with a low score.",
    )
    follow_up = filters.ChoiceFilter(
        label="Follow-up",
        choices=[(name, name.title()) for name in FOLLOW_UPS],
        method="filter_follow_up",
        empty_label=ANY,
        help_text="Tickets that are follow-ups a low score opened; recovered: a later survey came back happy.",
    )
    first_response = filters.ChoiceFilter(
        label="First response",
        choices=FIRST_RESPONSE_CHOICES,
        method="filter_first_response",
        empty_label=ANY,
        help_text="The first-response SLA: met, breached or measured (either); responded or waiting (none yet).",
    )
    hour = ScoreFilter(
        label="Hour opened",
        method="filter_hour",
        min_value=0,
        max_value=23,
        help_text="Opened in this hour of the day (desk time zone).",
    )
    trend = filters.ChoiceFilter(
        label="Mood trend",
        field_name="sentiment_trend",
        choices=SentimentTrend.choices,
        empty_label=ANY,
        help_text="How the customer's mood moved in the conversation.",
    )
    solved = filters.ChoiceFilter(
        label="Solved",
        choices=[("true", "Solved"), ("false", "Not solved")],
        method="filter_solved",
        empty_label=ANY,
        help_text="true: solved (solved_at set); false: not solved.",
    )
    customers = filters.ChoiceFilter(
        label="Customers",
        choices=CUSTOMER_GROUP_CHOICES,
        method="filter_customers",
        empty_label=ANY,
        help_text="Customers at the start or end of the period created_from..created_to (both required), "
        "or new, retained or lost over it.",
    )
    merged = filters.BooleanFilter(
        label="Merged into another",
        method="filter_merged",
        help_text="true: only tickets merged into another; false: none of those (as the reports count).",
    )

    class Meta:
        model = Ticket
        fields: list[str] = []
        form = TicketFilterForm

    def filter_survey_kind(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        # With survey=sent|unanswered the kind narrows that state instead of meaning "answered".
        return queryset.filter(survey_kind_q(value, answered=not self.form.cleaned_data.get("survey")))

    def filter_score_group(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return queryset.filter(SCORE_GROUPS[value])

    def filter_survey(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return queryset.filter(SURVEY_STATES[value])

    def filter_follow_up(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return queryset.filter(FOLLOW_UPS[value])

    def filter_first_response(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return with_first_response_clock(queryset).filter(first_response_q(value))

    def filter_solved(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return queryset.filter(solved_at__isnull=value != "true")

    def filter_hour(self, queryset: QuerySet[Ticket], name: str, value: int) -> QuerySet[Ticket]:
        # created_at__hour reads the hour in the current (desk) time zone.
        return queryset.filter(created_at__hour=value)

    def filter_merged(self, queryset: QuerySet[Ticket], name: str, value: bool | None) -> QuerySet[Ticket]:
        return queryset if value is None else queryset.filter(merged_into__isnull=not value)

    def filter_customers(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        # Imported here: the retention selectors are the customers app's, read only by this filter.
        from helpdesk.customers.retention import customer_group_ids

        data = self.form.cleaned_data
        start, end = _day_start(data["created_from"]), _day_start(data["created_to"] + timedelta(days=1))
        return queryset.filter(customer_id__in=customer_group_ids(value, start=start, end=end))

    def filter_search(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return selectors.ticket_search(queryset, value)

    def filter_queue(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return queryset.filter(selectors.queue_filter(agent=self.request.agent, queue=selectors.Queue(value)))

    def filter_category(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        return queryset.filter(category=TicketCategory.UNSORTED if value == NONE else value)

    def filter_assignee(self, queryset: QuerySet[Ticket], name: str, value: int | str) -> QuerySet[Ticket]:
        if value == NONE:
            return queryset.filter(assignee__isnull=True)
        if value == ME:
            return queryset.filter(assignee=self.request.agent)
        return queryset.filter(assignee_id=int(value))

    def filter_created_from(self, queryset: QuerySet[Ticket], name: str, value: date) -> QuerySet[Ticket]:
        return queryset.filter(created_at__gte=_day_start(value))

    def filter_created_to(self, queryset: QuerySet[Ticket], name: str, value: date) -> QuerySet[Ticket]:
        return queryset.filter(created_at__lt=_day_start(value + timedelta(days=1)))

    def filter_unread(self, queryset: QuerySet[Ticket], name: str, value: bool | None) -> QuerySet[Ticket]:
        # An unticked box is False, not "no filter": it filters nothing either.
        return queryset.filter(selectors.ticket_unread(agent=self.request.agent)) if value else queryset


def _day_start(day: date) -> datetime:
    """Midnight at the start of ``day`` in the desk's time zone; comparing
    created_at with it (not created_at__date) keeps the index usable."""
    return timezone.make_aware(datetime.combine(day, time.min))
