"""Group commit for single-case intake (`POST /api/v1/cases`).

A case written alone costs a transaction of its own: a writer's turn, the sender's lookups, the
audit chain's head, the counts row and a commit, for one row. Requests that arrive while a write
is under way wait here instead, and the next write takes them all (up to `MAX_BATCH`) in one
transaction through `open_many_refusals`: one lookup each, one insert, one audit append, one
commit. Each request still gets its own case (or its own refusal) and is answered only after the
transaction holding its case has committed. Under no load a request is written at once, alone:
nothing waits for company.

A batch that fails as a whole (an unexpected error, or a unique violation from a duplicate
posted to another server process at the same moment) is rolled back and each of its cases is
retried alone, so one bad case never sinks the others. Idempotency per (channel, external id)
holds across batches (one writer per process, so batches are serial; across processes the
unique constraint and the retry) and within one (`open_many_refusals` opens a repeat once).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

from trustdesk.cases.intake import Refusal, open_case, open_many_refusals
from trustdesk.cases.routing import Classifier, classifier_for
from trustdesk.cases.schemas import CaseIn, CaseOpened
from trustdesk.platform import Platform

__all__ = ["MAX_BATCH", "IntakeWriter"]

MAX_BATCH = 200

Result = CaseOpened | Refusal | BaseException


@dataclass
class _Waiting:
    case: CaseIn
    actor: str
    done: asyncio.Future[Result]


@dataclass
class IntakeWriter:
    """One per app (per process). `submit` from request handlers on the event loop."""

    platform: Platform
    transactions: int = 0  # figures for tests and benchmarks
    cases: int = 0
    _waiting: list[_Waiting] = field(default_factory=list)
    _writer: asyncio.Task[None] | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def submit(self, case: CaseIn, actor: str) -> CaseOpened:
        """Open `case` (or find it opened before); raises its refusal (InvalidCase,
        UnknownCustomer) or the error that failed it alone."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Result] = loop.create_future()
        self._waiting.append(_Waiting(case, actor, done))
        if self._writer is None or self._writer.done() or self._loop is not loop:
            self._loop = loop
            self._writer = loop.create_task(self._drain())
        result = await asyncio.shield(done)  # a client gone away: its case is still written
        if isinstance(result, BaseException):
            raise result
        return result

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                async with self.platform.db.writers.turn():
                    results = await run_in_threadpool(self._write, batch)
            except Exception as exc:  # no turn, no thread: tell every waiting request
                results = [exc] * len(batch)
            for waiting, result in zip(batch, results, strict=True):
                if not waiting.done.done():
                    waiting.done.set_result(result)

    def _write(self, batch: Sequence[_Waiting]) -> list[Result]:
        classify = classifier_for(self.platform.settings)
        try:
            return self._together(batch, classify)
        except Exception:
            return [self._alone(w, classify) for w in batch]

    def _together(self, batch: Sequence[_Waiting], classify: Classifier) -> list[Result]:
        results: list[Result | None] = [None] * len(batch)
        vault = self.platform.vault
        with self.platform.db.transaction() as session:
            for actor in dict.fromkeys(w.actor for w in batch):
                mine = [i for i, w in enumerate(batch) if w.actor == actor]
                opened = open_many_refusals(
                    session, vault, [batch[i].case for i in mine], classify=classify, actor=actor
                )
                for i, result in zip(mine, opened, strict=True):
                    results[i] = result
        self.transactions += 1
        self.cases += len(batch)
        return [r if r is not None else RuntimeError("not processed") for r in results]

    def _alone(self, waiting: _Waiting, classify: Classifier) -> Result:
        try:
            with self.platform.db.transaction() as session:
                opened = open_case(
                    session, self.platform.vault, waiting.case, classify=classify,
                    actor=waiting.actor,
                )  # fmt: skip
        except Exception as exc:
            return exc
        self.transactions += 1
        self.cases += 1
        return opened
