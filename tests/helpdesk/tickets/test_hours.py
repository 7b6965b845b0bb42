"""Business hours: which specs the desk reads, which it refuses and why, and
when the desk counts as open. Times are the desk's local wall clock."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest

from helpdesk.tickets.hours import DAYS, hours_parse
from tests.helpdesk.test_settings import start

MONDAY = date(2025, 3, 3)


def at(day: str, clock: str) -> datetime:
    """``at("sat", "23:59:59")``: that moment in the week of MONDAY."""
    hour, minute, *second = (int(part) for part in clock.split(":"))
    moment = datetime.combine(MONDAY + timedelta(days=DAYS.index(day)), datetime.min.time())
    return moment.replace(hour=hour, minute=minute, second=second[0] if second else 0)


def open_days(spec: str, clock: str) -> list[str]:
    hours = hours_parse(spec)
    return [day for day in DAYS if hours.is_open(at(day, clock))]


# -- reading a spec ------------------------------------------------------------------


def test_a_day_range_covers_each_day_from_first_to_last():
    assert open_days("mon-fri 09:00-18:00", "12:00") == ["mon", "tue", "wed", "thu", "fri"]


def test_a_single_day_covers_that_day_only():
    assert open_days("wed 09:00-18:00", "12:00") == ["wed"]


def test_several_parts_add_up_and_may_split_one_day():
    spec = "mon-fri 09:00-12:00; mon-fri 13:00-18:00; sat 10:00-14:00"

    assert open_days(spec, "11:00") == ["mon", "tue", "wed", "thu", "fri", "sat"]
    assert open_days(spec, "12:30") == ["sat"]  # lunch on weekdays
    assert open_days(spec, "15:00") == ["mon", "tue", "wed", "thu", "fri"]


def test_a_range_may_end_at_24_00_and_the_whole_week_is_the_default():
    late = hours_parse("fri-sat 20:00-24:00")
    always = hours_parse("mon-sun 00:00-24:00")

    assert late.is_open(at("sat", "23:59:59"))
    assert not late.is_open(at("sun", "00:00"))
    assert all(always.is_open(at(day, clock)) for day in DAYS for clock in ("00:00", "12:00", "23:59:59"))


@pytest.mark.parametrize(
    "messy",
    [
        "MON-FRI 09:00-18:00; SAT 10:00-14:00",
        "  Mon-Fri   09:00-18:00 ;sat\t10:00-14:00 ; ",
        ";mon-fri 09:00-18:00;;sat 10:00-14:00;",
    ],
)
def test_case_spaces_and_stray_separators_do_not_matter(messy):
    assert hours_parse(messy) == hours_parse("mon-fri 09:00-18:00; sat 10:00-14:00")


# -- refusing a spec ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "business hours are empty"),
        (" ; ;", "business hours are empty"),
        ("mon-fri", "cannot read 'mon-fri'"),
        ("09:00-18:00", "cannot read '09:00-18:00'"),
        ("mon-fri 9:00-18:00", "cannot read 'mon-fri 9:00-18:00'"),
        ("mon-fri 09:00 - 18:00", "cannot read 'mon-fri 09:00 - 18:00'"),
        ("monday 09:00-18:00", "cannot read 'monday 09:00-18:00'"),
        ("mon-fry 09:00-18:00", "cannot read 'mon-fry 09:00-18:00'"),
        ("abc 09:00-18:00", "cannot read 'abc 09:00-18:00'"),
        ("mon-fri 09:00-18:00 and sat", "cannot read 'mon-fri 09:00-18:00 and sat'"),
        ("mon-fri 09:00-18:00; sun", "cannot read 'sun'"),
        ("mon 25:00-26:00", "'25:00' is not a time of day"),
        ("mon 09:60-10:00", "'09:60' is not a time of day"),
        ("mon 09:00-24:30", "'24:30' is not a time of day"),
        ("mon 18:00-09:00", "'mon 18:00-09:00' is an empty range"),
        ("mon 09:00-09:00", "'mon 09:00-09:00' is an empty range"),
        ("fri-mon 09:00-18:00", "'fri-mon 09:00-18:00' is an empty range"),
    ],
)
def test_a_bad_spec_is_refused_naming_what_is_wrong(spec, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        hours_parse(spec)


def test_a_bad_time_names_the_whole_spec_it_came_from():
    with pytest.raises(ValueError, match=re.escape("'mon 09:00-18:00; sat 10:00-25:00'")):
        hours_parse("mon 09:00-18:00; sat 10:00-25:00")


# -- is_open ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (at("wed", "08:59:59"), False),
        (at("wed", "09:00"), True),  # the start is inside
        (at("wed", "17:59:59"), True),
        (at("wed", "18:00"), False),  # the end is not
        (at("wed", "00:00"), False),
        (at("sat", "12:00"), False),
    ],
)
def test_the_start_is_open_and_the_end_is_closed(moment, is_open):
    assert hours_parse("mon-fri 09:00-18:00").is_open(moment) is is_open


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (at("sat", "23:59:59"), False),
        (at("sun", "00:00"), True),  # midnight starts Sunday
        (at("sun", "05:59:59"), True),
        (at("sun", "06:00"), False),
        (at("mon", "00:00"), False),
    ],
)
def test_a_sunday_from_midnight(moment, is_open):
    assert hours_parse("sun 00:00-06:00").is_open(moment) is is_open


# -- start-up -------------------------------------------------------------------------


def test_start_up_refuses_bad_business_hours_naming_the_variable_and_the_part():
    result = start(DJANGO_DEBUG="1", BUSINESS_HOURS="mon-fri 9-17")

    assert result.returncode != 0
    assert "BUSINESS_HOURS" in result.stderr
    assert "'mon-fri 9-17'" in result.stderr


def test_start_up_accepts_good_business_hours():
    result = start(DJANGO_DEBUG="1", BUSINESS_HOURS="Mon-Fri 09:00-18:00; sat 10:00-14:00")

    assert result.returncode == 0, result.stderr
