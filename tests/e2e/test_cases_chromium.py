"""Complaint cases in a real headless Chromium with JavaScript off: an agent sees the inbox with
its queues and SLA badges, opens a case with the customer's context, works it (note, playbook
step, status), and a supervisor reads the figures."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Page, expect
from test_shell_chromium import assert_accessible_page, fill_login, make_user

from trustdesk.access.roles import Role
from trustdesk.cases.public import evaluate_sla

pytestmark = pytest.mark.e2e


def test_an_agent_works_a_case_from_the_inbox(
    new_page, live_server, platform, token_for, screenshot, tmp_path
):
    headers = {"Authorization": f"Bearer {token_for(Role.ADMIN)}"}
    customer = {"external_id": "c1", "name": "Ada Lovelace", "email": "ada@example.com"}
    assert httpx.put(f"{live_server}/api/v1/customers/c1", json=customer, headers=headers,
                     timeout=10).status_code == 201  # fmt: skip
    old = {
        "external_id": "E2E-1", "subject": "Card stolen", "customer": "c1",
        "body": "My card was stolen and used abroad", "at": datetime(2026, 1, 5, 9, tzinfo=UTC).isoformat(),
    }  # fmt: skip
    fresh = {"external_id": "E2E-2", "subject": "Hello", "body": "Just unhappy."}
    for body in (old, fresh):
        response = httpx.post(f"{live_server}/api/v1/cases", json=body, headers=headers, timeout=10)
        assert response.status_code == 201, response.text
    evaluate_sla(platform)  # the old case is long past its first-response target
    make_user(platform, "sam", Role.AGENT)
    page: Page = new_page(
        live_server, java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page.goto("/login")
    fill_login(page, "sam")
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Cases", exact=True
    ).click()
    expect(page).to_have_title("Cases · TrustDesk")
    assert_accessible_page(page)
    queues = page.locator("#queues")
    expect(queues).to_contain_text("fraud")
    expect(queues).to_contain_text("1 breached")
    rows = page.locator("#inbox tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("triage")  # newest first
    expect(rows.nth(1)).to_contain_text("SLA breached")
    screenshot(page, "inbox")

    queues.get_by_role("link", name="fraud").click()
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"Case #\d+: Card stolen"))
    assert_accessible_page(page)
    expect(page.locator("#customer-context")).to_contain_text("Consent")
    expect(page.get_by_role("main")).to_contain_text("My card was stolen and used abroad")
    screenshot(page, "case")

    page.get_by_label("Note or reply").fill("Called the customer, card frozen")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Note added.")
    expect(page.locator("#timeline")).to_contain_text("Called the customer, card frozen")
    page.get_by_role("button", name="Mark the next step done").click()
    expect(page.get_by_role("heading", name=re.compile("1 of 5 done"))).to_be_visible()
    page.get_by_label("Reply with a template").select_option("need_details")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("status")).to_have_text("Template 'need_details' sent.")
    expect(page.get_by_role("main")).to_contain_text("clock paused")
    expect(page.locator("#timeline")).to_contain_text("Dear Ada Lovelace")
    page.get_by_label("Move to").select_option("resolved")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_role("status")).to_have_text("Case 1 is now resolved.")

    page.goto("/cases/dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text("Case figures")
    assert_accessible_page(page)
    expect(page.locator("#by-queue")).to_contain_text("fraud")
    screenshot(page, "dashboard")


def test_a_visitor_complains_through_the_public_form_without_javascript(
    new_page, live_server, platform, monkeypatch
):
    from sqlalchemy import select

    from trustdesk.cases import web_form
    from trustdesk.cases.models import Case

    monkeypatch.setattr(web_form, "MIN_FILL_S", 0)
    page: Page = new_page(live_server, java_script_enabled=False)
    page.goto("/complaint")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tell us what went wrong")
    assert_accessible_page(page)
    page.get_by_label("Your email address").fill("grace@example.org")
    page.get_by_label("Subject").fill("Charged twice")
    page.get_by_label("Your complaint").fill("You charged my card twice for one order.")
    page.get_by_role("button", name="Send my complaint").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you: we have your complaint")
    with platform.db.reading() as session:
        assert session.scalars(select(Case.channel)).all() == ["web"]
