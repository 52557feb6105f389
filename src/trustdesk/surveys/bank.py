"""The shipped item bank: templates of validated items, each with its scale and its source.

Pure: reads the YAML shipped in `surveys/data/`, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import yaml

from trustdesk.surveys.errors import InvalidSurvey

__all__ = ["DIMENSIONS", "BankItem", "Template", "load_template", "template_names"]

DIMENSIONS: tuple[str, ...] = ("ability", "integrity", "benevolence", "data_care")
"""The trust dimensions survey items speak to (the trust index's, in the same order)."""


@dataclass(frozen=True)
class BankItem:
    id: str
    text: str
    dimension: str | None  # one of DIMENSIONS, or None (NPS, CSAT, open questions)
    kind: str  # "scale" or "text"
    min: int | None
    max: int | None
    labels: tuple[str, ...]
    source: str  # the citation, in full


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    items: tuple[BankItem, ...]


def template_names() -> list[str]:
    root = files("trustdesk.surveys") / "data"
    return sorted(p.name.removesuffix(".yaml") for p in root.iterdir() if p.name.endswith(".yaml"))


@cache
def load_template(name: str) -> Template:
    """The named template (`trust-core`); an unknown name is an InvalidSurvey naming the choices."""
    if name not in template_names():
        raise InvalidSurvey(
            f"unknown template {name!r}; choose one of {', '.join(template_names())}"
        )
    raw: dict[str, Any] = yaml.safe_load(
        (files("trustdesk.surveys") / "data" / f"{name}.yaml").read_text(encoding="utf-8")
    )
    scales: dict[str, dict[str, Any]] = raw["scales"]
    sources: dict[str, str] = raw["sources"]
    items = []
    for item in raw["items"]:
        scale = scales[item["scale"]] if item.get("scale") else None
        dimension = item.get("dimension")
        if dimension is not None and dimension not in DIMENSIONS:
            raise InvalidSurvey(f"item {item['id']}: unknown dimension {dimension!r}")
        items.append(
            BankItem(
                id=str(item["id"]),
                text=str(item["text"]),
                dimension=dimension,
                kind="scale" if scale else "text",
                min=int(scale["min"]) if scale else None,
                max=int(scale["max"]) if scale else None,
                labels=tuple(scale.get("labels", ())) if scale else (),
                source=" ".join(sources[item["source"]].split()),
            )
        )
    return Template(name=name, title=str(raw["title"]), items=tuple(items))
