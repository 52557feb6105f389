"""Importing responses: one row per respondent (a customer by external id, or a leader
predicting how customers answer), one column per item id.

Each row is checked whole before anything of it is stored: an answer off its item's scale, an
unknown item, an unknown customer or a respondent who already answered differently rejects the
row with its number and reason, and the row's answers are not stored at all; good rows are kept.
The same row imported again is unchanged (idempotent per respondent). Rows go to the database
in chunks with one insert each, so 100,000 responses take seconds."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.db import utcnow
from trustdesk.feedback import public as feedback
from trustdesk.jobs.public import changed
from trustdesk.surveys.errors import AlreadyAnswered, InvalidAnswer
from trustdesk.surveys.models import Survey, SurveyResponse
from trustdesk.surveys.scoring import dimension_score_rows
from trustdesk.surveys.service import SurveyOut, load_survey, scale_items

__all__ = [
    "ANSWERED",
    "META_COLUMNS",
    "ImportReport",
    "PageAnswers",
    "asked",
    "check_columns",
    "check_page",
    "import_responses",
    "parse_row",
    "store_submissions",
]

ANSWERED = "surveys.answered"
"""The event an import signals: the trust recompute job folds the answers in."""
META_COLUMNS = ("external_id", "respondent", "submitted_at", "started_at")
RESPONDENTS = ("customer", "leader")
MAX_TEXT = 5000
_CHUNK = 2000


@dataclass
class ImportReport:
    created: int = 0
    unchanged: int = 0
    rejected: list[dict[str, object]] | None = None

    def as_dict(self) -> dict[str, object]:
        return {"created": self.created, "unchanged": self.unchanged, "rejected": self.rejected}


@dataclass(frozen=True)
class _Parsed:
    number: int
    respondent: str
    key: str  # external id (customer) or leader key
    answers: dict[str, float]
    text: dict[str, str]
    started_at: datetime | None
    submitted_at: datetime | None
    anonymous: bool = False  # the public link: a customer we cannot name
    choices: dict[str, list[int]] = field(default_factory=dict)  # multiple choice: options 1..n


def check_columns(survey: SurveyOut, columns: Iterable[str]) -> None:
    """Refuse a file whose header names an item the survey does not have (before any row)."""
    known = {i.id for i in survey.items}
    unknown = [c for c in columns if c not in known and c not in META_COLUMNS]
    if unknown:
        raise InvalidAnswer(
            f"column {unknown[0]!r} is not an item of survey {survey.id} "
            f"(items: {', '.join(sorted(known))})"
        )


def _time(value: object, column: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidAnswer(f"{column} {str(value)[:40]!r}: expected ISO 8601") from None
    if moment.tzinfo is None:
        raise InvalidAnswer(f"{column} {str(value)[:40]!r}: give an offset (Z or +00:00)")
    return moment


def parse_row(survey: SurveyOut, number: int, fields: dict[str, Any]) -> _Parsed:
    """One row's respondent and answers, every answer checked against its item's scale."""
    respondent = str(fields.get("respondent") or "customer").strip().lower()
    if respondent not in RESPONDENTS:
        raise InvalidAnswer(f"respondent {respondent[:20]!r}: expected customer or leader")
    key = str(fields.get("external_id") or "").strip()
    if respondent == "customer" and not key:
        raise InvalidAnswer("external_id is empty (or set respondent=leader)")
    if len(key) > 128 or "\x00" in key:
        raise InvalidAnswer("external_id: at most 128 characters, no NUL")
    answers: dict[str, float] = {}
    text: dict[str, str] = {}
    choices: dict[str, list[int]] = {}
    scales = survey.scales
    for column, raw in fields.items():
        if column in META_COLUMNS or raw is None:
            continue
        raw_text = raw.strip() if isinstance(raw, str) else str(raw).strip()
        if not raw_text:
            continue
        if column not in scales:
            if column in survey.multi:
                choices[column] = _chosen(column, raw_text, survey.multi[column])
                continue
            raise InvalidAnswer(f"{column!r} is not an item of survey {survey.id}")
        scale = scales[column]
        if scale is None:  # an open question
            if len(str(raw)) > MAX_TEXT or "\x00" in str(raw):
                raise InvalidAnswer(f"{column}: at most {MAX_TEXT} characters, no NUL")
            text[column] = raw_text
            continue
        if raw_text.isdecimal() and raw_text.isascii():  # the common case: "5"
            whole = int(raw_text)
            if scale[0] <= whole <= scale[1]:
                answers[column] = float(whole)
                continue
        answers[column] = _on_scale(column, raw_text, raw, scale)
    if not answers and not text and not choices:
        raise InvalidAnswer("no answers")
    if survey.branching:
        _check_branching(survey, answers, choices, text)
    return _Parsed(
        number, respondent, key, answers, text,
        _time(fields.get("started_at"), "started_at"),
        _time(fields.get("submitted_at"), "submitted_at"), choices=choices,
    )  # fmt: skip


def check_page(survey: SurveyOut, fields: dict[str, Any]) -> None:
    """Check the answers given so far (each on its scale, asked) before the next page; nothing
    is stored. InvalidAnswer names the first wrong one."""
    answered = {k: v for k, v in fields.items() if k not in META_COLUMNS and str(v).strip()}
    if answered:
        parse_row(survey, 1, {"external_id": "-", **answered})


def _chosen(column: str, raw_text: str, options: int) -> list[int]:
    """A multiple-choice answer: option numbers 1..n separated by ";" (e.g. "1;3")."""
    try:
        chosen = sorted({int(part) for part in raw_text.split(";") if part.strip()})
    except ValueError:
        raise InvalidAnswer(
            f"{column} = {raw_text[:20]!r}: option numbers 1..{options} separated by ';'"
        ) from None
    if not chosen or chosen[0] < 1 or chosen[-1] > options:
        raise InvalidAnswer(f"{column} = {raw_text[:20]!r}: options are 1..{options}")
    return chosen


def asked(
    condition: tuple[str, tuple[int, ...]] | None,
    answers: dict[str, Any],
) -> bool:
    """Whether a question with this condition is asked, given the answers so far."""
    if condition is None:
        return True
    item, wanted = condition
    given = answers.get(item)
    if given is None:
        return False
    if isinstance(given, list):
        return any(v in wanted for v in given)
    return given in wanted


def _check_branching(
    survey: SurveyOut,
    answers: dict[str, float],
    choices: dict[str, list[int]],
    text: dict[str, str],
) -> None:
    given: dict[str, Any] = {**answers, **choices}
    for item, condition in survey.branching.items():
        if (item in given or item in text) and not asked(condition, given):
            values = ", ".join(str(v) for v in condition[1])
            raise InvalidAnswer(
                f"{item} is asked only when {condition[0]} is one of {values}; "
                f"this row answers it without that"
            )


def _on_scale(column: str, raw_text: str, raw: object, scale: tuple[int, int]) -> float:
    """The answer as a number on its item's scale (a whole number min..max), else why not."""
    try:
        value = float(int(raw_text))  # the common case: "5"
    except ValueError:
        try:
            value = float(raw_text)
        except ValueError:
            raise InvalidAnswer(f"{column} = {str(raw)[:20]!r}: not a number") from None
    low, high = scale
    if not math.isfinite(value) or value != int(value) or not low <= value <= high:
        raise InvalidAnswer(f"{column} = {str(raw)[:20]!r}: outside the item's scale {low}..{high}")
    return value


def _content(parsed: _Parsed) -> str:
    return json.dumps([{**parsed.answers, **parsed.choices}, parsed.text], sort_keys=True)


def import_responses(
    session: Session,
    vault: Vault,
    survey_id: int,
    rows: Iterable[tuple[int, dict[str, Any] | str]],
    *,
    actor: str,
    channel: str = "import",
    now: datetime | None = None,
    data_dir: Path | None = None,
) -> ImportReport:
    """Store each good row as one response; `rows` are (number, fields or why unreadable)."""
    survey = load_survey(session, survey_id)
    at = now or utcnow()
    report = ImportReport(rejected=[])
    assert report.rejected is not None
    leader_seen: dict[str, int] = {}
    chunk: list[_Parsed] = []
    for parsed in _parsed(survey, rows, report.rejected, leader_seen):
        chunk.append(parsed)
        if len(chunk) >= _CHUNK:
            _store(session, vault, survey, chunk, report, channel, at, data_dir=data_dir)
            chunk = []
    if chunk:
        _store(session, vault, survey, chunk, report, channel, at, data_dir=data_dir)
    if report.created:
        changed(session, ANSWERED)
    audit.record(
        session, actor=actor, action="survey.responses_imported", entity_type="survey",
        entity_id=survey_id,
        changes={"created": report.created, "unchanged": report.unchanged,
                 "rejected": len(report.rejected)},
    )  # fmt: skip
    return report


def _parsed(
    survey: SurveyOut,
    rows: Iterable[tuple[int, dict[str, Any] | str]],
    rejected: list[dict[str, object]],
    leader_seen: dict[str, int],
) -> Iterator[_Parsed]:
    for number, fields in rows:
        if isinstance(fields, str):
            rejected.append({"row": number, "reason": fields})
            continue
        try:
            parsed = parse_row(survey, number, fields)
        except InvalidAnswer as exc:
            rejected.append({"row": number, "reason": exc.detail})
            continue
        if parsed.respondent == "leader" and not parsed.key:
            # A leader without a name: the answers' digest and how many identical rows came
            # before it in the file, so the same file imported again finds the same keys.
            digest = hashlib.sha256(_content(parsed).encode()).hexdigest()[:32]
            seen = leader_seen.get(digest, 0)
            leader_seen[digest] = seen + 1
            parsed = replace(parsed, key=f"#{digest}-{seen}")
        yield parsed


def _store(
    session: Session,
    vault: Vault,
    survey: SurveyOut,
    chunk: list[_Parsed],
    report: ImportReport,
    channel: str,
    at: datetime,
    *,
    want_ids: bool = False,
    data_dir: Path | None = None,
    known: dict[str, int] | None = None,
) -> dict[str, int]:
    """Store the chunk's new respondents (one set-based insert); returns {respondent key:
    response id} of those stored when `want_ids`.

    Who answered before is looked up per respondent kind through the unique index; the insert
    then skips any respondent stored meanwhile (ON CONFLICT DO NOTHING). Should another import
    have stored one of this chunk's respondents between the two, the whole import stops with a
    Conflict and the caller's transaction stores nothing of it."""
    assert report.rejected is not None
    ids = (
        known
        if known is not None
        else customers.customer_ids(session, [p.key for p in chunk if p.respondent == "customer"])
    )
    stored = _stored_answers(session, survey.id, chunk)
    encode = _AnswerJson()
    fresh: list[_Parsed] = []
    for p in chunk:
        if p.respondent == "customer" and not p.anonymous and p.key not in ids:
            report.rejected.append({"row": p.number, "reason": f"unknown customer {p.key[:40]!r}"})
            continue
        mine = encode(p.answers) if not p.choices else _json({**p.answers, **p.choices})
        before = stored.get((p.respondent, p.key))
        if before is not None:
            if before == mine:
                report.unchanged += 1
            else:
                report.rejected.append(
                    {
                        "row": p.number,
                        "reason": f"{p.respondent} {p.key[:40]!r} already answered this survey "
                        "differently (one response per respondent)",
                    }
                )
            continue
        stored[(p.respondent, p.key)] = mine
        fresh.append(p)
    if not fresh:
        return {}
    open_enc = _encrypted_open_answers(session, vault, survey, fresh, ids)
    scores = dimension_score_rows([p.answers for p in fresh], scale_items(survey))
    values = [
        {
            "survey_id": survey.id,
            "respondent": p.respondent,
            "respondent_key": p.key,
            "customer_id": ids.get(p.key) if p.respondent == "customer" else None,
            "answers": stored[(p.respondent, p.key)],
            **score,
            "open_enc": enc,
            "channel": channel,
            "version": survey.version,
            "started_at": p.started_at,
            "submitted_at": p.submitted_at or at,
        }
        for p, score, enc in zip(fresh, scores, open_enc, strict=True)
    ]
    table = SurveyResponse.__table__
    assert isinstance(table, Table)
    postgres = session.get_bind().dialect.name == "postgresql"
    stmt = (postgresql.insert if postgres else sqlite.insert)(table).on_conflict_do_nothing(
        index_elements=["survey_id", "respondent", "respondent_key"]
    )
    made: dict[str, int] = {}
    if want_ids or postgres:  # psycopg's executemany does not count the rows it inserted
        returned = session.execute(stmt.returning(table.c.respondent_key, table.c.id), values)
        made = {str(key): int(made_id) for key, made_id in returned}
        inserted = len(made)
    else:  # SQLite bulk: one executemany (its row count is the total), no ORM bookkeeping
        inserted = session.execute(stmt, values).rowcount  # type: ignore[attr-defined]
    if inserted == len(values):
        _as_feedback(session, vault, survey, fresh, data_dir)
    if inserted != len(values):
        raise AlreadyAnswered(
            f"another import or submission stored {len(values) - inserted} of these respondents' "
            f"answers to survey {survey.id} at the same time; nothing was stored, run it again"
        )
    report.created += len(values)
    return made


class _AnswerJson:
    """`json.dumps(answers, sort_keys=True)` of a respondent's numeric answers, exactly (what
    a re-import is compared with), several times faster: keys are encoded once, and a finite
    float is written as `repr` does, which is what json does."""

    def __init__(self) -> None:
        self._keys: dict[str, str] = {}

    def __call__(self, answers: dict[str, float]) -> str:
        keys = self._keys
        parts = []
        for k in sorted(answers):
            name = keys.get(k)
            if name is None:
                name = keys[k] = json.dumps(k)
            parts.append(f"{name}: {float.__repr__(answers[k])}")
        return "{" + ", ".join(parts) + "}"


FEEDBACK_SOURCE = "survey"


def _as_feedback(
    session: Session, vault: Vault, survey: SurveyOut, fresh: list[_Parsed], data_dir: Path | None
) -> None:
    """Customers' written answers (the "why", own free-text questions) become feedback items,
    analysed for sentiment and topics and shown in the feedback explorer; one per response and
    question (`survey:ID:RESPONDENT:ITEM`), so storing a response again adds nothing. Leaders'
    answers are predictions, never feedback."""
    written = [
        feedback.OpenAnswer(
            f"survey:{survey.id}:{p.key}:{item}", p.submitted_at or utcnow(), text,
            None if p.anonymous else p.key,
        )
        for p in fresh
        if p.respondent == "customer"
        for item, text in p.text.items()
    ]  # fmt: skip
    if written:
        feedback.store_open_answers(
            session, vault, data_dir, written, source=FEEDBACK_SOURCE,
            channel="survey", actor="surveys",
        )  # fmt: skip


def _json(answers: dict[str, Any]) -> str:
    return json.dumps(answers, sort_keys=True)


def _stored_answers(
    session: Session, survey_id: int, chunk: list[_Parsed]
) -> dict[tuple[str, str], str]:
    """{(respondent, key): stored answers JSON} of the chunk's respondents who answered."""
    found: dict[tuple[str, str], str] = {}
    for respondent in RESPONDENTS:
        keys = list({p.key for p in chunk if p.respondent == respondent})
        for start in range(0, len(keys), 900):
            found.update(
                ((respondent, k), answers)
                for k, answers in session.connection().execute(
                    select(SurveyResponse.respondent_key, SurveyResponse.answers).where(
                        SurveyResponse.survey_id == survey_id,
                        SurveyResponse.respondent == respondent,
                        SurveyResponse.respondent_key.in_(keys[start : start + 900]),
                    )
                )
            )
    return found


def _encrypted_open_answers(
    session: Session, vault: Vault, survey: SurveyOut, fresh: list[_Parsed], ids: dict[str, int]
) -> list[bytes | None]:
    """Each response's open answers encrypted under its customer's data key (a leader's or an
    anonymous respondent's under the survey's own); None where there are none."""
    if not any(p.text for p in fresh):
        return [None] * len(fresh)
    named = [ids[p.key] for p in fresh if p.text and p.key in ids and p.respondent == "customer"]
    subjects = customers.customer_subjects(session, named)
    key_subject = session.get(Survey, survey.id).key_subject  # type: ignore[union-attr]
    keys = vault.data_keys([*subjects.values(), key_subject])
    found: list[bytes | None] = []
    for p in fresh:
        customer_id = ids.get(p.key) if p.respondent == "customer" else None
        subject = subjects.get(customer_id) if customer_id is not None else key_subject
        if p.text and subject is not None and subject in keys:
            plain = json.dumps(p.text, sort_keys=True)
            found.append(vault.encrypt(keys[subject], subject, "survey_open", plain))
        else:
            found.append(None)
    return found


@dataclass(frozen=True)
class PageAnswers:
    """One response page's answers to store: `number` names it in the result, `key` is the
    customer's external id (or an anonymous respondent's own key)."""

    number: int
    key: str
    fields: dict[str, Any]
    started_at: datetime | None
    customer_id: int | None = None  # the customer `key` names (None: anonymous)


def store_submissions(
    session: Session,
    vault: Vault,
    survey: SurveyOut,
    submitted: list[PageAnswers],
    *,
    channel: str,
    now: datetime,
    data_dir: Path | None = None,
) -> dict[int, int | InvalidAnswer]:
    """Store response pages' answers to one survey, one set-based insert for all; returns
    {number: response id, or InvalidAnswer when an answer is off its scale or the respondent
    already answered}. A refused one stores nothing; the others are stored. AlreadyAnswered (a
    conflict for the whole call) when another writer stored one of them meanwhile."""
    outcome: dict[int, int | InvalidAnswer] = {}
    parsed: list[_Parsed] = []
    known: dict[str, int] = {}
    for page in submitted:
        answers = {k: v for k, v in page.fields.items() if k not in META_COLUMNS}
        try:
            row = parse_row(survey, page.number, {"external_id": page.key, **answers})
        except InvalidAnswer as exc:
            outcome[page.number] = exc
            continue
        parsed.append(
            replace(
                row, respondent="customer", started_at=page.started_at, submitted_at=now,
                anonymous=page.customer_id is None,
            )
        )  # fmt: skip
        if page.customer_id is not None:
            known[page.key] = page.customer_id
    if not parsed:
        return outcome
    report = ImportReport(rejected=[])
    made = _store(
        session, vault, survey, parsed, report, channel, now, want_ids=True, data_dir=data_dir,
        known=known,
    )  # fmt: skip
    reasons = {r["row"]: str(r["reason"]) for r in report.rejected or []}
    for p in parsed:
        found = made.get(p.key)
        outcome[p.number] = (
            found if found is not None else InvalidAnswer(reasons.get(p.number, "already answered"))
        )
    return outcome
