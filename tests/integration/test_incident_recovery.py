"""Trust recovery on an incident, through the CLI, the API and the incident page: the evidence
comes from the trust signal registry (here a signal whose observations we constructed)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest

from trustdesk.access.roles import Role
from trustdesk.incidents import recovery
from trustdesk.trust.public import Observations

AWARE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = 86400


class ConstructedSignal:
    """Affected customers (c1..c6) write 70 before and 50 for three weeks after, then 70 again;
    the others (c7..c12) 60 throughout."""

    name = "constructed"
    label = "constructed"
    topics: tuple[str, ...] = ()

    def __init__(self, ids: dict[str, int]) -> None:
        self.ids = ids

    def read(self, session, *, after_ref: int, batch_size: int) -> Iterator[Observations]:
        if after_ref:
            return
        rows = []
        t0 = int(AWARE.timestamp())
        for ext, cid in self.ids.items():
            hit = int(ext[1:]) <= 6
            for d in range(-28, 56):
                value = (70.0 if hit else 60.0) - (20.0 if hit and 0 <= d < 21 else 0.0)
                value += (int(ext[1:]) % 3 - 1) * (2.0 if d < 0 else 3.0)  # spread, no trend
                rows.append((cid, t0 + d * DAY + 600, value))
        n = len(rows)
        yield Observations(
            signal=self.name,
            ref=np.arange(1, n + 1, dtype=np.int64),
            at=np.array([r[1] for r in rows], dtype=np.int64),
            customer_id=np.array([r[0] for r in rows], dtype=np.int64),
            segment=np.full(n, "", dtype=object),
            value=np.array([r[2] for r in rows], dtype=np.float64),
            weight=np.ones(n),
            dims=np.zeros(n, dtype=np.int32),
            topics=np.zeros(n, dtype=np.int32),
            negative=np.zeros(n, dtype=bool),
            last_ref=n,
        )

    def describe(self, session, vault, refs):
        return {}


@pytest.fixture
def incident(cli, platform, tmp_path, monkeypatch) -> int:
    people = tmp_path / "customers.csv"
    people.write_text(
        "external_id,name,email,jurisdiction\n"
        + "".join(
            f"c{i},Person {i},p{i}@example.com,{'DE' if i % 2 else 'FR'}\n" for i in range(1, 13)
        )
    )
    assert cli("customers", "import", str(people)).exit_code == 0
    opened = cli(
        "incidents", "open", "--title", "Payments breach", "--aware-at", AWARE.isoformat(),
        "--json",
    )  # fmt: skip
    incident_id = int(json.loads(opened.stdout)["id"])
    forensic = tmp_path / "affected.csv"
    forensic.write_text(
        "external_id,data_categories\n" + "".join(f"c{i},name;email\n" for i in range(1, 7))
    )
    assert cli("incidents", "affected", "import", str(incident_id), str(forensic)).exit_code == 0
    from trustdesk.customers.public import customer_ids

    with platform.db.reading() as session:
        ids = customer_ids(session, [f"c{i}" for i in range(1, 13)])
    signal = ConstructedSignal(ids)
    monkeypatch.setattr(recovery, "registered_signals", lambda: [signal])
    return incident_id


def test_the_cli_gives_the_difference_in_differences_and_the_recovery_time(cli, incident):
    result = cli("incidents", "recovery", str(incident), "--window-days", "56", "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    # 3 of 8 weeks 20 points down: -7.5 points against customers in the same jurisdictions
    assert found["affected"]["customers"] == 6 and found["unaffected"]["customers"] == 6
    assert found["comparison"] == "same jurisdictions"
    assert found["effect"] == pytest.approx(-7.5, abs=0.01)
    assert found["ci_low"] < -7.5 < found["ci_high"] < 0
    assert found["recovered"] and found["days_to_recover"] == 28
    assert found["aware_at"] == "2026-03-02T09:00:00Z"
    assert found["feedback"]["affected_after"] == 0
    text = cli("incidents", "recovery", str(incident), "--window-days", "56")
    assert "effect -7.5 points" in text.stdout and "recovered after 28 days" in text.stdout


def test_the_api_and_the_incident_page_show_it_and_unknown_incidents_are_404(
    client, token_for, incident, cli
):
    headers = {"Authorization": f"Bearer {token_for(Role.PRIVACY_OFFICER)}"}
    found = client.get(f"/api/v1/incidents/{incident}/recovery?window_days=56", headers=headers)
    assert found.status_code == 200, found.text
    assert found.json()["effect"] == pytest.approx(-7.5, abs=0.01)
    assert client.get("/api/v1/incidents/999/recovery", headers=headers).status_code == 404
    bad = client.get(f"/api/v1/incidents/{incident}/recovery?window_days=1", headers=headers)
    assert bad.status_code == 422
    assert cli("incidents", "recovery", "999").exit_code == 3


def test_the_incident_page_has_a_trust_recovery_section(client, platform, incident):
    import re

    from trustdesk.auth import service as auth_service

    with platform.db.transaction() as session:
        auth_service.create_user(
            session, platform.vault, username="ines", password="correct-horse-battery",
            role=Role.INCIDENT_MANAGER, actor="test",
        )  # fmt: skip
    login = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    client.post(
        "/login",
        data={"username": "ines", "password": "correct-horse-battery", "csrf_token": token},
    )
    page = client.get(f"/incidents/{incident}")
    assert page.status_code == 200
    assert "Trust recovery" in page.text and "Effect of the incident" in page.text
    assert "Recovered to the pre-incident level after" in page.text  # 90-day default window
