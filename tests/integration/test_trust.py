"""The trust index, drivers and alerts through the real CLI and API, on real imported tweets."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator, Sequence
from importlib.resources import files
from pathlib import Path

import numpy as np
from tests.tweets import TWEET_IMPORT

from trustdesk.auth.roles import Role
from trustdesk.trust import reports, service
from trustdesk.trust.signals import Observations

SEGMENT_KEYS = {"segment", "trust_index", "ci_low", "ci_high", "n", "dimensions"}
ALERT_KEYS = {
    "kind",
    "segment",
    "topic",
    "window_start",
    "window_end",
    "severity",
    "baseline",
    "observed",
}
AIRLINES = {"United", "US Airways", "American", "Southwest", "Delta", "Virgin America"}


def _tweets(
    tmp_path: Path, name: str, rows: slice, customers: dict[int, str] | None = None
) -> Path:
    """Every 40th shipped tweet in `rows`, optionally with customer ids on some of them."""
    with gzip.open(
        str(files("trustdesk.data") / "airline_tweets.csv.gz"), "rt", encoding="utf-8"
    ) as f:
        reader = csv.DictReader(f)
        picked = list(reader)[::40][rows]
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as f:
        fields = ["tweet_id", "text", "tweet_created", "airline", "customer"]
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        for i, row in enumerate(picked):
            writer.writerow(
                {k: row.get(k, "") for k in fields[:-1]}
                | {"customer": (customers or {}).get(i, "")}
            )
    return path


def _import(cli, path: Path) -> None:
    result = cli(
        *TWEET_IMPORT,
        str(path),
        "--customer-column",
        "customer",
    )
    assert result.exit_code == 0, result.output


def _segments(cli) -> list[dict]:
    result = cli("trust", "show", "--by", "segment", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_trust_show_by_segment_keeps_its_json_contract(cli, tmp_path):
    assert _segments(cli) == []  # nothing computed yet: an empty list, not an error
    _import(cli, _tweets(tmp_path, "tweets.csv", slice(0, 200)))
    result = cli("trust", "recompute", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["observations"] == 200
    rows = _segments(cli)
    assert {r["segment"] for r in rows} <= AIRLINES and len(rows) >= 4
    for r in rows:
        assert set(r) == SEGMENT_KEYS
        assert 0 <= r["ci_low"] <= r["trust_index"] <= r["ci_high"] <= 100
        assert r["n"] > 0 and r["dimensions"]
        assert all(0 <= v <= 100 for v in r["dimensions"].values())
    assert sum(r["n"] for r in rows) == 200
    alerts = cli("alerts", "list", "--json")
    assert alerts.exit_code == 0 and all(set(a) == ALERT_KEYS for a in json.loads(alerts.stdout))


def test_incremental_update_gives_the_same_index_as_a_full_recompute(cli, tmp_path):
    _import(cli, _tweets(tmp_path, "a.csv", slice(0, 150)))
    assert cli("trust", "recompute").exit_code == 0
    _import(cli, _tweets(tmp_path, "b.csv", slice(150, 295)))
    step = json.loads(cli("trust", "recompute", "--json").stdout)
    assert (step["mode"], step["observations"]) == ("incremental", 145)
    incremental = _segments(cli)
    assert json.loads(cli("trust", "recompute", "--full", "--json").stdout)["observations"] == 295
    full = _segments(cli)
    assert [r["segment"] for r in incremental] == [r["segment"] for r in full]
    for a, b in zip(incremental, full, strict=True):
        assert a["n"] == b["n"]
        assert abs(a["trust_index"] - b["trust_index"]) <= 0.011
        assert abs(a["ci_high"] - b["ci_high"]) <= 0.011


def test_segment_detail_drivers_trend_and_explanations_over_the_api(
    api, cli, client, token_for, tmp_path
):
    customers = tmp_path / "customers.csv"
    customers.write_text("external_id,segment\nc1,retail\nc2,retail\n")
    assert cli("customers", "import", str(customers)).exit_code == 0
    _import(
        cli,
        _tweets(
            tmp_path, "tweets.csv", slice(0, 295), dict.fromkeys(range(0, 40, 8), "c1") | {3: "c2"}
        ),
    )
    assert api.post("/api/v1/trust/recompute").status_code == 200

    detail = api.get("/api/v1/trust/segments/United").json()
    assert detail["score"]["key"] == "United" and detail["score"]["n"] > 20
    assert detail["trend"] and all(p["n"] > 0 for p in detail["trend"])
    assert detail["drivers"], "United's complaints are about topics"
    impacts = [d["impact"] for d in detail["drivers"] if d["impact"] < 0]
    assert impacts == sorted(impacts)  # strongest downward pull first

    by_week = api.get("/api/v1/trust", params={"by": "segment", "bucket": "week"}).json()
    assert by_week and all(s["bucket_start"] for s in by_week)
    ability = api.get("/api/v1/trust", params={"by": "overall", "dimension": "ability"}).json()
    assert len(ability) == 1 and ability[0]["dimensions"] == {}

    explained = api.get("/api/v1/trust/customers/c1").json()
    assert explained["score"]["key"] == "c1" and explained["score"]["n"] == 5
    assert explained["parent_level"] == "segment"
    moved = explained["pulled_down"] + explained["pulled_up"]
    assert moved and all(e["text"] for e in moved)  # admins may read feedback text
    parts = sum(s["points"] for s in explained["signals"])
    assert abs(parts - (explained["score"]["trust_index"] - explained["score"]["parent"])) < 0.05
    # a single item barely moves a customer: shrunk towards their segment
    c2 = api.get("/api/v1/trust/customers/c2").json()["score"]
    assert c2["credibility"] < 0.1 and abs(c2["trust_index"] - c2["parent"]) < 10
    assert api.get("/api/v1/trust/customers/nobody").status_code == 404

    cli_explain = cli("trust", "explain", "--segment", "United", "--json")
    assert (
        cli_explain.exit_code == 0
        and json.loads(cli_explain.stdout)["signals"][0]["signal"] == "feedback"
    )

    client.headers["Authorization"] = f"Bearer {token_for(Role.VIEWER)}"
    assert client.get("/api/v1/trust?by=segment").status_code == 200
    assert client.post("/api/v1/trust/recompute").status_code == 403
    del client.headers["Authorization"]
    assert client.get("/api/v1/alerts").status_code == 401


class _DaySignal:
    """A pluggable signal: stationary daily observations for two segments, then a bad day."""

    name = "test_signal"
    label = "synthetic"
    topics: tuple[str, ...] = ()

    def __init__(self, drop_day: int | None) -> None:
        self.drop_day = drop_day

    def read(self, session, *, after_ref: int, batch_size: int) -> Iterator[Observations]:
        rng = np.random.default_rng(1)
        day, per_day, days = 86_400, 60, 10
        n = per_day * days * 2
        at = 1_424_044_800 + np.repeat(np.arange(days * 2) % days, per_day) * day + 3600
        segment = np.array(["alpha"] * (n // 2) + ["beta"] * (n // 2), dtype=object)
        value = np.clip(rng.normal(70, 10, n), 0, 100)
        if self.drop_day is not None:
            value[(segment == "alpha") & (at // day == at.min() // day + self.drop_day)] -= 40
        ref = np.arange(1, n + 1)
        if after_ref >= n:
            return
        yield Observations(
            signal=self.name,
            ref=ref,
            at=at.astype(np.int64),
            customer_id=np.full(n, -1),
            segment=segment,
            value=value,
            weight=np.ones(n),
            dims=np.zeros(n, np.int32),
            topics=np.zeros(n, np.int32),
            negative=value < 40,
            last_ref=n,
        )

    def describe(self, session, vault, refs: Sequence[int]) -> dict[int, str]:
        return {}


def test_an_injected_drop_raises_one_alert_that_is_acknowledged_once(cli, platform):
    params = service.TrustParams()
    with platform.db.transaction() as session:
        report = service.recompute(session, params, signals=[_DaySignal(drop_day=8)])
    assert report.alerts_raised == 1
    with platform.db.transaction() as session:  # recomputing de-duplicates
        service.recompute(session, params, full=True, signals=[_DaySignal(drop_day=8)])
    listed = json.loads(cli("alerts", "list", "--json").stdout)
    assert len(listed) == 1
    alert = listed[0]
    assert (alert["kind"], alert["segment"], alert["topic"]) == ("trust_drop", "alpha", None)
    assert alert["window_start"].startswith("2015-02-24") and alert["severity"] == "high"
    assert alert["observed"] < alert["baseline"] - 30
    with platform.db.reading() as session:
        (stored,) = reports.list_alerts(session)
    assert cli("alerts", "ack", str(stored.id)).exit_code == 0
    again = cli("alerts", "ack", str(stored.id))
    assert again.exit_code == 4 and "already acknowledged" in again.stderr
    assert cli("alerts", "ack", "999").exit_code == 3
    with platform.db.reading() as session:
        assert reports.list_alerts(session, unacknowledged=True) == []
        assert reports.list_alerts(session)[0].acknowledged_by.startswith("cli:")


def test_quiet_history_raises_no_alert(platform):
    with platform.db.transaction() as session:
        report = service.recompute(
            session, service.TrustParams(), signals=[_DaySignal(drop_day=None)]
        )
    assert report.alerts_raised == 0
