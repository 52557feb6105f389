"""Which version of each feedback model is active under a data directory (`active.json`).

Read by every analysis (`analysis.default_analyser`); written by `registry` (activate, rollback).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from trustdesk.errors import InvalidInput
from trustdesk.feedback.model_meta import META_FILE

__all__ = [
    "ACTIVE_FILE",
    "DEFAULT_VERSION",
    "REGISTRY_TASKS",
    "active_version",
    "active_version_dir",
    "read_state",
    "task_dir",
    "write_state",
]

REGISTRY_TASKS = ("sentiment", "topic")
DEFAULT_VERSION = "default"  # the shipped model
ACTIVE_FILE = "active.json"


def task_dir(data_dir: Path, task: str) -> Path:
    if task not in REGISTRY_TASKS:
        raise InvalidInput(f"task must be one of {', '.join(REGISTRY_TASKS)}")
    return data_dir / "models" / task


def read_state(data_dir: Path, task: str) -> dict[str, Any]:
    path = task_dir(data_dir, task) / ACTIVE_FILE
    if not path.is_file():
        return {"active": None, "history": []}
    return dict(json.loads(path.read_text(encoding="utf-8")))


def write_state(data_dir: Path, task: str, state: dict[str, Any]) -> None:
    path = task_dir(data_dir, task) / ACTIVE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    partial.replace(path)  # readers see the old or the new pointer, never half of one


def active_version(data_dir: Path, task: str) -> str:
    return str(read_state(data_dir, task).get("active") or DEFAULT_VERSION)


def active_version_dir(data_dir: Path, task: str) -> Path | None:
    """The active version's directory; None while the shipped default is active."""
    version = active_version(data_dir, task)
    if version == DEFAULT_VERSION:
        return None
    directory = task_dir(data_dir, task) / version
    if not (directory / META_FILE).is_file():
        raise InvalidInput(
            f"the active {task} model {version} is missing from {directory}; "
            f"run `trustdesk model rollback --task {task}`"
        )
    return directory
