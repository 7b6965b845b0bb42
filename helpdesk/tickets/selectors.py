"""Every read of tickets, scoped to what the asking agent may see."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, Q, QuerySet

from helpdesk.tickets.models import Agent, Message, Team, Ticket, TicketEvent


def agent_for_user(user: AbstractBaseUser | AnonymousUser) -> Agent | None:
    """The active desk agent behind a signed-in user, or None."""
    if not user.is_authenticated or not user.is_active:
        return None
    try:
        return Agent.objects.select_related("user").get(user_id=user.pk)
    except Agent.DoesNotExist:
        return None


def ticket_visibility(agent: Agent) -> Q:
    """Managers see all tickets; others their teams' tickets and their own."""
    if agent.is_manager:
        return Q()
    return Q(team__in=agent.teams.all()) | Q(assignee=agent)


def ticket_list(*, agent: Agent) -> QuerySet[Ticket]:
    return (
        Ticket.objects.filter(ticket_visibility(agent))
        .select_related("customer", "team", "assignee__user", "order")
        .order_by("-created_at", "-id")
    )


def ticket_get(*, agent: Agent, ticket_id: int) -> Ticket:
    """Raises Ticket.DoesNotExist for a ticket the agent may not see."""
    return ticket_list(agent=agent).get(pk=ticket_id)


def ticket_detail(*, agent: Agent, ticket_id: int) -> Ticket:
    return (
        ticket_list(agent=agent)
        .prefetch_related(
            Prefetch("messages", queryset=Message.objects.select_related("author_agent__user").order_by("seq")),
            Prefetch("events", queryset=TicketEvent.objects.select_related("actor__user").order_by("created_at", "id")),
        )
        .get(pk=ticket_id)
    )


def team_list() -> QuerySet[Team]:
    return Team.objects.order_by("name")


def agent_list() -> QuerySet[Agent]:
    return Agent.objects.filter(user__is_active=True).select_related("user").prefetch_related("teams")
