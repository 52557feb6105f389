"""Where the map step of a recompute runs: in this process, or on the workers of a Dask cluster.

The trust statistics are additive sums (see aggregates.py), so a recompute maps every batch of
observations to its statistics and adds them up. `EmbeddedStats` does both here, batch by batch;
`DaskStats` sends each batch to a worker (`aggregate` is the same function), then adds the
partial results pairwise on the workers (a tree, so no one process merges them all) and fetches
only the total. Reading the observations and writing the statistics stay with the caller's
database session: the services own the database, the workers only compute.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from trustdesk.trust.aggregates import Aggregates, aggregate
from trustdesk.trust.signals import Observations

__all__ = ["DaskStats", "EmbeddedStats", "StatsMapper"]


class StatsMapper(Protocol):
    def add(
        self, obs: Observations, *, epoch: int, half_life_s: float, topics: Sequence[str]
    ) -> None: ...

    def total(self) -> Aggregates: ...


class EmbeddedStats:
    """Map and reduce in this process, one batch at a time (the default)."""

    def __init__(self) -> None:
        self._total = Aggregates.empty()

    def add(
        self, obs: Observations, *, epoch: int, half_life_s: float, topics: Sequence[str]
    ) -> None:
        self._total = self._total.merge(
            aggregate(obs, epoch=epoch, half_life_s=half_life_s, topics=topics)
        )

    def total(self) -> Aggregates:
        return self._total


def _merge(a: Aggregates, b: Aggregates) -> Aggregates:
    return a.merge(b)


class DaskStats:
    """Map on the workers of a `distributed.Client`; reduce there as a pairwise tree."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._parts: list[Any] = []

    def add(
        self, obs: Observations, *, epoch: int, half_life_s: float, topics: Sequence[str]
    ) -> None:
        self._parts.append(
            self._client.submit(
                aggregate,
                obs,
                epoch=epoch,
                half_life_s=half_life_s,
                topics=tuple(topics),
                pure=False,
            )
        )

    def total(self) -> Aggregates:
        level = self._parts
        if not level:
            return Aggregates.empty()
        while len(level) > 1:
            pairs = [
                self._client.submit(_merge, level[i], level[i + 1], pure=False)
                for i in range(0, len(level) - 1, 2)
            ]
            level = pairs + ([level[-1]] if len(level) % 2 else [])
        result: Aggregates = level[0].result()
        self._parts = []
        return result
