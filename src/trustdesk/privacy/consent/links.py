"""Signed, expiring preference-centre links, and the one-time form tokens of the pages they open.

A link carries the customer's external id and a random nonce, signed with a key the vault derives
for this purpose alone (`preference-link`); changing one character, or using it after it expires,
fails. Each page render also signs a form token bound to the same link and a fresh nonce; the
service stores a form's nonce when it is used, so a replayed POST is refused. No cookie is needed.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from trustdesk.errors import DomainError
from trustdesk.platform import Platform
from trustdesk.privacy.errors import FormExpired, FormInvalid, LinkExpired, LinkInvalid

__all__ = ["FormToken", "LinkSigner", "PreferenceLink", "signer_for"]

_LINK_SALT = "trustdesk.preference-link.v1"
_FORM_SALT = "trustdesk.preference-form.v1"


@dataclass(frozen=True)
class PreferenceLink:
    external_id: str
    nonce: str
    token: str


@dataclass(frozen=True)
class FormToken:
    external_id: str
    link_nonce: str
    nonce: str


class LinkSigner:
    """Signs and opens preference links and form tokens with one secret key."""

    def __init__(self, key: bytes, max_age_s: int, clock: Callable[[], float] = time.time) -> None:
        class _Clocked(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock())

        self._links = URLSafeTimedSerializer(key, salt=_LINK_SALT, signer=_Clocked)
        self._forms = URLSafeTimedSerializer(key, salt=_FORM_SALT, signer=_Clocked)
        self.max_age_s = max_age_s

    def issue(self, external_id: str) -> PreferenceLink:
        nonce = secrets.token_urlsafe(12)
        token = self._links.dumps({"c": external_id, "n": nonce})
        return PreferenceLink(external_id, nonce, token)

    def expires_at(self, issued: datetime) -> datetime:
        return issued + timedelta(seconds=self.max_age_s)

    def open(self, token: str) -> PreferenceLink:
        """The link's content, if the signature is ours and it has not expired."""
        data = _load(self._links, token, self.max_age_s, {"c", "n"}, LinkExpired, LinkInvalid)
        return PreferenceLink(str(data["c"]), str(data["n"]), token)

    def form_token(self, link: PreferenceLink) -> str:
        return self._forms.dumps(
            {"c": link.external_id, "l": link.nonce, "f": secrets.token_urlsafe(16)}
        )

    def open_form(self, link: PreferenceLink, token: str) -> FormToken:
        """The form's nonce, if the form was made by us for this same link and is not too old."""
        data = _load(self._forms, token, self.max_age_s, {"c", "l", "f"}, FormExpired, FormInvalid)
        if data["c"] != link.external_id or data["l"] != link.nonce:
            raise FormInvalid("this form belongs to another link")
        return FormToken(str(data["c"]), str(data["l"]), str(data["f"]))


def _load(
    serializer: URLSafeTimedSerializer,
    token: str,
    max_age_s: int,
    required: set[str],
    expired: type[DomainError],
    invalid: type[DomainError],
) -> dict[str, Any]:
    try:
        data = serializer.loads(token, max_age=max_age_s)
    except SignatureExpired:
        raise expired("this link has expired") from None
    except BadSignature:
        raise invalid("this link is not valid") from None
    if not isinstance(data, dict) or not required <= set(data):
        raise invalid("this link is not valid")
    return data


def signer_for(platform: Platform, clock: Callable[[], float] = time.time) -> LinkSigner:
    """The platform's link signer: a vault-derived key used for nothing else."""
    return LinkSigner(
        platform.vault.signing_key("preference-link"),
        platform.settings.consent_link_max_age_s,
        clock,
    )
