"""The demo pauses the retention job: its sample feedback is from 2015, far past the data map's
three years, and a server left running overnight would otherwise delete the whole demo."""

from __future__ import annotations

from collections.abc import Callable

from trustdesk.jobs import public as jobs
from trustdesk.platform import Platform

__all__ = ["pause_retention_for_demo"]

JOB = "privacy.retention"


def pause_retention_for_demo(platform: Platform, echo: Callable[[str], None]) -> None:
    with platform.db.transaction() as session:
        jobs.pause(session, JOB, actor="demo")
    echo(
        f"retention: job {JOB} paused (the sample data is years old and would be deleted); "
        f"`trustdesk retention plan` shows what it would do, `trustdesk jobs resume {JOB}` "
        "enforces it"
    )
