"""Web uploads are queued jobs of the one job system with their progress in the database: any app
instance on the database shows the same page (only to the uploader), an import whose run was
killed resumes after its lease with the right counts and nothing twice, and a bad file says why
on its page. SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import csv
import io
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sqlalchemy import func, select
from tests.integration.test_pages import log_in, main_text, make_user
from tests.integration.test_uploads import upload

from trustdesk.access.roles import Role
from trustdesk.app import create_app
from trustdesk.customers import service as customer_service
from trustdesk.customers import uploads as customer_uploads
from trustdesk.customers.importing import import_customer_records
from trustdesk.customers.schemas import ImportReport
from trustdesk.db import utcnow
from trustdesk.errors import NotFound
from trustdesk.feedback import browsing
from trustdesk.feedback import service as feedback_service
from trustdesk.feedback import uploads as feedback_uploads
from trustdesk.jobs import uploads as upload_queue
from trustdesk.jobs.models import JobRun, UploadJob, UploadReject
from trustdesk.jobs.runner import Runner
from trustdesk.platform import Platform
from trustdesk.tabular import Row

CUSTOMERS = (
    "external_id,name,email,segment\n"
    "c1,Ada One,ada@example.com,retail\n"
    "c2,Bob Two,bob@example.com,retail\n"
    "c3,Cy Three,not-an-email,retail\n"
    "c4,Di Four,di@example.com,business\n"
    "c5,Ed Five,ed@example.com,business\n"
    "c1,Ada Again,again@example.com,retail\n"
    "c7,Flo Seven,flo@example.com,retail\n"
)
FEEDBACK = (
    "external_id,text,at,airline\n"
    "f1,The crew were wonderful and kind,2015-02-24 10:00:00,United\n"
    "f2,Lost my bag and nobody answers,2015-02-24 11:00:00,United\n"
    "f3,no date here,yesterday,United\n"
    "f4,Great legroom and a smooth landing,2015-02-24 12:00:00,Delta\n"
    "f5,Delayed four hours without a word,2015-02-24 13:00:00,Delta\n"
    "f6,Friendly gate staff helped my mother,2015-02-24 14:00:00,Delta\n"
)


class Killed(BaseException):
    """The process died: nothing below the job catches it, nothing is cleaned up."""


@pytest.fixture
def second(settings):
    """Another app instance (its own platform, engine and pool) on the same database."""
    other = Platform.open(settings)
    app = create_app(settings, platform=other)
    with TestClient(app) as client:
        yield client
    other.close()


def _run_once(platform: Platform, job: str, **runner: object) -> list[str]:
    return [o.status for o in Runner(platform, **runner).run_due(only=job, limit=1)]


def _row(platform: Platform, location: str) -> UploadJob:
    with platform.db.reading() as session:
        found = session.scalars(
            select(UploadJob).where(UploadJob.public_id == location.rsplit("/", 1)[1])
        ).one()
        session.expunge(found)
        return found


def _uploads_left(platform: Platform) -> list[str]:
    folder = platform.settings.data_dir / "uploads"
    return [str(p) for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_any_app_instance_shows_the_same_progress_and_only_to_the_uploader(
    client, second, platform, monkeypatch
):
    monkeypatch.setattr(customer_uploads, "BATCH_ROWS", 2)
    make_user(platform, "amy", Role.AGENT)
    log_in(client, platform, "amy")
    sent = upload(client, "/customers/import", {}, CUSTOMERS)
    assert sent.status_code == 303
    location = sent.headers["location"]
    log_in(second, platform, "amy")

    queued = second.get(location)
    assert queued.status_code == 200 and '<meta http-equiv="refresh"' in queued.text
    assert "Waiting for a worker to start the import of about 7 rows" in main_text(queued)

    monkeypatch.setattr(upload_queue, "SLICE_S", 0.0)  # one batch, then the run hands over
    assert _run_once(platform, "customers.uploads") == ["succeeded"]
    midway = main_text(second.get(location))
    assert "Storing rows: 2 of about 7 done" in midway
    assert '<dd id="count-created">2</dd>' in midway

    monkeypatch.setattr(upload_queue, "SLICE_S", 120.0)
    assert _run_once(platform, "customers.uploads") == ["succeeded"]  # due again: it goes on
    for answer in (second.get(location), client.get(location)):
        page = main_text(answer)
        assert "Import finished: 5 created, 0 updated, 0 unchanged, 2 rejected" in page
        assert '<meta http-equiv="refresh"' not in answer.text
    rejects = second.get(location + "/rejects.csv")
    rows = list(csv.reader(io.StringIO(rejects.content.decode("utf-8-sig"))))
    assert [r[:2] for r in rows[1:]] == [["3", "c3"], ["6", "c1"]]
    assert "duplicate external_id (first at row 1)" in rows[2][2]
    assert location in second.get("/customers/import").text  # "Your recent uploads"
    assert _uploads_left(platform) == []  # the file is deleted when the import ends

    make_user(platform, "bea", Role.AGENT)
    log_in(second, platform, "bea")
    assert second.get(location).status_code == 404
    assert second.get(location + "/rejects.csv").status_code == 404


def test_rejected_rows_are_sealed_at_rest(client, platform):
    make_user(platform, "amy", Role.AGENT)
    log_in(client, platform, "amy")
    upload(client, "/customers/import", {}, CUSTOMERS)
    assert _run_once(platform, "customers.uploads") == ["succeeded"]
    with platform.db.reading() as session:
        blobs = list(session.scalars(select(UploadReject.sealed)))
    assert len(blobs) == 2
    assert not any(b"c3" in blob or b"email" in blob for blob in blobs)


def _kill_at(monkeypatch: pytest.MonkeyPatch, call: int) -> None:
    """The worker dies right after the `call`-th committed batch (once)."""
    calls = {"n": 0}
    real = upload_queue.UploadTask.checkpoint

    def dying(task: upload_queue.UploadTask) -> None:
        calls["n"] += 1
        if calls["n"] == call:
            raise Killed()
        real(task)

    monkeypatch.setattr(upload_queue.UploadTask, "checkpoint", dying)


def _after_the_lease(platform: Platform, job: str) -> list[str]:
    later = utcnow() + timedelta(seconds=400)  # past the 300 s lease and the minute's schedule
    return _run_once(platform, job, clock=lambda: later, owner="restarted")


def test_a_customer_import_killed_mid_way_resumes_with_right_counts_and_no_duplicates(
    client, second, platform, monkeypatch
):
    monkeypatch.setattr(customer_uploads, "BATCH_ROWS", 2)
    owner = make_user(platform, "amy", Role.AGENT)
    log_in(client, platform, "amy")
    location = upload(client, "/customers/import", {}, CUSTOMERS).headers["location"]
    _kill_at(monkeypatch, 1)
    with pytest.raises(Killed):
        Runner(platform, owner="doomed").run_due(only="customers.uploads")
    log_in(second, platform, "amy")
    assert "Storing rows: 2 of about 7 done" in main_text(second.get(location))

    assert _run_once(platform, "customers.uploads") == []  # the dead run's lease still holds
    assert _after_the_lease(platform, "customers.uploads") == ["succeeded"]

    page = main_text(second.get(location))
    assert "Import finished: 5 created, 0 updated, 0 unchanged, 2 rejected" in page
    row = _row(platform, location)
    assert (row.processed, row.resume_after, row.interrupted, row.owner) == (7, 7, 1, owner)
    with platform.db.reading() as session:
        runs = [r.status for r in session.scalars(select(JobRun).order_by(JobRun.id))]
        rejects = session.scalar(select(func.count()).select_from(UploadReject))
        ada = customer_service.get_customer(session, platform.vault, "c1", reveal=True)
        listed, _ = customer_service.list_customers(session, platform.vault, reveal=False)
    assert runs == ["lost", "succeeded"]
    assert rejects == 2  # the rows before the kill were not rejected twice
    assert ada.name == "Ada One"  # the repeat after the resume point is still refused
    assert sorted(c.external_id for c in listed) == ["c1", "c2", "c4", "c5", "c7"]
    assert _uploads_left(platform) == []


def test_a_feedback_import_killed_while_analysing_resumes_the_analysis(
    client, platform, monkeypatch
):
    monkeypatch.setattr(feedback_uploads, "ANALYSIS_ROWS", 2)
    make_user(platform, "ana", Role.ANALYST)
    log_in(client, platform, "ana")
    data = {"source": "survey", "segment_column": "airline"}
    location = upload(client, "/feedback/import", data, FEEDBACK).headers["location"]
    _kill_at(monkeypatch, 2)  # 1: the stored batch, 2: the first analysed batch
    with pytest.raises(Killed):
        Runner(platform, owner="doomed").run_due(only="feedback.uploads")
    row = _row(platform, location)
    assert (row.state, row.created, row.analysed) == ("analysing", 5, 2)
    assert "Analysing and indexing the stored feedback: 2 done" in main_text(client.get(location))

    assert _after_the_lease(platform, "feedback.uploads") == ["succeeded"]
    page = main_text(client.get(location))
    assert "5 created, 0 unchanged, 1 rejected; 5 analysed" in page
    with platform.db.reading() as session:
        items = browsing.browse(
            session, platform.vault, feedback_service.FeedbackFilter(source="survey")
        ).items
    assert sorted(f.external_id for f in items) == ["f1", "f2", "f4", "f5", "f6"]
    assert all(f.sentiment for f in items)


def test_a_bad_file_fails_on_its_page_and_stores_nothing(client, platform):
    make_user(platform, "amy", Role.AGENT)
    log_in(client, platform, "amy")
    sent = upload(client, "/customers/import", {}, "id,name\n1,Ada One\n")
    assert sent.status_code == 303
    assert _run_once(platform, "customers.uploads") == ["succeeded"]  # the job did its part
    page = main_text(client.get(sent.headers["location"]))
    assert "The import stopped: data.csv: missing column(s): external_id." in page
    with platform.db.reading() as session:
        assert customer_service.list_customers(session, platform.vault, reveal=False)[0] == []
    assert _uploads_left(platform) == []


def test_finished_uploads_are_forgotten_after_30_days(client, platform):
    make_user(platform, "amy", Role.AGENT)
    log_in(client, platform, "amy")
    old = upload(client, "/customers/import", {}, CUSTOMERS).headers["location"]
    assert _run_once(platform, "customers.uploads") == ["succeeded"]
    with platform.db.transaction() as session:
        session.get(UploadJob, _row(platform, old).id).finished_at = utcnow() - timedelta(days=31)
    new = upload(client, "/customers/import", {}, CUSTOMERS).headers["location"]
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    with platform.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(UploadReject)) == 0


_SPEC = st.lists(
    st.tuples(
        st.sampled_from("pqrst"),  # few ids: repeats within the file and across the seed
        st.sampled_from(["Ann", "Ben"]),
        st.sampled_from(["ann@example.com", "ben@example.com", "not-an-email"]),
    ),
    min_size=1,
    max_size=12,
)


@examples(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=_SPEC, spec=_SPEC, batch=st.integers(1, 4), kill_after=st.integers(1, 5))
def test_a_resumed_import_ends_as_an_uninterrupted_one(platform, seed, spec, batch, kill_after):
    """Whatever the rows and wherever the run dies (after a committed batch), resuming after the
    last stored row gives the same customers, counts and rejected rows as one run."""
    tag = uuid.uuid4().hex[:8]

    def rows(prefix: str, items: list[tuple[str, str, str]]) -> list[Row]:
        return [
            Row(n, {"external_id": f"{prefix}{tag}{key}", "name": name, "email": email})
            for n, (key, name, email) in enumerate(items, start=1)
        ]

    def run(prefix: str, **kw: object) -> ImportReport:
        return import_customer_records(
            platform.db, platform.vault, rows(prefix, spec), actor="test", batch_size=batch, **kw
        )

    for prefix in ("a", "b"):
        import_customer_records(platform.db, platform.vault, rows(prefix, seed), actor="test")
    whole = run("a")

    done: dict[str, object] = {"last": 0}
    batches = {"n": 0}

    def in_batch(session: object, report: ImportReport, last: int) -> None:
        done.update(
            last=last,
            counts=(report.created, report.updated, report.unchanged),
            rejected=[(r.row, r.reason) for r in report.rejected if r.row <= last],
        )

    def on_batch(_: ImportReport) -> None:
        batches["n"] += 1
        if batches["n"] == kill_after:
            raise Killed()

    with contextlib.suppress(Killed):
        run("b", in_batch=in_batch, on_batch=on_batch)
    resumed = run("b", resume_after=done["last"])
    before = done.get("counts", (0, 0, 0))
    assert (
        before[0] + resumed.created,
        before[1] + resumed.updated,
        before[2] + resumed.unchanged,
    ) == (whole.created, whole.updated, whole.unchanged)
    rejected = [*done.get("rejected", []), *((r.row, r.reason) for r in resumed.rejected)]
    assert sorted(rejected) == sorted((r.row, r.reason) for r in whole.rejected)
    with platform.db.reading() as session:
        for key in {k for k, _, _ in [*seed, *spec]}:
            assert _stored(session, platform, f"a{tag}{key}") == _stored(
                session, platform, f"b{tag}{key}"
            )


def _stored(session, platform: Platform, external_id: str) -> tuple[str, str] | None:
    try:
        found = customer_service.get_customer(session, platform.vault, external_id, reveal=True)
    except NotFound:
        return None
    return (found.name, found.email)


def test_a_server_shutting_down_hands_the_import_over_without_waiting_for_its_lease(
    client, platform, monkeypatch
):
    monkeypatch.setattr(customer_uploads, "BATCH_ROWS", 2)
    make_user(platform, "amy", Role.AGENT)
    log_in(client, platform, "amy")
    location = upload(client, "/customers/import", {}, CUSTOMERS).headers["location"]
    stopping = Runner(platform, owner="stopping")
    real = upload_queue.UploadTask.checkpoint

    def halted(task: upload_queue.UploadTask) -> None:
        stopping._stopping.set()  # what `halt()` does when `trustdesk serve` stops
        real(task)

    monkeypatch.setattr(upload_queue.UploadTask, "checkpoint", halted)
    assert [o.status for o in stopping.run_due(only="customers.uploads")] == ["succeeded"]
    monkeypatch.setattr(upload_queue.UploadTask, "checkpoint", real)
    row = _row(platform, location)
    assert (row.state, row.created, row.worker, row.interrupted) == ("storing", 2, None, 0)
    assert _run_once(platform, "customers.uploads") == ["succeeded"]  # another process, at once
    row = _row(platform, location)
    assert (row.state, row.created, row.rejected, row.interrupted) == ("done", 5, 2, 0)
