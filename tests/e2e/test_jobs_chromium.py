"""The jobs and notifications pages in Chromium: landmarks, a title, labelled controls, and a
subscription made and ended with the keyboard-free form."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from tests.e2e.test_shell_chromium import assert_accessible_page, fill_login, make_user

from trustdesk.access.roles import Role

pytestmark = pytest.mark.e2e


def test_jobs_and_notifications_pages_are_accessible_and_work(page, platform):
    make_user(platform, "ana", Role.ANALYST)
    page.goto("/login")
    fill_login(page, "ana")
    expect(page).to_have_url(re.compile(r"/$"))
    page.goto("/jobs")
    assert_accessible_page(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Background jobs")
    expect(page.get_by_role("rowheader").filter(has_text="trust.recompute")).to_be_visible()
    page.goto("/notifications")
    assert_accessible_page(page)
    page.get_by_label("Alert").select_option("job_failure")
    page.get_by_label("Email address or webhook URL").fill("ops@example.org")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("status")).to_contain_text("job_failure by email to o***@example.org")
    page.get_by_role("button", name=re.compile(r"End subscription \d+")).click()
    expect(page.get_by_text("Nobody is subscribed yet.")).to_be_visible()
