"""Charts drawn on the server as inline SVG: no JavaScript, no external resources.

Pure functions from plain numbers to markup, so they are tested without a browser. Each chart is
an image with an accessible name (`role="img"`, `<title>` and `<desc>`); pages show the same
numbers in a table for anyone who cannot see the drawing. Colours come from classes styled in
`static/app.css` (the content security policy forbids inline styles).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

__all__ = ["Bar", "Point", "bar_chart", "date_labels", "line_chart"]

_TICKS = (0.0, 25.0, 50.0, 75.0, 100.0)


def date_labels(days: Sequence[date]) -> list[str]:
    """Axis labels for days: "Feb 24" within one year, "24 Feb 2015" when the range crosses one
    (so 24 Feb 2015 is never shown as if it came just before 1 Nov 2026)."""
    if len({d.year for d in days}) > 1:
        return [f"{d:%d %b %Y}" for d in days]
    return [f"{d:%b %d}" for d in days]


@dataclass(frozen=True)
class Point:
    """One x position of a line chart: its label, value and interval (all on the 0..100 scale)."""

    label: str
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Bar:
    """One bar: its label, value, interval, and where it links to (optional)."""

    label: str
    value: float
    low: float
    high: float
    href: str | None = None


def _f(x: float) -> str:
    return f"{x:.1f}"


def _clamp(v: float, low: float = 0.0, high: float = 100.0) -> float:
    return max(low, min(high, v))


def _frame(chart_id: str, title: str, description: str, width: int, height: int) -> list[str]:
    return [
        f'<svg class="chart" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]


def line_chart(
    points: Sequence[Point],
    *,
    chart_id: str,
    title: str,
    description: str,
    width: int = 900,
    height: int = 260,
    max_labels: int = 8,
) -> Markup:
    """A line over labelled x positions with its interval drawn as a shaded band (0..100 scale)."""
    left, right, top, bottom = 34, 12, 10, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = _frame(chart_id, title, description, width, height)

    def y(v: float) -> float:
        return top + plot_h * (1 - _clamp(v) / 100)

    for tick in _TICKS:
        parts.append(
            f'<line class="chart__grid" x1="{left}" x2="{width - right}" '
            f'y1="{_f(y(tick))}" y2="{_f(y(tick))}"/>'
            f'<text class="chart__tick" x="{left - 6}" y="{_f(y(tick) + 4)}" '
            f'text-anchor="end">{tick:.0f}</text>'
        )
    if not points:
        parts.append(
            f'<text class="chart__empty" x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" '
            'text-anchor="middle">no data yet</text></svg>'
        )
        return Markup("".join(parts))  # noqa: S704 - every value above is escaped or numeric
    step = plot_w / len(points)
    xs = [left + step * (i + 0.5) for i in range(len(points))]
    if len(points) > 1:
        upper = " ".join(f"{_f(x)},{_f(y(p.high))}" for x, p in zip(xs, points, strict=True))
        lower = " ".join(
            f"{_f(x)},{_f(y(p.low))}" for x, p in reversed(list(zip(xs, points, strict=True)))
        )
        parts.append(f'<polygon class="chart__band" points="{upper} {lower}"/>')
        line = " ".join(f"{_f(x)},{_f(y(p.value))}" for x, p in zip(xs, points, strict=True))
        parts.append(f'<polyline class="chart__line" points="{line}"/>')
    every = max(1, math.ceil(len(points) / max_labels))  # x labels that never overlap
    for i, (x, p) in enumerate(zip(xs, points, strict=True)):
        parts.append(
            f'<line class="chart__whisker" x1="{_f(x)}" x2="{_f(x)}" '
            f'y1="{_f(y(p.low))}" y2="{_f(y(p.high))}"/>'
            f'<circle class="chart__dot" cx="{_f(x)}" cy="{_f(y(p.value))}" r="3.5">'
            f"<title>{escape(p.label)}: {p.value:.1f} ({p.low:.1f} to {p.high:.1f})</title>"
            "</circle>"
        )
        if i % every == 0:
            parts.append(
                f'<text class="chart__tick" x="{_f(x)}" y="{height - 8}" '
                f'text-anchor="middle">{escape(p.label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is escaped or numeric


def bar_chart(
    bars: Sequence[Bar],
    *,
    chart_id: str,
    title: str,
    description: str,
    width: int = 900,
    row_height: int = 34,
) -> Markup:
    """Horizontal bars on the 0..100 scale with interval whiskers, one row per label."""
    left, right, top, bottom = 130, 48, 6, 24
    height = top + bottom + row_height * max(1, len(bars))
    plot_w = width - left - right
    parts = _frame(chart_id, title, description, width, height)

    def x(v: float) -> float:
        return left + plot_w * _clamp(v) / 100

    for tick in _TICKS:
        parts.append(
            f'<line class="chart__grid" x1="{_f(x(tick))}" x2="{_f(x(tick))}" '
            f'y1="{top}" y2="{height - bottom}"/>'
            f'<text class="chart__tick" x="{_f(x(tick))}" y="{height - 8}" '
            f'text-anchor="middle">{tick:.0f}</text>'
        )
    for i, bar in enumerate(bars):
        y0 = top + row_height * i
        mid = y0 + row_height / 2
        label = escape(bar.label)
        name = f'<text class="chart__label" x="{left - 8}" y="{_f(mid + 4)}" text-anchor="end">'
        name += f"{label}</text>"
        if bar.href:
            name = f'<a href="{escape(bar.href)}">{name}</a>'
        parts.append(
            name + f'<rect class="chart__bar" x="{left}" y="{_f(y0 + 6)}" '
            f'width="{_f(x(bar.value) - left)}" height="{row_height - 12}">'
            f"<title>{label}: {bar.value:.1f} ({bar.low:.1f} to {bar.high:.1f})</title></rect>"
            f'<line class="chart__whisker chart__whisker--bar" x1="{_f(x(bar.low))}" '
            f'x2="{_f(x(bar.high))}" y1="{_f(mid)}" y2="{_f(mid)}"/>'
            f'<text class="chart__value" x="{_f(x(bar.high) + 6)}" y="{_f(mid + 4)}">'
            f"{bar.value:.1f}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is escaped or numeric
