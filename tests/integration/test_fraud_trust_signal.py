"""A payment declined and later found genuine lowers that customer's trust index at the next
`trust recompute`, and the explanation names it."""

from __future__ import annotations

import csv
import gzip
from importlib.resources import files

import pytest
from sqlalchemy import select
from tests.tweets import TWEET_IMPORT

from trustdesk.trust.models import TrustEvidence
from trustdesk.trust.signals import registered_signals


def _feedback_for(tmp_path, customer: str) -> str:
    """60 real tweets (every 40th), five of them from `customer`."""
    with gzip.open(
        str(files("trustdesk.data") / "airline_tweets.csv.gz"), "rt", encoding="utf-8"
    ) as f:
        picked = list(csv.DictReader(f))[::40][:60]
    path = tmp_path / "tweets.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        fields = ["tweet_id", "text", "tweet_created", "airline", "customer"]
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        for i, row in enumerate(picked):
            writer.writerow(
                {k: row[k] for k in fields[:-1]} | {"customer": customer if i % 12 == 0 else ""}
            )
    return str(path)


def _index(api, customer: str) -> float:
    response = api.get(f"/api/v1/trust/customers/{customer}")
    assert response.status_code == 200, response.text
    return response.json()["score"]["trust_index"]


def test_a_false_decline_lowers_the_customers_trust_index(api, cli, tmp_path):
    assert "fraud" in [s.name for s in registered_signals()]
    (tmp_path / "customers.csv").write_text("external_id,segment\nc1,retail\n")
    assert cli("customers", "import", str(tmp_path / "customers.csv")).exit_code == 0
    imported = cli(*TWEET_IMPORT, _feedback_for(tmp_path, "c1"), "--customer-column", "customer")
    assert imported.exit_code == 0, imported.output
    assert cli("trust", "recompute").exit_code == 0
    before = _index(api, "c1")

    payment = {
        "transaction_id": "fd-1",
        "at": "2015-02-24T12:00:00Z",  # in the same days as the feedback
        "customer_id": "c1",
        "terminal_id": "t1",
        "amount": "80.00",
        "country": "KP",  # the shipped rules decline it
    }
    assert api.post("/api/v1/transactions/score", json=payment).json()["decision"] == "decline"
    assert cli("trust", "recompute").exit_code == 0
    assert _index(api, "c1") == before  # a decline alone says nothing yet

    label = api.post(
        "/api/v1/transactions/fd-1/labels",
        json={"label": "genuine", "known_at": "2015-02-25T09:00:00Z"},
    )
    assert label.status_code == 201
    assert cli("trust", "recompute").exit_code == 0
    after = _index(api, "c1")
    assert after < before

    explained = api.get("/api/v1/trust/customers/c1").json()
    fraud_part = next(s for s in explained["signals"] if s["signal"] == "fraud")
    assert fraud_part["n"] == 1 and fraud_part["points"] < 0
    assert any(
        e["signal"] == "fraud" and "fd-1" in (e["text"] or "") for e in explained["pulled_down"]
    )


def test_a_false_decline_on_a_card_of_no_known_customer_leaves_the_index_alone(api, cli, tmp_path):
    (tmp_path / "customers.csv").write_text("external_id,segment\nc1,retail\n")
    assert cli("customers", "import", str(tmp_path / "customers.csv")).exit_code == 0
    imported = cli(*TWEET_IMPORT, _feedback_for(tmp_path, "c1"), "--customer-column", "customer")
    assert imported.exit_code == 0, imported.output
    assert cli("trust", "recompute").exit_code == 0
    overall = api.get("/api/v1/trust").json()

    payment = {
        "transaction_id": "walk-in-1",
        "at": "2015-02-24T12:00:00Z",
        "customer_id": "card-of-nobody",
        "terminal_id": "t1",
        "amount": "80.00",
        "country": "KP",
    }
    assert api.post("/api/v1/transactions/score", json=payment).json()["decision"] == "decline"
    labelled = api.post(
        "/api/v1/transactions/walk-in-1/labels",
        json={"label": "genuine", "known_at": "2015-02-25T09:00:00Z"},
    )
    assert labelled.status_code == 201
    assert cli("trust", "recompute").exit_code == 0
    assert _scores(api) == _scores(api, overall)


def _scores(api, found: list[dict] | None = None) -> list[dict]:
    """The trust scores without when they were computed (a recompute changes only that)."""
    rows = found if found is not None else api.get("/api/v1/trust").json()
    return [{k: v for k, v in r.items() if k != "computed_at"} for r in rows]


def _declined_for(api, cli, tmp_path, *tx_ids: str) -> float:
    """c1 with feedback and declined payments; returns c1's index before any label."""
    (tmp_path / "customers.csv").write_text("external_id,segment\nc1,retail\n")
    assert cli("customers", "import", str(tmp_path / "customers.csv")).exit_code == 0
    imported = cli(*TWEET_IMPORT, _feedback_for(tmp_path, "c1"), "--customer-column", "customer")
    assert imported.exit_code == 0, imported.output
    for tx_id in tx_ids:
        payment = {
            "transaction_id": tx_id,
            "at": "2015-02-24T12:00:00Z",
            "customer_id": "c1",
            "terminal_id": "t1",
            "amount": "80.00",
            "country": "KP",
        }
        decided = api.post("/api/v1/transactions/score", json=payment).json()
        assert decided["decision"] == "decline"
    assert cli("trust", "recompute").exit_code == 0
    return _index(api, "c1")


def _label(api, tx_id: str, label: str, known_at: str) -> None:
    url = f"/api/v1/transactions/{tx_id}/labels"
    assert api.post(url, json={"label": label, "known_at": known_at}).status_code == 201


def test_a_decline_corrected_from_fraud_to_genuine_lowers_trust_at_the_next_recompute(
    api, cli, tmp_path
):
    before = _declined_for(api, cli, tmp_path, "fc-1", "fc-2")
    _label(api, "fc-1", "fraud", "2015-02-25T09:00:00Z")
    _label(api, "fc-2", "genuine", "2015-02-25T10:00:00Z")  # a later label, already counted
    assert cli("trust", "recompute").exit_code == 0
    one_false_decline = _index(api, "c1")
    assert one_false_decline < before

    _label(api, "fc-1", "genuine", "2015-02-26T09:00:00Z")  # the customer disputed: genuine
    assert cli("trust", "recompute").exit_code == 0  # incremental
    assert _index(api, "c1") < one_false_decline
    explained = api.get("/api/v1/trust/customers/c1").json()
    fraud_part = next(s for s in explained["signals"] if s["signal"] == "fraud")
    assert fraud_part["n"] == 2


def test_a_false_decline_corrected_to_fraud_stops_counting_at_the_next_full_recompute(
    api, cli, tmp_path
):
    before = _declined_for(api, cli, tmp_path, "fc-2")
    _label(api, "fc-2", "genuine", "2015-02-25T09:00:00Z")
    assert cli("trust", "recompute").exit_code == 0
    lowered = _index(api, "c1")
    assert lowered < before

    _label(api, "fc-2", "fraud", "2015-02-26T09:00:00Z")
    # The index's statistics are additive sums that an incremental recompute only adds to: an
    # observation whose evidence is gone stays counted until the statistics are rebuilt.
    assert cli("trust", "recompute").exit_code == 0
    assert _index(api, "c1") == lowered
    assert cli("trust", "recompute", "--full").exit_code == 0
    assert _index(api, "c1") == pytest.approx(before)
    explained = api.get("/api/v1/trust/customers/c1").json()
    assert "fraud" not in [s["signal"] for s in explained["signals"]]


def _segment_indices(api) -> dict[str, float]:
    scores = api.get("/api/v1/trust", params={"by": "segment"}).json()
    return {s["key"]: s["trust_index"] for s in scores}


def _false_decline(api, tx_id: str, customer: str) -> None:
    payment = {
        "transaction_id": tx_id,
        "at": "2015-02-24T12:00:00Z",
        "customer_id": customer,
        "terminal_id": "t1",
        "amount": "80.00",
        "country": "KP",
    }
    assert api.post("/api/v1/transactions/score", json=payment).json()["decision"] == "decline"
    _label(api, tx_id, "genuine", "2015-02-25T09:00:00Z")


def _fraud_part(api, segment: str) -> dict | None:
    explained = api.get(f"/api/v1/trust/segments/{segment}/explain")
    assert explained.status_code == 200, explained.text
    return next((s for s in explained.json()["signals"] if s["signal"] == "fraud"), None)


def test_a_false_decline_lowers_the_trust_index_of_the_customers_segments(
    api, cli, tmp_path, platform
):
    (tmp_path / "customers.csv").write_text(
        "external_id,segment\nc1,United\nc2,United|Virgin America\nc3,\n"
    )
    assert cli("customers", "import", str(tmp_path / "customers.csv")).exit_code == 0
    imported = cli(*TWEET_IMPORT, _feedback_for(tmp_path, "c1"), "--customer-column", "customer")
    assert imported.exit_code == 0, imported.output
    assert cli("trust", "recompute").exit_code == 0
    before = _segment_indices(api)
    assert {"United", "Virgin America"} <= set(before)

    _false_decline(api, "seg-1", "c1")
    assert cli("trust", "recompute").exit_code == 0
    after_one = _segment_indices(api)
    assert after_one["United"] < before["United"]
    assert _fraud_part(api, "United")["n"] == 1
    assert _fraud_part(api, "Virgin America") is None  # c1 flies United only
    # (Virgin America moves a little too: segments are shrunk towards the overall index)
    drop = {s: before[s] - after_one[s] for s in before}
    assert drop["United"] > drop["Virgin America"]

    _false_decline(api, "seg-2", "c2")  # a customer of both airlines
    _false_decline(api, "seg-3", "c3")  # a customer in no segment: overall only
    assert cli("trust", "recompute").exit_code == 0
    after_two = _segment_indices(api)
    assert after_two["Virgin America"] < before["Virgin America"]
    assert _fraud_part(api, "Virgin America")["n"] == 1 and _fraud_part(api, "United")["n"] == 2

    def fraud_evidence() -> list[tuple[str, float]]:
        with platform.db.reading() as session:
            rows = session.execute(
                select(TrustEvidence.segment, TrustEvidence.weight)
                .where(TrustEvidence.signal == "fraud")
                .order_by(TrustEvidence.ref, TrustEvidence.segment)
            ).all()
        return [tuple(r) for r in rows]

    # a decline weighs 2: c2's is split between the two segments it belongs to
    evidence = [("United", 2.0), ("United", 1.0), ("Virgin America", 1.0), ("", 2.0)]
    assert fraud_evidence() == evidence
    # The next recompute reads c2's label again (in the overlap): both its parts count once.
    assert cli("trust", "recompute").exit_code == 0
    assert fraud_evidence() == evidence and _segment_indices(api) == after_two
