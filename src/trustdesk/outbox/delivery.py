"""Delivery runs: recover what a dead run left, claim due messages, send them, record outcomes.

Email goes out over a few reused SMTP connections in rounds: each connection is given one
message up to the final "." of DATA, one commit marks the round's messages as committed, the
final dots are written and the replies read; the round's outcomes are recorded in the next
round's commit (or at the end). A run killed at any point therefore never sends a message twice:
before the mark the server has no complete message and it is resent; after it the message is
`sent` or, if the run died before recording the reply, `unconfirmed`. See docs/outbox.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import formataddr, parseaddr

from sqlalchemy import select

from trustdesk import audit
from trustdesk.crypto import KeyDestroyed
from trustdesk.customers.public import contacts
from trustdesk.db import utcnow
from trustdesk.outbox import smtp, webhooks
from trustdesk.outbox.claims import Claim, Outcome, claim_due, mark_committed, record, recover_stale
from trustdesk.outbox.content import (
    Content,
    from_domain,
    message_id_for,
    open_address,
    open_content,
)
from trustdesk.outbox.models import WebhookEndpoint
from trustdesk.outbox.schemas import DeliveryReport
from trustdesk.platform import Platform

__all__ = ["deliver_due"]

log = logging.getLogger(__name__)

_CLAIM_BATCH = 500


@dataclass
class _Ready:
    claim: Claim
    envelope: smtp.Envelope
    message_id: str


def deliver_due(
    platform: Platform,
    *,
    limit: int = 1000,
    until_empty: bool = False,
    clock: Callable[[], datetime] = utcnow,
) -> DeliveryReport:
    """Send up to `limit` due messages (all that are due with `until_empty`) and report what
    happened. Safe to run in several processes at once; a run killed with -9 loses nothing and
    duplicates nothing (a message whose final "." may have reached the server is `unconfirmed`)."""
    started = time.monotonic()
    settings = platform.settings
    settle = {"max_attempts": settings.outbox_max_attempts, "backoff_s": settings.outbox_backoff_s}
    report = DeliveryReport()
    report.recovered, report.unconfirmed = recover_stale(platform.db, clock())
    sender = _EmailSender(platform, settle, clock, report)
    try:
        while until_empty or report.claimed < limit:
            want = _CLAIM_BATCH if until_empty else min(_CLAIM_BATCH, limit - report.claimed)
            claims = claim_due(
                platform.db,
                now=clock(),
                limit=want,
                lease_s=settings.outbox_lease_s,
                channels=("email", "webhook"),
            )
            if not claims:
                break
            report.claimed += len(claims)
            sender.send([c for c in claims if c.channel == "email"])
            _send_webhooks(
                platform, [c for c in claims if c.channel == "webhook"], settle, clock, report
            )
    finally:
        sender.close()
    report.seconds = round(time.monotonic() - started, 3)
    if report.claimed or report.recovered or report.unconfirmed:
        with platform.db.transaction() as session:
            audit.record(
                session,
                actor="outbox",
                action="outbox.delivery_run",
                entity_type="outbox_run",
                entity_id=clock().isoformat(timespec="seconds"),
                changes=report.model_dump(exclude={"seconds"}),
            )
    log.info("outbox delivery run", extra={"report": report.model_dump()})
    return report


def _count(report: DeliveryReport, outcomes: list[Outcome], max_attempts: int) -> None:
    for o in outcomes:
        if o.status == "failed" and o.claim.attempts >= max_attempts:
            report.dead += 1
        elif o.status == "to_postal":
            report.to_postal += 1
        else:
            setattr(report, o.status, getattr(report, o.status) + 1)


class _EmailSender:
    def __init__(
        self,
        platform: Platform,
        settle: dict[str, float],
        clock: Callable[[], datetime],
        report: DeliveryReport,
    ) -> None:
        self.platform = platform
        self.settle = settle
        self.clock = clock
        self.report = report
        self.config = smtp.config_from(platform.settings)
        self.sender = parseaddr(self.config.from_address)[1] or self.config.from_address
        self.domain = from_domain(self.config.from_address)
        self.connections = [
            smtp.SmtpConnection(self.config) for _ in range(platform.settings.smtp_connections)
        ]
        rate = platform.settings.smtp_rate
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_slot = time.monotonic()

    def close(self) -> None:
        for c in self.connections:
            c.close()

    def _finish(self, outcomes: list[Outcome]) -> None:
        _count(self.report, outcomes, int(self.settle["max_attempts"]))

    def _resolve(self, claims: list[Claim]) -> tuple[list[_Ready], list[Outcome]]:
        """Decrypt content and addresses (only now, at send time) or say why it cannot go."""
        vault = self.platform.vault
        with self.platform.db.reading() as session:
            people = contacts(session, vault, {c.customer_id for c in claims if c.customer_id})
        keys = vault.data_keys({c.subject_id for c in claims if c.subject_id})
        ready: list[_Ready] = []
        done: list[Outcome] = []
        for c in claims:
            if c.content_enc is None:
                done.append(Outcome(c, "unreachable", detail="erased"))
                continue
            try:
                content = open_content(
                    vault,
                    c.key,
                    c.content_enc,
                    subject_id=c.subject_id,
                    data_key=keys.get(c.subject_id) if c.subject_id else None,
                )
            except KeyDestroyed:
                done.append(Outcome(c, "unreachable", detail="erased"))
                continue
            if c.customer_id is not None:
                person = people.get(c.customer_id)
                if person is None or not person.reachable:
                    done.append(Outcome(c, "unreachable", detail="erased"))
                    continue
                if not person.email:
                    if c.postal_fallback and person.address:
                        done.append(Outcome(c, "to_postal", detail="no email address: postal"))
                    else:
                        done.append(Outcome(c, "unreachable", detail="no email address"))
                    continue
                to, rcpt = formataddr((person.name or "", person.email), "utf-8"), person.email
            else:
                assert c.address_enc is not None
                rcpt = open_address(vault, c.key, c.address_enc)
                to = rcpt
            ready.append(self._ready(c, content, to, rcpt))
        return ready, done

    def _ready(self, claim: Claim, content: Content, to: str, rcpt: str) -> _Ready:
        message_id = message_id_for(claim.key, self.domain)
        data = smtp.build_email(
            from_address=self.config.from_address,
            to=to,
            subject=content.subject,
            text=content.text,
            html=content.html,
            message_id=message_id,
        )
        return _Ready(claim, smtp.Envelope(self.sender, rcpt, data), message_id)

    def _pace(self) -> None:
        if self.interval:
            now = time.monotonic()
            if self.next_slot > now:
                time.sleep(self.next_slot - now)
            self.next_slot = max(now, self.next_slot) + self.interval

    def send(self, claims: list[Claim]) -> None:
        if not claims:
            return
        ready, outcomes = self._resolve(claims)
        width = len(self.connections)
        for start in range(0, len(ready), width):
            batch = list(zip(self.connections, ready[start : start + width], strict=False))
            for _ in batch:
                self._pace()
            errors = smtp.prepare_all([(c, i.envelope) for c, i in batch])
            prepared: list[tuple[smtp.SmtpConnection, _Ready]] = []
            for (connection, item), error in zip(batch, errors, strict=True):
                if error is None:
                    prepared.append((connection, item))
                elif isinstance(error, smtp.SmtpRefused):
                    permanent = error.permanent and error.stage == "rcpt"
                    outcomes.append(
                        Outcome(
                            item.claim,
                            "bounced" if permanent else "failed",
                            error.code,
                            error.detail,
                        )
                    )
                else:
                    outcomes.append(Outcome(item.claim, "failed", None, smtp.error_text(error)))
            now = self.clock()
            held = mark_committed(
                self.platform.db, [i.claim for _, i in prepared], outcomes, now, **self.settle
            )
            self._finish(outcomes)
            outcomes = []
            # From the commit above to the last "." below is the one window in which a kill
            # loses a message (docs/outbox.md): nothing else happens in between.
            ending = [(c, i) for c, i in prepared if i.claim.id in held]
            broken: list[tuple[int, BaseException]] = []
            for n, (connection, _) in enumerate(ending):
                try:
                    connection.write_end()
                except Exception as exc:  # the "." may be out: never resend
                    broken.append((n, exc))
            for connection, item in prepared:
                if item.claim.id not in held:  # another run owns it now: let the server drop it
                    connection.abandon()
                    self.report.fenced += 1
            for n, error in reversed(broken):
                connection, item = ending.pop(n)
                connection.drop()
                outcomes.append(
                    Outcome(
                        item.claim,
                        "unconfirmed",
                        None,
                        smtp.error_text(error),
                        None,
                        item.message_id,
                    )
                )
            for connection, item in ending:
                try:
                    code, reply = connection.read_end()
                except Exception as exc:
                    connection.drop()
                    outcomes.append(
                        Outcome(
                            item.claim,
                            "unconfirmed",
                            None,
                            smtp.error_text(exc),
                            None,
                            item.message_id,
                        )
                    )
                    continue
                if code == 250:
                    outcomes.append(
                        Outcome(
                            item.claim, "sent", code, None, smtp.provider_id(reply), item.message_id
                        )
                    )
                elif 500 <= code < 600:
                    outcomes.append(Outcome(item.claim, "bounced", code, f"{code} {reply}"))
                else:
                    outcomes.append(Outcome(item.claim, "failed", code, f"{code} {reply}"))
        record(self.platform.db, outcomes, self.clock(), **self.settle)
        self._finish(outcomes)


def _send_webhooks(
    platform: Platform,
    claims: list[Claim],
    settle: dict[str, float],
    clock: Callable[[], datetime],
    report: DeliveryReport,
) -> None:
    if not claims:
        return
    vault = platform.vault
    with platform.db.reading() as session:
        endpoints = {
            e.id: e
            for e in session.scalars(
                select(WebhookEndpoint).where(
                    WebhookEndpoint.id.in_({c.endpoint_id for c in claims})
                )
            )
        }
    outcomes: list[Outcome] = []
    for c in claims:
        endpoint = endpoints.get(c.endpoint_id) if c.endpoint_id else None
        if endpoint is None or endpoint.disabled_at is not None or c.content_enc is None:
            outcomes.append(Outcome(c, "bounced", None, "endpoint removed or disabled"))
            continue
        content = open_content(vault, c.key, c.content_enc, subject_id=None, data_key=None)
        delivery_id = f"outbox-{c.id}"
        body = webhooks.payload(
            kind=c.kind, message_id=delivery_id, text=content.text, fields=content.fields
        )
        result = webhooks.post(
            endpoint.url,
            vault.unseal(f"webhook:{endpoint.name}", endpoint.secret_enc),
            body,
            delivery_id=delivery_id,
            timestamp=int(clock().timestamp()),
            timeout_s=platform.settings.webhook_timeout_s,
        )
        outcomes.append(Outcome(c, result.status, result.code, result.detail, None, delivery_id))
    record(platform.db, outcomes, clock(), **settle)
    _count(report, outcomes, int(settle["max_attempts"]))
