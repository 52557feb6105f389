"""Issue 12's crash test, for real: a delivery run sending 10,000 notices to a real SMTP server
is killed with SIGKILL mid-run, a new run finishes, and the server has received at most one
message for every customer and all of them but at most one round left `unconfirmed` (the
remaining window docs/outbox.md describes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from trustdesk.customers import service as customer_service
from trustdesk.customers.public import customer_ids
from trustdesk.customers.schemas import CustomerIn
from trustdesk.outbox import public as outbox

N = 10_000
LEASE_S = 4


def _run_delivery(settings, port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "TRUSTDESK_DATA_DIR": str(settings.data_dir),
        "TRUSTDESK_LOG_LEVEL": "WARNING",
        "TRUSTDESK_SMTP_PORT": str(port),
        "TRUSTDESK_OUTBOX_LEASE_S": str(LEASE_S),
    }
    if settings.database_url:
        env["TRUSTDESK_DATABASE_URL"] = settings.database_url
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "trustdesk"),
            "outbox",
            "deliver",
            "--until-empty",
            "--json",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_kill_9_during_10000_notices_then_restart_delivers_each_exactly_once(
    platform, settings, smtp_server
):
    records = [CustomerIn(external_id=f"c{i}", email=f"c{i}@example.org") for i in range(N)]
    with platform.db.transaction() as session:
        customer_service.upsert_customers(session, platform.vault, records, actor="test")
        ids = customer_ids(session, [r.external_id for r in records])
        outbox.enqueue_emails(
            session,
            platform.vault,
            [
                outbox.Email(
                    "incident.notice",
                    f"incident:1:{cid}",
                    "About your account",
                    "Notice text",
                    customer_id=cid,
                )
                for cid in ids.values()
            ],
        )

    first = _run_delivery(settings, smtp_server.port)
    try:
        assert smtp_server.wait_for(N // 3, timeout_s=300), (
            first.stderr.read() if first.poll() is not None else "slow"
        )
        assert first.poll() is None, "the run ended before it could be killed"
        first.send_signal(signal.SIGKILL)
    finally:
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL
    killed_at = smtp_server.total
    assert killed_at < N

    time.sleep(LEASE_S + 0.5)  # the dead run's lease runs out
    second = _run_delivery(settings, smtp_server.port)
    stdout, stderr = second.communicate(timeout=600)
    assert second.returncode == 0, stderr
    report = json.loads(stdout)

    counts = smtp_server.counts()
    expected = {f"c{i}@example.org" for i in range(N)}
    missing = expected - set(counts)
    assert set(counts) <= expected
    # The documented remaining window (docs/outbox.md): a kill landing between the claim
    # journal's note and the last "." of a round loses at most that round (one message per
    # connection), left `unconfirmed` for an operator to check and retry: loss over duplicates.
    assert len(missing) <= settings.smtp_connections, f"missing: {len(missing)}"
    assert max(counts.values()) == 1, [a for a, n in counts.items() if n > 1][:5]
    assert smtp_server.total == N - len(missing)
    with platform.db.reading() as session:
        statuses = outbox.status_counts(session, kind="incident.notice")
    assert statuses.delivered == N and statuses["sent"] + statuses["unconfirmed"] == N
    assert statuses["unconfirmed"] >= len(missing)
    assert report["recovered"] + report["unconfirmed"] >= 1  # it found the dead run's claims
