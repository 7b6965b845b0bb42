"""Admin screens for SLAs: policies, business calendars, and the clocks
(read only). Managers (and holders of the model permissions) edit; other
agents may read. See docs/sla.md."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.http import HttpRequest

from helpdesk.tickets.admin_routing import ManagerEditedAdmin
from helpdesk.tickets.models import Agent, BusinessCalendar, SlaClock, SlaPolicy, Ticket
from helpdesk.tickets.selectors import ticket_visibility
from helpdesk.tickets.sla_calendar import calendar_parse


class BusinessCalendarForm(forms.ModelForm):
    class Meta:
        model = BusinessCalendar
        fields = ("name", "time_zone", "hours", "holidays")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if {"time_zone", "hours"} <= data.keys():
            try:
                calendar = calendar_parse(
                    time_zone=data["time_zone"], hours=data["hours"], holidays=data.get("holidays", "")
                )
            except ValueError as error:
                raise forms.ValidationError(str(error)) from None
            if calendar.is_never_open:
                raise forms.ValidationError("The calendar has no open hours.")
        return data


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(ManagerEditedAdmin, admin.ModelAdmin):
    form = BusinessCalendarForm
    list_display = ("name", "time_zone", "hours")
    search_fields = ("name",)


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ManagerEditedAdmin, admin.ModelAdmin):
    list_display = (
        "name",
        "team",
        "priority",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "business_hours",
        "warn_before_minutes",
    )
    list_filter = ("team", "priority", "business_hours")


@admin.register(SlaClock)
class SlaClockAdmin(ManagerEditedAdmin, admin.ModelAdmin):
    """Written by the SLA services only: a record to read."""

    list_display = (
        "ticket",
        "kind",
        "target_minutes",
        "started_at",
        "due_at",
        "warned_at",
        "breached_at",
        "stopped_at",
    )
    list_filter = ("kind",)
    list_select_related = ("ticket",)
    raw_id_fields = ("ticket",)

    def visible_to(self, agent: Agent) -> Q:
        """The clocks of tickets the agent may see."""
        return Q(ticket__in=Ticket.objects.filter(ticket_visibility(agent)))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
