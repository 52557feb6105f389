"""Bulk intake: payments and late labels from files, in committed batches, safe to re-run.

Two payment formats are read (see docs/fraud-decisions.md):
- the card-transactions format (`transaction_id, tx_datetime, customer_id, terminal_id,
  tx_amount, tx_fraud`): amounts in one currency (`--currency`), channel `pos`, and the
  `tx_fraud` column stored as labels known `label_delay` after each payment;
- the generic format: `transaction_id, at, customer_id, terminal_id, amount` and optionally
  `currency, channel, device_id, country, label, label_known_at`.
Each row is checked like an API call; bad rows are reported by number and never stop the others.
A payment already stored with the same content is counted unchanged; with other content, rejected.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from trustdesk.audit.chain import Change, record_many
from trustdesk.db import Database, utcnow
from trustdesk.errors import DomainError, InvalidInput
from trustdesk.fraud.models import FraudLabel, FraudTransaction
from trustdesk.fraud.schemas import (
    ImportReport,
    LabelIn,
    LabelKind,
    Limits,
    RowError,
    TransactionIn,
)
from trustdesk.fraud.service import validate
from trustdesk.tabular import Row, read_header, read_rows

__all__ = ["import_labels_file", "import_transactions_file", "import_transactions_rows"]

HANDBOOK = ("transaction_id", "tx_datetime", "customer_id", "terminal_id", "tx_amount")
GENERIC = ("transaction_id", "at", "customer_id", "terminal_id", "amount")
_CHUNK = 900
_OPTIONAL = ("currency", "channel", "device_id", "country")
_LABELS = ("tx_fraud", "label", "label_known_at")


@dataclass(frozen=True)
class _Parsed:
    number: int
    tx: TransactionIn
    label: LabelKind | None
    label_known_at: datetime | None


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _parse(
    row: Row, *, handbook: bool, currency: str, label_delay: timedelta
) -> tuple[TransactionIn, LabelKind | None, datetime | None]:
    f = row.fields
    if handbook:
        data: dict[str, Any] = {
            "transaction_id": f.get("transaction_id"),
            "at": f.get("tx_datetime"),
            "customer_id": f.get("customer_id"),
            "terminal_id": f.get("terminal_id"),
            "amount": f.get("tx_amount"),
            "currency": currency,
        }
    else:
        data = {k: f.get(k) for k in GENERIC}
        data.update({k: f[k] for k in _OPTIONAL if not _blank(f.get(k))})
        data.setdefault("currency", currency)
    data = {k: (str(v).strip() if isinstance(v, int | float) else v) for k, v in data.items()}
    tx = TransactionIn.model_validate(data)
    raw_label = f.get("tx_fraud") if handbook else f.get("label")
    if _blank(raw_label):
        return tx, None, None
    if handbook:
        label = LabelKind.FRAUD if str(raw_label).strip() in ("1", "1.0") else LabelKind.GENUINE
        return tx, label, tx.at + label_delay
    known = f.get("label_known_at")
    label_in = LabelIn(label=str(raw_label).strip(), known_at=None if _blank(known) else known)
    return tx, label_in.label, label_in.known_at or tx.at + label_delay


def _existing(session: Session, ids: list[str]) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for i in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(
                FraudTransaction.transaction_id, FraudTransaction.id, FraudTransaction.content_hash
            ).where(FraudTransaction.transaction_id.in_(ids[i : i + _CHUNK]))
        )
        found.update({tx_id: (pk, digest) for tx_id, pk, digest in rows})
    return found


def _store_batch(
    session: Session, batch: list[_Parsed], report: ImportReport, *, actor: str, now: datetime
) -> None:
    existing = _existing(session, [p.tx.transaction_id for p in batch])
    fresh: list[_Parsed] = []
    conflicts: set[str] = set()
    for p in batch:
        stored = existing.get(p.tx.transaction_id)
        if stored is None:
            fresh.append(p)
        elif stored[1] == p.tx.content_hash():
            report.unchanged += 1
        else:
            conflicts.add(p.tx.transaction_id)
            report.rejected.append(
                RowError(
                    row=p.number,
                    transaction_id=p.tx.transaction_id,
                    reason="a different payment was stored under this id before",
                )
            )
    if fresh:
        session.execute(
            insert(FraudTransaction),
            [
                {
                    "transaction_id": p.tx.transaction_id,
                    "at": p.tx.at,
                    "received_at": now,
                    "customer_ref": p.tx.customer_id,
                    "terminal_id": p.tx.terminal_id,
                    "amount": p.tx.amount,
                    "currency": p.tx.currency,
                    "channel": p.tx.channel,
                    "device_id": p.tx.device_id,
                    "country": p.tx.country,
                    "content_hash": p.tx.content_hash(),
                }
                for p in fresh
            ],
        )
        report.created += len(fresh)
    labelled = [p for p in batch if p.label is not None and p.tx.transaction_id not in conflicts]
    if labelled:
        report.labels += _store_labels(
            session,
            [(p.tx.transaction_id, p.label, p.label_known_at) for p in labelled],  # type: ignore[misc]
            source="import",
            actor=actor,
        )
    if fresh:
        record_many(
            session,
            actor=actor,
            items=[Change("fraud.import", "fraud_transactions", "batch", {"created": len(fresh)})],
        )


def _store_labels(
    session: Session,
    labels: list[tuple[str, LabelKind, datetime]],
    *,
    source: str,
    actor: str,
) -> int:
    """Insert new (transaction, source) labels, replace changed ones; returns how many changed.

    A changed label becomes a new row (a new id), as in `service.add_label`: the scorer's
    catch-up and the trust signal read labels by increasing id. A new known time alone is
    updated in place.
    """
    pks = {tx_id: pk for tx_id, (pk, _) in _existing(session, [t for t, _, _ in labels]).items()}
    wanted = {pks[t]: (kind, at) for t, kind, at in labels if t in pks}
    current: dict[int, FraudLabel] = {}
    keys = list(wanted)
    for i in range(0, len(keys), _CHUNK):
        for found in session.scalars(
            select(FraudLabel).where(
                FraudLabel.transaction_pk.in_(keys[i : i + _CHUNK]), FraudLabel.source == source
            )
        ):
            current[found.transaction_pk] = found
    new_rows: list[dict[str, Any]] = []
    changed = 0
    for pk, (kind, at) in wanted.items():
        row = current.get(pk)
        if row is not None and row.label != kind.value:
            session.delete(row)  # corrections are rare: the ORM's delete is cheap enough
            row = None
        if row is None:
            new_rows.append(
                {"transaction_pk": pk, "label": kind.value, "known_at": at, "source": source}
            )
        elif row.known_at != at:
            row.known_at, row.actor = at, actor
            changed += 1
    session.flush()  # replaced rows go first: (transaction, source) is unique
    if new_rows:
        session.execute(insert(FraudLabel), [{**r, "actor": actor} for r in new_rows])
    session.flush()
    return changed + len(new_rows)


def import_transactions_rows(
    db: Database,
    rows: Iterable[Row],
    *,
    handbook: bool,
    limits: Limits,
    actor: str,
    currency: str = "EUR",
    label_delay: timedelta = timedelta(days=7),
    batch_size: int = 5000,
    on_batch: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Check and store numbered rows, one transaction per batch; re-running stores nothing twice."""
    report = ImportReport()
    now = utcnow()
    batch: list[_Parsed] = []
    seen: set[str] = set()

    def flush() -> None:
        with db.transaction() as session:
            _store_batch(session, batch, report, actor=actor, now=now)
        batch.clear()
        if on_batch:
            on_batch(report)

    for row in rows:
        tx_id = row.fields.get("transaction_id")
        if row.error:
            report.rejected.append(RowError(row=row.number, transaction_id=None, reason=row.error))
            continue
        try:
            tx, label, known_at = _parse(
                row, handbook=handbook, currency=currency, label_delay=label_delay
            )
            validate(tx, limits, now)
        except ValidationError as exc:
            report.rejected.append(
                RowError(row=row.number, transaction_id=_id(tx_id), reason=_first(exc))
            )
            continue
        except DomainError as exc:
            report.rejected.append(
                RowError(row=row.number, transaction_id=_id(tx_id), reason=exc.detail)
            )
            continue
        if tx.transaction_id in seen:
            report.unchanged += 1
            continue
        seen.add(tx.transaction_id)
        batch.append(_Parsed(row.number, tx, label, known_at))
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    report.rejected.sort(key=lambda e: e.row)
    return report


def _id(value: object) -> str | None:
    return None if _blank(value) else str(value)[:64]


def import_transactions_file(
    db: Database,
    path: Path,
    *,
    limits: Limits,
    actor: str,
    currency: str = "EUR",
    label_delay: timedelta = timedelta(days=7),
    on_batch: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Import a CSV(.gz)/JSONL file in either format (told apart by its columns)."""
    header = _header(path)
    handbook = "tx_datetime" in header
    required = HANDBOOK if handbook else GENERIC
    missing = [c for c in required if c not in header]
    if missing:
        raise InvalidInput(f"{path.name}: missing column(s): {', '.join(missing)}")
    return import_transactions_rows(
        db,
        read_rows(path, required=required, single_line=(*required, *_OPTIONAL, *_LABELS)),
        handbook=handbook,
        limits=limits,
        actor=actor,
        currency=currency,
        label_delay=label_delay,
        on_batch=on_batch,
    )


def _header(path: Path) -> set[str]:
    return set(read_header(path))


def import_labels_file(
    db: Database, path: Path, *, actor: str, batch_size: int = 5000
) -> ImportReport:
    """Late labels: `transaction_id, label` and optionally `known_at` (default now), `source`."""
    report = ImportReport()
    now = utcnow()
    pending: dict[str, list[tuple[int, str, LabelKind, datetime]]] = {}

    def flush() -> None:
        with db.transaction() as session:
            for source, items in pending.items():
                known = _existing(session, [t for _, t, _, _ in items])
                for number, tx_id, _, _ in items:
                    if tx_id not in known:
                        report.rejected.append(
                            RowError(row=number, transaction_id=tx_id, reason="no such transaction")
                        )
                report.labels += _store_labels(
                    session, [(t, k, at) for _, t, k, at in items], source=source, actor=actor
                )
            record_many(
                session,
                actor=actor,
                items=[Change("fraud.labels_import", "fraud_labels", "batch", {"rows": count})],
            )
        pending.clear()

    count = 0
    columns = ("transaction_id", "label", "known_at", "source")
    for row in read_rows(path, required=columns[:2], single_line=columns):
        f = row.fields
        tx_id = _id(f.get("transaction_id"))
        try:
            if row.error:
                raise InvalidInput(row.error)
            source = str(f.get("source") or "import").strip()
            known = None if _blank(f.get("known_at")) else f.get("known_at")
            label = LabelIn(label=str(f.get("label", "")).strip(), known_at=known, source=source)
        except (ValidationError, InvalidInput) as exc:
            reason = exc.detail if isinstance(exc, InvalidInput) else _first(exc)
            report.rejected.append(RowError(row=row.number, transaction_id=tx_id, reason=reason))
            continue
        at = label.known_at or now
        pending.setdefault(label.source, []).append((row.number, str(tx_id), label.label, at))
        count += 1
        if count % batch_size == 0:
            flush()
    if pending:
        flush()
    report.rejected.sort(key=lambda e: e.row)
    return report


def _first(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"{where}: {first.get('msg', 'invalid')}".removeprefix(": ")
