"""Rating scales: what a raw rating may be, and how it maps onto 0..1 (worst..best)."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["DEFAULT_SCALE", "SCALES", "RatingScale", "normalise_rating"]


@dataclass(frozen=True)
class RatingScale:
    name: str
    low: float
    high: float
    step: float  # allowed granularity: 1 for whole points, 0.5 for half stars
    description: str

    def normalise(self, raw: float) -> float:
        return (raw - self.low) / (self.high - self.low)


SCALES: dict[str, RatingScale] = {
    s.name: s
    for s in (
        RatingScale("stars5", 1, 5, 0.5, "1-5 stars, half stars allowed (reviews)"),
        RatingScale("nps", 0, 10, 1, "0-10 likelihood to recommend (Net Promoter)"),
        RatingScale("csat5", 1, 5, 1, "1-5 customer satisfaction"),
        RatingScale("likert5", 1, 5, 1, "1-5 agreement (survey item)"),
        RatingScale("likert7", 1, 7, 1, "1-7 agreement (survey item)"),
    )
}
DEFAULT_SCALE = "stars5"


def normalise_rating(value: object, scale_name: str) -> tuple[float, float] | None:
    """(normalised 0..1, raw) of a rating cell; None when blank. Raises ValueError with a reason."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    scale = SCALES.get(scale_name)
    if scale is None:
        raise ValueError(f"unknown rating scale {scale_name!r} (use {', '.join(SCALES)})")
    if isinstance(value, bool):
        raise ValueError("rating must be a number")
    try:
        raw = float(value) if isinstance(value, int | float) else float(str(value).strip())
    except ValueError:
        raise ValueError(f"rating {str(value)[:20]!r} is not a number") from None
    if not math.isfinite(raw) or not scale.low <= raw <= scale.high:
        raise ValueError(
            f"rating {raw:g} is out of range for {scale.name} ({scale.low:g}-{scale.high:g})"
        )
    if abs(raw / scale.step - round(raw / scale.step)) > 1e-9:
        raise ValueError(f"rating {raw:g} is not a step of {scale.step:g} on {scale.name}")
    return scale.normalise(raw), raw
