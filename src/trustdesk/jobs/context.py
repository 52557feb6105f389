"""What a job function receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
    # True once the runner was asked to stop (server shutdown): a long job may end early and
    # leave the rest to its next run instead of being cut off.
    stopping: Callable[[], bool] = field(default=lambda: False)
