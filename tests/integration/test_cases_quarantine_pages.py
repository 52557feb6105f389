"""Quarantined inbound mail on staff pages: listed for every case reader, released as a case
(with a reply address given by the agent) or discarded by an agent, audited; a case's attachments
listed on its page and downloaded (never shown inline) by roles that read personal data."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from sqlalchemy import select
from tests.integration.test_incident_pages import login, token_of

from trustdesk.access.roles import Role
from trustdesk.audit.chain import AuditEntry
from trustdesk.cases.inbound import discard, ingest_mail, release
from trustdesk.cases.models import Case, CaseMessage
from trustdesk.cases.routing import keyword_classifier


def _mail(sender: str | None, message_id: str, subject: str = "My card was stolen") -> bytes:
    msg = EmailMessage()
    if sender:
        msg["From"] = f"Ada <{sender}>"
    msg["To"] = "support@acme.test"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg.set_content("My card was stolen yesterday and someone used it.")
    msg.add_attachment(b"%PDF-1.4 statement", maintype="application", subtype="pdf",
                       filename="statement.pdf")  # fmt: skip
    return bytes(msg)


def _ingest(platform, raw: bytes) -> int:
    with platform.db.transaction() as session:
        result = ingest_mail(session, platform.vault, raw, classify=keyword_classifier)
    return result.message_row


def test_an_agent_releases_or_discards_quarantined_mail(client, platform):
    held = _ingest(platform, _mail(None, "<no-sender-1@x>"))
    spam = _ingest(platform, _mail(None, "<no-sender-2@x>", subject="Cheap pills"))
    login(client, platform, "viewer1", Role.VIEWER)
    page = client.get("/cases/quarantine")
    assert page.status_code == 200 and f"#{held}" in page.text and "no sender address" in page.text
    assert "Release as a case" not in page.text  # a viewer only sees the list
    assert client.post(f"/cases/quarantine/{held}/discard").status_code in (403, 422)

    login(client, platform, "agent1", Role.AGENT)
    token = token_of(client, "/cases/quarantine")
    bad = client.post(
        f"/cases/quarantine/{held}/release", data={"sender": "not an address", "csrf_token": token}
    )
    assert bad.status_code == 422
    released = client.post(
        f"/cases/quarantine/{held}/release",
        data={"sender": "ada@example.com", "csrf_token": token},
        follow_redirects=False,
    )
    assert released.status_code == 303, released.text
    case_page = client.get(released.headers["location"])
    assert "My card was stolen" in case_page.text and "statement.pdf" in case_page.text
    discarded = client.post(f"/cases/quarantine/{spam}/discard", data={"csrf_token": token})
    assert discarded.status_code == 200 and "discarded" in discarded.text
    assert "No message is waiting" in client.get("/cases/quarantine").text
    again = client.post(f"/cases/quarantine/{spam}/discard", data={"csrf_token": token})
    assert again.status_code == 404

    with platform.db.reading() as session:
        (case,) = session.scalars(select(Case)).all()
        rows = {r.id: r for r in session.scalars(select(CaseMessage))}
        actions = set(session.scalars(select(AuditEntry.action)))
    assert case.channel == "email" and case.contact_id is not None
    assert rows[held].status == "opened" and rows[held].case_id == case.id
    assert rows[spam].status == "discarded" and rows[spam].raw_enc is None
    assert rows[held].raw_enc is None
    # Their keys are destroyed too, so a copy in a backup taken before is unreadable.
    assert platform.vault.is_destroyed(rows[held].key_subject)
    assert platform.vault.is_destroyed(rows[spam].key_subject)
    assert {"case_message.released", "case_message.discarded"} <= actions
    # The same message delivered again is not taken again.
    assert _ingest(platform, _mail(None, "<no-sender-2@x>")) == spam


def test_a_discard_that_rolls_back_keeps_the_message_and_its_key(platform):
    held = _ingest(platform, _mail(None, "<no-sender-3@x>"))
    with pytest.raises(RuntimeError), platform.db.transaction() as session:
        discard(session, platform.vault, held, actor="agent")
        raise RuntimeError("the request failed after the discard")
    with platform.db.reading() as session:
        row = session.get(CaseMessage, held)
        assert row is not None and row.status == "quarantined" and row.raw_enc is not None
        subject = row.key_subject
    assert not platform.vault.is_destroyed(subject)
    with platform.db.transaction() as session:
        case_id = release(
            session, platform.vault, held, sender="ada@example.com",
            classify=keyword_classifier, actor="agent",
        )  # fmt: skip
    assert case_id and platform.vault.is_destroyed(subject)


def test_attachments_are_listed_and_downloaded_never_inline(client, platform):
    _ingest(platform, _mail("ada@example.com", "<with-file@x>"))
    with platform.db.reading() as session:
        case_id = session.scalar(select(Case.id))
    login(client, platform, "agent2", Role.AGENT)
    page = client.get(f"/cases/{case_id}")
    assert 'id="attachments"' in page.text and "statement.pdf" in page.text
    href = f"/cases/{case_id}/attachments/1"
    assert href in page.text
    got = client.get(href)
    assert got.status_code == 200 and got.content == b"%PDF-1.4 statement"
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert client.get(f"/cases/{case_id}/attachments/99").status_code == 404

    login(client, platform, "viewer2", Role.VIEWER)
    masked = client.get(f"/cases/{case_id}")
    assert "statement.pdf" not in masked.text and "name masked" in masked.text
    assert client.get(href).status_code in (403, 404)
