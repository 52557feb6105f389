"""Mixed concurrent writers over HTTP: consent changes, payment scoring, customer upserts and
feedback posts from 20 keep-alive clients at once, against a real uvicorn server in a subprocess
on 127.0.0.1.

For each backend (SQLite; PostgreSQL too with `--postgres URL` or TRUSTDESK_BENCH_POSTGRES_URL) it
runs the mix twice on a fresh database: as shipped, and as the same-run baseline with the audit
chain switched off in the server (its appends skipped), so the difference is what the one chain
head costs. Prints p50/p99 per kind, 5xx and client time-outs (must be zero), whether every
acknowledged write is stored (it must be), and the sustained audited writes per second
(consent, customer and feedback writes; payment scoring is not audited).

`python benchmarks/bench_mixed_writes.py [--quick] [--seconds S] [--clients N] [--postgres URL]`:
60 s per run by default, 10 s with `--quick` (TRUSTDESK_BENCH_QUICK=1). Exit status 1 if a 5xx,
a time-out or a lost write was seen.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the load driver in tests/

from _server import pct, serve
from tests.mixed_writes import KINDS, Run, missing_writes, run_mix, seed_customers

from trustdesk import migrate
from trustdesk.access.roles import Role
from trustdesk.auth import service as auth_service
from trustdesk.config import Settings
from trustdesk.platform import Platform

AUDITED = ("consent", "customer", "feedback")


def _serve(port: int, audit: bool) -> None:
    """The server process: the app as `trustdesk serve` runs it, the audit chain optionally off."""
    import uvicorn

    if not audit:
        import trustdesk.audit
        import trustdesk.audit.chain

        def skip(_session: object, *, actor: str, items: object) -> int:
            return 0

        trustdesk.audit.chain.record_many = skip
        trustdesk.audit.record_many = skip
    from trustdesk.app import create_app
    from trustdesk.config import get_settings

    uvicorn.run(
        create_app(get_settings()),
        host="127.0.0.1",
        port=port,
        log_config=None,
        log_level="warning",
        access_log=False,
    )


@dataclass
class Result:
    run: Run
    missing: dict[str, list[str | int]]

    def writes_per_s(self, kinds: tuple[str, ...]) -> float:
        done = [o for o in self.run.acknowledged if o.kind in kinds]
        return len(done) / self.run.seconds


def _one_run(
    database_url: str | None, data_dir: Path, audit: bool, clients: int, seconds: float
) -> Result:
    settings = Settings(data_dir=data_dir, database_url=database_url, log_level="WARNING")
    platform = Platform.open(settings)
    migrate.upgrade(platform.db)
    with platform.db.transaction() as session:
        token = auth_service.create_token(
            session, name="bench", role=Role.ADMIN, actor="bench"
        ).token
    url_of_db = settings.effective_database_url
    platform.close()
    env = {"TRUSTDESK_DATABASE_URL": database_url} if database_url else {}
    with serve(
        data_dir,
        env=env,
        command=lambda port: (
            [sys.executable, __file__, "--serve", str(port)] + ([] if audit else ["--no-audit"])
        ),
    ) as server:
        seed_customers(server.url, token, clients)
        run = run_mix(server.url, token, clients=clients, seconds=seconds, timeout_s=10.0)
    return Result(run, missing_writes(url_of_db, run))


def _report(name: str, result: Result) -> bool:
    run = result.run
    print(f"  {name}: {len(run.outcomes):,} requests in {run.seconds:.1f} s")
    for kind in KINDS:
        done = [o.seconds * 1000 for o in run.of(kind) if 200 <= o.status < 300]
        print(
            f"    {kind:9s} {len(done):6,} stored  {len(done) / run.seconds:7.1f}/s"
            f"  p50 {pct(done, 0.5):7.1f} ms  p99 {pct(done, 0.99):7.1f} ms"
        )
    other = [o for o in run.outcomes if 300 <= o.status < 500]
    lost = sum(len(v) for v in result.missing.values())
    print(
        f"    5xx {len(run.server_errors)}, client time-outs {len(run.timeouts)}, "
        f"other refusals {len(other)}, acknowledged but not stored {lost}"
    )
    return not run.server_errors and not run.timeouts and not lost


def _postgres_database(server_url: str) -> tuple[str, str]:
    name = f"trustdesk_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False), name


def _drop_postgres_database(server_url: str, name: str) -> None:
    admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _backend(name: str, server_url: str | None, clients: int, seconds: float) -> bool:
    print(f"\n{name}: {clients} clients, {seconds:.0f} s per run")
    results: dict[bool, Result] = {}
    for audit in (True, False):
        with tempfile.TemporaryDirectory(prefix="trustdesk-mixed-") as tmp:
            if server_url:
                url, db_name = _postgres_database(server_url)
                try:
                    results[audit] = _one_run(url, Path(tmp), audit, clients, seconds)
                finally:
                    _drop_postgres_database(server_url, db_name)
            else:
                results[audit] = _one_run(None, Path(tmp), audit, clients, seconds)
    ok = _report("as shipped (audit chain on)", results[True])
    _report("baseline, same writes without the audit chain", results[False])
    with_chain = results[True].writes_per_s(AUDITED)
    without = results[False].writes_per_s(AUDITED)
    every = results[True].writes_per_s(KINDS)
    print(
        f"  audited writes/s: {with_chain:.1f} with the chain, {without:.1f} without "
        f"(ratio {with_chain / without:.2f}); all writes/s {every:.1f}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--postgres", default=os.environ.get("TRUSTDESK_BENCH_POSTGRES_URL"))
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-audit", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve, audit=not args.no_audit)
        return 0
    quick = args.quick or os.environ.get("TRUSTDESK_BENCH_QUICK") == "1"
    seconds = args.seconds or (10.0 if quick else 60.0)
    ok = _backend("SQLite", None, args.clients, seconds)
    if args.postgres:
        ok = _backend("PostgreSQL", args.postgres, args.clients, seconds) and ok
    else:
        print("\nPostgreSQL: skipped (give --postgres URL or TRUSTDESK_BENCH_POSTGRES_URL)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
