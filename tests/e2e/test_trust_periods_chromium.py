"""Honest time on the trust overview, in a real headless Chromium with JavaScript switched off:
each segment's figure shows its own as-of date, the charts carry the year when a range crosses
one, and the date-range and compare-periods form works as a plain GET form.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from test_dashboard_chromium import import_tweets
from test_shell_chromium import assert_accessible_page, fill_login, make_user
from tests.tweets import TWEET_IMPORT

from trustdesk.access.roles import Role

pytestmark = pytest.mark.e2e


def test_an_analyst_sees_each_segments_as_of_and_compares_two_periods(
    new_page, live_server, platform, cli, tmp_path, screenshot
):
    make_user(platform, "ana", Role.ANALYST)
    import_tweets(cli, tmp_path, slice(0, 200))  # February 2015
    later = tmp_path / "later.csv"
    later.write_text(
        "tweet_id,text,tweet_created,airline\n"
        "n1,Great crew and on time,2026-11-01 10:00:00 -0800,Newcomer Air\n"
        "n2,Lost my bag and nobody answered,2026-11-02 10:00:00 -0800,Newcomer Air\n"
        "n3,Refund came back quickly thank you,2026-11-03 10:00:00 -0800,Newcomer Air\n"
    )
    assert cli(*TWEET_IMPORT, str(later)).exit_code == 0
    assert cli("trust", "recompute").exit_code == 0
    page: Page = new_page(
        live_server, java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page.goto("/login")
    fill_login(page, "ana")
    page.goto("/trust")
    assert_accessible_page(page)

    # Each segment shows the date of its own latest evidence; the new one does not age the rest.
    rows = page.locator("#segments-table tbody tr")
    newcomer = rows.filter(has=page.get_by_role("link", name="Newcomer Air"))
    expect(newcomer.locator("td").nth(3)).to_have_text(re.compile(r"^2026-11-0\d$"))
    delta = rows.filter(has=page.get_by_role("link", name="Delta", exact=True))
    expect(delta.locator("td").nth(3)).to_have_text(re.compile(r"^2015-02-\d\d$"))
    expect(page.locator("#freshness")).to_contain_text(re.compile(r"from 2015-02-\d\d to 2026"))
    expect(page.locator("#freshness")).to_contain_text("computed")
    # The overall trend crosses years: its labels say which.
    chart = page.get_by_role("img", name=re.compile(r"^Trust index of all customers per day"))
    expect(chart).to_contain_text("2015")
    expect(chart).to_contain_text("2026")

    # The period form, without JavaScript: February 2015 against November 2026.
    page.get_by_label("From", exact=True).first.fill("2015-02-01")
    page.get_by_label("To", exact=True).first.fill("2015-02-28")
    form = page.locator("#period-form")
    form.locator("input[name=compare_from]").fill("2026-11-01")
    form.locator("input[name=compare_to]").fill("2026-11-30")
    form.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"from=2015-02-01&to=2015-02-28&compare_from=2026-11-01"))
    assert_accessible_page(page)
    expect(page.locator("#segments-table")).not_to_contain_text("Newcomer Air")
    compared = page.get_by_role("table", name=re.compile("Trust index per segment in the period"))
    expect(compared).to_be_visible()
    newcomer_row = compared.locator("tr").filter(has_text="Newcomer Air")
    expect(newcomer_row.locator("td").nth(0)).to_have_text("—")  # no evidence in February 2015
    expect(page.locator("#period-form input[name=from]")).to_have_value("2015-02-01")
    screenshot(page, "trust-periods")
