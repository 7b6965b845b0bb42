"""Survey policies (managers edit, agents read) and surveys with their
answers (read only: answers come from customers, never from the admin)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q
from django.http import HttpRequest

from helpdesk.admin_scope import AgentScopedAdmin
from helpdesk.tickets.admin_routing import ManagerEditedAdmin
from helpdesk.tickets.models import Agent, Ticket
from helpdesk.tickets.selectors import ticket_visibility
from surveys.models import FollowUp, Survey, SurveyPolicy, SurveyResponse


@admin.register(SurveyPolicy)
class SurveyPolicyAdmin(ManagerEditedAdmin, admin.ModelAdmin):
    list_display = (
        "name",
        "team",
        "channel",
        "kind",
        "delay_minutes",
        "sampling_percent",
        "only_delivered_orders",
        "active",
    )
    list_filter = ("kind", "active", "channel")


def _ticket_visible(agent: Agent, prefix: str) -> Q:
    visible = Ticket.objects.filter(ticket_visibility(agent)).values("pk")
    return Q(**{f"{prefix}__in": visible})


class ReadOnlyAdmin(AgentScopedAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ResponseInline(admin.StackedInline):
    model = SurveyResponse
    fields = ("score", "reason", "reason_text", "comment", "answered_at")
    readonly_fields = fields
    can_delete = False
    extra = 0

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("id", "ticket", "customer", "kind", "channel", "status", "send_at", "sent_at", "expires_at")
    list_filter = ("kind", "status", "channel")
    list_select_related = ("ticket", "customer")
    search_fields = ("customer__email", "customer__name", "ticket__subject")
    exclude = ("token_digest",)
    inlines = (ResponseInline,)

    def visible_to(self, agent: Agent) -> Q:
        return _ticket_visible(agent, "ticket")


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("survey", "score", "reason", "answered_at")
    list_filter = ("reason",)
    list_select_related = ("survey",)
    exclude = ("ip_hash",)

    def visible_to(self, agent: Agent) -> Q:
        return _ticket_visible(agent, "survey__ticket")


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("ticket", "survey", "created_at", "recovered_at")
    list_select_related = ("ticket", "survey")

    def visible_to(self, agent: Agent) -> Q:
        return _ticket_visible(agent, "ticket")
