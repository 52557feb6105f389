"""The trust index, drivers and alerts through the real CLI and API, on real imported tweets."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator, Sequence
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, func, insert, select
from tests.tweets import TWEET_IMPORT

from trustdesk.access.roles import Role
from trustdesk.feedback.models import Feedback, FeedbackTerm
from trustdesk.trust import alert_reads, service
from trustdesk.trust.models import TrustEvidence, TrustStat, TrustWatermark
from trustdesk.trust.signals import Observations

SEGMENT_KEYS = {
    "segment",
    "trust_index",
    "ci_low",
    "ci_high",
    "n",
    "dimensions",
    "as_of",
    "evidence_up_to",
}
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
        "--no-recompute",  # these tests run the recompute themselves and count what it folds
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
        (stored,) = alert_reads.list_alerts(session)
    assert cli("alerts", "ack", str(stored.id)).exit_code == 0
    again = cli("alerts", "ack", str(stored.id))
    assert again.exit_code == 4 and "already acknowledged" in again.stderr
    assert cli("alerts", "ack", "999").exit_code == 3
    with platform.db.reading() as session:
        assert alert_reads.list_alerts(session, unacknowledged=True) == []
        assert alert_reads.list_alerts(session)[0].acknowledged_by.startswith("cli:")


def test_quiet_history_raises_no_alert(platform):
    with platform.db.transaction() as session:
        report = service.recompute(
            session, service.TrustParams(), signals=[_DaySignal(drop_day=None)]
        )
    assert report.alerts_raised == 0


def _hold_back(platform, ids: Sequence[int]) -> list[tuple[str, list[dict]]]:
    """Take stored feedback rows (and their search postings) out, to put back later under the
    same ids: what a transaction that got its ids early and commits late looks like."""
    tables = (Feedback.__table__, FeedbackTerm.__table__)
    with platform.db.transaction() as session:
        rows = session.execute(select(Feedback.__table__).where(Feedback.id.in_(ids)))
        feedback = [dict(r._mapping) for r in rows]
        rows = session.execute(
            select(FeedbackTerm.__table__).where(FeedbackTerm.feedback_id.in_(ids))
        )
        terms = [dict(r._mapping) for r in rows]
        session.execute(delete(FeedbackTerm).where(FeedbackTerm.feedback_id.in_(ids)))
        session.execute(delete(Feedback).where(Feedback.id.in_(ids)))
    assert len(feedback) == len(ids)
    return [(tables[0].name, feedback), (tables[1].name, terms)]


def _commit_late(platform, held: list[tuple[str, list[dict]]], ids: Sequence[int]) -> None:
    tables = {Feedback.__tablename__: Feedback, FeedbackTerm.__tablename__: FeedbackTerm}
    with platform.db.transaction() as session:
        for name, rows in held:
            key = "id" if name == Feedback.__tablename__ else "feedback_id"
            picked = [r for r in rows if r[key] in ids]
            if picked:
                session.execute(insert(tables[name]), picked)


def _recompute(platform) -> int:
    with platform.db.transaction() as session:
        return service.recompute(session, service.TrustParams()).observations


def _stored(platform) -> tuple[dict[tuple, np.ndarray], list[tuple], list[tuple]]:
    """Statistics per key (counts, and weighted moments divided by the weight sum: free of the
    recency epoch, which depends on what the first run saw), evidence, watermarks."""
    with platform.db.reading() as session:
        stats = {}
        for row in session.execute(select(TrustStat)).scalars():
            key = (row.scope, row.segment, row.customer_id, row.signal, row.facet, row.bucket)
            sw = row.sw or 1.0
            stats[key] = np.array([row.n, row.n_neg, row.swx / sw, row.swx2 / sw, row.sw2 / sw**2])
        evidence = sorted(
            tuple(r)
            for r in session.execute(
                select(TrustEvidence.signal, TrustEvidence.ref, TrustEvidence.value)
            )
        )
        marks = sorted(
            tuple(r)
            for r in session.execute(
                select(TrustWatermark.signal, TrustWatermark.reread_ref, TrustWatermark.last_ref)
            )
        )
    return stats, evidence, marks


def _assert_same_statistics(a: dict[tuple, np.ndarray], b: dict[tuple, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key][:2], b[key][:2], err_msg=str(key))  # counts
        np.testing.assert_allclose(a[key][2:], b[key][2:], rtol=1e-9, err_msg=str(key))


def test_a_row_that_commits_after_a_higher_id_was_read_is_counted_once(cli, platform, tmp_path):
    if platform.db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite hands out ids in commit order (one writer at a time)")
    _import(cli, _tweets(tmp_path, "tweets.csv", slice(0, 60)))
    with platform.db.reading() as session:
        ids = list(session.scalars(select(Feedback.id).order_by(Feedback.id)))
    early, later, late = ids[:40], ids[40:], ids[44]
    held = _hold_back(platform, later)
    assert _recompute(platform) == len(early)  # the first run (full)
    # Every later row commits but one, whose id was handed out before the others'.
    _commit_late(platform, held, [i for i in later if i != late])
    assert _recompute(platform) == len(later) - 1
    _commit_late(platform, held, [late])
    assert _recompute(platform) == 1  # read again, the late row only

    stats, evidence, _ = _stored(platform)
    refs = [ref for signal, ref, _ in evidence if signal == "feedback"]
    assert refs.count(late) == 1 and sorted(refs) == ids  # every row once, none twice
    assert json.loads(cli("trust", "recompute", "--full", "--json").stdout)["observations"] == 60
    full_stats, full_evidence, _ = _stored(platform)
    assert full_evidence == evidence
    _assert_same_statistics(stats, full_stats)


def test_an_incremental_recompute_with_nothing_new_changes_nothing(cli, platform, tmp_path):
    _import(cli, _tweets(tmp_path, "a.csv", slice(0, 40)))
    assert _recompute(platform) == 40
    _import(cli, _tweets(tmp_path, "b.csv", slice(40, 60)))
    assert _recompute(platform) == 20
    before = _stored(platform)
    assert [m for m in before[2] if m[0] == "feedback"] == [("feedback", 40, 60)]
    assert _recompute(platform) == 0  # the overlap is read again, and all of it is known
    assert _recompute(platform) == 0
    after = _stored(platform)
    assert after[1:] == before[1:]  # same evidence, same marks
    assert after[0].keys() == before[0].keys()
    assert all(np.array_equal(after[0][k], before[0][k]) for k in before[0])
    with platform.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(TrustEvidence)) == 60


def test_new_rows_for_one_segment_dated_later_move_no_other_segment(cli, tmp_path):
    """Three 2026 rows for a new segment: every other segment's index, interval, dimensions,
    as-of and explanation stay exactly as they were (issue 13)."""
    _import(cli, _tweets(tmp_path, "tweets.csv", slice(0, 300)))
    assert cli("trust", "recompute").exit_code == 0
    before = {r["segment"]: r for r in _segments(cli)}
    explained = cli("trust", "explain", "--segment", "Delta", "--json")
    assert explained.exit_code == 0, explained.output
    overall_before = json.loads(cli("trust", "show", "--by", "overall", "--json").stdout)[0]
    later = tmp_path / "later.csv"
    later.write_text(
        "tweet_id,text,tweet_created,airline,customer\n"
        "n1,Great crew and on time,2026-11-01 10:00:00 -0800,Newcomer Air,\n"
        "n2,Lost my bag and nobody answered,2026-11-02 10:00:00 -0800,Newcomer Air,\n"
        "n3,Refund came back quickly thank you,2026-11-03 10:00:00 -0800,Newcomer Air,\n"
    )
    _import(cli, later)
    assert cli("trust", "recompute").exit_code == 0
    after = {r["segment"]: r for r in _segments(cli)}
    assert set(after) == set(before) | {"Newcomer Air"}
    for segment, row in before.items():
        assert after[segment] == row, segment
    assert after["Newcomer Air"]["as_of"].startswith("2026-11-0")
    assert all(not r["as_of"].startswith("2026") for s, r in after.items() if s != "Newcomer Air")
    again = cli("trust", "explain", "--segment", "Delta", "--json")
    old, new = json.loads(explained.stdout), json.loads(again.stdout)
    assert new["score"].pop("computed_at") >= old["score"].pop("computed_at")  # recomputed
    assert new == old
    # The overall figure combines segments at their own as-of and shows the spread of dates.
    overall = json.loads(cli("trust", "show", "--by", "overall", "--json").stdout)[0]
    assert overall["as_of"].startswith("2026-11-0")
    assert overall["as_of_earliest"] == min(r["as_of"] for r in after.values())
    assert abs(overall["trust_index"] - overall_before["trust_index"]) < 2.0
