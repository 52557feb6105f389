"""CSV upload from the web pages: the import runs as a queued job with a progress page; bad rows
are listed and downloadable; bodies are bounded and only a logged-in user may send one.
(tests/integration/test_upload_jobs.py: several app instances, interrupted runs, bad files.)"""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from tests.integration.test_pages import csrf_from, log_in, main_text, make_user

from trustdesk.access.roles import Role
from trustdesk.app import create_app
from trustdesk.customers import service as customer_service
from trustdesk.feedback import browsing
from trustdesk.feedback import service as feedback_service
from trustdesk.jobs.public import find_upload
from trustdesk.jobs.runner import Runner

CUSTOMERS = (
    "external_id,name,email,segment\n"
    "u1,Ada One,ada@example.com,retail\n"
    "u2,Bob Two,not-an-email,retail\n"
    "u3,Cy Three,cy@example.com,business\n"
)
FEEDBACK = (
    "external_id,text,at,airline\n"
    "f1,The crew were wonderful and kind,2015-02-24 10:00:00,United\n"
    "f2,Lost my bag and nobody answers,2015-02-24 11:00:00,United\n"
    "f3,no date here,yesterday,United\n"
)


def upload(client, page, data, content, filename="data.csv"):
    form = client.get(page)
    assert form.status_code == 200
    return client.post(
        page,
        data={**data, "csrf_token": csrf_from(form.text)},
        files={"file": (filename, content.encode(), "text/csv")},
        follow_redirects=False,
    )


def finished(app, response, owner):
    """The upload's job run here, as a worker would (tests run no job thread); its page's URL."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    kind = location.split("/")[1]
    outcomes = Runner(app.state.platform).run_due(only=f"{kind}.uploads")
    assert [o.status for o in outcomes] == ["succeeded"], outcomes
    with app.state.platform.db.reading() as session:
        done = find_upload(session, app.state.platform.vault, location.rsplit("/", 1)[1], owner)
    assert not done.running
    return location


def test_a_customer_csv_is_imported_with_progress_and_its_bad_row_named(client, platform, app):
    owner = make_user(platform, "amy", Role.AGENT)
    log_in(client, platform, "amy")
    assert 'href="/customers/import"' in client.get("/customers").text
    location = finished(app, upload(client, "/customers/import", {}, CUSTOMERS), owner)
    page = main_text(client.get(location))
    assert "Import finished: 2 created, 0 updated, 0 unchanged, 1 rejected" in page
    assert '<meta http-equiv="refresh"' not in client.get(location).text  # done: no refresh
    assert "u2" in page and "email" in page
    rejects = client.get(location + "/rejects.csv")
    rows = list(csv.reader(io.StringIO(rejects.content.decode("utf-8-sig"))))
    assert rows[0] == ["row", "external_id", "reason"] and rows[1][:2] == ["2", "u2"]
    with platform.db.reading() as session:
        found = customer_service.get_customer(session, platform.vault, "u1", reveal=True)
    assert found.email == "ada@example.com"
    again = finished(app, upload(client, "/customers/import", {}, CUSTOMERS), owner)
    assert "0 created, 0 updated, 2 unchanged" in main_text(client.get(again))  # idempotent


def test_a_feedback_csv_is_stored_then_analysed(client, platform, app):
    owner = make_user(platform, "ana", Role.ANALYST)
    log_in(client, platform, "ana")
    data = {"source": "survey", "segment_column": "airline"}
    location = finished(app, upload(client, "/feedback/import", data, FEEDBACK), owner)
    page = main_text(client.get(location))
    assert "2 created, 0 unchanged, 1 rejected; 2 analysed" in page
    with platform.db.reading() as session:
        items = browsing.browse(
            session, platform.vault, feedback_service.FeedbackFilter(source="survey")
        ).items
    assert {f.external_id for f in items} == {"f1", "f2"}
    assert all(f.sentiment for f in items) and {f.segment for f in items} == {"United"}


def test_the_form_names_what_is_missing(client, platform):
    make_user(platform, "ana", Role.ANALYST)
    log_in(client, platform, "ana")
    no_source = upload(client, "/feedback/import", {"source": ""}, FEEDBACK)
    assert no_source.status_code == 422 and "Say where the feedback came from" in no_source.text
    assert client.get("/customers/import").status_code == 403  # analysts import no customers
    make_user(platform, "amy", Role.AGENT)
    other = TestClient(client.app)
    log_in(other, platform, "amy")
    png = upload(other, "/customers/import", {}, "x", filename="photo.png")
    assert png.status_code == 422 and "Choose a .csv file" in png.text
    empty = upload(other, "/customers/import", {}, "")
    assert empty.status_code == 422 and "The file is empty" in empty.text


def test_only_the_uploader_sees_the_progress(client, platform, app):
    owner = make_user(platform, "amy", Role.AGENT)
    log_in(client, platform, "amy")
    location = finished(app, upload(client, "/customers/import", {}, CUSTOMERS), owner)
    make_user(platform, "bea", Role.AGENT)
    other = TestClient(app)
    log_in(other, platform, "bea")
    assert other.get(location).status_code == 404
    assert other.get(location + "/rejects.csv").status_code == 404


@pytest.fixture
def small_limits(platform):
    settings = platform.settings.model_copy(
        update={"max_body_bytes": 2048, "max_bulk_body_bytes": 64 * 1024}
    )
    app = create_app(settings, platform=platform)
    with TestClient(app) as c:
        yield app, c


def test_the_upload_takes_more_than_the_page_limit_but_not_more_than_the_bulk_one(
    platform, small_limits
):
    app, client = small_limits
    owner = make_user(platform, "amy", Role.AGENT)
    log_in(client, platform, "amy")
    rows = "".join(f"b{i:05d},Name {i},p{i}@example.com,retail\n" for i in range(200))
    big = "external_id,name,email,segment\n" + rows  # ~8 KB: over the 2 KB page limit
    location = finished(app, upload(client, "/customers/import", {}, big), owner)
    assert "200 created" in main_text(client.get(location))
    huge = upload(client, "/customers/import", {}, big * 10)  # ~80 KB: over the bulk limit
    assert huge.status_code == 413


def test_an_anonymous_upload_is_refused_before_its_body_is_read(small_limits):
    _, client = small_limits
    body = b"x" * 30_000
    answer = client.post(
        "/customers/import",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=zzz"},
        follow_redirects=False,
    )
    assert answer.status_code == 401
