"""Inbound email through a real SMTP delivery to the listener: a message opens a case, the
customer's answer to our reply threads onto it, redelivery changes nothing, attachments are
stored encrypted, bad mail is refused (552) or quarantined, never lost."""

from __future__ import annotations

import dataclasses
import smtplib
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.smtp_server import free_port

from trustdesk.cases import service
from trustdesk.cases.mail_listener import start_listener
from trustdesk.cases.models import Case, CaseAttachment, CaseMessage
from trustdesk.outbox import public as outbox

CUSTOMERS = "external_id,name,email,phone,segment,jurisdiction\nc1,Ada Lovelace,ada@example.com,,retail,GB\n"


@pytest.fixture
def customers(cli, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")
    assert cli("customers", "import", str(path)).exit_code == 0


@pytest.fixture
def listener(platform):
    controller = start_listener(platform, "127.0.0.1", free_port())
    yield controller
    controller.stop()


def _mail(
    sender: str | None,
    message_id: str | None,
    subject: str = "My card was stolen",
    body: str = "My card was stolen yesterday and someone used it.",
    **headers: str,
) -> EmailMessage:
    msg = EmailMessage()
    if sender:
        msg["From"] = f"Ada <{sender}>"
    msg["To"] = "support@acme.test"
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def _send(listener, msg: EmailMessage, envelope_from: str = "ada@example.com") -> None:
    with smtplib.SMTP(listener.hostname, listener.port, timeout=30) as smtp:
        smtp.send_message(msg, from_addr=envelope_from, to_addrs=["support@acme.test"])


def _cases(platform) -> list[Case]:
    with platform.db.reading() as session:
        return list(session.scalars(select(Case).order_by(Case.id)))


def test_mail_opens_a_case_for_the_known_customer_with_encrypted_attachments(
    platform, listener, customers
):
    msg = _mail("ada@example.com", "<m1@mail.example.com>")
    pdf = b"%PDF-1.4 statement of account 4929 1234 5678 9012"
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="statement.pdf")
    _send(listener, msg)
    _send(listener, msg)  # delivered twice by the sender's server: still one case

    (case,) = _cases(platform)
    assert case.channel == "email" and case.external_id == "<m1@mail.example.com>"
    with platform.db.reading() as session:
        detail = service.get_case(session, platform.vault, case.id, reveal=True)
        (attachment,) = session.scalars(select(CaseAttachment)).all()
        files = service.attachments(session, platform.vault, case.id, with_data=True)
    assert detail.customer == "c1"  # matched through the email blind index
    assert detail.subject == "My card was stolen" and "yesterday" in (detail.body or "")
    assert attachment.size == len(pdf) and attachment.content_type == "application/pdf"
    assert b"statement" not in (attachment.filename_enc or b"")
    assert b"4929" not in (attachment.data_enc or b"") and b"4929" not in case.body_enc
    assert [(f.filename, f.data) for f in files] == [("statement.pdf", pdf)]
    assert [r.outcome for r in listener.handler.results] == ["opened", "duplicate"]


def test_the_customers_answer_to_our_reply_threads_onto_the_case(
    platform, listener, customers, smtp_server, api
):
    _send(listener, _mail("ada@example.com", "<first@mail.example.com>"))
    (case,) = _cases(platform)
    assert (
        api.post(f"/api/v1/cases/{case.id}/replies", json={"text": "Which card?"}).status_code
        == 200
    )
    assert (
        api.post(
            f"/api/v1/cases/{case.id}/status", json={"status": "waiting_on_customer"}
        ).status_code
        == 200
    )
    settings = platform.settings.model_copy(
        update={"smtp_port": smtp_server.port, "smtp_from": "Acme <support@acme.test>"}
    )
    outbox.deliver_due(dataclasses.replace(platform, settings=settings), until_empty=True)
    (sent,) = smtp_server.messages
    our_id = str(sent.parsed()["Message-ID"])

    answer = _mail(
        "ada@example.com",
        "<second@mail.example.com>",
        subject="Re: My card was stolen",
        body="The Visa ending 9012.",
        In_Reply_To=our_id,
        References=f"<first@mail.example.com> {our_id}",
    )
    _send(listener, answer)

    assert len(_cases(platform)) == 1  # threaded, not a new case
    with platform.db.reading() as session:
        detail = service.get_case(session, platform.vault, case.id, reveal=True)
    kinds = [e.kind for e in detail.events]
    assert "customer_message" in kinds
    assert detail.status == "open"  # the customer answered: the clocks run again
    assert any(e.text == "The Visa ending 9012." for e in detail.events)

    # An answer after the case was resolved reopens it.
    assert (
        api.post(f"/api/v1/cases/{case.id}/status", json={"status": "resolved"}).status_code == 200
    )
    _send(
        listener,
        _mail(
            "ada@example.com", "<third@mail.example.com>", body="Still charged!", References=our_id
        ),
    )
    assert _cases(platform)[0].status == "reopened"


def test_an_unknown_sender_becomes_a_contact_and_html_mail_is_read(platform, listener):
    msg = EmailMessage()
    msg["From"] = "stranger@example.org"
    msg["Subject"] = "Fees"
    msg["Message-ID"] = "<h1@example.org>"
    msg.set_content("<p>You charged me a <b>fee</b> twice</p>", subtype="html")
    _send(listener, msg, envelope_from="stranger@example.org")
    (case,) = _cases(platform)
    assert case.customer_id is None and case.contact_id is not None
    with platform.db.reading() as session:
        body = service.get_case(session, platform.vault, case.id, reveal=True).body
    assert body is not None and "fee" in body and "<b>" not in body


def test_mail_without_a_sender_is_quarantined_not_lost(platform, listener, cli):
    _send(listener, _mail(None, "<nosender@x>"), envelope_from="")
    assert _cases(platform) == []
    with platform.db.reading() as session:
        (row,) = session.scalars(select(CaseMessage)).all()
    assert row.status == "quarantined" and row.reason == "no sender address"
    assert row.raw_enc is not None and b"stolen" not in row.raw_enc
    shown = cli("cases", "quarantine", "--json")
    assert shown.exit_code == 0 and "no sender address" in shown.stdout


def test_oversized_mail_is_refused_with_552_and_nothing_is_stored(platform, listener):
    big = _mail("ada@example.com", "<big@x>")
    big.add_attachment(
        b"\0" * (11 * 2**20), maintype="application", subtype="zip", filename="a.zip"
    )
    with pytest.raises(smtplib.SMTPDataError) as refused:
        _send(listener, big)
    assert refused.value.smtp_code == 552 and b"attachment 1" in refused.value.smtp_error
    huge = _mail("ada@example.com", "<huge@x>", body="x" * (30 * 2**20))
    with pytest.raises(smtplib.SMTPException) as too_large:
        _send(listener, huge)
    assert "552" in str(too_large.value)
    with platform.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(CaseMessage)) == 0
    assert _cases(platform) == []


def test_mail_ingest_takes_saved_messages_idempotently(platform, cli, tmp_path):
    path = tmp_path / "m.eml"
    path.write_bytes(bytes(_mail("someone@example.net", "<eml-1@example.net>")))
    first = cli("cases", "mail-ingest", str(path), "--json")
    again = cli("cases", "mail-ingest", str(path), "--json")
    assert first.exit_code == 0 and '"opened"' in first.stdout
    assert again.exit_code == 0 and '"duplicate"' in again.stdout
    assert len(_cases(platform)) == 1
