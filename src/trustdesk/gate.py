"""Writers' turns: how many transactions of one process may write at once, and where others wait.

SQLite has one write lock per file: with a capacity of 1, writers queue here, in order, and
`BEGIN IMMEDIATE` never meets another writer of this process (the busy timeout is left for other
processes: the command line, a second server). PostgreSQL takes a few writers at once; they still
meet on row locks (the audit chain's head), so the gate bounds how many worker threads can be
blocked on those locks at one time, below the server's 40.

A request takes its turn on the event loop (`turn()`), where waiting holds neither a worker
thread nor the loop; the worker threads it then uses see the turn as held (a context variable
travels with them) and do not wait again. That is what makes holding a turn across the request's
awaits safe: the holder needs only the loop and a worker thread to finish and commit, and no
waiter ever holds either. Code outside requests (commands, background jobs) waits in its own
thread (`turn_in_thread()`).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar

import anyio

__all__ = ["BlockingCallOnEventLoop", "WriterGate", "mark_serving", "refuse_on_event_loop"]

_HELD: ContextVar[frozenset[int]] = ContextVar("trustdesk_writer_turns", default=frozenset())
# Event loops that serve requests (marked by the app on every request). Only those are guarded:
# another library's loop on the thread (Playwright's synchronous API keeps one) serves nobody.
_SERVING: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def mark_serving() -> None:
    """Mark the running event loop as one that serves requests (see `refuse_on_event_loop`)."""
    _SERVING.add(asyncio.get_running_loop())


class BlockingCallOnEventLoop(RuntimeError):
    """A blocking database call was about to run on the event loop's thread."""


def refuse_on_event_loop(what: str) -> None:
    """Raise if the calling thread is running an event loop that serves requests: `what` would
    block every one of them."""
    loop = asyncio._get_running_loop()
    if loop is not None and loop in _SERVING:
        raise BlockingCallOnEventLoop(
            f"{what} on the event loop blocks every request: make the route a plain `def` "
            "(it runs in the thread pool) or hand the work to a thread"
        )


class WriterGate:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._slots = threading.BoundedSemaphore(capacity)
        # One queue per event loop (a test process runs several): fair, first come first served.
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    def held(self) -> bool:
        """Whether the calling code runs inside a turn of this gate."""
        return id(self) in _HELD.get()

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """A turn for a request, waited for on the event loop."""
        if self.held():
            yield
            return
        loop = asyncio.get_running_loop()
        _SERVING.add(loop)
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = asyncio.Semaphore(self.capacity)
        async with queue:
            if not self._slots.acquire(blocking=False):
                # Code outside requests (a job thread) is writing: wait for it in a thread of
                # our own, not one of the request pool's.
                await self._take_in_thread()
            before = _HELD.get()
            _HELD.set(before | {id(self)})
            try:
                yield
            finally:
                _HELD.set(before)
                self._slots.release()

    async def _take_in_thread(self) -> None:
        # A request cancelled while it waits leaves at once; the thread still gets the slot in
        # the end and then hands it straight back (the lock settles who owns it).
        settle = threading.Lock()
        state = {"taken": False, "abandoned": False}

        def take() -> None:
            self._slots.acquire()
            with settle:
                if state["abandoned"]:
                    self._slots.release()
                else:
                    state["taken"] = True

        try:
            await anyio.to_thread.run_sync(
                take, limiter=anyio.CapacityLimiter(1), abandon_on_cancel=True
            )
        except BaseException:
            with settle:
                state["abandoned"] = True
                if state["taken"]:
                    self._slots.release()
            raise

    @contextmanager
    def turn_in_thread(self) -> Iterator[None]:
        """A turn for code outside the event loop; a no-op inside a turn held already."""
        if self.held():
            yield
            return
        refuse_on_event_loop("waiting for a writer's turn")
        self._slots.acquire()
        before = _HELD.get()
        _HELD.set(before | {id(self)})
        try:
            yield
        finally:
            _HELD.set(before)
            self._slots.release()
