"""Real-time fraud scoring through the HTTP API: intake checks, idempotency, rules, labels, queue."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from fastapi.testclient import TestClient

from trustdesk.access.roles import Role
from trustdesk.app import create_app
from trustdesk.fraud.models import FraudTransaction

_ids = count(1)
DECISIONS = {"approve", "step_up", "review", "decline"}


def payment(**overrides):
    """A plausible card payment a minute ago; override any field."""
    body = {
        "transaction_id": f"tx-{next(_ids)}",
        "at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        "customer_id": "card-1",
        "terminal_id": "term-1",
        "amount": "42.50",
        "currency": "EUR",
        "channel": "pos",
    }
    return {**body, **overrides}


def test_a_payment_is_scored_once_and_a_resend_gets_the_stored_decision(api):
    body = payment()
    first = api.post("/api/v1/transactions/score", json=body)
    assert first.status_code == 201, first.text
    decided = first.json()
    assert decided["decision"] in DECISIONS
    assert 0.0 <= decided["score"] <= 1.0
    assert decided["model_version"] == "v0-shipped" and decided["rules_version"] == 0
    assert decided["duplicate"] is False

    again = api.post("/api/v1/transactions/score", json=body)
    assert again.status_code == 200
    resent = again.json()
    assert resent["duplicate"] is True
    assert {k: resent[k] for k in ("score", "decision", "reasons")} == {
        k: decided[k] for k in ("score", "decision", "reasons")
    }
    stored = api.get(f"/api/v1/transactions/{body['transaction_id']}").json()
    assert stored["score"] == decided["score"] and stored["amount"] == "42.50"


def test_an_id_reused_for_a_different_payment_is_refused_and_nothing_changes(api):
    body = payment()
    assert api.post("/api/v1/transactions/score", json=body).status_code == 201
    clash = api.post("/api/v1/transactions/score", json={**body, "amount": "999.00"})
    assert clash.status_code == 409
    assert "different content" in clash.json()["detail"]
    assert api.get(f"/api/v1/transactions/{body['transaction_id']}").json()["amount"] == "42.50"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"amount": "-5.00"}, "amount: must not be negative"),
        ({"amount": "250000.00"}, "amount: above the maximum"),
        ({"currency": "ZZZ"}, "not an ISO 4217 currency"),
        ({"at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}, "in the future"),
        ({"channel": "carrier-pigeon"}, "unknown channel"),
    ],
)
def test_impossible_payments_are_refused_with_a_reason_and_not_stored(api, change, reason):
    body = payment(**change)
    refused = api.post("/api/v1/transactions/score", json=body)
    assert refused.status_code == 422
    assert reason in refused.json()["detail"]
    assert api.get(f"/api/v1/transactions/{body['transaction_id']}").status_code == 404


def test_rules_override_the_model_and_say_why(api):
    declined = api.post("/api/v1/transactions/score", json=payment(country="KP")).json()
    assert declined["decision"] == "decline"
    assert declined["rules_fired"] == ["sanctioned_country"]
    assert declined["reasons"][0] == "Payments from this country are not accepted."

    large = payment(amount="6000.00", channel="online")
    reviewed = api.post("/api/v1/transactions/score", json=large).json()
    assert reviewed["decision"] == "review" and "large_online_payment" in reviewed["rules_fired"]


def test_a_bad_rule_set_is_refused_by_name_and_a_good_one_is_versioned_and_used(api):
    bad = (
        "rules:\n  - name: broken\n    when: amount >> 3\n    action: force_review\n    reason: x\n"
    )
    refused = api.put("/api/v1/fraud/rules", json={"content": bad})
    assert refused.status_code == 422 and "rule 'broken'" in refused.json()["detail"]
    assert api.get("/api/v1/fraud/rules").json()["version"] == 0

    good = (
        "rules:\n  - name: trusted_terminal\n    when: 'terminal_id == \"term-safe\"'\n"
        "    action: force_allow\n    reason: This terminal is our own shop.\n"
    )
    loaded = api.put("/api/v1/fraud/rules", json={"content": good})
    assert loaded.status_code == 200 and loaded.json()["version"] == 1
    allowed = api.post(
        "/api/v1/transactions/score", json=payment(terminal_id="term-safe", country="KP")
    ).json()
    assert allowed["decision"] == "approve" and allowed["rules_version"] == 1
    assert allowed["rules_fired"] == ["trusted_terminal"]


def test_review_cases_wait_in_the_queue_until_someone_labels_them(api):
    case = payment(amount="7000.00", channel="online")
    api.post("/api/v1/transactions/score", json=case)
    queue = api.get("/api/v1/fraud/review-queue").json()
    assert [c["transaction_id"] for c in queue] == [case["transaction_id"]]

    labelled = api.post(
        f"/api/v1/transactions/{case['transaction_id']}/labels", json={"label": "genuine"}
    )
    assert labelled.status_code == 201
    assert [tuple(lab[:2]) for lab in labelled.json()["labels"]] == [("genuine", "api")]
    assert api.get("/api/v1/fraud/review-queue").json() == []


def test_only_permitted_roles_score_or_label(client, token_for):
    viewer = {"Authorization": f"Bearer {token_for(Role.VIEWER)}"}
    assert (
        client.post("/api/v1/transactions/score", json=payment(), headers=viewer).status_code == 403
    )
    agent = {"Authorization": f"Bearer {token_for(Role.AGENT)}"}
    body = payment()
    assert client.post("/api/v1/transactions/score", json=body, headers=agent).status_code == 201
    label = {"label": "fraud"}
    url = f"/api/v1/transactions/{body['transaction_id']}/labels"
    assert client.post(url, json=label, headers=agent).status_code == 403


def test_history_is_loaded_at_start_up_and_counts_in_the_next_decision(platform, token_for):
    """Payments stored before a restart feed the velocity rule of the new process."""
    headers = {"Authorization": f"Bearer {token_for(Role.ADMIN)}"}
    now = datetime.now(UTC)
    with TestClient(create_app(platform=platform)) as first:
        for i in range(30):
            body = payment(
                customer_id="card-busy", at=(now - timedelta(minutes=60 - i)).isoformat()
            )
            assert first.post("/api/v1/transactions", json=body, headers=headers).status_code == 201
    with TestClient(create_app(platform=platform)) as restarted:
        engine = restarted.app.state.fraud.get()
        assert len(engine.history.cards["card-busy"].times) == 30
        scored = restarted.post(
            "/api/v1/transactions/score", json=payment(customer_id="card-busy"), headers=headers
        ).json()
    assert "card_velocity" in scored["rules_fired"] and scored["decision"] == "review"


def test_a_payment_stored_by_another_process_is_a_duplicate_not_a_second_score(api, cli, tmp_path):
    """The running scorer has not caught up with a CLI import yet: the unique id still holds."""
    at = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
    path = tmp_path / "late.csv"
    path.write_text(
        "transaction_id,at,customer_id,terminal_id,amount\n"
        f"imp-1,{at.isoformat()},card-1,term-1,10.00\n"
    )
    assert api.get("/api/v1/fraud/rules").status_code == 200  # the app (and its memory) is up
    assert cli("fraud", "import", "--transactions", str(path)).exit_code == 0
    body = payment(transaction_id="imp-1", at=at.isoformat(), amount="10.00")
    again = api.post("/api/v1/transactions/score", json=body)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True and again.json()["decision"] is None
    clash = api.post("/api/v1/transactions/score", json={**body, "amount": "11.00"})
    assert clash.status_code == 409


def test_the_running_scorer_catches_up_with_imports_labels_and_rule_sets_of_other_processes(
    api, cli, tmp_path
):
    holder = api.app.state.fraud
    engine = holder.get()
    at = (datetime.now(UTC) - timedelta(minutes=30)).replace(microsecond=0)
    rows = "".join(f"cu-{i},{at.isoformat()},card-cu,term-cu,10.00\n" for i in range(3))
    (tmp_path / "tx.csv").write_text("transaction_id,at,customer_id,terminal_id,amount\n" + rows)
    (tmp_path / "labels.csv").write_text("transaction_id,label\ncu-0,fraud\n")
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  - name: none_today\n    when: amount < 0\n    action: force_review\n"
        "    reason: never\n"
    )
    assert cli("fraud", "import", "--transactions", str(tmp_path / "tx.csv")).exit_code == 0
    assert cli("fraud", "labels", "import", str(tmp_path / "labels.csv")).exit_code == 0
    assert cli("fraud", "rules", "load", str(tmp_path / "rules.yaml")).exit_code == 0
    assert "cu-0" not in engine.history and engine.rules_version == 0

    holder.refresh()  # what the background thread does every 30 s
    assert all(f"cu-{i}" in engine.history for i in range(3))
    assert engine.history.known_fraud("cu-0") is True
    assert engine.history.known_fraud("cu-1") is False
    assert engine.rules_version == 1
    holder.refresh()  # nothing new: nothing counted twice
    assert len(engine.history.cards["card-cu"].times) == 3


def test_a_long_running_scorer_forgets_old_payments_and_a_resent_one_keeps_its_decision(api):
    holder = api.app.state.fraud
    engine = holder.get()
    old = payment(
        customer_id="card-old",
        at=(datetime.now(UTC) - timedelta(days=61)).isoformat(),
    )
    recent = payment(customer_id="card-old")
    first = api.post("/api/v1/transactions/score", json=old)
    assert first.status_code == 201
    assert api.post("/api/v1/transactions/score", json=recent).status_code == 201
    assert old["transaction_id"] in engine.history

    holder.refresh()  # what the background thread does every 30 s
    assert old["transaction_id"] not in engine.history  # older than every window
    assert recent["transaction_id"] in engine.history
    again = api.post("/api/v1/transactions/score", json=old)  # the database still knows it
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["score"] == first.json()["score"]
    assert old["transaction_id"] not in engine.history  # and it was not scored again
    clash = api.post("/api/v1/transactions/score", json={**old, "amount": "1.00"})
    assert clash.status_code == 409


def _label_elsewhere(platform, tx_id: str, label: str) -> None:
    """What another process (a worker, the CLI) does: the service, straight to the database."""
    from trustdesk.db import utcnow
    from trustdesk.fraud import service
    from trustdesk.fraud.schemas import LabelIn

    with platform.db.transaction() as session:
        service.add_label(
            session, tx_id, LabelIn(label=label, source="chargebacks"), actor="worker", now=utcnow()
        )


def test_a_label_corrected_by_another_process_reaches_the_running_scorer(api, platform):
    from sqlalchemy import select

    from trustdesk.audit.chain import AuditEntry
    from trustdesk.fraud.models import FraudLabel

    holder = api.app.state.fraud
    engine = holder.get()
    api.post("/api/v1/transactions/score", json=payment(transaction_id="lc-0", customer_id="c-lc"))
    api.post("/api/v1/transactions/score", json=payment(transaction_id="lc-1", customer_id="c-lc"))
    _label_elsewhere(platform, "lc-0", "genuine")
    _label_elsewhere(platform, "lc-1", "genuine")  # the newest label: its id is the highest
    holder.refresh()
    assert engine.history.known_fraud("lc-0") is False
    assert engine.history.known_fraud("lc-1") is False

    _label_elsewhere(platform, "lc-1", "fraud")  # the chargeback team changes its mind
    holder.refresh()  # what the background thread does every 30 s
    assert engine.history.known_fraud("lc-1") is True
    assert engine.history.known_fraud("lc-0") is False

    with platform.db.reading() as session:
        labels = session.execute(select(FraudLabel.label, FraudLabel.source)).all()
        changes = session.scalars(
            select(AuditEntry.diff)
            .where(AuditEntry.action == "fraud.label", AuditEntry.entity_id == "lc-1")
            .order_by(AuditEntry.id)
        ).all()
    assert sorted(labels) == [("fraud", "chargebacks"), ("genuine", "chargebacks")]
    assert [json.loads(c)["label"] for c in changes] == [[None, "genuine"], ["genuine", "fraud"]]


def test_a_label_corrected_by_a_file_import_reaches_the_running_scorer(api, cli, tmp_path):
    holder = api.app.state.fraud
    engine = holder.get()
    api.post("/api/v1/transactions/score", json=payment(transaction_id="li-1", customer_id="c-li"))
    (tmp_path / "first.csv").write_text("transaction_id,label\nli-1,fraud\n")
    (tmp_path / "fixed.csv").write_text("transaction_id,label\nli-1,genuine\n")
    assert cli("fraud", "labels", "import", str(tmp_path / "first.csv")).exit_code == 0
    holder.refresh()
    assert engine.history.known_fraud("li-1") is True
    fixed = cli("fraud", "labels", "import", str(tmp_path / "fixed.csv"), "--json")
    assert fixed.exit_code == 0 and json.loads(fixed.output)["labels"] == 1
    holder.refresh()
    assert engine.history.known_fraud("li-1") is False


def test_a_label_known_later_reaches_the_running_scorer_when_its_time_comes(api, cli, tmp_path):
    """A label stored ahead of the time it becomes known is held by the running scorer, even
    once newer labels (known at once) have been read past it."""
    holder = api.app.state.fraud
    engine = holder.get()
    first, second = payment(customer_id="card-held"), payment(customer_id="card-held")
    for body in (first, second):
        assert api.post("/api/v1/transactions/score", json=body).status_code == 201
    week = (datetime.now(UTC) + timedelta(days=7)).isoformat()  # e.g. a chargeback date
    (tmp_path / "labels.csv").write_text(
        f"transaction_id,label,known_at\n{first['transaction_id']},fraud,{week}\n"
    )
    assert cli("fraud", "labels", "import", str(tmp_path / "labels.csv")).exit_code == 0
    holder.refresh()
    assert engine.history.known_fraud(first["transaction_id"]) is False  # known in a week
    assert engine.held_labels == 1
    done = api.post(
        f"/api/v1/transactions/{second['transaction_id']}/labels", json={"label": "fraud"}
    )
    assert done.status_code == 201  # a newer label id, known now
    holder.refresh()
    assert engine.history.known_fraud(second["transaction_id"]) is True
    engine.learn([], datetime.now(UTC) + timedelta(days=7, minutes=1))  # a week later
    assert engine.history.known_fraud(first["transaction_id"]) is True


def test_the_catch_up_finds_a_payment_that_committed_after_a_higher_id_was_read(api, platform):
    """On PostgreSQL ids are handed out before commit: a payment can commit after a later id
    was already read. The next catch-up reads again from where the previous one started."""
    holder = api.app.state.fraud
    engine = holder.get()
    holder.refresh()
    top = engine.last_pk
    now = datetime.now(UTC)

    def commit(pk: int, tx_id: str) -> None:
        with platform.db.transaction() as session:
            session.add(
                FraudTransaction(
                    id=pk,
                    transaction_id=tx_id,
                    at=now - timedelta(minutes=5),
                    received_at=now,
                    customer_ref="card-late",
                    terminal_id="term-late",
                    amount=Decimal("5.00"),
                    currency="EUR",
                    channel="pos",
                    content_hash="0" * 64,
                )
            )

    commit(top + 5, "late-b")  # committed first, with the higher id
    holder.refresh()
    assert "late-b" in engine.history
    commit(top + 2, "late-a")  # its id was handed out earlier; it commits only now
    holder.refresh()
    assert "late-a" in engine.history
    assert len(engine.history.cards["card-late"].times) == 2  # nothing counted twice


def test_an_imported_payment_older_than_the_windows_counts_once_for_its_customer(
    api, cli, tmp_path
):
    """Taken in by one catch-up, forgotten at once (older than every window), read again by the
    next (the catch-ups overlap): the customer's standing counts it once."""
    holder = api.app.state.fraud
    engine = holder.get()
    at = (datetime.now(UTC) - timedelta(days=65)).replace(microsecond=0)
    (tmp_path / "tx.csv").write_text(
        "transaction_id,at,customer_id,terminal_id,amount\n"
        f"aged-1,{at.isoformat()},card-aged,term-aged,80.00\n"
    )
    assert cli("fraud", "import", "--transactions", str(tmp_path / "tx.csv")).exit_code == 0
    holder.refresh()
    holder.refresh()
    holder.refresh()
    assert "aged-1" not in engine.history
    standing = engine.standing["card-aged"]
    assert (standing.count, standing.spend) == (1, Decimal("80.00"))
