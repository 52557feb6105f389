"""Distribution: invite customers by signed, expiring, single-use links emailed through the
outbox (only those whose consent allows "research" by email), remind once, never inside quiet
hours; the response pages' use cases (open, save and resume; submitting is `submissions.py`);
and the response rate. Nothing commits."""

from __future__ import annotations

import json
import secrets
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.db import utcnow
from trustdesk.jobs.public import changed
from trustdesk.outbox.public import enqueue_email
from trustdesk.privacy.public import may_contact
from trustdesk.surveys.errors import AlreadyAnswered, InvalidSurvey, LinkExpired, LinkInvalid
from trustdesk.surveys.links import SurveyLinks
from trustdesk.surveys.models import Survey, SurveyInvitation, SurveyResponse
from trustdesk.surveys.quiet import next_allowed
from trustdesk.surveys.service import SurveyOut, load_sent_survey, load_survey

__all__ = [
    "INVITED",
    "PURPOSE",
    "DeliveryRun",
    "Distribution",
    "Invitation",
    "ResponseStats",
    "deliver_due",
    "invite",
    "open_invitation",
    "public_link",
    "response_stats",
    "save_draft",
    "survey_for_link",
    "survey_for_public",
]

PURPOSE, CHANNEL = "research", "email"
INVITED = "surveys.invited"
"""The event `invite` signals: the delivery job sends what is due."""
_BATCH = 500


@dataclass(frozen=True)
class Distribution:
    invited: int  # new invitations
    already: int  # customers invited before
    no_consent: int  # customers whose consent does not allow research by email


def invite(
    session: Session,
    survey_id: int,
    *,
    segment: str | None = None,
    external_ids: Sequence[str] = (),
    actor: str,
    policy_file: Path | None = None,
    now: datetime | None = None,
) -> Distribution:
    """Invite a segment's customers and/or the named ones; the delivery job emails them."""
    survey = session.get(Survey, survey_id)
    if survey is None:
        load_survey(session, survey_id)  # raises SurveyNotFound
        raise AssertionError
    at = now or utcnow()
    if any("\x00" in name for name in [segment or "", *external_ids]):
        raise InvalidSurvey("a segment or customer id cannot hold a NUL character")
    wanted: list[int] = customers.segment_members(session, segment) if segment else []
    if external_ids:
        found = customers.customer_ids(session, external_ids)
        missing = [e for e in external_ids if e not in found]
        if missing:
            raise InvalidSurvey(f"unknown customer {missing[0][:40]!r}")
        wanted += list(found.values())
    wanted = sorted(set(wanted))
    if not wanted:
        raise InvalidSurvey("nobody to invite: name a segment with customers, or customers")
    allowed = set(may_contact(session, wanted, PURPOSE, CHANNEL, policy_file=policy_file))
    before = set(
        session.scalars(
            select(SurveyInvitation.customer_id).where(SurveyInvitation.survey_id == survey_id)
        )
    )
    new = [cid for cid in wanted if cid in allowed and cid not in before]
    session.add_all(
        SurveyInvitation(
            survey_id=survey_id,
            customer_id=cid,
            nonce=secrets.token_urlsafe(16)[:22],
            created_at=at,
            expires_at=at + timedelta(days=survey.link_days),
            reminders=0,
        )
        for cid in new
    )
    session.flush()
    result = Distribution(
        invited=len(new),
        already=len([c for c in wanted if c in allowed and c in before]),
        no_consent=len([c for c in wanted if c not in allowed]),
    )
    if new:
        changed(session, INVITED)
    audit.record(
        session, actor=actor, action="survey.invited", entity_type="survey", entity_id=survey_id,
        changes={"segment": segment, "named": len(external_ids), **result.__dict__},
    )  # fmt: skip
    return result


@dataclass(frozen=True)
class DeliveryRun:
    sent: int
    reminded: int
    quiet: int  # due but held back by quiet hours
    no_consent: int  # consent withdrawn since the invitation


def deliver_due(
    session: Session, vault: Vault, *, base_url: str, policy_file: Path | None = None,
    now: datetime | None = None,
) -> DeliveryRun:  # fmt: skip
    """Email unsent invitations and one reminder to those who have not answered after the
    survey's `reminder_after_h`, outside its quiet hours, to customers whose consent still
    allows research by email (checked again at send time)."""
    at = now or utcnow()
    links = SurveyLinks.of(vault)
    sent = reminded = quiet = withdrawn = 0
    for survey in session.scalars(select(Survey).where(Survey.status == "open")):
        due = list(
            session.scalars(
                select(SurveyInvitation)
                .where(
                    SurveyInvitation.survey_id == survey.id,
                    SurveyInvitation.responded_at.is_(None),
                    SurveyInvitation.expires_at > at,
                    (SurveyInvitation.sent_at.is_(None))
                    | (
                        (SurveyInvitation.reminders == 0)
                        & (
                            SurveyInvitation.sent_at
                            <= at - timedelta(hours=survey.reminder_after_h)
                        )
                    ),
                )
                .order_by(SurveyInvitation.id)
                .limit(_BATCH)
            )
        )
        if not due:
            continue
        if next_allowed(at, survey.quiet_hours) != at:
            quiet += len(due)
            continue
        ids = [i.customer_id for i in due if i.customer_id is not None]
        allowed = set(may_contact(session, ids, PURPOSE, CHANNEL, policy_file=policy_file))
        for invitation in due:
            if invitation.customer_id not in allowed:
                withdrawn += 1
                continue
            reminder = invitation.sent_at is not None
            url = f"{base_url}/s/{links.token(invitation.id, invitation.nonce)}"
            kind = "reminder" if reminder else "invitation"
            enqueue_email(
                session,
                vault,
                kind=f"survey.{kind}",
                key=f"survey:{survey.id}:{kind}:{invitation.id}",
                customer_id=invitation.customer_id,
                subject=("Reminder: " if reminder else "") + f"{survey.title}: a few questions",
                text=_email_text(survey.title, url, invitation.expires_at, reminder),
            )
            if reminder:
                invitation.reminders += 1
                invitation.reminded_at = at
                reminded += 1
            else:
                invitation.sent_at = at
                sent += 1
    return DeliveryRun(sent, reminded, quiet, withdrawn)


def _email_text(title: str, url: str, expires: datetime, reminder: bool) -> str:
    lead = "A short reminder: we" if reminder else "We"
    return (
        f'{lead} would value your view in our survey "{title}" (about 3 minutes).\n\n'
        f"{url}\n\n"
        f"The link is yours alone, works once and until {expires:%d %B %Y}. You can save your "
        "answers and come back to them with the same link.\n\n"
        "You receive this because you agreed to be invited to research. You can change that "
        "at any time in your privacy preferences.\n"
    )


@dataclass(frozen=True)
class Invitation:
    id: int
    survey: SurveyOut
    external_id: str
    draft: dict[str, Any]
    expires_at: datetime


def _invitation(
    session: Session, token: str, vault: Vault, *, lock: bool = False
) -> SurveyInvitation:
    link = SurveyLinks.of(vault).open(token)
    invitation = session.get(SurveyInvitation, link.invitation_id, with_for_update=lock)
    if invitation is None or not secrets.compare_digest(invitation.nonce, link.nonce):
        raise LinkInvalid("this link is not valid")
    return invitation


def _usable(invitation: SurveyInvitation, at: datetime) -> None:
    if invitation.responded_at is not None:
        raise AlreadyAnswered("this link was already used: your answers were received")
    if invitation.expires_at <= at:
        raise LinkExpired("this link has expired")


def open_invitation(
    session: Session, vault: Vault, token: str, *, now: datetime | None = None
) -> Invitation:
    """The survey behind a link with the answers saved so far; notes when it was first opened
    (time-to-answer counts from there)."""
    at = now or utcnow()
    invitation = _invitation(session, token, vault)
    _usable(invitation, at)
    if invitation.opened_at is None:
        invitation.opened_at = at
    external = customers.external_ids(session, [invitation.customer_id or 0])
    draft: dict[str, Any] = json.loads(invitation.draft or "{}")
    return Invitation(
        invitation.id,
        load_sent_survey(session, invitation.survey_id),
        external.get(invitation.customer_id or 0, ""),
        draft,
        invitation.expires_at,
    )


def survey_for_link(session: Session, vault: Vault, token: str) -> SurveyOut:
    """The survey behind an invitation link, read only (a refused submission's form again)."""
    return load_sent_survey(session, _invitation(session, token, vault).survey_id)


def save_draft(
    session: Session,
    vault: Vault,
    token: str,
    fields: dict[str, str],
    *,
    now: datetime | None = None,
) -> None:
    """Keep the answers given so far (numbers only; open text is kept only when submitted, so
    no free text sits unencrypted in a draft)."""
    at = now or utcnow()
    invitation = _invitation(session, token, vault, lock=True)
    _usable(invitation, at)
    survey = load_sent_survey(session, invitation.survey_id)
    kept = {
        k: v for k, v in fields.items()
        if (item := survey.item(k)) is not None and item.kind != "text" and v.strip()
    }  # fmt: skip
    invitation.draft = json.dumps(kept, sort_keys=True)
    invitation.opened_at = invitation.opened_at or at


def public_link(session: Session, survey_id: int, *, actor: str) -> str:
    """The survey's anonymous public link token (made once, then the same)."""
    survey = session.get(Survey, survey_id)
    if survey is None:
        load_survey(session, survey_id)
        raise AssertionError
    if survey.public_token is None:
        survey.public_token = secrets.token_urlsafe(24)
        audit.record(
            session, actor=actor, action="survey.public_link", entity_type="survey",
            entity_id=survey_id,
        )  # fmt: skip
    return survey.public_token


def survey_for_public(session: Session, public_token: str) -> SurveyOut:
    survey_id = session.scalar(
        select(Survey.id).where(Survey.public_token == public_token, Survey.status == "open")
    )
    if survey_id is None:
        raise LinkInvalid("this link is not valid")
    return load_sent_survey(session, survey_id)


@dataclass(frozen=True)
class ResponseStats:
    invited: int
    sent: int
    opened: int
    partial: int  # saved answers, not yet submitted
    responded: int
    response_rate: float | None  # responded / sent
    median_hours_to_answer: float | None  # from the email to the submission
    median_minutes_to_complete: float | None  # from first opening to the submission
    by_channel: dict[str, int]


def response_stats(session: Session, survey_id: int) -> ResponseStats:
    load_survey(session, survey_id)
    rows = session.execute(
        select(
            SurveyInvitation.sent_at, SurveyInvitation.opened_at, SurveyInvitation.responded_at,
            SurveyInvitation.draft,
        ).where(SurveyInvitation.survey_id == survey_id)
    ).all()  # fmt: skip
    sent = [r for r in rows if r[0] is not None]
    answered = [(r[0], r[1], r[2]) for r in sent if r[0] is not None and r[2] is not None]
    to_answer = [(done - mailed).total_seconds() / 3600 for mailed, _, done in answered]
    to_complete = [
        (done - opened).total_seconds() / 60 for _, opened, done in answered if opened is not None
    ]
    channels = dict(
        session.execute(
            select(SurveyResponse.channel, func.count())
            .where(SurveyResponse.survey_id == survey_id)
            .group_by(SurveyResponse.channel)
        ).all()
    )
    return ResponseStats(
        invited=len(rows),
        sent=len(sent),
        opened=sum(1 for r in rows if r[1] is not None),
        partial=sum(1 for r in rows if r[2] is None and r[3]),
        responded=sum(1 for r in rows if r[2] is not None),
        response_rate=round(len(answered) / len(sent), 4) if sent else None,
        median_hours_to_answer=round(statistics.median(to_answer), 2) if to_answer else None,
        median_minutes_to_complete=round(statistics.median(to_complete), 2)
        if to_complete
        else None,
        by_channel={str(k): int(v) for k, v in channels.items()},
    )
