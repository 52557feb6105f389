"""Consent endpoints under /api/v1/consent: check, bulk filter, record, proof, links."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from trustdesk.access.principal import Principal
from trustdesk.auth.http import (
    ReadSession,
    WriteSession,
    current_principal,
    get_platform,
    require,
)
from trustdesk.body_guard import BULK_BODY
from trustdesk.db import utcnow
from trustdesk.platform import Platform
from trustdesk.privacy.consent import enforcement, projection, proof, service
from trustdesk.privacy.consent.links import signer_for
from trustdesk.privacy.consent.policy import KEY_PATTERN, Policy, load_policy
from trustdesk.privacy.consent.schemas import (
    CHANNEL_HELP,
    PURPOSE_HELP,
    BulkCheckIn,
    BulkCheckOut,
    CheckOut,
    ConsentIn,
    ConsentVerifyOut,
    EventOut,
    LinkIn,
    LinkOut,
    PreferenceOut,
    ProofOut,
)
from trustdesk.problems import problem_responses

router = APIRouter(prefix="/consent", tags=["consent"])


def _policy(platform: Platform = Depends(get_platform)) -> Policy:
    return load_policy(platform.settings.consent_policy_file)


@router.get("/check", response_model=CheckOut, responses=problem_responses(404))
async def check(
    request: Request,
    customer_id: str = Query(min_length=1, max_length=128, description="External id."),
    purpose: str = Query(
        min_length=1, max_length=64, pattern=KEY_PATTERN, description=PURPOSE_HELP
    ),
    channel: str = Query(
        min_length=1, max_length=32, pattern=KEY_PATTERN, description=CHANNEL_HELP
    ),
) -> CheckOut:
    """Allowed or denied, with the reason: the record, the default regime or a legal obligation.

    Needs `consent:read`. Hot path: authentication and the two indexed lookups run in one worker
    thread (never on the event loop, where a database call stalls every request); the answer is
    validated back on the loop, which saves the second hop a plain `def` route would take.
    """
    return await run_in_threadpool(_check, request, customer_id, purpose, channel)


def _check(request: Request, customer_id: str, purpose: str, channel: str) -> CheckOut:
    platform = get_platform(request)
    current_principal(request, platform).require("consent:read")
    with platform.db.reading() as session:
        return enforcement.check(
            session,
            load_policy(platform.settings.consent_policy_file),
            external_id=customer_id,
            purpose=purpose,
            channel=channel,
        )


@router.post(
    "/filter",
    response_model=BulkCheckOut,
    dependencies=[Depends(require("consent:read"))],
    openapi_extra=BULK_BODY,
)
def filter_contactable(
    *,
    body: BulkCheckIn,
    policy: Policy = Depends(_policy),
    session: ReadSession,
) -> BulkCheckOut:
    """Filters a list of customers down to those who may be contacted (one query per chunk)."""
    return enforcement.filter_contactable(
        session, policy, external_ids=body.customer_ids, purpose=body.purpose, channel=body.channel
    )


@router.post("", response_model=EventOut, status_code=201, responses=problem_responses(404, 409))
def record(
    *,
    body: ConsentIn,
    principal: Principal = Depends(require("consent:write")),
    policy: Policy = Depends(_policy),
    session: WriteSession,
) -> EventOut:
    """Grant or withdraw one purpose on one channel; the next check sees it."""
    return service.set_consent(
        session,
        policy,
        external_id=body.customer_id,
        purpose=body.purpose,
        channel=body.channel,
        state=body.state,
        source=body.source,
        actor=principal.actor,
        notice_version=body.notice_version,
        expected_version=body.expected_version,
    )


@router.get(
    "/customers/{customer_id}",
    response_model=list[PreferenceOut],
    dependencies=[Depends(require("consent:read"))],
)
def preferences(
    *,
    customer_id: str,
    policy: Policy = Depends(_policy),
    session: ReadSession,
) -> list[PreferenceOut]:
    """Every optional purpose and channel of one customer, as checks would answer now."""
    return service.preferences(session, policy, customer_id)


@router.get(
    "/customers/{customer_id}/history",
    response_model=list[EventOut],
    dependencies=[Depends(require("consent:read"))],
)
def history(customer_id: str, session: ReadSession) -> list[EventOut]:
    return service.history(session, customer_id)


@router.get(
    "/customers/{customer_id}/proof",
    response_model=ProofOut,
    dependencies=[Depends(require("consent:read"))],
)
def customer_proof(customer_id: str, session: ReadSession) -> ProofOut:
    """The customer's ledger entries with their hashes, each checked, and the chain verified."""
    return proof.export(session, customer_id)


@router.get(
    "/verify", response_model=ConsentVerifyOut, dependencies=[Depends(require("consent:read"))]
)
def verify(session: ReadSession) -> ConsentVerifyOut:
    """The ledger's chain verified, and the consent_state projection compared with it."""
    return projection.verify(session)


@router.post("/links", response_model=LinkOut, status_code=201, responses=problem_responses(404))
def create_link(
    *,
    body: LinkIn,
    request: Request,
    principal: Principal = Depends(require("consent:write")),
    platform: Platform = Depends(get_platform),
    session: WriteSession,
) -> LinkOut:
    """A signed, expiring preference-centre link to send to the customer."""
    base = platform.settings.public_url or str(request.base_url)
    return service.create_link(
        session,
        signer_for(platform),
        body.customer_id,
        base_url=base,
        actor=principal.actor,
        now=utcnow(),
    )
