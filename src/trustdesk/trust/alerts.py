"""Alert statistics: is a window's trust drop or negative-topic surge beyond what history explains?

Pure functions on per-window numbers. Each test compares the latest window with the *same*
segment's (or segment x topic's) previous windows, not with a fixed threshold:

* trust drop — a random-effects test. The history's window means vary by sampling error and by
  genuine day-to-day variation τ² (DerSimonian-Laird estimate). The window's mean is compared with
  the history's pooled mean using the predictive variance τ² + se_window² + var(baseline), on a
  Student t with (h - 1) degrees of freedom because τ² comes from only h windows.
* topic surge — negative items mentioning the topic, against the count the history's rate
  predicts for the window's volume. When the history is Poisson-like the exact conditional
  binomial test for two rates is used; when the history is over-dispersed (Pearson φ > 1) a
  quasi-Poisson t test with variance φ·E·(1 + v/V).

False alarms are controlled three ways: a strict level, the Benjamini-Hochberg procedure across
every test of a run, and a minimum effect size (MIN_DROP_POINTS, MIN_SURGE_RATIO, MIN_EXCESS).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from trustdesk.trust.index import describe

__all__ = [
    "DROP",
    "MIN_HISTORY",
    "SURGE",
    "Finding",
    "WindowCount",
    "WindowMean",
    "benjamini_hochberg",
    "drop_test",
    "evaluate_window",
    "evaluate_windows",
    "pearson_dispersion",
    "select_alerts",
    "severity",
    "surge_test",
]

DROP = "trust_drop"
SURGE = "topic_surge"
MIN_HISTORY = 3
"""Windows of history a test needs before it can say anything."""
MIN_DROP_POINTS = 3.0
MIN_SURGE_RATIO = 1.5
MIN_EXCESS = 3.0
HISTORY_WINDOWS = 28
DAY = 86_400


@dataclass(frozen=True)
class WindowMean:
    """A window's weighted mean trust, its item variance and effective sample size."""

    mean: float
    variance: float
    n_eff: float


@dataclass(frozen=True)
class WindowCount:
    """A window's negative items on a topic and its total volume of items."""

    count: float
    volume: float


@dataclass(frozen=True)
class Finding:
    kind: str
    segment: str
    topic: str | None
    window_start: int
    window_end: int
    baseline: float
    observed: float
    p_value: float
    effect: float
    """Drop: points below baseline. Surge: observed / expected count."""
    severity: str = ""


def _special() -> Any:
    """scipy.special, imported when a test runs (commands that only read alerts never need it).
    Its distribution functions are what scipy.stats calls, without the seconds scipy.stats takes
    to import: stdtr(df, t) is Student's t CDF, bdtrc(k, n, p) the binomial P(X > k)."""
    from scipy import special  # type: ignore[import-untyped]

    return special


def drop_test(history: Sequence[WindowMean], window: WindowMean) -> tuple[float, float] | None:
    """(baseline mean, one-sided p-value of a drop), or None without enough history."""
    usable = [h for h in history if h.n_eff >= 2 and math.isfinite(h.mean)]
    if len(usable) < MIN_HISTORY or window.n_eff < 2:
        return None
    means = np.array([h.mean for h in usable])
    se2 = np.array([max(h.variance, 1e-9) / h.n_eff for h in usable])
    w = 1.0 / se2
    fixed = float(np.sum(w * means) / np.sum(w))
    q = float(np.sum(w * (means - fixed) ** 2))
    c = float(np.sum(w) - np.sum(w * w) / np.sum(w))
    tau2 = max(0.0, (q - (len(usable) - 1)) / c) if c > 0 else 0.0
    w_star = 1.0 / (se2 + tau2)
    baseline = float(np.sum(w_star * means) / np.sum(w_star))
    predictive = tau2 + max(window.variance, 1e-9) / window.n_eff + 1.0 / float(np.sum(w_star))
    t = (window.mean - baseline) / math.sqrt(predictive)
    return baseline, float(_special().stdtr(len(usable) - 1, t))


def pearson_dispersion(history: Sequence[WindowCount]) -> tuple[float, int] | None:
    """(Pearson chi-square, degrees of freedom) of a history around its own rate."""
    usable = [h for h in history if h.volume > 0]
    if len(usable) < MIN_HISTORY:
        return None
    counts = np.array([h.count for h in usable])
    volumes = np.array([h.volume for h in usable])
    rate = float(counts.sum()) / float(volumes.sum())
    if rate <= 0:
        return 0.0, len(usable) - 1
    fitted = rate * volumes
    return float(np.sum((counts - fitted) ** 2 / fitted)), len(usable) - 1


def surge_test(
    history: Sequence[WindowCount],
    window: WindowCount,
    dispersion: tuple[float, int] | None = None,
) -> tuple[float, float] | None:
    """(expected count, one-sided p-value of a surge), or None without enough history.

    `dispersion` is a pooled (chi-square, df) over many series (see `evaluate_windows`); without
    it the series' own history estimates the over-dispersion, on few degrees of freedom.
    """
    usable = [h for h in history if h.volume > 0]
    if len(usable) < MIN_HISTORY or window.volume <= 0:
        return None
    total_count = float(sum(h.count for h in usable))
    total_volume = float(sum(h.volume for h in usable))
    rate = total_count / total_volume
    expected = rate * window.volume
    if window.count <= expected:
        return expected, 1.0
    share = window.volume / (window.volume + total_volume)
    trials = round(window.count + total_count)
    sp = _special()
    p = float(sp.bdtrc(round(window.count) - 1, trials, share))
    chi2, df = dispersion or pearson_dispersion(usable) or (0.0, 0)
    phi = chi2 / df if df > 0 else 1.0
    if phi > 1.0 and expected > 0:
        # Extra variation can only weaken the evidence; the normal approximation alone would
        # overstate it for small expected counts, so the exact test's p-value is a floor.
        variance = phi * expected * (1.0 + window.volume / total_volume)
        t = (window.count - expected) / math.sqrt(variance)
        p = max(p, float(sp.stdtr(df, -t)))
    return expected, p


def benjamini_hochberg(p_values: Sequence[float], q: float) -> np.ndarray:
    """Which hypotheses to reject while keeping the false discovery rate at q."""
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    if m == 0:
        return np.zeros(0, dtype=bool)
    order = np.argsort(p)
    passed = p[order] <= q * np.arange(1, m + 1) / m
    reject = np.zeros(m, dtype=bool)
    if passed.any():
        last = int(np.nonzero(passed)[0].max())
        reject[order[: last + 1]] = True
    return reject


def severity(finding: Finding) -> str:
    """high / medium / low from the effect size and the strength of the evidence."""
    strong, firm = finding.p_value < 1e-4, finding.p_value < 1e-3
    if finding.kind == DROP:
        big, medium = finding.effect >= 10, finding.effect >= 5
    else:
        big, medium = finding.effect >= 3, finding.effect >= 2
    if big and strong:
        return "high"
    if (big or medium) and firm:
        return "medium"
    return "low"


def _large_enough(f: Finding) -> bool:
    if f.kind == DROP:
        return f.effect >= MIN_DROP_POINTS
    return f.effect >= MIN_SURGE_RATIO and f.observed - f.baseline >= MIN_EXCESS


def select_alerts(findings: Sequence[Finding], *, q: float) -> list[Finding]:
    """The findings that pass Benjamini-Hochberg at q and the minimum effect.

    Each window is its own family of tests, as in daily monitoring: recomputing many days at
    once must not make any one day's alert harder (or easier) to raise.
    """
    by_window: dict[int, list[Finding]] = {}
    for f in findings:
        by_window.setdefault(f.window_start, []).append(f)
    selected: list[Finding] = []
    for family in by_window.values():
        reject = benjamini_hochberg([f.p_value for f in family], q)
        selected += [
            replace(f, severity=severity(f))
            for f, r in zip(family, reject, strict=True)
            if r and _large_enough(f)
        ]
    return selected


def _window_means(days: Mapping[int, np.ndarray]) -> dict[int, WindowMean]:
    keys = list(days)
    if not keys:
        return {}
    m = describe(np.array([days[d] for d in keys]))
    return {
        d: WindowMean(mean, variance, n_eff)
        for d, mean, variance, n_eff in zip(
            keys, m.mean.tolist(), m.variance.tolist(), m.n_eff.tolist(), strict=True
        )
    }


def evaluate_window(
    segment_days: Mapping[str, Mapping[int, np.ndarray]],
    topic_days: Mapping[tuple[str, str], Mapping[int, np.ndarray]],
    window: int,
    *,
    history_windows: int = HISTORY_WINDOWS,
) -> list[Finding]:
    """Every drop and surge test for the day starting at `window` (see `evaluate_windows`)."""
    return evaluate_windows(segment_days, topic_days, [window], history_windows=history_windows)


def evaluate_windows(
    segment_days: Mapping[str, Mapping[int, np.ndarray]],
    topic_days: Mapping[tuple[str, str], Mapping[int, np.ndarray]],
    windows: Sequence[int],
    *,
    history_windows: int = HISTORY_WINDOWS,
) -> list[Finding]:
    """Every drop and surge test for the days starting at `windows`, from daily statistics.

    segment_days[segment][day] and topic_days[(segment, topic)][day] are rows of STAT_FIELDS
    (all rows of the segment; the rows mentioning the topic). Only days before a window and at
    most `history_windows` of them form its history. Returns the raw findings, before the
    false-discovery control of `select_alerts`.
    """
    found: list[Finding] = []
    topics_of: dict[str, list[tuple[str, Mapping[int, np.ndarray]]]] = {}
    for (seg, topic), rows in topic_days.items():
        topics_of.setdefault(seg, []).append((topic, rows))
    means_of = {segment: _window_means(days) for segment, days in segment_days.items()}
    for window in windows:
        pasts = {
            segment: [d for d in sorted(days) if window - history_windows * DAY <= d < window]
            for segment, days in segment_days.items()
        }
        pooled = _pooled_dispersion(segment_days, topics_of, pasts)
        for segment, days in segment_days.items():
            current = days.get(window)
            if current is None or current[0] <= 0:
                continue
            found.extend(
                _tests(
                    segment,
                    days,
                    means_of[segment],
                    pasts[segment],
                    window,
                    topics_of.get(segment, []),
                    pooled,
                )
            )
    return found


def _topic_history(
    days: Mapping[int, np.ndarray], topic_rows: Mapping[int, np.ndarray], past: Sequence[int]
) -> list[WindowCount]:
    return [
        WindowCount(float(topic_rows[d][1]) if d in topic_rows else 0.0, float(days[d][0]))
        for d in past
    ]


def _pooled_dispersion(
    segment_days: Mapping[str, Mapping[int, np.ndarray]],
    topics_of: Mapping[str, Sequence[tuple[str, Mapping[int, np.ndarray]]]],
    pasts: Mapping[str, Sequence[int]],
) -> tuple[float, int] | None:
    """One over-dispersion for every segment x topic series (quasi-likelihood's common phi).

    A single series has only a handful of past windows, too few to tell real extra variation
    from chance; pooling them all gives the estimate many degrees of freedom.
    """
    chi2, df = 0.0, 0
    for segment, days in segment_days.items():
        for _, topic_rows in topics_of.get(segment, []):
            stat = pearson_dispersion(_topic_history(days, topic_rows, pasts[segment]))
            if stat is not None:
                chi2, df = chi2 + stat[0], df + stat[1]
    return (chi2, df) if df > 0 else None


def _tests(
    segment: str,
    days: Mapping[int, np.ndarray],
    means: Mapping[int, WindowMean],
    past: Sequence[int],
    window: int,
    topics: Sequence[tuple[str, Mapping[int, np.ndarray]]],
    dispersion: tuple[float, int] | None,
) -> list[Finding]:
    found: list[Finding] = []
    current = days[window]
    mean_test = drop_test([means[d] for d in past], means[window])
    if mean_test is not None:
        baseline, p = mean_test
        observed = means[window].mean
        found.append(
            Finding(
                DROP,
                segment,
                None,
                window,
                window + DAY,
                baseline,
                observed,
                p,
                baseline - observed,
            )
        )
    for topic, topic_rows in topics:
        row = topic_rows.get(window)
        count = float(row[1]) if row is not None else 0.0
        history = _topic_history(days, topic_rows, past)
        surge = surge_test(history, WindowCount(count, float(current[0])), dispersion)
        if surge is None:
            continue
        expected, p = surge
        ratio = count / expected if expected > 0 else math.inf
        found.append(
            Finding(SURGE, segment, topic, window, window + DAY, expected, count, p, ratio)
        )
    return found
