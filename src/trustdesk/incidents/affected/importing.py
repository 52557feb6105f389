"""The forensic list of affected customers: a CSV (or JSONL) of `external_id` or `email` and the
`data_categories` exposed (`;`-separated). Idempotent: importing a file again changes nothing; a
customer already listed gains the new categories. Rows naming an unknown category or no known
customer are rejected (named in the rejects file), good rows are kept. One transaction.

Set-based: every customer is resolved in chunks through the customers facade, the incident's
current list is read once, and new and changed rows are written with one executemany each (COPY
on PostgreSQL), so a million rows take seconds, not the hour a row-by-row ORM import takes.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import bindparam, text, update
from sqlalchemy.orm import Session

from trustdesk.audit import chain as audit
from trustdesk.crypto import Vault
from trustdesk.csv_output import SafeWriter
from trustdesk.customers.public import (
    customer_ids_by_email_index,
    every_place,
    jurisdictions,
    jurisdictions_by_id,
)
from trustdesk.errors import DomainError, InvalidInput
from trustdesk.incidents.categories import parse_categories
from trustdesk.incidents.models import AffectedRecord
from trustdesk.incidents.register.service import load
from trustdesk.private_files import open_private_text
from trustdesk.tabular import read_header, read_rows

__all__ = [
    "AffectedImport",
    "Line",
    "Masks",
    "Rejected",
    "check_columns",
    "finish_import",
    "import_affected_file",
    "import_affected_rows",
    "parse_line",
    "store",
]


_SCAN_FROM = 20_000  # from this many ids, one scan of all customers beats chunked lookups


@dataclass(frozen=True)
class Rejected:
    row: int
    key: str
    reason: str


@dataclass
class AffectedImport:
    rows: int = 0
    imported: int = 0  # customers the file names, after merging their rows
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    rejects_file: str | None = None


class Line(NamedTuple):  # a named tuple: a million are made per import
    row: int
    external_id: str
    email: str
    mask: int


def _plain_csv(path: Path) -> list[list[str]] | None:
    """The records of a plain UTF-8 CSV read in one pass, or None when anything about the file
    needs the careful reader (compressed, JSONL, a quoting error, a ragged or NUL row)."""
    if path.suffix.lower() != ".csv":
        return None
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            records = list(csv.reader(fh, strict=True))
    except (csv.Error, UnicodeDecodeError, OSError):
        return None
    if not records:
        return None
    width = len(records[0])
    if any(len(r) != width and r for r in records):
        return None
    with path.open(encoding="utf-8-sig") as fh:
        if "\x00" in fh.read():
            return None
    return records


def _fields(path: Path) -> Iterator[tuple[int, dict[str, Any], str | None]]:
    records = _plain_csv(path)
    if records is None:
        for row in read_rows(
            path, ("data_categories",), single_line=("external_id", "email", "data_categories")
        ):
            yield row.number, row.fields, row.error
        return
    header = [h.strip() for h in records[0]]
    if "data_categories" not in header:
        raise InvalidInput(f"{path.name}: missing column(s): data_categories")
    number = 0
    for record in records[1:]:
        if not record:
            continue
        number += 1
        yield number, dict(zip(header, record, strict=True)), None


class Masks:
    """Category lists to masks, each distinct list parsed once (a file repeats a few)."""

    def __init__(self) -> None:
        self._found: dict[str, int | str] = {}

    def __call__(self, raw: str) -> int | str:
        """The mask, or why the list is refused."""
        found = self._found.get(raw)
        if found is None:
            try:
                found = parse_categories(raw.split(";")) or "no data categories"
            except DomainError as exc:
                found = exc.detail
            self._found[raw] = found
        return found


def check_columns(names: Iterable[str], what: str) -> None:
    names = set(names)
    if "external_id" not in names and "email" not in names:
        raise InvalidInput(f"{what}: needs an external_id or an email column")
    if "data_categories" not in names:
        raise InvalidInput(f"{what}: missing column(s): data_categories")


def parse_line(
    number: int, external_id: str, email: str, categories: str, masks: Masks
) -> Line | Rejected:
    """One row of the forensic list, read as every reader of it reads it (file or partition)."""
    external_id, email = external_id.strip(), email.strip().lower()
    if not external_id and not email:
        return Rejected(number, "", "no external_id or email")
    mask = masks(categories)
    if isinstance(mask, str):
        return Rejected(number, external_id, mask)
    return Line(number, external_id, email, mask)


def _lines(path: Path, report: AffectedImport) -> Iterator[Line]:
    header = read_header(path)
    if "external_id" not in header and "email" not in header:
        raise InvalidInput(f"{path.name}: needs an external_id or an email column")
    mask_of_text = Masks()

    records = _plain_csv(path)
    if records is not None:  # the fast path: columns by position, no dict per row
        names = [h.strip() for h in records[0]]
        check_columns(names, path.name)
        at_id = names.index("external_id") if "external_id" in names else None
        at_email = names.index("email") if "email" in names else None
        at_cat = names.index("data_categories")
        number = 0
        for record in records[1:]:
            if not record:
                continue
            number += 1
            line = parse_line(
                number,
                record[at_id] if at_id is not None else "",
                record[at_email] if at_email is not None else "",
                record[at_cat],
                mask_of_text,
            )
            if isinstance(line, Rejected):
                report.rejected.append(line)
            else:
                yield line
        report.rows += number
        return
    for number, f, error in _fields(path):
        report.rows += 1
        external_id = str(f.get("external_id") or "").strip()
        email = str(f.get("email") or "").strip().lower()
        key = external_id  # an email is personal data: rows without an id are named by number
        if error:
            report.rejected.append(Rejected(number, key, error))
            continue
        if not external_id and not email:
            report.rejected.append(Rejected(number, "", "no external_id or email"))
            continue
        mask = mask_of_text(str(f.get("data_categories") or ""))
        if isinstance(mask, str):
            report.rejected.append(Rejected(number, key, mask))
            continue
        yield Line(number, external_id, email, mask)


def import_affected_rows(
    session: Session, vault: Vault, incident_id: int, lines: Iterable[Line], report: AffectedImport
) -> dict[int, tuple[str | None, int]]:
    """{customer id: (jurisdiction, mask)} of the lines' customers; unknown ones rejected."""
    lines = list(lines)
    wanted = [ln.external_id for ln in lines if ln.external_id]
    places: dict[str, tuple[int, str | None]]
    if len(wanted) >= _SCAN_FROM:
        places = every_place(session)
    else:
        places = {k: (p.id, p.jurisdiction) for k, p in jurisdictions(session, wanted).items()}
    by_email: dict[str, tuple[int, str | None]] = {}
    emails = [ln.email for ln in lines if not ln.external_id and ln.email]
    if emails:
        digests = {e: vault.blind_index("email", e) for e in set(emails)}
        ids = customer_ids_by_email_index(session, (d for d in digests.values() if d))
        found_by_id = jurisdictions_by_id(session, ids.values())
        for email, digest in digests.items():
            cid = ids.get(digest) if digest else None
            if cid is not None and cid in found_by_id:
                by_email[email] = (cid, found_by_id[cid].jurisdiction)
    merged: dict[int, tuple[str | None, int]] = {}
    for ln in lines:
        place = places.get(ln.external_id) if ln.external_id else by_email.get(ln.email)
        if place is None:
            what = f"external_id {ln.external_id!r}" if ln.external_id else "that email"
            report.rejected.append(Rejected(ln.row, ln.external_id, f"no customer with {what}"))
            continue
        cid, where = place
        before = merged.get(cid)
        merged[cid] = (where, ln.mask if before is None else ln.mask | before[1])
    return merged


def store(
    session: Session,
    incident_id: int,
    found: dict[int, tuple[str | None, int]],
    *,
    source: str,
    report: AffectedImport,
) -> None:
    """Add new customers, widen the categories of listed ones; set-based."""
    rows = session.connection().execute(  # plain rows: a million of them, no ORM
        text("SELECT customer_id, categories FROM incident_affected WHERE incident_id = :i"),
        {"i": incident_id},
    )
    existing: dict[int, int] = {int(row[0]): int(row[1]) for row in rows}
    new: list[tuple[object, ...]] = []
    widened: list[dict[str, object]] = []
    for cid, (place, mask) in found.items():
        old = existing.get(cid)
        if old is None:
            new.append((incident_id, cid, place, mask, source))
        elif old | mask != old:
            widened.append({"cid": cid, "mask": old | mask})
        else:
            report.unchanged += 1
    report.imported += len(found)
    report.added += len(new)
    report.changed += len(widened)
    _insert(session, new)
    if widened:
        session.execute(
            update(AffectedRecord)
            .where(
                AffectedRecord.incident_id == incident_id,
                AffectedRecord.customer_id == bindparam("cid"),
            )
            .values(categories=bindparam("mask"))
            .execution_options(synchronize_session=False),
            widened,
        )


_COLUMNS = ("incident_id", "customer_id", "jurisdiction", "categories", "source")


def _insert(session: Session, rows: list[tuple[object, ...]]) -> None:
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        cursor = raw.cursor()  # type: ignore[union-attr]
        with cursor.copy(  # COPY: the fastest way into PostgreSQL, in the same transaction
            f"COPY incident_affected ({', '.join(_COLUMNS)}) FROM STDIN"
        ) as copy:
            for r in rows:
                copy.write_row(r)
        return
    connection.exec_driver_sql(  # the driver's executemany: no ORM bookkeeping per row
        f"INSERT INTO incident_affected ({', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?, ?)",  # noqa: S608 - fixed column names
        rows,
    )


def import_affected_file(
    session: Session,
    vault: Vault,
    incident_id: int,
    path: Path,
    *,
    actor: str,
    rejects_path: Path | None = None,
) -> AffectedImport:
    """Import the forensic list into the incident (NotFound for an unknown incident)."""
    load(session, incident_id)
    report = AffectedImport()
    found = import_affected_rows(session, vault, incident_id, _lines(path, report), report)
    finish_import(session, incident_id, path, found, report, actor=actor, rejects_path=rejects_path)
    return report


def finish_import(
    session: Session,
    incident_id: int,
    path: Path,
    found: dict[int, tuple[str | None, int]],
    report: AffectedImport,
    *,
    actor: str,
    rejects_path: Path | None,
    engine: str = "embedded",
) -> None:
    """Store the resolved customers, name the rejected rows in a file, audit the import."""
    store(session, incident_id, found, source="import", report=report)
    report.rejected.sort(key=lambda r: r.row)
    if report.rejected:
        target = rejects_path or path.with_name(path.name + ".rejects.csv")
        with open_private_text(target) as fh:
            writer = SafeWriter(fh)
            writer.writerow(["row", "key", "reason"])
            for bad in report.rejected:
                writer.writerow([bad.row, bad.key, bad.reason])
        report.rejects_file = str(target)
    audit.record(
        session,
        actor=actor,
        action="incident.affected_imported",
        entity_type="incident",
        entity_id=incident_id,
        changes={
            "file": path.name,
            "rows": report.rows,
            "added": report.added,
            "changed": report.changed,
            "rejected": len(report.rejected),
            **({} if engine == "embedded" else {"engine": engine}),
        },
    )
