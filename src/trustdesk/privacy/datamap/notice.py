"""The privacy notice, generated from the data map in plain language, versioned and diffable.

A notice is a list of sections (heading, paragraphs, bullet items): the Markdown and the HTML
page are two renderings of the same structure. Each data map version gets its notice version,
stored with both its structure and its Markdown so an old version reads exactly as it was
published. Version 0 is the notice of the shipped data map, until one is saved.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.errors import NotFound
from trustdesk.privacy.datamap import datamap as datamaps
from trustdesk.privacy.datamap.datamap import DataMap, System
from trustdesk.privacy.deadlines import RULES, Regime
from trustdesk.privacy.models import NoticeVersion

__all__ = [
    "Notice",
    "Section",
    "build",
    "current",
    "diff",
    "load_version",
    "publish",
    "to_markdown",
    "versions",
]

TITLE = "How we use your personal data"


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Notice:
    version: int
    datamap_version: int
    created_at: datetime | None
    title: str
    sections: list[Section]
    markdown: str


def _rights(dm: DataMap) -> Section:
    gdpr, ccpa = RULES[Regime.GDPR], RULES[Regime.CCPA]
    return Section(
        "Your rights and how to use them",
        [
            "You can use these rights at any time, free of charge. The easiest way is the "
            "preferences page linked from every message we send you: from there you can "
            "download your data or ask us to erase it. You can also write to "
            f"{dm.controller.contact_email}.",
            f"We answer within one month in the EU and UK (up to {gdpr.extension_months} more "
            f"months for complex requests, and we tell you why), and within {ccpa.days} days in "
            f"California (up to {ccpa.extension_days} more). We first check that the request "
            "comes from you.",
        ],
        [
            "See the data we hold about you and get a copy of it (access and portability).",
            "Have wrong or incomplete data corrected (rectification).",
            "Have your data erased.",
            "Object to uses based on our legitimate interests, and to direct marketing.",
            "Withdraw your consent at any time, without affecting what was done before.",
            "Ask us to limit how we use your data while a question is being resolved.",
            f"Complain to {dm.controller.supervisory_authority}.",
        ],
    )


def build(dm: DataMap) -> tuple[str, list[Section]]:
    """The notice's sections, in plain language, from the data map alone."""
    collect = [
        f"{s.name}: {', '.join(c.label for c in s.categories)}. {s.description}" for s in dm.systems
    ]
    why = [
        f"{use.purpose}, because {use.legal_basis.label}." for s in dm.systems for use in s.purposes
    ]
    keep = [f"{s.name}: {_lower_first(s.retention)}.{_enforced(s)}" for s in dm.systems]
    recipients = sorted({f"{r.name} ({_ROLE[r.role]})" for s in dm.systems for r in s.recipients})
    transfers = [
        f"{s.name} to {t.destination}, protected by {t.safeguard}."
        for s in dm.systems
        for t in s.transfers
    ]
    special = any(c.value == "special" for s in dm.systems for c in s.categories)
    sections = [
        Section(
            "Who we are",
            [
                f"{dm.controller.name}, {dm.controller.address}, decides how your personal data "
                f"is used (we are its controller). Questions: {dm.controller.contact_email}."
            ],
        ),
        Section(
            "What we collect",
            ["We hold these kinds of personal data about you:"]
            + (
                ["Some of it is sensitive (a special category) and gets extra protection."]
                if special
                else []
            ),
            collect,
        ),
        Section("Why we use it", ["We use your data only for these purposes:"], _unique(why)),
        Section("How long we keep it", [], keep),
        Section(
            "Who we share it with",
            [] if recipients else ["We do not share your personal data with anyone."],
            recipients,
        ),
        Section(
            "International transfers",
            []
            if transfers
            else ["Your personal data stays where you are; we do not send it abroad."],
            transfers,
        ),
        _rights(dm),
        Section("Contact", [f"Write to {dm.controller.contact_email}."]),
    ]
    return TITLE, sections


_ROLE = {
    "processor": "works on our behalf",
    "controller": "uses it for their own purposes",
    "authority": "a public authority",
}


def _enforced(system: System) -> str:
    """How the retention job applies the system's rule, in the customer's words."""
    rule = system.retention_rule
    if rule is None:
        return ""
    done = "deleted" if rule.action == "delete" else "no longer linked to you"
    return f" We check every day: after {rule.days:,} days it is {done} automatically."


def _lower_first(text: str) -> str:
    """ "For as long as …" reads on after a colon as "for as long as …" (but "UK law" stays)."""
    return text[0].lower() + text[1:] if text[1:2].islower() else text


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def to_markdown(title: str, sections: list[Section], version: int) -> str:
    lines = [f"# {title}", "", f"Version {version}.", ""]
    for section in sections:
        lines += [f"## {section.heading}", ""]
        for paragraph in section.paragraphs:
            lines += [paragraph, ""]
        if section.items:
            lines += [f"- {item}" for item in section.items] + [""]
    return "\n".join(lines)


def _notice(version: int, datamap_version: int, created: datetime | None, dm: DataMap) -> Notice:
    title, sections = build(dm)
    return Notice(
        version, datamap_version, created, title, sections, to_markdown(title, sections, version)
    )


def _stored(row: NoticeVersion) -> Notice:
    content = json.loads(row.content)
    return Notice(
        version=row.version,
        datamap_version=row.datamap_version,
        created_at=row.created_at,
        title=content["title"],
        sections=[Section(**s) for s in content["sections"]],
        markdown=row.markdown,
    )


def publish(session: Session, dm: DataMap, datamap_version: int, *, now: datetime) -> Notice:
    """Generates and stores the notice of a newly saved data map version."""
    latest = session.scalar(select(func.max(NoticeVersion.version))) or 0
    notice = _notice(latest + 1, datamap_version, now, dm)
    content = {"title": notice.title, "sections": [asdict(s) for s in notice.sections]}
    session.add(
        NoticeVersion(
            version=notice.version,
            datamap_version=datamap_version,
            created_at=now,
            content=json.dumps(content, ensure_ascii=False),
            markdown=notice.markdown,
        )
    )
    session.flush()
    return notice


def current(session: Session) -> Notice:
    row = session.scalar(select(NoticeVersion).order_by(NoticeVersion.version.desc()).limit(1))
    if row is None:
        return _notice(0, 0, None, datamaps.load_version(session, 0).datamap)
    return _stored(row)


def load_version(session: Session, version: int) -> Notice:
    if version == 0:
        return _notice(0, 0, None, datamaps.load_version(session, 0).datamap)
    row = session.get(NoticeVersion, version)
    if row is None:
        latest = session.scalar(select(func.max(NoticeVersion.version))) or 0
        raise NotFound(
            f"no privacy notice version {version}: versions are 0 (the shipped notice)"
            + (f" to {latest}" if latest else "")
            + "; `trustdesk privacy notice versions` lists them"
        )
    return _stored(row)


def versions(session: Session) -> list[tuple[int, int, datetime | None]]:
    """(version, data map version, published) of every notice, newest first."""
    rows = session.execute(
        select(
            NoticeVersion.version, NoticeVersion.datamap_version, NoticeVersion.created_at
        ).order_by(NoticeVersion.version.desc())
    ).all()
    return [(v, d, c) for v, d, c in rows] + [(0, 0, None)]


def diff(session: Session, a: int, b: int) -> str:
    """A unified diff of version `a`'s Markdown against version `b`'s ("" when identical)."""
    old, new = load_version(session, a), load_version(session, b)
    return "".join(
        difflib.unified_diff(
            old.markdown.splitlines(keepends=True),
            new.markdown.splitlines(keepends=True),
            fromfile=f"notice v{a}",
            tofile=f"notice v{b}",
        )
    )
