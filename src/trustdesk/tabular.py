"""Numbered rows from CSV or JSONL files, so every import can name the row that was wrong."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from trustdesk.errors import InvalidInput

__all__ = ["Row", "read_rows"]

csv.field_size_limit(16 * 1024 * 1024)


class Row:
    """One input record: its 1-based data row number, its fields, or why it could not be read."""

    __slots__ = ("error", "fields", "number")

    def __init__(self, number: int, fields: dict[str, Any], error: str | None = None) -> None:
        self.number = number
        self.fields = fields
        self.error = error


def _open_text(path: Path) -> IO[str]:
    raw: IO[bytes] = (
        gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")  # type: ignore[assignment]  # noqa: SIM115
    )
    # Broken UTF-8 is reported per row below instead of failing the whole file.
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _has_broken_text(fields: dict[str, Any]) -> str | None:
    for key, value in fields.items():
        if isinstance(value, str) and any("\udc80" <= ch <= "\udcff" for ch in value):
            return f"column {key!r} is not valid UTF-8"
    return None


def detect_format(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    raise InvalidInput(f"{path.name}: unknown file type (use .csv, .jsonl, optionally .gz)")


def read_rows(path: Path, required: tuple[str, ...] = ()) -> Iterator[Row]:
    """Yield rows; a missing required column fails the whole file before anything is stored."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    fmt = detect_format(path)
    with _open_text(path) as fh:
        if fmt == "csv":
            yield from _csv_rows(fh, required, path)
        else:
            yield from _jsonl_rows(fh)


def _csv_rows(fh: IO[str], required: tuple[str, ...], path: Path) -> Iterator[Row]:
    reader = csv.DictReader(fh, delimiter="\t" if path.name.lower().endswith(".tsv") else ",")
    header = reader.fieldnames or []
    missing = [c for c in required if c not in header]
    if missing:
        raise InvalidInput(f"{path.name}: missing column(s): {', '.join(missing)}")
    for number, fields in enumerate(reader, start=1):
        if None in fields:
            yield Row(number, {}, "row has more fields than the header")
            continue
        yield Row(number, dict(fields), _has_broken_text(fields))


def _jsonl_rows(fh: IO[str]) -> Iterator[Row]:
    number = 0
    for line in fh:
        if not line.strip():
            continue
        number += 1
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Row(number, {}, f"not valid JSON: {exc.msg}")
            continue
        if not isinstance(value, dict):
            yield Row(number, {}, "each line must be a JSON object")
            continue
        yield Row(number, value, _has_broken_text(value))
