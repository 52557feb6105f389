"""Group commit for single-case intake (`POST /api/v1/cases`), on `trustdesk.group_commit`.

A case written alone costs a transaction of its own: a writer's turn, the sender's lookups, the
audit chain's head, the counts row and a commit, for one row. Requests that arrive while a write
is under way wait instead, and the next write takes them all (up to `MAX_BATCH`) in one
transaction through `open_many_refusals`: one lookup each, one insert, one audit append, one
commit. Each request still gets its own case (or its own refusal) and is answered only after the
transaction holding its case has committed.

A batch that fails as a whole (an unexpected error, or a unique violation from a duplicate
posted to another server process at the same moment) is rolled back and each of its cases is
retried alone (`open_case`), so one bad case never sinks the others. Idempotency per (channel,
external id) holds across batches (one writer per process, so batches are serial; across
processes the unique constraint and the retry) and within one (`open_many_refusals` opens a
repeat once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from trustdesk.cases.intake import Refusal, open_case, open_many_refusals
from trustdesk.cases.routing import classifier_for
from trustdesk.cases.schemas import CaseIn, CaseOpened
from trustdesk.group_commit import GroupCommit
from trustdesk.observability import Metrics
from trustdesk.platform import Platform

__all__ = ["MAX_BATCH", "IntakeWriter"]

MAX_BATCH = 200


@dataclass(frozen=True)
class _Intake:
    case: CaseIn
    actor: str


class IntakeWriter:
    """One per app (per process). `submit` from request handlers on the event loop."""

    def __init__(self, platform: Platform, metrics: Metrics | None = None) -> None:
        self.platform = platform
        self._commit = GroupCommit[_Intake, CaseOpened](
            platform.db, "cases.intake", together=self._together, alone=self._alone,
            max_batch=MAX_BATCH, metrics=metrics,
        )  # fmt: skip

    @property
    def transactions(self) -> int:
        return self._commit.transactions

    @property
    def cases(self) -> int:
        return self._commit.items

    async def submit(self, case: CaseIn, actor: str) -> CaseOpened:
        """Open `case` (or find it opened before); raises its refusal (InvalidCase,
        UnknownCustomer) or the error that failed it alone."""
        return await self._commit.submit(_Intake(case, actor))

    def _together(
        self, session: Session, batch: Sequence[_Intake]
    ) -> list[CaseOpened | Refusal | RuntimeError]:
        classify = classifier_for(self.platform.settings)
        results: list[CaseOpened | Refusal | None] = [None] * len(batch)
        for actor in dict.fromkeys(w.actor for w in batch):
            mine = [i for i, w in enumerate(batch) if w.actor == actor]
            opened = open_many_refusals(
                session, self.platform.vault, [batch[i].case for i in mine], classify=classify,
                actor=actor,
            )  # fmt: skip
            for i, result in zip(mine, opened, strict=True):
                results[i] = result
        return [r if r is not None else RuntimeError("not processed") for r in results]

    def _alone(self, session: Session, intake: _Intake) -> CaseOpened:
        classify = classifier_for(self.platform.settings)
        return open_case(
            session, self.platform.vault, intake.case, classify=classify, actor=intake.actor
        )
