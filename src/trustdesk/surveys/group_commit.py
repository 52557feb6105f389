"""Group commit for the response pages (`POST /s/{token}`, `POST /s/open/{token}`), on
`trustdesk.group_commit`.

Each submission written alone was a transaction of its own through the one writer gate: at 100
submissions/s a server process was at the edge of its capacity and queues formed by chance.
Submissions that arrive while a batch is being written now wait, and the next transaction takes
them all (`submissions.submit_many`: the invitations locked in one query, one insert per survey,
one audit append, the trust job made due once). Each page is answered after its own commit with
its own outcome (thanks, used link, expired, answer off its scale). A batch that fails as a whole
(say, another server process stored one of its respondents meanwhile) is rolled back and each
submission retried alone, so one never sinks the others. Single use per link holds within a
batch (a second submission of the same link is refused), across batches (one writer per process)
and across processes (the invitation row is locked; the response's unique respondent key).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from trustdesk.group_commit import GroupCommit
from trustdesk.observability import Metrics
from trustdesk.platform import Platform
from trustdesk.surveys.submissions import Outcome, Submission, submit_many, submit_one

__all__ = ["MAX_BATCH", "SubmissionWriter", "submission_writer"]

MAX_BATCH = 200
SubmissionWriter = GroupCommit[Submission, int]


def submission_writer(platform: Platform, metrics: Metrics | None = None) -> SubmissionWriter:
    """The writer for one app (one per process): `await writer.submit(Submission(...))`."""
    data_dir = platform.settings.data_dir

    def together(session: Session, batch: Sequence[Submission]) -> list[Outcome]:
        return submit_many(session, platform.vault, batch, data_dir=data_dir)

    def alone(session: Session, submission: Submission) -> int:
        return submit_one(session, platform.vault, submission, data_dir=data_dir)

    return SubmissionWriter(
        platform.db, "surveys.submit", together=together, alone=alone, max_batch=MAX_BATCH,
        metrics=metrics,
    )  # fmt: skip
