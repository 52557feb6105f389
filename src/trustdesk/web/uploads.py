"""CSV uploads from the web pages: receiving the file, the progress page (it refreshes itself with a
meta refresh: no script needed) and the rejected-rows download.

The uploaded file is saved owner-only under the data directory; the capability queues it for its
upload job (`trustdesk.jobs.uploads`), which imports it batch by batch through the same services
as the CLI and keeps its progress in the database, so any server process shows the same page and
an interrupted import resumes. The file is deleted when the import ends. Only the user who
uploaded a file sees its progress and its rejected rows.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from fastapi import Request, UploadFile
from starlette.responses import Response

from trustdesk.errors import InvalidInput
from trustdesk.private_files import private_dir, write_private
from trustdesk.web.downloads import csv_download
from trustdesk.web.templating import render

__all__ = ["UploadPages", "UploadView", "rejects_rows", "save_upload", "upload_folder"]

_CHUNK = 1024 * 1024


class UploadView(Protocol):
    """What the progress page shows of an upload (`trustdesk.jobs.public.Upload`)."""

    @property
    def id(self) -> str: ...
    @property
    def filename(self) -> str: ...
    @property
    def running(self) -> bool: ...


def upload_folder(data_dir: Path) -> Path:
    """Where uploaded files wait for their import (each in an owner-only folder of its own)."""
    return data_dir / "uploads"


def save_upload(folder: Path, filename: str, source: BinaryIO, *, limit: int) -> Path:
    """Copy an uploaded file into a fresh owner-only folder; refuses an empty or a non-CSV one."""
    name = Path(filename or "upload.csv").name
    if not name.lower().endswith((".csv", ".csv.gz", ".jsonl", ".jsonl.gz")):
        raise InvalidInput("choose a .csv file (or .jsonl, optionally .gz)")
    target = write_private(private_dir(folder / secrets.token_hex(8)) / name, b"")
    size = 0
    try:
        with target.open("ab") as out:
            while chunk := source.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise InvalidInput(f"the file must be at most {limit:,} bytes")
                out.write(chunk)
        if not size:
            raise InvalidInput("the file is empty")
    except BaseException:
        shutil.rmtree(target.parent, ignore_errors=True)
        raise
    return target


def rejects_rows(rejected: Iterable[Any]) -> list[list[Any]]:
    """The rejected rows as CSV rows: row, external_id, reason."""
    return [[r.row, r.external_id or "", r.reason] for r in rejected]


@dataclass(frozen=True)
class UploadPages:
    """What every CSV upload page shares (customers, feedback): receiving the file, the progress
    page and the rejected-rows download. Each capability keeps its own form and its import work."""

    kind: str  # the upload job's kind, e.g. "customers"
    title: str  # "Customer import"
    base: str  # the pages' prefix, e.g. "/customers"
    list_label: str  # "Open the customer list"

    def receive(self, data_dir: Path, file: UploadFile | None, *, limit: int) -> Path:
        """The uploaded file saved owner-only (InvalidInput when none was chosen or it is bad)."""
        if file is None or not file.filename:
            raise InvalidInput("choose a CSV file to upload")
        return save_upload(upload_folder(data_dir), file.filename, file.file, limit=limit)

    def progress(self, request: Request, found: UploadView) -> Response:
        context = {
            "upload": found,
            "title": self.title,
            "again_href": f"{self.base}/import",
            "list_href": self.base,
            "list_label": self.list_label,
            "rejects_href": f"{self.base}/imports/{found.id}/rejects.csv",
        }
        return render(request, "imports/progress.html", context)

    def rejects(self, rejected: Sequence[Any]) -> Response:
        return csv_download(
            f"{self.kind}-import-rejects.csv",
            ["row", "external_id", "reason"],
            rejects_rows(rejected),
        )
