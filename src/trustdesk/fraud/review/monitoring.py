"""Daily monitoring figures of the fraud decisions, from stored decisions and the labels so far.

Per day: how precise the reviews were (reviewed cases labelled fraud), how much labelled fraud
was caught (declined or sent to review), how often a decline hit a genuine customer, how many
second-factor challenges were passed (among those whose outcome was reported), and how far
the day's scores drifted from the model's validation scores (population stability index, PSI:
under 0.1 stable, 0.1 to 0.25 worth a look, above 0.25 a shift). Pure: no database here.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

__all__ = [
    "PSI_SHIFT",
    "PSI_WATCH",
    "DayFigures",
    "Tally",
    "daily_figures",
    "drift",
    "psi",
    "psi_of_counts",
]

FRAUD_LABELS = frozenset({"fraud", "chargeback"})
CAUGHT = frozenset({"decline", "review"})
_FLOOR = 1e-4  # empty bins would make the PSI infinite
PSI_WATCH, PSI_SHIFT = 0.1, 0.25  # the usual lines: stable below 0.1, a shift above 0.25


@dataclass(frozen=True)
class Tally:
    """How many payments of one day got one decision, latest label, score bin and step-up
    outcome (from SQL)."""

    day: date
    decision: str
    label: str | None
    score_bin: int
    count: int
    step_up: str | None = None  # passed, failed, abandoned; None: not reported (or no step-up)


@dataclass(frozen=True)
class DayFigures:
    day: date
    decided: int
    reviewed: int
    declined: int
    review_precision: float | None  # reviewed and labelled fraud / reviewed and labelled
    fraud_caught: float | None  # labelled fraud declined or reviewed / labelled fraud
    false_declines: float | None  # declined and labelled genuine / declined
    psi: float | None
    stepped_up: int = 0
    step_up_pass_rate: float | None = None  # passed / step-ups with a reported outcome


def psi_of_counts(counts: Sequence[int], expected: Sequence[float]) -> float:
    """Population stability index of binned counts against the expected shares of each bin."""
    total = max(1, sum(counts))
    value = 0.0
    for c, e in zip(counts, expected, strict=True):
        a, e = max(c / total, _FLOOR), max(float(e), _FLOOR)
        value += (a - e) * math.log(a / e)
    return value


def psi(scores: Sequence[float], edges: Sequence[float], expected: Sequence[float]) -> float:
    """Population stability index of `scores` against shares `expected` in bins `edges`."""
    counts, _ = np.histogram(np.clip(np.asarray(scores, dtype=float), 0.0, 1.0), bins=edges)
    return psi_of_counts([int(c) for c in counts], expected)


def drift(psi: float | None) -> str | None:
    """ "stable", "watch" (0.1 to 0.25) or "shift" (above 0.25) for a PSI; None without one."""
    if psi is None:
        return None
    if psi > PSI_SHIFT:
        return "shift"
    return "watch" if psi >= PSI_WATCH else "stable"


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def daily_figures(tallies: Sequence[Tally], expected: Sequence[float] | None) -> list[DayFigures]:
    """One entry per day with decisions, oldest first; `expected`: the baseline's bin shares."""
    by_day: dict[date, list[Tally]] = defaultdict(list)
    for t in tallies:
        by_day[t.day].append(t)
    out = []
    for day in sorted(by_day):
        items = by_day[day]

        def count(keep: Callable[[Tally], bool], items: list[Tally] = items) -> int:
            return sum(t.count for t in items if keep(t))

        reviewed_labelled = count(lambda t: t.decision == "review" and t.label is not None)
        frauds = count(lambda t: t.label in FRAUD_LABELS)
        declined = count(lambda t: t.decision == "decline")
        bins = [0] * (len(expected) if expected else 0)
        for t in items:
            if 0 <= t.score_bin < len(bins):
                bins[t.score_bin] += t.count
        out.append(
            DayFigures(
                day=day,
                decided=count(lambda t: True),
                reviewed=count(lambda t: t.decision == "review"),
                declined=declined,
                review_precision=_share(
                    count(lambda t: t.decision == "review" and t.label in FRAUD_LABELS),
                    reviewed_labelled,
                ),
                fraud_caught=_share(
                    count(
                        lambda t: t.label in FRAUD_LABELS and t.decision in ("decline", "review")
                    ),
                    frauds,
                ),
                false_declines=_share(
                    count(lambda t: t.decision == "decline" and t.label == "genuine"), declined
                ),
                psi=psi_of_counts(bins, expected) if expected else None,
                stepped_up=count(lambda t: t.decision == "step_up"),
                step_up_pass_rate=_share(
                    count(lambda t: t.decision == "step_up" and t.step_up == "passed"),
                    count(lambda t: t.decision == "step_up" and t.step_up is not None),
                ),
            )
        )
    return out
