"""Query-string filters of GET /api/v1/tickets/. A value that does not parse
or is not a known choice makes the request a 400 naming the parameter."""

from __future__ import annotations

from typing import Any

import django_filters as filters
from django import forms
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from helpdesk.customers.models import CustomerTier
from helpdesk.tickets import selectors
from helpdesk.tickets.models import Ticket, TicketCategory, TicketChannel, TicketPriority, TicketStatus

# TicketCategory.UNSORTED is the empty string, which a query string cannot
# tell apart from "no filter"; "none" stands for it, as it does for assignee.
NONE = "none"
ME = "me"
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
    status = filters.ChoiceFilter(choices=TicketStatus.choices)
    priority = filters.ChoiceFilter(choices=TicketPriority.choices)
    channel = filters.ChoiceFilter(choices=TicketChannel.choices)
    category = filters.ChoiceFilter(choices=CATEGORY_CHOICES, method="filter_category")
    team = filters.ModelChoiceFilter(queryset=selectors.team_list(), to_field_name="slug", help_text="Team slug.")
    assignee = AssigneeFilter(method="filter_assignee")
    customer = IdFilter(field_name="customer_id", help_text="Customer id.")
    q = filters.CharFilter(
        method="filter_search",
        help_text="Words in the subject, messages, notes, customer name or email; an order number.",
    )
    tier = filters.ChoiceFilter(field_name="customer__tier", choices=CustomerTier.choices, help_text="Customer tier.")
    queue = filters.ChoiceFilter(choices=selectors.Queue.choices, method="filter_queue", help_text="An inbox queue.")
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
