"""Bulk feedback import: validate each row, analyse and store good rows in committed batches.

Each batch is one transaction (so a killed import loses nothing it reported as stored), one
vectorised analysis call and one audit entry. Bad rows are reported with their number and reason
and written to a rejects file; they never stop the good rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

from sqlalchemy.orm import Session

from trustdesk.crypto import Vault
from trustdesk.csv_output import SafeWriter
from trustdesk.db import Database, utcnow
from trustdesk.errors import InvalidInput
from trustdesk.feedback import service
from trustdesk.feedback.analysis import Analyser
from trustdesk.feedback.ratings import DEFAULT_SCALE, SCALES
from trustdesk.feedback.schemas import FeedbackRecord, ImportReport, RowError, parse_record
from trustdesk.private_files import open_private_text
from trustdesk.tabular import Row, read_rows

__all__ = [
    "CANONICAL",
    "ColumnMap",
    "analyse_pending",
    "import_feedback_file",
    "import_feedback_rows",
    "write_rejects",
]


@dataclass(frozen=True)
class ColumnMap:
    """Which input column holds each field; None: the input has no such column."""

    external_id: str = "external_id"
    text: str = "text"
    at: str = "at"
    segment: str | None = "segment"
    customer: str | None = "customer"
    rating: str | None = "rating"
    rating_scale: str | None = "rating_scale"
    channel: str | None = "channel"
    language: str | None = "language"
    source: str | None = "source"

    def required(self) -> tuple[str, ...]:
        optional = (self.segment, self.customer, self.rating)  # named explicitly: must exist
        return (self.external_id, self.text, self.at, *(c for c in optional if c))

    def single_line(self) -> tuple[str, ...]:
        """Every mapped column but the text: a line break there means an unclosed quote."""
        return tuple(column for name, column in self._pairs if name != "text")

    def canonical(self, fields: dict[str, object]) -> dict[str, object]:
        return {name: fields.get(column) for name, column in self._pairs}

    @cached_property
    def _pairs(self) -> tuple[tuple[str, str], ...]:
        pairs = (
            ("external_id", self.external_id),
            ("text", self.text),
            ("at", self.at),
            ("segment", self.segment),
            ("customer", self.customer),
            ("rating", self.rating),
            ("rating_scale", self.rating_scale),
            ("channel", self.channel),
            ("language", self.language),
            ("source", self.source),
        )
        return tuple((name, column) for name, column in pairs if column is not None)


CANONICAL = ColumnMap()


def import_feedback_rows(
    db: Database,
    vault: Vault,
    rows: Iterable[Row],
    analyser: Analyser | None,
    *,
    actor: str,
    columns: ColumnMap = CANONICAL,
    source: str | None = None,
    rating_scale: str = DEFAULT_SCALE,
    batch_size: int = 5000,
    now: datetime | None = None,
    on_batch: Callable[[ImportReport], None] | None = None,
    resume_after: int = 0,
    in_batch: Callable[[Session, ImportReport, int], None] | None = None,
) -> ImportReport:
    """Import numbered rows; `source` applies to rows that do not name their own.

    With `analyser=None` rows are stored pending, for `analyse_pending` to finish (bulk imports:
    ingestion then runs at storage speed and analysis at model speed, each measured on its own).
    `in_batch(session, report, last_row)` runs inside each batch's transaction (progress that
    commits with the rows), `on_batch` after it commits. Rows numbered up to `resume_after` were
    stored by an interrupted run: they are only remembered (a later repeat is still a repeat).
    """
    if rating_scale not in SCALES:
        raise InvalidInput(f"unknown rating scale {rating_scale!r} (use {', '.join(SCALES)})")
    report = ImportReport()
    clock = now or utcnow()
    seen: set[tuple[str, str]] = set()
    batch: list[tuple[int, FeedbackRecord]] = []

    def reject(number: int, external_id: object, reason: str) -> None:
        eid = str(external_id)[:128] if external_id not in (None, "") else None
        report.rejected.append(RowError(row=number, external_id=eid, reason=reason))

    def flush() -> None:
        records = [r for _, r in batch]
        with db.transaction() as session:
            stored = service.store_feedback(session, vault, records, analyser, actor=actor)
            report.created += stored.created
            report.unchanged += stored.unchanged
            for index, reason in sorted(stored.rejected.items()):
                number, record = batch[index]
                reject(number, record.external_id, reason)
            if in_batch:
                in_batch(session, report, batch[-1][0])
        batch.clear()
        if on_batch:
            on_batch(report)

    for row in rows:
        fields = columns.canonical(row.fields)
        if row.number <= resume_after:
            if not row.error:
                try:
                    done = parse_record(fields, source=source, rating_scale=rating_scale, now=clock)
                    seen.add((done.source, done.external_id))
                except ValueError:
                    pass
            continue
        if row.error:
            reject(row.number, fields.get("external_id"), row.error)
            continue
        try:
            record = parse_record(fields, source=source, rating_scale=rating_scale, now=clock)
        except ValueError as exc:
            reject(row.number, fields.get("external_id"), str(exc))
            continue
        key = (record.source, record.external_id)
        if key in seen:  # sent twice in one input: the first one counts, as across imports
            report.repeated += 1
            continue
        seen.add(key)
        batch.append((row.number, record))
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    report.rejected.sort(key=lambda e: e.row)
    return report


def analyse_pending(
    db: Database,
    vault: Vault,
    analyser: Analyser,
    *,
    batch_size: int = 2000,
    on_batch: Callable[[int], None] | None = None,
    in_batch: Callable[[Session, int], None] | None = None,
) -> int:
    """Analyse and index every pending row, one transaction per batch; returns how many.
    `in_batch(session, total)` runs inside each batch's transaction, `on_batch` after it."""
    total = 0
    while True:
        with db.transaction() as session:
            done = service.enrich_pending(session, vault, analyser, limit=batch_size)
            if done and in_batch:
                in_batch(session, total + done)
        if not done:
            return total
        total += done
        if on_batch:
            on_batch(total)


def write_rejects(path: Path, rejected: Iterable[RowError]) -> None:
    """The rejects file: row, external_id, reason (to fix and re-import)."""
    with open_private_text(path) as fh:
        writer = SafeWriter(fh)
        writer.writerow(["row", "external_id", "reason"])
        for bad in rejected:
            writer.writerow([bad.row, bad.external_id or "", bad.reason])


def import_feedback_file(
    db: Database,
    vault: Vault,
    path: Path,
    analyser: Analyser | None,
    *,
    actor: str,
    source: str,
    columns: ColumnMap,
    rating_scale: str = DEFAULT_SCALE,
    rejects_path: Path | None = None,
    batch_size: int = 5000,
    now: datetime | None = None,
    on_batch: Callable[[ImportReport], None] | None = None,
    resume_after: int = 0,
    in_batch: Callable[[Session, ImportReport, int], None] | None = None,
) -> ImportReport:
    """Import a CSV/JSONL file; bad rows also go to `<FILE>.rejects.csv` (or `rejects_path`)."""
    target = rejects_path or path.with_name(path.name + ".rejects.csv")
    if target.is_dir() or not target.parent.is_dir():  # known before anything is stored
        raise InvalidInput(f"{target}: cannot write the rejects file there")
    rows = read_rows(path, required=columns.required(), single_line=columns.single_line())
    report = import_feedback_rows(
        db,
        vault,
        rows,
        analyser,
        actor=actor,
        columns=columns,
        source=source,
        rating_scale=rating_scale,
        batch_size=batch_size,
        now=now,
        on_batch=on_batch,
        resume_after=resume_after,
        in_batch=in_batch,
    )
    if report.rejected:
        write_rejects(target, report.rejected)
        report.rejects_file = str(target)
    return report
