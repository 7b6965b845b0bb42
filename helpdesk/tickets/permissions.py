from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from helpdesk.tickets.selectors import agent_for_user


class IsAgent(BasePermission):
    """The caller is a signed-in, active desk agent; sets ``request.agent``."""

    message = "Only desk agents may use this endpoint."

    def has_permission(self, request: Request, view: Any) -> bool:
        agent = agent_for_user(request.user)
        request.agent = agent  # type: ignore[attr-defined]
        return agent is not None
