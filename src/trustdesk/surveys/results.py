"""Survey results read from the stored dimension scores: the leaders' trust gap."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.surveys.models import SurveyResponse
from trustdesk.surveys.scoring import FACETS, welch_gap
from trustdesk.surveys.service import load_survey

__all__ = ["trust_gap"]


def trust_gap(session: Session, survey_id: int) -> list[dict[str, object]]:
    """Per dimension (and overall): customers' mean score 0..100, leaders' predicted mean, the
    gap leaders - customers with its Welch 95% interval, and how many answered on each side."""
    load_survey(session, survey_id)  # NotFound for an unknown survey
    columns = [getattr(SurveyResponse, f) for f in FACETS]
    rows = session.execute(
        select(SurveyResponse.respondent, *columns).where(SurveyResponse.survey_id == survey_id)
    ).all()
    found: list[dict[str, object]] = []
    for i, facet in enumerate(FACETS, start=1):
        side: dict[str, list[float]] = {"customer": [], "leader": []}
        for row in rows:
            if row[i] is not None:
                side[row[0]].append(float(row[i]))
        gap = welch_gap(np.array(side["leader"]), np.array(side["customer"]))
        found.append({"dimension": facet, **asdict(gap)})
    return found
