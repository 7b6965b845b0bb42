"""SLA clocks in business time: pure functions, no ORM, no settings.

A :class:`Calendar` says when a team is open: an IANA time zone, weekly hours in
that zone's wall-clock time (several intervals a day for split shifts) and
whole-day holidays. Business time is the time during which the calendar is open;
every function here takes and returns aware datetimes and returns them in UTC.

What "open" means on daylight-saving days, deterministically: an instant is open
when its wall-clock time in the calendar's zone falls in an open interval of its
local date, and that date is not a holiday. So ``09:00-17:00`` is 09:00-17:00 on
the wall clock on every day, including the days the clocks change; on the
spring-forward day the skipped wall-clock hour never happens and counts nothing
(``00:00-06:00`` is five real hours), on the fall-back day the repeated hour
happens twice and counts twice (``00:00-06:00`` is seven real hours).

The text format admins type (see ``docs/sla.md``)::

    hours:    Mon-Fri 09:00-12:00,13:00-18:00; Sat 10:00-14:00
    holidays: 2026-12-25, 2027-01-01

The hours format is the desk's ``BUSINESS_HOURS`` format (``hours.hours_parse``)
plus comma-separated intervals per part and day ranges that wrap round the end of
the week (``sun-thu``), so every ``BUSINESS_HOURS`` value is a valid calendar too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from helpdesk.tickets.hours import DAYS, hours_parse

MINUTES_PER_DAY = 24 * 60
DEFAULT_WARN_BEFORE = timedelta(minutes=2)

# Open spans are computed in windows of this length. Precondition: a zone's UTC
# offset changes at most once within a window, true of every zone in tzdata
# since 1990 (no two changes less than three days apart).
_WINDOW = timedelta(days=1)
_MICROSECOND = timedelta(microseconds=1)

Interval = tuple[int, int]  # (start, end) in minutes since local midnight, 0 <= start < end <= 1440
Span = tuple[datetime, datetime]  # [start, end) in aware UTC


def _merged(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if not 0 <= start < end <= MINUTES_PER_DAY:
            raise ValueError(f"({start}, {end}) is not an interval of minutes within a day")
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


@dataclass(frozen=True)
class Calendar:
    """When a team is open. ``week[0]`` is Monday; intervals are merged and sorted
    on construction, so two calendars open at the same times compare equal."""

    zone: ZoneInfo
    week: tuple[tuple[Interval, ...], ...]
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError(f"a week has 7 days, not {len(self.week)}")
        object.__setattr__(self, "week", tuple(_merged(day) for day in self.week))
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    @property
    def is_always_open(self) -> bool:
        # Every wall-clock time of every day is open, so business time is real time
        # whatever the zone does.
        return not self.holidays and all(day == ((0, MINUTES_PER_DAY),) for day in self.week)

    @property
    def is_never_open(self) -> bool:
        return not any(self.week)


ALWAYS = Calendar(zone=ZoneInfo("UTC"), week=(((0, MINUTES_PER_DAY),),) * 7)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def calendar_parse(*, time_zone: str, hours: str, holidays: str = "") -> Calendar:
    """Reads the admin's text; raises ValueError naming the part it cannot read.

    ``hours``: ``;``-separated parts ``<days> <HH:MM>-<HH:MM>[,<HH:MM>-<HH:MM>...]``.
    ``holidays``: ISO dates separated by commas, semicolons, spaces or new lines.
    """
    try:
        zone = ZoneInfo(time_zone.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{time_zone!r} is not an IANA time zone such as 'Europe/Berlin'") from None
    return Calendar(zone=zone, week=_week_parse(hours), holidays=_holidays_parse(holidays))


def _week_parse(spec: str) -> tuple[tuple[Interval, ...], ...]:
    week: list[list[Interval]] = [[] for _ in range(7)]
    parts = [part.strip() for part in spec.split(";") if part.strip()]
    if not parts:
        raise ValueError("business hours are empty")
    for part in parts:
        days, _, intervals = re.sub(r"\s+", " ", part).partition(" ")
        for interval in intervals.split(","):
            for day_range in _day_ranges(days):
                try:
                    weekly = hours_parse(f"{day_range} {interval.strip()}")
                except ValueError as error:
                    raise ValueError(f"in {part!r}: {error}") from None
                for day, day_intervals in enumerate(weekly.days):
                    week[day].extend(day_intervals)
    return tuple(tuple(day) for day in week)


def _day_ranges(days: str) -> list[str]:
    # A week may start on Sunday (Israel) or Saturday (Iran): "sun-thu" wraps round
    # to mean sun-sun plus mon-thu. The desk's BUSINESS_HOURS refuses wrapping ranges.
    first, dash, last = days.lower().partition("-")
    if dash and first in DAYS and last in DAYS and DAYS.index(first) > DAYS.index(last):
        return [f"{first}-sun", f"mon-{last}"]
    return [days]


def _holidays_parse(spec: str) -> frozenset[date]:
    holidays: set[date] = set()
    for text in re.split(r"[,;\s]+", spec.strip()):
        if not text:
            continue
        try:
            if not _DATE.match(text):
                raise ValueError("expected YYYY-MM-DD")
            holidays.add(date.fromisoformat(text))
        except ValueError as error:
            raise ValueError(f"cannot read holiday {text!r}: {error}") from None
    return frozenset(holidays)


# -- arithmetic ------------------------------------------------------------------------


def add_business_time(start: datetime, minutes: float | timedelta, calendar: Calendar) -> datetime:
    """The first instant at which ``minutes`` of business time have elapsed since
    ``start``. A start outside hours begins counting at the next opening; an amount
    that is used up exactly at a closing returns that closing, not the next opening.
    Raises ValueError for a calendar that is never open (instead of looping)."""
    moment = _utc("start", start)
    left = _duration(minutes)
    if not left or calendar.is_always_open:
        return moment + left
    for span_start, span_end in _spans_forward(calendar, moment):
        if span_end - span_start >= left:
            return span_start + left
        left -= span_end - span_start
    raise AssertionError("unreachable: _spans_forward never ends")  # pragma: no cover


def subtract_business_time(end: datetime, minutes: float | timedelta, calendar: Calendar) -> datetime:
    """The last instant from which ``minutes`` of business time elapse until ``end``
    (the mirror of :func:`add_business_time`: an amount used up exactly at an opening
    returns that opening, not the previous closing)."""
    moment = _utc("end", end)
    left = _duration(minutes)
    if not left or calendar.is_always_open:
        return moment - left
    for span_start, span_end in _spans_backward(calendar, moment):
        if span_end - span_start >= left:
            return span_end - left
        left -= span_end - span_start
    raise AssertionError("unreachable: _spans_backward never ends")  # pragma: no cover


def business_time_between(start: datetime, end: datetime, calendar: Calendar) -> timedelta:
    """Business time elapsed from ``start`` to ``end``; negative when ``end`` is earlier."""
    lo, hi = _utc("start", start), _utc("end", end)
    if hi < lo:
        return -business_time_between(hi, lo, calendar)
    if calendar.is_always_open:
        return hi - lo
    total = timedelta(0)
    while lo < hi:
        window_end = min(lo + _WINDOW, hi)
        total += sum((span_end - span_start for span_start, span_end in _spans(calendar, lo, window_end)), timedelta(0))
        lo = window_end
    return total


def due_at(
    *,
    started: datetime,
    target_minutes: float | timedelta,
    calendar: Calendar,
    pauses: Sequence[tuple[datetime, datetime | None]] = (),
) -> datetime | None:
    """When a clock that started at ``started`` reaches ``target_minutes`` of business
    time, not counting the ``pauses`` (e.g. pending on the customer). Pauses may
    overlap, lie before the start or outside hours. An open pause (end ``None``)
    means the clock is stopped now, so there is no due time: None. Unless the
    target was reached before that pause began: pausing an overdue clock does not
    hide the breach, the (past) due time is returned. For a policy that counts
    real time, pass ``calendar=ALWAYS``."""
    moment = _utc("started", started)
    left = _duration(target_minutes)
    stops: list[tuple[datetime, datetime | None]] = []
    for pause_start, pause_end in pauses:
        lo = _utc("pause start", pause_start)
        hi = None if pause_end is None else _utc("pause end", pause_end)
        if hi is not None and hi < lo:
            raise ValueError(f"pause ends ({hi.isoformat()}) before it starts ({lo.isoformat()})")
        stops.append((lo, hi))
    for pause_start, pause_end in sorted(stops, key=lambda stop: stop[0]):
        if pause_end is not None and pause_end <= moment:
            continue  # over before the clock ran, or inside an earlier pause
        if pause_start > moment:
            running = business_time_between(moment, pause_start, calendar)
            if running >= left:
                break
            left -= running
        if pause_end is None:
            return None
        moment = pause_end
    return add_business_time(moment, left, calendar)


def warn_at(
    due: datetime,
    *,
    calendar: Calendar,
    business: bool,
    warn_before: timedelta = DEFAULT_WARN_BEFORE,
) -> datetime:
    """When to warn that ``due`` is near. With ``business`` (the policy counts
    business time) the warning comes ``warn_before`` of *business* time earlier, so
    it always falls in open hours: for a due time of 09:01 and an opening at 09:00,
    two minutes before is 17:59 on the previous open day, when someone can act,
    not 08:59 in an empty office. A warning that lands exactly on an opening is
    given at the opening rather than at the previous closing. Otherwise it is plain
    ``due - warn_before``. The result may lie in the past (a clock shorter than
    ``warn_before``, or one resumed after a pause): warn when ``now >= warn_at``."""
    if business:
        return subtract_business_time(due, warn_before, calendar)
    return _utc("due", due) - _duration(warn_before)


def remaining(now: datetime, due: datetime) -> timedelta:
    """The clock shown in the inbox: real time left until ``due``, negative when overdue."""
    return _utc("due", due) - _utc("now", now)


# -- internals -------------------------------------------------------------------------


def _utc(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _duration(minutes: float | timedelta) -> timedelta:
    if not isinstance(minutes, timedelta):
        if not math.isfinite(minutes):
            raise ValueError(f"{minutes!r} is not a number of minutes")
        minutes = timedelta(minutes=minutes)
    if minutes < timedelta(0):
        raise ValueError(f"a duration cannot be negative, got {minutes}")
    return minutes


def _idle_limit(calendar: Calendar) -> int:
    # Windows in a row without open time before we call the calendar closed for good:
    # a week per holiday (each may close the only open day of its week) plus two weeks.
    if calendar.is_never_open:
        raise ValueError("the calendar has no open hours")
    return 7 * (len(calendar.holidays) + 2)


def _spans_forward(calendar: Calendar, start: datetime) -> Iterable[Span]:
    idle, limit = 0, _idle_limit(calendar)
    while True:
        spans = _spans(calendar, start, start + _WINDOW)
        idle = 0 if spans else idle + 1
        if idle > limit:
            raise ValueError(f"the calendar has no open hours after {start.isoformat()}")
        yield from spans
        start += _WINDOW


def _spans_backward(calendar: Calendar, end: datetime) -> Iterable[Span]:
    idle, limit = 0, _idle_limit(calendar)
    while True:
        spans = _spans(calendar, end - _WINDOW, end)
        idle = 0 if spans else idle + 1
        if idle > limit:
            raise ValueError(f"the calendar has no open hours before {end.isoformat()}")
        yield from reversed(spans)
        end -= _WINDOW


def _spans(calendar: Calendar, lo: datetime, hi: datetime) -> list[Span]:
    """The open spans within [lo, hi), chronological; hi - lo <= _WINDOW."""
    spans: list[Span] = []
    for piece_lo, piece_hi, offset in _constant_offset_pieces(calendar.zone, lo, hi):
        # Within a piece, wall time = UTC + offset; intersect with the open intervals
        # of every local date the piece touches.
        wall_lo = (piece_lo + offset).replace(tzinfo=None)
        wall_hi = (piece_hi + offset).replace(tzinfo=None)
        day = wall_lo.date()
        while (midnight := datetime.combine(day, time())) < wall_hi:
            if day not in calendar.holidays:
                for start, end in calendar.week[day.weekday()]:
                    open_lo = max(wall_lo, midnight + timedelta(minutes=start))
                    open_hi = min(wall_hi, midnight + timedelta(minutes=end))
                    if open_lo < open_hi:
                        spans.append(((open_lo - offset).replace(tzinfo=UTC), (open_hi - offset).replace(tzinfo=UTC)))
            day += timedelta(days=1)
    return spans


def _constant_offset_pieces(zone: ZoneInfo, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime, timedelta]]:
    """[lo, hi) cut where the zone's UTC offset changes (at most once, see _WINDOW)."""
    first, last = _offset(zone, lo), _offset(zone, hi - _MICROSECOND)
    if first == last:
        return [(lo, hi, first)]
    # Bisect for the first instant with the new offset.
    before, after = lo, hi - _MICROSECOND
    while after - before > _MICROSECOND:
        middle = before + (after - before) // 2
        if _offset(zone, middle) == first:
            before = middle
        else:
            after = middle
    return [(lo, after, first), (after, hi, last)]


def _offset(zone: ZoneInfo, moment: datetime) -> timedelta:
    offset = moment.astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always has one
    return offset
