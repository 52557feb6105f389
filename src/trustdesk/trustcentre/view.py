"""What the public trust centre shows, assembled from what TrustDesk already knows (so it cannot
drift), and the cache in front of it.

The rendered page and feed are cached per database: an entry is used while this capability's own
tables are unchanged (one cheap query checks their stamp, so a statement published from another
process shows at once) and for at most `TTL_S` seconds, after which figures and disclosures from
other capabilities are read again.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.cases import public as cases
from trustdesk.config import Settings
from trustdesk.feedback import public as feedback
from trustdesk.fraud import public as fraud
from trustdesk.incidents import public as incidents
from trustdesk.privacy import public as privacy
from trustdesk.trustcentre.cache import CACHE, TTL_S, PageCache
from trustdesk.trustcentre.documents import DocumentInfo, list_documents
from trustdesk.trustcentre.models import PracticeSection, TrustDocument, TrustStatement
from trustdesk.trustcentre.promises import Promise, compute_promises
from trustdesk.trustcentre.sections import list_sections, render_markdown
from trustdesk.trustcentre.statements import list_statements

__all__ = ["CACHE", "TTL_S", "PageCache", "TrustCentre", "gather", "own_stamp", "recipient_changes"]


@dataclass(frozen=True)
class SharingChange:
    version: int
    at: datetime | None
    added: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class TrustCentre:
    now: datetime
    notice: privacy.NoticeVersionInfo
    notice_versions: list[privacy.NoticeVersionInfo]
    recipients: tuple[tuple[str, str, str], ...]
    transfers: tuple[tuple[str, str, str], ...]
    sharing_changes: list[SharingChange]
    promises: list[Promise]
    statements: list[dict[str, Any]]
    incidents: list[incidents.DisclosedIncident]
    sections: list[dict[str, Any]] = field(default_factory=list)
    automated: list[dict[str, Any]] = field(default_factory=list)
    documents: list[DocumentInfo] = field(default_factory=list)


def _describe(entry: tuple[str, str, str]) -> str:
    return f"{entry[0]} ({entry[1]}, {entry[2]})"


def recipient_changes(history: list[privacy.DataMapSharing]) -> list[SharingChange]:
    """Recipients and transfers added or removed by each data-map version, newest first."""
    changes: list[SharingChange] = []
    oldest_first = list(reversed(history))
    for before, after in itertools.pairwise(oldest_first):
        old = {_describe(r) for r in before.recipients} | {
            f"transfer to {t[0]} ({t[1]}, {t[2]})" for t in before.transfers
        }
        new = {_describe(r) for r in after.recipients} | {
            f"transfer to {t[0]} ({t[1]}, {t[2]})" for t in after.transfers
        }
        if old != new:
            changes.append(
                SharingChange(
                    after.version,
                    after.saved_at,
                    tuple(sorted(new - old)),
                    tuple(sorted(old - new)),
                )
            )
    return list(reversed(changes))


def _figures(found: feedback.ModelFigures | None, keys: tuple[str, ...]) -> list[str]:
    if found is None:
        return []
    shown = [f"{k.replace('_', ' ')} {found.metrics[k]:.3f}" for k in keys if k in found.metrics]
    return [f"model version {found.version}", *shown] if shown else []


def _automated(session: Session, settings: Settings | None) -> list[dict[str, Any]]:
    fraud_model = fraud.active_model_metrics(session)
    fraud_figures: list[str] = []
    if fraud_model is not None:
        version, metrics = fraud_model
        fraud_figures.append(f"model version {version}")
        for key in ("roc_auc", "average_precision", "precision", "recall"):
            value = metrics.get(key)
            if isinstance(value, int | float):
                fraud_figures.append(f"{key.replace('_', ' ')} {value:.3f}")
    routing = cases.routing_model_figures(settings) if settings is not None else None
    text: dict[str, feedback.ModelFigures] = {}
    if settings is not None:
        text = {m.task: m for m in feedback.active_model_figures(settings.data_dir)}
    sentiment = _figures(text.get("sentiment"), ("accuracy", "macro_f1"))
    topics = _figures(text.get("topic"), ("micro_f1", "macro_f1", "top1_accuracy"))
    return [
        {
            "name": "Fraud checks on payments",
            "decides": "whether a payment goes through, is held for a person to review, or asks "
            "you to confirm it is you",
            "figures": fraud_figures or ["shipped rules and model; no trained model active yet"],
        },
        {
            "name": "Routing of complaints",
            "decides": "which team first handles your complaint and how urgent it is; a person "
            "always answers it",
            "figures": _figures(routing, ("accuracy", "macro_f1", "cv_accuracy"))
            or ["keyword rules (no trained intent model installed); unsure ones go to triage"],
        },
        {
            "name": "Sentiment and topics of feedback",
            "decides": "nothing about you: it summarises feedback into figures for our staff",
            "figures": [f"sentiment: {f}" for f in sentiment] + [f"topics: {f}" for f in topics]
            or ["text classifier; staff corrections are kept to retrain it"],
        },
    ]


def gather(session: Session, now: datetime, settings: Settings | None = None) -> TrustCentre:
    """Everything the public page and feed show; `settings` locates the models in use (their
    validation figures are published under automated decisions)."""
    versions = privacy.notice_versions(session)
    sharing = privacy.datamap_sharing_history(session)
    current = sharing[0] if sharing else None
    statements = [
        {"id": s.id, "title": s.title, "body": s.body, "incident_id": s.incident_id,
         "published_at": s.published_at}
        for s in list_statements(session)
    ]  # fmt: skip
    sections = [
        {"key": s.key, "title": s.title, "kind": s.kind, "owner": s.owner,
         "review_due": s.review_due, "updated_at": s.updated_at, "html": render_markdown(s.body)}
        for s in list_sections(session)
    ]  # fmt: skip
    return TrustCentre(
        now=now,
        notice=versions[0],
        notice_versions=versions,
        recipients=current.recipients if current else (),
        transfers=current.transfers if current else (),
        sharing_changes=recipient_changes(sharing),
        promises=compute_promises(session, now),
        statements=statements,
        incidents=incidents.disclosed_incidents(session),
        sections=sections,
        automated=_automated(session, settings),
        documents=list_documents(session),
    )


def own_stamp(session: Session) -> tuple[Any, ...]:
    """Changes whenever a statement, section or document is added or saved (one query)."""
    row = session.execute(
        select(
            select(func.max(TrustStatement.id)).scalar_subquery(),
            select(func.count(PracticeSection.key)).scalar_subquery(),
            select(func.max(PracticeSection.updated_at)).scalar_subquery(),
            select(func.max(TrustDocument.uploaded_at)).scalar_subquery(),
            select(func.count(TrustDocument.key)).scalar_subquery(),
        )
    ).one()
    return tuple(row)
