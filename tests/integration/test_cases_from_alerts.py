"""A trust-index drop alert opens a case, once per alert, routed to the trust queue with its
playbook, audited; a topic surge or an acknowledged alert opens none."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from trustdesk.audit.chain import AuditEntry
from trustdesk.cases.models import Case
from trustdesk.db import utcnow
from trustdesk.jobs import service
from trustdesk.jobs.registry import declared_jobs
from trustdesk.jobs.runner import Runner
from trustdesk.trust.models import TrustAlert


def _alert(segment: str, kind: str = "trust_drop", acknowledged: bool = False) -> TrustAlert:
    now = utcnow()
    return TrustAlert(
        kind=kind, segment=segment, topic="" if kind == "trust_drop" else "fees",
        severity="high", window_start=now - timedelta(days=7), window_end=now, baseline=61.0,
        observed=42.5, effect=18.5, p_value=0.001, created_at=now, updated_at=now,
        acknowledged_at=now if acknowledged else None, acknowledged_by="x" if acknowledged else None,
    )  # fmt: skip


def test_a_trust_drop_alert_opens_one_case_in_the_trust_queue(cli, api, platform):
    with platform.db.transaction() as session:
        session.add_all(
            [
                _alert("Delta"),
                _alert("Gamma", kind="topic_surge"),
                _alert("Beta", acknowledged=True),
            ]
        )
    first = cli("cases", "from-alerts", "--json")
    assert first.exit_code == 0, first.output
    assert '"opened": 1' in first.output
    again = cli("cases", "from-alerts")
    assert "1 trust-drop alert(s), 0 case(s) opened" in again.output  # idempotent per alert
    with platform.db.reading() as session:
        (case,) = session.scalars(select(Case)).all()
        audited = session.scalars(
            select(AuditEntry.entity_id).where(AuditEntry.action == "case.opened")
        ).all()
    assert (case.channel, case.category, case.queue, case.priority) == (
        "alert", "trust_alert", "trust", "high",
    )  # fmt: skip
    assert case.playbook == "trust_drop" and case.segment == "Delta"
    assert case.customer_id is None and case.first_response_due is not None
    assert audited == [str(case.id)]
    shown = api.get(f"/api/v1/cases/{case.id}").json()
    assert "Delta" in shown["subject"] and "61.0 to 42.5" in shown["body"]


def test_the_job_opens_cases_for_new_alerts(platform):
    with platform.db.transaction() as session:
        session.add(_alert("Epsilon"))
    jobs = declared_jobs()
    runner = Runner(platform, jobs={"cases.from_alerts": jobs["cases.from_alerts"]})
    with platform.db.transaction() as session:
        service.request_run(session, "cases.from_alerts", actor="test", now=utcnow())
    outcomes = runner.run_due(only="cases.from_alerts")
    assert [o.status for o in outcomes] == ["succeeded"]
    with platform.db.reading() as session:
        assert session.scalars(select(Case.segment)).all() == ["Epsilon"]
