"""Shared plumbing for every capability's commands: the platform, output, progress bars."""

from __future__ import annotations

import getpass
import json
import sys
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from trustdesk.config import get_settings
from trustdesk.platform import Platform

__all__ = ["cli_actor", "err", "open_platform", "out", "print_json", "progress"]

out = Console()
err = Console(stderr=True)
_platform: Platform | None = None


def open_platform(*, check_schema: bool = True) -> Platform:
    """The platform for this command, opened on first use (checks the master key and schema)."""
    global _platform
    if _platform is None:
        _platform = Platform.open(get_settings())
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
    if isinstance(value, BaseModel):
        text = value.model_dump_json(indent=2)
    elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
        text = json.dumps([v.model_dump(mode="json") for v in value], indent=2)
    else:
        text = json.dumps(value, indent=2, default=str)
    sys.stdout.write(text + "\n")


def progress(description: str) -> Progress:
    return Progress(
        TextColumn(description),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    )
