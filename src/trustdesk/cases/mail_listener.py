"""The inbound SMTP listener (aiosmtpd): point the support address's mail at it (an MX, or a
forwarding rule of the mail provider) and each message becomes a case or a reply on its case.

Answers: 250 once the message is stored (committed), 552 when refused (too large: the sender's
server keeps the message and tells the sender), 451 on a temporary failure (the sender's server
retries; delivery is idempotent on the Message-ID)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from trustdesk.cases.errors import MessageRefused
from trustdesk.cases.inbound import MAX_MESSAGE_BYTES, InboundResult, ingest_mail
from trustdesk.cases.routing import Classifier, classifier_for
from trustdesk.platform import Platform

__all__ = ["InboundHandler", "start_listener"]

log = logging.getLogger(__name__)


class InboundHandler:
    def __init__(self, platform: Platform, classify: Classifier) -> None:
        self.platform = platform
        self.classify = classify
        self.results: list[InboundResult] = []

    def _ingest(self, data: bytes, mail_from: str | None) -> InboundResult:
        with self.platform.db.transaction() as session:
            return ingest_mail(
                session,
                self.platform.vault,
                data,
                classify=self.classify,
                actor="email",
                envelope_from=mail_from,
            )

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8")
        try:
            result = await asyncio.to_thread(self._ingest, data, envelope.mail_from)
        except MessageRefused as exc:
            return f"552 5.3.4 {exc.detail}"
        except Exception as exc:
            log.warning("inbound message not stored: %s", type(exc).__name__)
            return "451 4.3.0 Temporary failure, please retry"
        self.results.append(result)
        return f"250 2.0.0 Ok: {result.outcome}"


def start_listener(platform: Platform, host: str, port: int) -> Any:
    """Start the listener in a thread of its own; returns the aiosmtpd Controller (`.stop()`,
    `.handler.results`)."""
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # envelope addresses are personal
    controller = Controller(
        InboundHandler(platform, classifier_for(platform.settings)),
        hostname=host,
        port=port,
        data_size_limit=MAX_MESSAGE_BYTES,
    )
    controller.start()
    return controller
