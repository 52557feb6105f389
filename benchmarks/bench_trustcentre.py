"""The public trust centre under load: p99 of GET /trust-centre and /trust-centre/feed.atom at a
fixed rate against a real `trustdesk serve`, and the cost of one uncached page build.

* A real `trustdesk serve` (uvicorn, one process) on 127.0.0.1 with a populated trust centre (20
  statements, 5 practice sections, 500 closed privacy requests, a saved data map). An open-loop
  client sends requests at 300/s for ~10 s (3 s in quick mode) and reports p50/p99. Baseline in
  the same run: GET /healthz (a `SELECT 1` behind no authentication) at the same rate.
* Cold build: gathering and rendering the page with the cache cleared (what one visitor pays
  after a change), against the cached answer (one stamp query).
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from _server import paced, request, serve

from trustdesk import migrate
from trustdesk.config import Settings
from trustdesk.db import utcnow
from trustdesk.platform import Platform
from trustdesk.privacy.models import PrivacyRequest
from trustdesk.trustcentre.sections import set_section
from trustdesk.trustcentre.statements import publish_statement
from trustdesk.trustcentre.view import CACHE, gather, own_stamp
from trustdesk.web.templating import environment

QUICK = os.environ.get("TRUSTDESK_BENCH_QUICK") == "1"
RATE = 300  # requests per second
SECONDS = 3 if QUICK else 10
TARGET_P99_MS = 20.0


def seed(platform: Platform) -> None:
    now = utcnow()
    with platform.db.transaction() as session:
        for i in range(20):
            publish_statement(
                session, title=f"Statement {i}", body="Text of the statement. " * 20,
                incident_id=None, actor="bench", now=now - timedelta(days=i),
            )  # fmt: skip
        for i in range(5):
            set_section(
                session, key=f"practice-{i}", title=f"Practice {i}",
                body="We **encrypt** data.\n\n- one\n- two\n" * 5, owner="bench",
                actor="bench", now=now, staff_owner=False,
            )  # fmt: skip
        for i in range(500):
            received = now - timedelta(days=40 + i % 200)
            session.add(
                PrivacyRequest(
                    customer_id=i + 1, kind="access", regime="gdpr", status="closed",
                    source="api", received_at=received, due_at=received + timedelta(days=30),
                    closed_at=received + timedelta(days=10 + i % 25),
                )
            )  # fmt: skip


def cold_build(platform: Platform) -> None:
    template = environment().get_template("trustcentre/public.html")
    rounds = 5 if QUICK else 20
    with platform.db.reading() as session:
        start = time.perf_counter()
        for _ in range(rounds):
            template.render({"c": gather(session, utcnow())})
        cold = (time.perf_counter() - start) / rounds * 1000
        start = time.perf_counter()
        for _ in range(rounds * 10):
            CACHE.get("bench", "page", own_stamp(session), lambda: "cached")
        warm = (time.perf_counter() - start) / (rounds * 10) * 1000
    print(f"  uncached page build: {cold:6.2f} ms; cached (stamp query): {warm:6.3f} ms")


def main() -> None:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} cores, load average {load} (figures are only as quiet as the machine)")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", log_level="WARNING")
        platform = Platform.open(settings)
        migrate.upgrade(platform.db)
        seed(platform)
        cold_build(platform)
        platform.close()
        with serve(settings.data_dir) as server:
            print(f"HTTP, target {RATE}/s for {SECONDS} s each:")
            figures = {}
            for path in ("/healthz", "/trust-centre", "/trust-centre/feed.atom"):
                figures[path] = paced(
                    server.port, [request("GET", path)], rate=RATE, count=RATE * SECONDS,
                    warmup=100,
                )  # fmt: skip
                print(
                    f"  {path}: sent {RATE * SECONDS} requests at {figures[path].achieved:,.0f}/s"
                )
    base = figures["/healthz"].p(0.99)
    for path, sample in figures.items():
        p99 = sample.p(0.99)
        note = "baseline" if path == "/healthz" else f"{p99 / base:.2f} x baseline"
        target = "" if path == "/healthz" else f"  (target p99 <= {TARGET_P99_MS:.0f} ms)"
        print(f"  GET {path:26s} p50 {sample.p(0.5):6.2f} ms  p99 {p99:6.2f} ms  {note}{target}")


if __name__ == "__main__":
    main()
