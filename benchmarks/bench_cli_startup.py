"""Command-line start-up: `trustdesk --help` and simple commands, against `python -c "import typer"`.

Targets (issue 13): `--help` within 0.5 s, simple commands (`config show`, `customers list`,
`tokens list`, `alerts list`) within 1.5 s. Each command runs as a fresh process (as a user types
it) against a migrated database with a few customers; the figure is the best of N runs, in wall
seconds and in CPU seconds (user + system of the process: on a machine shared with other work,
wall time includes waiting for a core, CPU time does not). The baseline is the Python interpreter
importing Typer alone, measured in the same run: no Typer command can start faster.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUICK = os.environ.get("TRUSTDESK_BENCH_QUICK") == "1"
RUNS = 3 if QUICK else 7
HELP_TARGET_S, COMMAND_TARGET_S = 0.5, 1.5
TRUSTDESK = [sys.executable, "-c", "from trustdesk.cli import main; main()"]
COMMANDS = (
    ("--help", HELP_TARGET_S),
    ("config show", COMMAND_TARGET_S),
    ("customers list", COMMAND_TARGET_S),
    ("tokens list", COMMAND_TARGET_S),
    ("alerts list", COMMAND_TARGET_S),
)


def _time(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Best (wall, CPU) seconds of RUNS fresh processes."""
    walls, cpus = [], []
    for _ in range(RUNS):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return min(walls), min(cpus)


def _prepare(env: dict[str, str], base: Path) -> None:
    subprocess.run([*TRUSTDESK, "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
    sample = base / "customers.csv"
    lines = ["external_id,name,email,phone,segment,jurisdiction"]
    lines += [f"c{i},Customer {i},c{i}@example.com,,retail,DE" for i in range(50)]
    sample.write_text("\n".join(lines) + "\n")
    subprocess.run(
        [*TRUSTDESK, "customers", "import", str(sample)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        env = {
            **os.environ,
            "TRUSTDESK_DATA_DIR": str(base / "td"),
            "TRUSTDESK_LOG_LEVEL": "WARNING",
            "COLUMNS": "80",
        }
        _prepare(env, base)
        typer_wall, typer_cpu = _time([sys.executable, "-c", "import typer"], env)
        print(
            f"baseline `python -c 'import typer'`: {typer_wall:.2f} s wall, {typer_cpu:.2f} s CPU"
            f" (best of {RUNS}; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f})"
        )
        print(f"{'command':<16} {'wall s':>7} {'CPU s':>6} {'x typer':>8} {'target':>7}  met")
        for command, target in COMMANDS:
            wall, cpu = _time([*TRUSTDESK, *command.split()], env)
            met = "yes" if wall <= target else ("CPU only" if cpu <= target else "no")
            print(
                f"{command:<16} {wall:>7.2f} {cpu:>6.2f} {wall / typer_wall:>7.1f}x"
                f" {target:>6.1f}s  {met}"
            )


if __name__ == "__main__":
    main()
