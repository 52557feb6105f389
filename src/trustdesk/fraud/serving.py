"""The real-time scorer's life in a server: attached when the app is built, its history read
once before the first request is served, caught up in the background, stopped at shutdown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from fastapi import FastAPI

from trustdesk.config import Settings
from trustdesk.fraud.scoring.holder import EngineHolder
from trustdesk.platform import Platform

__all__ = ["attach_scorer"]


def attach_scorer(
    app: FastAPI, platform: Platform, settings: Settings
) -> Callable[[], AbstractContextManager[None]]:
    """Give the app its scorer (`app.state.fraud`); each context the returned factory makes
    runs it while the server is up (an app may be started again after a stop, as tests do)."""
    holder = EngineHolder(platform.db, settings, refresh_s=settings.fraud_refresh_s)
    app.state.fraud = holder

    @contextmanager
    def running() -> Iterator[None]:
        holder.start(background=True)
        try:
            yield
        finally:
            holder.stop()

    return running
