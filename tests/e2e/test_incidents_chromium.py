"""An incident worked in a real headless Chromium with JavaScript off: a privacy officer
registers it, moves it on, posts an update, uploads the forensic list, drafts, approves and sends
the notice; the outbox delivers it to a real SMTP server and the page shows it delivered."""

from __future__ import annotations

import dataclasses
import re

import pytest
from playwright.sync_api import Page, expect
from test_shell_chromium import assert_accessible_page, fill_login, make_user

from trustdesk.access.roles import Role
from trustdesk.outbox import public as outbox

pytestmark = pytest.mark.e2e


def test_a_privacy_officer_walks_an_incident_from_register_to_notice_sent(
    new_page, live_server, platform, cli, smtp_server, screenshot, tmp_path
):
    people = tmp_path / "customers.csv"
    people.write_text(
        "external_id,name,email,jurisdiction\n"
        "c1,Anna Berg,anna@example.org,DE\nc2,Bob Jones,bob@example.org,US-FL\n"
    )
    assert cli("customers", "import", str(people)).exit_code == 0
    make_user(platform, "pat", Role.PRIVACY_OFFICER)
    page: Page = new_page(
        live_server, java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page.goto("/login")
    fill_login(page, "pat")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Incidents", exact=True
    ).click()
    expect(page).to_have_title("Incidents · TrustDesk")
    assert_accessible_page(page)

    page.get_by_label("Title").fill("Card data stolen")
    page.get_by_label("Aware at (UTC)").fill("2026-03-02T09:00")
    page.get_by_label("Severity").select_option("high")
    page.get_by_label("Financial account").check()
    page.get_by_role("button", name="Register incident").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"Incident \d+: Card data stolen")
    )
    expect(page.get_by_role("status")).to_contain_text("registered")
    assert_accessible_page(page)

    page.get_by_label("Move to").select_option("analysing")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_role("status")).to_contain_text("now analysing")
    page.get_by_label("Update", exact=True).fill("The card processor confirmed the theft")
    page.get_by_label("Visible to").select_option("public")
    page.get_by_role("button", name="Add update").click()
    expect(page.get_by_role("main")).to_contain_text("The card processor confirmed the theft")

    forensic = tmp_path / "affected.csv"
    forensic.write_text(
        "external_id,data_categories\nc1,name;financial_account\nc2,name;financial_account\n"
    )
    page.get_by_label("Forensic list (CSV)").set_input_files(str(forensic))
    page.get_by_role("button", name="Import affected customers").click()
    expect(page.get_by_role("status")).to_contain_text("2 customers added")
    expect(page.get_by_role("heading", name="Affected customers: 2")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("EU GDPR")  # the clocks follow
    screenshot(page, "clocks")

    page.get_by_label("Remedy offered").fill("Free credit monitoring.")
    page.get_by_role("button", name="Draft notice").click()
    expect(page.get_by_role("status")).to_contain_text("drafted")
    page.get_by_role("button", name=re.compile(r"Approve notice \d+")).click()
    expect(page.get_by_role("status")).to_contain_text("approved")
    page.get_by_role("button", name="Send the approved notice to the people affected").click()
    expect(page.get_by_role("status")).to_contain_text("queued for 2 customers: 2 queued")

    settings = platform.settings.model_copy(update={"smtp_port": smtp_server.port})
    sent = outbox.deliver_due(dataclasses.replace(platform, settings=settings), until_empty=True)
    assert sent.sent == 2 and smtp_server.counts() == {"anna@example.org": 1, "bob@example.org": 1}
    page.reload()
    expect(page.get_by_role("main")).to_contain_text("2 delivered (2 by email")
    assert_accessible_page(page)
    screenshot(page, "sent")
