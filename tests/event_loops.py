"""Run a coroutine on an event loop of its own, in a thread of its own.

Tests use this instead of `asyncio.run` in the test's thread: once a browser test in the same
worker has started Playwright's synchronous API, that thread keeps a loop marked running, and
`asyncio.run` there refuses to start.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["run_alone"]


def run_alone(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """`asyncio.run(main())` in a thread of its own; its exception is raised here."""
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["value"] = asyncio.run(main())
        except BaseException as exc:  # handed to the test's thread
            out["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    if "error" in out:
        raise out["error"]
    return out["value"]
