"""The trust centre's Atom feed (feedgen): statements, disclosed incidents and privacy-notice
versions, newest first."""

from __future__ import annotations

from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from trustdesk.trustcentre.view import TrustCentre

__all__ = ["atom_feed"]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def atom_feed(centre: TrustCentre, base_url: str) -> bytes:
    base = base_url.rstrip("/")
    page = f"{base}/trust-centre"
    feed = FeedGenerator()
    feed.id(page)
    feed.title("Trust centre updates")
    feed.subtitle("Statements, disclosed incidents and changes to our privacy notice.")
    feed.link(href=page, rel="alternate")
    feed.link(href=f"{page}/feed.atom", rel="self")
    feed.language("en")
    items: list[tuple[datetime, str, str, str, str]] = []
    for s in centre.statements:
        items.append(
            (_aware(s["published_at"]), f"{page}/statements/{s['id']}", s["title"], s["body"],
             f"{page}#statement-{s['id']}")
        )  # fmt: skip
    for incident in centre.incidents:
        if incident.statement:
            items.append(
                (_aware(incident.updated_at), f"{page}/incidents/{incident.id}",
                 f"Incident: {incident.title} ({incident.status})", incident.statement,
                 f"{page}#incident-{incident.id}")
            )  # fmt: skip
    for v in centre.notice_versions:
        if v.version > 0 and v.published_at is not None:
            items.append(
                (_aware(v.published_at), f"{base}/privacy-notice/v/{v.version}",
                 f"Privacy notice version {v.version}", "A new version of our privacy notice.",
                 f"{base}/privacy-notice/v/{v.version}")
            )  # fmt: skip
    items.sort(key=lambda item: item[0])  # feedgen lists the last added first
    feed.updated(items[-1][0] if items else _aware(centre.now))
    for at, entry_id, title, body, link in items:
        entry = feed.add_entry()
        entry.id(entry_id)
        entry.title(title)
        entry.content(body, type="text")
        entry.link(href=link)
        entry.updated(at)
        entry.published(at)
    feed.author({"name": "Trust centre"})
    result: bytes = feed.atom_str(pretty=True)
    return result
