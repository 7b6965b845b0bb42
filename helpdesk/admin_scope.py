"""Desk agents in the admin: they may look, never change, and see only the
rows the API would show them. Superusers and holders of model permissions keep
Django's usual rights. Rows a team owns (TeamOwnedAdmin) are the exception:
managers edit all of them and team leads those of their own teams."""

from __future__ import annotations

from typing import Any

from django.db.models import Field, Q, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest

from helpdesk.tickets.models import Agent, AgentRole, Team
from helpdesk.tickets.selectors import agent_for_user


def desk_agent(request: HttpRequest) -> Agent | None:
    if not hasattr(request, "_desk_agent"):
        request._desk_agent = agent_for_user(request.user)  # type: ignore[attr-defined]
    return request._desk_agent  # type: ignore[attr-defined]


class AgentViewMixin:
    """For inlines, whose parent page is already scoped."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) or desk_agent(request) is not None  # type: ignore[misc]


class AgentScopedAdmin(AgentViewMixin):
    def visible_to(self, agent: Agent) -> Q:
        """The rows ``agent`` may see; every row by default."""
        return Q()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) or desk_agent(request) is not None  # type: ignore[misc]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        rows = super().get_queryset(request)  # type: ignore[misc]
        agent = desk_agent(request)
        if request.user.is_superuser or agent is None:
            return rows
        return rows.filter(self.visible_to(agent))


class TeamOwnedAdmin(AgentScopedAdmin):
    """For rows with a ``team`` (null: shared by every team). On top of the
    model permissions, a manager may add, change and delete any of them, and a
    team lead those of their own teams only: never another team's, never a
    shared one, and a row they add or change must stay in one of their teams."""

    def editable_teams(self, request: HttpRequest) -> set[int] | None:
        """Teams whose rows the desk agent may edit: None for every row, empty for none."""
        agent = desk_agent(request)
        if agent is None or request.user.is_superuser:
            return set()
        if agent.is_manager:
            return None
        if agent.role != AgentRole.TEAM_LEAD:
            return set()
        if not hasattr(request, "_lead_teams"):
            request._lead_teams = set(agent.teams.values_list("pk", flat=True))  # type: ignore[attr-defined]
        return request._lead_teams  # type: ignore[attr-defined]

    def _may_edit(self, request: HttpRequest, obj: Any) -> bool:
        teams = self.editable_teams(request)
        if teams is None:
            return True
        return bool(teams) and (obj is None or obj.team_id in teams)

    def _lead_only(self, request: HttpRequest) -> bool:
        """True when the team rule is all that lets this user edit (no model permission)."""
        opts = self.model._meta  # type: ignore[attr-defined]
        return bool(self.editable_teams(request)) and not request.user.has_perm(
            f"{opts.app_label}.change_{opts.model_name}"
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) or self._may_edit(request, None)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) or self._may_edit(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) or self._may_edit(request, obj)  # type: ignore[misc]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]
        if self._lead_only(request):
            # Bulk delete checks no row's team; a lead deletes one row at a time.
            actions.pop("delete_selected", None)
        return actions

    def formfield_for_foreignkey(self, db_field: Field, request: HttpRequest, **kwargs: Any) -> ModelChoiceField:
        if db_field.name == "team" and self._lead_only(request):
            kwargs["queryset"] = Team.objects.filter(pk__in=self.editable_teams(request) or ())
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]
