"""Shared plumbing for every capability's commands: the platform, output, progress bars."""

from __future__ import annotations

import getpass
import json
import sys
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:  # imported when used: `trustdesk --help` must not load the storage stack
    from rich.progress import Progress

    from trustdesk.platform import Platform

__all__ = ["cli_actor", "err", "open_platform", "out", "print_json", "progress"]

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


def progress(description: str) -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn(description),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    )
