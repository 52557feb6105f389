"""A small transaction simulator in the spirit of the handbook's, for fast fraud tests, and the
daytime clock tests that expect a particular decision pay by."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from trustdesk.fraud.learning.simulator import simulate

__all__ = ["daytime_ago", "simulate"]


def daytime_ago(minutes: int) -> datetime:
    """`minutes` before now, or, between midnight and 08:00 UTC, before 23:59 of the day before.

    The shipped model reads the hour of a payment (night-time payments are riskier), so a test
    that expects 400.00 on a new card to be stepped up, not sent to review, must not pay at night
    just because the suite runs then. All of one test's payments stay on one day.
    """
    now = datetime.now(UTC)
    if now.hour < 8:
        now = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(minutes=1)
    return now - timedelta(minutes=minutes)
