"""Staff notifications end to end: subscriptions (CLI and API), the producer job turning trust
alerts, overdue privacy requests, a long fraud review queue and job failures into outbox
messages, and the delivery job sending them to a real local SMTP server and a real local HTTP
server (signed webhooks), each event once per subscriber however often the jobs run."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from tests.integration.test_outbox_webhooks_and_mailbox import receiver  # noqa: F401

from trustdesk.access.roles import Role
from trustdesk.capabilities import Job
from trustdesk.db import utcnow
from trustdesk.fraud.models import FraudTransaction
from trustdesk.jobs.models import JobRun, JobState
from trustdesk.jobs.registry import declared_jobs
from trustdesk.jobs.runner import Runner
from trustdesk.outbox import public as outbox
from trustdesk.privacy.models import PrivacyRequest
from trustdesk.trust.models import TrustAlert

STAFF = "ops@example.org"


def _to_smtp(platform, smtp_server):
    settings = platform.settings.model_copy(
        update={"smtp_port": smtp_server.port, "smtp_from": "TrustDesk <td@example.org>"}
    )
    return dataclasses.replace(platform, settings=settings)


def _run(platform, *names: str) -> list[str]:
    """Run the named jobs now, in order, as a worker would."""
    jobs = declared_jobs()
    runner = Runner(platform, jobs={n: jobs[n] for n in names})
    statuses = []
    for name in names:
        with platform.db.transaction() as session:
            from trustdesk.jobs import service

            service.request_run(session, name, actor="test", now=utcnow())
        statuses += [f"{o.job}:{o.status}" for o in runner.run_due(only=name)]
    return statuses


def _happenings(platform) -> None:
    """One of each: a trust alert, an overdue request, two payments held for review, a job
    that failed for good."""
    now = utcnow()
    with platform.db.transaction() as session:
        session.add(
            TrustAlert(
                kind="trust_drop", segment="Delta", topic="", severity="high",
                window_start=now - timedelta(days=1), window_end=now, baseline=61.0,
                observed=42.5, effect=18.5, p_value=0.001, created_at=now, updated_at=now,
            )
        )  # fmt: skip
        session.add(
            PrivacyRequest(
                customer_id=1, kind="erasure", regime="gdpr", status="open", source="staff",
                received_at=now - timedelta(days=40), due_at=now - timedelta(days=9),
            )
        )  # fmt: skip
        for n in range(2):
            session.add(
                FraudTransaction(
                    transaction_id=f"rv-{n}", at=now, received_at=now, customer_ref="c1",
                    terminal_id="t1", amount=Decimal("10.00"), currency="GBP", channel="online",
                    content_hash=f"h{n}", decision="review",
                )
            )  # fmt: skip
        session.add(
            JobRun(
                job_name="outbox.deliver", due_at=now, reason="schedule", attempt=3,
                status="failed", worker="w", started_at=now, finished_at=now, duration_ms=5,
                error="ConnectionRefusedError: [Errno 111] Connection refused",
            )
        )  # fmt: skip


def test_each_subscriber_hears_of_each_event_once_by_email_and_signed_webhook(
    cli,
    platform,
    smtp_server,
    receiver,  # noqa: F811
):
    hook = receiver([])
    for kind in ("trust_alert", "overdue_request", "job_failure"):
        made = cli("notifications", "subscribe", "--kind", kind, "--email", STAFF)
        assert made.exit_code == 0, made.output
    queue = cli("notifications", "subscribe", "--kind", "fraud_queue", "--threshold", "1",
                "--email", STAFF)  # fmt: skip
    assert queue.exit_code == 0, queue.output
    made = cli("notifications", "subscribe", "--kind", "trust_alert", "--webhook", hook.url,
               "--json")  # fmt: skip
    assert made.exit_code == 0, made.output
    secret = json.loads(made.stdout)["webhook_secret"]
    _happenings(platform)
    live = _to_smtp(platform, smtp_server)
    assert _run(live, "notifications.notify", "outbox.deliver") == [
        "notifications.notify:succeeded",
        "outbox.deliver:succeeded",
    ]
    assert smtp_server.wait_for(4)
    subjects = sorted(m.parsed()["Subject"] for m in smtp_server.messages)
    assert subjects == [
        "[TrustDesk] Fraud review queue: 2 payments waiting",
        "[TrustDesk] Job outbox.deliver failed after 3 attempt(s)",
        "[TrustDesk] Privacy request 1 is overdue",
        "[TrustDesk] Trust drop in Delta (high)",
    ]
    assert smtp_server.count_for(STAFF) == 4
    assert len(hook.requests) == 1
    headers, body = hook.requests[0]
    assert outbox.verify_webhook_signature(
        secret, int(headers["X-TrustDesk-Timestamp"]), body, headers["X-TrustDesk-Signature"]
    )
    payload = json.loads(body)
    assert payload["text"].startswith("*Trust drop in Delta (high)*")
    # The jobs run again (every minute in a worker): nobody hears twice.
    _run(live, "notifications.notify", "outbox.deliver")
    assert smtp_server.total == 4 and len(hook.requests) == 1


def test_news_from_before_a_subscription_is_not_sent_but_standing_conditions_are(
    cli, platform, smtp_server
):
    _happenings(platform)
    for kind in ("trust_alert", "overdue_request", "job_failure"):
        assert cli("notifications", "subscribe", "--kind", kind, "--email", STAFF).exit_code == 0
    live = _to_smtp(platform, smtp_server)
    _run(live, "notifications.notify", "outbox.deliver")
    assert smtp_server.wait_for(1)
    assert [m.parsed()["Subject"] for m in smtp_server.messages] == [
        "[TrustDesk] Privacy request 1 is overdue"  # still overdue: a standing condition
    ]


def test_a_job_that_gives_up_makes_the_notifier_due(platform):
    failing = Job("test.broken", "tests.integration.test_jobs:flaky", every_s=60, max_attempts=1)
    from tests.integration import test_jobs

    test_jobs._FAILURES_LEFT["n"] = 1
    runner = Runner(platform, jobs={failing.name: failing})
    with platform.db.transaction() as session:
        from trustdesk.jobs import service

        service.sync_jobs(session, {failing.name: failing}, utcnow() - timedelta(minutes=2))
    assert [o.status for o in runner.run_due()] == ["failed"]
    with platform.db.reading() as session:
        notifier = session.get(JobState, "notifications.notify")
        runs = session.scalars(select(JobRun)).all()
    assert notifier is not None and notifier.pending_since is not None
    assert [r.retry_at for r in runs] == [None]  # no attempt left: a final failure


def test_subscriptions_over_the_api_refuse_bad_input_and_mask_addresses(api, client, token_for):
    made = api.post(
        "/api/v1/notifications/subscriptions", json={"kind": "trust_alert", "email": STAFF}
    )
    assert made.status_code == 201, made.text
    assert made.json()["target"] == "o***@example.org"
    for bad, reason in [
        ({"kind": "trust_alert"}, "exactly one of email or webhook_url"),
        ({"kind": "fraud_queue", "email": STAFF}, "needs a threshold"),
        ({"kind": "gossip", "email": STAFF}, "kind"),
        ({"kind": "trust_alert", "webhook_url": "ftp://x"}, "http"),
    ]:
        answer = api.post("/api/v1/notifications/subscriptions", json=bad)
        assert answer.status_code == 422 and reason in answer.text, (bad, answer.text)
    listed = api.get("/api/v1/notifications/subscriptions").json()
    assert [s["kind"] for s in listed] == ["trust_alert"]
    viewer = {"Authorization": f"Bearer {token_for(Role.VIEWER)}"}
    assert client.get("/api/v1/notifications/subscriptions", headers=viewer).status_code == 403
    sub_id = listed[0]["id"]
    assert api.delete(f"/api/v1/notifications/subscriptions/{sub_id}").status_code == 204
    assert api.delete(f"/api/v1/notifications/subscriptions/{sub_id}").status_code == 404
    assert api.get("/api/v1/notifications/subscriptions").json() == []


def test_staff_manage_subscriptions_on_the_page(client, platform):
    from tests.integration.test_pages import csrf_from, log_in, make_user

    make_user(platform, "pat", "privacy_officer")
    log_in(client, platform, "pat")
    page = client.get("/notifications")
    assert page.status_code == 200 and "Nobody is subscribed yet" in page.text
    made = client.post(
        "/notifications",
        data={"kind": "overdue_request", "channel": "webhook",
              "target": "http://127.0.0.1:9/hook", "csrf_token": csrf_from(page.text)},
    )  # fmt: skip
    assert made.status_code == 200, made.text
    assert "Webhook signing secret, shown only now" in made.text
    assert "A privacy request is past its statutory due date" in made.text
    refused = client.post(
        "/notifications",
        data={"kind": "fraud_queue", "channel": "email", "target": STAFF,
              "csrf_token": csrf_from(made.text)},
    )  # fmt: skip
    assert refused.status_code == 422 and "needs a threshold" in refused.text
    sub_id = _subs(platform)[0].id
    ended = client.post(
        f"/notifications/{sub_id}/delete",
        data={"csrf_token": csrf_from(made.text)},
        follow_redirects=True,
    )
    assert ended.status_code == 200 and "Nobody is subscribed yet" in ended.text
    make_user(platform, "vic", "viewer")
    client.cookies.clear()
    log_in(client, platform, "vic")
    assert client.get("/notifications").status_code == 403


def _subs(platform):
    from trustdesk.notifications import service

    with platform.db.reading() as session:
        return service.list_subscriptions(session, platform.vault)
