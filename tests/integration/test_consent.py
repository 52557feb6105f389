"""Consent through the real CLI, API and preference pages, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import datetime

import pytest
from sqlalchemy import func, select

from trustdesk.access.roles import Role
from trustdesk.audit.chain import AuditEntry
from trustdesk.customers import service as customer_service
from trustdesk.customers.models import Customer
from trustdesk.customers.schemas import CustomerIn
from trustdesk.privacy import public
from trustdesk.privacy.consent import ledger, service
from trustdesk.privacy.consent.links import signer_for
from trustdesk.privacy.consent.policy import ConsentState, load_policy
from trustdesk.privacy.consent.schemas import Source
from trustdesk.privacy.models import ConsentEvent
from trustdesk.privacy.models import ConsentState as StateRow

POLICY = load_policy()


# --- builders ---------------------------------------------------------------------------------


def make_customers(platform, **jurisdictions):
    records = [CustomerIn(external_id=eid, jurisdiction=j) for eid, j in jurisdictions.items()]
    with platform.db.transaction() as session:
        customer_service.upsert_customers(session, platform.vault, records, actor="test")


def counts(platform):
    with platform.db.reading() as session:
        return (
            session.scalar(select(func.count()).select_from(ConsentEvent)),
            session.scalar(select(func.count()).select_from(StateRow)),
            session.scalar(select(func.count()).select_from(AuditEntry)),
        )


def link_token(platform, external_id, clock=time.time):
    return signer_for(platform, clock).issue(external_id).token


def form_token_of(page_html):
    return re.search(r'name="form" value="([^"]+)"', page_html).group(1)


# --- CLI contracts ----------------------------------------------------------------------------


def test_cli_set_then_check_answers_allowed_and_reason_as_json(cli, platform):
    make_customers(platform, ada="DE")

    denied = cli(
        "consent",
        "check",
        "--customer",
        "ada",
        "--purpose",
        "marketing",
        "--channel",
        "email",
        "--json",
    )
    assert denied.exit_code == 0
    assert json.loads(denied.stdout) == {"allowed": False, "reason": "default_regime"}

    result = cli(
        "consent",
        "set",
        "--customer",
        "ada",
        "--purpose",
        "marketing",
        "--channel",
        "email",
        "--state",
        "granted",
    )
    assert result.exit_code == 0, result.output
    allowed = cli(
        "consent",
        "check",
        "--customer",
        "ada",
        "--purpose",
        "marketing",
        "--channel",
        "email",
        "--json",
    )
    assert json.loads(allowed.stdout) == {"allowed": True, "reason": "record"}

    cli(
        "consent",
        "set",
        "--customer",
        "ada",
        "--purpose",
        "marketing",
        "--channel",
        "email",
        "--state",
        "withdrawn",
    )
    withdrawn = cli(
        "consent",
        "check",
        "--customer",
        "ada",
        "--purpose",
        "marketing",
        "--channel",
        "email",
        "--json",
    )
    assert json.loads(withdrawn.stdout) == {"allowed": False, "reason": "record"}

    breach = cli(
        "consent",
        "check",
        "--customer",
        "ada",
        "--purpose",
        "breach_notice",
        "--channel",
        "email",
        "--json",
    )
    assert json.loads(breach.stdout) == {"allowed": True, "reason": "legal_obligation"}


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--purpose", "spam", "--channel", "email", "--state", "granted"), 2, "unknown purpose"),
        (
            ("--purpose", "marketing", "--channel", "fax", "--state", "granted"),
            2,
            "unknown channel",
        ),
        (("--purpose", "marketing", "--channel", "email", "--state", "maybe"), 2, "--state"),
        (
            ("--purpose", "breach_notice", "--channel", "email", "--state", "withdrawn"),
            2,
            "cannot be granted or withdrawn",
        ),
    ],
)
def test_cli_refuses_bad_input_and_stores_nothing(cli, platform, args, code, message):
    make_customers(platform, ada="DE")
    before = counts(platform)
    result = cli("consent", "set", "--customer", "ada", *args)
    assert result.exit_code == code
    assert message in " ".join(result.stderr.split())
    assert counts(platform) == before


def test_cli_refuses_a_consent_for_an_unknown_customer(cli, platform):
    result = cli(
        "consent",
        "set",
        "--customer",
        "ghost",
        "--purpose",
        "marketing",
        "--channel",
        "email",
        "--state",
        "granted",
    )
    assert result.exit_code == 3
    assert "no customer 'ghost'" in result.stderr
    assert counts(platform)[:2] == (0, 0)


def test_cli_verify_passes_then_names_the_first_tampered_event(cli, platform):
    make_customers(platform, ada="DE")
    for state in ("granted", "withdrawn", "granted"):
        cli(
            "consent",
            "set",
            "--customer",
            "ada",
            "--purpose",
            "marketing",
            "--channel",
            "email",
            "--state",
            state,
        )
    ok = cli("consent", "verify")
    assert ok.exit_code == 0
    assert "3 events verified" in ok.stdout

    with platform.db.transaction() as session:
        session.get(ConsentEvent, 2).state = "granted"
    broken = cli("consent", "verify")
    assert broken.exit_code == 1
    assert "broken at event 2" in broken.stderr
    as_json = cli("consent", "verify", "--json")
    assert json.loads(as_json.stdout)["broken_id"] == 2


def test_cli_proof_exports_entries_with_hashes_and_a_verification(cli, platform, tmp_path):
    make_customers(platform, ada="DE", bob="GB")
    cli(
        "consent",
        "set",
        "--customer",
        "bob",
        "--purpose",
        "research",
        "--channel",
        "sms",
        "--state",
        "granted",
    )
    cli(
        "consent",
        "set",
        "--customer",
        "ada",
        "--purpose",
        "marketing",
        "--channel",
        "email",
        "--state",
        "granted",
    )
    target = tmp_path / "proof.json"
    result = cli("consent", "proof", "--customer", "ada", "--output", str(target))
    assert result.exit_code == 0, result.output
    proof = json.loads(target.read_text())
    assert proof["customer_id"] == "ada"
    assert proof["verified"] is True
    assert proof["chain"] == {**proof["chain"], "ok": True, "checked": 2}
    [entry] = proof["entries"]
    assert (entry["purpose"], entry["channel"], entry["state"]) == ("marketing", "email", "granted")
    assert entry["id"] == 2
    assert entry["prev_hash"] != ledger.GENESIS  # chained after bob's event
    # Anyone can recompute the hash from the exported fields.
    fields = {
        **entry,
        "customer_id": proof["customer_key"],
        "at": datetime.fromisoformat(entry["at"]),
    }
    assert ledger.digest(fields) == entry["hash"]


def test_cli_link_prints_a_preference_centre_address(cli, platform):
    make_customers(platform, ada="DE")
    result = cli("consent", "link", "--customer", "ada", "--base-url", "https://prefs.example")
    assert result.exit_code == 0
    assert re.match(r"^https://prefs\.example/preferences/[\w.-]+$", result.stdout.strip())
    assert cli("consent", "link", "--customer", "ghost").exit_code == 3


# --- API --------------------------------------------------------------------------------------


def test_check_endpoint_answers_with_reason_and_regime(api, platform):
    make_customers(platform, ada="DE", sam="US")
    answer = api.get(
        "/api/v1/consent/check",
        params={"customer_id": "sam", "purpose": "marketing", "channel": "email"},
    )
    assert answer.status_code == 200
    assert answer.json() == {
        "customer_id": "sam",
        "purpose": "marketing",
        "channel": "email",
        "allowed": True,
        "reason": "default_regime",
        "regime": "opt_out",
        "legal_basis": "consent",
    }
    made = api.post(
        "/api/v1/consent",
        json={
            "customer_id": "sam",
            "purpose": "marketing",
            "channel": "email",
            "state": "withdrawn",
        },
    )
    assert made.status_code == 201
    assert made.json()["version"] == 1
    again = api.get(
        "/api/v1/consent/check",
        params={"customer_id": "sam", "purpose": "marketing", "channel": "email"},
    )
    assert (again.json()["allowed"], again.json()["reason"]) == (False, "record")


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"customer_id": "ada", "purpose": "spam", "channel": "email"}, 422),
        ({"customer_id": "ada", "purpose": "marketing", "channel": "fax"}, 422),
        ({"customer_id": "ghost", "purpose": "marketing", "channel": "email"}, 404),
        ({"customer_id": "ada", "purpose": "marketing"}, 422),
    ],
)
def test_check_endpoint_refuses_bad_input_with_problem_details(api, platform, params, status):
    make_customers(platform, ada="DE")
    answer = api.get("/api/v1/consent/check", params=params)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "body",
    [
        {"customer_id": "ada", "purpose": "spam", "channel": "email", "state": "granted"},
        {"customer_id": "ada", "purpose": "marketing", "channel": "fax", "state": "granted"},
        {"customer_id": "ada", "purpose": "marketing", "channel": "email", "state": "perhaps"},
        {"customer_id": "ghost", "purpose": "marketing", "channel": "email", "state": "granted"},
        {"customer_id": "ada", "purpose": "service", "channel": "email", "state": "withdrawn"},
        {
            "customer_id": "ada",
            "purpose": "marketing",
            "channel": "email",
            "state": "granted",
            "source": "preference_centre",
        },
    ],
)
def test_record_endpoint_refuses_bad_input_and_stores_nothing(api, platform, body):
    make_customers(platform, ada="DE")
    before = counts(platform)
    answer = api.post("/api/v1/consent", json=body)
    assert answer.status_code in {404, 422}
    assert counts(platform) == before


def test_record_endpoint_refuses_a_stale_expected_version(api, platform):
    make_customers(platform, ada="DE")
    body = {"customer_id": "ada", "purpose": "marketing", "channel": "email", "state": "granted"}
    assert api.post("/api/v1/consent", json={**body, "expected_version": 0}).status_code == 201
    stale = api.post("/api/v1/consent", json={**body, "state": "withdrawn", "expected_version": 0})
    assert stale.status_code == 409
    assert counts(platform)[0] == 1


def test_bulk_filter_keeps_only_customers_who_may_be_contacted(api, platform):
    make_customers(platform, de1="DE", de2="DE", us1="US", us2="US", none=None)
    api.post(
        "/api/v1/consent",
        json={"customer_id": "de2", "purpose": "marketing", "channel": "email", "state": "granted"},
    )
    api.post(
        "/api/v1/consent",
        json={
            "customer_id": "us2",
            "purpose": "marketing",
            "channel": "email",
            "state": "withdrawn",
        },
    )
    answer = api.post(
        "/api/v1/consent/filter",
        json={
            "customer_ids": ["de1", "de2", "us1", "us2", "none", "ghost"],
            "purpose": "marketing",
            "channel": "email",
        },
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["allowed"] == ["de2", "us1"]
    assert body["denied"] == {"de1": "default_regime", "us2": "record", "none": "default_regime"}
    assert list(body["denied"]) == ["de1", "us2", "none"]
    assert body["unknown"] == ["ghost"]
    bad = api.post(
        "/api/v1/consent/filter",
        json={"customer_ids": ["de1"], "purpose": "spam", "channel": "email"},
    )
    assert bad.status_code == 422


def test_consent_endpoints_need_a_token_and_the_right_role(client, token_for, platform):
    make_customers(platform, ada="DE")
    check = "/api/v1/consent/check?customer_id=ada&purpose=marketing&channel=email"
    write = {"customer_id": "ada", "purpose": "marketing", "channel": "email", "state": "granted"}
    assert client.get(check).status_code == 401
    assert client.post("/api/v1/consent", json=write).status_code == 401

    def as_role(role):
        return {"Authorization": f"Bearer {token_for(role)}"}

    assert client.get(check, headers=as_role(Role.VIEWER)).status_code == 403
    assert (
        client.post(
            "/api/v1/consent/filter",
            headers=as_role(Role.VIEWER),
            json={"customer_ids": ["ada"], "purpose": "marketing", "channel": "email"},
        ).status_code
        == 403
    )
    assert client.get(check, headers=as_role(Role.ANALYST)).status_code == 200
    assert (
        client.post("/api/v1/consent", json=write, headers=as_role(Role.ANALYST)).status_code == 403
    )
    assert (
        client.post(
            "/api/v1/consent/links", json={"customer_id": "ada"}, headers=as_role(Role.ANALYST)
        ).status_code
        == 403
    )
    for role in (Role.AGENT, Role.PRIVACY_OFFICER, Role.ADMIN):
        assert client.post("/api/v1/consent", json=write, headers=as_role(role)).status_code == 201
    assert counts(platform)[0] == 3


def test_proof_endpoint_returns_entries_with_hashes_and_verification(api, platform):
    make_customers(platform, ada="DE")
    for state in ("granted", "withdrawn"):
        api.post(
            "/api/v1/consent",
            json={"customer_id": "ada", "purpose": "research", "channel": "phone", "state": state},
        )
    proof = api.get("/api/v1/consent/customers/ada/proof").json()
    assert proof["verified"] is True
    assert [e["state"] for e in proof["entries"]] == ["granted", "withdrawn"]
    assert proof["entries"][1]["prev_hash"] == proof["entries"][0]["hash"]
    assert all(e["content_ok"] and e["link_ok"] for e in proof["entries"])
    with platform.db.transaction() as session:
        session.get(ConsentEvent, 1).source = "import"
    tampered = api.get("/api/v1/consent/customers/ada/proof").json()
    assert tampered["verified"] is False
    assert tampered["entries"][0]["content_ok"] is False
    assert tampered["chain"]["broken_id"] == 1
    assert api.get("/api/v1/consent/customers/ghost/proof").status_code == 404


def test_every_change_writes_an_audit_entry_in_the_same_transaction(api, platform):
    make_customers(platform, ada="DE")
    api.post(
        "/api/v1/consent",
        json={"customer_id": "ada", "purpose": "marketing", "channel": "sms", "state": "granted"},
    )
    entries = api.get("/api/v1/audit", params={"entity_id": "ada"}).json()["items"]
    consent = [e for e in entries if e["action"] == "consent.granted"]
    assert len(consent) == 1
    assert consent[0]["changes"] == {
        "channel": "sms",
        "consent_event": 1,
        "purpose": "marketing",
        "source": "api",
    }


# --- the facade other capabilities use -------------------------------------------------------


def test_breach_notices_are_always_allowed_and_marketing_is_not(platform):
    make_customers(platform, ada="DE", sam="US")
    with platform.db.transaction() as session:
        service.stop_all(session, POLICY, external_id="sam", source=Source.STAFF, actor="test")
    with platform.db.reading() as session:
        ids = dict(session.execute(select(Customer.external_id, Customer.id)).all())
        everyone = [ids["ada"], ids["sam"], 999_999]
        assert public.may_contact(session, everyone, "breach_notice", "email") == everyone[:2]
        assert public.may_contact(session, everyone, "marketing", "email") == []
        answers = public.check(session, everyone, "marketing", "email")
        assert answers[ids["ada"]].reason == "default_regime"
        assert answers[ids["sam"]].reason == "record"


# --- preference links and forms ---------------------------------------------------------------


def test_preference_link_from_the_api_opens_the_page(api, platform):
    make_customers(platform, ada="DE")
    made = api.post("/api/v1/consent/links", json={"customer_id": "ada"})
    assert made.status_code == 201
    path = made.json()["url"].removeprefix("http://testserver")
    page = api.get(path)
    assert page.status_code == 200
    assert "How we may use your data" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert api.post("/api/v1/consent/links", json={"customer_id": "ghost"}).status_code == 404


def test_expired_and_tampered_links_get_a_friendly_4xx_page(client, platform):
    make_customers(platform, ada="DE")
    old = link_token(platform, "ada", clock=lambda: time.time() - 8 * 24 * 3600)
    expired = client.get(f"/preferences/{old}")
    assert expired.status_code == 410
    assert "This link has expired" in expired.text

    token = link_token(platform, "ada")
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (tampered, "not-a-token", token.replace(token.split(".")[0], "eyJjIjoiYm9iIn0")):
        answer = client.get(f"/preferences/{bad}")
        assert answer.status_code == 403
        assert "This link is not valid" in answer.text
    posted = client.post(f"/preferences/{tampered}", data={"form": "x"})
    assert posted.status_code == 403
    assert counts(platform)[0] == 0


def test_a_saved_preference_is_visible_to_the_check_endpoint_at_once(api, platform):
    make_customers(platform, ada="DE")
    token = link_token(platform, "ada")
    page = api.get(f"/preferences/{token}")
    form = {
        "form": form_token_of(page.text),
        "shown.marketing.email": "0",
        "allow.marketing.email": "1",
        "shown.marketing.sms": "0",
    }
    saved = api.post(f"/preferences/{token}", data=form, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/preferences/{token}?done=saved"
    check = api.get(
        "/api/v1/consent/check",
        params={"customer_id": "ada", "purpose": "marketing", "channel": "email"},
    )
    assert (check.json()["allowed"], check.json()["reason"]) == (True, "record")
    history = api.get("/api/v1/consent/customers/ada/history").json()
    assert [(e["purpose"], e["channel"], e["source"]) for e in history] == [
        ("marketing", "email", "preference_centre")
    ]

    # The same form sent again (a replay) is refused and changes nothing.
    replay = api.post(f"/preferences/{token}", data=form, follow_redirects=False)
    assert replay.status_code == 409
    assert "already sent" in replay.text
    assert counts(platform)[0] == 1
    # A form made for another link of another customer does not work with this link.
    make_customers(platform, bob="DE")
    other = api.get(f"/preferences/{link_token(platform, 'bob')}")
    foreign = {**form, "form": form_token_of(other.text)}
    assert api.post(f"/preferences/{token}", data=foreign).status_code == 403
    assert counts(platform)[0] == 1


def test_stop_all_withdraws_every_optional_purpose_but_keeps_breach_notices(client, platform):
    make_customers(platform, sam="US")
    token = link_token(platform, "sam")
    page = client.get(f"/preferences/{token}")
    stopped = client.post(
        f"/preferences/{token}/stop-all",
        data={"form": form_token_of(page.text)},
        follow_redirects=False,
    )
    assert stopped.status_code == 303
    with platform.db.reading() as session:
        prefs = service.preferences(session, POLICY, "sam")
        assert prefs and not any(p.allowed for p in prefs)
        assert len(prefs) == len(POLICY.optional_pairs()) == counts(platform)[0]
    # Choices on the page after stopping: everything off, breach notices still listed as sent.
    after = client.get(f"/preferences/{token}?done=stopped")
    assert "stopped all optional use" in after.text
    assert " checked" not in after.text
    assert "Data breach notices" in after.text


# --- concurrency ------------------------------------------------------------------------------


def test_concurrent_changes_to_one_preference_are_all_kept(platform):
    make_customers(platform, ada="DE")
    rounds, errors = 15, []

    def writer(state):
        try:
            for _ in range(rounds):
                with platform.db.transaction() as session:
                    service.set_consent(
                        session,
                        POLICY,
                        external_id="ada",
                        purpose="marketing",
                        channel="email",
                        state=state,
                        source=Source.API,
                        actor=f"thread-{state}",
                    )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(s,)) for s in ConsentState]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with platform.db.reading() as session:
        events = session.scalars(select(ConsentEvent).order_by(ConsentEvent.id)).all()
        [row] = session.scalars(select(StateRow)).all()
        assert len(events) == 2 * rounds
        assert row.version == 2 * rounds
        assert (row.state, row.event_id) == (events[-1].state, events[-1].id)
        assert ledger.verify(session).ok
