"""Business hours: when the desk promises live answers. Pure functions, no ORM.

A spec is a ``;``-separated list of ``<days> <HH:MM>-<HH:MM>`` parts, days
being one day (``sat``) or a range (``mon-fri``) and times in the desk's
local time; ``24:00`` ends a day. Example: ``mon-fri 09:00-18:00; sat 10:00-14:00``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+(?P<start>\d{2}:\d{2})-(?P<end>\d{2}:\d{2})$")


@dataclass(frozen=True)
class WeeklyHours:
    # Per weekday (Monday = 0), open intervals as (start, end) minutes since midnight.
    days: tuple[tuple[tuple[int, int], ...], ...]

    def is_open(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.days[local.weekday()])


def _minutes(text: str, *, spec: str) -> int:
    hours, minutes = int(text[:2]), int(text[3:])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"{text!r} is not a time of day in {spec!r}")
    return hours * 60 + minutes


def hours_parse(spec: str) -> WeeklyHours:
    """Raises ValueError naming the part it cannot read."""
    days: list[list[tuple[int, int]]] = [[] for _ in DAYS]
    parts = [part.strip().lower() for part in spec.split(";") if part.strip()]
    if not parts:
        raise ValueError("business hours are empty")
    for part in parts:
        match = _PART.match(part)
        if not match or match["first"] not in DAYS or (match["last"] or match["first"]) not in DAYS:
            raise ValueError(f"cannot read {part!r}: expected e.g. 'mon-fri 09:00-18:00'")
        first, last = DAYS.index(match["first"]), DAYS.index(match["last"] or match["first"])
        start, end = _minutes(match["start"], spec=spec), _minutes(match["end"], spec=spec)
        if first > last or start >= end:
            raise ValueError(f"{part!r} is an empty range")
        for day in range(first, last + 1):
            days[day].append((start, end))
    return WeeklyHours(tuple(tuple(sorted(intervals)) for intervals in days))
