"""The survey builder: own questions next to the bank's items, simple branching, versions.

Kinds: `likert5` and `likert7` (agreement 1..5 / 1..7), `scale10` (0..10), `single` (one of the
options, answered by its number 1..n), `multi` (any of the options, "1;3"), `text`. Own questions
carry no trust dimension: they are not validated items, so they never move the trust index.

Branching: a question may be asked only when an earlier question's answer is in a set (for a
multiple choice: when any option chosen is in it). Imports refuse an answer to a question that
was not asked; response pages ask it on a later page, evaluated on the server.

Versions: a survey that has been sent (an invitation, a public link or any answer) is never
edited in place. An edit copies its current items into a new version and changes that; answers
keep the version they answered (`survey_responses.version`), and new answers take the newest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.surveys.errors import InvalidSurvey, SurveyNotFound
from trustdesk.surveys.models import Survey, SurveyInvitation, SurveyItem, SurveyResponse
from trustdesk.surveys.service import SurveyOut, load_survey

__all__ = [
    "KINDS",
    "QUESTION_ID",
    "QuestionIn",
    "add_question",
    "parse_show_if",
    "remove_question",
]

_AGREE5 = ("Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree")
_AGREE7 = (
    "Strongly disagree", "Disagree", "Somewhat disagree", "Neither agree nor disagree",
    "Somewhat agree", "Agree", "Strongly agree",
)  # fmt: skip
KINDS: dict[str, tuple[str, int | None, int | None, tuple[str, ...]]] = {
    # builder kind: (stored kind, min, max, labels)
    "likert5": ("scale", 1, 5, _AGREE5),
    "likert7": ("scale", 1, 7, _AGREE7),
    "scale10": ("scale", 0, 10, ("Not at all", "Completely")),
    "single": ("single", 1, None, ()),
    "multi": ("multi", None, None, ()),
    "text": ("text", None, None, ()),
}
QUESTION_ID = r"^[a-z][a-z0-9_]{0,39}$"  # an own question's id (the API declares it)
_ID = re.compile(QUESTION_ID)
MAX_TEXT = 500
MAX_OPTIONS = 20
OWN_SOURCE = "own question (not a validated item)"


@dataclass(frozen=True)
class QuestionIn:
    id: str
    kind: str
    text: str
    options: Sequence[str] = ()
    show_if_item: str | None = None
    show_if_in: Sequence[int] = ()


def parse_show_if(value: str | None) -> tuple[str | None, list[int]]:
    """`q1=1,2` (ask only when q1's answer is 1 or 2) as ("q1", [1, 2]); empty: always asked."""
    if not value or not value.strip():
        return None, []
    item, sep, answers = value.partition("=")
    try:
        wanted = [int(v) for v in answers.split(",") if v.strip()]
    except ValueError:
        wanted = []
    if not sep or not item.strip() or not wanted:
        raise InvalidSurvey(f"ask-only-when {value[:40]!r}: ITEM=ANSWER[,ANSWER...], e.g. q1=1,2")
    return item.strip(), wanted


def _sent(session: Session, survey: Survey) -> bool:
    if survey.public_token is not None:
        return True
    for model in (SurveyInvitation, SurveyResponse):
        if session.scalar(select(exists().where(model.survey_id == survey.id))):
            return True
    return False


def _editable(session: Session, survey_id: int, actor: str) -> tuple[Survey, bool]:
    """The survey, moved to a new version first when it has been sent. (survey, new version?)"""
    survey = session.get(Survey, survey_id, with_for_update=True)
    if survey is None:
        raise SurveyNotFound(f"no survey {survey_id}")
    if not _sent(session, survey):
        return survey, False
    items = session.scalars(
        select(SurveyItem).where(
            SurveyItem.survey_id == survey.id, SurveyItem.version == survey.version
        )
    ).all()
    survey.version += 1
    for i in items:
        session.add(
            SurveyItem(
                survey_id=survey.id, version=survey.version, position=i.position,
                item_key=i.item_key, kind=i.kind, dimension=i.dimension, min_value=i.min_value,
                max_value=i.max_value, labels=i.labels, text=i.text, source=i.source,
                show_if=i.show_if,
            )
        )  # fmt: skip
    session.flush()
    return survey, True


def add_question(
    session: Session, survey_id: int, question: QuestionIn, *, actor: str
) -> SurveyOut:
    """Add an own question at the end (a new version when the survey was sent)."""
    before = load_survey(session, survey_id)
    _check(before, question)
    survey, new_version = _editable(session, survey_id, actor)
    kind, low, high, labels = KINDS[question.kind]
    options = tuple(o.strip() for o in question.options)
    if kind in ("single", "multi"):
        labels, high = options, (len(options) if kind == "single" else None)
    condition = None
    if question.show_if_item is not None:
        condition = json.dumps(
            {"item": question.show_if_item, "in": sorted(set(question.show_if_in))}
        )
    session.add(
        SurveyItem(
            survey_id=survey.id, version=survey.version, position=len(before.items),
            item_key=question.id, kind=kind, dimension=None, min_value=low, max_value=high,
            labels=json.dumps(list(labels)), text=question.text.strip(), source=OWN_SOURCE,
            show_if=condition,
        )
    )  # fmt: skip
    session.flush()
    audit.record(
        session, actor=actor, action="survey.question_added", entity_type="survey",
        entity_id=survey.id,
        changes={"item": question.id, "kind": question.kind, "version": survey.version,
                 "new_version": new_version, "show_if": condition},
    )  # fmt: skip
    return load_survey(session, survey.id)


def remove_question(session: Session, survey_id: int, item_id: str, *, actor: str) -> SurveyOut:
    """Remove a question (a new version when the survey was sent: answers already given keep
    theirs). A question others branch on cannot be removed before them."""
    before = load_survey(session, survey_id)
    if before.item(item_id) is None:
        raise InvalidSurvey(f"survey {survey_id} has no question {item_id!r}")
    followers = [i.id for i in before.items if i.show_if is not None and i.show_if[0] == item_id]
    if followers:
        raise InvalidSurvey(f"{', '.join(followers)} asked only on {item_id!r}: remove them first")
    survey, new_version = _editable(session, survey_id, actor)
    rows = session.scalars(
        select(SurveyItem)
        .where(SurveyItem.survey_id == survey.id, SurveyItem.version == survey.version)
        .order_by(SurveyItem.position)
    ).all()
    position = 0
    for row in rows:
        if row.item_key == item_id:
            session.delete(row)
            continue
        row.position = position
        position += 1
    session.flush()
    audit.record(
        session, actor=actor, action="survey.question_removed", entity_type="survey",
        entity_id=survey.id,
        changes={"item": item_id, "version": survey.version, "new_version": new_version},
    )  # fmt: skip
    return load_survey(session, survey.id)


def _check(survey: SurveyOut, q: QuestionIn) -> None:
    if q.kind not in KINDS:
        raise InvalidSurvey(f"kind {q.kind[:20]!r}: one of {', '.join(KINDS)}")
    if not _ID.match(q.id):
        raise InvalidSurvey(
            f"question id {q.id[:40]!r}: a lower-case letter, then letters, digits or _ (≤ 40)"
        )
    if survey.item(q.id) is not None:
        raise InvalidSurvey(f"survey {survey.id} already has a question {q.id!r}")
    text = q.text.strip()
    if not text or len(text) > MAX_TEXT or "\x00" in text:
        raise InvalidSurvey(f"a question's wording is 1 to {MAX_TEXT} characters")
    choice = KINDS[q.kind][0] in ("single", "multi")
    options = [o.strip() for o in q.options]
    if choice and not 2 <= len(options) <= MAX_OPTIONS:
        raise InvalidSurvey(f"a {q.kind} question needs 2 to {MAX_OPTIONS} options")
    if not choice and options:
        raise InvalidSurvey(f"a {q.kind} question has no options (only single and multi do)")
    if any(not o or len(o) > 200 or "\x00" in o for o in options):
        raise InvalidSurvey("an option is 1 to 200 characters")
    if len(set(options)) != len(options):
        raise InvalidSurvey("options must differ")
    if q.show_if_item is None:
        if q.show_if_in:
            raise InvalidSurvey("answers to branch on need the question they belong to")
        return
    target = survey.item(q.show_if_item)
    if target is None:
        raise InvalidSurvey(f"branching on {q.show_if_item[:40]!r}: no such earlier question")
    if target.kind == "text":
        raise InvalidSurvey(f"branching on {target.id!r}: an open question has no set answers")
    if not q.show_if_in:
        raise InvalidSurvey(f"branching on {target.id!r}: give the answers that ask this question")
    low, high = (1, len(target.labels)) if target.kind == "multi" else (target.min, target.max)
    assert low is not None and high is not None
    bad = [v for v in q.show_if_in if not low <= v <= high]
    if bad:
        raise InvalidSurvey(
            f"branching on {target.id!r}: {bad[0]} is not an answer ({low}..{high})"
        )
