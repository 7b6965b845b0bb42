"""Server-rendered pages. The desk pages render what the selectors return
and hand over to static/desk/desk.js, which keeps them live over /ws/agent/
(docs/protocol.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse

from chat.origins import widget_origin_allowed
from frontend.demo import demo_shop_get, demo_shop_url_for, desk_origin_for
from helpdesk.customers.selectors import customer_context
from helpdesk.reports.scope import ScopeForm
from helpdesk.security import csp_extend
from helpdesk.tickets.event_text import HIDDEN_KINDS, event_text
from helpdesk.tickets.filters import ANY, CATEGORY_CHOICES, DRILL_DOWN, ME, NONE, TicketFilter
from helpdesk.tickets.models import (
    Agent,
    AgentRole,
    EventKind,
    Message,
    SentimentLabel,
    Ticket,
    TicketCategory,
    TicketChannel,
    TicketEvent,
    TicketPriority,
    TicketStatus,
)
from helpdesk.tickets.notify import initials
from helpdesk.tickets.selectors import (
    KeysetPage,
    Queue,
    TicketCursor,
    agent_choices,
    agent_for_user,
    agent_list,
    queues_for,
    tag_list,
    team_list,
    ticket_claimed_order_number,
    ticket_detail,
    ticket_events_shown,
    ticket_get,
    ticket_inbox,
    ticket_keyset_page,
    ticket_queue_counts,
)
from helpdesk.tickets.services import ticket_read
from surveys.selectors import survey_panel

# The tag input suggests at most this many existing tags.
TAG_OPTIONS_LIMIT = 500
# Display labels for the stable values live events carry; desk.js shows these.
LABELS = {
    "status": dict(TicketStatus.choices),
    "priority": dict(TicketPriority.choices),
    "channel": dict(TicketChannel.choices),
    "category": dict(TicketCategory.choices),
    "sentiment": dict(SentimentLabel.choices),
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


def desk_ticket_list(request: HttpRequest) -> HttpResponse:
    """The old address of the ticket list: on to the inbox, query string kept."""
    query = request.META.get("QUERY_STRING", "")
    return redirect(reverse("inbox") + (f"?{query}" if query else ""))


# The inbox shows this many tickets, then "Load more" asks for as many again.
INBOX_PAGE_SIZE = 50
# A re-read after live changes covers the newest rows down to the 100th shown
# (desk/list.js), plus tickets newer than those, at most this many rows...
INBOX_SYNC_MAX = 200
# ...and, further down, the rows live events touched, by id, at most this many.
INBOX_SYNC_IDS = 100
# TicketFilter fields the filter bar does not show as controls: the search box
# and the queue links stand for the first two; the rest are for API clients and
# hand-made links, kept as hidden fields when given. Every other filter of
# TicketFilter appears in the bar by itself.
BAR_ELSEWHERE = ("q", "queue")
BAR_HIDDEN = ("customer", "created_after", "created_before", *DRILL_DOWN)
# Query parameters of /inbox/rows/ that are positions in the list, not filters.
CURSOR_PARAMS = ("after", "through")
POSITION_PARAMS = (*CURSOR_PARAMS, "ids")


def _choice_text(field: forms.Field, value: str) -> str:
    """A filter value as its label where the field has choices."""
    return str(dict(getattr(field, "choices", ())).get(value, value))


def _inbox_filters(request: HttpRequest, agent: Agent) -> TicketFilter:
    """The API's FilterSet over the agent's inbox (tickets with unread marks)."""
    request.agent = agent  # type: ignore[attr-defined]  # "me", queues and unread are the agent's
    return TicketFilter(request.GET, queryset=ticket_inbox(agent=agent), request=request)


def _query(params: QueryDict, **changes: str | None) -> str:
    """The query string of ``params`` without positions, with ``changes`` (None removes)."""
    params = params.copy()
    for name in POSITION_PARAMS:
        params.pop(name, None)
    for name, value in changes.items():
        params.pop(name, None)
        if value:
            params[name] = value
    return params.urlencode()


def _filter_bar(filterset: TicketFilter) -> dict[str, Any]:
    """The filter form dressed for the page: assignee as a picker, errors
    tied to their controls, and which fields show where."""
    form = filterset.form
    form.label_suffix = ""
    names = [name for name in form.fields if name not in BAR_ELSEWHERE + BAR_HIDDEN]
    form.fields["assignee"].widget = forms.Select(
        choices=[("", ANY), (ME, "Me"), (NONE, "Unassigned"), *((str(pk), name) for pk, name in agent_choices())]
    )
    for name in names:
        # Written for API clients; the labels say enough here (the bound field keeps its own copy).
        form.fields[name].help_text = form[name].help_text = ""
    for name in form.errors:
        if name in form.fields:
            form.fields[name].widget.attrs.update({"aria-invalid": "true", "aria-describedby": f"id_{name}-error"})
    return {
        "form": form,
        "fields": [form[name] for name in names],
        "kept": [(name, form.data[name]) for name in BAR_HIDDEN if form.data.get(name)],
        # What a report's link filtered by, in words: "Score group: Detractor (0-6)".
        "kept_shown": [
            (
                form.fields[name].label or name.replace("_", " ").capitalize(),
                _choice_text(form.fields[name], form.data[name]),
            )
            for name in DRILL_DOWN
            if form.data.get(name) and name != "merged"
        ],
        # Errors of fields without a control of their own are listed above the bar.
        "other_errors": [(form.fields[n].label or n, e) for n, e in form.errors.items() if n not in names],
    }


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The agent's ticket list: queues, search, filters and the first page;
    desk/list.js keeps it live and loads more from ``inbox_rows``."""
    agent = _agent(request)
    filterset = _inbox_filters(request, agent)
    valid = filterset.is_valid()
    page = ticket_keyset_page(filterset.qs, size=INBOX_PAGE_SIZE) if valid else KeysetPage([], "")
    cleaned = filterset.form.cleaned_data if valid else {}
    queue = Queue(cleaned["queue"]) if cleaned.get("queue") else None
    counts = ticket_queue_counts(agent=agent)
    teams = list(team_list())
    return render(
        request,
        "frontend/desk/ticket_list.html",
        {
            "agent": agent,
            "rows": page.rows,
            "next": page.next,
            "valid": valid,
            "queue": queue,
            "search": request.GET.get("q", "").strip(),
            "queues": [(q, counts[q.value], _query(request.GET, queue=q.value)) for q in queues_for(agent)],
            "all_query": _query(request.GET, queue=None),
            "clear_query": _query(QueryDict(), queue=queue.value if queue else None),
            "rows_url": reverse("inbox-rows") + "?" + _query(request.GET),
            "filtered": any(v not in (None, "", False) for v in cleaned.values()),
            "bar": _filter_bar(filterset),
            # Live `ticket` events name the team by id; the page turns ids into names.
            "teams": {team.pk: team.name for team in teams},
            "labels": LABELS,
        },
        status=200 if valid else 400,
    )


@login_required
def inbox_rows(request: HttpRequest) -> HttpResponse:
    """Rows of the inbox as the page renders them (_ticket_rows.html), for
    desk/list.js: ``after=<cursor>`` the next page; ``through=<cursor>`` every
    row from the newest down to that one, and with ``ids=1,2`` those tickets
    too where they still match (to re-read what the page shows). The header
    X-Next-Cursor says where the rows stopped ("" at the end)."""
    agent = _agent(request)
    filterset = _inbox_filters(request, agent)
    if not filterset.is_valid():
        return HttpResponseBadRequest(filterset.form.errors.as_text(), content_type="text/plain")
    try:
        after, through = (
            TicketCursor.parse(request.GET[name]) if request.GET.get(name) else None for name in CURSOR_PARAMS
        )
    except ValueError:
        return HttpResponseBadRequest("Not a cursor of this list.", content_type="text/plain")
    ids = request.GET.get("ids", "").split(",") if request.GET.get("ids") else []
    if len(ids) > INBOX_SYNC_IDS or not all(i.isdigit() and len(i) < 19 for i in ids):
        return HttpResponseBadRequest(f"ids: at most {INBOX_SYNC_IDS} ticket ids.", content_type="text/plain")
    size = INBOX_SYNC_MAX if through else INBOX_PAGE_SIZE
    page = ticket_keyset_page(filterset.qs, size=size, after=after, through=through, ids=[int(i) for i in ids])
    response = render(request, "frontend/desk/_ticket_rows.html", {"rows": page.rows})
    response["X-Next-Cursor"] = page.next
    return response


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
    ticket_read(agent=agent, ticket=ticket, seq=ticket.last_seq)  # opening the page reads it: no unread mark
    messages = list(ticket.messages.all())
    teams = list(team_list())
    lines = event_lines([e for e in ticket.events.all() if e.kind not in HIDDEN_KINDS], {t.slug: t.name for t in teams})
    rows = _thread(messages, lines)
    opened = next((e for e in ticket.events.all() if e.kind == EventKind.OPENED), None)
    return render(
        request,
        "frontend/desk/ticket_detail.html",
        {
            "agent": agent,
            "ticket": ticket,
            "rows": rows,
            # The page holds every message up to here; desk.js syncs from it.
            "have": max((m.seq for m in messages), default=0),
            "max_chars": settings.CHAT_MAX_MESSAGE_CHARS,
            "attachments_per_message": settings.ATTACHMENTS_PER_MESSAGE,
            "attachment_max_bytes": settings.ATTACHMENT_MAX_BYTES,
            "labels": LABELS,
            "teams": {team.pk: team.name for team in teams},
            # The side box's controls; desk.js sends their changes to the ticket API.
            "choices": {
                "status": TicketStatus.choices,
                "priority": TicketPriority.choices,
                "category": TicketCategory.choices,
            },
            "sentiment_choices": SentimentLabel.choices,
            "team_options": teams,
            "agent_options": sorted(agent_list(), key=lambda a: a.display_name.casefold()),
            "tag_options": tag_list().values_list("name", flat=True)[:TAG_OPTIONS_LIMIT],
            # The newest system line shown; ticket.js asks for lines after it.
            "last_event": max((line.id for line in lines), default=0),
            # claimed_order_number: what an anonymous customer typed; not matched to one of their orders.
            **_panel(agent, ticket, claimed_order_number=opened.data.get("claimed_order_number", "") if opened else ""),
        },
    )


Row = tuple[Message | None, dict[str, str] | None, "EventLine | None"]


def _thread(messages: list[Message], lines: list[EventLine]) -> list[Row]:
    """Messages and system lines in time order, as (message, author, line) with one of
    message and line set; a message's own events (a reply reopening the ticket) follow it."""
    items: list[tuple[datetime, int, int, Row]] = [(m.created_at, 0, m.seq, (m, _author(m), None)) for m in messages]
    items += [(line.created_at, 1, line.id, (None, None, line)) for line in lines]
    return [row for *_, row in sorted(items, key=lambda item: item[:3])]


def _panel(agent: Agent, ticket: Ticket, *, claimed_order_number: str) -> dict[str, Any]:
    """What the customer panel (_context_panel.html) and the merge control need."""
    panel = customer_context(agent=agent, ticket=ticket)
    surveys = survey_panel(agent=agent, ticket=ticket)
    return {
        "panel": panel,
        "surveys": surveys,
        "claimed_order_number": claimed_order_number,
        # (past ticket, time to first reply, its survey answer or None)
        "past_tickets": [
            (past, duration_text(past.first_response), surveys.by_ticket.get(past.ticket.pk))
            for past in panel.past_tickets
        ],
        # The customer's other tickets this one could be merged into.
        "merge_options": [
            past.ticket
            for past in panel.past_tickets
            if past.ticket.status != TicketStatus.CLOSED and past.ticket.merged_into_id is None
        ],
    }


@dataclass(frozen=True)
class EventLine:
    id: int
    kind: str
    text: str
    created_at: datetime


def event_lines(events: Iterable[TicketEvent], teams: Mapping[str, str]) -> list[EventLine]:
    """The conversation's system lines; expects each event's actor with its user loaded."""
    return [
        EventLine(
            id=e.pk,
            kind=e.kind,
            text=event_text(e.kind, e.data, actor=e.actor.display_name if e.actor else "", teams=teams),
            created_at=e.created_at,
        )
        for e in events
    ]


def _visible(agent: Agent, ticket_id: int) -> Ticket:
    try:
        return ticket_get(agent=agent, ticket_id=ticket_id)
    except Ticket.DoesNotExist:
        raise Http404("No such ticket.") from None


@login_required
def desk_ticket_events(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The system lines of the ticket newer than event ``after``, as list items
    for the conversation (static/desk/ticket.js places them)."""
    ticket = _visible(_agent(request), ticket_id)
    try:
        after = max(0, int(request.GET.get("after", "0")))
    except ValueError:
        return HttpResponse("after: expected an event id.", status=400, content_type="text/plain")
    events = ticket_events_shown(ticket=ticket, after_id=after)
    teams = {team.slug: team.name for team in team_list()} if events else {}
    return render(request, "frontend/desk/_events.html", {"lines": event_lines(events, teams)})


@login_required
def desk_ticket_thread(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """An earlier conversation of the customer, for the panel to show inline (read only)."""
    agent = _agent(request)
    try:
        ticket = ticket_detail(agent=agent, ticket_id=ticket_id)
    except Ticket.DoesNotExist:
        raise Http404("No such ticket.") from None
    teams = {team.slug: team.name for team in team_list()}
    lines = event_lines([e for e in ticket.events.all() if e.kind not in HIDDEN_KINDS], teams)
    rows = _thread(list(ticket.messages.all()), lines)
    return render(request, "frontend/desk/_past_thread.html", {"ticket": ticket, "rows": rows})


@login_required
def desk_ticket_context(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The customer panel of the ticket page, re-rendered when what it shows changed."""
    agent = _agent(request)
    ticket = _visible(agent, ticket_id)
    claimed = ticket_claimed_order_number(ticket=ticket)
    return render(
        request,
        "frontend/desk/_context_panel.html",
        {"agent": agent, "ticket": ticket, **_panel(agent, ticket, claimed_order_number=claimed)},
    )


# The dashboard's sections in order: (report name in /api/v1/reports/<name>/, heading).
REPORT_SECTIONS = (
    ("satisfaction", "Satisfaction"),
    ("speed", "Speed"),
    ("volume", "Volume and mood"),
    ("people", "People"),
    ("retention", "Retention"),
)
REPORT_READERS = (AgentRole.MANAGER, AgentRole.TEAM_LEAD)
REPORT_PARAMS = ("from", "to", "team", "agent", "channel", "category")
Choices = list[tuple[str, str]]


def _report_filters(request: HttpRequest, agent: Agent) -> tuple[ScopeForm, Choices, Choices]:
    """The report scope form, with the teams and agents the viewer may pick as
    (value, label): a team lead only their own teams and those teams' agents,
    so a hand-made link naming another team is a field error, not an empty report."""
    form = ScopeForm(request.GET)
    teams = team_list()
    if agent.is_manager:
        people = agent_choices()
    else:
        teams = teams.filter(pk__in=agent.teams.values("pk"))
        team_agents = agent_list().filter(Q(teams__in=teams) | Q(pk=agent.pk)).distinct()
        form.fields["team"].queryset = teams  # type: ignore[attr-defined]
        form.fields["agent"].queryset = team_agents  # type: ignore[attr-defined]
        people = sorted(((a.pk, a.display_name) for a in team_agents), key=lambda choice: choice[1].casefold())
    return form, [(team.slug, team.name) for team in teams], [(str(pk), name) for pk, name in people]


@login_required
def reports(request: HttpRequest) -> HttpResponse:
    """The managers' dashboard: the filter bar, rendered here, and one section
    per report, which static/reports/reports.js fills from the reports API
    with the same query parameters."""
    agent = _agent(request)
    if agent.role not in REPORT_READERS:
        return render(request, "frontend/reports/forbidden.html", {"agent": agent}, status=403)
    form, team_options, agent_options = _report_filters(request, agent)
    valid = form.is_valid()
    # Valid, the bar shows the scope reported on (the default period filled in); else what was given.
    given = form.scope().query() if valid else request.GET
    values = {name: given.get(name, "") for name in REPORT_PARAMS}
    return render(
        request,
        "frontend/reports/dashboard.html",
        {
            "agent": agent,
            "valid": valid,
            "values": values,
            "errors": {} if valid else form.field_errors(),
            "team_options": team_options,
            "agent_options": agent_options,
            "channel_options": TicketChannel.choices,
            "category_options": CATEGORY_CHOICES,
            # (name, heading, its API address): reports.js reads each section's data-url.
            "sections": [
                (name, heading, reverse("report", kwargs={"name": name})) for name, heading in REPORT_SECTIONS
            ],
            # The CSV links before reports.js takes over.
            "query": _report_query(values) if valid else "",
        },
        status=200 if valid else 400,
    )


def _report_query(values: Mapping[str, str]) -> str:
    """The report query string of the filter values (empty ones left out)."""
    return urlencode({name: value for name, value in values.items() if value})


def demo_shop(request: HttpRequest) -> HttpResponse:
    if not settings.DEMO_SHOP_PAGE:
        raise Http404("The demo shop page is off (DEMO_SHOP_PAGE).")
    demo = demo_shop_get(external_id=request.GET.get("customer", ""))
    desk_origin = desk_origin_for(request)
    page_origin = f"{request.scheme}://{request.get_host()}"
    response = render(
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
    # What a shop's own CSP allows for the widget (docs/deployment.md): its script,
    # calls, socket and images from the desk; its styles are a constructed stylesheet.
    return csp_extend(
        response,
        script_src=[desk_origin],
        connect_src=[desk_origin, "ws" + desk_origin.removeprefix("http")],
        img_src=[desk_origin],
    )
