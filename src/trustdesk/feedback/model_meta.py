"""What a text model's directory says about it (`meta.json`): kind, task, labels, metrics.

Read by every model kind's loader (`analysis`, `transformer`) and written by training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["META_FILE", "ModelMeta"]

META_FILE = "meta.json"


@dataclass(frozen=True)
class ModelMeta:
    kind: str
    task: str
    labels: tuple[str, ...]
    version: str
    multilabel: bool = False
    thresholds: tuple[float, ...] | None = None
    metrics: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "task": self.task,
            "labels": list(self.labels),
            "version": self.version,
            "multilabel": self.multilabel,
            "thresholds": list(self.thresholds) if self.thresholds is not None else None,
            "metrics": self.metrics or {},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelMeta:
        thresholds = data.get("thresholds")
        return cls(
            kind=str(data.get("kind", "sklearn")),
            task=str(data["task"]),
            labels=tuple(str(label) for label in data["labels"]),
            version=str(data.get("version", "unknown")),
            multilabel=bool(data.get("multilabel", False)),
            thresholds=tuple(float(t) for t in thresholds) if thresholds is not None else None,
            metrics=dict(data.get("metrics") or {}),
        )
