"""The staff web shell in a real headless Chromium: login with TOTP, customers, keyboard, landmarks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from trustdesk.access.roles import Role
from trustdesk.auth import service as auth_service
from trustdesk.customers import service as customer_service
from trustdesk.customers.schemas import CustomerIn

pytestmark = pytest.mark.e2e

PASSWORD = "correct-horse-battery"
CONTROL_ROLES = "textbox|searchbox|button|combobox|checkbox|radio|spinbutton|slider|switch"
UNNAMED_CONTROL = re.compile(rf"^\s*- ({CONTROL_ROLES})(\s*\[[^\]]*\])?:?\s*$", re.MULTILINE)


# --- builders ---------------------------------------------------------------------------------


def make_user(platform, username, role, *, totp=False):
    with platform.db.transaction() as session:
        return auth_service.create_user(
            session,
            platform.vault,
            username=username,
            password=PASSWORD,
            role=role,
            with_totp=totp,
            actor="test",
        ).id


def make_customers(platform, count):
    records = [
        CustomerIn(
            external_id=f"c{i:03d}",
            name=f"Person {i}",
            email=f"person{i}@example.com",
            segments=["retail" if i % 2 else "business"],
            jurisdiction="GB",
        )
        for i in range(count)
    ]
    with platform.db.transaction() as session:
        customer_service.upsert_customers(session, platform.vault, records, actor="test")


def current_code(platform, user_id):
    with platform.db.reading() as session:
        return auth_service.totp_code(session, platform.vault, user_id)


def fill_login(page: Page, username: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def focused(page: Page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {id: el.id, tag: el.tagName.toLowerCase(), text: el.textContent.trim(),
                    outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth)};
        }"""
    )


def tab_to(page: Page, element_id: str, limit: int = 8) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page)["id"] == element_id:
            return
    raise AssertionError(f"#{element_id} cannot be reached with the Tab key")


def assert_accessible_page(page: Page) -> None:
    """What a keyboard or screen-reader user relies on, on every page of the shell."""
    assert page.locator("html").get_attribute("lang") == "en"
    assert re.fullmatch(r".+ · TrustDesk", page.title()), page.title()
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.get_by_role("contentinfo")).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    expect(page.get_by_role("link", name="Skip to main content")).to_have_attribute("href", "#main")
    # Every visible form control has a label element or an ARIA label, not just a placeholder...
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
            .filter(el => el.type !== 'hidden')
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                          && !el.getAttribute('aria-labelledby'))
            .map(el => el.outerHTML)"""
    )
    assert unlabelled == []
    # ...and Chromium's accessibility tree gives every control a name.
    snapshot = page.locator("body").aria_snapshot()
    assert not UNNAMED_CONTROL.search(snapshot), snapshot


# --- the main journey -------------------------------------------------------------------------


def test_an_admin_logs_in_with_totp_and_walks_through_customers_without_javascript(
    new_page, live_server, platform, screenshot
):
    admin = make_user(platform, "root", Role.ADMIN, totp=True)
    make_customers(platform, 30)
    # Nothing in the shell needs JavaScript: the whole journey runs with it switched off.
    page = new_page(live_server, java_script_enabled=False)

    page.goto("/customers")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fcustomers$"))
    fill_login(page, "root")

    expect(page).to_have_url(re.compile(r"/login/totp$"))
    expect(page.get_by_role("heading", name="Enter your authentication code")).to_be_visible()
    page.get_by_label("Authentication code").fill(current_code(platform, admin))
    page.get_by_role("button", name="Continue").click()

    # Back where the visitor was going.
    expect(page).to_have_url(re.compile(r"/customers$"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, root")
    expect(page.get_by_role("main")).to_contain_text("with the role Admin")
    sections = page.get_by_role("region", name="Sections you can open")
    expect(sections.get_by_role("link", name="Customers")).to_be_visible()
    screenshot(page, "home")

    sections.get_by_role("link", name="Customers").click()
    expect(page).to_have_title("Customers · TrustDesk")
    rows = page.get_by_role("table").locator("tbody tr")
    expect(rows).to_have_count(25)
    expect(page.get_by_role("cell", name="person0@example.com")).to_be_visible()
    screenshot(page, "customers")

    page.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"/customers\?cursor=\d+$"))
    expect(rows).to_have_count(5)
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)

    page.get_by_role("link", name="c029").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Customer c029")
    expect(page.get_by_role("main")).to_contain_text("person29@example.com")
    screenshot(page, "customer")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("status")).to_have_text("You have logged out.")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))


def test_the_segment_filter_narrows_the_list(page, platform):
    make_user(platform, "alex", Role.AGENT)
    make_customers(platform, 6)
    page.goto("/login")
    fill_login(page, "alex")
    page.goto("/customers")
    page.get_by_label("Segment").fill("retail")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/customers\?segment=retail$"))
    expect(page.get_by_role("table").locator("tbody tr")).to_have_count(3)
    expect(page.get_by_role("caption")).to_contain_text("retail")


def test_a_viewer_sees_customers_with_personal_data_masked(page, platform):
    make_user(platform, "vera", Role.VIEWER)
    make_customers(platform, 2)
    page.goto("/login")
    fill_login(page, "vera")
    page.goto("/customers")
    expect(page.get_by_role("table")).to_contain_text("masked")
    expect(page.get_by_role("table")).not_to_contain_text("person0@example.com")


# --- accessibility ----------------------------------------------------------------------------


def test_every_shell_page_has_landmarks_a_title_and_labelled_controls(page, platform, screenshot):
    admin = make_user(platform, "root", Role.ADMIN, totp=True)
    make_customers(platform, 2)
    page.goto("/login")
    assert_accessible_page(page)
    fill_login(page, "root")
    expect(page).to_have_url(re.compile(r"/login/totp$"))
    assert_accessible_page(page)
    page.get_by_label("Authentication code").fill(current_code(platform, admin))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(re.compile(r"/$"))

    titles = set()
    for path in ("/", "/customers", "/customers/c001", "/customers/nobody"):
        page.goto(path)
        assert_accessible_page(page)
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        titles.add(page.title())
    assert len(titles) == 4  # each page names itself
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    screenshot(page, "not-found")


def test_login_works_with_the_keyboard_alone(page, platform):
    admin = make_user(platform, "root", Role.ADMIN, totp=True)
    page.goto("/login")

    page.keyboard.press("Tab")
    first = focused(page)
    assert first["text"] == "Skip to main content"
    assert first["outline"] != "none" and first["outlineWidth"] >= 2  # focus is visible

    tab_to(page, "username")
    assert focused(page)["outline"] != "none"
    page.keyboard.type("root")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/login/totp$"))
    tab_to(page, "code")
    page.keyboard.type(current_code(platform, admin))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, root")

    # The skip link takes keyboard users past the menu.
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Skip to main content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.querySelector('main').contains(document.activeElement)")


def test_a_wrong_password_is_announced_on_the_form(page, platform):
    make_user(platform, "vera", Role.VIEWER)
    page.goto("/login")
    page.get_by_label("Username").fill("vera")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")
    expect(page.get_by_label("Username")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Username")).to_have_value("vera")


# --- cookies ----------------------------------------------------------------------------------


def test_secure_session_cookies_work_on_loopback_http(serve, new_page, platform):
    """With cookie_secure on (the default), Chromium still keeps the cookie on http://127.0.0.1
    (loopback counts as a secure context), so `trustdesk serve` works locally without TLS."""
    make_user(platform, "vera", Role.VIEWER)
    with serve(cookie_secure=True) as url:
        page = new_page(url)
        page.goto("/login")
        fill_login(page, "vera")
        expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, vera")
        (cookie,) = page.context.cookies()
        assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
