"""Query-string filters of GET /api/v1/tickets/ and of the inbox page
(/inbox/). A value that does not parse or is not a known choice makes the
request a 400 naming the parameter."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import django_filters as filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from helpdesk.customers.models import CustomerTier
from helpdesk.tickets import selectors
from helpdesk.tickets.models import (
    SentimentLabel,
    Ticket,
    TicketCategory,
    TicketChannel,
    TicketPriority,
    TicketStatus,
)

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

    class Meta:
        model = Ticket
        fields: list[str] = []

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
