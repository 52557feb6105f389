"""Response pages' submissions, many at once: the use case the group-commit writer
(`surveys/group_commit.py`) runs for every batch, and for one submission alone. Nothing commits.

For a batch: the links are checked (signature), their invitations read and locked in one query,
each checked (not altered, not used — also not by an earlier submission of the same batch — not
expired), the surveys read once each, the customers' external ids in one query, every answer
checked against its scale, then one set-based insert per survey and channel, the invitations
marked used, the trust job made due once and one audit append for all. A refused submission
(bad link, used, expired, answer off its scale) gets its own error and stores nothing; the others
are stored."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.db import utcnow
from trustdesk.errors import DomainError
from trustdesk.jobs.public import changed
from trustdesk.surveys.answers import ANSWERED, PageAnswers, store_submissions
from trustdesk.surveys.distribution import survey_for_public
from trustdesk.surveys.errors import AlreadyAnswered, LinkExpired, LinkInvalid
from trustdesk.surveys.links import SurveyLinks
from trustdesk.surveys.models import SurveyInvitation
from trustdesk.surveys.service import SurveyOut, load_sent_survey

__all__ = ["Outcome", "Submission", "submit_many", "submit_one"]

ACTOR = "respondent"  # who the audit trail names: a customer by link, or anonymous


@dataclass(frozen=True)
class Submission:
    """A response page posted: the invitation link's token (or, `public`, the survey's public
    link token) and the answers as posted (item id → text, a multiple choice as "1;3")."""

    token: str
    fields: dict[str, str]
    public: bool = False
    started_at: datetime | None = None  # public link: when the form was first shown


Outcome = int | DomainError  # the response id, or why this submission was refused


def submit_one(
    session: Session,
    vault: Vault,
    submission: Submission,
    *,
    now: datetime | None = None,
    data_dir: Path | None = None,
) -> int:
    """One submission: its response id, or its refusal raised (nothing stored)."""
    outcome = submit_many(session, vault, [submission], now=now, data_dir=data_dir)[0]
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def submit_many(
    session: Session,
    vault: Vault,
    submissions: Sequence[Submission],
    *,
    now: datetime | None = None,
    data_dir: Path | None = None,
) -> list[Outcome]:
    """Store each submission's answers once; one outcome per submission, in order. A second
    submission of a single-use link (now or earlier in the batch) is AlreadyAnswered."""
    at = now or utcnow()
    outcomes: dict[int, Outcome] = {}
    # (survey id, channel) -> the pages to store, and the invitation each one uses
    groups: dict[tuple[int, str], list[PageAnswers]] = {}
    surveys: dict[int, SurveyOut] = {}
    used: dict[int, int] = {}  # submission number -> the invitation it answers
    _invitations(session, vault, submissions, at, outcomes, groups, surveys, used)
    _public(session, submissions, outcomes, groups, surveys)
    stored: list[audit.Change] = []
    answered: list[dict[str, object]] = []
    for (survey_id, channel), pages in groups.items():
        done = store_submissions(
            session, vault, surveys[survey_id], pages, channel=channel, now=at,
            data_dir=data_dir,
        )  # fmt: skip
        for number, result in done.items():
            outcomes[number] = result
            if isinstance(result, int):
                stored.append(
                    audit.Change(
                        "survey.response_submitted", "survey", survey_id,
                        {"response": result, "channel": channel},
                    )
                )  # fmt: skip
                if number in used:
                    answered.append(
                        {"id": used[number], "responded_at": at, "response_id": result,
                         "draft": None}
                    )  # fmt: skip
    if answered:  # the links are used up: one UPDATE by primary key for all
        session.execute(update(SurveyInvitation), answered)
    if stored:
        changed(session, ANSWERED, now=at)
        audit.record_many(session, actor=ACTOR, items=stored)
    return [outcomes[number] for number in range(len(submissions))]


def _invitations(
    session: Session,
    vault: Vault,
    submissions: Sequence[Submission],
    at: datetime,
    outcomes: dict[int, Outcome],
    groups: dict[tuple[int, str], list[PageAnswers]],
    surveys: dict[int, SurveyOut],
    used: dict[int, int],
) -> None:
    """Check the invitation links and queue their answers (to survey, channel "link")."""
    links = SurveyLinks.of(vault)
    wanted: dict[int, tuple[int, str]] = {}  # number -> (invitation id, nonce)
    for number, submission in enumerate(submissions):
        if submission.public:
            continue
        try:
            link = links.open(submission.token)
        except LinkInvalid as exc:
            outcomes[number] = exc
            continue
        wanted[number] = (link.invitation_id, link.nonce)
    if not wanted:
        return
    # Locked in id order, so two server processes' batches never wait for each other in a ring.
    found = {
        row.id: row
        for row in session.execute(
            select(
                SurveyInvitation.id, SurveyInvitation.survey_id, SurveyInvitation.customer_id,
                SurveyInvitation.nonce, SurveyInvitation.expires_at,
                SurveyInvitation.responded_at, SurveyInvitation.opened_at,
            )
            .where(SurveyInvitation.id.in_(sorted({i for i, _ in wanted.values()})))
            .order_by(SurveyInvitation.id)
            .with_for_update()
        )
    }  # fmt: skip
    external = customers.external_ids(
        session, {row.customer_id for row in found.values() if row.customer_id is not None}
    )
    taken: set[int] = set()  # invitations an earlier submission of this batch answers
    for number, (invitation_id, nonce) in wanted.items():
        invitation = found.get(invitation_id)
        key = external.get(invitation.customer_id or 0) if invitation is not None else None
        if invitation is None or not secrets.compare_digest(invitation.nonce, nonce):
            outcomes[number] = LinkInvalid("this link is not valid")
        elif invitation.responded_at is not None or invitation_id in taken:
            outcomes[number] = AlreadyAnswered(
                "this link was already used: your answers were received"
            )
        elif invitation.expires_at <= at:
            outcomes[number] = LinkExpired("this link has expired")
        elif key is None:  # the customer was erased since
            outcomes[number] = LinkInvalid("this link is not valid")
        else:
            survey = surveys.get(invitation.survey_id)
            if survey is None:
                survey = surveys[invitation.survey_id] = load_sent_survey(
                    session, invitation.survey_id
                )
            taken.add(invitation_id)
            used[number] = invitation_id
            groups.setdefault((survey.id, "link"), []).append(
                PageAnswers(
                    number, key, submissions[number].fields, invitation.opened_at,
                    invitation.customer_id,
                )
            )  # fmt: skip


def _public(
    session: Session,
    submissions: Sequence[Submission],
    outcomes: dict[int, Outcome],
    groups: dict[tuple[int, str], list[PageAnswers]],
    surveys: dict[int, SurveyOut],
) -> None:
    """Queue the public link's anonymous answers (channel "public"): counted in results and
    the gap, never in a customer's trust index."""
    by_token: dict[str, SurveyOut | DomainError] = {}
    for number, submission in enumerate(submissions):
        if not submission.public:
            continue
        survey = by_token.get(submission.token)
        if survey is None:
            try:
                survey = survey_for_public(session, submission.token)
            except DomainError as exc:
                survey = exc
            by_token[submission.token] = survey
        if isinstance(survey, DomainError):
            outcomes[number] = type(survey)(survey.detail)  # an error of its own per request
            continue
        surveys.setdefault(survey.id, survey)
        groups.setdefault((survey.id, "public"), []).append(
            PageAnswers(
                number, f"anon:{secrets.token_hex(12)}", submission.fields, submission.started_at
            )
        )
