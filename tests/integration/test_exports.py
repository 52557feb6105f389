"""CSV downloads of the trust overview, the alerts and feedback search results, linked from
their pages; every cell formula-safe."""

from __future__ import annotations

import csv
import io

from tests.integration.test_dashboard_pages import DropSignal, log_in, tweets  # noqa: F401

from trustdesk.access.roles import Role
from trustdesk.feedback import browsing
from trustdesk.feedback import service as feedback_service
from trustdesk.trust import alert_reads, score_reads, service
from trustdesk.web.downloads import csv_download


def read_csv(response):
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_overview_downloads_as_csv_with_the_pages_numbers(client, platform, tweets):  # noqa: F811
    log_in(client, platform, Role.VIEWER, "vic")
    assert 'href="/trust/overview.csv"' in client.get("/trust").text
    rows = read_csv(client.get("/trust/overview.csv"))
    with platform.db.reading() as session:
        found = score_reads.overview(session, service.TrustParams.from_settings(platform.settings))
    assert rows[0]["level"] == "overall"
    assert float(rows[0]["trust_index"]) == round(found.overall.trust_index, 2)
    by_segment = {r["segment"]: r for r in rows[1:]}
    assert set(by_segment) == {s.key for s in found.segments}
    for s in found.segments:
        assert float(by_segment[s.key]["trust_index"]) == round(s.trust_index, 2)
        assert int(by_segment[s.key]["n"]) == s.n


def test_alerts_download_with_the_pages_filters(client, platform):
    with platform.db.transaction() as session:
        service.recompute(session, service.TrustParams(), signals=[DropSignal()])
    log_in(client, platform)
    page = client.get("/trust/alerts", params={"kind": "trust_drop"}).text
    assert 'href="/trust/alerts.csv?kind=trust_drop"' in page
    rows = read_csv(client.get("/trust/alerts.csv", params={"kind": "trust_drop"}))
    with platform.db.reading() as session:
        (alert,) = alert_reads.list_alerts(session)
    assert [int(r["id"]) for r in rows] == [alert.id]
    assert rows[0]["segment"] == "alpha" and rows[0]["kind"] == "trust_drop"
    assert read_csv(client.get("/trust/alerts.csv", params={"kind": "topic_surge"})) == []


def test_search_results_download_in_the_pages_order(client, platform, tweets):  # noqa: F811
    log_in(client, platform)
    page = client.get("/feedback", params={"sentiment": "negative", "segment": "United"}).text
    assert 'href="/feedback/export.csv?segment=United&amp;sentiment=negative"' in page
    rows = read_csv(
        client.get("/feedback/export.csv", params={"sentiment": "negative", "segment": "United"})
    )
    with platform.db.reading() as session:
        expected = browsing.browse(
            session,
            platform.vault,
            feedback_service.FeedbackFilter(sentiment="negative", segment="United"),
            limit=10_000,
        ).items
    assert [int(r["id"]) for r in rows] == [f.id for f in expected]
    assert rows[0]["text"] in (expected[0].text, "'" + expected[0].text)
    assert {r["sentiment"] for r in rows} == {"negative"}


def test_exports_need_the_pages_permissions(client, platform):
    client.get("/login")
    assert client.get("/trust/overview.csv", follow_redirects=False).status_code == 303
    assert client.get("/feedback/export.csv", follow_redirects=False).status_code == 303


def test_downloaded_cells_never_run_as_formulas():
    response = csv_download(
        "x.csv", ["name", "value"], [['=HYPERLINK("x")', -3.5], ["@SUM(1)", "+1"]]
    )
    rows = list(csv.reader(io.StringIO(response.body.decode("utf-8-sig"))))
    assert rows[1] == ['\'=HYPERLINK("x")', "-3.5"]
    assert rows[2] == ["'@SUM(1)", "+1"]
