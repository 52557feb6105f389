"""Signed webhooks against a real local HTTP server, and the local mailbox the demo uses."""

from __future__ import annotations

import json
import smtplib
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from trustdesk.db import utcnow
from trustdesk.outbox import public as outbox
from trustdesk.outbox.mailbox import list_mail, start_mailbox


class Receiver:
    """A real HTTP server answering each POST with the next code in `codes` (then 200)."""

    def __init__(self, codes: list[int]) -> None:
        self.codes = list(codes)
        self.requests: list[tuple[Any, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.headers, body))
                self.send_response(receiver.codes.pop(0) if receiver.codes else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(codes: list[int]) -> Receiver:
        made.append(Receiver(codes))
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_a_webhook_is_signed_slack_compatible_and_retried_until_it_lands(platform, receiver):
    hook = receiver([503])
    with platform.db.transaction() as session:
        _, secret = outbox.register_webhook_endpoint(
            session, platform.vault, name="ops-slack", url=hook.url
        )
        ref = outbox.enqueue_webhook(
            session,
            platform.vault,
            kind="alert.notification",
            key="alert:17",
            endpoint="ops-slack",
            text="Trust fell in segment Delta",
            fields={"segment": "Delta", "severity": "high"},
        )
    first = outbox.deliver_due(platform)
    assert first.failed == 1
    later = utcnow() + timedelta(hours=7)
    assert outbox.deliver_due(platform, clock=lambda: later).sent == 1
    assert len(hook.requests) == 2
    headers, body = hook.requests[-1]
    payload = json.loads(body)
    assert payload["text"] == "Trust fell in segment Delta"
    assert payload["fields"] == {"segment": "Delta", "severity": "high"}
    assert headers["X-TrustDesk-Delivery"] == hook.requests[0][0]["X-TrustDesk-Delivery"]
    stamp = int(headers["X-TrustDesk-Timestamp"])
    assert outbox.verify_webhook_signature(secret, stamp, body, headers["X-TrustDesk-Signature"])
    assert not outbox.verify_webhook_signature(
        "another-secret-123", stamp, body, headers["X-TrustDesk-Signature"]
    )
    with platform.db.reading() as session:
        shown = outbox.get_message(session, ref.id)
    assert [(e.outcome, e.code) for e in shown.log] == [("failed", 503), ("sent", 200)]


def test_a_webhook_refused_with_a_client_error_is_not_retried(platform, receiver):
    hook = receiver([410])
    with platform.db.transaction() as session:
        outbox.register_webhook_endpoint(session, platform.vault, name="old", url=hook.url)
        outbox.enqueue_webhook(
            session, platform.vault, kind="alert.notification", key="a:1", endpoint="old", text="x"
        )
    assert outbox.deliver_due(platform).bounced == 1
    later = utcnow() + timedelta(days=1)
    assert outbox.deliver_due(platform, clock=lambda: later).claimed == 0


def test_an_unknown_endpoint_is_refused(platform):
    from trustdesk.errors import NotFound

    with platform.db.transaction() as session, pytest.raises(NotFound):
        outbox.enqueue_webhook(
            session, platform.vault, kind="k", key="a", endpoint="nowhere", text="x"
        )


def test_the_mailbox_keeps_what_the_outbox_sends_and_lists_it(platform, cli, tmp_path, monkeypatch):
    from tests.smtp_server import free_port

    port = free_port()
    folder = tmp_path / "mailbox"
    controller = start_mailbox(folder, "127.0.0.1", port)
    try:
        monkeypatch.setenv("TRUSTDESK_SMTP_PORT", str(port))
        assert cli("outbox", "test-email", "--to", "ops@acme.test").exit_code == 0
        assert json.loads(cli("outbox", "deliver", "--json").stdout)["sent"] == 1
    finally:
        controller.stop()
    mails = list_mail(folder)
    assert [(m.to, m.subject) for m in mails] == [("ops@acme.test", "TrustDesk outbox test")]
    listed = json.loads(cli("mailbox", "list", "--dir", str(folder), "--json").stdout)
    assert listed[0]["subject"] == "TrustDesk outbox test"
    assert all(p.stat().st_mode & 0o077 == 0 for p in folder.iterdir())


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_mailbox_serve_runs_as_a_command(tmp_path, settings):
    from tests.smtp_server import free_port

    port = free_port()
    folder = tmp_path / "box"
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "trustdesk"),
            "mailbox",
            "serve",
            "--port",
            str(port),
            "--dir",
            str(folder),
        ],
        env={"PATH": "/usr/bin:/bin", "TRUSTDESK_DATA_DIR": str(settings.data_dir)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
                    smtp.sendmail("a@acme.test", ["b@acme.test"], b"Subject: hello\r\n\r\nbody\r\n")
                break
            except OSError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert [m.subject for m in list_mail(folder)] == ["hello"]


def test_the_mailbox_fixture_counts_per_recipient(smtp_server, platform):
    del platform
    with smtplib.SMTP("127.0.0.1", smtp_server.port) as smtp:
        smtp.sendmail("a@acme.test", ["x@acme.test", "y@acme.test"], b"Subject: s\r\n\r\nb\r\n")
    assert smtp_server.counts() == {"x@acme.test": 1, "y@acme.test": 1}
