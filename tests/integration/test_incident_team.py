"""The incident's people and its public word: commander, participants and task owners must be
active staff users; tasks carry due times and are done once; the public statement is what the
trust centre reads through `incidents.public.public_statement`."""

from __future__ import annotations

import json

from sqlalchemy import select

from trustdesk.access.roles import Role
from trustdesk.audit.chain import AuditEntry
from trustdesk.auth import service as auth_service
from trustdesk.incidents.public import public_statement


def staff(platform, *names):
    with platform.db.transaction() as session:
        for name in names:
            auth_service.create_user(
                session, platform.vault, username=name, password="correct-horse-battery",
                role=Role.INCIDENT_MANAGER, actor="test",
            )  # fmt: skip


def test_commander_participants_and_task_owners_are_staff_and_every_change_is_audited(
    cli, platform
):
    staff(platform, "alice", "bob")
    nobody = cli(
        "incidents", "open", "--title", "T", "--aware-at", "2026-03-02T09:00:00Z",
        "--commander", "mallory",
    )  # fmt: skip
    assert nobody.exit_code != 0 and "mallory" in nobody.stderr
    opened = cli(
        "incidents", "open", "--title", "T", "--aware-at", "2026-03-02T09:00:00Z",
        "--commander", "alice", "--json",
    )  # fmt: skip
    iid = str(json.loads(opened.stdout)["id"])
    assert cli("incidents", "participant", iid, "bob").exit_code == 0
    assert cli("incidents", "participant", iid, "eve").exit_code != 0
    added = cli(
        "incidents", "task", "add", iid, "--title", "Rotate the keys", "--owner", "bob",
        "--due-at", "2026-03-03T09:00:00Z",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert cli("incidents", "task", "add", iid, "--title", "X", "--owner", "eve").exit_code != 0
    assert cli("incidents", "task", "done", iid, "1").exit_code == 0
    shown = json.loads(cli("incidents", "show", iid, "--json").stdout)
    assert shown["commander"] == "alice" and shown["participants"] == ["bob"]
    [task] = shown["tasks"]
    assert task["owner"] == "bob" and task["due_at"].startswith("2026-03-03T09:00")
    assert task["done_at"]
    with platform.db.reading() as session:
        actions = set(
            session.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "incident"))
        )
    assert {"incident.opened", "incident.participant_added", "incident.task_added"} <= actions


def test_the_public_statement_is_none_until_staff_write_one(cli, platform):
    opened = cli(
        "incidents", "open", "--title", "Payments breach", "--aware-at", "2026-03-02T09:00:00Z",
        "--json",
    )  # fmt: skip
    iid = json.loads(opened.stdout)["id"]
    assert public_statement(platform, iid) is None
    said = "We were attacked on 2 March and have written to everyone affected."
    assert cli("incidents", "update", str(iid), "--public-statement", said).exit_code == 0
    found = public_statement(platform, iid)
    assert found is not None and found.statement == said and found.title == "Payments breach"
    assert found.status == "detected"


def test_a_marketing_opt_out_does_not_stop_a_breach_notice(cli, platform, tmp_path, smtp_server):
    from tests.integration.test_incident_notices import to_server

    from trustdesk.outbox import public as outbox

    (tmp_path / "c.csv").write_text(
        "external_id,name,email,jurisdiction\nc1,Anna Berg,anna@example.org,DE\n"
    )
    assert cli("customers", "import", str(tmp_path / "c.csv")).exit_code == 0
    withdrawn = cli(
        "consent", "set", "--customer", "c1", "--purpose", "marketing", "--channel", "email",
        "--state", "withdrawn",
    )  # fmt: skip
    assert withdrawn.exit_code == 0, withdrawn.output
    denied = cli("consent", "check", "--customer", "c1", "--purpose", "marketing",
                 "--channel", "email")  # fmt: skip
    assert "denied" in denied.stdout
    opened = cli(
        "incidents", "open", "--title", "Card data stolen", "--aware-at", "2026-03-02T09:00:00Z",
        "--json",
    )  # fmt: skip
    iid = str(json.loads(opened.stdout)["id"])
    (tmp_path / "a.csv").write_text("external_id,data_categories\nc1,name;financial_account\n")
    assert cli("incidents", "affected", "import", iid, str(tmp_path / "a.csv")).exit_code == 0
    drafted = json.loads(cli("incidents", "notices", "draft", iid, "--json").stdout)
    assert cli("incidents", "notices", "approve", iid, str(drafted["id"])).exit_code == 0
    sent = json.loads(cli("incidents", "notify", iid, "--json").stdout)
    assert (sent["queued"], sent["unreachable"]) == (1, 0)
    outbox.deliver_due(to_server(platform, smtp_server), until_empty=True)
    assert smtp_server.counts() == {"anna@example.org": 1}
