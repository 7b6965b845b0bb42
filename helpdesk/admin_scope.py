"""Desk agents in the admin: they may look, never change, and see only the
rows the API would show them. Superusers and holders of model permissions keep
Django's usual rights."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest

from helpdesk.tickets.models import Agent
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
