"""Business-hours arithmetic: known holidays and DST days, and the invariants SLA clocks rely on."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trustdesk.cases.calendar import (
    BusinessCalendar,
    add_business_time,
    business_time_between,
    parse_hours,
    parse_opening,
)
from trustdesk.cases.errors import InvalidCalendar

UK = BusinessCalendar.build("Europe/London", "GB")
US_CA = BusinessCalendar.build("America/Los_Angeles", "US-CA")
DE_BY = BusinessCalendar.build("Europe/Berlin", "DE-BY")
CALENDARS = [UK, US_CA, DE_BY, BusinessCalendar.build("Asia/Tokyo", "JP", "10:00-18:30")]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_uk_christmas_and_boxing_day_substitute_are_skipped() -> None:
    # 2026-12-25 is a Friday, Boxing Day a Saturday: its substitute is Monday the 28th.
    due = add_business_time(UK, at("2026-12-24T16:00:00+00:00"), timedelta(hours=2))
    assert due == at("2026-12-29T10:00:00+00:00")


def test_uk_2027_both_christmas_substitutes_are_skipped() -> None:
    # Christmas 2027 falls on Saturday, Boxing Day on Sunday: Monday 27 and Tuesday 28 are off.
    due = add_business_time(UK, at("2027-12-24T16:30:00+00:00"), timedelta(hours=1))
    assert due == at("2027-12-29T09:30:00+00:00")


def test_us_ca_observed_independence_day_is_skipped() -> None:
    due = add_business_time(US_CA, at("2026-07-02T16:00:00-07:00"), timedelta(hours=2))
    assert due == at("2026-07-06T10:00:00-07:00")
    assert due.utcoffset() == timedelta(hours=-7)


def test_de_by_epiphany_is_a_bavarian_holiday() -> None:
    due = add_business_time(DE_BY, at("2026-01-05T16:00:00+01:00"), timedelta(hours=2))
    assert due == at("2026-01-07T10:00:00+01:00")
    # Not in Berlin, where Epiphany is a working day.
    berlin = BusinessCalendar.build("Europe/Berlin", "DE-BE")
    assert add_business_time(berlin, at("2026-01-05T16:00:00+01:00"), timedelta(hours=2)) == at(
        "2026-01-06T10:00:00+01:00"
    )


def test_clocks_going_forward_keep_local_opening_hours() -> None:
    # London moves to BST on Sunday 2026-03-29: Friday 16:00 GMT + 2 h is Monday 10:00 BST.
    due = add_business_time(UK, at("2026-03-27T16:00:00+00:00"), timedelta(hours=2))
    assert due == at("2026-03-30T10:00:00+01:00")
    assert due.isoformat() == "2026-03-30T10:00:00+01:00"


def test_a_window_spanning_a_dst_change_counts_real_hours() -> None:
    # Open all day: the night the clocks go back (2026-10-25 is a Sunday) has 25 hours.
    always = BusinessCalendar(
        timezone="Europe/London", opens=time(0), closes=time.max, holidays="NONE",
        weekdays=frozenset(range(7)),
    )  # fmt: skip
    start = at("2026-10-25T00:00:00+01:00")
    assert business_time_between(always, start, at("2026-10-25T12:00:00+00:00")) == timedelta(
        hours=13
    )


def test_start_outside_hours_begins_at_the_next_opening() -> None:
    assert add_business_time(UK, at("2026-06-06T11:00:00+01:00"), timedelta(hours=1)) == at(
        "2026-06-08T10:00:00+01:00"
    )
    assert add_business_time(UK, at("2026-06-08T07:00:00+01:00"), timedelta(0)) == at(
        "2026-06-08T09:00:00+01:00"
    )


def test_landing_exactly_on_close_stays_at_close() -> None:
    assert add_business_time(UK, at("2026-06-08T09:00:00+01:00"), timedelta(hours=8)) == at(
        "2026-06-08T17:00:00+01:00"
    )


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"timezone": "Mars/Olympus", "holidays": "GB"}, "time zone"),
        ({"timezone": "UTC", "holidays": "XX"}, "holiday code"),
        ({"timezone": "UTC", "holidays": "US-ZZ"}, "holiday code"),
        ({"timezone": "UTC", "holidays": "G B"}, "holiday code"),
        ({"timezone": "UTC", "holidays": "GB", "opening": "17:00-09:00"}, "before the close"),
        ({"timezone": "UTC", "holidays": "GB", "opening": "9-5"}, "HH:MM-HH:MM"),
    ],
)
def test_bad_calendars_are_refused_with_a_reason(kwargs: dict[str, str], reason: str) -> None:
    with pytest.raises(InvalidCalendar, match=reason):
        BusinessCalendar.build(**kwargs)


def test_bad_durations_and_naive_times_are_refused() -> None:
    for text in ("-1", "abc", "nan", "1e9"):
        with pytest.raises(InvalidCalendar):
            parse_hours(text)
    with pytest.raises(InvalidCalendar, match="offset"):
        add_business_time(UK, datetime(2026, 1, 5, 10), timedelta(hours=1))
    assert parse_opening("08:30-24:00") == (time(8, 30), time.max)


starts = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
durations = st.integers(min_value=0, max_value=400 * 60).map(lambda m: timedelta(minutes=m))
calendars = st.sampled_from(CALENDARS)


def _inside_hours(calendar: BusinessCalendar, moment: datetime) -> bool:
    window = calendar.window(moment.astimezone(calendar.zone).date())
    return window is not None and window[0] <= moment <= window[1]


@settings(deadline=None, max_examples=150)
@given(calendar=calendars, start=starts, hours=durations)
def test_due_is_never_before_start_and_lies_in_opening_hours(
    calendar: BusinessCalendar, start: datetime, hours: timedelta
) -> None:
    due = add_business_time(calendar, start, hours)
    assert due >= start
    if hours > timedelta(0):
        assert _inside_hours(calendar, due)
        assert business_time_between(calendar, start, due) == hours


@settings(deadline=None, max_examples=150)
@given(calendar=calendars, start=starts, a=durations, b=durations)
def test_adding_is_monotonic_and_additive(
    calendar: BusinessCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    first = add_business_time(calendar, start, a)
    assert add_business_time(calendar, first, b) == add_business_time(calendar, start, a + b)
    small, large = sorted((a, b))
    assert add_business_time(calendar, start, small) <= add_business_time(calendar, start, large)
