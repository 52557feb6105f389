"""Signed survey links. An invitation link carries the invitation's id and its random nonce,
signed with a key the vault derives for this purpose alone (`survey-link`): changing one
character fails. Expiry and single use are the invitation row's (`expires_at`, `responded_at`),
so a link can also be ended early. The public link is a random token stored on the survey."""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from trustdesk.crypto import Vault
from trustdesk.surveys.errors import LinkInvalid

__all__ = ["InvitationLink", "SurveyLinks"]

_SALT = "trustdesk.survey-link.v1"


@dataclass(frozen=True)
class InvitationLink:
    invitation_id: int
    nonce: str


class SurveyLinks:
    def __init__(self, key: bytes) -> None:
        self._serializer = URLSafeSerializer(key, salt=_SALT)

    @classmethod
    def of(cls, vault: Vault) -> SurveyLinks:
        return cls(vault.signing_key("survey-link"))

    def token(self, invitation_id: int, nonce: str) -> str:
        return str(self._serializer.dumps({"i": invitation_id, "n": nonce}))

    def open(self, token: str) -> InvitationLink:
        try:
            data = self._serializer.loads(token)
        except BadSignature:
            raise LinkInvalid("this link is not valid") from None
        if not isinstance(data, dict) or not isinstance(data.get("i"), int):
            raise LinkInvalid("this link is not valid")
        return InvitationLink(int(data["i"]), str(data.get("n", "")))
