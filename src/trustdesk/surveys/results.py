"""Survey results read from the stored responses: the leaders' trust gap, results by segment
with intervals, NPS, drivers, and the trend over waves."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.crypto import Vault
from trustdesk.customers import public as customers
from trustdesk.feedback.public import read_texts
from trustdesk.surveys.models import Survey, SurveyResponse
from trustdesk.surveys.scoring import FACETS, welch_gap
from trustdesk.surveys.service import load_survey
from trustdesk.surveys.stats import Estimate, drivers, mean_interval, nps_interval

__all__ = ["open_answers", "survey_results", "trust_gap", "trust_trend"]


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


def _estimate(e: Estimate) -> dict[str, object]:
    return {"value": e.value, "ci_low": e.ci_low, "ci_high": e.ci_high, "n": e.n}


def survey_results(session: Session, survey_id: int) -> dict[str, object]:
    """Customers' scores 0..100 per dimension and overall, in all and per segment, each with a
    95% t interval; NPS with its interval (and what leaders predicted); drivers of likelihood
    to recommend among the items, with BH-adjusted significance."""
    survey = load_survey(session, survey_id)
    rows = session.execute(
        select(
            SurveyResponse.respondent, SurveyResponse.customer_id, SurveyResponse.answers,
            *[getattr(SurveyResponse, f) for f in FACETS],
        ).where(SurveyResponse.survey_id == survey_id)
    ).all()  # fmt: skip
    customers_rows = [r for r in rows if r[0] == "customer"]
    placed = customers.segments(session, [r[1] for r in customers_rows if r[1] is not None])
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(customers_rows):
        for segment in placed.get(r[1], ()) if r[1] is not None else ():
            groups.setdefault(segment, []).append(i)
    facets = np.array(
        [[np.nan if v is None else float(v) for v in r[3:]] for r in customers_rows]
    ).reshape(len(customers_rows), len(FACETS))
    answers = [json.loads(r[2]) for r in customers_rows]
    nps = np.array([a.get("nps", np.nan) for a in answers], dtype=np.float64)
    leaders_nps = np.array(
        [v for r in rows if r[0] == "leader" if (v := json.loads(r[2]).get("nps")) is not None],
        dtype=np.float64,
    )

    def scores(index: list[int] | None) -> dict[str, object]:
        part = facets if index is None else facets[index]
        found: dict[str, object] = {
            f: _estimate(mean_interval(_present(part[:, j]))) for j, f in enumerate(FACETS)
        }
        values = nps if index is None else nps[index]
        found["nps"] = _estimate(nps_interval(_present(values)))
        return found

    trust_items = [(i.id, i.dimension) for i in survey.items if i.dimension is not None]
    matrix = np.array(
        [[a.get(item, np.nan) for item, _ in trust_items] for a in answers], dtype=np.float64
    ).reshape(len(answers), len(trust_items))
    return {
        "survey": survey.id,
        "respondents": {
            "customers": len(customers_rows),
            "leaders": len(rows) - len(customers_rows),
        },
        "overall": scores(None),
        "segments": {name: scores(index) for name, index in sorted(groups.items())},
        "leaders_predicted_nps": _estimate(nps_interval(leaders_nps)),
        "drivers": [asdict(d) for d in drivers(trust_items, matrix, nps)],
    }


def _present(values: np.ndarray) -> np.ndarray:
    kept: np.ndarray = values[~np.isnan(values)]
    return kept


def trust_trend(session: Session, template: str = "trust-core") -> list[dict[str, object]]:
    """One row per wave (survey of the template, oldest first): customers' overall trust with
    its interval, NPS, and the leaders' gap on overall trust."""
    found: list[dict[str, object]] = []
    for survey in session.execute(
        select(Survey.id, Survey.title, Survey.created_at)
        .where(Survey.template == template)
        .order_by(Survey.created_at, Survey.id)
    ).all():
        rows = session.execute(
            select(SurveyResponse.respondent, SurveyResponse.overall, SurveyResponse.answers).where(
                SurveyResponse.survey_id == survey[0], SurveyResponse.overall.is_not(None)
            )
        ).all()
        mine = np.array([r[1] for r in rows if r[0] == "customer"], dtype=np.float64)
        theirs = np.array([r[1] for r in rows if r[0] == "leader"], dtype=np.float64)
        nps = np.array(
            [
                v
                for r in rows
                if r[0] == "customer"
                if (v := json.loads(r[2]).get("nps")) is not None
            ],
            dtype=np.float64,
        )
        gap = welch_gap(theirs, mine)
        found.append(
            {
                "survey": survey[0],
                "title": survey[1],
                "created_at": survey[2].isoformat(),
                "overall": _estimate(mean_interval(mine)),
                "nps": _estimate(nps_interval(nps)),
                "gap": gap.gap,
                "gap_ci_low": gap.ci_low,
                "gap_ci_high": gap.ci_high,
            }
        )
    return found


def open_answers(session: Session, vault: Vault, survey_id: int) -> dict[str, object]:
    """Customers' open answers read by the feedback models (sentiment and trust topics): how
    many, the share of each sentiment, and how often each topic comes up. No text leaves."""
    load_survey(session, survey_id)
    rows = session.execute(
        select(SurveyResponse.customer_id, SurveyResponse.open_enc).where(
            SurveyResponse.survey_id == survey_id,
            SurveyResponse.respondent == "customer",
            SurveyResponse.open_enc.is_not(None),
            SurveyResponse.customer_id.is_not(None),
        )
    ).all()
    subjects = customers.customer_subjects(session, [r[0] for r in rows if r[0] is not None])
    keys = vault.data_keys(subjects.values())
    texts: list[str] = []
    for customer_id, blob in rows:
        subject = subjects.get(customer_id) if customer_id is not None else None
        if subject is None or subject not in keys or blob is None:
            continue  # erased: the text is shredded
        answers = json.loads(vault.decrypt(keys[subject], subject, "survey_open", blob) or "{}")
        texts.extend(str(t) for t in answers.values() if str(t).strip())
    readings = read_texts(texts)
    n = len(readings)
    topics: dict[str, int] = {}
    for r in readings:
        for t in r.topics:
            topics[t] = topics.get(t, 0) + 1
    return {
        "n": n,
        "sentiment": {
            s: round(sum(r.sentiment == s for r in readings) / n, 4) if n else None
            for s in ("negative", "neutral", "positive")
        },
        "topics": dict(sorted(topics.items(), key=lambda kv: -kv[1])),
    }
