"""Complaint cases through the real CLI and API: the contracts, intake idempotency, routing,
encryption, the workflow, SLA clocks and figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from trustdesk.cases import service, sla
from trustdesk.cases.config import current_config
from trustdesk.cases.intake import open_case
from trustdesk.cases.models import Case, CaseContact
from trustdesk.cases.public import evaluate_sla
from trustdesk.cases.routing import keyword_classifier
from trustdesk.cases.schemas import CaseIn
from trustdesk.cases.stats import case_figures

CUSTOMERS = (
    "external_id,name,email,phone,segment,jurisdiction\n"
    "c1,Ada Lovelace,ada@example.com,,retail,GB\n"
    "c2,Alan Turing,alan@example.com,,business,GB\n"
)


@pytest.fixture
def customers(cli, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")
    assert cli("customers", "import", str(path)).exit_code == 0


def test_sla_calc_contract_skips_uk_christmas_and_its_substitute(cli):
    result = cli(
        "cases", "sla-calc", "--start", "2026-12-24T16:00:00+00:00", "--hours", "2",
        "--timezone", "Europe/London", "--holidays", "GB", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["due_at"] == "2026-12-29T10:00:00+00:00"


def test_sla_calc_with_custom_hours_and_a_subdivision(cli):
    result = cli(
        "cases", "sla-calc", "--start", "2026-07-02T15:00:00-07:00", "--hours", "3.5",
        "--timezone", "America/Los_Angeles", "--holidays", "US-CA", "--open", "08:00-18:00",
        "--json",
    )  # fmt: skip
    assert json.loads(result.stdout)["due_at"] == "2026-07-06T08:30:00-07:00"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("--start", "yesterday"), "ISO 8601"),
        (("--start", "2026-01-05T10:00:00"), "offset"),
        (("--timezone", "Europe/Atlantis"), "time zone"),
        (("--holidays", "ZZ"), "holiday code"),
        (("--hours", "-3"), "zero or more"),
        (("--open", "18:00-08:00"), "before the close"),
    ],
)
def test_sla_calc_refuses_bad_input_with_one_line(cli, args, reason):
    base = {
        "--start": "2026-01-05T10:00:00Z", "--hours": "2", "--timezone": "UTC",
        "--holidays": "GB", "--open": "09:00-17:00",
    }  # fmt: skip
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    result = cli("cases", "sla-calc", *[x for kv in base.items() for x in kv], "--json")
    assert result.exit_code == 2
    assert reason in result.output
    assert "Traceback" not in result.output


def test_open_contract_routes_and_is_idempotent(cli, customers):
    args = (
        "cases", "open", "--channel", "api", "--external-id", "T-1", "--subject", "Card stolen",
        "--body", "My card was stolen yesterday and someone used it", "--customer", "c1", "--json",
    )  # fmt: skip
    first = cli(*args)
    assert first.exit_code == 0, first.output
    opened = json.loads(first.stdout)
    assert set(opened) == {
        "id",
        "category",
        "probability",
        "queue",
        "priority",
        "first_response_due",
    }
    assert (opened["category"], opened["queue"], opened["priority"]) == (
        "lost_or_stolen_card", "fraud", "urgent",
    )  # fmt: skip
    assert datetime.fromisoformat(opened["first_response_due"]).tzinfo is not None
    again = json.loads(cli(*args).stdout)
    assert again["id"] == opened["id"]


def test_open_with_an_unknown_customer_is_a_clear_error(cli):
    result = cli(
        "cases", "open", "--external-id", "T-2", "--subject", "s", "--body", "b",
        "--customer", "nobody",
    )  # fmt: skip
    assert result.exit_code == 3
    assert "no customer with external id 'nobody'" in result.output


def test_api_intake_is_idempotent_and_encrypts_the_complaint(api, platform, customers):
    body = {
        "channel": "api", "external_id": "A-1", "subject": "Refund please",
        "body": "I asked for a refund three weeks ago", "email": "ada@example.com",
    }  # fmt: skip
    first = api.post("/api/v1/cases", json=body)
    assert first.status_code == 201, first.text
    second = api.post("/api/v1/cases", json=body)
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    case_id = first.json()["id"]
    with platform.db.reading() as session:
        row = session.get(Case, case_id)
        assert row is not None and row.customer_id is not None  # matched by email blind index
        assert b"refund" not in (row.body_enc or b"").lower()
        assert row.segment == "retail"
    shown = api.get(f"/api/v1/cases/{case_id}").json()
    assert shown["body"] == "I asked for a refund three weeks ago"
    assert shown["customer"] == "c1" and shown["queue"] == "billing"


def test_viewer_sees_the_case_but_not_its_text(api, client, token_for):
    case_id = api.post(
        "/api/v1/cases", json={"external_id": "V-1", "subject": "s", "body": "fraud on my card"}
    ).json()["id"]
    client.headers["Authorization"] = f"Bearer {token_for('viewer')}"
    shown = client.get(f"/api/v1/cases/{case_id}")
    assert shown.status_code == 200 and shown.json()["body"] is None
    assert (
        client.post(
            "/api/v1/cases", json={"external_id": "V-2", "subject": "s", "body": "b"}
        ).status_code
        == 403
    )


def test_bad_intake_is_refused_and_nothing_is_stored(api, platform):
    too_long = api.post(
        "/api/v1/cases", json={"external_id": "B-1", "subject": "s", "body": "x" * 20_001}
    )
    assert too_long.status_code == 422
    unknown = api.post(
        "/api/v1/cases",
        json={"external_id": "B-2", "subject": "s", "body": "b", "customer": "ghost"},
    )
    assert unknown.status_code == 404 and "ghost" in unknown.json()["detail"]
    bad_channel = api.post(
        "/api/v1/cases",
        json={"channel": "pigeon", "external_id": "B-3", "subject": "s", "body": "b"},
    )
    assert bad_channel.status_code == 422
    assert "channel" in bad_channel.json()["detail"]
    assert "'api'" in bad_channel.json()["detail"]  # the allowed channels are named
    with platform.db.reading() as session:
        assert session.scalars(select(Case)).all() == []


def test_unsure_predictions_go_to_triage(api):
    opened = api.post(
        "/api/v1/cases", json={"external_id": "U-1", "subject": "Hello", "body": "Not happy."}
    ).json()
    assert (opened["category"], opened["queue"]) == ("unknown", "triage")


def test_unknown_sender_becomes_a_contact_merged_into_a_customer_later(
    cli, api, platform, customers
):
    for n in (1, 2):
        api.post(
            "/api/v1/cases",
            json={"external_id": f"K-{n}", "subject": "s", "body": f"complaint {n}",
                  "email": "stranger@example.com", "name": "Stranger"},
        )  # fmt: skip
    with platform.db.reading() as session:
        contacts = session.scalars(select(CaseContact)).all()
        assert len(contacts) == 1  # the same sender, found again through the blind index
        contact_id = contacts[0].id
    result = cli("cases", "merge-contact", str(contact_id), "--customer", "c2")
    assert result.exit_code == 0, result.output
    with platform.db.reading() as session:
        cases = session.scalars(select(Case).order_by(Case.id)).all()
        assert {c.customer_id for c in cases} != {None} and all(c.contact_id is None for c in cases)
        detail = service.get_case(session, platform.vault, cases[0].id, reveal=True)
    assert detail.body == "complaint 1" and detail.customer == "c2"


def test_the_workflow_allows_only_its_transitions_and_audits_each_step(api, cli):
    case_id = api.post(
        "/api/v1/cases",
        json={"external_id": "W-1", "subject": "Card stolen", "body": "my card was stolen"},
    ).json()["id"]
    assert (
        api.post(f"/api/v1/cases/{case_id}/status", json={"status": "reopened"}).status_code == 409
    )
    api.post(f"/api/v1/cases/{case_id}/assignment", json={"team": "fraud", "assignee": "sam"})
    api.post(f"/api/v1/cases/{case_id}/notes", json={"text": "called the bank"})
    api.post(f"/api/v1/cases/{case_id}/playbook-steps")
    api.post(f"/api/v1/cases/{case_id}/links", json={"kind": "fraud_review", "target": "tx-9"})
    api.post(f"/api/v1/cases/{case_id}/replies", json={"text": "We blocked the card."})
    api.post(f"/api/v1/cases/{case_id}/status", json={"status": "resolved"})
    reopened = api.post(f"/api/v1/cases/{case_id}/status", json={"status": "reopened"}).json()
    assert reopened["status"] == "reopened" and reopened["reopen_count"] == 1
    assert reopened["playbook"] == "suspected_fraud" and reopened["playbook_done"] == 1
    assert reopened["links"] == [{"kind": "fraud_review", "target": "tx-9"}]
    kinds = [e["kind"] for e in reopened["events"]]
    assert kinds == ["opened", "assigned", "note", "step", "linked", "reply", "status", "status"]
    trail = cli("audit", "list", "--entity-type", "case", "--entity-id", str(case_id), "--json")
    actions = [e["action"] for e in json.loads(trail.stdout)]
    assert {"case.opened", "case.assigned", "case.note", "case.reply", "case.status"} <= set(
        actions
    )
    assert "called the bank" not in trail.stdout  # the note's text never reaches the trail


def test_merging_a_duplicate_closes_it_and_links_it(api):
    first = api.post(
        "/api/v1/cases", json={"external_id": "M-1", "subject": "s", "body": "b"}
    ).json()
    dup = api.post("/api/v1/cases", json={"external_id": "M-2", "subject": "s", "body": "b"}).json()
    merged = api.post(f"/api/v1/cases/{dup['id']}/merge", json={"into": first["id"]})
    assert merged.status_code == 200 and merged.json()["id"] == first["id"]
    assert {"kind": "case", "target": str(dup["id"])} in merged.json()["links"]
    assert api.get(f"/api/v1/cases/{dup['id']}").json()["status"] == "closed"
    assert (
        api.post(f"/api/v1/cases/{dup['id']}/merge", json={"into": first["id"]}).status_code == 409
    )


def _open(platform, external_id: str, at: datetime, text: str = "my card was stolen") -> int:
    with platform.db.transaction() as session:
        return open_case(
            session, platform.vault,
            CaseIn(external_id=external_id, subject="s", body=text, at=at),
            classify=keyword_classifier, actor="test", now=at,
        ).id  # fmt: skip


def test_waiting_on_the_customer_stops_the_clock(platform):
    # Fraud queue: 07:00-22:00 London, every weekday; urgent = 1 h to first response.
    opened = datetime(2026, 6, 8, 9, 0, tzinfo=UTC)  # Monday 10:00 BST
    case_id = _open(platform, "P-1", opened)
    with platform.db.transaction() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.first_response_due == opened + timedelta(hours=1)
        service.change_status(
            session, case_id, "waiting_on_customer", actor="t", now=opened + timedelta(minutes=20)
        )
        service.change_status(session, case_id, "open", actor="t", now=opened + timedelta(hours=5))
        case = session.get(Case, case_id)
        assert case is not None
        # 40 minutes were left when the clock stopped: due 40 minutes after it restarted.
        assert case.first_response_due == opened + timedelta(hours=5, minutes=40)


def test_amber_then_breach_escalates_once_and_counts_in_the_figures(platform):
    opened = datetime(2026, 6, 8, 9, 0, tzinfo=UTC)
    case_id = _open(platform, "S-1", opened)
    with platform.db.transaction() as session:
        service.assign(session, case_id, team="fraud", assignee="sam", actor="t", now=opened)
        amber = sla.evaluate_sla_in(session, now=opened + timedelta(minutes=50))
        assert amber.amber == 1 and amber.breached == 0
        late = sla.evaluate_sla_in(session, now=opened + timedelta(minutes=61))
        assert late.newly_breached == [case_id]
        again = sla.evaluate_sla_in(session, now=opened + timedelta(minutes=90))
        assert again.breached == 1 and again.newly_breached == []
        case = session.get(Case, case_id)
        assert case is not None and (case.team, case.assignee) == ("supervisors", None)
        service.reply(
            session, platform.vault, case_id, "sorry", actor="t", now=opened + timedelta(hours=2)
        )
        figures = case_figures(session, now=opened + timedelta(hours=3))
    assert figures["overall"]["timely_response_rate"] == 0.0
    assert figures["overall"]["median_first_response_hours"] == 2.0
    assert figures["by_queue"]["fraud"]["breached"] == 1


def test_evaluate_sla_for_the_scheduler_and_stats_through_cli_and_api(platform, cli, api):
    _open(platform, "E-1", datetime(2026, 6, 8, 9, 0, tzinfo=UTC))
    report = evaluate_sla(platform)
    assert report.evaluated == 1 and report.breached == 1  # opened long ago
    stats = json.loads(cli("cases", "stats", "--json").stdout)
    assert stats["overall"]["cases"] == 1 and stats["overall"]["timely_response_rate"] == 0.0
    assert api.get("/api/v1/cases/stats").json()["by_queue"]["fraud"]["breached"] == 1


def test_inbox_pages_newest_first_by_keyset(api):
    ids = [
        api.post(
            "/api/v1/cases", json={"external_id": f"I-{n}", "subject": "s", "body": "b"}
        ).json()["id"]
        for n in range(5)
    ]
    page = api.get("/api/v1/cases", params={"limit": 2}).json()
    assert [c["id"] for c in page["items"]] == ids[::-1][:2]
    rest = api.get("/api/v1/cases", params={"limit": 10, "cursor": page["next_cursor"]}).json()
    assert [c["id"] for c in rest["items"]] == ids[::-1][2:] and rest["next_cursor"] is None
    assert api.get("/api/v1/cases", params={"queue": "triage"}).json()["items"]


def test_csv_import_keeps_good_rows_names_bad_ones_and_is_idempotent(cli, tmp_path, customers):
    path = tmp_path / "cases.csv"
    path.write_text(
        "external_id,subject,body,customer\n"
        "X-1,Refund,I want a refund,c1\n"
        "X-2,,empty subject,c1\n"
        "X-3,Hello,who am I,ghost\n"
        "X-4,Fees,you charged a fee twice,\n",
        encoding="utf-8",
    )
    first = cli("cases", "import", str(path), "--json")
    report = json.loads(first.stdout)
    assert first.exit_code == 2 and report["created"] == 2
    assert [r["row"] for r in report["rejected"]] == [2, 3]
    second = json.loads(cli("cases", "import", str(path), "--json").stdout)
    assert (second["created"], second["unchanged"]) == (0, 2)


def test_rules_are_editable_and_versioned(cli, platform):
    result = cli(
        "cases", "config", "set-rule", "unknown", "--queue", "general", "--priority", "low"
    )
    assert result.exit_code == 0, result.output
    with platform.db.reading() as session:
        config = current_config(session)
    assert config.route("unknown", 0.9).queue == "general"
    bad = cli("cases", "config", "set-rule", "x", "--queue", "q", "--priority", "asap")
    assert bad.exit_code == 2 and "priority" in bad.output


def test_access_export_holds_the_complaints_and_erasure_shreds_them(
    cli, platform, tmp_path, customers
):
    import zipfile

    opened = cli(
        "cases", "open", "--external-id", "R-1", "--subject", "Lovelace Lane parcel",
        "--body", "Charged twice for the parcel to Lovelace Lane", "--customer", "c1",
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    target = tmp_path / "c1.zip"
    assert cli("privacy", "export", "--customer", "c1", "--output", str(target)).exit_code == 0
    with zipfile.ZipFile(target) as archive:
        exported = json.loads(archive.read("cases.json"))
    assert [c["body"] for c in exported] == ["Charged twice for the parcel to Lovelace Lane"]
    erased = cli("privacy", "erase", "--customer", "c1")
    assert erased.exit_code == 0 and erased.stdout.strip().endswith("verified"), erased.output
    with platform.db.reading() as session:
        row = session.scalars(select(Case)).one()
        assert row.body_enc is None and row.subject_enc is None
        assert service.get_case(session, platform.vault, row.id, reveal=True).body is None


def test_a_reply_is_queued_as_email_to_the_customer_or_the_contact(api, platform, customers):
    from trustdesk.outbox.public import message_statuses

    known = api.post(
        "/api/v1/cases",
        json={"external_id": "O-1", "subject": "Refund", "body": "refund me", "customer": "c1"},
    ).json()["id"]
    stranger = api.post(
        "/api/v1/cases",
        json={"external_id": "O-2", "subject": "Fees", "body": "a fee", "email": "x@example.org"},
    ).json()["id"]
    anonymous = api.post(
        "/api/v1/cases", json={"external_id": "O-3", "subject": "Hi", "body": "no address"}
    ).json()["id"]
    for case_id in (known, stranger, anonymous):
        done = api.post(f"/api/v1/cases/{case_id}/replies", json={"text": "We are on it."})
        assert done.status_code == 200, done.text
        assert done.json()["first_response_at"] is not None
    with platform.db.reading() as session:
        events = {
            case_id: next(
                e
                for e in service.get_case(session, platform.vault, case_id, reveal=False).events
                if e.kind == "reply"
            )
            for case_id in (known, stranger, anonymous)
        }
        keys = [f"case:{c}:reply:{events[c].id}" for c in (known, stranger, anonymous)]
        statuses = message_statuses(session, keys)
    assert set(statuses) == set(keys[:2])  # no address, no email: the reply is only recorded
    assert events[anonymous].detail["email"] is False


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_demo_opens_real_cfpb_complaints_some_past_their_sla(platform, cli):
    from trustdesk.cases.demo import load_demo_cases

    said: list[str] = []
    load_demo_cases(platform, said.append)
    with platform.db.reading() as session:
        figures = case_figures(session)
    assert figures["overall"]["cases"] >= 300  # no demo customers here: the CFPB complaints
    assert figures["overall"]["breached"] > 0 and figures["overall"]["timely_response_rate"]
    assert len(figures["by_queue"]) > 2
    load_demo_cases(platform, said.append)
    assert said[1].startswith("cases: 0 opened")


def test_cases_are_routed_by_the_installed_intent_model(cli, api, settings, tmp_path):
    data = tmp_path / "intents.csv"
    rows = ["text,label"]
    for n in range(20):
        rows.append(f"my card number {n} was stolen by a thief,lost_or_stolen_card")
        rows.append(f"please send refund number {n} for my order,request_refund")
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = settings.data_dir / "models" / "intents"
    trained = cli(
        "model", "train", "--task", "classify", "--data", str(data), "--text-column", "text",
        "--label-column", "label", "--out", str(out), "--no-embeddings",
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    opened = api.post(
        "/api/v1/cases",
        json={"external_id": "ML-1", "subject": "Refund", "body": "please send my refund"},
    ).json()
    assert opened["category"] == "request_refund" and opened["queue"] == "billing"
    assert 0.5 <= opened["probability"] <= 1


def test_very_negative_feedback_from_a_known_customer_opens_a_case_once(cli, tmp_path, customers):
    tickets = tmp_path / "tickets.csv"
    tickets.write_text(
        "id,text,at,customer\n"
        "t1,Terrible awful service. You lost my money and nobody answers. Worst bank ever.,"
        "2026-01-05T10:00:00Z,c1\n"
        "t2,Great service thank you so much you were wonderful,2026-01-05T11:00:00Z,c2\n"
        "t3,Terrible awful service. Worst bank ever. I am furious.,2026-01-05T12:00:00Z,\n",
        encoding="utf-8",
    )
    imported = cli(
        "feedback", "import", str(tickets), "--source", "ticket", "--id-column", "id",
        "--time-column", "at", "--customer-column", "customer",
    )  # fmt: skip
    assert imported.exit_code == 0, imported.output
    first = cli("cases", "from-feedback", "--min-negative", "0.6", "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["opened"] == 1  # t1 only: t2 is praise, t3 has no customer
    again = cli("cases", "from-feedback", "--min-negative", "0.6", "--json")
    assert json.loads(again.stdout)["opened"] == 0
    listed = json.loads(cli("cases", "list", "--json").stdout)["items"]
    assert [c["channel"] for c in listed] == ["feedback"]
