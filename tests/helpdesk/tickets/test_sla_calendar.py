"""SLA clocks in business time: due times across opening hours, split shifts,
holidays, daylight-saving changes and pauses; the calendar text admins type.

Times are written on the team's wall clock (``wall(...)``) where that is how a
person would say them, and in UTC (``utc(...)``) where the wall clock is
ambiguous or the point is what the server stores. Pure functions: no database.
"""

from __future__ import annotations

import random
import re
import time as timer
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from helpdesk.tickets.sla_calendar import (
    ALWAYS,
    DEFAULT_WARN_BEFORE,
    Calendar,
    add_business_time,
    business_time_between,
    calendar_parse,
    due_at,
    remaining,
    subtract_business_time,
    warn_at,
)

BERLIN = "Europe/Berlin"
OFFICE = "Mon-Fri 09:00-12:00,13:00-18:00"  # a split shift with a lunch break
MINUTE = timedelta(minutes=1)


def calendar(hours: str = OFFICE, zone: str = BERLIN, holidays: str = "") -> Calendar:
    return calendar_parse(time_zone=zone, hours=hours, holidays=holidays)


def wall(text: str, zone: str = BERLIN) -> datetime:
    """``wall("2026-06-01 09:00")``: that wall-clock time in ``zone`` (first one if repeated)."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


# The week of Monday 2026-06-01 in Berlin (summer time, UTC+2) has no surprises.


# -- 24/7 ----------------------------------------------------------------------------


def test_always_open_is_plain_addition_of_the_default_ten_minutes():
    assert add_business_time(utc("2026-06-06 03:00"), 10, ALWAYS) == utc("2026-06-06 03:10")
    assert business_time_between(utc("2026-06-06 03:00"), utc("2026-06-06 03:10"), ALWAYS) == minutes(10)


def test_a_24_7_calendar_in_any_zone_counts_real_time_across_daylight_saving():
    # Given round-the-clock hours in Berlin, over the night the clocks go forward
    round_the_clock = calendar("mon-sun 00:00-24:00")
    before = wall("2026-03-29 01:55")

    # Then ten minutes later is ten real minutes later (03:05 on the wall clock)
    assert round_the_clock.is_always_open
    assert add_business_time(before, 10, round_the_clock) == before.astimezone(UTC) + minutes(10)
    assert add_business_time(before, 10, round_the_clock).astimezone(ZoneInfo(BERLIN)).hour == 3


def test_results_are_utc_whatever_zone_the_input_is_in():
    due = add_business_time(wall("2026-06-01 10:00"), 30, calendar())

    assert due.tzinfo is UTC
    assert due == utc("2026-06-01 08:30")


# -- one zone, no clock changes ---------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "target", "due"),
    [
        ("2026-06-02 10:00", 30, "2026-06-02 10:30"),  # inside hours
        ("2026-06-02 07:00", 10, "2026-06-02 09:10"),  # before opening: the clock starts at 09:00
        ("2026-06-02 00:00", 10, "2026-06-02 09:10"),
        ("2026-06-02 12:30", 10, "2026-06-02 13:10"),  # during lunch: starts at 13:00
        ("2026-06-02 11:55", 10, "2026-06-02 13:05"),  # five minutes before lunch, five after
        ("2026-06-02 17:50", 10, "2026-06-02 18:00"),  # used up exactly at closing: closing, not tomorrow
        ("2026-06-02 17:55", 10, "2026-06-03 09:05"),
        ("2026-06-05 18:30", 10, "2026-06-08 09:10"),  # Friday after closing: Monday
        ("2026-06-05 17:55", 10, "2026-06-08 09:05"),
        ("2026-06-06 11:00", 10, "2026-06-08 09:10"),  # Saturday
        ("2026-06-02 09:00", 8 * 60, "2026-06-02 18:00"),  # a full day of eight hours ends at closing
        ("2026-06-02 09:00", 5 * 8 * 60, "2026-06-08 18:00"),  # a working week
    ],
)
def test_due_times_in_an_office_with_a_lunch_break(start, target, due):
    assert add_business_time(wall(start), target, calendar()) == wall(due)


def test_saturday_hours_are_counted_after_friday_closing():
    with_saturday = calendar(OFFICE + "; Sat 10:00-14:00")

    assert add_business_time(wall("2026-06-05 17:55"), 10, with_saturday) == wall("2026-06-06 10:05")


def test_zero_minutes_is_the_start_itself_even_outside_hours():
    assert add_business_time(wall("2026-06-06 11:00"), 0, calendar()) == wall("2026-06-06 11:00")


def test_minutes_may_be_a_fraction_or_a_timedelta():
    start = wall("2026-06-02 11:59")

    assert add_business_time(start, 1.5, calendar()) == wall("2026-06-02 13:00:30")
    assert add_business_time(start, timedelta(seconds=90), calendar()) == wall("2026-06-02 13:00:30")


def test_an_overnight_shift_written_as_two_parts_runs_through_midnight():
    nights = calendar("fri 22:00-24:00; sat 00:00-06:00")

    assert add_business_time(wall("2026-06-05 23:55"), 10, nights) == wall("2026-06-06 00:05")
    assert business_time_between(wall("2026-06-05 12:00"), wall("2026-06-06 12:00"), nights) == minutes(8 * 60)


# -- holidays -------------------------------------------------------------------------


def test_a_holiday_is_closed_all_day():
    # Given Christmas Day, a Friday, is a holiday
    christmas = calendar(holidays="2026-12-25")

    # Then ten minutes asked five minutes before Thursday's closing are due on Monday
    assert add_business_time(wall("2026-12-24 17:55"), 10, christmas) == wall("2026-12-28 09:05")
    assert business_time_between(wall("2026-12-24 12:00"), wall("2026-12-28 12:00"), christmas) == minutes(8 * 60)


def test_a_year_of_holidays_is_skipped_quickly():
    # Given every day of 2027 is a holiday
    year = [date(2027, 1, 1) + timedelta(days=n) for n in range(365)]
    closed_2027 = calendar(holidays=", ".join(day.isoformat() for day in year))

    # When a clock starts a minute before closing on the last day of 2026
    began = timer.perf_counter()
    due = add_business_time(wall("2026-12-31 17:59"), 2, closed_2027)

    # Then it ends on the first Monday of 2028, without crawling there
    assert due == wall("2028-01-03 09:01")
    assert timer.perf_counter() - began < 1
    assert subtract_business_time(due, 2, closed_2027) == wall("2026-12-31 17:59")


def test_a_calendar_that_is_never_open_raises_instead_of_looping():
    never = Calendar(zone=ZoneInfo(BERLIN), week=((),) * 7)

    with pytest.raises(ValueError, match="no open hours"):
        add_business_time(wall("2026-06-01 09:00"), 10, never)
    with pytest.raises(ValueError, match="no open hours"):
        subtract_business_time(wall("2026-06-01 09:00"), 10, never)
    assert business_time_between(wall("2026-06-01 09:00"), wall("2026-06-08 09:00"), never) == timedelta(0)


def test_hours_that_holidays_close_for_good_raise_instead_of_looping():
    # Given the only open day is Monday, and the next 60 Mondays are holidays
    mondays = [date(2026, 6, 1) + timedelta(weeks=n) for n in range(60)]
    closed = calendar("mon 09:00-18:00", holidays=" ".join(day.isoformat() for day in mondays))

    # Then the first open Monday is still found
    assert add_business_time(wall("2026-06-01 08:00"), 10, closed) == wall("2027-07-26 09:10")


# -- daylight saving ------------------------------------------------------------------
# Berlin: 2026-03-29 02:00 -> 03:00 (UTC+1 -> UTC+2), 2026-10-25 03:00 -> 02:00.
# New York: 2026-03-08 02:00 -> 03:00 (UTC-5 -> UTC-4), 2026-11-01 02:00 -> 01:00.


@pytest.mark.parametrize(
    ("start", "due"),
    [
        # Saturday closes at 17:00 UTC+1; Sunday, the change day, opens at 09:00 UTC+2
        ("2026-03-28 16:50", "2026-03-29 07:10"),
        # Saturday closes at 17:00 UTC+2; Sunday, the change day, opens at 09:00 UTC+1
        ("2026-10-24 16:50", "2026-10-25 08:10"),
    ],
)
def test_berlin_opening_hours_stay_on_the_wall_clock_on_change_days(start, due):
    every_day = calendar("mon-sun 09:00-17:00")

    assert add_business_time(wall(start), 20, every_day) == utc(due)
    assert business_time_between(wall(start), utc(due), every_day) == minutes(20)


def test_berlin_a_working_week_across_the_change_is_forty_hours_and_starts_on_the_new_offset():
    week = calendar("mon-fri 09:00-17:00")

    assert add_business_time(wall("2026-03-27 16:50"), 20, week) == utc("2026-03-30 07:10")  # Monday 09:10 UTC+2
    assert business_time_between(wall("2026-03-23 09:00"), wall("2026-03-30 09:00"), week) == minutes(40 * 60)
    assert business_time_between(wall("2026-10-19 09:00"), wall("2026-10-26 09:00"), week) == minutes(40 * 60)


def test_berlin_a_night_shift_loses_the_skipped_hour_and_counts_the_repeated_one_twice():
    night = calendar("sun 00:00-06:00")

    spring = business_time_between(wall("2026-03-28 12:00"), wall("2026-03-29 12:00"), night)
    autumn = business_time_between(wall("2026-10-24 12:00"), wall("2026-10-25 12:00"), night)

    assert (spring, autumn) == (minutes(5 * 60), minutes(7 * 60))


def test_berlin_an_interval_starting_in_the_skipped_hour_opens_when_the_clock_shows_03_00():
    # 02:30 does not exist on 2026-03-29: the first wall-clock time in 02:30-04:00 is 03:00 (01:00 UTC)
    odd = calendar("sun 02:30-04:00")

    assert add_business_time(wall("2026-03-29 00:00"), 10, odd) == utc("2026-03-29 01:10")
    assert business_time_between(wall("2026-03-29 00:00"), wall("2026-03-29 12:00"), odd) == minutes(60)


def test_berlin_an_interval_starting_in_the_repeated_hour_is_open_whenever_the_clock_shows_it():
    # On 2026-10-25 the wall clock shows 02:30-03:00 at 00:30-01:00 UTC (UTC+2),
    # then goes back to 02:00 and shows 02:30-04:00 again at 01:30-03:00 UTC (UTC+1).
    odd = calendar("sun 02:30-04:00")
    midnight = wall("2026-10-25 00:00")

    assert add_business_time(midnight, 20, odd) == utc("2026-10-25 00:50")
    assert add_business_time(midnight, 40, odd) == utc("2026-10-25 01:40")  # 30 minutes, a gap, 10 more
    assert business_time_between(midnight, wall("2026-10-25 12:00"), odd) == minutes(2 * 60)


@pytest.mark.parametrize(
    ("start", "due"),
    [
        ("2026-03-06 16:50", "2026-03-09 13:10"),  # Friday UTC-5 -> Monday 09:10 UTC-4
        ("2026-10-30 16:50", "2026-11-02 14:10"),  # Friday UTC-4 -> Monday 09:10 UTC-5
    ],
)
def test_new_york_friday_evening_to_monday_morning_across_a_change(start, due):
    week = calendar("mon-fri 09:00-17:00", zone="America/New_York")

    assert add_business_time(wall(start, "America/New_York"), 20, week) == utc(due)


def test_new_york_change_days_have_twenty_three_and_twenty_five_real_hours_of_round_the_clock_sundays():
    sundays = calendar("sun 00:00-24:00", zone="America/New_York")

    def sunday(day: str) -> timedelta:
        return business_time_between(
            wall(f"{day} 00:00", "America/New_York"), wall(f"{day} 23:59:59", "America/New_York"), sundays
        )

    assert sunday("2026-03-08") == timedelta(hours=22, minutes=59, seconds=59)
    assert sunday("2026-11-01") == timedelta(hours=24, minutes=59, seconds=59)


# Israel: the week runs Sunday to Thursday, Friday is short; 2026-03-27 (a Friday)
# 02:00 -> 03:00 (UTC+2 -> UTC+3), 2026-10-25 (a Sunday) 02:00 -> 01:00.
JERUSALEM = "Asia/Jerusalem"


@pytest.mark.parametrize(
    ("start", "due"),
    [
        ("2026-03-26 16:55", "2026-03-27 05:35"),  # Thursday UTC+2 -> Friday 08:35 UTC+3
        ("2026-03-27 12:55", "2026-03-29 05:35"),  # Friday -> Sunday, Saturday is closed
        ("2026-10-23 12:55", "2026-10-25 06:35"),  # Friday UTC+3 -> Sunday, the change day, 08:35 UTC+2
    ],
)
def test_jerusalem_sunday_to_thursday_week(start, due):
    israel = calendar("sun-thu 08:30-17:00; fri 08:30-13:00", zone=JERUSALEM)

    assert add_business_time(wall(start, JERUSALEM), 10, israel) == utc(due)


# Iran: UTC+3:30 without daylight saving since 2022; the week runs Saturday to
# Wednesday, Thursday is short, Friday is closed. Until 2022 the clocks changed at
# midnight: 2021-03-22 00:00 -> 01:00 and 2021-09-22 00:00 -> 2021-09-21 23:00.
TEHRAN = "Asia/Tehran"


@pytest.mark.parametrize(
    ("start", "due"),
    [
        ("2026-06-03 15:50", "2026-06-04 04:40"),  # Wednesday -> Thursday 08:10 (a half-hour offset)
        ("2026-06-04 11:50", "2026-06-06 04:40"),  # Thursday -> Saturday 08:10
    ],
)
def test_tehran_saturday_to_wednesday_week_on_a_half_hour_offset(start, due):
    iran = calendar("sat-wed 08:00-16:00; thu 08:00-12:00", zone=TEHRAN)

    assert add_business_time(wall(start, TEHRAN), 20, iran) == utc(due)


def test_tehran_clock_changes_at_midnight_skip_and_repeat_an_hour_of_a_night_shift():
    spring = calendar("mon 00:00-02:00", zone=TEHRAN)  # 2021-03-22 is a Monday: 00:00-01:00 never happens
    autumn = calendar("tue 22:00-24:00", zone=TEHRAN)  # 2021-09-21 is a Tuesday: 23:00-24:00 happens twice

    assert business_time_between(utc("2021-03-21 12:00"), utc("2021-03-22 12:00"), spring) == minutes(60)
    assert add_business_time(utc("2021-03-21 12:00"), 10, spring) == utc("2021-03-21 20:40")  # 01:10 UTC+4:30
    assert business_time_between(utc("2021-09-21 12:00"), utc("2021-09-22 12:00"), autumn) == minutes(3 * 60)


# -- business time between two instants -----------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "elapsed"),
    [
        ("2026-06-02 10:00", "2026-06-02 10:30", 30),
        ("2026-06-02 11:30", "2026-06-02 13:30", 60),  # lunch does not count
        ("2026-06-02 19:00", "2026-06-03 08:00", 0),  # nor the night
        ("2026-06-05 17:00", "2026-06-08 10:00", 120),  # nor the weekend
        ("2026-06-02 10:00", "2026-06-02 10:00", 0),
        ("2026-06-02 10:30", "2026-06-02 10:00", -30),  # reversed: negative
    ],
)
def test_business_time_between(start, end, elapsed):
    assert business_time_between(wall(start), wall(end), calendar()) == minutes(elapsed)


# -- pauses (pending on the customer) ---------------------------------------------------


def due(*pauses: tuple[str, str | None], target: float = 60, started: str = "2026-06-02 10:00") -> datetime | None:
    return due_at(
        started=wall(started),
        target_minutes=target,
        calendar=calendar(),
        pauses=[(wall(start), wall(end) if end else None) for start, end in pauses],
    )


def test_without_pauses_the_due_time_is_the_business_time_sum():
    assert due() == wall("2026-06-02 11:00")


def test_a_pause_inside_hours_moves_the_due_time_by_its_length():
    assert due(("2026-06-02 10:20", "2026-06-02 10:40")) == wall("2026-06-02 11:20")


def test_a_pause_outside_hours_changes_nothing():
    overnight = ("2026-06-02 19:00", "2026-06-03 08:00")
    assert due(overnight, started="2026-06-02 17:00", target=120) == wall("2026-06-03 10:00")
    assert due(("2026-06-02 12:10", "2026-06-02 12:50"), target=3 * 60) == due(target=3 * 60)  # during lunch


def test_a_pause_across_lunch_moves_the_due_time_by_its_business_time_only():
    # 11:50-13:10 holds 10 + 10 business minutes
    assert due(("2026-06-02 11:50", "2026-06-02 13:10"), target=3 * 60) == wall("2026-06-02 14:20")


def test_overlapping_and_repeated_pauses_count_once():
    assert due(("2026-06-02 10:10", "2026-06-02 10:30"), ("2026-06-02 10:20", "2026-06-02 10:50")) == wall(
        "2026-06-02 11:40"
    )
    assert due(("2026-06-02 10:10", "2026-06-02 10:30"), ("2026-06-02 10:10", "2026-06-02 10:30")) == wall(
        "2026-06-02 11:20"
    )
    assert due(("2026-06-02 10:10", "2026-06-02 10:50"), ("2026-06-02 10:20", "2026-06-02 10:30")) == wall(
        "2026-06-02 11:40"
    )


def test_pauses_are_taken_in_time_order_whatever_order_they_come_in():
    later_first = due(("2026-06-02 10:40", "2026-06-02 10:50"), ("2026-06-02 10:10", "2026-06-02 10:20"))

    assert later_first == wall("2026-06-02 11:20")


def test_a_pause_before_the_clock_started_counts_only_from_the_start():
    assert due(("2026-06-02 09:30", "2026-06-02 10:15")) == wall("2026-06-02 11:15")
    assert due(("2026-06-01 10:00", "2026-06-01 11:00")) == wall("2026-06-02 11:00")


def test_a_pause_after_the_due_time_changes_nothing_and_one_at_the_due_time_neither():
    assert due(("2026-06-02 11:30", "2026-06-02 12:00")) == wall("2026-06-02 11:00")
    assert due(("2026-06-02 11:00", "2026-06-02 12:00")) == wall("2026-06-02 11:00")


def test_a_pause_over_the_weekend_that_resumes_on_monday():
    assert due(("2026-06-05 17:50", "2026-06-08 10:00"), started="2026-06-05 17:30", target=30) == wall(
        "2026-06-08 10:10"
    )


def test_an_open_pause_stops_the_clock_so_there_is_no_due_time():
    assert due(("2026-06-02 10:20", None)) is None
    assert due(("2026-06-02 10:10", "2026-06-02 10:20"), ("2026-06-02 10:40", None)) is None


def test_an_open_pause_after_the_due_time_does_not_hide_the_breach():
    assert due(("2026-06-02 11:30", None)) == wall("2026-06-02 11:00")
    assert due(("2026-06-02 10:20", "2026-06-02 10:40"), ("2026-06-02 11:20", None)) == wall("2026-06-02 11:20")


def test_a_pause_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="pause ends"):
        due(("2026-06-02 10:20", "2026-06-02 10:10"))


# -- warnings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due_time", "warn"),
    [
        ("2026-06-02 10:30", "2026-06-02 10:28"),
        ("2026-06-03 09:01", "2026-06-02 17:59"),  # the previous evening, not 08:59 in an empty office
        ("2026-06-03 09:02", "2026-06-03 09:00"),  # at the opening rather than at yesterday's closing
        ("2026-06-02 13:01", "2026-06-02 11:59"),  # before lunch
        ("2026-06-08 09:00", "2026-06-05 17:58"),  # Monday's opening: Friday
    ],
)
def test_a_business_time_policy_warns_two_business_minutes_before(due_time, warn):
    assert warn_at(wall(due_time), calendar=calendar(), business=True) == wall(warn)


def test_a_real_time_policy_warns_two_real_minutes_before():
    assert warn_at(wall("2026-06-03 09:01"), calendar=calendar(), business=False) == wall("2026-06-03 08:59")
    assert warn_at(utc("2026-06-06 03:00"), calendar=ALWAYS, business=True) == utc("2026-06-06 02:58")


def test_the_warning_lead_is_configurable():
    assert minutes(2) == DEFAULT_WARN_BEFORE
    assert warn_at(wall("2026-06-02 13:05"), calendar=calendar(), business=True, warn_before=minutes(15)) == wall(
        "2026-06-02 11:50"
    )
    assert warn_at(wall("2026-06-02 13:05"), calendar=calendar(), business=False, warn_before=minutes(15)) == wall(
        "2026-06-02 12:50"
    )


# -- the inbox clock --------------------------------------------------------------------


def test_remaining_is_real_time_left_and_negative_once_overdue():
    due_time = utc("2026-06-02 08:30")

    assert remaining(wall("2026-06-02 10:20"), due_time) == minutes(10)
    assert remaining(wall("2026-06-02 10:45"), due_time) == minutes(-15)
    assert remaining(wall("2026-06-02 10:20", "America/New_York"), due_time) == minutes(-(5 * 60 + 50))


# -- inputs -----------------------------------------------------------------------------

NAIVE = datetime(2026, 6, 2, 10, 0)
AWARE = wall("2026-06-02 10:00")


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_business_time(NAIVE, 10, ALWAYS),
        lambda: subtract_business_time(NAIVE, 10, ALWAYS),
        lambda: business_time_between(NAIVE, AWARE, ALWAYS),
        lambda: business_time_between(AWARE, NAIVE, ALWAYS),
        lambda: due_at(started=NAIVE, target_minutes=10, calendar=ALWAYS, pauses=[]),
        lambda: due_at(started=AWARE, target_minutes=10, calendar=ALWAYS, pauses=[(NAIVE, AWARE)]),
        lambda: due_at(started=AWARE, target_minutes=10, calendar=ALWAYS, pauses=[(AWARE, NAIVE)]),
        lambda: due_at(started=AWARE, target_minutes=10, calendar=ALWAYS, pauses=[(NAIVE, None)]),
        lambda: warn_at(NAIVE, calendar=ALWAYS, business=False),
        lambda: warn_at(NAIVE, calendar=ALWAYS, business=True),
        lambda: remaining(NAIVE, AWARE),
        lambda: remaining(AWARE, NAIVE),
    ],
)
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="must be an aware datetime"):
        call()


@pytest.mark.parametrize("amount", [-1, timedelta(minutes=-1), float("nan"), float("inf")])
def test_negative_or_not_finite_minutes_are_refused(amount):
    with pytest.raises(ValueError):
        add_business_time(AWARE, amount, calendar())


# -- the calendar text admins type ------------------------------------------------------


def test_the_text_format_reads_split_shifts_days_and_holidays():
    parsed = calendar("Mon-Fri 09:00-12:00,13:00-18:00; Sat 10:00-14:00", holidays="2026-12-25, 2027-01-01")

    assert parsed.zone == ZoneInfo(BERLIN)
    assert parsed.week[0] == parsed.week[4] == ((9 * 60, 12 * 60), (13 * 60, 18 * 60))
    assert parsed.week[5] == ((10 * 60, 14 * 60),)
    assert parsed.week[6] == ()
    assert parsed.holidays == {date(2026, 12, 25), date(2027, 1, 1)}


def test_the_desk_business_hours_format_is_a_calendar_too():
    assert calendar("mon-fri 09:00-12:00; mon-fri 13:00-18:00") == calendar(OFFICE)


@pytest.mark.parametrize(
    "same",
    [
        "Mon-Fri 09:00-12:00,12:00-18:00",  # touching intervals merge
        "Mon-Fri 09:00-13:00, 11:00-18:00",  # overlapping ones too
        "  mon-fri\t09:00-18:00 ;; ",
        "Mon-Wed 09:00-18:00; Thu-Fri 09:00-18:00",
    ],
)
def test_equal_hours_written_differently_make_equal_calendars(same):
    assert calendar(same) == calendar("mon-fri 09:00-18:00")


def test_holidays_may_be_separated_by_commas_semicolons_spaces_or_lines():
    assert calendar(holidays="2026-12-25;2026-12-26\n 2027-01-01,, ").holidays == {
        date(2026, 12, 25),
        date(2026, 12, 26),
        date(2027, 1, 1),
    }


@pytest.mark.parametrize(
    ("hours", "zone", "holidays", "message"),
    [
        ("", BERLIN, "", "business hours are empty"),
        ("Mon-Fri", BERLIN, "", "in 'Mon-Fri': cannot read 'mon-fri'"),
        ("Mon-Fry 09:00-18:00", BERLIN, "", "in 'Mon-Fry 09:00-18:00': cannot read"),
        ("Mon-Fri 9:00-18:00", BERLIN, "", "in 'Mon-Fri 9:00-18:00'"),
        ("Mon-Fri 09:00-12:00,13:00-25:00", BERLIN, "", "'25:00' is not a time of day"),
        ("Mon-Fri 09:00-12:00,", BERLIN, "", "in 'Mon-Fri 09:00-12:00,'"),
        ("Fri 22:00-06:00", BERLIN, "", "'fri 22:00-06:00' is an empty range"),  # overnight: write two parts
        ("Mon-Fri 09:00-18:00", "Europe/Berlim", "", "'Europe/Berlim' is not an IANA time zone"),
        ("Mon-Fri 09:00-18:00", "", "", "'' is not an IANA time zone"),
        ("Mon-Fri 09:00-18:00", "../../etc/passwd", "", "is not an IANA time zone"),
        ("Mon-Fri 09:00-18:00", BERLIN, "2026-12-25, 25.12.2026", "cannot read holiday '25.12.2026'"),
        ("Mon-Fri 09:00-18:00", BERLIN, "2026-02-30", "cannot read holiday '2026-02-30': day is out of range"),
        ("Mon-Fri 09:00-18:00", BERLIN, "20261225", "cannot read holiday '20261225': expected YYYY-MM-DD"),
    ],
)
def test_bad_calendar_text_is_refused_naming_the_bad_part(hours, zone, holidays, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        calendar_parse(time_zone=zone, hours=hours, holidays=holidays)


@pytest.mark.parametrize(
    "week",
    [
        ((),) * 6,
        ((),) * 6 + (((600, 540),),),
        ((),) * 6 + (((0, 1441),),),
    ],
)
def test_a_calendar_built_in_code_is_checked_too(week):
    with pytest.raises(ValueError):
        Calendar(zone=ZoneInfo(BERLIN), week=week)


# -- properties over random instants -------------------------------------------------------
# hypothesis is not installed; a seeded generator gives the same cases on every run.

CALENDARS = {
    "office in Berlin": calendar(OFFICE, holidays="2026-04-03, 2026-12-25"),
    "nights in Berlin": calendar("mon-sun 00:00-03:30,22:00-24:00; sun 02:15-02:45"),
    "week in New York": calendar("mon-fri 08:00-20:00; sat 10:00-14:00", zone="America/New_York"),
    "Israel": calendar("sun-thu 08:30-17:00; fri 00:30-02:30,08:30-13:00", zone=JERUSALEM),
    "Iran": calendar("sat-wed 08:00-16:00; thu 08:00-12:00", zone=TEHRAN),
    "always": ALWAYS,
}


def random_instant(rng: random.Random) -> datetime:
    # Mostly near the 2026 clock changes, where mistakes hide.
    centre = rng.choice(
        [
            utc("2026-03-08 07:00"),
            utc("2026-03-27 00:00"),
            utc("2026-03-29 01:00"),
            utc("2026-10-25 01:00"),
            utc("2026-11-01 06:00"),
            utc("2026-06-01 00:00"),
        ]
    )
    return centre + timedelta(microseconds=rng.randrange(-5 * 86_400_000_000, 5 * 86_400_000_000))


@pytest.mark.parametrize("name", CALENDARS)
def test_adding_then_measuring_gives_back_the_amount(name):
    rng = random.Random(f"add {name}")
    for _ in range(300):
        start = random_instant(rng)
        amount = timedelta(microseconds=rng.randrange(0, 3 * 86_400_000_000))

        due_time = add_business_time(start, amount, CALENDARS[name])
        back = subtract_business_time(due_time, amount, CALENDARS[name])

        assert business_time_between(start, due_time, CALENDARS[name]) == amount, (start, amount)
        # the earliest such instant: a microsecond earlier is not enough
        assert (
            amount == timedelta(0)
            or business_time_between(start, due_time - timedelta(microseconds=1), CALENDARS[name]) < amount
        )
        assert start <= back <= due_time and business_time_between(back, due_time, CALENDARS[name]) == amount


@pytest.mark.parametrize("name", CALENDARS)
def test_business_time_adds_up_over_consecutive_stretches(name):
    rng = random.Random(f"sum {name}")
    for _ in range(100):
        a, b, c = sorted(random_instant(rng) for _ in range(3))

        whole = business_time_between(a, c, CALENDARS[name])

        assert whole == business_time_between(a, b, CALENDARS[name]) + business_time_between(b, c, CALENDARS[name])
        assert timedelta(0) <= whole <= c - a


def is_open_on_the_wall_clock(calendar: Calendar, moment: datetime) -> bool:
    """The definition, checked one instant at a time: the wall-clock time of the
    moment is in an open interval of its local date, which is not a holiday."""
    local = moment.astimezone(calendar.zone)
    minute = local.hour * 60 + local.minute
    return local.date() not in calendar.holidays and any(
        start <= minute < end for start, end in calendar.week[local.weekday()]
    )


@pytest.mark.parametrize("name", CALENDARS)
@pytest.mark.parametrize("around", ["2026-03-08", "2026-03-27", "2026-03-29", "2026-10-25", "2026-11-01"])
def test_business_time_is_the_count_of_open_minutes_on_the_wall_clock(name, around):
    # Given every minute of four days around a clock change, one by one
    first = utc(f"{around} 00:00") - timedelta(days=2)
    open_minutes = sum(is_open_on_the_wall_clock(CALENDARS[name], first + n * MINUTE) for n in range(4 * 24 * 60))

    # Then the arithmetic agrees with counting them
    assert business_time_between(first, first + timedelta(days=4), CALENDARS[name]) == open_minutes * MINUTE
