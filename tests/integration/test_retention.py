"""Retention from the data map through the real CLI and database: a dry-run plan first, then
deletion or anonymisation past each system's period, audited, and said in the privacy notice."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import yaml
from sqlalchemy import func, select
from tests.integration.test_privacy_requests_cli import read_zip

from trustdesk.audit.chain import AuditEntry
from trustdesk.feedback.models import Feedback
from trustdesk.fraud.models import FraudTransaction
from trustdesk.privacy.datamap.datamap import DEFAULT_DATAMAP
from trustdesk.privacy.models import PrivacyRequest

RECENT = (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seed(cli, tmp_path):
    (tmp_path / "customers.csv").write_text("external_id,name,email\nada,Ada L,ada@example.com\n")
    assert cli("customers", "import", str(tmp_path / "customers.csv")).exit_code == 0
    (tmp_path / "tickets.csv").write_text(
        "id,text,at,customer\n"
        "t1,my card was charged twice,2019-01-05T10:00:00Z,ada\n"
        "t2,the app keeps logging me out,2019-02-05T10:00:00Z,\n"
        f"t3,thanks for the quick refund,{RECENT},ada\n"
    )
    done = cli(
        "feedback", "import", str(tmp_path / "tickets.csv"), "--source", "ticket",
        "--id-column", "id", "--time-column", "at", "--customer-column", "customer",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    (tmp_path / "payments.csv").write_text(
        "transaction_id,at,customer_id,terminal_id,amount,currency,channel,label,label_known_at\n"
        "p-old,2019-03-01T10:00:00Z,ada,t1,12.00,GBP,online,,\n"
        f"p-new,{RECENT},ada,t1,15.00,GBP,online,,\n"
    )
    assert cli("fraud", "import", "--transactions", str(tmp_path / "payments.csv")).exit_code == 0


def _add_request(platform, customer_id: int, closed_at: datetime | None) -> int:
    with platform.db.transaction() as session:
        request = PrivacyRequest(
            customer_id=customer_id, kind="access", regime="gdpr",
            status="completed" if closed_at else "open", source="staff",
            received_at=datetime(2019, 1, 1, tzinfo=UTC), due_at=datetime(2019, 2, 1, tzinfo=UTC),
            closed_at=closed_at, verification_method="passport seen", payload_enc=b"secret",
        )  # fmt: skip
        session.add(request)
        session.flush()
        return request.id


def _plan(cli) -> dict[str, dict]:
    result = cli("retention", "plan", "--json")
    assert result.exit_code == 0, result.output
    return {item["system"]: item for item in json.loads(result.stdout)}


def test_plan_is_a_dry_run_and_apply_deletes_or_anonymises_only_what_is_past_its_period(
    cli, platform, tmp_path
):
    _seed(cli, tmp_path)
    old_request = _add_request(platform, 1, datetime(2020, 1, 1, tzinfo=UTC))
    open_request = _add_request(platform, 1, None)
    plan = _plan(cli)
    assert (plan["feedback"]["action"], plan["feedback"]["days"], plan["feedback"]["due"]) == (
        "delete", 1095, 2
    )  # fmt: skip
    assert (plan["payments"]["action"], plan["payments"]["due"]) == ("anonymise", 1)
    assert (plan["privacy_requests"]["action"], plan["privacy_requests"]["due"]) == (
        "anonymise", 1
    )  # fmt: skip
    assert all(item["done"] == 0 and item["problem"] is None for item in plan.values())
    with platform.db.reading() as session:  # the plan changed nothing
        assert session.scalar(select(func.count()).select_from(Feedback)) == 3

    applied = cli("retention", "apply", "--yes", "--json")
    assert applied.exit_code == 0, applied.output
    done = {i["system"]: i["done"] for i in json.loads(applied.stdout)}
    assert done == {"feedback": 2, "payments": 1, "privacy_requests": 1}
    with platform.db.reading() as session:
        assert session.scalars(select(Feedback.external_id)).all() == ["t3"]
        refs = dict(
            session.execute(
                select(FraudTransaction.transaction_id, FraudTransaction.customer_ref)
            ).all()
        )
        assert refs == {"p-old": "anonymised", "p-new": "ada"}
        old = session.get(PrivacyRequest, old_request)
        kept = session.get(PrivacyRequest, open_request)
        assert old is not None and kept is not None
        assert (old.customer_id, old.payload_enc, old.verification_method) == (0, None, None)
        assert old.kind == "access" and old.closed_at is not None  # proof it was answered
        assert (kept.customer_id, kept.payload_enc) == (1, b"secret")
        audited = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "retention.applied")
        ).all()
    assert sorted(e.entity_id for e in audited) == ["feedback", "payments", "privacy_requests"]
    assert all(item["due"] == 0 for item in _plan(cli).values())  # nothing left to do
    # The customer's access export no longer lists the anonymised payment.
    export = tmp_path / "export.zip"
    assert cli("privacy", "export", "--customer", "ada", "--output", str(export)).exit_code == 0
    payments = json.loads(read_zip(export)["payments.json"])
    assert [p["transaction_id"] for p in payments] == ["p-new"]


def test_the_daily_job_applies_the_rules_and_a_rule_that_cannot_apply_fails_visibly(cli, tmp_path):
    _seed(cli, tmp_path)
    ran = cli("jobs", "run", "privacy.retention")
    assert ran.exit_code == 0, ran.output
    assert "feedback/feedback messages: 2 deleted" in ran.stdout
    datamap = yaml.safe_load(DEFAULT_DATAMAP.read_text())
    datamap["systems"][1]["retention_rule"] = {"days": 30, "action": "anonymise"}
    (tmp_path / "datamap.yaml").write_text(yaml.safe_dump(datamap))
    assert cli("privacy", "datamap", "load", str(tmp_path / "datamap.yaml")).exit_code == 0
    plan = _plan(cli)
    assert plan["feedback"]["problem"] == "feedback messages cannot be anonymised; use delete"
    failed = cli("jobs", "run", "privacy.retention")
    assert failed.exit_code == 1 and "cannot be anonymised" in failed.stdout
    runs = json.loads(cli("jobs", "runs", "--job", "privacy.retention", "--json").stdout)
    assert [r["status"] for r in runs] == ["failed", "succeeded"]


def test_the_privacy_notice_says_what_is_enforced_automatically(client):
    notice = client.get("/privacy-notice")
    assert notice.status_code == 200
    assert "after 1,095 days it is deleted automatically" in notice.text
    assert "after 1,826 days it is no longer linked to you automatically" in notice.text
