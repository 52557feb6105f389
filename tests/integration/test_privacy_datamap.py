"""The data map and the privacy notice through the real API, CLI and public pages."""

from __future__ import annotations

import json
import re

import yaml
from sqlalchemy import func, select

from trustdesk.access.roles import Role
from trustdesk.privacy.datamap.datamap import DEFAULT_DATAMAP
from trustdesk.privacy.models import DataMapVersion, NoticeVersion


def shipped():
    return yaml.safe_load(DEFAULT_DATAMAP.read_text())


def stored(platform):
    with platform.db.reading() as session:
        return (
            session.scalar(select(func.count()).select_from(DataMapVersion)),
            session.scalar(select(func.count()).select_from(NoticeVersion)),
        )


def test_a_datamap_change_publishes_a_new_notice_and_the_old_one_stays_readable(
    api, client, platform
):
    before = client.get("/privacy-notice")
    assert before.status_code == 200 and "3 years from when you sent it" in before.text
    changed = shipped()
    changed["systems"][1]["retention"] = "18 months from when you sent it"
    saved = api.put("/api/v1/privacy/datamap", json=changed)
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"datamap_version": 1, "notice_version": 1, "changed": True}
    assert api.put("/api/v1/privacy/datamap", json=changed).json()["changed"] is False
    del client.headers["Authorization"]  # the notice is public
    now = client.get("/privacy-notice")
    assert "18 months" in now.text and "3 years from when you sent it" not in now.text
    old = client.get("/privacy-notice/v/0")
    assert old.status_code == 200 and "3 years from when you sent it" in old.text
    assert "This is an earlier version" in old.text
    diff = client.get("/privacy-notice/diff/0/1")
    assert "-- Feedback and support messages: 3 years" in diff.text.replace("&#34;", '"')
    api_diff = client.get("/api/v1/privacy/notice/diff", params={"a": 0, "b": 1}).json()["diff"]
    assert "+- Feedback and support messages: 18 months from when you sent it." in api_diff
    md = client.get("/api/v1/privacy/notice", params={"format": "markdown"})
    assert md.text.startswith("# How we use your personal data\n\nVersion 1.")
    assert client.get("/privacy-notice/v/7").status_code == 404


def test_a_bad_datamap_is_a_422_naming_the_field_and_nothing_is_stored(api, platform):
    bad = shipped()
    bad["systems"][0]["categories"] = ["gossip"]
    answer = api.put("/api/v1/privacy/datamap", json=bad)
    assert answer.status_code == 422 and "systems[0].categories[0]" in answer.json()["detail"]
    assert stored(platform) == (0, 0)


def test_only_privacy_staff_may_read_or_change_the_datamap(client, token_for):
    client.headers["Authorization"] = f"Bearer {token_for(Role.AGENT)}"
    assert client.get("/api/v1/privacy/datamap").status_code == 403
    assert client.put("/api/v1/privacy/datamap", json=shipped()).status_code == 403
    client.headers["Authorization"] = f"Bearer {token_for(Role.PRIVACY_OFFICER)}"
    assert client.get("/api/v1/privacy/datamap").json()["version"] == 0


def test_cli_loads_shows_and_lists_versions_and_diffs_notices(cli, platform, tmp_path):
    changed = shipped()
    changed["controller"]["contact_email"] = "dpo@trustdesk.example"
    path = tmp_path / "map.yaml"
    path.write_text(yaml.safe_dump(changed))
    loaded = cli("privacy", "datamap", "load", str(path))
    assert loaded.exit_code == 0 and "version 1 saved" in loaded.stdout
    shown = cli("privacy", "datamap", "show", "--json")
    assert (
        json.loads(shown.stdout)["datamap"]["controller"]["contact_email"]
        == "dpo@trustdesk.example"
    )
    listed = json.loads(cli("privacy", "datamap", "versions", "--json").stdout)
    assert [v["version"] for v in listed] == [1, 0]
    md = cli("privacy", "notice", "show").stdout
    assert md.startswith("# How we use your personal data") and "dpo@trustdesk.example" in md
    html = cli("privacy", "notice", "show", "--version", "0", "--format", "html").stdout
    assert "<h1>How we use your personal data</h1>" in html and "privacy@trustdesk.example" in html
    diff = cli("privacy", "notice", "diff", "0", "1").stdout
    assert re.search(r"^\+.*Questions: dpo@trustdesk\.example\.$", diff, re.MULTILINE)
    assert re.search(r"^-.*privacy@trustdesk\.example", diff, re.MULTILINE)
    bad = tmp_path / "bad.yaml"
    bad.write_text("controller: {}\nsystems: []\n")
    refused = cli("privacy", "datamap", "load", str(bad))
    assert refused.exit_code == 2 and "controller.name" in refused.stderr
    assert stored(platform) == (1, 1)
    assert cli("privacy", "notice", "show", "--version", "9").exit_code == 3
    # Versions start at 0, the shipped notice: asking for one that is not there says which are.
    missing = cli("privacy", "notice", "diff", "1", "2")
    assert missing.exit_code == 3
    assert "versions are 0 (the shipped notice) to 1" in missing.stderr


def test_the_preference_centre_records_the_notice_version_it_showed(api, client, platform):
    from trustdesk.customers import service as customer_service
    from trustdesk.customers.schemas import CustomerIn
    from trustdesk.privacy.consent.links import signer_for

    with platform.db.transaction() as session:
        customer_service.upsert_customers(
            session, platform.vault, [CustomerIn(external_id="ada", jurisdiction="DE")], actor="t"
        )
    changed = shipped()
    changed["systems"][0]["retention"] = "10 years"
    assert api.put("/api/v1/privacy/datamap", json=changed).json()["notice_version"] == 1
    token = signer_for(platform).issue("ada").token
    page = client.get(f"/preferences/{token}")
    assert "Notice version 2026-01+notice.1." in page.text
    form = re.search(r'name="form" value="([^"]+)"', page.text).group(1)
    client.post(f"/preferences/{token}/stop-all", data={"form": form})
    history = api.get("/api/v1/consent/customers/ada/history").json()
    assert history and {e["notice_version"] for e in history} == {"2026-01+notice.1"}


def test_staff_edit_the_datamap_on_its_page_and_a_bad_map_is_shown_back_unsaved(client, platform):
    from trustdesk.auth import service as auth_service

    with platform.db.transaction() as session:
        auth_service.create_user(
            session, platform.vault, username="olga", password="correct-horse-battery",
            role=Role.PRIVACY_OFFICER, actor="test",
        )  # fmt: skip
    login = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    client.post(
        "/login",
        data={"username": "olga", "password": "correct-horse-battery", "csrf_token": token},
    )
    page = client.get("/privacy/datamap")
    assert page.status_code == 200 and "Version 0" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    bad = yaml.safe_dump({**shipped(), "controller": {"name": "X"}})
    refused = client.post("/privacy/datamap", data={"content": bad, "csrf_token": token})
    assert refused.status_code == 422 and "controller.contact_email" in refused.text
    assert "Not saved." in refused.text and stored(platform) == (0, 0)
    good = shipped()
    good["systems"][0]["retention"] = "Seven years"
    saved = client.post(
        "/privacy/datamap",
        data={"content": yaml.safe_dump(good), "csrf_token": token},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and stored(platform) == (1, 1)
    assert "privacy notice version 1 published" in client.get("/privacy/datamap").text
