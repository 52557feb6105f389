"""Staff survey pages: build a survey from the bank, see live results and the gap, download the
one-page gap report as CSV and PDF; viewers read, only analysts build."""

from __future__ import annotations

import csv
import io
import json

from tests.integration.test_pages import csrf_from, log_in, make_user
from tests.integration.test_surveys import ITEMS, _customers, _responses, _row

from trustdesk.access.roles import Role


def test_an_analyst_builds_a_survey_and_reads_its_gap_report(cli, client, platform, tmp_path):
    make_user(platform, "ann", Role.ANALYST)
    log_in(client, platform, "ann")
    listing = client.get("/surveys")
    assert listing.status_code == 200 and "New survey" in listing.text
    made = client.post(
        "/surveys",
        data={"title": "Spring wave", "company": "Acme", "template": "trust-core",
              "csrf_token": csrf_from(listing.text)},
        follow_redirects=False,
    )  # fmt: skip
    assert made.status_code == 303
    survey_id = int(made.headers["location"].rsplit("/", 1)[-1])

    _customers(cli, tmp_path)
    rows = [_row(f"lo{i}", "", 2 + i % 2, 3, 4) for i in range(4)]
    rows += [_row("", "leader", 6, 6, 9), _row("", "leader", 7, 5, 10)]
    assert (
        cli("surveys", "responses", "import", str(survey_id), _responses(tmp_path, rows)).exit_code
        == 0
    )

    page = client.get(f"/surveys/{survey_id}")
    assert page.status_code == 200
    assert "Acme is very capable of doing what it does." in page.text
    assert "Malhotra" in page.text and "Leaders' trust gap" in page.text
    assert all(f"<code>{item}</code>" in page.text for item in ITEMS)

    dashboard = client.get("/surveys/gap")
    assert dashboard.status_code == 200 and "Spring wave" in dashboard.text
    assert f'href="/surveys/{survey_id}/gap.pdf"' in dashboard.text
    report = client.get(f"/surveys/{survey_id}/gap")
    assert report.status_code == 200 and "Welch" in report.text

    download = client.get(f"/surveys/{survey_id}/gap.csv")
    assert download.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    gap = {
        r["dimension"]: r
        for r in json.loads(cli("surveys", "gap", str(survey_id), "--json").stdout)
    }
    assert [r["dimension"] for r in table] == list(gap)
    assert float(table[0]["gap"]) == gap["ability"]["gap"] > 0

    pdf = client.get(f"/surveys/{survey_id}/gap.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 2000


def test_a_viewer_reads_surveys_but_cannot_build_one(client, platform):
    make_user(platform, "vic", Role.VIEWER)
    log_in(client, platform, "vic")
    listing = client.get("/surveys")
    assert listing.status_code == 200 and "New survey" not in listing.text
    assert "No survey has leaders" in client.get("/surveys/gap").text
    refused = client.post(
        "/surveys", data={"title": "x", "csrf_token": csrf_from(listing.text)},
        follow_redirects=False,
    )  # fmt: skip
    assert refused.status_code == 403
