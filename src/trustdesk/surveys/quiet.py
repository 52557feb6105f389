"""Quiet hours: no invitation or reminder is emailed inside them (UTC, e.g. "21:00-08:00",
which crosses midnight). Pure."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from trustdesk.surveys.errors import InvalidSurvey

__all__ = ["next_allowed", "parse_quiet_hours"]


def parse_quiet_hours(text: str) -> tuple[time, time]:
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise InvalidSurvey(f"quiet hours {text[:20]!r}: expected HH:MM-HH:MM (UTC)") from None
    return start, end


def next_allowed(now: datetime, quiet: str) -> datetime:
    """`now` when it is outside the quiet hours, else the moment they end."""
    start, end = parse_quiet_hours(quiet)
    if start == end:
        return now
    t = now.timetz().replace(tzinfo=None)
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return now
    ends = now.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    return ends if ends > now else ends + timedelta(days=1)
