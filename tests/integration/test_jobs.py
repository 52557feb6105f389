"""The one job system through the real CLI, API, page and database: triggered and scheduled
runs, retries with back-off, one run per due time with two workers, the server's runner."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.integration.test_pages import log_in, make_user
from tests.tweets import TWEET_IMPORT

from trustdesk.access.roles import Role
from trustdesk.capabilities import Job
from trustdesk.jobs.context import JobContext
from trustdesk.jobs.models import JobRun, JobState
from trustdesk.jobs.runner import Runner
from trustdesk.platform import Platform

TWEETS = """tweet_id,text,tweet_created,airline
1,"@united lost my bag again, worst airline",2015-02-24 10:00:00 -0800,United
2,"@united thanks for the upgrade, great crew",2015-02-24 11:00:00 -0800,United
3,"@delta flight cancelled and no help at all",2015-02-24 12:00:00 -0800,Delta
4,"@delta lovely service today",2015-02-24 13:00:00 -0800,Delta
"""

CALLS: list[tuple[str, str]] = []
_CALLS_LOCK = threading.Lock()
_FAILURES_LEFT = {"n": 0}


def counting(context: JobContext) -> str:
    with _CALLS_LOCK:
        CALLS.append((context.job, context.reason))
    time.sleep(0.05)  # long enough for a second worker to try the same due time meanwhile
    return "counted"


def flaky(context: JobContext) -> str:
    if _FAILURES_LEFT["n"] > 0:
        _FAILURES_LEFT["n"] -= 1
        raise RuntimeError("the mail server is away")
    return "done"


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def _write(tmp_path: Path, body: str = TWEETS) -> Path:
    path = tmp_path / "tweets.csv"
    path.write_text(body, encoding="utf-8")
    return path


def _segments(cli) -> list[dict]:
    result = cli("trust", "show", "--by", "segment", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_feedback_import_alone_brings_the_trust_index_up_to_date(cli, tmp_path):
    assert _segments(cli) == []
    result = cli(*TWEET_IMPORT, str(_write(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "trust.recompute: succeeded" in result.stdout
    rows = _segments(cli)
    assert {r["segment"] for r in rows} == {"United", "Delta"}
    assert sum(r["n"] for r in rows) == 4
    runs = json.loads(cli("jobs", "runs", "--json").stdout)
    assert [(r["job_name"], r["reason"], r["status"]) for r in runs] == [
        ("trust.recompute", "trigger", "succeeded")
    ]
    assert runs[0]["duration_ms"] >= 0 and "4 new observations" in runs[0]["summary"]


def test_no_recompute_leaves_the_recompute_due_for_a_worker(cli, tmp_path):
    result = cli(*TWEET_IMPORT, str(_write(tmp_path)), "--no-recompute")
    assert result.exit_code == 0, result.output
    assert _segments(cli) == []
    jobs = {j["name"]: j for j in json.loads(cli("jobs", "list", "--json").stdout)}
    assert jobs["trust.recompute"]["pending_since"] is not None
    assert jobs["trust.recompute"]["every_s"] == 300
    due = cli("jobs", "due", "--json")
    assert due.exit_code == 0, due.output
    assert [o["job"] for o in json.loads(due.stdout)] == ["trust.recompute"]
    assert sum(r["n"] for r in _segments(cli)) == 4
    again = json.loads(cli("jobs", "due", "--json").stdout)
    assert again == []  # the trigger was consumed: nothing due until the next change


def test_jobs_run_runs_one_job_now_and_an_unknown_job_is_refused(cli):
    result = cli("jobs", "run", "trust.recompute")
    assert result.exit_code == 0, result.output
    assert "trust.recompute: succeeded" in result.stdout
    runs = json.loads(cli("jobs", "runs", "--job", "trust.recompute", "--json").stdout)
    assert len(runs) == 1
    missing = cli("jobs", "run", "no.such.job")
    assert missing.exit_code != 0 and "no job named 'no.such.job'" in missing.output


def test_a_failing_job_is_retried_with_growing_waits_then_given_up(platform: Platform):
    job = Job("test.flaky", f"{__name__}:flaky", every_s=3600, max_attempts=3, retry_s=10)
    clock = Clock(datetime(2026, 12, 3, 10, 0, tzinfo=UTC))
    runner = Runner(platform, jobs={job.name: job}, clock=clock)
    runner.sync()
    _FAILURES_LEFT["n"] = 5
    clock.now = datetime(2026, 12, 3, 11, 0, 1, tzinfo=UTC)  # past the first due time
    first = runner.run_due()
    assert [(o.status, o.attempt) for o in first] == [("failed", 1)]
    assert runner.run_due() == []  # not before its back-off
    clock.now += timedelta(seconds=10)
    assert [(o.status, o.attempt) for o in runner.run_due()] == [("failed", 2)]
    clock.now += timedelta(seconds=10)
    assert runner.run_due() == []  # the second wait is twice the first
    clock.now += timedelta(seconds=10)
    assert [(o.status, o.attempt) for o in runner.run_due()] == [("failed", 3)]
    clock.now += timedelta(hours=1)  # attempts used up: the next run is the next due time
    _FAILURES_LEFT["n"] = 0
    assert [(o.status, o.attempt) for o in runner.run_due()] == [("succeeded", 1)]
    with platform.db.reading() as session:
        runs = list(session.scalars(select(JobRun).order_by(JobRun.id)))
    assert [(r.status, r.reason, r.attempt) for r in runs] == [
        ("failed", "schedule", 1),
        ("failed", "retry", 2),
        ("failed", "retry", 3),
        ("succeeded", "schedule", 1),
    ]
    assert runs[0].retry_at is not None and runs[2].retry_at is None  # the last try gave up
    assert runs[0].error == "RuntimeError: the mail server is away"


def test_two_workers_run_each_due_time_exactly_once(platform: Platform, settings):
    """Two workers with their own connections race for every due time; each due time runs once."""
    job = Job("test.counting", f"{__name__}:counting", every_s=60)
    jobs = {job.name: job}
    clock = Clock(datetime(2026, 12, 3, 10, 0, 30, tzinfo=UTC))
    second = Platform.open(settings)  # its own engine and pool, as another process would have
    try:
        workers = [
            Runner(platform, jobs=jobs, clock=clock, owner="worker-a"),
            Runner(second, jobs=jobs, clock=clock, owner="worker-b"),
        ]
        for w in workers:
            w.sync()
        CALLS.clear()
        rounds = 8
        for _ in range(rounds):
            clock.now += timedelta(seconds=60)
            barrier = threading.Barrier(2)

            def race(worker: Runner, barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                worker.run_due()

            threads = [threading.Thread(target=race, args=(w,)) for w in workers]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
        assert len(CALLS) == rounds
        with platform.db.reading() as session:
            runs = list(session.scalars(select(JobRun).where(JobRun.job_name == job.name)))
            state = session.get(JobState, job.name)
        assert len({r.due_at for r in runs}) == len(runs) == rounds
        assert all(r.status == "succeeded" for r in runs)
        assert state is not None and state.lease_owner is None
    finally:
        second.close()


def test_a_run_whose_worker_died_is_marked_lost_and_the_job_claimed_again(platform: Platform):
    job = Job("test.counting", f"{__name__}:counting", every_s=60, lease_s=120)
    jobs = {job.name: job}
    clock = Clock(datetime(2026, 12, 3, 10, 0, 30, tzinfo=UTC))
    dead = Runner(platform, jobs=jobs, clock=clock, owner="dead-worker")
    dead.sync()
    clock.now += timedelta(seconds=60)
    from trustdesk.jobs import service

    with platform.db.transaction() as session:  # claimed, then the process vanished
        assert service.claim(session, jobs, "dead-worker", clock()) is not None
    alive = Runner(platform, jobs=jobs, clock=clock, owner="alive")
    clock.now += timedelta(seconds=70)  # due again, but the lease still holds
    assert alive.run_due() == []
    clock.now += timedelta(seconds=60)  # lease expired
    assert [o.status for o in alive.run_due()] == ["succeeded"]
    with platform.db.reading() as session:
        statuses = [r.status for r in session.scalars(select(JobRun).order_by(JobRun.id))]
    assert statuses == ["lost", "succeeded"]


def test_jobs_api_lists_jobs_and_runs_and_only_admins_make_one_due(api, client, token_for, cli):
    assert cli("jobs", "run", "trust.recompute").exit_code == 0
    analyst = {"Authorization": f"Bearer {token_for(Role.ANALYST)}"}
    jobs = client.get("/api/v1/jobs", headers=analyst)
    assert jobs.status_code == 200
    recompute = next(j for j in jobs.json() if j["name"] == "trust.recompute")
    assert recompute["last_status"] == "succeeded" and recompute["runs_24h"] == 1
    runs = client.get("/api/v1/jobs/runs", params={"status": "succeeded"}, headers=analyst)
    assert runs.status_code == 200 and runs.json()[0]["job_name"] == "trust.recompute"
    refused = client.post("/api/v1/jobs/trust.recompute/run", headers=analyst)
    assert refused.status_code == 403
    assert api.post("/api/v1/jobs/trust.recompute/run").status_code == 202
    assert api.post("/api/v1/jobs/nope/run").status_code == 404
    listed = {j["name"]: j for j in api.get("/api/v1/jobs").json()}
    assert listed["trust.recompute"]["pending_since"] is not None


def test_the_jobs_page_shows_runs_failures_and_durations(client, platform, cli):
    assert cli("jobs", "run", "trust.recompute").exit_code == 0
    make_user(platform, "ana", "analyst")
    log_in(client, platform, "ana")
    page = client.get("/jobs")
    assert page.status_code == 200
    assert "trust.recompute" in page.text and "succeeded" in page.text and " ms" in page.text
    assert client.get("/jobs?failed=true").status_code == 200


def test_the_running_server_recomputes_shortly_after_an_api_import(settings, token_for):
    """`trustdesk serve` runs the job system in a thread: a bulk import over the API shows in the
    trust index without anyone running a command."""
    from fastapi.testclient import TestClient

    from trustdesk.app import create_app

    live = settings.model_copy(update={"jobs_in_server": True, "jobs_poll_s": 0.2})
    platform = Platform.open(live)
    try:
        token = token_for(Role.ADMIN)
        with TestClient(create_app(platform=platform)) as client:
            client.headers["Authorization"] = f"Bearer {token}"
            rows = [
                {"source": "survey", "external_id": f"s{i}", "text": text, "segment": "Retail",
                 "at": "2026-11-01T10:00:00Z"}
                for i, text in enumerate(["great service", "awful wait", "fine", "lovely"])
            ]  # fmt: skip
            assert client.post("/api/v1/feedback/bulk", json=rows).status_code == 200
            deadline = time.monotonic() + 60
            scores: list[dict] = []
            while time.monotonic() < deadline:
                scores = client.get("/api/v1/trust", params={"by": "segment"}).json()
                if scores:
                    break
                time.sleep(0.2)
            assert isinstance(scores, list), scores
            assert [s["key"] for s in scores] == ["Retail"]
    finally:
        platform.close()


@pytest.mark.parametrize("every_s", [60, 300, 86400])
def test_due_times_are_aligned_so_every_worker_agrees(every_s):
    from trustdesk.jobs.schedule import next_due

    a = next_due(every_s, datetime(2026, 12, 3, 10, 0, 1, tzinfo=UTC))
    b = next_due(every_s, datetime(2026, 12, 3, 10, 0, 2, tzinfo=UTC))
    assert a == b and a.timestamp() % every_s == 0


def test_a_paused_job_is_not_run_until_resumed(cli, tmp_path):
    assert cli("jobs", "pause", "trust.recompute").exit_code == 0
    result = cli(*TWEET_IMPORT, str(_write(tmp_path)))
    assert result.exit_code == 0, result.output
    assert _segments(cli) == []  # the import's recompute waits for the resume
    refused = cli("jobs", "run", "trust.recompute")
    assert refused.exit_code != 0 and "paused" in refused.output
    listed = {j["name"]: j for j in json.loads(cli("jobs", "list", "--json").stdout)}
    assert listed["trust.recompute"]["paused"] is True
    assert cli("jobs", "resume", "trust.recompute").exit_code == 0
    assert [o["job"] for o in json.loads(cli("jobs", "due", "--json").stdout)] == [
        "trust.recompute"
    ]
    assert sum(r["n"] for r in _segments(cli)) == 4


def test_a_stopping_runner_starts_no_new_run(platform: Platform):
    job = Job("test.counting", f"{__name__}:counting", every_s=60)
    clock = Clock(datetime(2026, 12, 3, 10, 0, 30, tzinfo=UTC))
    runner = Runner(platform, jobs={job.name: job}, clock=clock)
    runner.sync()
    clock.now += timedelta(seconds=60)  # due
    halt = runner.start(poll_s=3600)  # one round at once, then waits
    halt()  # what `trustdesk serve` does on shutdown
    clock.now += timedelta(seconds=60)  # due again
    assert runner.run_due() == []  # stopped: left to the other workers
    assert Runner(platform, jobs={job.name: job}, clock=clock).run_due() != []
