"""The satisfaction, speed, volume and people reports, and the per-ticket rows
behind them.

Every report counts the tickets opened in the period (``report_tickets``) and
compares them with the period right before, in the same query: each measure
is a conditional aggregate filtered to one period or the other. Breakdowns
are GROUP BY queries (``values().annotate()``); days and hours are read in the
desk's time zone. A report runs a handful of queries whatever the number of
tickets, and never loops over ticket rows in Python.

The conditions that decide what a figure counts are the inbox drill-down
filters' own (helpdesk.tickets.filters), so the list a figure links to holds
exactly the tickets it counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.db.models import Aggregate, Case, CharField, Count, F, Q, QuerySet, Value, When
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone

from helpdesk.reports import formulas
from helpdesk.reports import shapes as s
from helpdesk.reports.aggregates import MinutesBetween, Percentile
from helpdesk.reports.scope import ReportScope
from helpdesk.tickets.filters import (
    FOLLOW_UPS,
    NONE,
    SCORE_GROUPS,
    SURVEY_STATES,
    first_response_q,
    survey_kind_q,
    with_first_response_clock,
)
from helpdesk.tickets.models import (
    Agent,
    SentimentLabel,
    SentimentTrend,
    Ticket,
    TicketCategory,
    TicketChannel,
)
from helpdesk.tickets.selectors import Queue, queue_filter, ticket_visibility
from surveys.models import SurveyKind, SurveyReason

Measures = Callable[[Q], dict[str, Aggregate]]

FRT = MinutesBetween("first_response_at", "created_at")
RESOLUTION = MinutesBetween("solved_at", "created_at")
MINUTES_PER_HOUR = 60.0
NPS_GROUPS: tuple[tuple[str, str, s.Better], ...] = (
    ("promoter", "Promoters", "up"),
    ("passive", "Passives", None),
    ("detractor", "Detractors", "down"),
)


# -- what a report counts ----------------------------------------------------------------


def report_tickets(*, viewer: Agent, scope: ReportScope) -> QuerySet[Ticket]:
    """The tickets a report counts: opened in the period, in the scope's team,
    agent (assignee), channel and category, visible to ``viewer``; tickets
    merged into another are left out (their conversation lives on there)."""
    return _tickets(viewer, scope, start=scope.start, end=scope.end)


def _tickets(viewer: Agent, scope: ReportScope, *, start: datetime | None, end: datetime | None) -> QuerySet[Ticket]:
    # The first-response clock is joined only by the queries that read it (an alias, not an annotation).
    tickets = with_first_response_clock(Ticket.objects.filter(ticket_visibility(viewer), merged_into__isnull=True))
    if start is not None and end is not None:
        tickets = tickets.filter(created_at__gte=start, created_at__lt=end)
    if scope.team is not None:
        tickets = tickets.filter(team=scope.team)
    if scope.agent is not None:
        tickets = tickets.filter(assignee=scope.agent)
    if scope.channel:
        tickets = tickets.filter(channel=scope.channel)
    if scope.category is not None:
        tickets = tickets.filter(category=scope.category)
    return tickets.order_by()


def _two_periods(viewer: Agent, scope: ReportScope, measures: Measures) -> tuple[dict[str, Any], dict[str, Any]]:
    """``measures`` over this period and over the previous one, in one query."""
    previous = scope.previous()
    found = _tickets(viewer, scope, start=previous.start, end=scope.end).aggregate(
        **{f"now__{k}": v for k, v in measures(Q(created_at__gte=scope.start)).items()},
        **{f"before__{k}": v for k, v in measures(Q(created_at__lt=scope.start)).items()},
    )
    now = {k.removeprefix("now__"): v for k, v in found.items() if k.startswith("now__")}
    before = {k.removeprefix("before__"): v for k, v in found.items() if k.startswith("before__")}
    return now, before


def _by_day(viewer: Agent, scope: ReportScope, measures: Measures) -> dict[date, dict[str, Any]]:
    """``measures`` per day of the period (desk time zone); days without tickets are absent."""
    rows = (
        report_tickets(viewer=viewer, scope=scope)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(**measures(Q()))
        .order_by("day")
    )
    return {row.pop("day"): row for row in rows}


def _count(period: Q, condition: Q | None = None) -> Count:
    return Count("pk", filter=period & condition if condition is not None else period)


def _minutes(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _hours(minutes: float | None) -> float | None:
    return None if minutes is None else round(minutes / MINUTES_PER_HOUR, 1)


def _undated_inbox_url(scope: ReportScope, **extra: str | int) -> str:
    """The scope's inbox link without the created dates (for figures about now)."""
    url = urlsplit(scope.inbox_url(**extra))
    params = [(k, v) for k, v in parse_qsl(url.query) if k not in ("created_from", "created_to")]
    return f"{url.path}?{urlencode(params)}"


def _day_chart(
    scope: ReportScope,
    key: str,
    title: str,
    *,
    unit: s.Unit,
    series: list[dict[str, str]],
    days: dict[date, dict[str, Any]],
    value: Callable[[dict[str, Any]], dict[str, Any]],
    **extra: str | int,
) -> dict[str, Any]:
    """A line over every day of the period; a day without tickets has no data (None)."""
    empty: dict[str, Any] = {line["key"]: None for line in series}
    points = [s.day_point(scope, day, value(days[day]) if day in days else empty, **extra) for day in s.days(scope)]
    return s.chart(key, title, kind="line", unit=unit, series=series, points=points)


# -- satisfaction ---------------------------------------------------------------------------


def _survey_measures(period: Q) -> dict[str, Aggregate]:
    measures: dict[str, Aggregate] = {}
    for kind in SurveyKind:
        sent = survey_kind_q(kind, answered=False) & SURVEY_STATES["sent"]
        measures[f"{kind}_answered"] = _count(period, survey_kind_q(kind))
        measures[f"{kind}_sent"] = _count(period, sent)
        measures[f"{kind}_sent_answered"] = _count(period, sent & SURVEY_STATES["answered"])
    for group, condition in SCORE_GROUPS.items():
        measures[group] = _count(period, condition)
    for state, condition in FOLLOW_UPS.items():
        measures[f"follow_ups_{state}"] = _count(period, condition)
    return measures


def _nps(found: dict[str, Any]) -> formulas.Nps:
    return formulas.nps(promoters=found["promoter"], passives=found["passive"], detractors=found["detractor"])


def satisfaction_report(*, viewer: Agent, scope: ReportScope) -> dict[str, Any]:
    """CSAT, NPS and its groups, response rates, score distributions, low-score
    reasons, follow-ups and CSAT by day. Surveys are those of the period's tickets."""
    now, before = _two_periods(viewer, scope, _survey_measures)
    nps_now, nps_before = _nps(now), _nps(before)
    csat, nps = SurveyKind.CSAT.value, SurveyKind.NPS.value

    def csat_of(found: dict[str, Any]) -> float | None:
        return formulas.csat_score(satisfied=found["satisfied"], answered=found[f"{csat}_answered"])

    def rate(found: dict[str, Any], kind: str) -> float | None:
        return formulas.share(found[f"{kind}_sent_answered"], found[f"{kind}_sent"])

    nps_answers = now["promoter"] + now["passive"] + now["detractor"]
    figures = [
        s.figure(
            "csat", "CSAT", value=csat_of(now), previous=csat_of(before), unit="%", better="up",
            count=now[f"{csat}_answered"], help="Share of 4-5 answers among CSAT answers",
            tickets=scope.inbox_url(survey_kind=csat),
        ),
        s.figure(
            "nps", "NPS", value=nps_now.score, previous=nps_before.score, unit="pts", better="up",
            count=nps_answers, help="Share of promoters (9-10) minus share of detractors (0-6)",
            tickets=scope.inbox_url(survey_kind=nps),
        ),
        *(
            s.figure(
                f"nps_{group}s", label, value=getattr(nps_now, f"{group}s"), previous=getattr(nps_before, f"{group}s"),
                unit="%", better=better, count=now[group], help=f"Share of {group}s among NPS answers",
                tickets=scope.inbox_url(score_group=group),
            )
            for group, label, better in NPS_GROUPS
        ),
        *(
            s.figure(
                f"{kind}_response_rate", f"{label} response rate", value=rate(now, kind), previous=rate(before, kind),
                unit="%", better="up", count=now[f"{kind}_sent"],
                help=f"Answered {label} surveys among those sent",
                tickets=scope.inbox_url(survey_kind=kind, survey="sent"),
            )
            for kind, label in ((csat, "CSAT"), (nps, "NPS"))
        ),
        s.figure(
            "follow_ups_opened", "Follow-ups opened", value=now["follow_ups_opened"],
            previous=before["follow_ups_opened"], unit="count", count=now["follow_ups_opened"],
            help="Tickets a low score opened to win the customer back",
            tickets=scope.inbox_url(follow_up="opened"),
        ),
        s.figure(
            "follow_ups_recovered", "Follow-ups recovered", value=now["follow_ups_recovered"],
            previous=before["follow_ups_recovered"], unit="count", better="up", count=now["follow_ups_recovered"],
            help="Follow-ups whose customer answered a later survey happily",
            tickets=scope.inbox_url(follow_up="recovered"),
        ),
    ]  # fmt: skip

    # Both breakdowns from one GROUP BY (a few dozen rows at most): answers by kind, score and reason.
    scores: dict[tuple[str, int], int] = defaultdict(int)
    reasons: dict[str, int] = defaultdict(int)
    answer_groups = (
        report_tickets(viewer=viewer, scope=scope)
        .filter(SURVEY_STATES["answered"])
        .values_list("survey__kind", "survey__response__score", "survey__response__reason")
        .annotate(n=Count("pk"))
    )
    for kind, score, reason, n in answer_groups:
        scores[kind, score] += n
        if reason:
            reasons[reason] += n
    days = _by_day(
        viewer,
        scope,
        lambda period: {
            "answered": _count(period, survey_kind_q(csat)),
            "satisfied": _count(period, SCORE_GROUPS["satisfied"]),
        },
    )
    answers = [s.series("tickets", "Answers")]
    charts = [
        s.chart(
            f"{kind}_scores",
            f"{label} answers by score",
            kind="bar",
            unit="count",
            series=answers,
            points=[
                s.point(
                    str(score),
                    str(score),
                    {"tickets": scores.get((kind, score), 0)},
                    tickets=scope.inbox_url(survey_kind=kind, score=score),
                )
                for score in range(low, high + 1)
            ],
        )
        for kind, label, low, high in ((csat, "CSAT", 1, 5), (nps, "NPS", 0, 10))
    ]
    charts.append(
        s.chart(
            "low_score_reasons",
            "Reasons given with low scores",
            kind="bar",
            unit="count",
            series=answers,
            points=[
                s.point(
                    reason.value,
                    reason.label,
                    {"tickets": reasons.get(reason.value, 0)},
                    tickets=scope.inbox_url(reason=reason.value),
                )
                for reason in SurveyReason
            ],
        )
    )
    charts.append(
        _day_chart(
            scope,
            "csat_by_day",
            "CSAT by day",
            unit="%",
            series=[s.series("csat", "CSAT")],
            days=days,
            value=lambda day: {"csat": formulas.csat_score(satisfied=day["satisfied"], answered=day["answered"])},
            survey_kind=csat,
        )
    )
    return s.report("satisfaction", "Satisfaction", scope=scope, figures=figures, charts=charts)


# -- speed ------------------------------------------------------------------------------------


def _speed_measures(period: Q) -> dict[str, Aggregate]:
    return {
        "responded": _count(period, first_response_q("responded")),
        "frt_median": Percentile(FRT, 0.5, filter=period),
        "frt_p90": Percentile(FRT, 0.9, filter=period),
        "met": _count(period, first_response_q("met")),
        "breached": _count(period, first_response_q("breached")),
        "solved": _count(period, Q(solved_at__isnull=False)),
        "resolution_median": Percentile(RESOLUTION, 0.5, filter=period),
    }


def _compliance(found: dict[str, Any]) -> float | None:
    return formulas.share(found["met"], found["met"] + found["breached"])


def speed_report(*, viewer: Agent, scope: ReportScope) -> dict[str, Any]:
    """First-response time (median, 90th percentile), first-response SLA
    compliance and breaches, resolution time, the tickets waiting for a first
    response now, and FRT and compliance by day."""
    now, before = _two_periods(viewer, scope, _speed_measures)
    waiting = queue_filter(agent=viewer, queue=Queue.ALL) & first_response_q("waiting")
    waiting_now = _tickets(viewer, scope, start=None, end=None).filter(waiting).count()
    responded_link = scope.inbox_url(first_response="responded")
    figures = [
        s.figure(
            "frt_median", "First response, median", value=_minutes(now["frt_median"]),
            previous=_minutes(before["frt_median"]), unit="min", better="down", count=now["responded"],
            help="Half the first responses came faster (wall-clock minutes from opening)", tickets=responded_link,
        ),
        s.figure(
            "frt_p90", "First response, 90th percentile", value=_minutes(now["frt_p90"]),
            previous=_minutes(before["frt_p90"]), unit="min", better="down", count=now["responded"],
            help="9 in 10 first responses came faster", tickets=responded_link,
        ),
        s.figure(
            "sla_compliance", "First-response SLA met", value=_compliance(now), previous=_compliance(before),
            unit="%", better="up", count=now["met"] + now["breached"],
            help="Share of tickets answered within the first-response target, among those met or breached",
            tickets=scope.inbox_url(first_response="measured"),
        ),
        s.figure(
            "sla_breaches", "First-response SLA breaches", value=now["breached"], previous=before["breached"],
            unit="count", better="down", count=now["breached"],
            help="Tickets whose first response came after the target",
            tickets=scope.inbox_url(first_response="breached"),
        ),
        s.figure(
            "resolution_median", "Resolution time, median", value=_hours(now["resolution_median"]),
            previous=_hours(before["resolution_median"]), unit="h", better="down", count=now["solved"],
            help="Hours from opening to solved, over the solved tickets", tickets=scope.inbox_url(solved="true"),
        ),
        s.figure(
            "waiting_now", "Waiting for a first response now", value=waiting_now, previous=None, unit="count",
            better="down", count=waiting_now, help="Open tickets without a first response, whenever they were opened",
            tickets=_undated_inbox_url(scope, queue=Queue.ALL.value, first_response="waiting"),
        ),
    ]  # fmt: skip
    days = _by_day(
        viewer,
        scope,
        lambda period: {
            "frt_median": Percentile(FRT, 0.5),
            "frt_p90": Percentile(FRT, 0.9),
            "met": _count(period, first_response_q("met")),
            "breached": _count(period, first_response_q("breached")),
        },
    )
    charts = [
        _day_chart(
            scope,
            "frt_by_day",
            "First response by day",
            unit="min",
            series=[s.series("frt_median", "Median"), s.series("frt_p90", "90th percentile")],
            days=days,
            value=lambda day: {"frt_median": _minutes(day["frt_median"]), "frt_p90": _minutes(day["frt_p90"])},
            first_response="responded",
        ),
        _day_chart(
            scope,
            "sla_compliance_by_day",
            "First-response SLA met by day",
            unit="%",
            series=[s.series("sla_compliance", "SLA met")],
            days=days,
            value=lambda day: {"sla_compliance": _compliance(day)},
            first_response="measured",
        ),
    ]
    return s.report("speed", "Speed", scope=scope, figures=figures, charts=charts)


# -- volume and mood ---------------------------------------------------------------------------


def _category_param(value: str) -> str:
    return value or NONE


def _volume_measures(period: Q) -> dict[str, Aggregate]:
    measures: dict[str, Aggregate] = {
        "tickets": _count(period),
        "tagged": _count(period, ~Q(sentiment="")),
        "trended": _count(period, ~Q(sentiment_trend="")),
        "improving": _count(period, Q(sentiment_trend=SentimentTrend.IMPROVING)),
    }
    for label in SentimentLabel:
        measures[f"sentiment_{label}"] = _count(period, Q(sentiment=label))
    for channel in TicketChannel:
        measures[f"channel_{channel}"] = _count(period, Q(channel=channel))
    for category in TicketCategory:
        measures[f"category_{_category_param(category)}"] = _count(period, Q(category=category))
    return measures


def _negative(found: dict[str, Any]) -> float | None:
    return formulas.share(found[f"sentiment_{SentimentLabel.NEGATIVE}"], found["tagged"])


def _improved(found: dict[str, Any]) -> float | None:
    return formulas.share(found["improving"], found["trended"])


def volume_report(*, viewer: Agent, scope: ReportScope) -> dict[str, Any]:
    """Tickets opened, by day, channel, category, team and hour of day; the
    customers' mood: sentiment, share negative by day, conversations improved."""
    now, before = _two_periods(viewer, scope, _volume_measures)
    negative = SentimentLabel.NEGATIVE.value
    figures = [
        s.figure(
            "tickets", "Tickets", value=now["tickets"], previous=before["tickets"], unit="count",
            count=now["tickets"], help="Tickets opened in the period", tickets=scope.inbox_url(),
        ),
        s.figure(
            "negative_share", "Negative mood", value=_negative(now), previous=_negative(before), unit="%",
            better="down", count=now[f"sentiment_{negative}"],
            help="Share of tickets whose customer's mood is negative, among tickets with a mood",
            tickets=scope.inbox_url(sentiment=negative),
        ),
        s.figure(
            "sentiment_improved", "Mood improved", value=_improved(now), previous=_improved(before), unit="%",
            better="up", count=now["improving"],
            help="Share of conversations whose mood improved, among those with a trend",
            tickets=scope.inbox_url(trend=SentimentTrend.IMPROVING.value),
        ),
    ]  # fmt: skip
    current = report_tickets(viewer=viewer, scope=scope)
    teams = current.values("team_id", "team__slug", "team__name").annotate(n=Count("pk")).order_by("team__name")
    hours = dict(
        current.annotate(hour=ExtractHour("created_at", tzinfo=timezone.get_current_timezone()))
        .values("hour")
        .annotate(n=Count("pk"))
        .values_list("hour", "n")
    )
    days = _by_day(
        viewer,
        scope,
        lambda period: {
            "tickets": _count(period),
            "tagged": _count(period, ~Q(sentiment="")),
            f"sentiment_{negative}": _count(period, Q(sentiment=negative)),
        },
    )
    count = [s.series("tickets", "Tickets")]

    def bar(key: str, title: str, points: list[dict[str, Any]]) -> dict[str, Any]:
        return s.chart(key, title, kind="bar", unit="count", series=count, points=points)

    charts = [
        _day_chart(
            scope,
            "tickets_by_day",
            "Tickets by day",
            unit="count",
            series=count,
            days=days,
            value=lambda day: {"tickets": day["tickets"]},
        ),
        bar(
            "by_channel",
            "By channel",
            [
                s.point(c.value, c.label, {"tickets": now[f"channel_{c}"]}, tickets=scope.inbox_url(channel=c.value))
                for c in TicketChannel
            ],
        ),
        bar(
            "by_category",
            "By category",
            [
                s.point(
                    _category_param(c.value),
                    c.label,
                    {"tickets": now[f"category_{_category_param(c)}"]},
                    tickets=scope.inbox_url(category=_category_param(c.value)),
                )
                for c in TicketCategory
            ],
        ),
        bar(
            "by_team",
            "By team",
            [
                s.point(
                    t["team__slug"], t["team__name"], {"tickets": t["n"]}, tickets=scope.inbox_url(team=t["team__slug"])
                )
                for t in teams
            ],
        ),
        bar(
            "by_hour",
            "By hour of day",
            [
                s.point(str(h), f"{h:02d}", {"tickets": hours.get(h, 0)}, tickets=scope.inbox_url(hour=h))
                for h in range(24)
            ],
        ),
        bar(
            "sentiment",
            "Mood",
            [
                s.point(
                    m.value, m.label, {"tickets": now[f"sentiment_{m}"]}, tickets=scope.inbox_url(sentiment=m.value)
                )
                for m in SentimentLabel
            ],
        ),
        _day_chart(
            scope,
            "negative_by_day",
            "Negative mood by day",
            unit="%",
            series=[s.series("negative_share", "Negative")],
            days=days,
            value=lambda day: {"negative_share": _negative(day)},
            sentiment=negative,
        ),
    ]
    return s.report("volume", "Volume and mood", scope=scope, figures=figures, charts=charts)


# -- people ------------------------------------------------------------------------------------


def _people_measures(now: Q, before: Q) -> dict[str, Aggregate]:
    csat = SurveyKind.CSAT.value
    return {
        "tickets": _count(now),
        "tickets_before": _count(before),
        "frt_median": Percentile(FRT, 0.5, filter=now),
        "met": _count(now, first_response_q("met")),
        "breached": _count(now, first_response_q("breached")),
        "answered": _count(now, survey_kind_q(csat)),
        "satisfied": _count(now, SCORE_GROUPS["satisfied"]),
        "answered_before": _count(before, survey_kind_q(csat)),
        "satisfied_before": _count(before, SCORE_GROUPS["satisfied"]),
        **{group: _count(now, SCORE_GROUPS[group]) for group in ("promoter", "passive", "detractor")},
    }


PEOPLE_COLUMNS = [
    s.column("tickets", "Tickets", "count"),
    s.column("tickets_change", "Change", "count"),
    s.column("frt_median", "FRT median", "min"),
    s.column("sla_compliance", "SLA met", "%"),
    s.column("csat", "CSAT", "%"),
    s.column("csat_change", "CSAT change", "pts"),
    s.column("nps", "NPS", "pts"),
]


def _people_cells(name: str, found: dict[str, Any]) -> dict[str, Any]:
    csat = formulas.csat_score(satisfied=found["satisfied"], answered=found["answered"])
    csat_before = formulas.csat_score(satisfied=found["satisfied_before"], answered=found["answered_before"])
    return {
        "name": name,
        "tickets": found["tickets"],
        "tickets_change": found["tickets"] - found["tickets_before"],
        "frt_median": _minutes(found["frt_median"]),
        "sla_compliance": _compliance(found),
        "csat": csat,
        "csat_change": formulas.change(csat, csat_before),
        "nps": _nps(found).score,
    }


def _agent_name(row: dict[str, Any]) -> str:
    if row["assignee_id"] is None:
        return "Unassigned"
    full = f"{row['assignee__user__first_name']} {row['assignee__user__last_name']}".strip()
    return full or row["assignee__user__username"]


def people_report(*, viewer: Agent, scope: ReportScope) -> dict[str, Any]:
    """Per agent (assignee) and per team: tickets handled and the change from
    the previous period, FRT median, first-response SLA compliance, CSAT (and
    its change) and NPS. A row links to its tickets of the period."""
    previous = scope.previous()
    both = _tickets(viewer, scope, start=previous.start, end=scope.end)
    measures = _people_measures(Q(created_at__gte=scope.start), Q(created_at__lt=scope.start))
    agents = sorted(
        both.values(
            "assignee_id", "assignee__user__username", "assignee__user__first_name", "assignee__user__last_name"
        )
        .annotate(**measures)
        .order_by(),
        key=lambda row: (row["assignee_id"] is None, -row["tickets"], _agent_name(row).lower()),
    )
    teams = sorted(
        both.values("team_id", "team__slug", "team__name").annotate(**measures).order_by(),
        key=lambda row: (-row["tickets"], row["team__name"].lower()),
    )
    tables = [
        s.table(
            "agents",
            "Agents",
            columns=[s.column("name", "Agent"), *PEOPLE_COLUMNS],
            rows=[
                s.row(
                    row["assignee_id"] or NONE,
                    _people_cells(_agent_name(row), row),
                    tickets=scope.inbox_url(assignee=row["assignee_id"] or NONE),
                )
                for row in agents
            ],
        ),
        s.table(
            "teams",
            "Teams",
            columns=[s.column("name", "Team"), *PEOPLE_COLUMNS],
            rows=[
                s.row(
                    row["team__slug"],
                    _people_cells(row["team__name"], row),
                    tickets=scope.inbox_url(team=row["team__slug"]),
                )
                for row in teams
            ],
        ),
    ]
    return s.report("people", "People", scope=scope, tables=tables)


# -- the rows behind the reports ------------------------------------------------------------------


TICKET_ROW_FIELDS = (
    "id",
    "created_at",
    "channel",
    "team",
    "assignee",
    "category",
    "status",
    "priority",
    "first_response_minutes",
    "first_response_sla",
    "resolution_minutes",
    "sentiment",
    "sentiment_trend",
    "survey_kind",
    "score",
    "reason",
    "follow_up",
)


def report_ticket_rows(tickets: QuerySet[Ticket]) -> QuerySet[Ticket, dict[str, Any]]:
    """Per-ticket rows of ``tickets`` (report_tickets, filtered) as dicts: one
    query, whatever the number of rows. Shape them with ``ticket_row``."""
    return tickets.annotate(
        team_slug=F("team__slug"),
        assignee_username=F("assignee__user__username"),
        assignee_first_name=F("assignee__user__first_name"),
        assignee_last_name=F("assignee__user__last_name"),
        first_response_minutes=FRT,
        first_response_sla=Case(
            When(first_response_q("breached"), then=Value("breached")),
            When(first_response_q("met"), then=Value("met")),
            default=Value(""),
            output_field=CharField(),
        ),
        resolution_minutes=RESOLUTION,
        survey_kind=Case(
            When(SURVEY_STATES["answered"], then=F("survey__kind")), default=Value(""), output_field=CharField()
        ),
        score=F("survey__response__score"),
        reason=F("survey__response__reason"),
        follow_up=Case(
            When(FOLLOW_UPS["recovered"], then=Value("recovered")),
            When(FOLLOW_UPS["opened"], then=Value("opened")),
            default=Value(""),
            output_field=CharField(),
        ),
    ).values(
        "id",
        "created_at",
        "channel",
        "team_slug",
        "assignee_id",
        "assignee_username",
        "assignee_first_name",
        "assignee_last_name",
        "category",
        "status",
        "priority",
        "first_response_minutes",
        "first_response_sla",
        "resolution_minutes",
        "sentiment",
        "sentiment_trend",
        "survey_kind",
        "score",
        "reason",
        "follow_up",
    )


def ticket_row(values: dict[str, Any]) -> dict[str, Any]:
    """One row of ``report_ticket_rows`` in the order of TICKET_ROW_FIELDS;
    the time in the desk's time zone, minutes with one decimal."""
    assignee = None
    if values["assignee_id"] is not None:
        assignee = _agent_name(
            {
                "assignee_id": values["assignee_id"],
                "assignee__user__first_name": values["assignee_first_name"],
                "assignee__user__last_name": values["assignee_last_name"],
                "assignee__user__username": values["assignee_username"],
            }
        )
    return {
        "id": values["id"],
        "created_at": timezone.localtime(values["created_at"]).isoformat(),
        "channel": values["channel"],
        "team": values["team_slug"],
        "assignee": assignee,
        "category": values["category"],
        "status": values["status"],
        "priority": values["priority"],
        "first_response_minutes": _minutes(values["first_response_minutes"]),
        "first_response_sla": values["first_response_sla"],
        "resolution_minutes": _minutes(values["resolution_minutes"]),
        "sentiment": values["sentiment"],
        "sentiment_trend": values["sentiment_trend"],
        "survey_kind": values["survey_kind"],
        "score": values["score"],
        "reason": values["reason"] or "",
        "follow_up": values["follow_up"],
    }
