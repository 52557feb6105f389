"""Feedback use cases: store analysed, encrypted records idempotently; read them back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    Insert,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.db import utcnow
from trustdesk.errors import InvalidInput, NotFound
from trustdesk.feedback import search
from trustdesk.feedback.analysis import Analyser, TextAnalysis
from trustdesk.feedback.models import Feedback, FeedbackSourceKey
from trustdesk.feedback.schemas import FeedbackOut, FeedbackRecord
from trustdesk.feedback.topics import TOPICS, topics_of
from trustdesk.jobs import public as jobs

__all__ = [
    "FeedbackFilter",
    "StoreResult",
    "count_feedback_before",
    "decrypt_texts",
    "delete_feedback_before",
    "feedback_out",
    "filtered_query",
    "find_feedback",
    "forget_customer_feedback",
    "get_feedback",
    "list_feedback",
    "reindex_terms",
    "source_subjects",
    "store_feedback",
    "text_keys",
]

TEXT_FIELD = "feedback.text"
_CHUNK = 500


@dataclass
class StoreResult:
    created: int = 0
    unchanged: int = 0
    rejected: dict[int, str] = field(default_factory=dict)  # record index -> reason
    created_ids: dict[int, int] = field(default_factory=dict)  # record index -> feedback id


def _existing(session: Session, records: Sequence[FeedbackRecord]) -> set[tuple[str, str]]:
    keys = list({(r.source, r.external_id) for r in records})
    found: set[tuple[str, str]] = set()
    for i in range(0, len(keys), _CHUNK):
        chunk = keys[i : i + _CHUNK]
        by_source: dict[str, list[str]] = {}
        for source, external_id in chunk:
            by_source.setdefault(source, []).append(external_id)
        condition = or_(
            *(
                and_(Feedback.source == s, Feedback.external_id.in_(ids))
                for s, ids in by_source.items()
            )
        )
        found.update(
            (s, e)
            for s, e in session.execute(
                select(Feedback.source, Feedback.external_id).where(condition)
            )
        )
    return found


def source_subjects(session: Session, vault: Vault, sources: Iterable[str]) -> dict[str, str]:
    """The vault subject of each source, created on first use."""
    wanted = set(sources)
    known = dict(
        session.execute(
            select(FeedbackSourceKey.source, FeedbackSourceKey.subject_id).where(
                FeedbackSourceKey.source.in_(wanted)
            )
        ).all()
    )
    missing = sorted(wanted - set(known))
    if missing:
        now = utcnow()
        for source, subject in zip(missing, vault.new_subjects(len(missing)), strict=True):
            try:
                with session.begin_nested():
                    session.add(
                        FeedbackSourceKey(source=source, subject_id=subject, created_at=now)
                    )
                known[source] = subject
            except IntegrityError:
                # A concurrent request made this source's key first (PostgreSQL runs writers
                # side by side): use theirs; the subject made here stays unused.
                known[source] = session.scalars(
                    select(FeedbackSourceKey.subject_id).where(FeedbackSourceKey.source == source)
                ).one()
    return known


def _insert(session: Session) -> Insert:
    """An insert that skips rows already stored by a concurrent import (idempotent under races)."""
    table = cast(Table, Feedback.__table__)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing()
    return insert(table)  # pragma: no cover - other engines are not supported


def store_feedback(
    session: Session,
    vault: Vault,
    records: Sequence[FeedbackRecord],
    analyser: Analyser | None,
    *,
    actor: str,
) -> StoreResult:
    """Store new records; records already stored are skipped.

    With an analyser, the rows are analysed in one vectorised call and their search terms written
    in the same transaction. Without one (bulk imports), they are stored as pending and
    `enrich_pending` analyses and indexes them afterwards, so ingestion runs at storage speed.
    One audit entry names the batch's counts (never its text). Does not commit.
    """
    result = StoreResult()
    existing = _existing(session, records)
    fresh: list[int] = []
    for i, r in enumerate(records):
        if (r.source, r.external_id) in existing:
            result.unchanged += 1
        else:
            fresh.append(i)
    wanted_customers = {records[i].customer for i in fresh if records[i].customer}
    customer_id = customers.customer_ids(session, (c for c in wanted_customers if c))
    customer_subject = customers.customer_subjects(session, customer_id.values())
    needs_source = {records[i].source for i in fresh if not records[i].customer}
    subject_of_source = source_subjects(session, vault, needs_source) if needs_source else {}
    keys = vault.data_keys([*customer_subject.values(), *subject_of_source.values()])
    plan: list[tuple[int, int | None, str]] = []
    for i in fresh:
        r = records[i]
        if r.customer:
            cid = customer_id.get(r.customer)
            if cid is None:
                result.rejected[i] = f"no customer with external id {r.customer!r}"
                continue
            subject = customer_subject[cid]
            if subject not in keys:
                result.rejected[i] = "customer was erased; their feedback cannot be stored"
                continue
            plan.append((i, cid, subject))
        else:
            plan.append((i, None, subject_of_source[r.source]))
    if plan:
        analysis = analyser.analyse([records[i].text for i, _, _ in plan]) if analyser else None
        now = utcnow()
        rows: list[dict[str, Any]] = []
        for n, (i, cid, subject) in enumerate(plan):
            r = records[i]
            rows.append(
                {
                    "source": r.source,
                    "external_id": r.external_id,
                    "at": r.at,
                    "received_at": now,
                    "channel": r.channel,
                    "language": r.language,
                    "segment": r.segment,
                    "customer_id": cid,
                    "rating": r.rating,
                    "rating_raw": r.rating_raw,
                    "rating_scale": r.rating_scale,
                    "text_enc": vault.encrypt(keys[subject], subject, TEXT_FIELD, r.text),
                    "text_length": len(r.text),
                    **_analysis_columns(analysis, n),
                }
            )
        if analysis is None and session.get_bind().dialect.name == "sqlite":
            # Deferred analysis needs no ids back: a plain executemany, and SQLite's row count
            # says how many were new (the write lock keeps racing imports out meanwhile).
            inserted = session.connection().execute(_insert(session), rows)
            result.created = max(int(inserted.rowcount or 0), 0)
        else:
            # RETURNING names the rows this call created (not those a racing import did).
            stored = session.connection().execute(
                _insert(session).returning(Feedback.id, Feedback.source, Feedback.external_id),
                rows,
            )
            id_of = {(source, external_id): fid for fid, source, external_id in stored}
            texts: list[tuple[int, str]] = []
            for i, _, _ in plan:
                fid = id_of.get((records[i].source, records[i].external_id))
                if fid is not None:
                    result.created_ids[i] = fid
                    texts.append((fid, records[i].text))
            if analysis is not None:
                search.index_terms(session, vault, texts)
            result.created = len(texts)
        if analysis is not None and result.created:
            jobs.changed(session, ANALYSED)  # the trust index is stale: recompute it
        result.unchanged += len(plan) - result.created
    sources = sorted({r.source for r in records})
    audit.record(
        session,
        actor=actor,
        action="feedback.imported",
        entity_type="feedback",
        entity_id=",".join(sources)[:160],
        changes={
            "created": result.created,
            "unchanged": result.unchanged,
            "rejected": len(result.rejected),
        },
    )
    return result


def _analysis_columns(analysis: TextAnalysis | None, n: int) -> dict[str, Any]:
    if analysis is None:  # pending: `enrich_pending` fills these in
        return dict.fromkeys(_ANALYSIS_COLUMNS)
    probs = analysis.probabilities[n]
    return {
        "sentiment": analysis.sentiment[n],
        "p_negative": float(probs[0]),
        "p_neutral": float(probs[1]),
        "p_positive": float(probs[2]),
        "topics_mask": int(analysis.topics_mask[n]),
        "model_version": analysis.version,
    }


_ANALYSIS_COLUMNS = (
    "sentiment",
    "p_negative",
    "p_neutral",
    "p_positive",
    "topics_mask",
    "model_version",
)
UNREADABLE = "text-erased"
ANALYSED = "feedback.analysed"
"""The job-system event of new analysed feedback (the trust recompute is triggered by it)."""


def enrich_pending(session: Session, vault: Vault, analyser: Analyser, *, limit: int = 5000) -> int:
    """Analyse and index up to `limit` stored-but-pending rows, oldest first; returns how many.

    A row whose text can no longer be decrypted (its customer was erased) gets neutral, topic-free
    figures marked `text-erased`, so it never holds back the rows after it. Does not commit.
    """
    rows = session.execute(
        select(Feedback.id, Feedback.source, Feedback.customer_id, Feedback.text_enc)
        .where(Feedback.p_negative.is_(None))
        .order_by(Feedback.id)
        .limit(limit)
    ).all()
    if not rows:
        return 0
    texts = decrypt_texts(session, vault, rows)
    readable = [(int(r.id), t) for r, t in zip(rows, texts, strict=True) if t is not None]
    analysis = analyser.analyse([t for _, t in readable])
    values = [{"fid": fid, **_analysis_columns(analysis, n)} for n, (fid, _) in enumerate(readable)]
    third = 1.0 / 3.0
    values += [
        {
            "fid": int(r.id),
            "sentiment": None,
            "p_negative": third,
            "p_neutral": third,
            "p_positive": third,
            "topics_mask": 0,
            "model_version": UNREADABLE,
        }
        for r, t in zip(rows, texts, strict=True)
        if t is None
    ]
    statement = (
        update(Feedback.__table__)  # type: ignore[arg-type]
        .where(Feedback.__table__.c.id == bindparam("fid"))
        .values({c: bindparam(c) for c in _ANALYSIS_COLUMNS})
    )
    session.connection().execute(statement, values)
    search.index_terms(session, vault, readable)
    jobs.changed(session, ANALYSED)
    return len(rows)


def first_pending_id(session: Session, *, after_id: int = 0) -> int | None:
    """The oldest row after `after_id` still waiting for analysis; readers of analysed rows stop
    before it. Bounded below, it is a range scan of the new rows, not of the whole table (150 ms
    at a million rows, most of an incremental trust update)."""
    return session.scalar(
        select(func.min(Feedback.id)).where(Feedback.id > after_id, Feedback.p_negative.is_(None))
    )


def text_keys(
    session: Session, vault: Vault, rows: Sequence[Any]
) -> dict[tuple[str, int | None], tuple[str, bytes | None]]:
    """(source, customer_id) -> (subject, data key or None when destroyed) for decrypting rows."""
    cids = {r.customer_id for r in rows if r.customer_id is not None}
    sources = {r.source for r in rows if r.customer_id is None}
    by_customer = customers.customer_subjects(session, cids)
    by_source = dict(
        session.execute(
            select(FeedbackSourceKey.source, FeedbackSourceKey.subject_id).where(
                FeedbackSourceKey.source.in_(sources)
            )
        ).all()
    )
    keys = vault.data_keys([*by_customer.values(), *by_source.values()])
    out: dict[tuple[str, int | None], tuple[str, bytes | None]] = {}
    for r in rows:
        subject = by_customer[r.customer_id] if r.customer_id is not None else by_source[r.source]
        out[(r.source, r.customer_id)] = (subject, keys.get(subject))
    return out


def decrypt_texts(session: Session, vault: Vault, rows: Sequence[Any]) -> list[str | None]:
    """The plaintext of each row, None where its data key was destroyed."""
    keys = text_keys(session, vault, rows)
    texts: list[str | None] = []
    for r in rows:
        subject, key = keys[(r.source, r.customer_id)]
        texts.append(vault.decrypt(key, subject, TEXT_FIELD, r.text_enc) if key else None)
    return texts


def feedback_out(row: Feedback, text: str | None) -> FeedbackOut:
    return FeedbackOut(
        id=row.id,
        source=row.source,
        external_id=row.external_id,
        at=row.at,
        received_at=row.received_at,
        channel=row.channel,
        language=row.language,
        segment=row.segment,
        customer_id=row.customer_id,
        rating=row.rating,
        rating_raw=row.rating_raw,
        rating_scale=row.rating_scale,
        text=text,
        text_state="shown" if text is not None else "erased",
        text_length=row.text_length,
        sentiment=row.sentiment,
        p_negative=row.p_negative,
        p_neutral=row.p_neutral,
        p_positive=row.p_positive,
        topics=list(topics_of(row.topics_mask or 0)),
        model_version=row.model_version,
    )


def get_feedback(session: Session, vault: Vault, feedback_id: int) -> FeedbackOut:
    row = session.get(Feedback, feedback_id)
    if row is None:
        raise NotFound(f"no feedback with id {feedback_id}")
    return feedback_out(row, decrypt_texts(session, vault, [row])[0])


def find_feedback(session: Session, vault: Vault, source: str, external_id: str) -> FeedbackOut:
    row = session.scalar(
        select(Feedback).where(Feedback.source == source, Feedback.external_id == external_id)
    )
    if row is None:
        raise NotFound(f"no feedback {external_id!r} from source {source!r}")
    return feedback_out(row, decrypt_texts(session, vault, [row])[0])


def _aware(moment: datetime) -> datetime:
    """Filters without a zone mean UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@dataclass(frozen=True)
class FeedbackFilter:
    """What to list; every given field must hold. `text`: words that must all occur in the text
    (any case, accents and punctuation ignored; see `terms.py`)."""

    text: str | None = None
    source: str | None = None
    segment: str | None = None
    sentiment: str | None = None
    topic: str | None = None
    customer_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_feedback(
    session: Session,
    vault: Vault,
    filters: FeedbackFilter,
    *,
    after_id: int = 0,
    limit: int = 50,
) -> tuple[list[FeedbackOut], int | None]:
    """A page in id order; the second value is the cursor for the next page, if any."""
    query = filtered_query(filters).where(Feedback.id > after_id)
    if filters.text is not None and filters.text.strip():
        hashes = search.query_hashes(vault, filters.text)
        rows = search.search_page(session, query, hashes, after_id=after_id, limit=limit + 1)
    else:
        rows = list(session.scalars(query.order_by(Feedback.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    texts = decrypt_texts(session, vault, rows)
    items = [feedback_out(r, t) for r, t in zip(rows, texts, strict=True)]
    return items, (rows[-1].id if more and rows else None)


def filtered_query(filters: FeedbackFilter) -> Select[Feedback]:
    """Feedback rows meeting every filter but the words (those go through `search`)."""
    query = select(Feedback)
    if filters.source:
        query = query.where(Feedback.source == filters.source)
    if filters.segment:
        query = query.where(Feedback.segment == filters.segment)
    if filters.sentiment:
        query = query.where(Feedback.sentiment == filters.sentiment)
    if filters.topic:
        if filters.topic not in TOPICS:
            raise InvalidInput(f"topic must be one of {', '.join(TOPICS)}")
        query = query.where(Feedback.topics_mask.op("&")(1 << TOPICS.index(filters.topic)) != 0)
    if filters.customer_id is not None:
        query = query.where(Feedback.customer_id == filters.customer_id)
    if filters.since:
        query = query.where(Feedback.at >= _aware(filters.since))
    if filters.until:
        query = query.where(Feedback.at < _aware(filters.until))
    return query


def count_feedback_before(session: Session, cutoff: datetime) -> int:
    """Feedback sent before `cutoff` (retention: what a rule on it would delete)."""
    return int(session.scalar(select(func.count()).where(Feedback.at < cutoff)) or 0)


def delete_feedback_before(session: Session, cutoff: datetime) -> int:
    """Delete feedback sent before `cutoff` with its search postings; returns the rows deleted.

    The trust index keeps only anonymous aggregates of them (a full recompute forgets those too).
    Does not commit.
    """
    old = select(Feedback.id).where(Feedback.at < cutoff)
    search.drop_terms(session, old)
    result = session.connection().execute(delete(Feedback).where(Feedback.at < cutoff))
    return int(result.rowcount or 0)


def forget_customer_feedback(session: Session, customer_id: int) -> int:
    """Erase what search knows of a customer's feedback (term hashes are derived personal data).

    Call with the destruction of the customer's data key. Returns the postings deleted.
    """
    return search.drop_terms(
        session, select(Feedback.id).where(Feedback.customer_id == customer_id)
    )


def reindex_terms(
    session: Session, vault: Vault, *, after_id: int = 0, limit: int = 5000
) -> tuple[int, int, int | None]:
    """Rebuild the search postings of the next `limit` rows after `after_id`.

    Returns (rows read, postings written, last id read or None when there were none). Rows whose
    data key was destroyed lose their postings and get none back. Does not commit.
    """
    rows = session.execute(
        select(Feedback.id, Feedback.source, Feedback.customer_id, Feedback.text_enc)
        .where(Feedback.id > after_id)
        .order_by(Feedback.id)
        .limit(limit)
    ).all()
    if not rows:
        return 0, 0, None
    last = int(rows[-1].id)
    search.drop_terms(
        session, select(Feedback.id).where(Feedback.id > after_id, Feedback.id <= last)
    )
    texts = decrypt_texts(session, vault, rows)
    written = search.index_terms(
        session, vault, ((r.id, t) for r, t in zip(rows, texts, strict=True) if t is not None)
    )
    return len(rows), written, last
