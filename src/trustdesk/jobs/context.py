"""What a job function receives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from trustdesk.platform import Platform

__all__ = ["JobContext"]


@dataclass(frozen=True)
class JobContext:
    """Given to a job function: the platform (it opens its own transactions), the run's clock and
    which attempt this is."""

    platform: Platform
    job: str
    now: datetime
    attempt: int
    reason: str  # schedule, trigger, retry or manual
