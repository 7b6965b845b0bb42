"""Admin screens for tickets, teams and agents.

Tickets change only through the services, which write the event log: a
ticket's workflow fields saved here go through them too, messages are
read-only (their sequence numbers must stay gapless) and events are never
added, changed or deleted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from helpdesk.admin_scope import AgentScopedAdmin, AgentViewMixin, TeamOwnedAdmin
from helpdesk.tickets.models import (
    Agent,
    CannedReply,
    Message,
    Team,
    Ticket,
    TicketCategory,
    TicketEvent,
    TicketPriority,
    TicketStatus,
)
from helpdesk.tickets.selectors import agent_for_user, ticket_visibility
from helpdesk.tickets.services import ticket_assign, ticket_set_category, ticket_set_priority, ticket_set_status

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

WORKFLOW_FIELDS = ("status", "priority", "category", "team", "assignee")
ADMIN_REASON = "changed in the admin"


def on_visible_tickets(agent: Agent) -> Q:
    return Q(ticket__in=Ticket.objects.filter(ticket_visibility(agent)))


class ReadOnlyAdminMixin:
    """View-only: rows are written by services, not by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AgentFilter(admin.RelatedFieldListFilter):
    """Lists agents by name with one query (an agent's name lives on its user)."""

    def field_choices(
        self, field: Any, request: HttpRequest, model_admin: admin.ModelAdmin
    ) -> list[tuple[str, str | StrPromise]]:
        return [(str(agent.pk), agent.display_name) for agent in Agent.objects.select_related("user")]


@admin.register(Team)
class TeamAdmin(AgentScopedAdmin, admin.ModelAdmin):
    list_display = ("name", "slug", "description", "agent_count")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(agent_count=Count("agents"))

    @admin.display(description="Agents", ordering="agent_count")
    def agent_count(self, team: Team) -> int:
        return team.agent_count  # type: ignore[attr-defined]


@admin.register(Agent)
class AgentAdmin(AgentScopedAdmin, admin.ModelAdmin):
    list_display = ("display_name", "username", "role", "team_names", "status", "max_concurrent_chats")
    list_filter = ("role", "status", "teams")
    search_fields = ("user__username", "user__first_name", "user__last_name", "user__email")
    list_select_related = ("user",)
    autocomplete_fields = ("user",)
    filter_horizontal = ("teams",)
    readonly_fields = ("status_changed_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agent]:
        return super().get_queryset(request).prefetch_related("teams")

    @admin.display(description="Username", ordering="user__username")
    def username(self, agent: Agent) -> str:
        return agent.user.get_username()

    @admin.display(description="Teams")
    def team_names(self, agent: Agent) -> str:
        return ", ".join(team.name for team in agent.teams.all())


class MessageInline(AgentViewMixin, ReadOnlyAdminMixin, admin.TabularInline):
    model = Message
    fields = ("seq", "created_at", "author_kind", "author_agent", "internal", "body")
    readonly_fields = fields
    ordering = ("seq",)
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).select_related("author_agent__user")


class TicketEventInline(AgentViewMixin, ReadOnlyAdminMixin, admin.TabularInline):
    model = TicketEvent
    fields = ("created_at", "kind", "actor", "data")
    readonly_fields = fields
    ordering = ("created_at", "id")
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[TicketEvent]:
        return super().get_queryset(request).select_related("actor__user")


class TicketAdminForm(forms.ModelForm):
    class Meta:
        model = Ticket
        fields = ("subject", *WORKFLOW_FIELDS)

    def clean(self) -> dict[str, Any]:
        # The services refuse these too; checking here shows a form error instead of failing the save.
        super().clean()
        data = self.cleaned_data
        closed = self.instance.status == TicketStatus.CLOSED
        if closed and "status" in data and data["status"] != TicketStatus.CLOSED:
            self.add_error("status", "A closed ticket cannot change status.")
        assignee, team = data.get("assignee"), data.get("team")
        if assignee and team and not assignee.is_manager and not assignee.teams.filter(pk=team.pk).exists():
            self.add_error("assignee", f"{assignee.display_name} is not in the {team.name} team.")
        return data


@admin.register(Ticket)
class TicketAdmin(AgentScopedAdmin, admin.ModelAdmin):
    form = TicketAdminForm
    list_display = ("id", "subject", "customer", "team", "assignee", "status", "priority", "channel", "created_at")
    list_display_links = ("id", "subject")
    list_filter = ("status", "priority", "channel", "category", "team", ("assignee", AgentFilter))
    search_fields = ("subject", "customer__email")
    list_select_related = ("customer", "team", "assignee__user")
    autocomplete_fields = ("team", "assignee")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    inlines = (MessageInline, TicketEventInline)
    fields = (
        "subject",
        ("status", "priority", "category"),
        ("team", "assignee"),
        ("customer", "order", "channel"),
        ("created_at", "updated_at", "first_response_at", "solved_at", "closed_at"),
        "last_seq",
    )
    history_fields = (
        "customer",
        "order",
        "channel",
        "created_at",
        "updated_at",
        "first_response_at",
        "solved_at",
        "closed_at",
        "last_seq",
    )

    def visible_to(self, agent: Agent) -> Q:
        return ticket_visibility(agent)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tickets are opened by customers, through the widget, mail or web form

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deleting would take the ticket's event log with it

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # Workflow changes are recorded with an actor; a user who is not an agent has none.
        if agent_for_user(request.user) is None:
            return (*self.history_fields, *WORKFLOW_FIELDS)
        return self.history_fields

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: Ticket, form: ModelForm, change: bool) -> None:
        actor = agent_for_user(request.user)
        changed = set(form.changed_data)
        if "subject" in changed:
            Ticket.objects.filter(pk=obj.pk).update(subject=obj.subject)
        if actor is None:
            return
        if changed & {"team", "assignee"}:
            ticket_assign(ticket=obj, actor=actor, assignee=obj.assignee, team=obj.team)
        if "priority" in changed:
            ticket_set_priority(ticket=obj, actor=actor, priority=TicketPriority(obj.priority), reason=ADMIN_REASON)
        if "category" in changed:
            ticket_set_category(ticket=obj, actor=actor, category=TicketCategory(obj.category), reason=ADMIN_REASON)
        if "status" in changed:
            ticket_set_status(ticket=obj, actor=actor, status=TicketStatus(obj.status))


@admin.register(Message)
class MessageAdmin(AgentScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    def visible_to(self, agent: Agent) -> Q:
        return on_visible_tickets(agent)

    list_display = ("ticket", "seq", "author_kind", "author_agent", "internal", "short_body", "created_at")
    list_filter = ("author_kind", "internal", ("author_agent", AgentFilter))
    search_fields = ("body", "ticket__subject")
    list_select_related = ("ticket", "author_agent__user")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")

    @admin.display(description="Body")
    def short_body(self, message: Message) -> str:
        return message.body if len(message.body) <= 80 else message.body[:79] + "…"


@admin.register(TicketEvent)
class TicketEventAdmin(AgentScopedAdmin, ReadOnlyAdminMixin, admin.ModelAdmin):
    def visible_to(self, agent: Agent) -> Q:
        return on_visible_tickets(agent)

    list_display = ("ticket", "kind", "actor", "data", "created_at")
    list_filter = ("kind", ("actor", AgentFilter))
    search_fields = ("ticket__subject",)
    list_select_related = ("ticket", "actor__user")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")


@admin.register(CannedReply)
class CannedReplyAdmin(TeamOwnedAdmin, admin.ModelAdmin):
    """Agents view their teams' and the shared replies; team leads edit their own
    teams' replies, managers every reply (TeamOwnedAdmin)."""

    list_display = ("title", "team", "updated_at")
    list_filter = ("team",)
    search_fields = ("title", "body")
    list_select_related = ("team",)
    autocomplete_fields = ("team",)
    readonly_fields = ("created_at", "updated_at")

    def visible_to(self, agent: Agent) -> Q:
        if agent.is_manager:
            return Q()
        return Q(team__isnull=True) | Q(team__in=agent.teams.all())


# Routing (rules, keyword sets) and SLA (policies, calendars) have their own modules.
from helpdesk.tickets import admin_routing, admin_sla  # noqa: E402, F401
