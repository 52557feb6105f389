"""The forensic list resolved on a Dask cluster (`incidents affected import --engine dask`).

A breach's list can name every customer many times over (one row per exposed record). The list
is read as partitions (a CSV or Parquet file, or a directory of them); each worker parses its
rows with the embedded reader's own `parse_line` and joins them with the customers' external ids
(one copy of `{external_id: (id, jurisdiction)}` sent to every worker), merging a customer's rows
by OR-ing their category masks. What comes back per partition is its customers, its rejected rows
and the rows that name a customer by email only: those are resolved here through the blind
index, because the index key never leaves this process. Storing, the rejects file and the audit
entry are the embedded import's (`finish_import`), so the affected set is the same.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from trustdesk.crypto import Vault
from trustdesk.customers.public import every_place
from trustdesk.dask_engine import read_partitions
from trustdesk.incidents.affected.importing import (
    AffectedImport,
    Line,
    Masks,
    Rejected,
    check_columns,
    finish_import,
    import_affected_rows,
    parse_line,
)
from trustdesk.incidents.register.service import load

__all__ = ["Partial", "import_affected_partitions", "resolve_partition"]

Found = dict[int, tuple[str | None, int]]


@dataclass
class Partial:
    """One partition's share; row numbers are the partition's own (1 = its first data row)."""

    rows: int = 0
    found: Found = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    by_email: list[Line] = field(default_factory=list)


def resolve_partition(frame: pd.DataFrame, places: dict[str, tuple[int, str | None]]) -> Partial:
    """Parse and resolve one partition (runs on a worker)."""
    part = Partial(rows=len(frame))
    masks = Masks()
    blank = pd.Series([""] * len(frame), index=frame.index, dtype=object)
    ids = frame["external_id"] if "external_id" in frame.columns else blank
    emails = frame["email"] if "email" in frame.columns else blank
    categories_ = frame["data_categories"].fillna("")
    columns = zip(ids.fillna(""), emails.fillna(""), categories_, strict=True)
    for number, (external_id, email, categories) in enumerate(columns, start=1):
        line = parse_line(number, str(external_id), str(email), str(categories), masks)
        if isinstance(line, Rejected):
            part.rejected.append(line)
            continue
        if not line.external_id:
            part.by_email.append(line)
            continue
        place = places.get(line.external_id)
        if place is None:
            reason = f"no customer with external_id {line.external_id!r}"
            part.rejected.append(Rejected(line.row, line.external_id, reason))
            continue
        cid, where = place
        before = part.found.get(cid)
        part.found[cid] = (where, line.mask if before is None else line.mask | before[1])
    return part


def _merge_into(found: Found, more: Found) -> None:
    for cid, (where, mask) in more.items():
        before = found.get(cid)
        found[cid] = (where, mask if before is None else mask | before[1])


def import_affected_partitions(
    session: Session,
    vault: Vault,
    incident_id: int,
    source: Path,
    client: Any,
    *,
    actor: str,
    rejects_path: Path | None = None,
) -> AffectedImport:
    """Import the forensic list at `source` (file or directory of partitions) on `client`'s
    cluster: the embedded import's result, the parsing and joining done by the workers."""
    load(session, incident_id)
    frame = read_partitions(source)
    check_columns(frame.columns, source.name)
    places = client.scatter(every_place(session), broadcast=True)
    parts = frame.to_delayed()
    futures = client.compute([_resolve(part, places) for part in parts])
    report = AffectedImport()
    found: Found = {}
    by_email: list[Line] = []
    offset = 0
    for partial in client.gather(futures):  # in partition order: row numbers as in one file
        report.rows += partial.rows
        report.rejected.extend(replace(r, row=r.row + offset) for r in partial.rejected)
        by_email.extend(ln._replace(row=ln.row + offset) for ln in partial.by_email)
        _merge_into(found, partial.found)
        offset += partial.rows
    if by_email:
        _merge_into(found, import_affected_rows(session, vault, incident_id, by_email, report))
    finish_import(
        session,
        incident_id,
        source,
        found,
        report,
        actor=actor,
        rejects_path=rejects_path,
        engine="dask",
    )
    return report


def _resolve(part: Any, places: Any) -> Any:
    dask: Any = importlib.import_module("dask")
    return dask.delayed(resolve_partition, pure=True)(part, places)
