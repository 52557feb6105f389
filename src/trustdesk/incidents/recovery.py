"""Trust recovery after an incident: did the customers it exposed trust us less afterwards, by
how much compared with customers it did not touch, and when did they come back?

Difference-in-differences on the trust evidence (every registered trust signal except breach
exposure itself, which would make the answer circular): for each customer seen both in the
`window` before `aware_at` and in the `window` after it, the change of their weighted mean trust
value (0..100). The effect is the mean change of the affected customers minus the mean change of
comparable unaffected ones (the same jurisdictions as the affected, or all others when fewer than
two of those were seen), so a trend shared by everyone (a season, an outage) cancels. The 95 %
interval is Welch's (t with Welch-Satterthwaite degrees of freedom) on the two groups' changes.

Time to recover: week by week after `aware_at`, the affected group's mean minus the unaffected
group's mean; the incident is recovered at the end of the first week in which that gap is back to
its pre-incident size, within `TOLERANCE` points plus that week's 95 % sampling margin (the
affected group's own mean when there is no unaffected evidence that week).

Related feedback: the share of the affected customers' feedback that is about privacy or
security, before and after, and the unaffected customers' share after (for comparison).

`estimate` is pure (arrays in, figures out) so it is tested on constructed data whose answer is
known; `recovery(session, incident_id)` reads the evidence and calls it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta

import numpy as np
from scipy import stats  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.customers import public as customers
from trustdesk.feedback import public as feedback
from trustdesk.incidents.models import AffectedRecord
from trustdesk.incidents.register.service import load
from trustdesk.trust.public import observations_between, registered_signals, utc_of

__all__ = [
    "DEFAULT_WINDOW_DAYS",
    "TOLERANCE",
    "Evidence",
    "GroupChange",
    "Recovery",
    "RelatedFeedback",
    "WeekPoint",
    "as_dict",
    "estimate",
    "recovery",
]

DEFAULT_WINDOW_DAYS = 90
TOLERANCE = 1.0
"""Index points within which a week counts as back at the pre-incident level (plus that week's
own 95 % sampling margin, so noise alone neither delays nor hastens the verdict)."""
_WEEK = 7 * 86400
_OWN_SIGNAL = "incidents"  # breach exposure: the incident's own mark on the index


@dataclass(frozen=True)
class Evidence:
    """Trust observations as columns: customer, time (epoch s UTC), value 0..100, weight."""

    customer_id: np.ndarray
    at: np.ndarray
    value: np.ndarray
    weight: np.ndarray


@dataclass(frozen=True)
class GroupChange:
    customers: int  # seen both before and after
    before: float | None  # mean of the customers' before means
    after: float | None
    change: float | None  # mean of the customers' changes


@dataclass(frozen=True)
class WeekPoint:
    start: datetime
    affected: float | None
    unaffected: float | None


@dataclass(frozen=True)
class RelatedFeedback:
    affected_before: int  # feedback items of affected customers in the window before
    affected_after: int
    privacy_before: int  # … of them about privacy or security
    privacy_after: int
    unaffected_after: int
    unaffected_privacy_after: int


@dataclass(frozen=True)
class Recovery:
    aware_at: datetime
    window_days: int
    comparison: str  # "same jurisdictions" or "all unaffected customers"
    affected: GroupChange
    unaffected: GroupChange
    effect: float | None  # difference in differences, index points
    ci_low: float | None
    ci_high: float | None
    recovered: bool
    days_to_recover: int | None
    weeks: list[WeekPoint]
    feedback: RelatedFeedback | None = None
    note: str = ""
    incident_id: int = 0


def as_dict(found: Recovery) -> dict[str, object]:
    """JSON-ready: times in ISO 8601 UTC, figures rounded to 0.01 index points."""

    def plain(value: object) -> object:
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if isinstance(value, float):
            return round(value, 2)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    result = plain(asdict(found))
    assert isinstance(result, dict)
    return result


def _means(ev: Evidence, mask: np.ndarray) -> dict[int, float]:
    ids = ev.customer_id[mask]
    if not len(ids):
        return {}
    w = ev.weight[mask]
    wx = w * ev.value[mask]
    keys, inverse = np.unique(ids, return_inverse=True)
    sw = np.bincount(inverse, weights=w)
    swx = np.bincount(inverse, weights=wx)
    return {int(k): float(swx[i] / sw[i]) for i, k in enumerate(keys) if sw[i] > 0}


def _group(ids: np.ndarray, before: dict[int, float], after: dict[int, float]) -> GroupChange:
    both = [int(c) for c in ids if int(c) in before and int(c) in after]
    if not both:
        return GroupChange(0, None, None, None)
    b = np.array([before[c] for c in both])
    a = np.array([after[c] for c in both])
    return GroupChange(len(both), float(b.mean()), float(a.mean()), float((a - b).mean()))


def _changes(ids: list[int], before: dict[int, float], after: dict[int, float]) -> np.ndarray:
    return np.array([after[c] - before[c] for c in ids if c in before and c in after])


def _welch(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float] | tuple[None, None, None]:
    if len(x) < 2 or len(y) < 2:
        return None, None, None
    effect = float(x.mean() - y.mean())
    vx, vy = float(x.var(ddof=1)) / len(x), float(y.var(ddof=1)) / len(y)
    se = (vx + vy) ** 0.5
    if se == 0:
        return effect, effect, effect
    df = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    half = float(stats.t.ppf(0.975, df)) * se
    return effect, effect - half, effect + half


def _weighted(ev: Evidence, mask: np.ndarray) -> float | None:
    return _weighted_se(ev, mask)[0]


def _weighted_se(ev: Evidence, mask: np.ndarray) -> tuple[float | None, float]:
    """Weighted mean and its standard error (Kish effective sample size)."""
    w, x = ev.weight[mask], ev.value[mask]
    total = float(w.sum())
    if total <= 0:
        return None, 0.0
    mean = float((w * x).sum() / total)
    n_eff = total**2 / float((w * w).sum())
    if n_eff <= 1:
        return mean, 0.0
    var = float((w * (x - mean) ** 2).sum() / total) * n_eff / (n_eff - 1)
    return mean, (var / n_eff) ** 0.5


def estimate(
    ev: Evidence,
    affected: set[int],
    aware_at: datetime,
    *,
    window_days: int = DEFAULT_WINDOW_DAYS,
    comparable: set[int] | None = None,
) -> Recovery:
    """Difference-in-differences, its 95 % interval, weekly course and time to recover.
    `comparable`: the unaffected customers to compare with (default: every other customer)."""
    t0 = int(aware_at.timestamp())
    span = window_days * 86400
    before_mask = (ev.at >= t0 - span) & (ev.at < t0)
    after_mask = (ev.at >= t0) & (ev.at < t0 + span)
    before, after = _means(ev, before_mask), _means(ev, after_mask)
    is_affected = np.isin(
        ev.customer_id, np.fromiter(affected, dtype=np.int64, count=len(affected))
    )
    seen = set(before) & set(after)
    controls = sorted(c for c in seen if c not in affected)
    comparison = "all unaffected customers"
    if comparable is not None:
        matched = [c for c in controls if c in comparable]
        if len(matched) >= 2:
            controls, comparison = matched, "same jurisdictions"
    is_control = np.isin(ev.customer_id, np.array(controls, dtype=np.int64))
    treated = sorted(c for c in seen if c in affected)
    effect, low, high = _welch(_changes(treated, before, after), _changes(controls, before, after))

    pre_aff = _weighted(ev, before_mask & is_affected)
    pre_ctl = _weighted(ev, before_mask & is_control)
    weeks: list[WeekPoint] = []
    recovered_week: int | None = None
    for k in range(max(1, window_days // 7)):
        in_week = (ev.at >= t0 + k * _WEEK) & (ev.at < t0 + (k + 1) * _WEEK)
        aff, aff_se = _weighted_se(ev, in_week & is_affected)
        ctl, ctl_se = _weighted_se(ev, in_week & is_control)
        weeks.append(WeekPoint(aware_at + timedelta(weeks=k), aff, ctl))
        if recovered_week is not None or aff is None or pre_aff is None:
            continue
        if ctl is not None and pre_ctl is not None:
            slack = TOLERANCE + 1.96 * (aff_se**2 + ctl_se**2) ** 0.5
            back = aff - ctl >= pre_aff - pre_ctl - slack
        else:
            back = aff >= pre_aff - TOLERANCE - 1.96 * aff_se
        if back:
            recovered_week = k
    note = ""
    if effect is None:
        note = "not enough customers seen both before and after to compare (two per group needed)"
    return Recovery(
        aware_at=aware_at,
        window_days=window_days,
        comparison=comparison,
        affected=_group(np.array(treated, dtype=np.int64), before, after),
        unaffected=_group(np.array(controls, dtype=np.int64), before, after),
        effect=effect,
        ci_low=low,
        ci_high=high,
        recovered=recovered_week is not None,
        days_to_recover=None if recovered_week is None else 7 * (recovered_week + 1),
        weeks=weeks,
        note=note,
    )


def _evidence(session: Session, start: int, end: int) -> Evidence:
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for signal in registered_signals():
        if signal.name == _OWN_SIGNAL:
            continue
        for obs in observations_between(session, signal, start=start, end=end):
            keep = obs.customer_id >= 0
            parts.append((obs.customer_id[keep], obs.at[keep], obs.value[keep], obs.weight[keep]))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Evidence(empty, empty, np.zeros(0), np.zeros(0))
    return Evidence(*(np.concatenate([p[i] for p in parts]) for i in range(4)))


def _related(session: Session, affected: set[int], t0: int, span: int) -> RelatedFeedback:
    privacy = 1 << feedback.TOPICS.index("privacy_security")
    counts = dict.fromkeys(("ab", "aa", "pb", "pa", "ua", "upa"), 0)
    wanted = np.fromiter(affected, dtype=np.int64, count=len(affected))
    for batch in feedback.iter_feedback_batches(
        session, at_from=utc_of(t0 - span), at_to=utc_of(t0 + span)
    ):
        known = batch.customer_id >= 0
        mine = known & np.isin(batch.customer_id, wanted)
        others = known & ~mine
        pre = (batch.at >= t0 - span) & (batch.at < t0)
        post = (batch.at >= t0) & (batch.at < t0 + span)
        about = (batch.topics_mask & privacy) != 0
        counts["ab"] += int((mine & pre).sum())
        counts["aa"] += int((mine & post).sum())
        counts["pb"] += int((mine & pre & about).sum())
        counts["pa"] += int((mine & post & about).sum())
        counts["ua"] += int((others & post).sum())
        counts["upa"] += int((others & post & about).sum())
    return RelatedFeedback(
        counts["ab"], counts["aa"], counts["pb"], counts["pa"], counts["ua"], counts["upa"]
    )


def recovery(
    session: Session, incident_id: int, *, window_days: int = DEFAULT_WINDOW_DAYS
) -> Recovery:
    """The incident's trust recovery from the stored evidence (unknown incident: NotFound)."""
    incident = load(session, incident_id)
    aware = incident.aware_at.astimezone(UTC)
    rows = session.execute(
        select(AffectedRecord.customer_id, AffectedRecord.jurisdiction).where(
            AffectedRecord.incident_id == incident_id
        )
    ).all()
    affected = {int(r[0]) for r in rows}
    places = {r[1] for r in rows if r[1]}
    t0, span = int(aware.timestamp()), window_days * 86400
    ev = _evidence(session, t0 - span, t0 + span)
    comparable: set[int] | None = None
    if places:
        seen = {int(c) for c in np.unique(ev.customer_id)} - affected
        where = customers.jurisdictions_by_id(session, seen)
        comparable = {c for c, p in where.items() if p.jurisdiction in places}
    found = estimate(ev, affected, aware, window_days=window_days, comparable=comparable)
    return replace(found, feedback=_related(session, affected, t0, span), incident_id=incident_id)
