"""Promises with live proof: each promise is tied to a figure computed from TrustDesk's own records
over a stated period, and marked kept or not kept. A figure measured over fewer than its minimum
count of cases is not published (`value` and `kept` are None), so one lucky week proves nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from trustdesk.cases import public as cases
from trustdesk.fraud import public as fraud
from trustdesk.incidents import public as incidents
from trustdesk.privacy import public as privacy

__all__ = ["PERIOD_DAYS", "Promise", "compute_promises"]

PERIOD_DAYS = 365
# A controller receiving data from a system used for a purpose resting on consent is what a sale,
# or sharing for someone else's marketing, looks like in a data map (card schemes getting a
# disputed payment under contract, law or fraud prevention are not).
_SALE_BASES = frozenset({"consent"})


@dataclass(frozen=True)
class Promise:
    promise: str
    measure: str
    value: float | None  # None: fewer than `minimum` measured, not published
    target: float
    kept: bool | None
    n: int
    period: str
    how: str
    minimum: int
    higher_is_better: bool = True

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def shown(self) -> str:
        """The figure in words, for the page."""
        if self.value is None:
            return f"not published: measured on {self.n}, fewer than {self.minimum}"
        if self.target == 0.0:
            return f"{int(self.value)} of {self.n}"
        return f"{self.value * 100:.1f}% of {self.n}"

    @property
    def target_shown(self) -> str:
        if self.target == 0.0:
            return "none"
        word = "at least" if self.higher_is_better else "at most"
        return f"{word} {self.target * 100:.0f}%"


@dataclass(frozen=True)
class _Measured:
    value: float | None
    n: int


def _share(good: int, n: int) -> _Measured:
    return _Measured(round(good / n, 4) if n else None, n)


def _requests(session: Session, since: datetime, now: datetime) -> _Measured:
    times = privacy.fulfilment_times(session, since)
    return _share(sum(closed <= due for _received, closed, due in times), len(times))


def _notices(session: Session, since: datetime, now: datetime) -> _Measured:
    judged = [t for t in incidents.notice_timings(session, since) if t.sent_at or t.due_at < now]
    on_time = sum(t.sent_at is not None and t.sent_at <= t.due_at for t in judged)
    return _share(on_time, len(judged))


def _complaints(session: Session, since: datetime, now: datetime) -> _Measured:
    overall = cases.case_figures(session, now=now)["overall"]
    rate = overall["timely_response_rate"]
    return _Measured(None if rate is None else float(rate), int(overall["cases"]))


def _selling(session: Session, since: datetime, now: datetime) -> _Measured:
    history = privacy.datamap_sharing_history(session)
    if not history:
        return _Measured(0.0, 0)
    current = history[0]
    sold = sum(bool(set(bases) & _SALE_BASES) for _name, bases in current.controller_bases)
    return _Measured(float(sold), len(current.recipients))


def _false_declines(session: Session, since: datetime, now: datetime) -> _Measured:
    genuine, labelled = fraud.false_declines(session, since)
    return _share(genuine, labelled)


@dataclass(frozen=True)
class _Definition:
    promise: str
    measure: str
    target: float
    how: str
    minimum: int
    measure_fn: Callable[[Session, datetime, datetime], _Measured]
    higher_is_better: bool = True


DEFINITIONS: tuple[_Definition, ...] = (
    _Definition(
        "We answer your data requests within the legal deadline (30 days, or as extended by law).",
        "share of data-subject requests closed by their statutory due date",
        1.0,
        "privacy requests closed in the period; on time when closed at or before their due date",
        10,
        _requests,
    ),
    _Definition(
        "We tell affected customers and regulators of a breach within the legal deadline "
        "(72 hours for regulators under the GDPR).",
        "share of required breach notices sent by their legal deadline",
        1.0,
        "every required notice of incidents known in the period whose deadline has passed or "
        "that was sent; on time when sent at or before its deadline",
        3,
        _notices,
    ),
    _Definition(
        "We answer complaints within 2 business days.",
        "share of complaints first answered within their SLA",
        0.95,
        "every complaint case not merged into another; timely when the first response came "
        "before its SLA due time (open cases past due count as late)",
        20,
        _complaints,
    ),
    _Definition(
        "We never sell your data.",
        "recipients in our data map that get your data for their own use from a system used "
        "on the basis of consent (as a sale or a marketing share would be)",
        0.0,
        "the current data map's recipients: processors act on our instructions and authorities "
        "by law; controllers count when their system's purposes rest on consent",
        1,
        _selling,
        higher_is_better=False,
    ),
    _Definition(
        "Our fraud checks rarely stop genuine customers.",
        "share of declined payments later confirmed genuine (false-decline rate)",
        0.05,
        "declined payments in the period that have a fraud label; false when labelled genuine",
        50,
        _false_declines,
        higher_is_better=False,
    ),
)


def compute_promises(session: Session, now: datetime) -> list[Promise]:
    since = now - timedelta(days=PERIOD_DAYS)
    period = f"{since.date().isoformat()} to {now.date().isoformat()}"
    found: list[Promise] = []
    for d in DEFINITIONS:
        measured = d.measure_fn(session, since, now)
        published = measured.value is not None and measured.n >= d.minimum
        value = measured.value if published else None
        kept: bool | None = None
        if value is not None:
            kept = value >= d.target if d.higher_is_better else value <= d.target
        found.append(
            Promise(
                d.promise,
                d.measure,
                value,
                d.target,
                kept,
                measured.n,
                period,
                d.how,
                d.minimum,
                d.higher_is_better,
            )
        )
    return found
