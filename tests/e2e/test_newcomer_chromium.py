"""What a newcomer meets, in a real headless Chromium: /docs offline, an admin reaching every
menu page, the new administration pages, CSV upload with progress, and the trust pages on a phone.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from test_dashboard_chromium import import_tweets
from test_shell_chromium import assert_accessible_page, current_code, fill_login, make_user

from trustdesk.access.roles import Role
from trustdesk.customers import service as customer_service
from trustdesk.customers.schemas import CustomerIn

pytestmark = pytest.mark.e2e

ERROR_TEXT = re.compile(r"Error \d{3}|Forbidden|Internal error|Something went wrong|Traceback")


def log_in_admin(page: Page, platform) -> None:
    admin = make_user(platform, "root", Role.ADMIN, totp=True)
    page.goto("/login")
    fill_login(page, "root")
    expect(page).to_have_url(re.compile(r"/login/totp$"))
    page.get_by_label("Authentication code").fill(current_code(platform, admin))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, root")


def block_the_network(page: Page, base_url: str) -> list[str]:
    """Every request to anywhere but the test server fails, as on a machine with no network."""
    blocked: list[str] = []

    def route(r) -> None:
        if r.request.url.startswith(base_url):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.context.route("**/*", route)
    return blocked


def test_docs_render_every_operation_with_the_network_blocked(page, live_server):
    blocked = block_the_network(page, live_server)
    response = page.goto("/docs")
    assert response is not None and response.status == 200
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() > 20
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/me").first).to_be_visible()
    assert blocked == []  # nothing was even asked of the outside world
    favicon = page.request.get(f"{live_server}/favicon.ico")
    assert favicon.status == 200 and favicon.headers["content-type"].startswith("image/")


def test_an_admin_opens_every_menu_page_without_a_refusal_or_an_error(
    page, live_server, platform, cli, tmp_path
):
    import_tweets(cli, tmp_path, slice(0, 120))
    with platform.db.transaction() as session:
        customer_service.upsert_customers(
            session, platform.vault, [CustomerIn(external_id="c1", segments=["retail"])], actor="t"
        )
    log_in_admin(page, platform)
    links = page.get_by_role("navigation", name="Main").get_by_role("link")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert {"/users", "/tokens", "/consent", "/audit", "/trust", "/feedback"} <= set(hrefs)
    for href in hrefs:
        response = page.goto(href)
        assert response is not None and response.status == 200, href
        assert not ERROR_TEXT.search(page.locator("main").inner_text()), href
        assert_accessible_page(page)
    # The home page's promises lead to working pages too.
    page.goto("/")
    for name in ("Check customers", "Read and verify the audit trail"):
        page.get_by_role("link", name=re.compile(name)).click()
        assert not ERROR_TEXT.search(page.locator("main").inner_text())
        page.go_back()


def test_a_newcomer_runs_the_demo_and_the_printed_admin_meets_no_refusal(page, live_server, cli):
    """The README's path: `trustdesk demo`, then log in as the admin it prints, with the code
    the command it names prints, and open every menu page."""
    ran = cli("demo", "--no-serve")
    assert ran.exit_code == 0, ran.output
    password = re.search(r"with password '([^']+)'", ran.output)
    assert password is not None and re.search(r"^  admin +admin\b", ran.output, re.M)
    page.goto("/login")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(password.group(1))
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/login/totp$"))
    code = cli("users", "totp-code", "admin")
    assert code.exit_code == 0, code.output
    page.get_by_label("Authentication code").fill(code.stdout.strip())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, admin")
    links = page.get_by_role("navigation", name="Main").get_by_role("link")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert {"/users", "/incidents", "/cases", "/jobs", "/trust", "/fraud"} <= set(hrefs)
    for href in hrefs:
        response = page.goto(href)
        assert response is not None and response.status == 200, href
        assert not ERROR_TEXT.search(page.locator("main").inner_text()), href


def test_the_audit_trail_verifies_from_a_button_without_javascript(new_page, live_server, platform):
    page = new_page(live_server, java_script_enabled=False)
    log_in_admin(page, platform)
    page.goto("/audit")
    assert_accessible_page(page)
    page.get_by_role("button", name="Verify the audit chain").click()
    expect(page.locator("#verify-result")).to_contain_text("Chain intact")
    page.get_by_label("Kind").select_option("user.login")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("tbody tr")
    expect(rows.first).to_contain_text("user.login")


def test_a_token_is_created_shown_once_and_revoked(new_page, live_server, platform):
    page = new_page(live_server, java_script_enabled=False)
    log_in_admin(page, platform)
    page.goto("/tokens")
    page.get_by_label("Name").fill("checkout service")
    page.get_by_label("Role").select_option("agent")
    page.get_by_role("button", name="Create token").click()
    secret = page.get_by_role("textbox", name="New token").input_value()
    assert secret.startswith("td_")
    assert_accessible_page(page)
    page.goto("/tokens")
    assert secret not in page.content()
    page.get_by_role("button", name="Revoke checkout service").click()
    expect(page.get_by_role("status")).to_contain_text("revoked")
    expect(page.locator("tbody")).to_contain_text("Revoked")


def test_a_csv_upload_shows_its_progress_and_rejects_without_javascript(
    new_page, serve, platform, tmp_path
):
    # The import is a queued job: this server runs jobs, as `trustdesk serve` does by default.
    with serve(jobs_in_server=True, jobs_poll_s=0.2) as url:
        _upload_customers(new_page(url, java_script_enabled=False), platform, tmp_path)


def _upload_customers(page: Page, platform, tmp_path) -> None:
    log_in_admin(page, platform)
    rows = "".join(f"w{i:04d},Person {i},p{i}@example.com,retail\n" for i in range(2000))
    data = tmp_path / "customers.csv"
    data.write_text("external_id,name,email,segment\n" + rows + "bad,Bad,not-an-email,retail\n")
    page.goto("/customers")
    page.get_by_role("link", name="Import customers from a CSV file").click()
    assert_accessible_page(page)
    page.get_by_label("CSV file").set_input_files(str(data))
    page.get_by_role("button", name="Upload and import").click()
    expect(page).to_have_url(re.compile(r"/customers/imports/[\w-]+$"))
    # The page refreshes itself until the import is done.
    expect(page.locator("#upload-state")).to_contain_text("Import finished", timeout=30_000)
    expect(page.locator("#count-created")).to_have_text("2,000")
    expect(page.locator("#rejects-table")).to_contain_text("bad")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the rejected rows as CSV").click()
    assert "bad" in download.value.path().read_text(encoding="utf-8-sig")


def test_trust_pages_fit_a_phone_with_legible_chart_labels(
    new_page, live_server, platform, cli, tmp_path, screenshot
):
    import_tweets(cli, tmp_path, slice(0, 200))
    make_user(platform, "vic", Role.VIEWER)
    page = new_page(live_server, viewport={"width": 390, "height": 844})
    page.goto("/login")
    fill_login(page, "vic")
    for path in ("/trust", "/trust/segments/United", "/feedback", "/"):
        page.goto(path)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
        # Every chart text that is shown renders at 10 CSS px or more once the SVG is scaled.
        smallest = page.evaluate(
            """() => Math.min(99, ...[...document.querySelectorAll('svg.chart text')]
                .filter(t => t.getBoundingClientRect().height > 0)
                .map(t => {
                    const svg = t.ownerSVGElement;
                    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
                    return parseFloat(getComputedStyle(t).fontSize) * scale;
                }))"""
        )
        assert smallest >= 10, f"{path}: chart text shrinks to {smallest:.1f}px"
        screenshot(page, path.strip("/").replace("/", "-") or "home")
    page.goto("/trust")
    expect(page.locator("#chart-segments-narrow")).to_be_visible()
    expect(page.locator("#chart-segments")).to_be_hidden()
    # The explanations are there for a phone user too.
    page.get_by_text("What do these numbers mean?").first.click()
    expect(page.locator("#trust-help")).to_contain_text("95% interval")
