"""The weekly digest's content: the headline figures of a week and the week
before, picked from the reports themselves (so the email and /reports/ always
agree), as a plain-text email with an HTML alternative. Reads only; sending and
scheduling are reports.services'."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from helpdesk.reports.retention import retention_report
from helpdesk.reports.scope import ReportScope
from helpdesk.reports.selectors import satisfaction_report, speed_report, volume_report
from helpdesk.reports.shapes import day_label
from helpdesk.tickets.models import Agent, AgentRole

ReportBuilder = Callable[..., dict[str, Any]]

# (report builder, figure key), in the order the email lists them.
DIGEST_FIGURES: list[tuple[ReportBuilder, str]] = [
    (satisfaction_report, "csat"),
    (satisfaction_report, "nps"),
    (speed_report, "frt_median"),
    (speed_report, "sla_compliance"),
    (volume_report, "tickets"),
    (retention_report, "crr"),
]

SUFFIX = {"%": "%", "min": " min", "h": " h", "pts": "", "count": "", "": ""}
CHANGE_SUFFIX = {"%": " pts", "min": " min", "h": " h", "pts": " pts", "count": "", "": ""}


def digest_recipients() -> QuerySet[Agent]:
    """Active managers with an email address."""
    return (
        Agent.objects.filter(role=AgentRole.MANAGER, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("pk")
    )


def digest_figures(*, viewer: Agent, period_from: date, period_to: date) -> list[dict[str, Any]]:
    """The digest's figures (the reports' own figure dicts, with previous and
    change) for the period, desk-wide: ``viewer`` should be a manager."""
    scope = ReportScope(date_from=period_from, date_to=period_to)
    reports: dict[ReportBuilder, dict[str, dict[str, Any]]] = {}
    figures = []
    for build, key in DIGEST_FIGURES:
        if build not in reports:
            reports[build] = {f["key"]: f for f in build(viewer=viewer, scope=scope)["figures"]}
        if key in reports[build]:
            figures.append(reports[build][key])
    return figures


def _value(figure: dict[str, Any], field: str) -> str:
    value = figure[field]
    if value is None:
        return "no data"
    if figure["unit"] == "money":
        return f"{value} {figure.get('currency', '')}".strip()
    return f"{value}{SUFFIX.get(figure['unit'], '')}"


def _change(figure: dict[str, Any]) -> str:
    """ "+2.5 pts, better"; "" when either week has no data."""
    change = figure["change"]
    if change is None:
        return ""
    number = float(change)
    if not number:
        return "no change"
    unit = f" {figure.get('currency', '')}".rstrip() if figure["unit"] == "money" else CHANGE_SUFFIX[figure["unit"]]
    signed = f"{'' if number < 0 else '+'}{change}{unit}"
    better = figure.get("better")
    if better is None:
        return signed
    return f"{signed}, {'better' if (number > 0) == (better == 'up') else 'worse'}"


@dataclass(frozen=True)
class DigestLine:
    label: str
    value: str
    previous: str
    change: str


def digest_lines(figures: list[dict[str, Any]]) -> list[DigestLine]:
    return [DigestLine(f["label"], _value(f, "value"), _value(f, "previous"), _change(f)) for f in figures]


def digest_link(*, period_from: date, period_to: date) -> str:
    query = urlencode({"from": period_from.isoformat(), "to": period_to.isoformat()})
    return f"{settings.DESK_BASE_URL.rstrip('/')}{reverse('reports')}?{query}"


def digest_subject(*, period_from: date, period_to: date) -> str:
    return f"Desk weekly report: {day_label(period_from)} - {day_label(period_to)} {period_to.year}"


def digest_email(
    *, figures: list[dict[str, Any]], period_from: date, period_to: date, to: list[str]
) -> EmailMultiAlternatives:
    """The digest as one email to ``to``: plain text, and an HTML table as the alternative."""
    lines = digest_lines(figures)
    link = digest_link(period_from=period_from, period_to=period_to)
    period = f"{day_label(period_from)} - {day_label(period_to)} {period_to.year}"
    text = "\n".join(
        [
            f"The desk's week, {period}, against the 7 days before:",
            "",
            *(
                f"{line.label}: {line.value} (week before: {line.previous}{'; ' + line.change if line.change else ''})"
                for line in lines
            ),
            "",
            f"All reports: {link}",
            "",
        ]
    )
    html = format_html(
        "<p>The desk's week, {}, against the 7 days before:</p>"
        '<table cellpadding="4"><thead><tr><th align="left">Figure</th><th align="right">This week</th>'
        '<th align="right">Week before</th><th align="left">Change</th></tr></thead><tbody>{}</tbody></table>'
        '<p><a href="{}">All reports</a></p>',
        period,
        format_html_join(
            "",
            '<tr><td>{}</td><td align="right">{}</td><td align="right">{}</td><td>{}</td></tr>',
            ((line.label, line.value, line.previous, line.change) for line in lines),
        ),
        link,
    )
    email = EmailMultiAlternatives(
        subject=digest_subject(period_from=period_from, period_to=period_to),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
    )
    email.attach_alternative(html, "text/html")
    return email
