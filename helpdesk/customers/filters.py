"""Query-string filters of GET /api/v1/customers/."""

from __future__ import annotations

import django_filters as filters
from django.db.models import Q, QuerySet

from helpdesk.customers.models import Customer, CustomerTier


class CustomerFilter(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", max_length=200, help_text="Part of the name or email.")
    tier = filters.ChoiceFilter(choices=CustomerTier.choices)

    class Meta:
        model = Customer
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(email__icontains=value))
