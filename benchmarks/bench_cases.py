"""Complaint cases: intake through the API with routing, and the agent inbox page with 100,000 cases.

A real `trustdesk serve` (uvicorn, one process, SQLite) in a subprocess.
* Intake: POST /api/v1/cases and POST /api/v1/cases/batch (100 a request) (validated, sender matched, classified, routed, SLA dues computed on
  the queue's business-hours calendar, encrypted, audited) from 4 and from 16 keep-alive clients
  (single posts are group-committed: the gain grows with concurrency); baselines in the same run,
  same clients: GET /healthz (the HTTP floor) and PUT /api/v1/customers/{id} (another encrypted,
  audited write through the same writer gate). Target: >= 200 cases/s.
* Inbox: the server-rendered /cases page (logged-in agent, queue counts + one keyset page) and the
  JSON inbox, first pages and a deep page, over 100,000 cases. Target: p95 <= 300 ms.
`--quick` (TRUSTDESK_BENCH_QUICK=1): 20,000 cases, fewer requests.
"""

from __future__ import annotations

import os
import re
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from _server import pct, serve
from sqlalchemy import insert

from trustdesk import migrate
from trustdesk.access.roles import Role
from trustdesk.auth import service as auth_service
from trustdesk.cases.counts import rebuild_counts
from trustdesk.cases.intake import BODY_FIELD, SUBJECT_FIELD
from trustdesk.cases.models import Case
from trustdesk.config import Settings
from trustdesk.platform import Platform

QUICK = os.environ.get("TRUSTDESK_BENCH_QUICK") == "1"
CASES = 20_000 if QUICK else 100_000
INTAKE = 400 if QUICK else 2_000
PAGES = 40 if QUICK else 200
CLIENTS = 4
MANY = 16
QUEUES = ("fraud", "billing", "payments", "accounts", "cards", "general", "triage")
STATUSES = ("new", "open", "waiting_on_customer", "resolved", "closed")
TEXTS = (
    "My card was stolen and someone used it",
    "I want a refund for the double charge",
    "My transfer never arrived",
    "Please close my account",
    "Not happy with the service",
)


def seed(platform: Platform) -> str:
    """CASES cases straight into the table (encrypted under one bench key), plus an agent."""
    (subject,) = platform.vault.new_subjects(1)
    key = platform.vault.data_keys([subject])[subject]
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    rows = []
    for i in range(CASES):
        opened = start + timedelta(minutes=7 * i)
        text = TEXTS[i % len(TEXTS)]
        rows.append(
            {
                "channel": "api", "external_id": f"seed-{i}", "key_subject": subject,
                "subject_enc": platform.vault.encrypt(key, subject, SUBJECT_FIELD, text[:20]),
                "body_enc": platform.vault.encrypt(key, subject, BODY_FIELD, text),
                "body_length": len(text), "category": "unknown", "probability": 0.0,
                "queue": QUEUES[i % len(QUEUES)], "priority": "normal",
                "status": STATUSES[(i // 7) % len(STATUSES)], "opened_at": opened,
                "updated_at": opened, "first_response_due": opened + timedelta(hours=8),
                "resolution_due": opened + timedelta(hours=72), "playbook_done": 0,
                "sla_state": ("ok", "amber", "breached")[i % 3], "breached": int(i % 3 == 2),
                "reopen_count": 0,
            }
        )  # fmt: skip
    with platform.db.transaction() as session:
        for chunk in range(0, len(rows), 5_000):
            session.execute(insert(Case), rows[chunk : chunk + 5_000])
        rebuild_counts(session)  # the bulk insert bypassed the ORM hook that keeps the counts
        auth_service.create_user(
            session, platform.vault, username="agent", password="bench-password-1234",
            role=Role.AGENT, actor="bench",
        )  # fmt: skip
        return auth_service.create_token(session, name="b", role=Role.ADMIN, actor="bench").token


def timed(client: httpx.Client, method: str, url: str, **kwargs: object) -> float:
    start = time.perf_counter()
    response = client.request(method, url, **kwargs)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - start
    if response.status_code >= 400:
        raise SystemExit(f"{method} {url}: {response.status_code} {response.text[:200]}")
    return elapsed


def rate(
    url: str,
    headers: dict[str, str],
    requests: list[tuple[str, str, object]],
    n_clients: int = CLIENTS,
) -> float:
    """Requests/s with `n_clients` keep-alive clients sharing the list."""
    clients = [httpx.Client(base_url=url, headers=headers, timeout=30) for _ in range(n_clients)]

    def run(k: int) -> None:
        for method, path, body in requests[k::n_clients]:
            timed(clients[k], method, path, json=body) if body is not None else timed(
                clients[k], method, path
            )

    start = time.perf_counter()
    with ThreadPoolExecutor(n_clients) as pool:
        list(pool.map(run, range(n_clients)))
    elapsed = time.perf_counter() - start
    for c in clients:
        c.close()
    return len(requests) / elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "td", log_level="WARNING")
        platform = Platform.open(settings)
        migrate.upgrade(platform.db)
        started = time.perf_counter()
        token = seed(platform)
        print(f"seeded {CASES:,} cases in {time.perf_counter() - started:.1f} s")
        platform.close()
        with serve(settings.data_dir, env={"TRUSTDESK_COOKIE_SECURE": "false"}) as server:
            run(server.url, {"Authorization": f"Bearer {token}"})


def run(url: str, auth: dict[str, str]) -> None:
    health = rate(url, {}, [("GET", "/healthz", None)] * INTAKE)

    def customer_puts(tag: str) -> list[tuple[str, str, object]]:
        return [
            ("PUT", f"/api/v1/customers/b{tag}{i}",
             {"external_id": f"b{tag}{i}", "name": f"C {i}", "email": f"b{tag}{i}@example.com"})
            for i in range(INTAKE)
        ]  # fmt: skip

    def case_posts(tag: str) -> list[tuple[str, str, object]]:
        return [
            ("POST", "/api/v1/cases", {"external_id": f"new-{tag}{i}", "subject": "Complaint",
             "body": TEXTS[i % len(TEXTS)], "customer": f"b{tag}{i}"})
            for i in range(INTAKE)
        ]  # fmt: skip

    # Each intake run right after its baseline, same clients, so a change in machine load hits
    # both: CLIENTS (4) and MANY (16) concurrent clients (group commit gains with concurrency).
    customers = rate(url, auth, customer_puts("a"))
    intake = rate(url, auth, case_posts("a"))
    customers_many = rate(url, auth, customer_puts("m"), MANY)
    intake_many = rate(url, auth, case_posts("m"), MANY)
    batch = 100
    started = time.perf_counter()
    rate(
        url, auth,
        [("POST", "/api/v1/cases/batch", {"cases": [
            {"external_id": f"bulk-{k}-{i}", "subject": "Complaint", "body": TEXTS[i % len(TEXTS)],
             "customer": f"ba{i}"} for i in range(batch)]}) for k in range(INTAKE // batch)],
    )  # fmt: skip
    bulk = INTAKE / (time.perf_counter() - started)
    print(f"intake, {INTAKE:,} requests per line (load average {os.getloadavg()[0]:.1f}):")
    print(f"  baseline GET /healthz ({CLIENTS} clients):          {health:8,.0f} requests/s")
    for n, base, cases in ((CLIENTS, customers, intake), (MANY, customers_many, intake_many)):
        print(f"  baseline PUT /api/v1/customers ({n:2} clients): {base:8,.0f} requests/s")
        print(
            f"  POST /api/v1/cases, routed ({n:2} clients):     {cases:8,.0f} cases/s"
            f"  ({cases / base:.2f} x customer write; target >= 200/s)"
        )
    print(
        f"  POST /api/v1/cases/batch ({batch}/request, {CLIENTS} clients): {bulk:8,.0f} cases/s"
        f"  ({bulk / customers:.2f} x customer write)"
    )

    api = httpx.Client(base_url=url, headers=auth, timeout=30)
    deep = api.get("/api/v1/cases", params={"limit": 50, "cursor": CASES // 2}).json()
    assert deep["items"], "deep page empty"
    page = httpx.Client(base_url=url, timeout=30, follow_redirects=True)
    form = page.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf is not None
    logged = page.post(
        "/login",
        data={"username": "agent", "password": "bench-password-1234", "csrf_token": csrf.group(1)},
    )
    assert "Log out" in logged.text, "login failed"
    print(f"inbox over {CASES + 3 * INTAKE:,} cases, {PAGES} requests each (p50 / p95 ms):")
    for label, client, path, params in (
        ("baseline GET /healthz", api, "/healthz", {}),
        ("GET /cases page (all queues)", page, "/cases", {}),
        ("GET /cases page, queue + status", page, "/cases", {"queue": "fraud", "status": "open"}),
        ("GET /cases page, deep cursor", page, "/cases", {"cursor": CASES // 2}),
        ("GET /api/v1/cases, queue", api, "/api/v1/cases", {"queue": "billing"}),
    ):
        times = [timed(client, "GET", path, params=params) for _ in range(PAGES)]
        print(
            f"  {label:<34} {statistics.median(times) * 1000:7.1f} / {pct(times, 0.95) * 1000:7.1f}"
            + ("  (target p95 <= 300)" if path == "/cases" else "")
        )
    api.close()
    page.close()


if __name__ == "__main__":
    main()
