"""CSV of the reports and of their ticket rows, safe to open in a spreadsheet.

Formula neutralising (CSV injection): a text cell starting with = + - @, a tab
or a carriage return gets a leading single quote, so a spreadsheet shows it
as text instead of running it. Numbers are left alone: a cell that is an int,
float or Decimal, or a text that is nothing but a plain decimal number
("-12.5", "-4.20": how the reports send money), is written as it is. A
spreadsheet reads those as the number they are and nothing more, so a
negative change stays a number in the sheet; anything else starting with "-"
(say "-2+3" or "-cmd") is quoted.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # ASCII only: \d would also take other scripts' digits

REPORT_COLUMNS = ("part", "key", "label", "measure", "value", "unit", "previous", "change", "count", "tickets")


def neutralise(value: Any) -> Any:
    """The cell as written to the CSV: None empty, numbers as they are, text
    that a spreadsheet would take for a formula prefixed with a quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class _Echo:
    """A file whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """Each row as one neutralised CSV line, lazily (for StreamingHttpResponse)."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([neutralise(cell) for cell in row])


def report_rows(report: dict[str, Any], *, absolute: Callable[[str], str] = str) -> Iterator[list[Any]]:
    """A report in long form, one line per value (REPORT_COLUMNS first): its
    figures; each chart point and series; each table row and column.
    ``absolute`` turns the drill-down paths into full URLs."""
    yield list(REPORT_COLUMNS)
    for f in report["figures"]:
        yield [
            "figure",
            f["key"],
            f["label"],
            f["key"],
            f["value"],
            f.get("currency") or f["unit"],
            f["previous"],
            f["change"],
            f["count"],
            absolute(f["tickets"]),
        ]
    for chart in report["charts"]:
        for p in chart["points"]:
            for line in chart["series"]:
                yield [
                    chart["key"],
                    p["key"],
                    p["label"],
                    line["key"],
                    p["values"].get(line["key"]),
                    chart["unit"],
                    None,
                    None,
                    None,
                    absolute(p["tickets"]),
                ]
    for table in report["tables"]:
        first, *columns = table["columns"]
        for r in table["rows"]:
            for column in columns:
                yield [
                    table["key"],
                    r["key"],
                    r["cells"].get(first["key"]),
                    column["key"],
                    r["cells"].get(column["key"]),
                    column["unit"],
                    None,
                    None,
                    None,
                    absolute(r["tickets"]),
                ]
