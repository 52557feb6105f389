"""The demo's survey wave: SIMULATED answers, stated as such in the survey's title. Up to 400
demo customers who have a trust index answer the trust-core items with answers drawn around
their own index (so the survey agrees with what they wrote), and eight leaders predict the
answers, optimistically (as leaders do: 79 % believe customers trust them highly, 52 % of
customers say so). Runs before the trust index's second recompute, which folds the answers in."""

from __future__ import annotations

import random
from datetime import timedelta

from trustdesk.capabilities import DemoEcho
from trustdesk.customers import public as customers
from trustdesk.platform import Platform
from trustdesk.surveys.answers import import_responses
from trustdesk.surveys.bank import DIMENSIONS
from trustdesk.surveys.service import create_survey, list_surveys
from trustdesk.trust.public import customer_trust, customer_trust_indices

__all__ = ["load_demo_survey"]

ACTOR = "system:demo"
TITLE = "Trust survey, wave 1 (SIMULATED answers)"
CUSTOMERS = 400
LEADERS = 8


def _scale(rng: random.Random, centre: float, low: int, high: int, spread: float) -> int:
    return int(min(max(round(rng.gauss(centre, spread)), low), high))


def load_demo_survey(platform: Platform, echo: DemoEcho) -> None:
    rng = random.Random(17)  # noqa: S311 (simulated answers, not secrets)
    with platform.db.transaction() as session:
        if any(s.title == TITLE for s in list_surveys(session)):
            echo("survey: the simulated wave is already there")
            return
        indices = customer_trust_indices(session, platform.settings)
        if not indices:
            echo("survey: no customer has a trust index yet; skipped")
            return
        picked = sorted(indices)[:CUSTOMERS]
        first = customers.customer_ids(session, picked[:1])
        known = customer_trust(session, platform.settings, next(iter(first.values())))
        survey = create_survey(
            session, platform.vault, template="trust-core",
            title=TITLE, actor=ACTOR,
            company="this airline",
        )  # fmt: skip
        at = (known.as_of if known and known.as_of else None) or survey.created_at
        answered = (at + timedelta(hours=12)).isoformat()
        rows: list[tuple[int, dict[str, object] | str]] = []
        for n, external_id in enumerate(picked, start=1):
            centre = 1 + 6 * indices[external_id] / 100  # the index on the 1..7 scale
            row: dict[str, object] = {"external_id": external_id, "submitted_at": answered}
            for d in DIMENSIONS:
                for i in (1, 2, 3):
                    row[f"{d}_{i}"] = _scale(rng, centre, 1, 7, 0.9)
            row["nps"] = _scale(rng, indices[external_id] / 10, 0, 10, 1.5)
            row["csat"] = _scale(rng, 1 + 4 * indices[external_id] / 100, 1, 5, 0.7)
            rows.append((n, row))
        for n in range(LEADERS):
            row = {
                "respondent": "leader",
                "external_id": f"leader-{n + 1}",
                "submitted_at": answered,
            }
            for d in DIMENSIONS:
                for i in (1, 2, 3):
                    row[f"{d}_{i}"] = _scale(rng, 5.8, 1, 7, 0.7)
            row["nps"] = _scale(rng, 8.8, 0, 10, 1.0)
            rows.append((len(picked) + n + 1, row))
        report = import_responses(session, platform.vault, survey.id, rows, actor=ACTOR)
    echo(
        f"survey {survey.id} (simulated): {report.created - LEADERS} customers answered "
        f"around their own trust index, {LEADERS} leaders predicted; "
        f"`trustdesk surveys gap {survey.id}` shows the gap"
    )
