"""The public complaint form: no login, no JavaScript, no cookie.

Spam resistance without a captcha:
* each render signs a form token (itsdangerous, a vault-derived key for this purpose only) with
  a fresh nonce: a form not made by us is refused (CSRF-safe without a session), one sent faster
  than `MIN_FILL_S` after it was made is a bot, one older than `MAX_AGE_S` has expired;
* the nonce is the case's external id, so sending the same form twice opens one case;
* a honeypot field people never see (bots fill it): such a post is thanked and dropped;
* a rate limit per client address (kept in memory, by a keyed hash, never stored).

The sender confirms their address by a signed link in an email sent through the outbox; the
case is opened at once (an unconfirmed complaint is still a complaint), the confirmation is an
event on its timeline.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from trustdesk.cases import service
from trustdesk.cases.errors import CaseNotFound, FormRefused, FormTooFast, InvalidCase
from trustdesk.cases.intake import open_case, parse_case
from trustdesk.cases.models import Case, CaseEvent
from trustdesk.cases.routing import Classifier
from trustdesk.crypto import Vault
from trustdesk.errors import TooManyAttempts
from trustdesk.outbox import public as outbox

__all__ = [
    "MAX_AGE_S",
    "MIN_FILL_S",
    "FormSigner",
    "RateLimiter",
    "WebComplaint",
    "confirm",
    "submit",
]

MIN_FILL_S = 3  # a person takes longer than this to write a complaint
MAX_AGE_S = 2 * 3600
CONFIRM_MAX_AGE_S = 14 * 24 * 3600
_FORM_SALT, _CONFIRM_SALT = "trustdesk.case-form.v1", "trustdesk.case-confirm.v1"


class FormSigner:
    def __init__(self, key: bytes, clock: Callable[[], float] = time.time) -> None:
        self._forms = URLSafeTimedSerializer(key, salt=_FORM_SALT)
        self._links = URLSafeTimedSerializer(key, salt=_CONFIRM_SALT)
        self._clock = clock

    def form_token(self) -> str:
        return self._forms.dumps({"n": secrets.token_urlsafe(16), "t": self._clock()})

    def open_form(self, token: str) -> str:
        """The form's nonce: FormRefused when not ours or expired, FormTooFast for a bot."""
        try:
            data = self._forms.loads(token, max_age=MAX_AGE_S)
        except SignatureExpired:
            raise FormRefused("this form has expired: reload the page and send it again") from None
        except BadSignature:
            raise FormRefused("this form did not come from us: reload the page") from None
        if not isinstance(data, dict) or not isinstance(data.get("n"), str):
            raise FormRefused("this form did not come from us: reload the page")
        if self._clock() - float(data.get("t", 0)) < MIN_FILL_S:
            raise FormTooFast("the form was sent too fast: wait a moment and send it again")
        return str(data["n"])

    def confirm_token(self, case_id: int) -> str:
        return self._links.dumps({"c": case_id})

    def open_confirm(self, token: str) -> int:
        try:
            data = self._links.loads(token, max_age=CONFIRM_MAX_AGE_S)
        except SignatureExpired:
            raise FormRefused("this confirmation link has expired") from None
        except BadSignature:
            raise FormRefused("this confirmation link is not valid") from None
        if not isinstance(data, dict) or not isinstance(data.get("c"), int):
            raise FormRefused("this confirmation link is not valid")
        return int(data["c"])


def signer_for(vault: Vault) -> FormSigner:
    return FormSigner(vault.signing_key("case-web-form"))


class RateLimiter:
    """At most `limit` posts per `window_s` per client, counted in memory by a keyed hash of the
    address (one process; several workers each count their own share)."""

    def __init__(self, limit: int = 5, window_s: float = 600.0) -> None:
        self.limit, self.window_s = limit, window_s
        self._seen: dict[str, deque[float]] = {}
        self._key = secrets.token_bytes(16)
        self._lock = threading.Lock()

    def hit(self, client: str | None, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        name = hmac.new(self._key, (client or "?").encode(), hashlib.sha256).hexdigest()[:16]
        with self._lock:
            if len(self._seen) > 10_000:  # forget idle clients
                for stale in [k for k, q in self._seen.items() if q[-1] < now - self.window_s]:
                    del self._seen[stale]
            times = self._seen.setdefault(name, deque())
            while times and times[0] < now - self.window_s:
                times.popleft()
            if len(times) >= self.limit:
                raise TooManyAttempts("too many complaints sent from here: try again later")
            times.append(now)


@dataclass(frozen=True)
class WebComplaint:
    name: str
    email: str
    subject: str
    body: str
    form: str
    honeypot: str = ""


@dataclass(frozen=True)
class Submitted:
    case_id: int | None  # None for a honeypot post (thanked, dropped)
    created: bool


def submit(
    session: Session,
    vault: Vault,
    signer: FormSigner,
    form: WebComplaint,
    *,
    classify: Classifier,
    base_url: str,
) -> Submitted:
    """Open the case (idempotent on the form's nonce) and queue the confirmation email."""
    nonce = signer.open_form(form.form)
    if form.honeypot.strip():
        return Submitted(None, False)
    email = form.email.strip()
    if "@" not in email or " " in email or len(email) > 254:
        raise InvalidCase("email: give the address we can answer you at")
    case = parse_case(
        {
            "channel": "web",
            "external_id": f"form:{nonce}",
            "subject": form.subject,
            "body": form.body,
            "email": email,
            **({"name": form.name} if form.name.strip() else {}),
        }
    )
    opened = open_case(session, vault, case, classify=classify, actor="web-form")
    if opened.created:
        link = f"{base_url.rstrip('/')}/complaint/confirm/{signer.confirm_token(opened.id)}"
        row = session.get(Case, opened.id)
        assert row is not None
        outbox.enqueue_email(
            session,
            vault,
            kind="case.web_confirmation",
            key=f"case:{opened.id}:web-confirmation",
            customer_id=row.customer_id,
            to_address=None if row.customer_id is not None else email,
            subject=f"We received your complaint [case #{opened.id}]",
            text=(
                f"Thank you for telling us. Your complaint is case #{opened.id}.\n\n"
                f"Please confirm that this address is yours so we can answer you here:\n{link}\n\n"
                "If you did not send a complaint, ignore this message."
            ),
            actor="web-form",
        )
    return Submitted(opened.id, opened.created)


def confirm(session: Session, signer: FormSigner, token: str) -> int:
    """The sender clicked the link: their address is confirmed on the case (once)."""
    case_id = signer.open_confirm(token)
    if session.get(Case, case_id) is None:
        raise CaseNotFound("this complaint no longer exists")
    done = session.scalars(
        select(CaseEvent.id).where(CaseEvent.case_id == case_id, CaseEvent.kind == "web_confirmed")
    ).first()
    if done is None:
        service.record_event(session, case_id, "web_confirmed", {}, actor="web-form")
    return case_id
