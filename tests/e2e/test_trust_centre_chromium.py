"""The trust centre in Debian's Chromium: the public pages readable without JavaScript, and they
and the staff pages (/trust-centre-admin, /risks) free of WCAG 2.2 A/AA violations found by
axe-core (bundled in the axe-playwright-python package: no npm)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from test_shell_chromium import assert_accessible_page, fill_login, make_user

from trustdesk.access.roles import Role
from trustdesk.db import utcnow
from trustdesk.trustcentre import documents
from trustdesk.trustcentre.risks import add_risk
from trustdesk.trustcentre.sections import set_section
from trustdesk.trustcentre.statements import publish_statement

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def _populate(platform):
    with platform.db.transaction() as session:
        publish_statement(
            session, title="Our trust centre is live", body="First paragraph.\n\nSecond.",
            incident_id=None, actor="test", now=utcnow(),
        )  # fmt: skip
        set_section(
            session, key="encryption", title="How we protect your data",
            body="- Encrypted **at rest**\n- [Our notice](/privacy-notice)", owner="nobody",
            review_due=datetime(2027, 3, 1, tzinfo=UTC), actor="test", now=utcnow(),
            staff_owner=False,
        )  # fmt: skip


def _populate_staff(platform):
    """Something in every table and form of the staff pages: a document request waiting, a risk
    with residual scores (both heat maps), an overdue one."""
    _populate(platform)
    now = utcnow()
    with platform.db.transaction() as session:
        documents.add_document(
            session, key="soc2", title="SOC 2 report", description="Type II", access="request",
            terms="Keep it confidential.", filename="soc2.txt", content=b"report", actor="test",
            now=now,
        )  # fmt: skip
        documents.request_document(
            session, platform.vault, key="soc2", email="eve@example.com", company="Acme",
            accepted_terms=True, now=now,
        )  # fmt: skip
        for title, residual, every in (("Card testing", 2, 90), ("Vendor breach", None, 1)):
            add_risk(
                session,
                {"title": title, "category": "fraud", "likelihood": 4, "impact": 3,
                 "owner": "pat", "residual_likelihood": residual, "residual_impact": residual,
                 "review_every_days": every},
                actor="test", now=now - timedelta(days=5),
            )  # fmt: skip


def _violations(page):
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in results.response["violations"]
    ]


@pytest.mark.parametrize("path", ["/trust-centre", "/trust-centre/human-review"])
def test_public_pages_pass_an_automated_wcag_22_aa_check(platform, new_page, live_server, path):
    _populate(platform)
    page = new_page(live_server, java_script_enabled=True, bypass_csp=True)
    page.goto(path)
    assert page.locator("h1").count() == 1
    assert _violations(page) == []
    # The check bites: an image without a text alternative is reported.
    page.evaluate("document.querySelector('main').append(document.createElement('img'))")
    assert any(v.startswith("image-alt") for v in _violations(page))


@pytest.mark.parametrize(
    ("path", "heading"), [("/trust-centre-admin", "Trust centre"), ("/risks", "Risk register")]
)
def test_staff_pages_pass_an_automated_wcag_22_aa_check(
    platform, new_page, live_server, path, heading
):
    make_user(platform, "pat", Role.PRIVACY_OFFICER)
    _populate_staff(platform)
    page = new_page(live_server, java_script_enabled=True, bypass_csp=True)
    page.goto("/login")
    fill_login(page, "pat")
    page.goto(path)
    assert page.get_by_role("heading", level=1).inner_text().startswith(heading)
    assert page.locator("table").count() >= 1  # the tables are there to be checked
    assert_accessible_page(page)
    assert _violations(page) == []


def test_the_trust_centre_reads_without_javascript(platform, new_page, live_server):
    _populate(platform)
    page = new_page(live_server, java_script_enabled=False)
    page.goto("/trust-centre")
    assert page.get_by_role("link", name="Read our current privacy notice").is_visible()
    assert page.get_by_role("heading", name="Our trust centre is live").is_visible()
    assert page.get_by_role("table", name="Promises with live proof").is_visible()
    page.emulate_media(media="print")
    assert page.get_by_role("heading", name="How we protect your data").is_visible()
