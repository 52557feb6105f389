"""Closing the loop: "did we fix it?" after a resolution, by a signed one-click link.

`send_surveys` (the `cases.csat` job, or `trustdesk cases csat-send`) finds the resolutions of
known customers' cases that have no survey yet and, when the customer's consent allows surveys
(`research` by `email`), queues one email through the outbox with five signed links (1 = not at
all .. 5 = completely). A customer whose consent does not allow it gets no email; the survey row
says `not_allowed`, so they are not asked again. The first answer is kept (a `csat` event on the
case, audited), which the trust signal (`trust_signal.py`) turns into an observation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from trustdesk.cases import service
from trustdesk.cases.errors import CaseNotFound, InvalidCase, SurveyLinkInvalid
from trustdesk.cases.models import Case, CaseSurvey
from trustdesk.crypto import Vault
from trustdesk.db import utcnow
from trustdesk.outbox import public as outbox
from trustdesk.privacy import public as privacy

__all__ = [
    "SCORES",
    "SURVEY_CHANNEL",
    "SURVEY_PURPOSE",
    "SurveyRun",
    "answer_survey",
    "send_surveys",
    "survey_signer",
]

SURVEY_PURPOSE, SURVEY_CHANNEL = "research", "email"
SCORES = {1: "Not at all", 2: "Not really", 3: "Partly", 4: "Mostly", 5: "Completely"}
MAX_AGE_S = 30 * 24 * 3600
_SALT = "trustdesk.case-csat.v1"


class SurveySigner:
    def __init__(self, key: bytes) -> None:
        self._s = URLSafeTimedSerializer(key, salt=_SALT)

    def token(self, survey_id: int) -> str:
        return self._s.dumps({"s": survey_id})

    def open(self, token: str) -> int:
        try:
            data = self._s.loads(token, max_age=MAX_AGE_S)
        except SignatureExpired:
            raise SurveyLinkInvalid("this survey link has expired") from None
        except BadSignature:
            raise SurveyLinkInvalid("this survey link is not valid") from None
        if not isinstance(data, dict) or not isinstance(data.get("s"), int):
            raise SurveyLinkInvalid("this survey link is not valid")
        return int(data["s"])


def survey_signer(vault: Vault) -> SurveySigner:
    return SurveySigner(vault.signing_key("case-csat"))


@dataclass(frozen=True)
class SurveyRun:
    sent: int
    not_allowed: int


def send_surveys(
    session: Session,
    vault: Vault,
    *,
    base_url: str,
    policy_file: Path | None = None,
    limit: int = 500,
    now: datetime | None = None,
) -> SurveyRun:
    """Ask every resolution not asked yet (known customers, not merged duplicates)."""
    now = now or utcnow()
    pending = session.execute(
        select(Case.id, Case.customer_id, Case.reopen_count)
        .outerjoin(
            CaseSurvey, and_(CaseSurvey.case_id == Case.id, CaseSurvey.round == Case.reopen_count)
        )
        .where(
            Case.status.in_(("resolved", "closed")),
            Case.customer_id.is_not(None),
            Case.merged_into_id.is_(None),
            CaseSurvey.id.is_(None),
        )
        .order_by(Case.id)
        .limit(limit)
    ).all()
    if not pending:
        return SurveyRun(0, 0)
    allowed = set(
        privacy.may_contact(
            session,
            {r[1] or 0 for r in pending},
            SURVEY_PURPOSE,
            SURVEY_CHANNEL,
            policy_file=policy_file,
        )
    )
    signer = survey_signer(vault)
    sent = 0
    for case_id, customer_id, round_ in pending:
        ok = customer_id in allowed
        survey = CaseSurvey(
            case_id=case_id,
            round=round_,
            customer_id=customer_id,
            status="sent" if ok else "not_allowed",
            created_at=now,
        )
        session.add(survey)
        session.flush()
        if not ok:
            continue
        link = f"{base_url.rstrip('/')}/complaint/survey/{signer.token(survey.id)}"
        choices = "\n".join(
            f"  {score} - {label}: {link}?score={score}" for score, label in SCORES.items()
        )
        outbox.enqueue_email(
            session,
            vault,
            kind="case.csat",
            key=f"case:{case_id}:csat:{round_}",
            customer_id=customer_id,
            subject=f"Did we fix it? [case #{case_id}]",
            text=(
                f"We have resolved your complaint (case #{case_id}). Did we fix it?\n"
                f"One click answers:\n{choices}\n\n"
                "Your answer helps us do better. You can stop survey emails in your "
                "preferences at any time."
            ),
            actor="cases.csat",
        )
        service.record_event(
            session, case_id, "csat_requested", {"round": round_}, actor="cases.csat", now=now
        )
        sent += 1
    return SurveyRun(sent, len(pending) - sent)


@dataclass(frozen=True)
class SurveyAnswer:
    case_id: int
    score: int
    first: bool  # False: an answer was already recorded (it stands)


def answer_survey(
    session: Session, vault: Vault, token: str, score: int, *, now: datetime | None = None
) -> SurveyAnswer:
    """Record the first answer of a survey (later clicks change nothing)."""
    survey_id = survey_signer(vault).open(token)
    if score not in SCORES:
        raise InvalidCase("score: choose 1 to 5")
    survey = session.get(CaseSurvey, survey_id, with_for_update=True)
    if survey is None:
        raise CaseNotFound("this survey no longer exists")
    if survey.status == "answered" and survey.score is not None:
        return SurveyAnswer(survey.case_id, survey.score, first=False)
    now = now or utcnow()
    survey.status, survey.score, survey.answered_at = "answered", score, now
    service.record_event(
        session,
        survey.case_id,
        "csat",
        {"score": score, "round": survey.round},
        actor="customer",
        now=now,
    )
    return SurveyAnswer(survey.case_id, score, first=True)
