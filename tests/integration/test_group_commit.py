"""The one group-commit writer (`trustdesk.group_commit`) that cases and surveys share: items
submitted together are written in one transaction and each gets its own result after the
commit; a refusal is that item's alone; a batch that fails as a whole is rolled back and each
item retried alone, so one bad item never sinks the others."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.audit.chain import AuditEntry
from trustdesk.errors import InvalidInput
from trustdesk.group_commit import GroupCommit


def _writer(platform) -> GroupCommit[str, str]:
    """Writes an audit entry per item; "refuse" is refused, "explode" breaks any batch."""

    def one(session: Session, item: str) -> str | Exception:
        if item.startswith("refuse"):
            return InvalidInput(f"{item} is refused")
        audit.record(session, actor="test", action="written", entity_type="item", entity_id=item)
        return f"wrote {item}"

    def together(session: Session, batch: Sequence[str]) -> list[str | Exception]:
        if "explode" in batch:
            raise RuntimeError("the batch broke")
        return [one(session, item) for item in batch]

    def alone(session: Session, item: str) -> str:
        if item == "explode":
            raise RuntimeError("this item breaks")
        result = one(session, item)
        if isinstance(result, Exception):
            raise result
        return result

    return GroupCommit(platform.db, "test", together=together, alone=alone)


def _run(coroutine: Coroutine[Any, Any, list[object]]) -> list[object]:
    """On a thread of its own: the browser tests' session leaves an event loop running here."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _submit_all(writer: GroupCommit[str, str], items: list[str]) -> list[object]:
    return await asyncio.gather(*(writer.submit(i) for i in items), return_exceptions=True)


def _written(platform) -> list[str]:
    with platform.db.reading() as session:
        return list(
            session.scalars(
                select(AuditEntry.entity_id)
                .where(AuditEntry.action == "written")
                .order_by(AuditEntry.id)
            )
        )


def test_items_submitted_together_share_one_transaction_with_their_own_results(platform):
    writer = _writer(platform)
    results = _run(_submit_all(writer, ["a", "refuse-b", "c"]))
    assert results[0] == "wrote a" and results[2] == "wrote c"
    assert isinstance(results[1], InvalidInput) and "refuse-b" in str(results[1])
    assert (writer.transactions, writer.items) == (1, 3)
    assert _written(platform) == ["a", "c"]


def test_a_batch_that_fails_is_retried_item_by_item(platform):
    writer = _writer(platform)
    results = _run(_submit_all(writer, ["a", "explode", "refuse-c", "d"]))
    assert results[0] == "wrote a" and results[3] == "wrote d"
    assert isinstance(results[1], RuntimeError) and isinstance(results[2], InvalidInput)
    assert writer.transactions == 1 + 4  # the batch rolled back, then each alone
    assert _written(platform) == ["a", "d"]  # nothing of the failed batch, each good item once
