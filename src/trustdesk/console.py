"""Shared plumbing for every capability's commands: the platform, output, progress bars."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from rich.console import Console

if TYPE_CHECKING:  # imported when used: `trustdesk --help` must not load the storage stack
    from rich.progress import Progress
    from sqlalchemy.orm import Session

    from trustdesk.platform import Platform

__all__ = [
    "StepReporter",
    "cli_actor",
    "err",
    "open_platform",
    "out",
    "print_json",
    "progress",
    "run_and_show",
    "working",
]

out = Console()
err = Console(stderr=True)
_platform: Platform | None = None


def open_platform(*, check_schema: bool = True) -> Platform:
    """The platform for this command, opened on first use (checks the master key and schema)."""
    from trustdesk.config import get_settings
    from trustdesk.errors import ConfigurationError
    from trustdesk.platform import Platform, missing_database

    global _platform
    if _platform is None:
        settings = get_settings()
        missing = missing_database(settings) if check_schema else None
        if missing is not None:  # say so, and create no empty data directory on the way
            raise ConfigurationError(missing)
        _platform = Platform.open(settings)
        if check_schema:
            _platform.require_schema()
    return _platform


def close_platform() -> None:
    global _platform
    if _platform is not None:
        _platform.close()
        _platform = None


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def print_json(value: Any) -> None:
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        text = value.model_dump_json(indent=2)
    elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
        text = json.dumps([v.model_dump(mode="json") for v in value], indent=2)
    else:
        text = json.dumps(value, indent=2, default=str)
    sys.stdout.write(text + "\n")


T = TypeVar("T")


def run_and_show(
    call: Callable[[Platform, Session], T],
    *,
    as_json: bool,
    text: Callable[[T], Iterable[str]],
    json_of: Callable[[T], Any] | None = None,
    write: bool = False,
    markup: bool = False,
) -> T:
    """The usual command: `call` the service in a session of this command's platform (a read, or
    with `write` a transaction committed before anything is printed), then print what it returned
    as JSON (`json_of` of it, or itself) or as `text`'s lines (taken literally unless `markup`:
    square brackets in titles and categories are text, not Rich styles)."""
    platform = open_platform()
    with platform.db.transaction() if write else platform.db.reading() as session:
        found = call(platform, session)
    if as_json:
        print_json(found if json_of is None else json_of(found))
    else:
        for line in text(found):
            out.print(line, markup=markup)
    return found


def _columns(description: str) -> tuple[Any, ...]:
    """A spinner, the description, a bar, how many done (of how many, when known), time."""
    from rich.progress import (
        BarColumn,
        ProgressColumn,
        SpinnerColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    class Count(ProgressColumn):  # "1,500/6,720", "1,500" without a total, nothing before any
        def render(self, task: Task) -> Text:
            if task.total is not None:
                return Text(
                    f"{int(task.completed):,}/{int(task.total):,}", style="progress.download"
                )
            return Text(
                f"{int(task.completed):,}" if task.completed else "", style="progress.download"
            )

    return (SpinnerColumn(), TextColumn(description), BarColumn(), Count(), TimeElapsedColumn())


def progress(description: str, *, console: Console | None = None) -> Progress:
    """A progress bar on stderr, shown only on a terminal."""
    from rich.progress import Progress

    console = console or err
    return Progress(
        *_columns(description),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    )


@contextmanager
def working(description: str) -> Iterator[Callable[[int], None]]:
    """A spinner and the time elapsed while a long step without counts runs (recompute, train,
    backtest); the context gives a function taking a count, for steps that learn one."""
    with progress("{task.description}") as bar:
        task = bar.add_task(description, total=None)
        yield lambda done: bar.update(task, completed=done)


class StepReporter:
    """Prints lines and shows one progress bar per long part, above which the lines scroll
    (the `DemoEcho` of `trustdesk.capabilities`, for `trustdesk demo`)."""

    def __init__(self, console: Console) -> None:
        from rich.progress import Progress

        self.bar = Progress(
            *_columns("{task.description}"),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )

    def __enter__(self) -> StepReporter:
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def __call__(self, line: str) -> None:
        self.bar.console.print(line, markup=False, highlight=False, soft_wrap=True)

    @contextmanager
    def progress(
        self, description: str, total: int | None = None
    ) -> Iterator[Callable[[int], None]]:
        task = self.bar.add_task(description, total=total)
        try:
            yield lambda done: self.bar.update(task, completed=done)
        finally:
            self.bar.remove_task(task)
