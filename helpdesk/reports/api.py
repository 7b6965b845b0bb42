"""Manager reports: GET /api/v1/reports/<name>/ and the ticket rows behind
them, GET /api/v1/reports/tickets/. JSON by default; ?format=csv downloads
the same data as CSV (helpdesk.reports.export). Managers and team leads
only; a team lead's reports cover the tickets they may see."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.api import KeysetPagination, unknown_parameters
from helpdesk.reports import export, selectors
from helpdesk.reports.retention import retention_report
from helpdesk.reports.scope import ReportScope, ScopeForm
from helpdesk.tickets.filters import TicketFilter
from helpdesk.tickets.models import Agent, AgentRole
from helpdesk.tickets.permissions import IsAgent

ReportBuilder = Callable[..., dict[str, Any]]

REPORTS: dict[str, ReportBuilder] = {
    "satisfaction": selectors.satisfaction_report,
    "speed": selectors.speed_report,
    "volume": selectors.volume_report,
    "people": selectors.people_report,
    "retention": retention_report,
}
READER_ROLES = (AgentRole.MANAGER, AgentRole.TEAM_LEAD)

SCOPE_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (YYYY-MM-DD); default: 29 days before to."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, inclusive; default: today. At most 366 days."),
    OpenApiParameter("team", OpenApiTypes.STR, description="Team slug."),
    OpenApiParameter("agent", OpenApiTypes.INT, description="Agent id (the tickets' assignee)."),
    OpenApiParameter("channel", OpenApiTypes.STR, description="chat, email or web."),
    OpenApiParameter("category", OpenApiTypes.STR, description='A category; "none": not yet categorised.'),
    OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"], description="csv: download as CSV."),
]


class IsReportReader(IsAgent):
    """A desk agent who is a manager or a team lead."""

    message = "Only managers and team leads may read reports."

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and request.agent.role in READER_ROLES


class CsvRenderer(BaseRenderer):
    """Lets ?format=csv through content negotiation; the views write the CSV themselves."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        # Only errors (400, 403, 404) reach here: a CSV is written by the view as a plain response.
        rows: list[list[Any]] = []
        for key, value in (data or {}).items():
            if isinstance(value, dict):
                for field, messages in value.items():
                    rows += [[field, m] for m in (messages if isinstance(messages, list) else [messages])]
            else:
                rows.append([key, value])
        return "".join(export.csv_lines(rows)).encode()


SCOPE_NAMES = ("from", "to", "team", "agent", "channel", "category")


def _scope(request: Request, *, filters: tuple[str, ...] = ()) -> ReportScope | Response:
    """The report's scope; 400 for a bad value or for a parameter that is
    neither a scope field nor one of ``filters``."""
    if unknown := unknown_parameters(request.query_params, known=(*SCOPE_NAMES, *filters)):
        return Response({"errors": unknown}, status=400)
    form = ScopeForm(request.query_params)
    if not form.is_valid():
        return Response({"errors": form.field_errors()}, status=400)
    return form.scope()


def _wants_csv(request: Request) -> bool:
    return request.query_params.get("format") == "csv"


def _filename(name: str, scope: ReportScope) -> str:
    return f"{name}-{scope.date_from.isoformat()}-{scope.date_to.isoformat()}.csv"


class ReportView(APIView):
    permission_classes = [IsReportReader]
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        parameters=SCOPE_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
        description="One report (satisfaction, speed, volume, people, retention): figures with the previous "
        "period's value and change, charts and tables; each figure, point and row links to its tickets.",
    )
    def get(self, request: Request, name: str) -> Response | HttpResponse:
        build = REPORTS.get(name)
        if build is None:
            raise NotFound("No such report.")
        scope = _scope(request)
        if isinstance(scope, Response):
            return scope
        report = build(viewer=request.agent, scope=scope)
        if not _wants_csv(request):
            return Response(report)
        response = HttpResponse(
            "".join(export.csv_lines(export.report_rows(report, absolute=request.build_absolute_uri))),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{_filename(name, scope)}"'
        return response


class ReportTicketPagination(KeysetPagination):
    ordering = ("-created_at", "-id")


class ReportTicketsView(APIView):
    permission_classes = [IsReportReader]
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        parameters=[
            *SCOPE_PARAMETERS,
            OpenApiParameter("cursor", OpenApiTypes.STR, description="The page after this one (JSON)."),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="Rows per page, at most 200 (JSON)."),
        ],
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
        description="The report's tickets, one row each: " + ", ".join(selectors.TICKET_ROW_FIELDS) + ". "
        "Takes the report scope and every filter of /api/v1/tickets/ (the drill-down filters included). "
        "JSON pages by cursor; ?format=csv streams every row.",
    )
    def get(self, request: Request) -> Response | StreamingHttpResponse:
        scope = _scope(request, filters=tuple(TicketFilter.base_filters))
        if isinstance(scope, Response):
            return scope
        agent: Agent = request.agent
        tickets = selectors.report_tickets(viewer=agent, scope=scope)
        filters = TicketFilter(request.query_params, queryset=tickets, request=request)
        if not filters.is_valid():
            return Response({"errors": filters.errors}, status=400)
        rows = selectors.report_ticket_rows(filters.qs)
        if _wants_csv(request):
            response = StreamingHttpResponse(_ticket_lines(rows), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{_filename("tickets", scope)}"'
            return response
        paginator = ReportTicketPagination()
        page = paginator.paginate_queryset(rows, request, view=self) or []
        return paginator.get_paginated_response([selectors.ticket_row(values) for values in page])


def _ticket_lines(rows: Any) -> Iterator[str]:
    """The header, then one line per ticket, read from the database in chunks
    while the response streams."""
    fields = selectors.TICKET_ROW_FIELDS
    yield from export.csv_lines([fields])
    shaped = (selectors.ticket_row(values) for values in rows.iterator(chunk_size=2000))
    yield from export.csv_lines([row[field] for field in fields] for row in shaped)
