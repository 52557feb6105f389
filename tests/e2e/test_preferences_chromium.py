"""The customer preference centre in a real headless Chromium, keyboard only, JavaScript off."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from trustdesk.access.roles import Role
from trustdesk.auth import service as auth_service
from trustdesk.customers import service as customer_service
from trustdesk.customers.schemas import CustomerIn
from trustdesk.privacy.consent.links import signer_for

pytestmark = pytest.mark.e2e

CONTROL_ROLES = "textbox|searchbox|button|combobox|checkbox|radio|spinbutton|slider|switch"
UNNAMED_CONTROL = re.compile(rf"^\s*- ({CONTROL_ROLES})(\s*\[[^\]]*\])?:?\s*$", re.MULTILINE)


# --- builders ---------------------------------------------------------------------------------


def make_customer(platform, external_id="ada", jurisdiction="DE"):
    record = CustomerIn(external_id=external_id, jurisdiction=jurisdiction, name="Ada Example")
    with platform.db.transaction() as session:
        customer_service.upsert_customers(session, platform.vault, [record], actor="test")


def link_path(platform, external_id="ada", clock=time.time):
    return f"/preferences/{signer_for(platform, clock).issue(external_id).token}"


def api_check(base_url, platform, purpose, channel, customer="ada"):
    with platform.db.transaction() as session:
        token = auth_service.create_token(session, name="e2e", role=Role.AGENT, actor="test").token
    answer = httpx.get(
        f"{base_url}/api/v1/consent/check",
        params={"customer_id": customer, "purpose": purpose, "channel": channel},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200
    return answer.json()


def focused(page: Page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {id: el.id, text: el.textContent.trim(), checked: !!el.checked,
                    outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth)};
        }"""
    )


def tab_to(page: Page, element_id: str, limit: int = 60) -> dict:
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if now["id"] == element_id:
            return now
    raise AssertionError(f"#{element_id} cannot be reached with the Tab key")


def tab_to_text(page: Page, text: str, limit: int = 80) -> dict:
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if now["text"] == text:
            return now
    raise AssertionError(f"{text!r} cannot be reached with the Tab key")


def assert_accessible_customer_page(page: Page) -> None:
    """Landmarks, one heading, labelled controls, no staff menu, and readable contrast."""
    assert page.locator("html").get_attribute("lang") == "en"
    assert re.fullmatch(r".+ · TrustDesk", page.title()), page.title()
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.get_by_role("contentinfo")).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_role("link", name="Skip to main content")).to_have_attribute("href", "#main")
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)  # no staff shell
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(el => el.type !== 'hidden')
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                          && !el.getAttribute('aria-labelledby'))
            .map(el => el.outerHTML)"""
    )
    assert unlabelled == []
    snapshot = page.locator("body").aria_snapshot()
    assert not UNNAMED_CONTROL.search(snapshot), snapshot
    # WCAG AA: every piece of visible text has at least 4.5:1 against its background.
    low = page.evaluate(
        """() => {
            const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
            const lum = ([r, g, b]) => {
                const f = c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
                return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
            };
            const background = el => {
                for (; el; el = el.parentElement) {
                    const c = rgb(getComputedStyle(el).backgroundColor);
                    if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
                }
                return [255, 255, 255];
            };
            const out = [];
            for (const el of document.querySelectorAll('body *')) {
                const text = [...el.childNodes].filter(n => n.nodeType === 3)
                    .map(n => n.textContent.trim()).join('');
                if (!text || !el.getClientRects().length) continue;
                const a = lum(rgb(getComputedStyle(el).color)), b = lum(background(el));
                const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
                if (ratio < 4.5) out.push([text.slice(0, 40), ratio.toFixed(2)]);
            }
            return out;
        }"""
    )
    assert low == [], low


# --- the journey ------------------------------------------------------------------------------


def test_a_customer_changes_preferences_with_the_keyboard_alone_and_javascript_off(
    new_page, live_server, platform, screenshot
):
    make_customer(platform)
    page = new_page(live_server, java_script_enabled=False)
    page.goto(link_path(platform))
    expect(page.get_by_role("heading", level=1)).to_have_text("How we may use your data")
    assert_accessible_customer_page(page)
    marketing_email = page.get_by_role("group", name="Offers and news").get_by_label("Email")
    expect(marketing_email).not_to_be_checked()  # Germany: opt-in, nothing recorded yet
    expect(page.get_by_role("main")).to_contain_text("You have not made any choices yet.")
    screenshot(page, "start")

    # Keyboard only: the skip link, then Tab to the box, Space to tick it, Tab to Save, Enter.
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Skip to main content"
    box = tab_to(page, "allow-marketing-email")
    assert box["outline"] != "none" and box["outlineWidth"] >= 2  # focus is visible
    page.keyboard.press("Space")
    assert focused(page)["checked"]
    tab_to_text(page, "Save my choices")
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("Your choices are saved")
    expect(marketing_email).to_be_checked()
    history = page.get_by_role("table")
    expect(history.locator("tbody tr")).to_have_count(1)
    expect(history.locator("tbody tr").first).to_contain_text("Offers and news")
    expect(history.locator("tbody tr").first).to_contain_text("You, on this page")
    assert_accessible_customer_page(page)
    screenshot(page, "saved")
    # The change is visible to enforcement at once.
    answer = api_check(live_server, platform, "marketing", "email")
    assert (answer["allowed"], answer["reason"]) == (True, "record")

    # "Stop all", by keyboard too.
    tab_to_text(page, "Stop all optional use of my data")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("stopped all optional use")
    expect(page.locator("input[type=checkbox]:checked")).to_have_count(0)
    expect(page.get_by_role("main")).to_contain_text("Data breach notices")
    screenshot(page, "stopped")
    answer = api_check(live_server, platform, "marketing", "email")
    assert (answer["allowed"], answer["reason"]) == (False, "record")
    breach = api_check(live_server, platform, "breach_notice", "email")
    assert (breach["allowed"], breach["reason"]) == (True, "legal_obligation")


def test_an_expired_link_shows_a_friendly_page(new_page, live_server, platform, screenshot):
    make_customer(platform)
    page = new_page(live_server, java_script_enabled=False)
    old = link_path(platform, clock=lambda: time.time() - 8 * 24 * 3600)
    response = page.goto(old)
    assert response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has expired")
    expect(page.get_by_role("main")).to_contain_text("Ask us for a new link")
    assert_accessible_customer_page(page)
    screenshot(page, "expired")

    tampered = link_path(platform)[:-2] + "xx"
    response = page.goto(tampered)
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("This link is not valid")
    screenshot(page, "invalid")


def test_a_us_customer_sees_opt_out_defaults_switched_on(new_page, live_server, platform):
    make_customer(platform, "sam", "US")
    page = new_page(live_server, java_script_enabled=False)
    page.goto(link_path(platform, "sam"))
    group = page.get_by_role("group", name="Offers and news")
    expect(group.get_by_label("Email")).to_be_checked()
    expect(group.get_by_label("Text message")).not_to_be_checked()
    expect(group).to_contain_text("on unless you say no")
