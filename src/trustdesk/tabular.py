"""Numbered rows from CSV or JSONL files, so every import can name the row that was wrong.

Nothing inside a file stops an import: a record that cannot be read (a cell over 16 MiB, a NUL,
JSON nested without end, an unclosed quote, text that is not UTF-8) becomes a rejected row with
its line numbers, and reading goes on. An unclosed quote would otherwise swallow the rows after
it into one field; here the record is checked (strict quoting, its field count, no line break in
a column that is a single line) and, when it is bad, only its first line is rejected: the lines
after it are read again as rows of their own. Only a file that cannot be read at all (missing, a
directory, UTF-16, no usable header) fails as a whole, with one line.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import IO, Any

from trustdesk.errors import InvalidInput
from trustdesk.input_files import check_input_file

__all__ = ["MAX_COLUMNS", "MAX_FIELD_CHARS", "Row", "read_header", "read_rows"]

MAX_FIELD_CHARS = 16 * 1024 * 1024
MAX_LINE_CHARS = 2 * MAX_FIELD_CHARS  # a longer line is skipped without being held in memory
MAX_COLUMNS = 4096
MAX_JSON_DEPTH = 32

_SURROGATE = re.compile("[\ud800-\udfff]")  # lone surrogates: bytes that were not UTF-8

csv.field_size_limit(MAX_FIELD_CHARS)


class Row:
    """One input record: its 1-based data row number, its fields, or why it could not be read."""

    __slots__ = ("error", "fields", "number")

    def __init__(self, number: int, fields: dict[str, Any], error: str | None = None) -> None:
        self.number = number
        self.fields = fields
        self.error = error


class _Unreadable(Exception):
    """The file stops being readable here (a truncated or corrupt .gz, an I/O error)."""


class _LineTooLong(Exception):
    pass


class _Lines:
    """The physical lines of a text file for csv.reader / JSONL, each numbered, none longer than
    MAX_LINE_CHARS; the lines of the record being read are kept, so that all but the first
    line of a bad record can be handed back and read again."""

    def __init__(self, fh: IO[str]) -> None:
        self._fh = fh
        self._again: list[tuple[int, str]] = []  # handed back, last to read first
        self._read = 0
        self.taken: list[tuple[int, str]] = []
        self.last = 0  # number of the last line handed out

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        number, line = self._again.pop() if self._again else self._physical()
        self.last = number
        self.taken.append((number, line))
        return line

    def _physical(self) -> tuple[int, str]:
        try:
            line = self._fh.readline(MAX_LINE_CHARS)
            if not line:
                raise StopIteration
            self._read += 1
            if len(line) >= MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
                while (rest := self._fh.readline(MAX_LINE_CHARS)) and not rest.endswith(
                    ("\n", "\r")
                ):
                    pass
                self.last = self._read
                raise _LineTooLong(f"the line is longer than {_mib(MAX_LINE_CHARS)}")
        except (OSError, EOFError, zlib.error) as exc:
            raise _Unreadable(f"the file cannot be read after line {self._read} ({exc})") from None
        return self._read, line

    def start_record(self) -> None:
        self.taken.clear()

    def span(self) -> str:
        first = self.taken[0][0] if self.taken else self.last
        last = max(self.last, first)
        return f"line {first}" if first == last else f"lines {first}-{last}"

    def read_again_after_first(self) -> None:
        """Hand back every line of the current record but its first."""
        self._again.extend(reversed(self.taken[1:]))


def _mib(chars: int) -> str:
    return f"{chars // (1024 * 1024)} MiB"


def _open_text(path: Path) -> IO[str]:
    try:
        raw: IO[bytes] = (
            gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")  # type: ignore[assignment]  # noqa: SIM115
        )
        head = raw.peek(4)[:4] if hasattr(raw, "peek") else b""
    except (OSError, EOFError, zlib.error) as exc:
        raise InvalidInput(f"cannot read {path.name}: {exc}") from None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raw.close()
        raise InvalidInput(f"{path.name}: the file is UTF-16/32; save it as UTF-8")
    # Broken UTF-8 is reported per row below instead of failing the whole file.
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")


def _column(name: str) -> str:
    """A column name as it may appear in a reason: quoted, escaped and short."""
    return f"column {name[:40]!r}"


def _text_problem(key: str, value: Any, depth: int = 0) -> str | None:
    """Why a value cannot be stored as text: broken UTF-8, NUL, too long, nested too deep."""
    if isinstance(value, str):
        if not value.isascii() and _SURROGATE.search(value):
            return f"{_column(key)} is not valid UTF-8"
        if "\x00" in value:
            return f"{_column(key)} contains a NUL character"
        if len(value) > MAX_FIELD_CHARS:
            return f"{_column(key)} is longer than {_mib(MAX_FIELD_CHARS)}"
        return None
    if isinstance(value, dict | list):
        if depth >= MAX_JSON_DEPTH:
            return f"{_column(key)} is nested deeper than {MAX_JSON_DEPTH} levels"
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in items:
            problem = _text_problem(key, k, depth + 1) or _text_problem(key, v, depth + 1)
            if problem:
                return problem
    return None


def _printable(value: Any) -> Any:
    """Lone surrogates (broken UTF-8) replaced, so a rejected row's id can be shown and saved."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


def _checked(number: int, fields: dict[str, Any]) -> Row:
    try:  # the common case, checked in one pass: short ASCII text without NUL
        text = "".join(fields) + "".join(fields.values())
    except TypeError:  # a JSON value that is no string
        text = None
    if text is not None and len(text) <= MAX_FIELD_CHARS and text.isascii() and "\x00" not in text:
        return Row(number, fields)
    for key, value in fields.items():
        problem = _text_problem(key, key) or _text_problem(key, value)
        if problem:
            return Row(number, {str(k): _printable(v) for k, v in fields.items()}, problem)
    return Row(number, fields)


def detect_format(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith((".csv", ".tsv", ".txt")):
        return "csv"
    raise InvalidInput(f"{path.name}: unknown file type (use .csv, .jsonl, optionally .gz)")


def read_rows(
    path: Path, required: tuple[str, ...] = (), *, single_line: Collection[str] = ()
) -> Iterator[Row]:
    """Yield rows; a missing required column fails the whole file before anything is stored.

    `single_line`: CSV columns whose values never span lines (ids, times, amounts): a line
    break in one means a quote was left open, and the record is rejected and read again."""
    check_input_file(path)
    fmt = detect_format(path)
    with _open_text(path) as fh:
        lines = _Lines(fh)
        if fmt == "csv":
            yield from _csv_rows(lines, path, required, frozenset(single_line))
        else:
            yield from _jsonl_rows(lines)


def read_header(path: Path) -> list[str]:
    """The column names: the CSV header, or the keys of a JSONL file's first good object."""
    check_input_file(path)
    fmt = detect_format(path)
    with _open_text(path) as fh:
        lines = _Lines(fh)
        if fmt == "csv":
            return _csv_header(_csv_reader(lines, path), path)
        for row in _jsonl_rows(lines):
            if not row.error:
                return list(row.fields)
    return []


def _csv_reader(lines: _Lines, path: Path) -> Any:
    delimiter = "\t" if path.name.lower().removesuffix(".gz").endswith(".tsv") else ","
    return csv.reader(lines, delimiter=delimiter, strict=True)


def _csv_header(reader: Any, path: Path) -> list[str]:
    try:
        header: list[str] = next(reader, [])
    except (csv.Error, _LineTooLong) as exc:
        raise InvalidInput(f"{path.name}: the header line is not readable CSV ({exc})") from None
    except _Unreadable as exc:
        raise InvalidInput(f"{path.name}: {exc}") from None
    if len(header) > MAX_COLUMNS:
        raise InvalidInput(f"{path.name}: {len(header)} columns (at most {MAX_COLUMNS})")
    for name in header:
        if "\x00" in name:
            raise InvalidInput(f"{path.name}: the header holds NUL characters (UTF-16? binary?)")
        if _text_problem("header", name):
            raise InvalidInput(f"{path.name}: the header is not UTF-8 text; save it as UTF-8")
    duplicates = sorted({n for n in header if header.count(n) > 1})
    if duplicates:
        raise InvalidInput(f"{path.name}: column(s) named twice: {', '.join(duplicates)}")
    return header


def _csv_rows(
    lines: _Lines, path: Path, required: tuple[str, ...], single_line: frozenset[str]
) -> Iterator[Row]:
    reader = _csv_reader(lines, path)
    header = _csv_header(reader, path)
    missing = [c for c in required if c not in header]
    if missing:
        raise InvalidInput(f"{path.name}: missing column(s): {', '.join(missing)}")
    checked = [i for i, name in enumerate(header) if name in single_line]
    number = 0
    while True:
        lines.start_record()
        try:
            record: list[str] = next(reader)
        except StopIteration:
            return
        except (csv.Error, _LineTooLong) as exc:
            number += 1
            yield Row(number, {}, f"{_csv_reason(exc)} ({lines.span()})")
            lines.read_again_after_first()
            continue
        except _Unreadable as exc:
            yield Row(number + 1, {}, str(exc))
            return
        if not record:  # a blank line
            continue
        number += 1
        problem = _shape_problem(record, header, checked)
        if problem:
            yield Row(number, {}, f"{problem} ({lines.span()})")
            lines.read_again_after_first()
            continue
        yield _checked(number, dict(zip(header, record, strict=True)))


def _csv_reason(exc: Exception) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return f"a value is longer than {_mib(MAX_FIELD_CHARS)}"
    if "unexpected end of data" in text or "expected after" in text:
        return f"a quote is not closed where it should be ({text})"
    return text


def _shape_problem(record: list[str], header: list[str], checked: list[int]) -> str | None:
    if len(record) != len(header):
        hint = "; an unclosed quote?" if any("\n" in v or "\r" in v for v in record) else ""
        return f"the row has {len(record)} fields, the header {len(header)}{hint}"
    for i in checked:
        if "\n" in record[i] or "\r" in record[i]:
            return f"{_column(header[i])} spans several lines; an unclosed quote?"
    return None


def _jsonl_rows(lines: _Lines) -> Iterator[Row]:
    number = 0
    while True:
        try:
            line = next(lines)
        except StopIteration:
            return
        except _LineTooLong as exc:
            number += 1
            yield Row(number, {}, f"{exc} (line {lines.last})")
            continue
        except _Unreadable as exc:
            yield Row(number + 1, {}, str(exc))
            return
        if not line.strip():
            continue
        number += 1
        try:
            value = json.loads(line, parse_constant=_no_constant)
        except ValueError as exc:  # JSONDecodeError, NaN/Infinity, ints over 4300 digits
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            yield Row(number, {}, f"not valid JSON: {reason} (line {lines.last})")
            continue
        except RecursionError:
            yield Row(number, {}, f"not valid JSON: nested too deeply (line {lines.last})")
            continue
        if not isinstance(value, dict):
            yield Row(number, {}, f"each line must be a JSON object (line {lines.last})")
            continue
        yield _checked(number, value)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")
