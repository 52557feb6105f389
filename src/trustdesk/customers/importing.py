"""Bulk import of customer files: validate each row, store good rows in committed batches.

A batch is one transaction, so a killed process loses nothing it had reported as stored, and a
re-run finds those rows unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.orm import Session

from trustdesk.crypto import Vault
from trustdesk.customers import service
from trustdesk.customers.schemas import CustomerIn, ImportReport, RowError
from trustdesk.db import Database
from trustdesk.tabular import Row, read_rows

__all__ = ["import_customer_file", "import_customer_records", "validation_reason"]

_COLUMNS = ("external_id", "name", "email", "phone", "address", "birth_date", "jurisdiction")
# Only an address may span lines; a line break anywhere else means a quote was left open.
_SINGLE_LINE = (*(c for c in _COLUMNS if c != "address"), "segment", "segments")


def validation_reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "row"
        parts.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def _record(row: Row) -> CustomerIn:
    fields = {k: row.fields.get(k) for k in _COLUMNS if k in row.fields}
    segments = row.fields.get("segments", row.fields.get("segment"))
    return CustomerIn(**fields, segments=segments)


def _validated(
    rows: Iterable[Row], report: ImportReport, resume_after: int = 0
) -> Iterator[tuple[int, CustomerIn]]:
    """Valid rows with their numbers; bad ones go to `report`. Rows up to `resume_after` were
    handled by an earlier run: they are only remembered, so a later repeat is still refused."""
    seen: dict[str, int] = {}
    for row in rows:
        external_id = str(row.fields.get("external_id") or "") or None
        if row.number <= resume_after:
            if not row.error:
                with suppress(ValidationError):
                    seen.setdefault(_record(row).external_id, row.number)
            continue
        if row.error:
            report.rejected.append(
                RowError(row=row.number, external_id=external_id, reason=row.error)
            )
            continue
        try:
            record = _record(row)
        except ValidationError as exc:
            report.rejected.append(
                RowError(row=row.number, external_id=external_id, reason=validation_reason(exc))
            )
            continue
        if record.external_id in seen:
            report.rejected.append(
                RowError(
                    row=row.number,
                    external_id=record.external_id,
                    reason=f"duplicate external_id (first at row {seen[record.external_id]})",
                )
            )
            continue
        seen[record.external_id] = row.number
        yield row.number, record


def import_customer_records(
    db: Database,
    vault: Vault,
    rows: Iterable[Row],
    *,
    actor: str,
    batch_size: int = 500,
    on_batch: Callable[[ImportReport], None] | None = None,
    resume_after: int = 0,
    in_batch: Callable[[Session, ImportReport, int], None] | None = None,
) -> ImportReport:
    """Store valid rows in batches of one transaction each. `in_batch(session, report, last_row)`
    runs inside each batch's transaction (progress that commits with the rows); `on_batch` after
    it commits. Rows numbered up to `resume_after` are skipped (an interrupted import resumed)."""
    report = ImportReport()
    batch: list[tuple[int, CustomerIn]] = []

    def flush() -> None:
        with db.transaction() as session:
            counts = service.upsert_customers(session, vault, [r for _, r in batch], actor=actor)
            report.created += counts.created
            report.updated += counts.updated
            report.unchanged += counts.unchanged
            for number, record in batch:
                if record.external_id in counts.erased:
                    report.rejected.append(
                        RowError(
                            row=number,
                            external_id=record.external_id,
                            reason="customer was erased; their data cannot be re-imported",
                        )
                    )
            if in_batch:
                in_batch(session, report, batch[-1][0])
        batch.clear()
        if on_batch:
            on_batch(report)

    for item in _validated(rows, report, resume_after):
        batch.append(item)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return report


def import_customer_file(
    db: Database,
    vault: Vault,
    path: Path,
    *,
    actor: str,
    batch_size: int = 500,
    on_batch: Callable[[ImportReport], None] | None = None,
    resume_after: int = 0,
    in_batch: Callable[[Session, ImportReport, int], None] | None = None,
) -> ImportReport:
    rows = read_rows(path, required=("external_id",), single_line=_SINGLE_LINE)
    return import_customer_records(
        db,
        vault,
        rows,
        actor=actor,
        batch_size=batch_size,
        on_batch=on_batch,
        resume_after=resume_after,
        in_batch=in_batch,
    )
