"""The server hook: `trustdesk serve` runs due jobs in a thread of its own (never on the event
loop), so the embedded default needs no extra service. Off with `TRUSTDESK_JOBS_IN_SERVER=false`
(then run `trustdesk worker` beside it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from trustdesk.config import Settings
from trustdesk.jobs.runner import Runner
from trustdesk.platform import Platform

__all__ = ["attach_runner"]


def attach_runner(
    _app: Any, platform: Platform, settings: Settings
) -> Callable[[], AbstractContextManager[None]]:
    @contextmanager
    def running() -> Iterator[None]:
        if not settings.jobs_in_server:
            yield
            return
        stop = Runner(platform).start(settings.jobs_poll_s)
        try:
            yield
        finally:
            stop()

    return running
