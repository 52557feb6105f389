"""The public trust centre in Debian's Chromium: readable without JavaScript and free of WCAG 2.2
A/AA violations found by axe-core (bundled in the axe-playwright-python package: no npm)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trustdesk.db import utcnow
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


def test_the_trust_centre_reads_without_javascript(platform, new_page, live_server):
    _populate(platform)
    page = new_page(live_server, java_script_enabled=False)
    page.goto("/trust-centre")
    assert page.get_by_role("link", name="Read our current privacy notice").is_visible()
    assert page.get_by_role("heading", name="Our trust centre is live").is_visible()
    assert page.get_by_role("table", name="Promises with live proof").is_visible()
    page.emulate_media(media="print")
    assert page.get_by_role("heading", name="How we protect your data").is_visible()
