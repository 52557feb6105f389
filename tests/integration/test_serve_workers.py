"""Several API processes on one PostgreSQL database: what one changes, the others honour.

`trustdesk serve --workers N` forks N uvicorn workers behind one port; which one answers a
request is the kernel's choice. To say "through one, refused by the other" the state tests run
two server processes on two ports instead: the same processes, the same settings, each
addressable. A test starts `serve --workers 2` itself, and one kills the server importing a web
upload and watches the other finish it.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from tests.integration.test_pages import make_user, submit_login
from tests.integration.test_uploads import upload

from trustdesk.access.roles import Role
from trustdesk.auth.token_cache import TTL_S
from trustdesk.config import Settings

POSTGRES_URL = os.environ.get("TRUSTDESK_TEST_POSTGRES_URL")
needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="needs TRUSTDESK_TEST_POSTGRES_URL")
TRUSTDESK = str(Path(sys.executable).with_name("trustdesk"))
REFRESH_S = 1.0  # TRUSTDESK_FRAUD_REFRESH_S for these servers (default 30)


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRUSTDESK_")}
    assert settings.database_url
    env.update(
        TRUSTDESK_DATA_DIR=str(settings.data_dir),
        TRUSTDESK_DATABASE_URL=settings.database_url,
        TRUSTDESK_LOG_LEVEL="WARNING",
        TRUSTDESK_COOKIE_SECURE="false",
        TRUSTDESK_ENVIRONMENT="test",
        TRUSTDESK_FRAUD_REFRESH_S=str(REFRESH_S),
        TRUSTDESK_JOBS_IN_SERVER="true",
        TRUSTDESK_JOBS_POLL_S="0.2",
    )
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _server(settings: Settings, *extra: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = _free_port()
    proc = subprocess.Popen(
        [TRUSTDESK, "serve", "--host", "127.0.0.1", "--port", str(port), *extra],
        env=_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its worker processes too are stopped with the group
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                _stop(proc, signal.SIGKILL)
                raise AssertionError(proc.stderr.read().decode()[-3000:])  # type: ignore[union-attr]
            time.sleep(0.2)
        yield base, proc
    finally:
        _stop(proc, signal.SIGTERM)


def _stop(proc: subprocess.Popen[bytes], how: signal.Signals) -> None:
    """Stop the server and every process of its group (uvicorn's workers)."""
    try:
        os.killpg(proc.pid, how)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # a worker left behind by its supervisor


def _payment(tx: str, customer: str) -> dict[str, str]:
    at = datetime.now(UTC).replace(microsecond=0).isoformat()
    return {"transaction_id": tx, "at": at, "customer_id": customer, "terminal_id": "T-9",
            "amount": "12.50", "currency": "EUR", "channel": "pos"}  # fmt: skip


@pytest.mark.parametrize("backend", ["sqlite"])
def test_several_workers_on_the_embedded_sqlite_database_are_refused(cli):
    result = cli("serve", "--workers", "2")
    assert result.exit_code == 2
    assert "needs PostgreSQL" in result.output


@needs_postgres
@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_revoked_token_and_a_scored_payment_reach_the_other_process(
    settings, cli, token_for, tmp_path
):
    rules = tmp_path / "rules.yaml"
    shipped = (files("trustdesk.fraud") / "default_rules.yaml").read_text(encoding="utf-8")
    rules.write_text(
        shipped
        + "  - name: card_seen_today\n"
        + "    when: customer_nb_tx_1d >= 2\n"  # counts the payment being scored
        + "    action: force_review\n"
        + "    reason: This card already paid today.\n",
        encoding="utf-8",
    )
    assert cli("fraud", "rules", "load", str(rules)).exit_code == 0
    admin = {"Authorization": f"Bearer {token_for(Role.ADMIN)}"}
    analyst_token = token_for(Role.ANALYST)
    analyst = {"Authorization": f"Bearer {analyst_token}"}
    with _server(settings) as (a, _), _server(settings) as (b, _):
        for base in (a, b):  # both processes now hold the analyst's token in their cache
            assert httpx.get(f"{base}/api/v1/trust", headers=analyst).status_code == 200
        tokens = httpx.get(f"{a}/api/v1/tokens", headers=admin).json()
        victim = next(t["id"] for t in tokens if t["name"] == "test-analyst")
        assert httpx.delete(f"{a}/api/v1/tokens/{victim}", headers=admin).status_code == 204
        revoked = time.monotonic()
        assert httpx.get(f"{a}/api/v1/trust", headers=analyst).status_code == 401  # at once
        while httpx.get(f"{b}/api/v1/trust", headers=analyst).status_code != 401:
            assert time.monotonic() - revoked <= TTL_S + 1.0, "B still accepts a revoked token"
            time.sleep(0.05)
        assert httpx.get(f"{b}/api/v1/trust", headers=analyst).status_code == 401

        first = httpx.post(
            f"{a}/api/v1/transactions/score", json=_payment("tx-1", "card-77"), headers=admin
        )
        assert first.status_code == 201, first.text
        assert "card_seen_today" not in first.json()["rules_fired"]
        time.sleep(REFRESH_S * 2 + 0.5)  # B's scorer catches up within its refresh interval
        second = httpx.post(
            f"{b}/api/v1/transactions/score", json=_payment("tx-2", "card-77"), headers=admin
        )
        assert second.status_code == 201, second.text
        assert "card_seen_today" in second.json()["rules_fired"]  # tx-1, scored by A, counted


@needs_postgres
@pytest.mark.parametrize("backend", ["postgresql"])
def test_serve_with_two_workers_runs_each_due_job_once(settings, token_for):
    admin = {"Authorization": f"Bearer {token_for(Role.ADMIN)}"}
    with _server(settings, "--workers", "2") as (base, proc):
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert len(children) >= 2  # the supervisor's worker processes (and its spawn helper)
        rows = [
            {"source": "survey", "external_id": f"w{i}", "text": t, "segment": "Retail",
             "at": "2026-11-01T10:00:00Z"}
            for i, t in enumerate(["great service", "awful wait", "lovely staff"])
        ]  # fmt: skip
        for _ in range(3):  # three imports over the API, each marks trust.recompute due
            assert httpx.post(f"{base}/api/v1/feedback/bulk", json=rows, headers=admin).is_success
            time.sleep(0.5)
        deadline = time.monotonic() + 60
        scores: list = []
        while time.monotonic() < deadline and not scores:
            scores = httpx.get(
                f"{base}/api/v1/trust", params={"by": "segment"}, headers=admin
            ).json()
            time.sleep(0.2)
        assert [s["key"] for s in scores] == ["Retail"]
        time.sleep(1.0)  # let both workers poll a few more times
    engine = create_engine(str(settings.database_url))
    with engine.connect() as conn:
        runs = conn.execute(
            text("SELECT job_name, due_at, attempt, status, worker FROM job_runs")
        ).all()
    engine.dispose()
    assert runs, "the workers ran the due jobs"
    keys = [(r.job_name, r.due_at, r.attempt) for r in runs]
    assert len(keys) == len(set(keys))  # no due time was run twice
    assert {r.status for r in runs} <= {"succeeded", "running"}
    recomputes = [r for r in runs if r.job_name == "trust.recompute"]
    assert recomputes and all(r.status == "succeeded" for r in recomputes)


def _holds(proc: subprocess.Popen[bytes], pid: int) -> bool:
    """Whether `pid` is the server process or one of its worker processes."""
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    return pid == proc.pid or (children.exists() and str(pid) in children.read_text().split())


def _created(client: httpx.Client, location: str) -> tuple[int, str]:
    page = client.get(location).text
    found = re.search(r'<dd id="count-created">([\d,]+)</dd>', page)
    assert found, page[-2000:]
    return int(found.group(1).replace(",", "")), page


@needs_postgres
@pytest.mark.parametrize("backend", ["postgresql"])
def test_an_upload_whose_server_is_killed_is_finished_by_the_other_one(settings, platform):
    """Upload through one server; the other shows the same progress; the server running the
    import is killed (SIGKILL) mid-way; once its lease is over the other server resumes it and
    the counts come out right, with every customer stored once."""
    make_user(platform, "amy", Role.AGENT)
    rows = "".join(f"big{i:05d},Person {i},p{i}@example.com,retail\n" for i in range(30_000))
    content = "external_id,name,email,segment\n" + rows + "bad,Bad,not-an-email,retail\n"
    engine = create_engine(str(settings.database_url))
    with _server(settings) as (a, proc_a), _server(settings) as (b, proc_b):
        clients = {}
        for base in (a, b):
            clients[base] = httpx.Client(base_url=base, timeout=30)
            assert submit_login(clients[base], "amy").status_code == 303
        sent = upload(clients[a], "/customers/import", {}, content, filename="big.csv")
        assert sent.status_code == 303, sent.text
        location = sent.headers["location"]
        deadline = time.monotonic() + 120
        while _created(clients[b], location)[0] == 0:  # either server shows the progress
            assert time.monotonic() < deadline, "the import did not start"
            time.sleep(0.05)
        with engine.connect() as conn:
            holder = conn.execute(
                text("SELECT lease_owner FROM jobs WHERE name = 'customers.uploads'")
            ).scalar_one()
        pid = int(holder.split(":")[1])
        victim, survivor = (proc_a, b) if _holds(proc_a, pid) else (proc_b, a)
        assert _holds(victim, pid)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
        stuck, page = _created(clients[survivor], location)
        assert 0 < stuck < 30_000 and "Storing rows" in page  # stopped half-way, nothing lost
        with engine.begin() as conn:  # the 300 s lease and the next minute pass
            conn.execute(
                text(
                    "UPDATE jobs SET lease_until = now() - interval '1 second', "
                    "next_due_at = now() WHERE name = 'customers.uploads'"
                )
            )
        deadline = time.monotonic() + 300
        while "Import finished" not in (page := _created(clients[survivor], location)[1]):
            assert time.monotonic() < deadline, "the import was not resumed"
            time.sleep(0.5)
        assert "Import finished: 30,000 created, 0 updated, 0 unchanged, 1 rejected" in page
        for client in clients.values():
            client.close()
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT count(*) FROM customers WHERE external_id LIKE 'big%'")
        ).scalar_one()
        runs = (
            conn.execute(
                text("SELECT status FROM job_runs WHERE job_name = 'customers.uploads' ORDER BY id")
            )
            .scalars()
            .all()
        )
    engine.dispose()
    assert stored == 30_000
    assert "lost" in runs and runs[-1] == "succeeded"
