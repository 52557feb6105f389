"""Feedback files uploaded on the web page, imported by the `feedback.uploads` job.

The upload page queues the saved file with the form's choices (`queue`); the job (any worker, any
server) stores its rows with the same service as `trustdesk feedback import`, then analyses and
indexes them, recording progress in each batch's transaction, and resumes where an interrupted run
stopped (`trustdesk.jobs.uploads`).
"""

from __future__ import annotations

from pathlib import Path

from trustdesk.feedback.analysis import default_analyser
from trustdesk.feedback.importing import ColumnMap, analyse_pending, import_feedback_file
from trustdesk.jobs.public import (
    JobContext,
    Rejected,
    Upload,
    UploadTask,
    find_upload,
    queue_upload,
    recent_uploads,
    run_uploads,
    upload_rejects,
)
from trustdesk.platform import Platform

__all__ = ["EVENT", "KIND", "import_uploads", "progress", "queue", "recent", "rejects"]

KIND = "feedback"
EVENT = "feedback.uploaded"
BATCH_ROWS = 5000
ANALYSIS_ROWS = 2000


def queue(
    platform: Platform, *, owner: int, actor: str, path: Path, options: dict[str, str]
) -> Upload:
    """Queue a saved feedback file with the form's choices (source, column names, rating scale)."""
    return queue_upload(
        platform.db, kind=KIND, event=EVENT, owner=owner, actor=actor, path=path, options=options
    )


def recent(platform: Platform, owner: int) -> list[Upload]:
    """The user's latest uploads, newest first."""
    with platform.db.reading() as session:
        return recent_uploads(session, owner, KIND)


def progress(platform: Platform, upload_id: str, owner: int) -> Upload:
    """One of the user's uploads (NotFound for anyone else's)."""
    with platform.db.reading() as session:
        return find_upload(session, platform.vault, upload_id, owner)


def rejects(platform: Platform, upload_id: str, owner: int) -> list[Rejected]:
    """Every rejected row of one of the user's uploads."""
    with platform.db.reading() as session:
        return upload_rejects(session, platform.vault, upload_id, owner)


def _columns(options: dict[str, str]) -> ColumnMap:
    return ColumnMap(
        external_id=options.get("id_column") or "external_id",
        text=options.get("text_column") or "text",
        at=options.get("time_column") or "at",
        segment=options.get("segment_column") or None,
        customer=options.get("customer_column") or None,
        rating=options.get("rating_column") or None,
        rating_scale=None,
        channel=None,
        language=None,
        source=None,
    )


def _work(platform: Platform, task: UploadTask) -> None:
    vault = platform.vault
    if task.state == "storing":
        options = task.options
        report = import_feedback_file(
            platform.db,
            vault,
            task.path,
            None,  # stored first, analysed below
            actor=task.actor,
            source=options["source"],
            columns=_columns(options),
            rating_scale=options["rating_scale"],
            rejects_path=task.path.with_name("rejects.csv"),
            batch_size=BATCH_ROWS,
            resume_after=task.resume_after,
            in_batch=lambda session, so_far, last: task.stored(session, vault, so_far, last),
            on_batch=lambda _: task.checkpoint(),
        )
        with platform.db.transaction() as session:
            task.storing_done(session, vault, report, then="analysing")
    analyse_pending(
        platform.db,
        vault,
        default_analyser(platform.settings.data_dir),
        batch_size=ANALYSIS_ROWS,
        in_batch=task.analysed,
        on_batch=lambda _: task.checkpoint(),
    )


def import_uploads(context: JobContext) -> str:
    """The `feedback.uploads` job: import queued feedback uploads, then analyse them."""
    return run_uploads(
        context, kind=KIND, event=EVENT, work=lambda task: _work(context.platform, task)
    )
