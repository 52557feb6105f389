"""What a customer does for themselves on the preference centre: download their data, ask for
erasure. The signed link is their proof of identity, recorded as the verification method; each
form is used once (its nonce is stored, like the preference forms)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from trustdesk.config import Settings
from trustdesk.crypto import Vault
from trustdesk.privacy.consent import service
from trustdesk.privacy.consent.policy import Policy
from trustdesk.privacy.export.archive import Export
from trustdesk.privacy.requests import fulfilment
from trustdesk.privacy.requests import service as requests
from trustdesk.privacy.requests.schemas import RequestKind, RequestOut, RequestSource

__all__ = ["LINK_VERIFICATION", "download_my_data", "request_my_erasure"]

LINK_VERIFICATION = "signed preference-centre link sent to the customer"


def download_my_data(
    session: Session,
    vault: Vault,
    settings: Settings,
    policy: Policy,
    *,
    external_id: str,
    form_nonce: str,
    keep_s: int,
    now: datetime,
) -> Export:
    """An access request opened, verified by the link and completed at once: the export."""
    service.use_form_nonce(session, form_nonce, keep_s=keep_s)
    done = fulfilment.carry_out_at_once(
        session,
        vault,
        settings,
        policy,
        external_id=external_id,
        kind=RequestKind.ACCESS,
        source=RequestSource.PREFERENCE_CENTRE,
        verification=LINK_VERIFICATION,
        actor=f"preference-centre:{form_nonce[:12]}",
        now=now,
    )
    assert done.export is not None
    return done.export


def request_my_erasure(
    session: Session,
    vault: Vault,
    policy: Policy,
    *,
    external_id: str,
    form_nonce: str,
    keep_s: int,
    now: datetime,
) -> RequestOut:
    """An erasure request, identity verified by the link, left in the queue for staff."""
    service.use_form_nonce(session, form_nonce, keep_s=keep_s)
    actor = f"preference-centre:{form_nonce[:12]}"
    opened = requests.open_request(
        session,
        vault,
        policy,
        external_id=external_id,
        kind=RequestKind.ERASURE,
        source=RequestSource.PREFERENCE_CENTRE,
        actor=actor,
        now=now,
    )
    return requests.verify_identity(
        session, opened.id, method=LINK_VERIFICATION, actor=actor, now=now
    )
