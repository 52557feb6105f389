"""Group commit: many requests' writes in one transaction, each answered after its own commit.

A write done alone costs a transaction of its own: a writer's turn, the look-ups, the audit
chain's head, a commit. Requests that arrive while a write is under way wait here instead, and the
next write takes them all (up to `max_batch`) in one transaction on a worker thread, in a writer's
turn (nothing on the event loop). Each request still gets its own result (or its own refusal) and
is answered only after the transaction holding its write has committed. Under no load a request
is written at once, alone: nothing waits for company.

The capability says how to write a batch (`together`: one result or refusal per item, in order;
a refused item must leave nothing in the session) and one item (`alone`). A batch that fails as a
whole (an unexpected error, a unique violation from another server process, a failed commit) is
rolled back and each item retried alone in a transaction of its own, so one bad item never sinks
the others. One writer per process, so batches are serial; across processes the database's
constraints and the retry keep writes idempotent.

Used by single-case intake (`cases/group_commit.py`) and survey response pages
(`surveys/group_commit.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from trustdesk.db import Database
from trustdesk.observability import Metrics

__all__ = ["GroupCommit"]

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Waiting(Generic[Item, Result]):
    item: Item
    done: asyncio.Future[Result | BaseException]


@dataclass
class GroupCommit(Generic[Item, Result]):
    """One per app (per process) and kind of write. `submit` from request handlers on the event
    loop; `together` and `alone` run on a worker thread inside the transaction this opens."""

    db: Database
    name: str  # the writer's label in metrics ("cases.intake")
    together: Callable[[Session, Sequence[Item]], Sequence[Result | Exception]]
    alone: Callable[[Session, Item], Result]
    max_batch: int = 200
    metrics: Metrics | None = None
    transactions: int = 0  # transactions opened (committed or not): tests, benchmarks, /metrics
    items: int = 0  # items submitted
    _waiting: list[_Waiting[Item, Result]] = field(default_factory=list)
    _writer: asyncio.Task[None] | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def submit(self, item: Item) -> Result:
        """Write `item` with whatever else is waiting; returns its result after the commit, or
        raises its refusal (or the error that failed it alone)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Result | BaseException] = loop.create_future()
        self._waiting.append(_Waiting(item, done))
        if self._writer is None or self._writer.done() or self._loop is not loop:
            self._loop = loop
            self._writer = loop.create_task(self._drain())
        result = await asyncio.shield(done)  # a client gone away: its item is still written
        if isinstance(result, BaseException):
            raise result
        return result

    async def _drain(self) -> None:
        while self._waiting:
            batch = self._waiting[: self.max_batch]
            self._waiting = self._waiting[self.max_batch :]
            self._count(items=len(batch))
            results: Sequence[Result | BaseException]
            try:
                async with self.db.writers.turn():
                    results = await run_in_threadpool(self._write, [w.item for w in batch])
            except Exception as exc:  # no turn, no thread: tell every waiting request
                results = [exc] * len(batch)
            for waiting, result in zip(batch, results, strict=True):
                if not waiting.done.done():
                    waiting.done.set_result(result)

    def _write(self, batch: Sequence[Item]) -> list[Result | BaseException]:
        self._count(transactions=1)
        try:
            with self.db.transaction() as session:
                results = list(self.together(session, batch))
                if len(results) != len(batch):  # before the commit: nothing of it is kept
                    raise RuntimeError(f"{self.name}: {len(results)} results, {len(batch)} items")
        except Exception:
            return [self._alone(item) for item in batch]
        return list(results)

    def _alone(self, item: Item) -> Result | BaseException:
        self._count(transactions=1)
        try:
            with self.db.transaction() as session:
                return self.alone(session, item)
        except Exception as exc:
            return exc

    def _count(self, *, transactions: int = 0, items: int = 0) -> None:
        self.transactions += transactions
        self.items += items
        if self.metrics is not None:
            if transactions:
                self.metrics.group_commit_transactions.labels(self.name).inc(transactions)
            if items:
                self.metrics.group_commit_items.labels(self.name).inc(items)
