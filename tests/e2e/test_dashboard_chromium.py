"""The voice-of-customer dashboard in a real headless Chromium, with JavaScript switched off.

Real tweets go in through the real CLI; a synthetic signal adds one segment with a bad day, so
there is an alert to acknowledge. Every page gets the shell's accessibility checks.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator, Sequence
from importlib.resources import files

import numpy as np
import pytest
from playwright.sync_api import Page, expect
from test_shell_chromium import assert_accessible_page, fill_login, make_user
from tests.tweets import TWEET_IMPORT

from trustdesk.access.roles import Role
from trustdesk.trust import alert_reads, score_reads, service
from trustdesk.trust.signals import Observations

pytestmark = pytest.mark.e2e


# --- builders ---------------------------------------------------------------------------------


def import_tweets(cli, tmp_path, rows: slice) -> None:
    """Every 40th shipped tweet in `rows`, through `trustdesk feedback import`, then recompute."""
    source = files("trustdesk.data") / "airline_tweets.csv.gz"
    with gzip.open(str(source), "rt", encoding="utf-8") as f:
        picked = list(csv.DictReader(f))[::40][rows]
    path = tmp_path / "tweets.csv"
    fields = ["tweet_id", "text", "tweet_created", "airline"]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        writer.writerows({k: row[k] for k in fields} for row in picked)
    result = cli(
        *TWEET_IMPORT,
        str(path),
    )
    assert result.exit_code == 0, result.output
    assert cli("trust", "recompute").exit_code == 0


class DropSignal:
    """Segment "alpha": ten steady days of trust, then a bad one, which raises one alert."""

    name, label, topics = "test_drop", "synthetic", ()

    def read(self, session, *, after_ref: int, batch_size: int) -> Iterator[Observations]:
        if after_ref:
            return
        rng = np.random.default_rng(1)
        n, day = 600, 86_400
        at = (1_424_044_800 + np.repeat(np.arange(10), 60) * day + 3600).astype(np.int64)
        value = np.clip(rng.normal(70, 10, n), 0, 100)
        value[at // day == at.min() // day + 8] -= 40
        yield Observations(
            signal=self.name,
            ref=np.arange(1, n + 1),
            at=at,
            customer_id=np.full(n, -1),
            segment=np.array(["alpha"] * n, dtype=object),
            value=value,
            weight=np.ones(n),
            dims=np.zeros(n, np.int32),
            topics=np.zeros(n, np.int32),
            negative=value < 40,
            last_ref=n,
        )

    def describe(self, session, vault, refs: Sequence[int]) -> dict[int, str]:
        return {}


def raise_alert(platform) -> int:
    with platform.db.transaction() as session:
        service.recompute(session, service.TrustParams(), signals=[DropSignal()])
    with platform.db.reading() as session:
        (alert,) = alert_reads.list_alerts(session, segment="alpha")
    return alert.id


# --- the journey ------------------------------------------------------------------------------


def test_an_analyst_reads_the_dashboard_filters_feedback_and_acknowledges_an_alert(
    new_page, live_server, platform, cli, tmp_path, screenshot
):
    make_user(platform, "ana", Role.ANALYST)
    import_tweets(cli, tmp_path, slice(0, 200))
    alert_id = raise_alert(platform)
    page: Page = new_page(
        live_server, java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )

    page.goto("/login")
    fill_login(page, "ana")
    page.get_by_role("link", name="Open the trust overview").click()

    # Overview: the index, the charts as named images, the same numbers in a table.
    expect(page).to_have_title("Trust overview · TrustDesk")
    assert_accessible_page(page)
    expect(
        page.get_by_role("img", name=re.compile(r"^Trust index by segment \d+ segments"))
    ).to_be_visible()
    expect(
        page.get_by_role("img", name=re.compile(r"^Trust index of all customers per day"))
    ).to_be_visible()
    expect(
        page.get_by_role("img", name=re.compile(r"^Trust index of United per day"))
    ).to_be_visible()
    with platform.db.reading() as session:
        expected = score_reads.scores(session, service.TrustParams(), by="segment")
    segments = page.locator("#segments-table tbody tr")
    expect(segments).to_have_count(len(expected))
    expect(segments.first.locator("td").first).to_have_text(f"{expected[0].trust_index:.1f}")
    page.get_by_text("The trend as a table").click()  # <details> opens without JavaScript
    expect(
        page.get_by_role("table", name=re.compile("Daily trust index per segment"))
    ).to_be_visible()
    screenshot(page, "overview")

    # A segment: dimensions, trend, drivers, and why.
    page.locator("#segments-table").get_by_role("link", name="United").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Segment United")
    assert_accessible_page(page)
    expect(
        page.get_by_role("img", name=re.compile(r"^Trust index of United per day"))
    ).to_be_visible()
    expect(page.locator("#dimensions-table tbody tr")).to_have_count(5)
    expect(page.locator("#drivers-table tbody tr").first).to_be_visible()
    moved = page.get_by_role("list", name="Feedback that pulled it down most").get_by_role("link")
    expect(moved.first).to_have_text(re.compile(r"feedback #\d+"))
    screenshot(page, "segment")

    # Acknowledge the alert from its segment page (a plain form POST with the CSRF token).
    page.goto("/trust/segments/alpha")
    page.get_by_role("button", name=f"Acknowledge alert {alert_id}").click()
    expect(page).to_have_url(re.compile(r"/trust/segments/alpha$"))
    expect(page.get_by_role("status")).to_have_text(f"Alert {alert_id} acknowledged.")
    expect(page.get_by_role("main")).to_contain_text("Acknowledged by user:ana")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    assert_accessible_page(page)
    page.get_by_label("Status").select_option("acknowledged")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/trust/alerts\?state=acknowledged"))
    expect(page.get_by_role("table").locator("tbody tr")).to_have_count(1)
    screenshot(page, "alerts")

    # The explorer: filter by sentiment, page on, open one item.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Feedback").click()
    assert_accessible_page(page)
    page.get_by_label("Sentiment").select_option("negative")
    page.get_by_role("button", name="Show feedback").click()
    expect(page).to_have_url(re.compile(r"/feedback\?.*\bsentiment=negative\b"))
    cards = page.locator(".feedback-card")
    expect(cards).to_have_count(25)
    expect(page.locator(".feedback-card .badge--negative")).to_have_count(25)
    screenshot(page, "explorer")
    first_ids = cards.locator(".feedback-card__link").all_inner_texts()
    page.get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"/feedback\?sentiment=negative&cursor=[^&]+_\d+$"))
    expect(page.get_by_label("Sentiment")).to_have_value("negative")
    assert set(cards.locator(".feedback-card__link").all_inner_texts()).isdisjoint(first_ids)
    page.get_by_role("link", name="First page").click()
    expect(cards.locator(".feedback-card__link").first).to_have_text(first_ids[0])

    cards.locator(".feedback-card__link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(first_ids[0])
    assert_accessible_page(page)
    expect(page.get_by_role("region", name="What the customer said")).to_be_visible()
    expect(page.get_by_label("Negative")).to_be_visible()  # a <meter> named by its label
    screenshot(page, "item")


def test_a_viewer_sees_the_dashboard_but_no_acknowledge_button(page, platform, cli, tmp_path):
    make_user(platform, "vera", Role.VIEWER)
    import_tweets(cli, tmp_path, slice(0, 60))
    alert_id = raise_alert(platform)
    page.goto("/login")
    fill_login(page, "vera")
    page.goto("/trust/alerts")
    expect(page.get_by_role("main")).to_contain_text(f"#{alert_id}")
    expect(page.get_by_role("button", name=re.compile("Acknowledge"))).to_have_count(0)
    assert_accessible_page(page)
