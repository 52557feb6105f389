"""Cases per (queue, status, SLA state), kept in `case_counts` in the same transaction as every
write to a case, so the inbox reads a few dozen rows instead of counting 100,000 cases.

One hook does it for every path that writes cases through the ORM (intake, batches, imports,
status changes, assignment, replies, merges, the SLA pass, the demo): after each flush it adds
+1 for each case inserted, -1 for each deleted, and moves one from the old to the new key of each
case whose queue, status or SLA state changed (`active_history` on those columns keeps the old
value). The deltas of a flush go out as one upsert, keys in sorted order, so two transactions lock
count rows in the same order. A bulk `insert()`/`update()` of `cases` that bypasses the ORM must
call `rebuild_counts` (the benchmark's seed does; `trustdesk cases recount` runs it).

Registered on import (`trustdesk.cases.__init__`), so any code that can load `Case` counts.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, cast

from sqlalchemy import Table, delete, event, func, insert, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, UOWTransaction

from trustdesk import audit
from trustdesk.cases.models import Case, CaseCount

__all__ = ["count_rows", "rebuild_counts", "recount_cases"]

Key = tuple[str, str, str]
_TABLE = cast(Table, CaseCount.__table__)


def _old(case: Case, name: str) -> Any:
    history = inspect(case).attrs[name].history
    if history.deleted:
        return history.deleted[0]
    if history.unchanged:
        return history.unchanged[0]
    return getattr(case, name)


def _new_key(case: Case) -> Key:
    return (case.queue, case.status, case.sla_state or "ok")


def _old_key(case: Case) -> Key:
    return (_old(case, "queue"), _old(case, "status"), _old(case, "sla_state") or "ok")


def _deltas(session: Session) -> Counter[Key]:
    deltas: Counter[Key] = Counter()
    for obj in session.new:
        if isinstance(obj, Case):
            deltas[_new_key(obj)] += 1
    for obj in session.deleted:
        if isinstance(obj, Case):
            deltas[_old_key(obj)] -= 1
    for obj in session.dirty:
        if isinstance(obj, Case):
            old, new = _old_key(obj), _new_key(obj)
            if old != new:
                deltas[old] -= 1
                deltas[new] += 1
    return deltas


def _upsert(session: Session, deltas: Counter[Key]) -> None:
    rows = [
        {"queue": q, "status": s, "sla_state": st, "n": n}
        for (q, s, st), n in sorted(deltas.items())
        if n
    ]
    if rows:
        connection = session.connection()
        connection.execute(_UPSERT[connection.dialect.name == "postgresql"], rows)


def _upsert_statement(dialect: Any) -> Any:
    stmt = dialect.insert(_TABLE)
    return stmt.on_conflict_do_update(
        index_elements=["queue", "status", "sla_state"],
        set_={"n": _TABLE.c.n + stmt.excluded.n},
    )


# One statement each (compiled once), run for the rows of a flush in key order.
_UPSERT = {False: _upsert_statement(sqlite), True: _upsert_statement(postgresql)}


@event.listens_for(Session, "after_flush")
def _count(session: Session, flush_context: UOWTransaction) -> None:
    """Runs inside the flush, before the session forgets what changed (new, dirty and deleted
    and the attributes' history are still those of this flush)."""
    _upsert(session, _deltas(session))


def rebuild_counts(session: Session) -> int:
    """Count the cases again from scratch (after a bulk load that bypassed the ORM, or to check
    the table). Returns the number of cases counted."""
    session.flush()
    session.execute(delete(_TABLE))
    grouped = select(Case.queue, Case.status, Case.sla_state, func.count()).group_by(
        Case.queue, Case.status, Case.sla_state
    )
    found = [(q, s, st, int(n)) for q, s, st, n in session.execute(grouped)]
    if found:
        rows = [{"queue": q, "status": s, "sla_state": st, "n": n} for q, s, st, n in found]
        session.execute(insert(_TABLE), rows)
    return sum(n for *_, n in found)


def recount_cases(session: Session, *, actor: str) -> int:
    """`rebuild_counts`, audited (`trustdesk cases recount`)."""
    counted = rebuild_counts(session)
    audit.record(
        session, actor=actor, action="cases.recounted", entity_type="cases", entity_id="counts",
        changes={"cases": counted},
    )  # fmt: skip
    return counted


def count_rows(session: Session, statuses: tuple[str, ...] | None = None) -> dict[Key, int]:
    """{(queue, status, sla_state): n} from the counts table (zero rows left out)."""
    query = select(CaseCount.queue, CaseCount.status, CaseCount.sla_state, CaseCount.n).where(
        CaseCount.n != 0
    )
    if statuses is not None:
        query = query.where(CaseCount.status.in_(statuses))
    return {(q, s, st): int(n) for q, s, st, n in session.execute(query)}
