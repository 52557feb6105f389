"""Schemathesis, long profile: every operation, every check and phase (stateful on), against a real
`trustdesk serve` on SQLite and (with TRUSTDESK_TEST_POSTGRES_URL) on PostgreSQL.

    .venv/bin/python -m benchmarks.schemathesis_long [--examples 1000] [--minutes 20] [--workers 2]
        [--backend sqlite] [--include-path-regex '^/api/v1/cases']

Not one of the `bench_*` scripts `python -m benchmarks` runs: it takes as long as it is given.
`--examples` is the most generated cases per operation and phase; `--minutes` bounds each
backend's run (fuzzing and stateful phases repeat until it is spent, or stop at the examples).
Prints each backend's figures; exits 1 if any server error, undocumented status code or content
type was found (the quick profile in tests/integration/test_schemathesis.py asserts the same).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from tests.api_fuzzing import FuzzReport, run_schemathesis, serve

from trustdesk import migrate
from trustdesk.auth import service as auth_service
from trustdesk.config import Settings
from trustdesk.platform import Platform


def _fuzz(
    backend: str, database_url: str | None, args: argparse.Namespace, out: Path
) -> FuzzReport:
    data_dir = Path(tempfile.mkdtemp(prefix=f"trustdesk-fuzz-{backend}-"))
    try:
        settings = Settings(
            data_dir=data_dir, database_url=database_url, environment="test", log_level="ERROR"
        )
        platform = Platform.open(settings)
        migrate.upgrade(platform.db)
        with platform.db.transaction() as session:
            made = auth_service.create_token(session, name="fuzz", role="admin", actor="fuzz")
        platform.close()
        with serve(data_dir, database_url) as url:
            return run_schemathesis(
                url,
                made.token,
                made.id,
                backend=backend,
                max_examples=args.examples,
                max_time_s=int(args.minutes * 60),
                report_dir=out,
                workers=args.workers,
                seed=args.seed,
                include_path_regex=args.include_path_regex,
            )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _postgres_database(server_url: str) -> tuple[str, str]:
    """A private database on the server: (its URL, its name)."""
    name = f"trustdesk_fuzz_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    return url, name


def _drop(server_url: str, name: str) -> None:
    admin = create_engine(make_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--report-dir", type=Path, default=Path("benchmarks/out/schemathesis"))
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--include-path-regex",
        default=None,
        help="Only the operations whose path matches (e.g. '^/api/v1/(cases|consent)').",
    )
    args = parser.parse_args()
    postgres = os.environ.get("TRUSTDESK_TEST_POSTGRES_URL")
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and not postgres:
        print("postgresql: skipped (set TRUSTDESK_TEST_POSTGRES_URL)")
        backends.remove("postgresql")
    print(
        f"schemathesis, long profile: up to {args.examples:,} cases per operation, "
        f"{args.minutes:g} min per backend, {args.workers} workers, all checks and phases"
    )
    failed = False
    for backend in backends:
        if backend == "postgresql":
            assert postgres
            url, name = _postgres_database(postgres)
            try:
                report = _fuzz(backend, url, args, args.report_dir)
            finally:
                _drop(postgres, name)
        else:
            report = _fuzz(backend, None, args, args.report_dir)
        print("\n".join(report.lines()), flush=True)
        print(
            f"  {report.generated / max(report.operations_total, 1):,.0f} cases per operation, "
            f"{report.generated / report.seconds:,.0f} cases/s"
        )
        failed |= bool(report.forbidden())
    print(f"reports: {args.report_dir.resolve()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
