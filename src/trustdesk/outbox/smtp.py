"""SMTP in two phases: everything up to the final "." of DATA, then the "." itself.

`smtplib.SMTP.sendmail` writes the body and its terminating "." in one go. The outbox needs a
durable mark between the two (see claims.mark_committed): before the mark the server cannot have
accepted the message (a connection that drops mid-DATA delivers nothing); after it, the message
is never resent automatically. Connections are reused for many messages.
"""

from __future__ import annotations

import binascii
import contextlib
import hashlib
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from typing import Any

from trustdesk.outbox.content import redact

__all__ = [
    "Envelope",
    "SmtpConfig",
    "SmtpConnection",
    "SmtpRefused",
    "build_email",
    "prepare_all",
]

_QUEUED_AS = re.compile(r"(?:queued as|\bid[=:])\s*<?([A-Za-z0-9._-]{1,200})", re.IGNORECASE)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str  # none | starttls | tls
    username: str | None
    password: str | None
    from_address: str
    timeout_s: float


@dataclass(frozen=True)
class Envelope:
    sender: str
    recipient: str
    data: bytes


class SmtpRefused(Exception):
    """The server answered a command with an error. `permanent`: a 5xx (the message bounces)."""

    def __init__(self, code: int, reply: bytes | str, stage: str) -> None:
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
        super().__init__(f"{code} {redact(text)}")
        self.code = code
        self.stage = stage  # mail | rcpt | data
        self.permanent = 500 <= code < 600
        self.detail = f"{code} {redact(text)}"


def _header(value: str) -> str:
    """One header value: CR/LF can never start another header; non-ASCII is RFC 2047."""
    value = " ".join(value.splitlines())
    return value if value.isascii() else Header(value, "utf-8").encode()


def _address(value: str) -> str:
    name, address = parseaddr(" ".join(value.splitlines()))
    return formataddr((name, address), charset="utf-8") if name else address


def _part(content_type: str, body: str) -> bytes:
    encoded = binascii.b2a_qp(body.replace("\r\n", "\n").encode("utf-8"), header=False)
    return (
        f'Content-Type: {content_type}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    ).encode() + encoded.replace(b"\n", b"\r\n")


def build_email(
    *, from_address: str, to: str, subject: str, text: str, html: str | None, message_id: str
) -> bytes:
    """A MIME message (text, or text and HTML alternatives), quoted-printable UTF-8.

    Built directly rather than with `email.message.EmailMessage`, which costs more than the
    whole SMTP conversation on a local server; tests parse the result with the `email` package.
    """
    head = (
        f"From: {_address(from_address)}\r\n"
        f"To: {_address(to)}\r\n"
        f"Subject: {_header(subject)}\r\n"
        f"Date: {formatdate(usegmt=True)}\r\n"
        f"Message-ID: {_header(message_id)}\r\n"
        "MIME-Version: 1.0\r\n"
    ).encode()
    if not html:
        return head + _part("text/plain", text)
    boundary = "=_" + hashlib.sha256(message_id.encode()).hexdigest()[:24]
    return (
        head
        + f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n'.encode()
        + f"--{boundary}\r\n".encode()
        + _part("text/plain", text)
        + f"\r\n--{boundary}\r\n".encode()
        + _part("text/html", html)
        + f"\r\n--{boundary}--\r\n".encode()
    )


def _quote(data: bytes) -> bytes:
    """Dot-stuffed body with CRLF line ends, ending in CRLF (without the final ".")."""
    quoted = smtplib.quotedata(data.decode("latin-1")).encode("latin-1")
    return quoted if quoted.endswith(b"\r\n") else quoted + b"\r\n"


class SmtpConnection:
    """One SMTP session reused for many messages, opened on first use and after a drop."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        c = self.config
        smtp: smtplib.SMTP
        if c.security == "tls":
            smtp = smtplib.SMTP_SSL(
                c.host, c.port, timeout=c.timeout_s, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout_s)
        smtp.ehlo()
        if c.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if c.username:
            smtp.login(c.username, c.password or "")
        # The final "." goes out alone, after a commit: it must not wait for the body's ACK.
        if smtp.sock is not None:
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return smtp

    @property
    def smtp(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = self._open()
        return self._smtp

    def abandon(self) -> None:
        """Give up a prepared message: closing mid-DATA makes the server discard it."""
        self.drop()

    def write_end(self) -> None:
        """Write the final "." (the server may accept the message from here on)."""
        self.smtp.send(b".\r\n")

    def read_end(self) -> tuple[int, str]:
        """The server's answer to the final "." (code, redacted text)."""
        code, reply = self.smtp.getreply()
        return code, redact(reply.decode("utf-8", "replace"))

    def reset(self) -> None:
        try:
            self.smtp.rset()
        except (OSError, smtplib.SMTPException):
            self.drop()

    def drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            with contextlib.suppress(OSError):
                smtp.close()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


_STEPS = (("mail", (250,)), ("rcpt", (250, 251)), ("data", (354,)))


def prepare_all(items: list[tuple[SmtpConnection, Envelope]]) -> list[BaseException | None]:
    """MAIL, RCPT, DATA and the body (everything but the final ".") on several connections in
    lockstep, so their round trips overlap. Per item: None when prepared, SmtpRefused on an
    error reply (that session is reset), or the exception that broke its connection (dropped).
    """
    errors: list[BaseException | None] = [None] * len(items)
    for step, expected in _STEPS:
        for i, (connection, envelope) in enumerate(items):
            if errors[i] is None:
                try:
                    if step == "mail":
                        arg = f"FROM:{smtplib.quoteaddr(envelope.sender)}"
                    elif step == "rcpt":
                        arg = f"TO:{smtplib.quoteaddr(envelope.recipient)}"
                    else:
                        arg = ""
                    connection.smtp.putcmd(step, arg)
                except (OSError, smtplib.SMTPException) as exc:
                    errors[i] = exc
                    connection.drop()
        for i, (connection, _) in enumerate(items):
            if errors[i] is None:
                try:
                    code, reply = connection.smtp.getreply()
                except (OSError, smtplib.SMTPException) as exc:
                    errors[i] = exc
                    connection.drop()
                    continue
                if code not in expected:
                    errors[i] = SmtpRefused(code, reply, step)
    for i, (connection, envelope) in enumerate(items):
        if errors[i] is None:
            try:
                connection.smtp.send(_quote(envelope.data))
            except (OSError, smtplib.SMTPException) as exc:
                errors[i] = exc
                connection.drop()
        elif isinstance(errors[i], SmtpRefused):
            connection.reset()
    return errors


def provider_id(reply: str) -> str | None:
    """The server's queue id from a 250 reply ("250 2.0.0 Ok: queued as 4F2A1"), if it says."""
    match = _QUEUED_AS.search(reply)
    return match.group(1)[:255] if match else None


def error_text(exc: BaseException) -> str:
    return redact(f"{type(exc).__name__}: {exc}")


def config_from(settings: Any) -> SmtpConfig:
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        from_address=settings.smtp_from,
        timeout_s=settings.smtp_timeout_s,
    )
