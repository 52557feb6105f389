"""Customer files uploaded on the web page, imported by the `customers.uploads` job.

The upload page queues the saved file (`queue`); the job (any worker, any server) imports it with
the same service as `trustdesk customers import`, recording progress in each batch's transaction,
and resumes after the last stored row when a run was interrupted (`trustdesk.jobs.uploads`).
"""

from __future__ import annotations

from pathlib import Path

from trustdesk.customers.importing import import_customer_file
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

KIND = "customers"
EVENT = "customers.uploaded"
BATCH_ROWS = 500


def queue(platform: Platform, *, owner: int, actor: str, path: Path) -> Upload:
    """Queue a saved customer file for import; the job runs it."""
    return queue_upload(platform.db, kind=KIND, event=EVENT, owner=owner, actor=actor, path=path)


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


def _work(platform: Platform, task: UploadTask) -> None:
    vault = platform.vault
    report = import_customer_file(
        platform.db,
        vault,
        task.path,
        actor=task.actor,
        batch_size=BATCH_ROWS,
        resume_after=task.resume_after,
        in_batch=lambda session, so_far, last: task.stored(session, vault, so_far, last),
        on_batch=lambda _: task.checkpoint(),
    )
    with platform.db.transaction() as session:
        task.storing_done(session, vault, report)


def import_uploads(context: JobContext) -> str:
    """The `customers.uploads` job: import queued customer uploads."""
    return run_uploads(
        context, kind=KIND, event=EVENT, work=lambda task: _work(context.platform, task)
    )
