"""Run every benchmark: `python -m benchmarks [--quick]`. Each prints its figures and baseline."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    env = {**os.environ, "TRUSTDESK_BENCH_QUICK": "1" if quick else "0"}
    failures = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n=== {script.stem} ===", flush=True)
        start = time.perf_counter()
        result = subprocess.run([sys.executable, str(script)], env=env, check=False)
        print(f"({script.stem}: {time.perf_counter() - start:.1f} s, exit {result.returncode})")
        failures += result.returncode != 0
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
