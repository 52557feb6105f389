"""Surveys' use cases: build a survey from a template, read it back. Nothing commits."""

from __future__ import annotations

import json
import weakref
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.crypto import Vault
from trustdesk.db import utcnow
from trustdesk.surveys.bank import load_template
from trustdesk.surveys.errors import InvalidSurvey, SurveyNotFound
from trustdesk.surveys.models import Survey, SurveyItem, SurveyResponse
from trustdesk.surveys.quiet import parse_quiet_hours
from trustdesk.surveys.scoring import ScaleItem

__all__ = [
    "ItemOut",
    "SurveyOut",
    "SurveyRow",
    "create_survey",
    "latest_with_leaders",
    "list_surveys",
    "load_sent_survey",
    "load_survey",
    "scale_items",
]

MAX_TITLE = 200
COMPANY = "we"  # how items name the organisation asking ("{company} is ..." -> "We are ...")


@dataclass(frozen=True)
class ItemOut:
    id: str
    dimension: str | None
    min: int | None
    max: int | None
    kind: str
    text: str
    labels: tuple[str, ...]
    source: str
    show_if: tuple[str, tuple[int, ...]] | None = None  # (earlier item, answers that ask this)

    @property
    def options(self) -> int | None:
        """How many options a multiple-choice item has (None for any other kind)."""
        return len(self.labels) if self.kind == "multi" else None


@dataclass(frozen=True)
class SurveyOut:
    id: int
    title: str
    template: str | None
    status: str
    version: int
    created_at: datetime
    items: tuple[ItemOut, ...]

    def item(self, item_id: str) -> ItemOut | None:
        return self._by_id.get(item_id)

    @cached_property
    def _by_id(self) -> dict[str, ItemOut]:
        return {i.id: i for i in self.items}

    @cached_property
    def scales(self) -> dict[str, tuple[int, int] | None]:
        """Every item's (min, max), None for an open question: what an answer is checked on."""
        return {
            i.id: (i.min, i.max) if i.min is not None and i.max is not None else None
            for i in self.items
            if i.kind != "multi"
        }

    @cached_property
    def multi(self) -> dict[str, int]:
        """Every multiple-choice item and its number of options."""
        return {i.id: len(i.labels) for i in self.items if i.kind == "multi"}

    @cached_property
    def branching(self) -> dict[str, tuple[str, tuple[int, ...]]]:
        """{item: (earlier item, answers that ask it)} of the items asked only sometimes."""
        return {i.id: i.show_if for i in self.items if i.show_if is not None}


def create_survey(
    session: Session,
    vault: Vault,
    *,
    template: str,
    title: str,
    actor: str,
    company: str = "",
    quiet_hours: str = "21:00-08:00",
    reminder_after_h: int = 72,
    link_days: int = 14,
) -> SurveyOut:
    """A new survey holding a copy of the template's items (wording, scale, source)."""
    title = title.strip()
    if not title or len(title) > MAX_TITLE:
        raise InvalidSurvey(f"a title is 1 to {MAX_TITLE} characters")
    if "\x00" in title + company:
        raise InvalidSurvey("a title or company name cannot hold a NUL character")
    parse_quiet_hours(quiet_hours)
    if not 1 <= reminder_after_h <= 24 * 60 or not 1 <= link_days <= 365:
        raise InvalidSurvey(
            "reminders come 1 h to 60 days after the invitation; links last 1 to 365 days"
        )
    bank = load_template(template)
    survey = Survey(
        title=title,
        template=bank.name,
        status="open",
        version=1,
        key_subject=vault.new_subjects(1)[0],
        quiet_hours=quiet_hours.strip(),
        reminder_after_h=reminder_after_h,
        link_days=link_days,
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(survey)
    session.flush()
    name = company.strip() or "this company"
    for position, item in enumerate(bank.items):
        session.add(
            SurveyItem(
                survey_id=survey.id,
                position=position,
                item_key=item.id,
                kind=item.kind,
                dimension=item.dimension,
                min_value=item.min,
                max_value=item.max,
                labels=json.dumps(list(item.labels)),
                text=_worded(item.text, name),
                source=item.source,
                version=1,
            )
        )
    session.flush()
    audit.record(
        session, actor=actor, action="survey.created", entity_type="survey", entity_id=survey.id,
        changes={"template": bank.name, "items": len(bank.items)},
    )  # fmt: skip
    return load_survey(session, survey.id)


def _worded(text: str, company: str) -> str:
    worded = text.replace("{company}", company)
    return worded[:1].upper() + worded[1:]


_SENT_ITEMS: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], tuple[ItemOut, ...]]] = (
    weakref.WeakKeyDictionary()
)
"""Per database engine: the items of a version of a survey that has been sent."""


def load_sent_survey(session: Session, survey_id: int) -> SurveyOut:
    """`load_survey` for the response pages: a survey reached by a link has been sent, so the
    items of its current version never change again (an edit makes a new version), and this
    process keeps them instead of reading them for every submission."""
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise SurveyNotFound(f"no survey {survey_id}")
    cache = _SENT_ITEMS.setdefault(session.get_bind(), {})
    # created_at too: a database emptied and filled again may give the id to another survey.
    key = (survey_id, survey.version, survey.created_at)
    items = cache.get(key)
    if items is None:
        items = load_survey(session, survey_id).items
        if len(cache) > 256:
            cache.clear()
        cache[key] = items
    return SurveyOut(
        id=survey.id, title=survey.title, template=survey.template, status=survey.status,
        version=survey.version, created_at=survey.created_at, items=items,
    )  # fmt: skip


def load_survey(session: Session, survey_id: int, version: int | None = None) -> SurveyOut:
    """A survey with the items of its current version (or of `version`)."""
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise SurveyNotFound(f"no survey {survey_id}")
    wanted = survey.version if version is None else version
    items = session.scalars(
        select(SurveyItem)
        .where(SurveyItem.survey_id == survey_id, SurveyItem.version == wanted)
        .order_by(SurveyItem.position)
    )
    return SurveyOut(
        id=survey.id,
        title=survey.title,
        template=survey.template,
        status=survey.status,
        version=wanted,
        created_at=survey.created_at,
        items=tuple(
            ItemOut(
                id=i.item_key,
                dimension=i.dimension,
                min=i.min_value,
                max=i.max_value,
                kind=i.kind,
                text=i.text,
                labels=tuple(json.loads(i.labels)),
                source=i.source,
                show_if=_condition(i.show_if),
            )
            for i in items
        ),
    )


def _condition(stored: str | None) -> tuple[str, tuple[int, ...]] | None:
    if stored is None:
        return None
    found = json.loads(stored)
    return str(found["item"]), tuple(int(v) for v in found["in"])


def scale_items(survey: SurveyOut) -> list[ScaleItem]:
    """The survey's items that take a number (not the open questions)."""
    return [
        ScaleItem(i.id, i.dimension, i.min, i.max)
        for i in survey.items
        if i.min is not None and i.max is not None
    ]


@dataclass(frozen=True)
class SurveyRow:
    id: int
    title: str
    template: str | None
    status: str
    created_at: datetime
    customers: int
    leaders: int


def list_surveys(session: Session, *, limit: int = 200) -> list[SurveyRow]:
    """Surveys, newest first, with how many customers and leaders answered."""
    counts: dict[tuple[int, str], int] = {
        (int(s), str(r)): int(n)
        for s, r, n in session.execute(
            select(SurveyResponse.survey_id, SurveyResponse.respondent, func.count()).group_by(
                SurveyResponse.survey_id, SurveyResponse.respondent
            )
        )
    }
    return [
        SurveyRow(
            s.id,
            s.title,
            s.template,
            s.status,
            s.created_at,
            counts.get((s.id, "customer"), 0),
            counts.get((s.id, "leader"), 0),
        )
        for s in session.scalars(select(Survey).order_by(Survey.id.desc()).limit(limit))
    ]


def latest_with_leaders(session: Session) -> int | None:
    """The newest survey leaders answered (the dashboard's gap)."""
    return session.scalar(
        select(SurveyResponse.survey_id)
        .where(SurveyResponse.respondent == "leader")
        .order_by(SurveyResponse.survey_id.desc())
        .limit(1)
    )
