"""Editable practice sections and FAQs (Markdown, with an owner and a review date), rendered
safely: raw HTML in the Markdown is shown as text, never interpreted."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from markdown_it import MarkdownIt
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.audit import chain as audit
from trustdesk.auth.models import User
from trustdesk.errors import InvalidInput
from trustdesk.trustcentre.cache import CACHE
from trustdesk.trustcentre.models import PracticeSection

__all__ = ["KINDS", "list_sections", "render_markdown", "set_section"]

KINDS = ("practice", "faq", "document")
_KEY = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_SAFE_LINK = re.compile(r"^(https?:|mailto:|/|#)", re.IGNORECASE)
_MARKDOWN.validateLink = lambda url: bool(_SAFE_LINK.match(url.strip()))  # type: ignore[method-assign]


def render_markdown(text: str) -> str:
    """HTML for `text`; HTML inside it is escaped and only http(s), mailto and local links kept."""
    html: str = _MARKDOWN.render(text)
    return html


def set_section(
    session: Session,
    *,
    key: str,
    title: str,
    body: str,
    owner: str,
    kind: str = "practice",
    review_due: datetime | None = None,
    position: int = 100,
    actor: str,
    now: datetime,
    staff_owner: bool = True,
) -> PracticeSection:
    """Create or replace a section (audited with what changed). `staff_owner=False` only for
    the demo, which creates its logins after its data."""
    if not _KEY.match(key):
        raise InvalidInput(f"key {key!r}: lower-case letters, digits and dashes, up to 64")
    if kind not in KINDS:
        raise InvalidInput(f"kind {kind!r}: expected one of {', '.join(KINDS)}")
    if review_due is not None and review_due.tzinfo is None:
        review_due = review_due.replace(tzinfo=UTC)  # a date alone means midnight UTC
    title, body = title.strip(), body.strip()
    if not title or len(title) > 200:
        raise InvalidInput("title: give 1 to 200 characters")
    if not body or len(body) > 50_000:
        raise InvalidInput("body: give 1 to 50000 characters")
    user = session.scalar(select(User).where(User.username == owner))
    if staff_owner and (user is None or not user.is_active):
        raise InvalidInput(f"owner {owner!r} is not an active staff user")
    row = session.get(PracticeSection, key)
    before = None if row is None else {"title": row.title, "body": row.body, "owner": row.owner}
    if row is None:
        row = PracticeSection(key=key)
        session.add(row)
    row.title, row.body, row.owner, row.kind = title, body, owner, kind
    row.review_due, row.position, row.updated_at = review_due, position, now
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="trustcentre.section_saved",
        entity_type="trust_section",
        entity_id=key,
        changes={"title": title, "owner": owner, "kind": kind, "created": before is None},
    )
    CACHE.clear()
    return row


def list_sections(session: Session) -> list[PracticeSection]:
    return list(
        session.scalars(
            select(PracticeSection).order_by(PracticeSection.position, PracticeSection.key)
        )
    )
