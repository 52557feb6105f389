"""Data-subject requests through the real CLI: the export and erase contracts, and the queue."""

from __future__ import annotations

import json
import re
import zipfile

import pytest

CUSTOMERS = (
    "external_id,name,email,phone,segment,jurisdiction\n"
    "ada,Ada Lovelace,ada.lovelace@example.com,+44 20 7946 0000,retail,GB\n"
    "bob,Bob Builder,bob@example.com,,retail,US-CA\n"
)
TICKETS = (
    "id,text,at,customer\n"
    "t1,My parcel to Lovelace Lane never arrived,2024-01-01T00:00:00Z,ada\n"
    "t2,Great service thanks,2024-01-02T00:00:00Z,bob\n"
)


def seed(cli, tmp_path):
    customers = tmp_path / "customers.csv"
    customers.write_text(CUSTOMERS)
    assert cli("customers", "import", str(customers)).exit_code == 0
    tickets = tmp_path / "tickets.csv"
    tickets.write_text(TICKETS)
    result = cli(
        "feedback", "import", str(tickets), "--source", "ticket", "--id-column", "id",
        "--time-column", "at", "--customer-column", "customer",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    granted = cli(
        "consent", "set", "--customer", "ada", "--purpose", "marketing", "--channel", "email",
        "--state", "granted",
    )  # fmt: skip
    assert granted.exit_code == 0, granted.output


def read_zip(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


def test_export_writes_a_zip_with_every_section_decrypted(cli, tmp_path):
    seed(cli, tmp_path)
    target = tmp_path / "ada.zip"
    result = cli("privacy", "export", "--customer", "ada", "--output", str(target))
    assert result.exit_code == 0, result.output
    files = read_zip(target)
    assert {"README.txt", "manifest.json", "customer.json", "consents.json"} <= set(files)
    assert {"consent_history.json", "feedback.json", "trust.json", "requests.json"} <= set(files)
    customer = json.loads(files["customer.json"])
    assert customer["name"] == "Ada Lovelace" and customer["email"] == "ada.lovelace@example.com"
    feedback = json.loads(files["feedback.json"])
    assert [f["text"] for f in feedback] == ["My parcel to Lovelace Lane never arrived"]
    history = json.loads(files["consent_history.json"])
    assert history[0]["purpose"] == "marketing" and history[0]["state"] == "granted"
    manifest = json.loads(files["manifest.json"])
    assert manifest["customer"] == "ada" and manifest["files"]["feedback.json"] == 1
    # The customer file is one record (its fields are not items); counts agree with their nouns.
    assert manifest["files"]["customer.json"] == 1
    assert re.search(r"customer\.json +1 record\n", files["README.txt"])
    assert "item(s)" not in files["README.txt"] and " 1 records" not in files["README.txt"]
    # Nothing of another customer leaks into the export.
    assert "bob" not in "".join(files.values()).lower()
    # The export is an access request, completed, with every step on the audit trail.
    listed = json.loads(cli("privacy", "requests", "list", "--all", "--json").stdout)
    assert [(r["type"], r["status"], r["customer_id"]) for r in listed] == [
        ("access", "completed", "ada")
    ]
    shown = json.loads(cli("privacy", "requests", "show", str(listed[0]["id"])).stdout)
    assert [s["action"] for s in shown["steps"]] == [
        "received", "identity_verified", "exported", "completed",
    ]  # fmt: skip
    assert "Ada" not in json.dumps(shown["steps"])


def test_erase_verifies_and_the_export_afterwards_is_empty(cli, settings, backend, tmp_path):
    seed(cli, tmp_path)
    backup = tmp_path / "before.db"
    assert cli("db", "backup", str(backup)).exit_code == 0
    result = cli("privacy", "erase", "--customer", "ada")
    assert result.exit_code == 0, result.output
    assert "data key destroyed:          yes" in result.stdout
    assert result.stdout.strip().endswith("verified")
    target = tmp_path / "after.zip"
    assert cli("privacy", "export", "--customer", "ada", "--output", str(target)).exit_code == 0
    files = read_zip(target)
    sections = {n: json.loads(t) for n, t in files.items() if n.endswith(".json")}
    sections.pop("manifest.json")
    assert sections and all(v in ([], {}) for v in sections.values()), sections
    assert "Lovelace" not in "".join(files.values())
    if backend == "sqlite":
        live = settings.data_dir / "trustdesk.db"
        raw = b"".join(
            p.read_bytes() for p in (live, live.with_name(live.name + "-wal"), backup) if p.exists()
        )
        for secret in (b"Ada Lovelace", b"ada.lovelace@example.com", b"Lovelace Lane"):
            assert secret not in raw
    # The other customer is untouched.
    other = tmp_path / "bob.zip"
    assert cli("privacy", "export", "--customer", "bob", "--output", str(other)).exit_code == 0
    assert json.loads(read_zip(other)["customer.json"])["name"] == "Bob Builder"


def test_unknown_customer_is_a_clear_error_and_nothing_is_stored(cli, tmp_path):
    erased = cli("privacy", "erase", "--customer", "nobody")
    assert erased.exit_code == 3 and "no customer 'nobody'" in erased.stderr
    exported = cli("privacy", "export", "--customer", "nobody", "--output", str(tmp_path / "x.zip"))
    assert exported.exit_code == 3 and not (tmp_path / "x.zip").exists()
    assert json.loads(cli("privacy", "requests", "list", "--all", "--json").stdout) == []


def test_erasing_twice_is_refused(cli, tmp_path):
    seed(cli, tmp_path)
    assert cli("privacy", "erase", "--customer", "ada").exit_code == 0
    again = cli("privacy", "erase", "--customer", "ada")
    assert again.exit_code == 4 and "already erased" in again.stderr


def test_a_request_cannot_be_carried_out_before_identity_is_verified(cli, tmp_path):
    seed(cli, tmp_path)
    opened = json.loads(
        cli("privacy", "requests", "open", "--customer", "ada", "--type", "objection",
            "--purpose", "marketing", "--json").stdout
    )  # fmt: skip
    assert opened["status"] == "received" and opened["regime"] == "uk_gdpr"
    refused = cli("privacy", "requests", "complete", str(opened["id"]))
    assert refused.exit_code == 4 and "identity must be verified" in refused.stderr
    assert cli("privacy", "requests", "verify", str(opened["id"]), "--method", "passport seen")
    done = json.loads(cli("privacy", "requests", "complete", str(opened["id"]), "--json").stdout)
    assert done["status"] == "completed" and "marketing/email" in done["outcome"]["withdrawn"]
    check = cli("consent", "check", "--customer", "ada", "--purpose", "marketing",
                "--channel", "email", "--json")  # fmt: skip
    assert json.loads(check.stdout) == {"allowed": False, "reason": "record"}


def test_rectification_re_encrypts_the_corrected_field(cli, tmp_path):
    seed(cli, tmp_path)
    opened = json.loads(
        cli("privacy", "requests", "open", "--customer", "ada", "--type", "rectification",
            "--change", "email=ada@lovelace.example", "--json").stdout
    )  # fmt: skip
    assert opened["fields"] == ["email"]
    cli("privacy", "requests", "verify", str(opened["id"]), "--method", "reply from old address")
    done = json.loads(cli("privacy", "requests", "complete", str(opened["id"]), "--json").stdout)
    assert done["outcome"] == {"fields": ["email"]}
    shown = json.loads(cli("customers", "show", "ada", "--json").stdout)
    assert shown["email"] == "ada@lovelace.example" and shown["name"] == "Ada Lovelace"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("--type", "objection"), "at least one purpose"),
        (("--type", "objection", "--purpose", "breach_notice"), "rests on legal obligation"),
        (("--type", "rectification", "--change", "email=not-an-email"), "email"),
        (("--type", "deletion"), "--type must be one of"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(cli, tmp_path, args, reason):
    seed(cli, tmp_path)
    result = cli("privacy", "requests", "open", "--customer", "ada", *args)
    assert result.exit_code == 2 and reason in result.stderr
    assert json.loads(cli("privacy", "requests", "list", "--all", "--json").stdout) == []


def test_extension_is_allowed_once_with_a_reason(cli, tmp_path):
    seed(cli, tmp_path)
    opened = json.loads(
        cli("privacy", "requests", "open", "--customer", "bob", "--type", "access",
            "--json").stdout
    )  # fmt: skip
    assert opened["regime"] == "ccpa"
    extended = json.loads(
        cli("privacy", "requests", "extend", str(opened["id"]), "--reason", "large archive",
            "--json").stdout
    )  # fmt: skip
    assert extended["extended"] and extended["due_at"] > opened["due_at"]
    again = cli("privacy", "requests", "extend", str(opened["id"]), "--reason", "more")
    assert again.exit_code == 4 and "already extended" in again.stderr


def test_the_export_holds_the_customers_payments_until_they_are_erased(cli, tmp_path):
    seed(cli, tmp_path)
    payments = tmp_path / "payments.csv"
    payments.write_text(
        "transaction_id,at,customer_id,terminal_id,amount,currency,channel,label,label_known_at\n"
        "p-1,2024-03-01T10:00:00Z,ada,t1,12.00,GBP,online,chargeback,2024-03-20T00:00:00Z\n"
        "p-2,2024-03-02T10:00:00Z,bob,t1,15.00,USD,pos,,\n"
    )
    assert cli("fraud", "import", "--transactions", str(payments)).exit_code == 0
    before = tmp_path / "before.zip"
    assert cli("privacy", "export", "--customer", "ada", "--output", str(before)).exit_code == 0
    listed = json.loads(read_zip(before)["payments.json"])
    assert [(p["transaction_id"], p["amount"], p["currency"]) for p in listed] == [
        ("p-1", "12.00", "GBP")
    ]
    assert [o["outcome"] for o in listed[0]["outcomes"]] == ["chargeback"]
    assert cli("privacy", "erase", "--customer", "ada").exit_code == 0
    after = tmp_path / "after.zip"
    assert cli("privacy", "export", "--customer", "ada", "--output", str(after)).exit_code == 0
    assert json.loads(read_zip(after)["payments.json"]) == []
