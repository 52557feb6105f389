"""Pure parts of the outbox: the MIME it sends, what it stores of a server's reply, the backoff,
webhook signatures."""

from __future__ import annotations

import email
import email.policy

from hypothesis import given, settings
from hypothesis import strategies as st

from trustdesk.outbox.claims import backoff
from trustdesk.outbox.content import message_id_for, redact
from trustdesk.outbox.smtp import _quote, build_email, provider_id
from trustdesk.outbox.webhooks import payload, sign, verify

_line = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=80
).filter(lambda s: s.strip() == s and s)
_body = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"),
    max_size=2000,
)


@settings(deadline=None, max_examples=150)
@given(subject=_line, text=_body, name=_line, html=st.none() | _body.filter(bool))
def test_any_subject_and_text_arrive_as_written(subject, text, name, html):
    data = build_email(
        from_address="Acme Trust <trust@acme.test>",
        to=(name, "ann@example.org"),
        subject=subject,
        text=text,
        html=html,
        message_id=message_id_for("k", "acme.test"),
    )
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert msg["Subject"] == subject
    assert msg["To"].addresses[0].addr_spec == "ann@example.org"
    assert msg["To"].addresses[0].display_name == name
    plain = msg.get_body(("plain",))
    assert plain.get_content().replace("\r\n", "\n") == text.replace("\r\n", "\n")
    if html:
        assert msg.get_body(("html",)).get_content().replace("\r\n", "\n") == html
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))


def test_a_header_value_cannot_start_another_header():
    data = build_email(
        from_address="a@acme.test", to=("X\r\nBcc: evil@example.org", "x@example.org"), subject="hi\r\nBcc: evil@example.org",
        text="t", html=None, message_id="<1@acme.test>",
    )  # fmt: skip
    assert b"\r\nBcc:" not in data


def test_dot_stuffing_keeps_a_line_with_a_lone_dot_from_ending_the_message():
    assert _quote(b"a\n.\nb") == b"a\r\n..\r\nb\r\n"


def test_stored_replies_name_no_address_and_the_queue_id_is_kept():
    assert redact("550 5.1.1 <ann.lee@example.org>: Recipient address rejected") == (
        "550 5.1.1 <<address>>: Recipient address rejected"
    )
    assert provider_id("2.0.0 Ok: queued as 4F2A1B") == "4F2A1B"
    assert provider_id("2.0.0 OK id=1rXyZ-0003") == "1rXyZ-0003"
    assert provider_id("OK") is None


def test_the_message_id_is_the_same_for_every_attempt_and_differs_between_messages():
    assert message_id_for("incident:1:7", "acme.test") == message_id_for(
        "incident:1:7", "acme.test"
    )
    assert message_id_for("incident:1:7", "acme.test") != message_id_for(
        "incident:1:8", "acme.test"
    )


@given(attempts=st.integers(1, 40), base=st.floats(1, 3600))
def test_backoff_doubles_within_its_jitter_and_never_exceeds_nine_hours(attempts, base):
    wait = backoff(attempts, base)
    nominal = min(base * 2 ** (attempts - 1), 6 * 3600)
    assert 0.5 * nominal <= wait <= 1.5 * nominal


def test_a_webhook_signature_covers_the_timestamp_and_the_body():
    body = payload(kind="alert", message_id="outbox-1", text="hi", fields={"a": "b"})
    sig = sign("s3cret-s3cret-s3cret", 1700000000, body)
    assert verify("s3cret-s3cret-s3cret", 1700000000, body, sig)
    assert not verify("s3cret-s3cret-s3cret", 1700000001, body, sig)
    assert not verify("s3cret-s3cret-s3cret", 1700000000, body + b" ", sig)
