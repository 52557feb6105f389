"""The voice-of-customer dashboard through the HTTP test client, on real imported tweets.

The data goes in the way an operator puts it in (the real `feedback import` and `trust recompute`
commands); each page must show the numbers the trust and feedback services compute.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from importlib.resources import files
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from tests.tweets import TWEET_IMPORT

from trustdesk.access.roles import ROLE_PERMISSIONS, Role
from trustdesk.auth import service as auth_service
from trustdesk.feedback import browsing
from trustdesk.feedback import service as feedback_service
from trustdesk.trust import alert_reads, explanations, score_reads, service
from trustdesk.trust.signals import Observations

PASSWORD = "correct-horse-battery"


# --- builders ---------------------------------------------------------------------------------


def write_tweets(path: Path, rows: slice, customers: dict[int, str] | None = None) -> Path:
    """Every 40th shipped tweet in `rows`; with `customers`, a customer column naming some authors."""
    source = files("trustdesk.data") / "airline_tweets.csv.gz"
    with gzip.open(str(source), "rt", encoding="utf-8") as f:
        picked = list(csv.DictReader(f))[::40][rows]
    fields = ["tweet_id", "text", "tweet_created", "airline"]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, [*fields, *(["customer"] if customers is not None else [])])
        writer.writeheader()
        for i, row in enumerate(picked):
            extra = {"customer": customers.get(i, "")} if customers is not None else {}
            writer.writerow({k: row[k] for k in fields} | extra)
    return path


def import_tweets(cli, path: Path, *extra: str) -> None:
    result = cli(
        *TWEET_IMPORT,
        str(path),
        *extra,
    )
    assert result.exit_code == 0, result.output


@pytest.fixture
def tweets(cli, tmp_path) -> None:
    """295 real tweets (every 40th), 6 of them from two known customers; the index recomputed."""
    (tmp_path / "customers.csv").write_text("external_id,segment\nc1,retail\nc2,retail\n")
    assert cli("customers", "import", str(tmp_path / "customers.csv")).exit_code == 0
    import_tweets(cli, write_tweets(tmp_path / "tweets.csv", slice(0, 280)))
    linked = dict.fromkeys(range(0, 10, 2), "c1") | {1: "c2"}
    import_tweets(
        cli,
        write_tweets(tmp_path / "linked.csv", slice(280, 295), linked),
        "--customer-column",
        "customer",
    )
    result = cli("trust", "recompute")
    assert result.exit_code == 0, result.output


def make_user(platform, username, role) -> None:
    with platform.db.transaction() as session:
        auth_service.create_user(
            session,
            platform.vault,
            username=username,
            password=PASSWORD,
            role=role,
            with_totp=False,
            actor="test",
        )


def csrf_from(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def log_in(client, platform, role=Role.ANALYST, username="ana") -> None:
    make_user(platform, username, role)
    form = client.get("/login")
    data = {"username": username, "password": PASSWORD, "csrf_token": csrf_from(form.text)}
    assert client.post("/login", data=data, follow_redirects=False).status_code == 303


class _Tables(HTMLParser):
    """Rows of the table with a given id, as lists of cell texts."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.inside, self.rows = table_id, False, []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id") == self.table_id:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def table(html: str, table_id: str) -> list[list[str]]:
    parser = _Tables(table_id)
    parser.feed(html)
    assert parser.rows, f"no table #{table_id}"
    return parser.rows[1:]  # without the header row


def main_text(html: str) -> str:
    return unescape(html[html.index("<main") : html.index("</main>")])


def card_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'class="feedback-card__link">Feedback #(\d+)<', html)]


# --- overview ---------------------------------------------------------------------------------


def test_the_overview_shows_the_services_scores_with_accessible_charts(client, platform, tweets):
    log_in(client, platform)
    page = client.get("/trust")
    assert page.status_code == 200
    params = service.TrustParams.from_settings(platform.settings)
    with platform.db.reading() as session:
        (overall,) = score_reads.scores(session, params, by="overall")
        segments = score_reads.scores(session, params, by="segment")
        trends = {s.key: score_reads.trend(session, params, segment=s.key) for s in segments}

    html = page.text
    assert f'id="overall-index">{overall.trust_index:.1f}<' in html
    rows = table(html, "segments-table")
    assert [r[0] for r in rows] == [s.key for s in segments]
    for row, s in zip(rows, segments, strict=True):
        assert row[1:4] == [
            f"{s.trust_index:.1f}",
            f"{s.ci_low:.1f} to {s.ci_high:.1f}",
            f"{s.n:,}",
        ]
        assert row[4] == f"{s.as_of:%Y-%m-%d}"  # each segment's own latest evidence
        assert row[5] == f"{s.dimensions['ability']:.1f}"  # dimension columns follow
    # charts: inline SVG images named by their title and description, one per segment trend
    charts = re.findall(
        r'<svg class="chart" id="([^"]+)" role="img" aria-labelledby="\1-title \1-desc"', html
    )
    # segment bars and overall trend (each also drawn narrow, for phones), one per segment
    assert len(charts) == 4 + len(segments)
    assert {"chart-segments-narrow", "chart-overall-narrow"} <= set(charts)
    assert '<title id="chart-segments-title">Trust index by segment</title>' in html
    for s in segments:
        assert f"Trust index of {s.key} per day" in html
        last = trends[s.key][-1]
        assert f"({last.trust_index:.1f}), {len(trends[s.key])} days with items." in unescape(html)
    assert "<script" not in html  # nothing needs JavaScript


def test_the_overview_says_how_fresh_each_figure_is_and_compares_periods(client, platform, tweets):
    log_in(client, platform)
    params = service.TrustParams.from_settings(platform.settings)
    with platform.db.reading() as session:
        (overall,) = score_reads.scores(session, params, by="overall")
    html = re.sub(r"<[^>]+>", "", unescape(client.get("/trust").text))
    assert f"Overall: as of {overall.as_of:%Y-%m-%d}" in html
    assert f"evidence up to {overall.evidence_up_to:%Y-%m-%d}" in html
    assert "computed just now" in html or "minute" in html
    # A date range and a comparison period, as a plain GET form (no JavaScript).
    days = sorted({p.bucket_start.date() for p in overall_trend(platform, params)})
    first, mid, last = days[0], days[len(days) // 2], days[-1]
    page = client.get(
        f"/trust?from={mid}&to={last}&compare_from={first}&compare_to={mid - timedelta(days=1)}"
    )
    assert page.status_code == 200
    with platform.db.reading() as session:
        late = score_reads.scores(
            session,
            params,
            by="segment",
            since=datetime.combine(mid, datetime.min.time(), UTC),
        )
    rows = table(page.text, "segments-table")
    assert [r[1] for r in rows] == [f"{s.trust_index:.1f}" for s in late]
    compared = table(page.text, "compare-table")
    assert compared[0][0] == "Overall" and len(compared) >= 2
    assert client.get("/trust?from=2015-13-01").status_code == 200  # named, not a 500
    assert "is not a date" in client.get("/trust?from=2015-13-01").text


def overall_trend(platform, params):
    with platform.db.reading() as session:
        return score_reads.trend(session, params)


def test_the_home_page_links_to_the_trust_overview_and_the_menu_has_the_new_sections(
    client, platform
):
    log_in(client, platform)
    html = client.get("/").text
    assert 'href="/trust">Open the trust overview</a>' in html
    for label, href in (
        ("Trust", "/trust"),
        ("Alerts", "/trust/alerts"),
        ("Feedback", "/feedback"),
    ):
        assert f'<a href="{href}">{label}</a>' in html
    alerts = client.get("/trust/alerts").text
    assert '<a href="/trust/alerts" aria-current="page">Alerts</a>' in alerts
    assert '<a href="/trust">Trust</a>' in alerts  # only the most specific entry is current


def test_an_empty_database_shows_how_to_get_an_index(client, platform):
    log_in(client, platform)
    page = client.get("/trust")
    assert page.status_code == 200
    assert "trustdesk trust recompute" in page.text


# --- segment ----------------------------------------------------------------------------------


def test_a_segment_page_shows_dimensions_drivers_and_the_feedback_that_moved_it(
    client, platform, tweets
):
    log_in(client, platform)
    page = client.get("/trust/segments/US%20Airways")
    assert page.status_code == 200
    params = service.TrustParams.from_settings(platform.settings)
    with platform.db.reading() as session:
        view = explanations.segment_view(
            session, platform.vault, params, "US Airways", with_text=True
        )
    html = page.text
    score = view.detail.score
    assert f"Trust index {score.trust_index:.1f} (95% interval" in html
    dims = {r[0]: r[1:] for r in table(html, "dimensions-table")}
    for name, d in view.dimensions.items():
        label = name.replace("_", " ").capitalize()
        assert dims[label][:2] == [f"{d.trust_index:.1f}", f"{d.ci_low:.1f} to {d.ci_high:.1f}"]
    drivers = table(html, "drivers-table")
    assert [r[0] for r in drivers] == [d.label for d in view.detail.drivers]
    assert [r[6] for r in drivers] == [f"{d.impact:+.2f}" for d in view.detail.drivers]
    moved = view.explanation.pulled_down + view.explanation.pulled_up
    assert moved
    for e in moved:  # each item that moved it links to the explorer, with its text
        assert f'href="/feedback/{e.ref}"' in html
        assert e.text and e.text[:30] in main_text(html)
    assert 'role="img"' in html and "Trust index of US Airways per day" in html
    assert client.get("/trust/segments/Nowhere").status_code == 404


# --- feedback explorer ------------------------------------------------------------------------


def test_the_explorer_lists_newest_first_counts_and_pages_with_a_cursor(client, platform, tweets):
    log_in(client, platform)
    first = client.get("/feedback", params={"sentiment": "negative"})
    assert first.status_code == 200
    ids = card_ids(first.text)
    with platform.db.reading() as session:
        negative = feedback_service.FeedbackFilter(sentiment="negative")
        expected = browsing.browse(session, platform.vault, negative, limit=25)
        every = browsing.browse(session, platform.vault, negative, limit=10_000).items
    assert ids == [f.id for f in expected.items] and expected.next_cursor is not None
    dates = [f.at for f in expected.items]
    assert dates == sorted(dates, reverse=True)  # newest first
    assert dates[0] == max(f.at for f in every)
    assert f"{len(every):,} items match." in main_text(first.text)
    assert main_text(first.text).count('class="badge badge--negative"') == 25
    assert expected.items[0].text in main_text(first.text)  # decrypted text for feedback:read

    next_href = unescape(
        re.search(r'<a href="([^"]+)" rel="next">Next page</a>', first.text).group(1)
    )
    assert next_href.startswith("/feedback?sentiment=negative&cursor=")
    second = client.get(next_href)
    assert set(card_ids(second.text)).isdisjoint(ids)
    by_id = {f.id: f.at for f in every}
    assert all(by_id[i] <= min(dates) for i in card_ids(second.text))
    assert '<a href="/feedback?sentiment=negative">First page</a>' in second.text

    oldest_href = unescape(re.search(r'<a href="([^"]+)">oldest first</a>', first.text).group(1))
    oldest = client.get(oldest_href).text
    assert card_ids(oldest)[0] == min(every, key=lambda f: (f.at, f.id)).id
    assert '<strong aria-current="true">oldest first</strong>' in oldest


def test_the_explorer_combines_segment_topic_date_and_customer_filters(client, platform, tweets):
    log_in(client, platform)
    html = client.get(
        "/feedback",
        params={
            "segment": "United",
            "topic": "reliability_delivery",
            "since": "2015-02-20",
            "until": "2015-02-24",
        },
    ).text
    with platform.db.reading() as session:
        from datetime import UTC, datetime

        expected = browsing.browse(
            session,
            platform.vault,
            feedback_service.FeedbackFilter(
                segment="United",
                topic="reliability_delivery",
                since=datetime(2015, 2, 20, tzinfo=UTC),
                until=datetime(2015, 2, 25, tzinfo=UTC),
            ),
            limit=25,
        ).items
    assert expected and card_ids(html) == [f.id for f in expected]
    assert 'value="United"' in html and 'value="2015-02-20"' in html  # the form keeps the filters

    by_customer = client.get("/feedback", params={"customer": "c1"}).text
    assert len(card_ids(by_customer)) == 5
    assert by_customer.count('href="/customers/c1"') == 5

    assert "No customer with id" in client.get("/feedback", params={"customer": "nobody"}).text
    bad = client.get("/feedback", params={"since": "24/02/2015"})
    assert (
        bad.status_code == 200 and 'role="alert"' in bad.text and "From must be a date" in bad.text
    )


def test_the_explorer_searches_words_in_the_encrypted_text(client, platform, tweets):
    log_in(client, platform)
    html = client.get("/feedback", params={"q": "bag", "sentiment": "negative"}).text
    with platform.db.reading() as session:
        expected, _ = feedback_service.list_feedback(
            session,
            platform.vault,
            feedback_service.FeedbackFilter(text="bag", sentiment="negative"),
            limit=25,
        )
    assert expected, "some negative tweets mention a bag"
    assert card_ids(html) == sorted((f.id for f in expected), reverse=True)  # newest received
    assert all(re.search(r"\bbags?\b", f.text, re.IGNORECASE) for f in expected)
    assert f"{len(expected)} item{'s' if len(expected) != 1 else ''} match" in main_text(html)
    marks = re.findall(r"<mark>([^<]+)</mark>", html)
    assert marks and all(m.lower() == "bag" for m in marks)
    oldest = client.get(
        "/feedback", params={"q": "bag", "sentiment": "negative", "order": "oldest"}
    )
    assert card_ids(oldest.text) == [f.id for f in expected]


def test_one_item_shows_its_full_analysis(client, platform, tweets):
    log_in(client, platform)
    with platform.db.reading() as session:
        (item,), _ = feedback_service.list_feedback(
            session, platform.vault, feedback_service.FeedbackFilter(topic="service_care"), limit=1
        )
        item = feedback_service.get_feedback(session, platform.vault, item.id)
    html = client.get(f"/feedback/{item.id}").text
    text = main_text(html)
    assert item.text in text
    assert f'<meter id="p-negative" min="0" max="1" value="{item.p_negative}">' in html
    assert "service &amp; care" in html and "Benevolence" in text
    assert f'href="/trust/segments/{quote(item.segment)}"' in html
    assert client.get("/feedback/999999").status_code == 404


# --- customer ---------------------------------------------------------------------------------


def test_a_customer_page_explains_their_index_and_shows_their_timeline(client, platform, tweets):
    log_in(client, platform, Role.AGENT)
    params = service.TrustParams.from_settings(platform.settings)
    with platform.db.reading() as session:
        explained = explanations.explain_customer(
            session, platform.vault, params, "c1", with_text=True
        )
    html = client.get("/trust/customers/c1").text
    s = explained.score
    assert f'id="customer-index">{s.trust_index:.1f}<' in html
    assert f"segment's ({s.parent:.1f})" in unescape(html)
    assert f"{s.credibility * 100:.0f}%</strong> (credibility)" in html
    assert main_text(html).count('class="timeline__item"') == 5
    for e in explained.pulled_down + explained.pulled_up:
        assert f'href="/feedback/{e.ref}"' in html
    assert 'href="/trust/customers/c1"' in client.get("/customers/c1").text
    assert client.get("/trust/customers/nobody").status_code == 404


# --- permissions and alerts -------------------------------------------------------------------


def test_a_role_without_trust_read_is_refused_the_trust_pages(client, platform, monkeypatch):
    monkeypatch.setitem(
        ROLE_PERMISSIONS, Role.VIEWER, ROLE_PERMISSIONS[Role.VIEWER] - {"trust:read"}
    )
    log_in(client, platform, Role.VIEWER, "vera")
    for path in ("/trust", "/trust/alerts", "/trust/segments/United", "/trust/customers/c1"):
        assert client.get(path).status_code == 403, path
    home = client.get("/").text
    assert 'href="/trust"' not in home and 'href="/feedback">Feedback</a>' in home
    assert client.get("/feedback").status_code == 200


class DropSignal:
    """Stationary daily trust for segment "alpha" over ten days, then one bad day: one alert."""

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


def test_an_alert_is_acknowledged_from_the_segment_page_only_with_the_csrf_token(client, platform):
    with platform.db.transaction() as session:
        assert (
            service.recompute(session, service.TrustParams(), signals=[DropSignal()]).alerts_raised
            == 1
        )
    with platform.db.reading() as session:
        (alert,) = alert_reads.list_alerts(session)
    log_in(client, platform)
    page = client.get("/trust/segments/alpha")
    assert f'action="/trust/alerts/{alert.id}/acknowledge"' in page.text
    assert f"{alert.baseline:.1f}" in page.text and f"{alert.observed:.1f}" in page.text

    forged = client.post(
        f"/trust/alerts/{alert.id}/acknowledge", data={"next": "/trust/segments/alpha"}
    )
    assert forged.status_code == 403
    with platform.db.reading() as session:
        assert alert_reads.alert(session, alert.id).acknowledged_at is None

    done = client.post(
        f"/trust/alerts/{alert.id}/acknowledge",
        data={"next": "/trust/segments/alpha", "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/trust/segments/alpha"
    with platform.db.reading() as session:
        assert alert_reads.alert(session, alert.id).acknowledged_by == "user:ana"
    after = client.get("/trust/segments/alpha").text
    assert f"Alert {alert.id} acknowledged." in after and "Acknowledged by user:ana" in after

    again = client.post(
        f"/trust/alerts/{alert.id}/acknowledge", data={"csrf_token": csrf_from(after)}
    )
    assert again.status_code == 409 and "already acknowledged" in again.text

    listed = client.get(
        "/trust/alerts", params={"state": "acknowledged", "kind": "trust_drop"}
    ).text
    assert f"#{alert.id}" in listed
    assert (
        "No alerts match these filters"
        in client.get("/trust/alerts", params={"state": "open"}).text
    )


def test_a_viewer_sees_alerts_but_cannot_acknowledge_them(client, platform):
    with platform.db.transaction() as session:
        service.recompute(session, service.TrustParams(), signals=[DropSignal()])
    with platform.db.reading() as session:
        (alert,) = alert_reads.list_alerts(session)
    log_in(client, platform, Role.VIEWER, "vera")
    page = client.get("/trust/alerts")
    assert f"#{alert.id}" in page.text and '/acknowledge"' not in page.text
    refused = client.post(
        f"/trust/alerts/{alert.id}/acknowledge", data={"csrf_token": csrf_from(page.text)}
    )
    assert refused.status_code == 403
    with platform.db.reading() as session:
        assert alert_reads.alert(session, alert.id).acknowledged_at is None
