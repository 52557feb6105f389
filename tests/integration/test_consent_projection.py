"""The consent_state projection lives outside the hash chain: editing it must not make any check
more permissive than the ledger, `consent verify` must name the difference, and `--repair`
rebuilds it from the ledger. On SQLite and PostgreSQL."""

from __future__ import annotations

import json

from sqlalchemy import delete, select, text

from trustdesk.audit.chain import AuditEntry
from trustdesk.customers import service as customer_service
from trustdesk.customers.schemas import CustomerIn
from trustdesk.privacy.consent import enforcement, service
from trustdesk.privacy.consent.policy import ConsentState, load_policy
from trustdesk.privacy.consent.schemas import Source
from trustdesk.privacy.models import ConsentEvent
from trustdesk.privacy.models import ConsentState as StateRow

POLICY = load_policy()
EMAIL = {"purpose": "marketing", "channel": "email"}


def make_customer(platform, external_id, jurisdiction):
    records = [CustomerIn(external_id=external_id, jurisdiction=jurisdiction)]
    with platform.db.transaction() as session:
        customer_service.upsert_customers(session, platform.vault, records, actor="test")


def choose(platform, external_id, *states):
    with platform.db.transaction() as session:
        for state in states:
            service.set_consent(
                session,
                POLICY,
                external_id=external_id,
                state=ConsentState(state),
                source=Source.STAFF,
                actor="test",
                **EMAIL,
            )


def tamper(platform, sql):
    with platform.db.transaction() as session:
        session.execute(text(sql))


def cli_check(cli, external_id):
    result = cli("consent", "check", "--customer", external_id, "--json", *_email_options())
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _email_options():
    return ("--purpose", "marketing", "--channel", "email")


def test_a_projection_edited_to_granted_allows_nothing_the_ledger_does_not(cli, api, platform):
    make_customer(platform, "ada", "DE")
    choose(platform, "ada", "granted", "withdrawn")
    assert cli_check(cli, "ada")["allowed"] is False

    tamper(platform, "UPDATE consent_state SET state = 'granted'")

    assert cli_check(cli, "ada") == {"allowed": False, "reason": "record"}
    checked = api.get("/api/v1/consent/check", params={"customer_id": "ada", **EMAIL})
    assert checked.json()["allowed"] is False
    bulk = api.post("/api/v1/consent/filter", json={"customer_ids": ["ada"], **EMAIL})
    assert bulk.status_code == 200, bulk.text
    assert bulk.json()["allowed"] == [] and bulk.json()["denied"] == {"ada": "record"}
    with platform.db.reading() as session:
        prefs = {(p.purpose, p.channel): p for p in service.preferences(session, POLICY, "ada")}
    assert prefs[("marketing", "email")].allowed is False
    assert prefs[("marketing", "email")].version == 2


def test_a_deleted_projection_row_does_not_fall_back_to_an_opt_out_default(cli, platform):
    make_customer(platform, "sam", "US")  # marketing email is opt-out there: allowed by default
    assert cli_check(cli, "sam") == {"allowed": True, "reason": "default_regime"}
    choose(platform, "sam", "withdrawn")
    tamper(platform, "DELETE FROM consent_state")
    assert cli_check(cli, "sam") == {"allowed": False, "reason": "record"}
    with platform.db.reading() as session:
        customer_ids = [session.scalar(select(ConsentEvent.customer_id))]
        decisions = enforcement.check_ids(session, POLICY, customer_ids, **EMAIL)
    assert [d.allowed for d in decisions.values()] == [False]


def test_stop_all_withdraws_what_the_ledger_grants_even_if_the_projection_says_withdrawn(platform):
    make_customer(platform, "ada", "DE")
    choose(platform, "ada", "granted")
    tamper(platform, "UPDATE consent_state SET state = 'withdrawn'")
    with platform.db.transaction() as session:
        stopped = service.stop_all(
            session, POLICY, external_id="ada", source=Source.STAFF, actor="test"
        )
    assert ("marketing", "email") in {(e.purpose, e.channel) for e in stopped}


def test_verify_names_the_projection_mismatch_and_repair_rebuilds_it(cli, platform):
    make_customer(platform, "ada", "DE")
    make_customer(platform, "bob", "GB")
    choose(platform, "ada", "granted", "withdrawn")
    choose(platform, "bob", "granted")
    assert cli("consent", "verify").exit_code == 0

    tamper(platform, "UPDATE consent_state SET state = 'granted' WHERE event_id = 2")
    found = cli("consent", "verify")
    assert found.exit_code == 1
    assert "consent ledger intact: 3 events verified" in found.stdout  # the chain is fine ...
    assert "differs from the ledger in 1 preference;" in found.stderr  # ... the projection is not
    assert "customer ada, marketing/email: projection granted, ledger withdrawn (event 2)" in (
        found.stderr
    )
    report = json.loads(cli("consent", "verify", "--json").stdout)
    assert report["ok"] is True and report["projection"]["ok"] is False
    assert report["projection"]["first"] == [
        {
            "customer_id": "ada",
            "purpose": "marketing",
            "channel": "email",
            "projection_state": "granted",
            "ledger_state": "withdrawn",
            "ledger_event_id": 2,
        }
    ]

    repaired = cli("consent", "verify", "--repair")
    assert repaired.exit_code == 0, repaired.output
    assert "rebuilt from the ledger: 1 corrected" in repaired.stdout
    assert cli("consent", "verify").exit_code == 0
    with platform.db.reading() as session:
        rows = {r.event_id: (r.state, r.version) for r in session.scalars(select(StateRow))}
        audited = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "consent.projection_rebuilt")
        ).all()
    assert rows == {2: ("withdrawn", 2), 3: ("granted", 1)}
    assert audited == ["consent.projection_rebuilt"]


def test_verify_finds_missing_and_extra_rows_and_the_api_reports_them(api, platform):
    make_customer(platform, "ada", "DE")
    choose(platform, "ada", "granted")
    tamper(platform, "DELETE FROM consent_state")
    with platform.db.transaction() as session:
        session.add(
            StateRow(
                customer_id=999,
                purpose="marketing",
                channel="sms",
                state="granted",
                event_id=77,
                version=1,
                updated_at=session.scalar(select(ConsentEvent.at)),
            )
        )
    body = api.get("/api/v1/consent/verify").json()
    assert body["ok"] is True and body["checked"] == 1
    assert body["projection"]["mismatches"] == 2
    named = {
        (m["customer_id"], m["projection_state"], m["ledger_state"])
        for m in body["projection"]["first"]
    }
    assert named == {("ada", None, "granted"), ("#999", "granted", None)}


def test_repair_is_refused_while_the_ledger_itself_is_broken(cli, platform):
    make_customer(platform, "ada", "DE")
    choose(platform, "ada", "granted", "withdrawn")
    with platform.db.transaction() as session:
        session.get(ConsentEvent, 1).state = "withdrawn"  # the chain breaks at event 1
        session.execute(delete(StateRow))
    result = cli("consent", "verify", "--repair")
    assert result.exit_code == 1
    assert "broken at event 1" in result.stderr
    assert "no repair while the ledger itself is broken" in result.stderr
    with platform.db.reading() as session:
        assert session.scalars(select(StateRow)).all() == []
