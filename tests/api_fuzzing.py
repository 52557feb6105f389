"""Schemathesis against a real `trustdesk serve` (uvicorn on 127.0.0.1): the quick profile of
`tests/integration/test_schemathesis.py` and the long one of `benchmarks/schemathesis_long.py`.

Every check, every operation, every phase (examples, coverage, fuzzing, stateful), an admin token.
The fuzzer may revoke API tokens like any client, except the one it is using (`fuzz_hooks.py`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import _server

REPO = Path(__file__).resolve().parent.parent
# Failures the acceptance allows none of: server errors, undocumented status codes and content
# types, wrong answers to methods a resource lacks. The rest (e.g. ST202, a schema-valid request
# refused by a rule the schema cannot state) are printed with the figures.
MUST_BE_ZERO = {
    "ST101": "server error (5xx)",
    "ST103": "undocumented status code",
    "ST105": "undocumented content type",
    "ST204": "undeclared method not answered 405 with Allow",
    "ST205": "Allow header unlike the documented methods",
}


@dataclass
class FuzzReport:
    backend: str
    seconds: float
    generated: int
    operations_tested: int
    operations_total: int
    failures: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> title, count, ops
    errors: list[str] = field(default_factory=list)
    output_tail: str = ""

    def count(self, code: str) -> int:
        return int(self.failures.get(code, {}).get("count", 0))

    def forbidden(self) -> dict[str, dict[str, Any]]:
        return {code: f for code, f in self.failures.items() if code in MUST_BE_ZERO}

    def lines(self) -> list[str]:
        out = [
            f"{self.backend}: {self.generated:,} generated cases, "
            f"{self.operations_tested}/{self.operations_total} operations, {self.seconds:.0f} s",
        ]
        for code in MUST_BE_ZERO:
            out.append(f"  {code} {MUST_BE_ZERO[code]}: {self.count(code)}")
        for code, found in sorted(self.failures.items()):
            if code not in MUST_BE_ZERO:
                ops = ", ".join(found["operations"][:6])
                out.append(f"  {code} {found['title']}: {found['count']} ({ops})")
        # Time-outs and dropped connections: reported, not failed on (see the output file).
        out.extend(f"  network error: {e}" for e in self.errors[:10])
        return out


@contextmanager
def serve(data_dir: Path | str, database_url: str | None = None) -> Iterator[str]:
    """A real `trustdesk serve` (`benchmarks/_server.py`: free loopback port, waited for, stopped
    on leaving) on `data_dir` and `database_url` (None: the data directory's SQLite) as the fuzzer
    meets it: test environment, cookies without Secure (plain HTTP), only errors logged. Yields
    its base URL."""
    env = {
        "TRUSTDESK_COOKIE_SECURE": "false",
        "TRUSTDESK_ENVIRONMENT": "test",
        "TRUSTDESK_LOG_LEVEL": "ERROR",
        **({"TRUSTDESK_DATABASE_URL": database_url} if database_url else {}),
    }
    with _server.serve(data_dir, env=env) as server:
        yield server.url


def run_schemathesis(
    url: str,
    token: str,
    token_id: int,
    *,
    backend: str,
    max_examples: int,
    max_time_s: int,
    report_dir: Path,
    workers: int = 1,
    seed: int | None = None,
    include_path_regex: str | None = None,
) -> FuzzReport:
    """`st run` with every check and phase; returns the counts from its JSON report.
    `include_path_regex` limits it to the operations whose path matches."""
    report_dir = report_dir.resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    report_path = report_dir / f"schemathesis-{backend}.json"
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(max_examples),
        "--max-time",
        str(max_time_s),
        "--workers",
        str(workers),
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report_path),
        *(["--seed", str(seed)] if seed is not None else []),
        *(["--include-path-regex", include_path_regex] if include_path_regex else []),
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.fuzz_hooks",
        "TRUSTDESK_FUZZ_TOKEN_ID": str(token_id),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    start = time.monotonic()
    done = subprocess.run(
        command,
        env=env,
        cwd=report_dir,
        capture_output=True,
        text=True,
        timeout=max_time_s + 300,
        check=False,
    )
    seconds = time.monotonic() - start
    output = done.stdout + done.stderr
    (report_dir / f"schemathesis-{backend}.txt").write_text(output)
    tail = output[-6000:]
    if not report_path.exists():
        raise RuntimeError(f"schemathesis wrote no report (exit {done.returncode}):\n{tail}")
    data = json.loads(report_path.read_text())
    return FuzzReport(
        backend=backend,
        seconds=seconds,
        generated=int(data["test_cases"]["generated"]),
        operations_tested=int(data["operations"]["tested"]),
        operations_total=int(data["operations"]["total"]),
        failures={
            f["code"]: {"title": f["title"], "count": f["count"], "operations": f["operations"]}
            for f in data["failures"]
        },
        errors=[json.dumps(e)[:300] for e in data.get("errors", [])],
        output_tail=tail,
    )
