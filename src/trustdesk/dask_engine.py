"""The Dask engine for batch work: connect to a scheduler, read partitioned input.

Heavy commands take `--engine embedded|dask` and `--scheduler tcp://HOST:PORT`. The embedded path
is the default and needs no Dask; `pip install -e '.[dask]'` adds what this engine needs. Each
capability keeps its pure analysis code and runs it per partition (`map_partitions`); this module
only knows how to reach a cluster and how to read a file or a directory of CSV/Parquet
partitions. Without `--scheduler`, a `LocalCluster` on this machine runs the work (one worker
process per core), so a laptop runs the same code as a cluster. See docs/scale.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any

from trustdesk.errors import ConfigurationError, InvalidInput

__all__ = [
    "ENGINE_HELP",
    "INSTALL_HINT",
    "PARTITION_SUFFIXES",
    "SCHEDULER_HELP",
    "Engine",
    "check_engine_options",
    "dask_client",
    "partition_files",
    "read_partitions",
    "require_dask",
]

INSTALL_HINT = "pip install -e '.[dask]'"
ENGINE_HELP = "embedded: this process; dask: partitions on a Dask cluster (the [dask] extra)."
SCHEDULER_HELP = "Dask scheduler, tcp://HOST:PORT (default: a LocalCluster on this machine)."
PARTITION_SUFFIXES = (".csv", ".parquet", ".pq")


class Engine(StrEnum):
    embedded = "embedded"
    dask = "dask"


def require_dask() -> Any:
    """`dask.dataframe`, or a clear error naming the extra to install."""
    try:
        importlib.import_module("distributed")
        return importlib.import_module("dask.dataframe")
    except ImportError as exc:
        raise ConfigurationError(
            f"--engine dask needs the Dask extra ({exc.name or 'dask'} is not installed): "
            f"{INSTALL_HINT}"
        ) from None


def check_engine_options(engine: Engine, scheduler: str | None) -> None:
    """`--scheduler` belongs to the Dask engine; the Dask engine needs Dask installed."""
    if engine is Engine.embedded and scheduler:
        raise InvalidInput("--scheduler is for --engine dask")
    if engine is Engine.dask:
        require_dask()
        if scheduler and "://" not in scheduler:
            raise InvalidInput(f"--scheduler {scheduler!r}: give an address like tcp://HOST:8786")


@contextmanager
def dask_client(scheduler: str | None, *, workers: int | None = None) -> Iterator[Any]:
    """A client of the scheduler at `scheduler`, or of a LocalCluster started for this command."""
    require_dask()
    distributed: Any = importlib.import_module("distributed")  # typed loosely: its stubs lag
    Client, LocalCluster = distributed.Client, distributed.LocalCluster  # noqa: N806

    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise ConfigurationError(
                f"no Dask scheduler answers at {scheduler} ({exc.__class__.__name__})"
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(_stdout_to_stderr)
        yield client


def _stdout_to_stderr() -> None:
    """In a worker process of a LocalCluster this command started: its stdout is the command's
    own, and libraries print there (LightGBM's network set-up does, whatever its verbosity), which
    would corrupt a command's --json output. Send it to stderr, where progress belongs."""
    import os
    import sys

    sys.stdout.flush()
    os.dup2(2, 1)


def partition_files(source: Path) -> list[Path]:
    """The input's partitions: the file itself, or a directory's CSV/Parquet files by name."""
    if source.is_dir():
        files = sorted(
            p for p in source.iterdir() if p.is_file() and p.suffix.lower() in PARTITION_SUFFIXES
        )
        if not files:
            raise InvalidInput(f"{source}: no .csv or .parquet partitions in this directory")
        kinds = {p.suffix.lower() == ".csv" for p in files}
        if len(kinds) > 1:
            raise InvalidInput(f"{source}: mixes CSV and Parquet partitions; keep one kind")
        return files
    if not source.is_file():
        raise InvalidInput(f"{source}: no such file or directory")
    if source.suffix.lower() not in PARTITION_SUFFIXES:
        raise InvalidInput(f"{source}: the Dask engine reads .csv or .parquet files")
    return [source]


def read_partitions(source: Path, *, columns: list[str] | None = None) -> Any:
    """A Dask DataFrame of every partition (CSV: every column as text, empty cells stay "")."""
    dd = require_dask()
    files = [str(p) for p in partition_files(source)]
    if files[0].lower().endswith(".csv"):
        frame = dd.read_csv(
            files,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            blocksize="64MiB",
        )
    else:
        frame = dd.read_parquet(files)
    missing = [c for c in columns or () if c not in frame.columns]
    if missing:
        raise InvalidInput(f"{source}: no column(s) {', '.join(missing)}")
    return frame[columns] if columns else frame
