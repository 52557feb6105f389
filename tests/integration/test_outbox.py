"""The outbox through its public facade, the real CLI and a real local SMTP server: messages
commit with the caller's transaction, go out once, fail and bounce as SMTP says, and keep no
personal data in the clear."""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import os
import stat
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from trustdesk.customers import service as customer_service
from trustdesk.customers.public import customer_ids, erase
from trustdesk.customers.schemas import CustomerIn
from trustdesk.db import utcnow
from trustdesk.outbox import public as outbox
from trustdesk.outbox.claims import claim_due, mark_committed
from trustdesk.outbox.models import OutboxMessage


def _customers(platform, *records):
    with platform.db.transaction() as session:
        customer_service.upsert_customers(
            session, platform.vault, [CustomerIn(**r) for r in records], actor="test"
        )
        return customer_ids(session, [r["external_id"] for r in records])


def _to_server(platform, server, **more):
    settings = platform.settings.model_copy(
        update={"smtp_port": server.port, "smtp_from": "Acme Trust <trust@acme.test>", **more}
    )
    return dataclasses.replace(platform, settings=settings)


def _notice(session, platform, cid, key, **more):
    return outbox.enqueue_email(
        session,
        platform.vault,
        kind="incident.notice",
        key=key,
        customer_id=cid,
        subject="About your account",
        text="Dear customer, we write to tell you about an incident.",
        **more,
    )


def test_an_enqueued_email_reaches_the_customer_once_with_a_stable_message_id(
    platform, smtp_server
):
    ids = _customers(platform, {"external_id": "c1", "name": "Ann Lee", "email": "ann@example.org"})
    with platform.db.transaction() as session:
        first = _notice(session, platform, ids["c1"], "incident:1:c1")
        again = _notice(session, platform, ids["c1"], "incident:1:c1")
    assert first.created and not again.created and again.id == first.id

    report = outbox.deliver_due(_to_server(platform, smtp_server))
    assert (report.claimed, report.sent) == (1, 1)
    assert outbox.deliver_due(_to_server(platform, smtp_server)).claimed == 0
    assert smtp_server.count_for("ann@example.org") == 1
    mail = smtp_server.messages[0].parsed()
    assert mail["Subject"] == "About your account"
    assert "Ann Lee" in mail["To"]
    assert "about an incident" in mail.get_content()
    with platform.db.reading() as session:
        shown = outbox.get_message(session, first.id)
    assert shown.status == "sent" and shown.sent_at is not None
    assert mail["Message-ID"] == shown.message_id and shown.message_id.endswith("@acme.test>")
    assert shown.provider_message_id == "T1"
    assert [e.outcome for e in shown.log] == ["sent"]


def test_a_message_commits_with_the_callers_transaction_or_not_at_all(platform):
    ids = _customers(platform, {"external_id": "c1", "email": "ann@example.org"})
    with pytest.raises(RuntimeError), platform.db.transaction() as session:
        _notice(session, platform, ids["c1"], "incident:1:c1")
        raise RuntimeError("the business change failed")
    with platform.db.reading() as session:
        assert outbox.status_counts(session).total == 0


def test_content_and_addresses_are_ciphertext_at_rest(platform):
    ids = _customers(platform, {"external_id": "c1", "email": "ann@example.org"})
    with platform.db.transaction() as session:
        _notice(session, platform, ids["c1"], "k1")
        outbox.enqueue_email(
            session,
            platform.vault,
            kind="alert.notification",
            key="k2",
            to_address="oncall@acme.test",
            subject="Alert",
            text="Trust fell in segment Delta",
        )
    with platform.db.reading() as session:
        raw = b"".join(
            bytes(v or b"")
            for row in session.execute(text("SELECT address_enc, content_enc FROM outbox_messages"))
            for v in row
        )
    assert b"incident" not in raw and b"oncall" not in raw and b"Delta" not in raw


def test_erased_and_addressless_customers_are_unreachable_and_postal_letters_exported(
    platform, smtp_server, cli, tmp_path
):
    ids = _customers(
        platform,
        {"external_id": "gone", "email": "gone@example.org"},
        {"external_id": "nomail"},
        {"external_id": "letter", "name": "Bo Ng", "address": "=1 High St, Leeds"},
        {"external_id": "early", "email": "early@example.org"},
    )
    with platform.db.transaction() as session:
        erase(session, platform.vault, "early", actor="test")
    with platform.db.transaction() as session:
        for name in ("gone", "nomail", "letter", "early"):
            _notice(session, platform, ids[name], f"incident:7:{name}", postal_fallback=True)
        erase(session, platform.vault, "gone", actor="test")

    report = outbox.deliver_due(_to_server(platform, smtp_server))
    assert (report.unreachable, report.to_postal, report.sent) == (2, 1, 0)
    assert smtp_server.total == 0
    with platform.db.reading() as session:
        counts = outbox.status_counts(session, key_prefix="incident:7:")
    assert (counts.unreachable, counts["pending"], counts.total) == (3, 1, 4)

    out = tmp_path / "letters.csv"
    done = cli("outbox", "postal-export", "--kind", "incident.notice", "--out", str(out), "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {"exported": 1, "unreachable": 0}
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["customer"], r["name"], r["address"]) for r in rows] == [
        ("letter", "Bo Ng", "'=1 High St, Leeds")
    ]
    again = cli("outbox", "postal-export", "--kind", "incident.notice", "--out", str(out), "--json")
    assert json.loads(again.stdout) == {"exported": 0, "unreachable": 0}
    with platform.db.reading() as session:
        assert outbox.status_counts(session, key_prefix="incident:7:")["handed_over"] == 1


def test_a_refused_recipient_bounces_and_a_temporary_failure_retries_with_backoff_then_dies(
    platform, smtp_server
):
    ids = _customers(
        platform,
        {"external_id": "bad", "email": "bad@example.org"},
        {"external_id": "busy", "email": "busy@example.org"},
    )
    smtp_server.refuse_rcpt["bad@example.org"] = "550 5.1.1 <bad@example.org>: no such user"
    smtp_server.refuse_rcpt["busy@example.org"] = "451 4.3.0 try again later"
    with platform.db.transaction() as session:
        bad = _notice(session, platform, ids["bad"], "n:bad")
        busy = _notice(session, platform, ids["busy"], "n:busy")
    target = _to_server(platform, smtp_server, outbox_max_attempts=3, outbox_backoff_s=60)

    report = outbox.deliver_due(target)
    assert (report.bounced, report.failed) == (1, 1)
    with platform.db.reading() as session:
        b, f = outbox.get_message(session, bad.id), outbox.get_message(session, busy.id)
    assert b.status == "bounced" and b.next_attempt_at is None
    assert "bad@example.org" not in (b.last_error or "") and "550" in (b.last_error or "")
    assert f.status == "failed" and f.attempts == 1
    wait = (f.next_attempt_at - utcnow()).total_seconds()
    assert 25 < wait < 95  # 60 s ± 50 % jitter
    assert outbox.deliver_due(target).claimed == 0  # not due yet

    later = utcnow()
    for _attempt in (2, 3):
        later += timedelta(hours=7)
        report = outbox.deliver_due(target, clock=lambda t=later: t)
        assert report.claimed == 1  # only the temporary failure comes back
    assert report.dead == 1
    with platform.db.reading() as session:
        f = outbox.get_message(session, busy.id)
    assert (f.status, f.attempts, len(f.log)) == ("dead", 3, 3)


def test_a_server_that_is_down_is_retried_and_the_message_goes_out_once_it_is_up(
    platform, smtp_server
):
    from tests.smtp_server import SmtpServer, free_port

    ids = _customers(platform, {"external_id": "c1", "email": "ann@example.org"})
    with platform.db.transaction() as session:
        ref = _notice(session, platform, ids["c1"], "k")
    port = free_port()
    down = dataclasses.replace(
        platform, settings=platform.settings.model_copy(update={"smtp_port": port})
    )
    assert outbox.deliver_due(down).failed == 1
    server = SmtpServer(port=port).start()
    try:
        later = utcnow() + timedelta(hours=1)
        assert outbox.deliver_due(down, clock=lambda: later).sent == 1
        assert server.count_for("ann@example.org") == 1
    finally:
        server.stop()
    with platform.db.reading() as session:
        assert [e.outcome for e in outbox.get_message(session, ref.id).log] == ["failed", "sent"]


def test_a_run_that_died_before_the_final_dot_is_resent_and_one_after_it_is_not(
    platform, smtp_server
):
    ids = _customers(
        platform,
        {"external_id": "before", "email": "before@example.org"},
        {"external_id": "after", "email": "after@example.org"},
    )
    with platform.db.transaction() as session:
        _notice(session, platform, ids["before"], "k:before")
        after = _notice(session, platform, ids["after"], "k:after")
    now = utcnow()
    claims = claim_due(platform.db, now=now, limit=10, lease_s=60, channels=("email",))
    assert len(claims) == 2
    # The dead run had marked "after" committed (its final "." may have reached the server).
    held = mark_committed(
        platform.db, [c for c in claims if c.id == after.id], [], now, max_attempts=8, backoff_s=60
    )
    assert held == {after.id}
    target = _to_server(platform, smtp_server)
    assert outbox.deliver_due(target).claimed == 0  # leases still running
    later = now + timedelta(seconds=61)
    report = outbox.deliver_due(target, clock=lambda: later)
    assert (report.recovered, report.unconfirmed, report.sent) == (1, 1, 1)
    assert smtp_server.counts() == {"before@example.org": 1}
    with platform.db.reading() as session:
        assert outbox.get_message(session, after.id).status == "unconfirmed"


def test_two_runs_at_once_send_every_message_exactly_once(platform, smtp_server, backend):
    import threading

    records = [{"external_id": f"c{i}", "email": f"c{i}@example.org"} for i in range(120)]
    ids = _customers(platform, *records)
    with platform.db.transaction() as session:
        outbox.enqueue_emails(
            session,
            platform.vault,
            [
                outbox.Email("n", f"n:{cid}", "Subject", "Body", customer_id=cid)
                for cid in ids.values()
            ],
        )
    target = _to_server(platform, smtp_server)
    reports = []
    threads = [
        threading.Thread(target=lambda: reports.append(outbox.deliver_due(target, limit=200)))
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.sent for r in reports) == 120
    assert smtp_server.total == 120 and set(smtp_server.counts().values()) == {1}


def test_cli_lists_shows_counts_and_retries_messages(platform, smtp_server, cli, monkeypatch):
    ids = _customers(platform, {"external_id": "bad", "email": "bad@example.org"})
    smtp_server.refuse_rcpt["bad@example.org"] = "550 5.1.1 no such user"
    with platform.db.transaction() as session:
        ref = _notice(session, platform, ids["bad"], "k:bad")
    monkeypatch.setenv("TRUSTDESK_SMTP_PORT", str(smtp_server.port))
    done = cli("outbox", "deliver", "--until-empty", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["bounced"] == 1

    listed = json.loads(cli("outbox", "list", "--json").stdout)
    assert [(m["id"], m["status"], m["recipient"]) for m in listed["items"]] == [
        (ref.id, "bounced", "customer:bad")
    ]
    shown = json.loads(cli("outbox", "show", str(ref.id), "--json").stdout)
    assert shown["log"][0]["code"] == 550
    assert "bad@example.org" not in json.dumps(shown)
    counts = json.loads(cli("outbox", "counts", "--kind", "incident.notice", "--json").stdout)
    assert counts["bounced"] == 1 and counts["total"] == 1

    del smtp_server.refuse_rcpt["bad@example.org"]
    assert cli("outbox", "retry", str(ref.id)).exit_code == 0
    assert json.loads(cli("outbox", "deliver", "--json").stdout)["sent"] == 1
    refused = cli("outbox", "retry", str(ref.id))
    assert refused.exit_code == 4  # sent: a retry would be a second notice
    assert cli("outbox", "show", "999999").exit_code == 3


def test_staff_emails_go_to_their_address(platform, smtp_server, cli, monkeypatch):
    monkeypatch.setenv("TRUSTDESK_SMTP_PORT", str(smtp_server.port))
    assert cli("outbox", "test-email", "--to", "ops@acme.test").exit_code == 0
    assert json.loads(cli("outbox", "deliver", "--json").stdout)["sent"] == 1
    assert smtp_server.count_for("ops@acme.test") == 1


def test_bad_enqueue_input_is_refused_with_nothing_stored(platform):
    from trustdesk.errors import InvalidInput, NotFound

    with platform.db.transaction() as session:
        with pytest.raises(NotFound):
            _notice(session, platform, 424242, "k")
        with pytest.raises(InvalidInput):
            outbox.enqueue_email(session, platform.vault, kind="x", key="k", subject="s", text="t")
        with pytest.raises(InvalidInput):
            outbox.enqueue_email(
                session,
                platform.vault,
                kind="x",
                key="k",
                subject="a\nBcc: x@y",
                text="t",
                to_address="ops@acme.test",
            )
        assert outbox.status_counts(session).total == 0


def test_delivery_logs_no_personal_data(platform, smtp_server, caplog, capsys):
    """Ours: the test's SMTP server (aiosmtpd's `mail.log`) may log what it receives."""
    ids = _customers(platform, {"external_id": "c1", "name": "Zed Quux", "email": "zq@example.org"})
    smtp_server.refuse_rcpt["zq@example.org"] = "451 <zq@example.org> greylisted"
    with platform.db.transaction() as session:
        _notice(session, platform, ids["c1"], "k")
    caplog.set_level(logging.DEBUG)
    outbox.deliver_due(_to_server(platform, smtp_server))
    captured = capsys.readouterr()
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")]
    logged = "\n".join(ours) + captured.out + captured.err
    with platform.db.reading() as session:
        stored = json.dumps(
            [
                list(map(str, r))
                for r in session.execute(select(OutboxMessage.last_error, OutboxMessage.status))
            ]
        )
    for secret in ("zq@example.org", "Zed Quux"):
        assert secret not in logged and secret not in stored


def test_config_show_masks_the_smtp_password(cli, monkeypatch):
    monkeypatch.setenv("TRUSTDESK_SMTP_PASSWORD", "hunter2-smtp")
    monkeypatch.setenv("TRUSTDESK_SMTP_HOST", "smtp.acme.test")
    done = cli("config", "show", "--json")
    assert done.exit_code == 0, done.output
    assert "hunter2-smtp" not in done.stdout
    shown = json.loads(done.stdout)
    assert shown["smtp_host"] == "smtp.acme.test" and shown["smtp_password"] == "********"
