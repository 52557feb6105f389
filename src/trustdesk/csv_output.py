"""CSV files TrustDesk writes (rejects, analysis output, scores): every one goes through these
writers, which neutralise cells a spreadsheet would run as a formula (OWASP CSV injection)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

__all__ = ["SafeDictWriter", "SafeWriter", "neutralise"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise(value: Any) -> Any:
    """A text cell starting with = + - @ TAB or CR gets a leading `'`, so a spreadsheet shows
    it as text instead of evaluating it; plain numbers such as -3.5 are left as they are."""
    if isinstance(value, str) and value.startswith(_TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeWriter:
    """`csv.writer` whose cells are neutralised."""

    def __init__(self, fh: IO[str]) -> None:
        self._writer = csv.writer(fh)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([neutralise(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter:
    """`csv.DictWriter(extrasaction="ignore")` whose header and cells are neutralised."""

    def __init__(self, fh: IO[str], fieldnames: Sequence[str]) -> None:
        self._writer = SafeWriter(fh)
        self.fieldnames = list(fieldnames)

    def writeheader(self) -> None:
        self._writer.writerow(self.fieldnames)

    def writerow(self, row: Mapping[str, Any]) -> None:
        self._writer.writerow([row.get(name, "") for name in self.fieldnames])
