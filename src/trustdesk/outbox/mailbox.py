"""A local mailbox: an SMTP server (aiosmtpd) that keeps every message it is given as an .eml
file, for the demo and for trying the outbox by hand. Not a mail server for production: it
accepts any sender and recipient and never relays."""

from __future__ import annotations

import email
import email.policy
import logging
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trustdesk.private_files import private_dir, write_private

__all__ = ["MailboxHandler", "StoredMail", "list_mail", "start_mailbox"]


class MailboxHandler:
    """aiosmtpd handler: each accepted message becomes `<dir>/<time>-<random>.eml` (owner-only:
    the messages hold personal data), written under a temporary name and renamed into place."""

    def __init__(self, directory: Path) -> None:
        self.directory = private_dir(directory)
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        name = f"{time.time_ns()}-{secrets.token_hex(4)}"
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        header = f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n".encode()
        temp = write_private(self.directory / f".{name}.tmp", header + data)
        temp.replace(self.directory / f"{name}.eml")
        self.count += 1
        return f"250 2.0.0 Ok: queued as {name}"


def start_mailbox(directory: Path, host: str, port: int) -> Any:
    """Start the server in a thread of its own; returns the aiosmtpd Controller (`.stop()`)."""
    from aiosmtpd.controller import Controller

    # aiosmtpd logs every envelope address at INFO: personal data stays out of the logs.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    controller = Controller(MailboxHandler(directory), hostname=host, port=port)
    controller.start()
    return controller


@dataclass(frozen=True)
class StoredMail:
    file: str
    to: str
    sender: str
    subject: str
    date: str
    message_id: str


def list_mail(directory: Path, *, limit: int = 50) -> list[StoredMail]:
    """The newest `limit` messages in the mailbox, newest first."""
    if not directory.is_dir():
        return []
    files = sorted(directory.glob("*.eml"), reverse=True)[:limit]
    found = []
    for path in files:
        with path.open("rb") as fh:
            msg = email.message_from_binary_file(fh, policy=email.policy.default)
        found.append(
            StoredMail(
                file=path.name,
                to=str(msg.get("To", "")),
                sender=str(msg.get("From", "")),
                subject=str(msg.get("Subject", "")),
                date=str(msg.get("Date", "")),
                message_id=str(msg.get("Message-ID", "")),
            )
        )
    return found
