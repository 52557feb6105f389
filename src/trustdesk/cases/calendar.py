"""Business-hours calendars: when is "H business hours after this moment"?

A calendar is a time zone, daily opening hours (local wall-clock), working weekdays and a set of
public holidays from the `holidays` package (substitute and observed days included, as the package
lists them). Time is measured on the real (UTC) clock inside each day's opening window, so a DST
change inside the window counts the hours that really passed; windows are built from local dates
and local opening times, so they move with the clocks.

Semantics (kept by the property tests):
- `add_business_time(start, 0)` is `start` when it lies inside a window (its close included),
  else the next opening;
- for a positive duration the result lies inside a window, its close included;
- adding is monotonic and additive: `add(add(s, a), b) == add(s, a + b)`.
Pure: no database, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from trustdesk.cases.errors import InvalidCalendar

__all__ = [
    "MAX_DURATION",
    "BusinessCalendar",
    "add_business_time",
    "business_time_between",
    "parse_hours",
    "parse_opening",
]

WEEKDAYS = frozenset(range(5))  # Monday..Friday
MAX_DURATION = timedelta(days=3660)  # ten years of business time: beyond that is a typo
_SEARCH_DAYS = 3660  # days searched for the next opening before the calendar is declared closed
_OPENING = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_HOLIDAY_CODE = re.compile(r"^([A-Za-z]{2,3})(?:-([A-Za-z0-9]{1,5}))?$")


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidCalendar(f"unknown time zone {name!r} (use an IANA name)") from exc


@lru_cache(maxsize=64)
def _holiday_table(code: str) -> holidays.HolidayBase | None:
    if code.upper() in {"", "NONE"}:
        return None
    match = _HOLIDAY_CODE.match(code)
    if match is None:
        raise InvalidCalendar(f"holiday code {code!r}: expected CC or CC-SUBDIV (e.g. GB, US-CA)")
    country, subdiv = match.group(1).upper(), match.group(2)
    try:
        table: holidays.HolidayBase = holidays.country_holidays(
            country, subdiv=subdiv.upper() if subdiv else None
        )
    except NotImplementedError as exc:
        raise InvalidCalendar(f"unknown holiday code {code!r}") from exc
    return table


def parse_opening(text: str) -> tuple[time, time]:
    """`"09:00-17:00"` as (open, close); open before close, both on one day."""
    match = _OPENING.match(text.strip())
    if match is None:
        raise InvalidCalendar(f"opening hours {text!r}: expected HH:MM-HH:MM, e.g. 09:00-17:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2 != 0):
        raise InvalidCalendar(f"opening hours {text!r}: not a time of day")
    opens = time(h1, m1)
    closes = time.max if h2 == 24 else time(h2, m2)
    if closes <= opens:
        raise InvalidCalendar(f"opening hours {text!r}: the opening must come before the close")
    return opens, closes


def parse_hours(text: str | float) -> timedelta:
    """A number of business hours (decimal allowed) as a duration; negative or absurd is refused."""
    try:
        hours = float(text)
    except (TypeError, ValueError) as exc:
        raise InvalidCalendar(f"hours {text!r}: expected a number") from exc
    if not hours >= 0:  # also refuses NaN
        raise InvalidCalendar(f"hours {text!r}: must be zero or more")
    duration = timedelta(seconds=round(hours * 3600, 6))
    if duration > MAX_DURATION:
        raise InvalidCalendar(f"hours {text!r}: more than {MAX_DURATION.days} days")
    return duration


@dataclass(frozen=True)
class BusinessCalendar:
    """Where and when the clock runs."""

    timezone: str = "UTC"
    opens: time = time(9)
    closes: time = time(17)
    holidays: str = "NONE"  # CC or CC-SUBDIV for the `holidays` package, NONE for none
    weekdays: frozenset[int] = field(default=WEEKDAYS)

    def __post_init__(self) -> None:
        _zone(self.timezone)
        _holiday_table(self.holidays)
        if self.closes <= self.opens:
            raise InvalidCalendar("opening hours: the opening must come before the close")
        if not self.weekdays or not self.weekdays <= WEEKDAYS | {5, 6}:
            raise InvalidCalendar("working days: expected some of 0 (Monday) .. 6 (Sunday)")

    @classmethod
    def build(cls, timezone: str, holidays: str, opening: str = "09:00-17:00") -> BusinessCalendar:
        opens, closes = parse_opening(opening)
        return cls(timezone=timezone, opens=opens, closes=closes, holidays=holidays)

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    def is_business_day(self, day: date) -> bool:
        if day.weekday() not in self.weekdays:
            return False
        table = _holiday_table(self.holidays)
        return table is None or day not in table

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's opening window in UTC, or None when closed (weekend, holiday)."""
        if not self.is_business_day(day):
            return None
        zone = self.zone
        start = datetime.combine(day, self.opens, zone).astimezone(UTC)
        end = datetime.combine(day, self.closes, zone).astimezone(UTC)
        return (start, end) if end > start else None

    def windows_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Opening windows that end after `moment`, in order (the first may contain it)."""
        day = moment.astimezone(self.zone).date() - timedelta(days=1)
        closed_run = 0
        while True:
            window = self.window(day)
            day += timedelta(days=1)
            if window is None:
                closed_run += 1
                if closed_run > _SEARCH_DAYS:
                    raise InvalidCalendar("the calendar never opens (every day is closed)")
                continue
            closed_run = 0
            if window[1] > moment or (window[1] == moment and window[0] < moment):
                yield window

    def describe(self) -> dict[str, Any]:
        closes = "24:00" if self.closes == time.max else f"{self.closes:%H:%M}"
        return {
            "timezone": self.timezone,
            "open": f"{self.opens:%H:%M}-{closes}",
            "holidays": self.holidays,
        }


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidCalendar("a time without an offset is ambiguous: give one (e.g. +00:00 or Z)")
    return moment.astimezone(UTC)


def add_business_time(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The moment `duration` of business time after `start`, in the calendar's time zone."""
    if duration < timedelta(0):
        raise InvalidCalendar("a duration of business time cannot be negative")
    if duration > MAX_DURATION:
        raise InvalidCalendar(f"a duration of more than {MAX_DURATION.days} days")
    cursor = _require_aware(start)
    remaining = duration
    for opens, closes in calendar.windows_from(cursor):
        cursor = max(cursor, opens)
        available = closes - cursor
        if remaining <= available:
            return (cursor + remaining).astimezone(calendar.zone)
        remaining -= available
    raise AssertionError("windows_from is endless")  # pragma: no cover


def business_time_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Business time elapsed from `start` to `end` (zero when `end` is not after `start`)."""
    begin, finish = _require_aware(start), _require_aware(end)
    total = timedelta(0)
    if finish <= begin:
        return total
    for opens, closes in calendar.windows_from(begin):
        if opens >= finish:
            break
        total += min(closes, finish) - max(opens, begin)
    return total
