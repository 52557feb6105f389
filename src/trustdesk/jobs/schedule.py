"""Pure timing rules: due times every worker agrees on, and retry back-off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["backoff", "next_due"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def next_due(every_s: int, now: datetime) -> datetime:
    """The first multiple of `every_s` seconds since the Unix epoch strictly after `now`.

    Aligned, not "now + interval": two workers started at different moments compute the same due
    times, so "one run per due time" names the same instants everywhere.
    """
    if every_s <= 0:
        raise ValueError("every_s must be positive")
    elapsed = int((now - _EPOCH).total_seconds())
    return _EPOCH + timedelta(seconds=(elapsed // every_s + 1) * every_s)


def backoff(attempt: int, base_s: int, cap_s: int = 3600) -> timedelta:
    """Wait before attempt `attempt + 1`: `base_s`, doubling with each failed attempt, capped."""
    return timedelta(seconds=min(cap_s, base_s * 2 ** max(0, attempt - 1)))
