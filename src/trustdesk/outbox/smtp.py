"""SMTP in two phases: everything up to the final "." of DATA, then the "." itself.

`smtplib.SMTP.sendmail` writes the body and its terminating "." in one go. The outbox needs a
durable mark between the two (see claims.mark_committed): before the mark the server cannot have
accepted the message (a connection that drops mid-DATA delivers nothing); after it, the message
is never resent automatically. Connections are reused for many messages.
"""

from __future__ import annotations

import contextlib
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from trustdesk.outbox.content import redact

__all__ = ["Envelope", "Prepared", "SmtpConfig", "SmtpConnection", "SmtpRefused", "build_email"]

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


def build_email(
    *, from_address: str, to: str, subject: str, text: str, html: str | None, message_id: str
) -> bytes:
    msg = EmailMessage()
    msg["From"] = from_address
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = message_id
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


def _quote(data: bytes) -> bytes:
    """Dot-stuffed body with CRLF line ends, ending in CRLF (without the final ".")."""
    quoted = smtplib.quotedata(data.decode("latin-1")).encode("latin-1")
    return quoted if quoted.endswith(b"\r\n") else quoted + b"\r\n"


@dataclass
class Prepared:
    """A message whose DATA is written up to (not including) its final "."."""

    connection: SmtpConnection


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
        return smtp

    @property
    def smtp(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = self._open()
        return self._smtp

    def prepare(self, envelope: Envelope) -> Prepared:
        """MAIL, RCPT, DATA and the body. SmtpRefused on an error reply (the session is reset);
        OSError / SMTPException when the connection fails (it is dropped)."""
        try:
            smtp = self.smtp
            code, reply = smtp.mail(envelope.sender)
            if code != 250:
                self._reset()
                raise SmtpRefused(code, reply, "mail")
            code, reply = smtp.rcpt(envelope.recipient)
            if code not in (250, 251):
                self._reset()
                raise SmtpRefused(code, reply, "rcpt")
            smtp.putcmd("data")
            code, reply = smtp.getreply()
            if code != 354:
                self._reset()
                raise SmtpRefused(code, reply, "data")
            smtp.send(_quote(envelope.data))
        except SmtpRefused:
            raise
        except (OSError, smtplib.SMTPException):
            self.drop()
            raise
        return Prepared(self)

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

    def _reset(self) -> None:
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
