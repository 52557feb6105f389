"""CSV uploads from the web pages, imported in a background thread with a progress record the
page shows (it refreshes itself with a meta refresh: no script needed).

The uploaded file is saved owner-only under the data directory and deleted when the import ends.
Progress lives in the serving process (one `trustdesk serve`); the import itself commits batch
by batch through the same import services as the CLI, so a restart mid-way keeps the batches
already stored, and importing the file again is idempotent. Only the user who uploaded a file
sees its progress and its rejected rows.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from fastapi import FastAPI, Request, UploadFile
from starlette.responses import Response

from trustdesk.errors import DomainError, InvalidInput, NotFound
from trustdesk.private_files import private_dir, write_private
from trustdesk.web.downloads import csv_download
from trustdesk.web.templating import render

__all__ = [
    "KEEP",
    "Upload",
    "UploadPages",
    "UploadTracker",
    "rejects_rows",
    "save_upload",
    "tracker",
]

_log = logging.getLogger("trustdesk.uploads")
KEEP = 50  # finished uploads remembered per process (oldest forgotten first)
_CHUNK = 1024 * 1024


@dataclass
class Upload:
    """One upload's progress; the worker thread updates it, pages read it."""

    id: str
    owner: int
    kind: str  # "customers" or "feedback"
    filename: str
    estimate: int  # rows in the file, counted from its lines (multi-line cells make it high)
    started: float = field(default_factory=time.time)
    state: str = "storing"  # storing, analysing, done, failed
    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    analysed: int = 0
    rejected: list[Any] = field(default_factory=list)  # RowError: row, external_id, reason
    error: str | None = None
    finished: float | None = None

    @property
    def running(self) -> bool:
        return self.state in ("storing", "analysing")

    @property
    def percent(self) -> int:
        if not self.running:
            return 100
        if not self.estimate:
            return 0
        return min(99, round(100 * self.processed / self.estimate))


Work = Callable[[Upload], None]


class UploadTracker:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._uploads: dict[str, Upload] = {}

    def start(self, *, owner: int, kind: str, filename: str, path: Path, work: Work) -> Upload:
        """Run `work(upload)` in a background thread; the file at `path` is deleted after."""
        upload = Upload(
            id=secrets.token_urlsafe(12),
            owner=owner,
            kind=kind,
            filename=filename,
            estimate=_count_rows(path),
        )
        with self._lock:
            self._uploads[upload.id] = upload
            self._forget_old()
        thread = threading.Thread(
            target=self._run, args=(upload, path, work), name=f"upload-{upload.id}", daemon=True
        )
        thread.start()
        return upload

    def _run(self, upload: Upload, path: Path, work: Work) -> None:
        try:
            work(upload)
            upload.state = "done"
        except DomainError as exc:
            upload.error, upload.state = exc.detail, "failed"
        except Exception:  # the page must say it failed rather than spin for ever
            _log.exception("upload failed")
            upload.error, upload.state = "the import stopped on an unexpected error", "failed"
        finally:
            upload.finished = time.time()
            shutil.rmtree(path.parent, ignore_errors=True)

    def get(self, upload_id: str, owner: int) -> Upload:
        with self._lock:
            upload = self._uploads.get(upload_id)
        if upload is None or upload.owner != owner:
            raise NotFound("no such upload (uploads are forgotten when the server restarts)")
        return upload

    def recent(self, owner: int, kind: str) -> list[Upload]:
        with self._lock:
            mine = [u for u in self._uploads.values() if u.owner == owner and u.kind == kind]
        return sorted(mine, key=lambda u: u.started, reverse=True)[:10]

    def wait(self, upload_id: str, owner: int, timeout: float = 30.0) -> Upload:
        """Until the upload has finished (for tests and scripts)."""
        deadline = time.monotonic() + timeout
        upload = self.get(upload_id, owner)
        while upload.running and time.monotonic() < deadline:
            time.sleep(0.05)
        return upload

    def _forget_old(self) -> None:
        done = sorted((u for u in self._uploads.values() if not u.running), key=lambda u: u.started)
        for upload in done[: max(0, len(done) - KEEP)]:
            del self._uploads[upload.id]


_MAKING = threading.Lock()


def tracker(app: FastAPI, data_dir: Path) -> UploadTracker:
    """The app's upload tracker, made on first use (once, even by two requests at a time)."""
    with _MAKING:
        found = getattr(app.state, "uploads", None)
        if not isinstance(found, UploadTracker):
            found = UploadTracker(data_dir / "uploads")
            app.state.uploads = found
        return found


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


def _count_rows(path: Path) -> int:
    if path.name.endswith(".gz"):
        return 0  # unknown until read: the page shows rows done, without a percentage
    with path.open("rb") as fh:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(_CHUNK), b""))
    return max(0, lines - (0 if path.name.endswith(".jsonl") else 1))


def rejects_rows(rejected: Iterable[Any]) -> list[list[Any]]:
    """The rejected rows as CSV rows: row, external_id, reason."""
    return [[r.row, r.external_id or "", r.reason] for r in rejected]


@dataclass(frozen=True)
class UploadPages:
    """What every CSV upload page shares (customers, feedback): receiving the file, the progress
    page and the rejected-rows download. Each capability keeps its own form and its import work."""

    kind: str  # the tracker's kind, e.g. "customers"
    title: str  # "Customer import"
    base: str  # the pages' prefix, e.g. "/customers"
    list_label: str  # "Open the customer list"

    def receive(self, uploads: UploadTracker, file: UploadFile | None, *, limit: int) -> Path:
        """The uploaded file saved owner-only (InvalidInput when none was chosen or it is bad)."""
        if file is None or not file.filename:
            raise InvalidInput("choose a CSV file to upload")
        return save_upload(uploads.folder, file.filename, file.file, limit=limit)

    def progress(
        self, request: Request, uploads: UploadTracker, upload_id: str, owner: int
    ) -> Response:
        found = uploads.get(upload_id[:32], owner)
        context = {
            "upload": found,
            "title": self.title,
            "again_href": f"{self.base}/import",
            "list_href": self.base,
            "list_label": self.list_label,
            "rejects_href": f"{self.base}/imports/{found.id}/rejects.csv",
        }
        return render(request, "imports/progress.html", context)

    def rejects(self, uploads: UploadTracker, upload_id: str, owner: int) -> Response:
        found = uploads.get(upload_id[:32], owner)
        return csv_download(
            f"{self.kind}-import-rejects.csv",
            ["row", "external_id", "reason"],
            rejects_rows(found.rejected),
        )
