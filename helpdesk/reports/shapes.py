"""The JSON shape every report shares (docs: /work/notes/reports_contract.md):
figures with their previous-period change, charts of points, tables of rows.

Builders only arrange values the selectors computed; no ORM here. Every
figure, point and row carries ``tickets``: the inbox URL of the tickets
behind it (``ReportScope.inbox_url``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from helpdesk.reports import formulas
from helpdesk.reports.scope import ReportScope

Unit = Literal["%", "min", "pts", "count", "money", "h", ""]
CountOf = Literal["tickets", "customers", "orders"]
Better = Literal["up", "down"] | None
Number = int | float | Decimal

CENT = Decimal("0.01")


def money(value: Number | None) -> str | None:
    """A money amount as the contract sends it: a string with two decimals."""
    if value is None:
        return None
    return str(Decimal(str(value)).quantize(CENT, ROUND_HALF_UP))


def figure(
    key: str,
    label: str,
    *,
    value: Number | None,
    previous: Number | None,
    unit: Unit,
    tickets: str,
    better: Better = None,
    count: int | None = None,
    count_of: CountOf = "tickets",
    help: str = "",
    currency: str = "",
) -> dict[str, Any]:
    """One headline number with the previous period's value and the change
    (formulas.change: in the figure's own unit, points for shares).
    Money (unit "money") is sent as strings with two decimals plus ``currency``.
    ``count`` is how many ``count_of`` the figure is based on; when that is
    tickets, they are exactly the tickets its ``tickets`` link lists."""
    shaped: dict[str, Any] = {"key": key, "label": label, "unit": unit}
    if unit == "money":
        delta = None if value is None or previous is None else Decimal(str(value)) - Decimal(str(previous))
        shaped.update(value=money(value), previous=money(previous), change=money(delta), currency=currency)
    else:
        shaped.update(value=_plain(value), previous=_plain(previous), change=formulas.change(value, previous))
    shaped.update(better=better, count=count, count_of=count_of, help=help, tickets=tickets)
    return shaped


def _plain(value: Number | None) -> int | float | None:
    if value is None or isinstance(value, int):
        return value
    return round(float(value), 1)


def series(key: str, label: str) -> dict[str, str]:
    return {"key": key, "label": label}


def point(key: str, label: str, values: Mapping[str, Number | None], *, tickets: str) -> dict[str, Any]:
    return {"key": key, "label": label, "values": {k: _plain(v) for k, v in values.items()}, "tickets": tickets}


def chart(
    key: str,
    title: str,
    *,
    kind: Literal["line", "bar"],
    unit: Unit,
    series: Sequence[dict[str, str]],
    points: Iterable[dict[str, Any]],
) -> dict[str, Any]:
    return {"key": key, "title": title, "kind": kind, "unit": unit, "series": list(series), "points": list(points)}


def column(key: str, label: str, unit: Unit = "") -> dict[str, str]:
    return {"key": key, "label": label, "unit": unit}


def row(key: str | int, cells: dict[str, Any], *, tickets: str) -> dict[str, Any]:
    return {"key": str(key), "cells": cells, "tickets": tickets}


def table(key: str, title: str, *, columns: Sequence[dict[str, str]], rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {"key": key, "title": title, "columns": list(columns), "rows": list(rows)}


def report(
    name: str,
    title: str,
    *,
    scope: ReportScope,
    figures: Sequence[dict[str, Any]] = (),
    charts: Sequence[dict[str, Any]] = (),
    tables: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The whole report: period, scope and its parts."""
    previous = scope.previous()
    return {
        "report": name,
        "title": title,
        "period": {
            "from": scope.date_from.isoformat(),
            "to": scope.date_to.isoformat(),
            "previous_from": previous.date_from.isoformat(),
            "previous_to": previous.date_to.isoformat(),
        },
        "scope": {
            "team": scope.team.slug if scope.team is not None else None,
            "agent": scope.agent.pk if scope.agent is not None else None,
            "channel": scope.channel,
            "category": scope.category,
        },
        "figures": list(figures),
        "charts": list(charts),
        "tables": list(tables),
    }


def days(scope: ReportScope) -> list[date]:
    """Every day of the period, first to last (for day charts: days without
    tickets are points too, with no data)."""
    return [scope.date_from + timedelta(days=n) for n in range(scope.days)]


def day_label(day: date) -> str:
    """ "1 Nov": short, with no locale-dependent padding."""
    return f"{day.day} {day.strftime('%b')}"


def day_point(scope: ReportScope, day: date, values: dict[str, Number | None], **extra: str | int) -> dict[str, Any]:
    """A point of a day chart, linking to that day's tickets (created_from =
    created_to = the day) with ``extra`` drill-down filters."""
    day_scope = ReportScope(
        date_from=day,
        date_to=day,
        team=scope.team,
        agent=scope.agent,
        channel=scope.channel,
        category=scope.category,
    )
    return point(day.isoformat(), day_label(day), values, tickets=day_scope.inbox_url(**extra))
