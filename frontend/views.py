"""Server-rendered pages. The desk pages render what the selectors return
and hand over to static/desk/desk.js, which keeps them live over /ws/agent/
(docs/protocol.md)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static

from chat.origins import widget_origin_allowed
from frontend.demo import demo_shop_get, demo_shop_url_for, desk_origin_for
from helpdesk.customers.selectors import customer_context
from helpdesk.tickets.models import (
    Agent,
    EventKind,
    Message,
    Ticket,
    TicketCategory,
    TicketChannel,
    TicketPriority,
    TicketStatus,
)
from helpdesk.tickets.notify import initials
from helpdesk.tickets.selectors import (
    agent_for_user,
    agent_list,
    queue_filter,
    queues_for,
    team_list,
    ticket_detail,
    ticket_list,
    ticket_queue_counts,
    ticket_search,
)

TICKET_LIST_LIMIT = 100
# Display labels for the stable values live events carry; desk.js shows these.
LABELS = {
    "status": dict(TicketStatus.choices),
    "priority": dict(TicketPriority.choices),
    "channel": dict(TicketChannel.choices),
}


def home(request: HttpRequest) -> HttpResponse:
    demo_shop_url = demo_shop_url_for(request) if settings.DEMO_SHOP_PAGE else ""
    return render(request, "frontend/home.html", {"demo_shop_url": demo_shop_url})


def _agent(request: HttpRequest) -> Agent:
    """The signed-in desk agent; anyone else signed in gets a 403."""
    agent = agent_for_user(request.user)
    if agent is None:
        raise PermissionDenied("Only desk agents may use the desk.")
    return agent


@login_required
def desk_ticket_list(request: HttpRequest) -> HttpResponse:
    agent = _agent(request)
    queues = queues_for(agent)
    queue = next((q for q in queues if q.value == request.GET.get("queue")), None)
    tickets_qs = ticket_list(agent=agent)
    if queue is not None:
        tickets_qs = tickets_qs.filter(queue_filter(agent=agent, queue=queue))
    search = request.GET.get("q", "").strip()
    tickets_qs = ticket_search(tickets_qs, search)
    tickets = list(tickets_qs[:TICKET_LIST_LIMIT])
    counts = ticket_queue_counts(agent=agent)
    # Live `ticket` events name the team by id; the page turns ids into names.
    teams = {team.pk: team.name for team in team_list()}
    return render(
        request,
        "frontend/desk/ticket_list.html",
        {
            "agent": agent,
            "tickets": tickets,
            "teams": teams,
            "labels": LABELS,
            "limit": TICKET_LIST_LIMIT,
            "queue": queue,
            "search": search,
            "queues": [(q, counts[q.value]) for q in queues],
        },
    )


def _author(message: Message) -> dict[str, str]:
    """Name and initials as live `message` frames carry them."""
    agent = message.author_agent
    name = agent.display_name if agent is not None else ""
    return {"name": name, "initials": initials(name) if name else ""}


def duration_text(delta: timedelta | None) -> str:
    """A short human duration, two units at most: "45 s", "12 min", "3 h 5 min", "2 d 4 h"."""
    if delta is None:
        return ""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"


@login_required
def desk_ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    agent = _agent(request)
    try:
        ticket = ticket_detail(agent=agent, ticket_id=ticket_id)
    except Ticket.DoesNotExist:
        raise Http404("No such ticket.") from None
    messages = list(ticket.messages.all())
    rows = [(message, _author(message)) for message in messages]
    opened = next((e for e in ticket.events.all() if e.kind == EventKind.OPENED), None)
    panel = customer_context(agent=agent, ticket=ticket)
    teams = list(team_list())
    return render(
        request,
        "frontend/desk/ticket_detail.html",
        {
            "agent": agent,
            "ticket": ticket,
            "rows": rows,
            # The page holds every message up to here; desk.js syncs from it.
            "have": max((m.seq for m in messages), default=0),
            # What an anonymous customer typed; not matched to one of their orders.
            "claimed_order_number": (opened.data.get("claimed_order_number", "") if opened else ""),
            "max_chars": settings.CHAT_MAX_MESSAGE_CHARS,
            "labels": LABELS,
            "teams": {team.pk: team.name for team in teams},
            # The side box's controls; desk.js sends their changes to the ticket API.
            "choices": {
                "status": TicketStatus.choices,
                "priority": TicketPriority.choices,
                "category": TicketCategory.choices,
            },
            "team_options": teams,
            "agent_options": sorted(agent_list(), key=lambda a: a.display_name.casefold()),
            "panel": panel,
            "past_tickets": [(past, duration_text(past.first_response)) for past in panel.past_tickets],
        },
    )


def demo_shop(request: HttpRequest) -> HttpResponse:
    if not settings.DEMO_SHOP_PAGE:
        raise Http404("The demo shop page is off (DEMO_SHOP_PAGE).")
    demo = demo_shop_get(external_id=request.GET.get("customer", ""))
    desk_origin = desk_origin_for(request)
    page_origin = f"{request.scheme}://{request.get_host()}"
    return render(
        request,
        "frontend/demo_shop.html",
        {
            "demo": demo,
            "widget_src": desk_origin + static("widget/widget.js"),
            "widget_config": {"identity": demo.identity} if demo.identity else {},
            "page_origin": page_origin,
            # The desk refuses widget sessions from origins it does not list.
            "origin_allowed": widget_origin_allowed(page_origin),
        },
    )
