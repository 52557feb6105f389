"""Incident clock alerts reach subscribers through the one notifications path: the clocks job
raises the alert and makes the notifier due, the notifier puts one message per subscriber in the
outbox, the outbox delivers it to a real SMTP server; running everything again sends nothing."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.integration.test_notifications import STAFF, _run, _to_smtp

from trustdesk.db import utcnow
from trustdesk.jobs.models import JobState


def test_a_clock_turning_red_is_emailed_to_subscribers_once(cli, platform, smtp_server, tmp_path):
    (tmp_path / "c.csv").write_text(
        "external_id,name,email,jurisdiction\nc1,Anna,a@example.org,DE\n"
    )
    assert cli("customers", "import", str(tmp_path / "c.csv")).exit_code == 0
    aware = (utcnow() - timedelta(hours=60)).replace(microsecond=0)  # GDPR 72 h: 12 h left
    opened = cli(
        "incidents", "open", "--title", "Card data stolen", "--aware-at", aware.isoformat(),
        "--json",
    )  # fmt: skip
    iid = json.loads(opened.stdout)["id"]
    (tmp_path / "a.csv").write_text("external_id,data_categories\nc1,name;financial_account\n")
    assert cli("incidents", "affected", "import", str(iid), str(tmp_path / "a.csv")).exit_code == 0
    made = cli("notifications", "subscribe", "--kind", "incident_clock", "--email", STAFF)
    assert made.exit_code == 0, made.output
    live = _to_smtp(platform, smtp_server)
    assert _run(live, "incidents.clocks") == ["incidents.clocks:succeeded"]
    with platform.db.reading() as session:
        notifier = session.get(JobState, "notifications.notify")
    assert notifier is not None and notifier.pending_since is not None  # made due by the alert
    _run(live, "notifications.notify", "outbox.deliver")
    assert smtp_server.wait_for(1)
    subjects = [m.parsed()["Subject"] for m in smtp_server.messages]
    assert subjects == [f"[TrustDesk] Incident {iid}: notice to regulator in DE is nearly due"]
    body = smtp_server.messages[0].parsed().get_content()
    assert "Card data stolen" in body and f"/incidents/{iid}" in body and "Anna" not in body
    _run(live, "incidents.clocks", "notifications.notify", "outbox.deliver")
    assert smtp_server.total == 1
    listed = json.loads(cli("incidents", "alerts", "--json").stdout)
    assert [(a["jurisdiction"], a["audience"], a["level"]) for a in listed] == [
        ("DE", "regulator", "red")
    ]
