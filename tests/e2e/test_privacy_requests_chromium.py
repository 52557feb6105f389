"""Data-subject requests in a real headless Chromium: the customer's download and erasure
request on the preference centre (JavaScript off), and the staff queue handling them."""

from __future__ import annotations

import json
import re
import zipfile

import pytest
from playwright.sync_api import Page, expect
from tests.e2e.test_preferences_chromium import (
    assert_accessible_customer_page,
    link_path,
    make_customer,
)
from tests.e2e.test_shell_chromium import assert_accessible_page, fill_login, make_user

from trustdesk.access.roles import Role

pytestmark = pytest.mark.e2e


def test_a_customer_downloads_their_data_and_asks_for_erasure_without_javascript(
    new_page, live_server, platform, tmp_path, screenshot
):
    make_customer(platform)
    page = new_page(live_server, java_script_enabled=False, accept_downloads=True)
    page.goto(link_path(platform))
    yours = page.get_by_role("region", name="Your data")
    expect(yours.get_by_role("button", name="Download my data")).to_be_visible()
    assert_accessible_customer_page(page)
    with page.expect_download() as caught:
        yours.get_by_role("button", name="Download my data").click()
    target = tmp_path / "mine.zip"
    caught.value.save_as(target)
    with zipfile.ZipFile(target) as archive:
        assert "README.txt" in archive.namelist()
        assert json.loads(archive.read("customer.json"))["name"] == "Ada Example"
    yours.get_by_role("button", name="Ask us to erase my data").click()
    expect(page.get_by_role("status")).to_contain_text("received your request to erase")
    assert_accessible_customer_page(page)
    screenshot(page, "erasure-requested")


def test_staff_work_through_the_queue_and_carry_out_a_verified_erasure(
    page: Page, platform, screenshot
):
    make_customer(platform, "ada", "US-CA")
    make_user(platform, "olga", Role.PRIVACY_OFFICER)
    page.goto("/login")
    fill_login(page, "olga")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Privacy requests").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy requests")
    assert_accessible_page(page)
    page.get_by_label("Customer id").fill("ada")
    page.get_by_label("Type of request").select_option("erasure")
    page.get_by_role("button", name="Record request").click()
    expect(page.get_by_role("status")).to_contain_text("recorded")
    expect(page.get_by_role("main")).to_contain_text("CCPA/CPRA (45 days, +45)")
    expect(page.get_by_role("main")).to_contain_text("not verified yet")
    assert_accessible_page(page)
    page.get_by_label("How was the requester's identity checked?").fill(
        "reply from address on file"
    )
    page.get_by_role("button", name="Record identity as verified").click()
    expect(page.get_by_role("main")).to_contain_text("verified by")
    page.get_by_role("button", name="Erase and verify, then complete").click()
    expect(page.get_by_role("status")).to_contain_text("completed")
    expect(page.get_by_role("main")).to_contain_text("Erasure verified.")
    expect(page.get_by_role("main")).to_contain_text("Data key destroyed: yes")
    steps = page.get_by_role("region", name="Steps").get_by_role("listitem")
    expect(steps).to_have_count(3)
    screenshot(page, "completed")
    page.get_by_role("link", name="Privacy requests").first.click()
    expect(page.get_by_role("main")).to_contain_text("No open requests")
    page.get_by_role("link", name="Show closed requests too").click()
    row = page.get_by_role("row", name=re.compile("Request 1"))
    expect(row).to_contain_text("Completed")
    # The data map page, reached from the menu, is accessible too.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Data map").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Data map")
    expect(page.get_by_label("Data map (YAML)")).to_contain_text("customer_records")
    assert_accessible_page(page)


def test_the_public_notice_is_accessible_and_lists_rights(new_page, live_server):
    page = new_page(live_server, java_script_enabled=False)
    page.goto("/privacy-notice")
    expect(page.get_by_role("heading", level=1)).to_have_text("How we use your personal data")
    expect(page.get_by_role("heading", name="Your rights and how to use them")).to_be_visible()
    assert_accessible_customer_page(page)
