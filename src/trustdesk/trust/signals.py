"""What moves the trust index: signals, their observations, and the registry they are wired to.

A *signal* turns some source (feedback, complaints, consent opt-outs, wrongly declined payments,
breach exposure …) into *observations*: one trust value 0..100 per subject and time, with a weight,
the trust dimensions it speaks to and a reference to the evidence (the source row's id), so that
every score can say which signal and which rows moved it. Observations are columnar (numpy) so a
million of them are aggregated without a Python loop per row.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from trustdesk import capabilities
from trustdesk.crypto import Vault

__all__ = [
    "DIMENSIONS",
    "Observations",
    "Signal",
    "TimeColumnSignal",
    "WindowedSignal",
    "dimension_mask",
    "observations_between",
    "register_signal",
    "registered_signals",
    "utc_of",
]

DIMENSIONS: tuple[str, ...] = ("ability", "integrity", "benevolence", "data_care")
"""Trust dimensions; bit i of an observation's `dims` mask is DIMENSIONS[i]."""


def dimension_mask(names: Sequence[str]) -> int:
    """The `dims` bitmask of the named dimensions (unknown names are an error)."""
    mask = 0
    for name in names:
        mask |= 1 << DIMENSIONS.index(name)
    return mask


@dataclass(frozen=True)
class Observations:
    """One signal's observations, as equal-length columns (ascending `ref` within a batch).

    value: trust 0..100 the row expresses; weight: how much evidence the row is (1 = one
    ordinary item; the recency decay is applied later, from `at`); dims/topics: bitmasks over
    DIMENSIONS and the signal's topic vocabulary; negative: the row is a complaint-like one,
    counted by the surge alerts; ref: the evidence's id in the signal's source.
    """

    signal: str
    ref: np.ndarray  # int64
    at: np.ndarray  # int64 epoch seconds UTC
    customer_id: np.ndarray  # int64, -1 when unknown
    segment: np.ndarray  # object array of str, "" when unknown
    value: np.ndarray  # float64 0..100
    weight: np.ndarray  # float64 >= 0
    dims: np.ndarray  # int32 bitmask over DIMENSIONS
    topics: np.ndarray  # int32 bitmask over the signal's topics
    negative: np.ndarray  # bool
    last_ref: int = field(default=0)
    """The highest source id this batch covers (the watermark to store after it)."""

    def __len__(self) -> int:
        return int(self.ref.shape[0])

    def take(self, index: np.ndarray) -> Observations:
        """The rows at `index` (an integer or boolean array): a partition of this batch."""
        return Observations(
            signal=self.signal,
            ref=self.ref[index],
            at=self.at[index],
            customer_id=self.customer_id[index],
            segment=self.segment[index],
            value=self.value[index],
            weight=self.weight[index],
            dims=self.dims[index],
            topics=self.topics[index],
            negative=self.negative[index],
            last_ref=self.last_ref,
        )


class Signal(Protocol):
    """A source of trust observations. Implementations read their own capability's facade."""

    @property
    def name(self) -> str:
        """Stable identifier, stored with the aggregates (e.g. "feedback")."""
        ...

    @property
    def label(self) -> str:
        """Human label for explanations."""
        ...

    @property
    def topics(self) -> Sequence[str]:
        """The vocabulary of the observations' `topics` bitmask (empty when it has none)."""
        ...

    def read(self, session: Session, *, after_ref: int, batch_size: int) -> Iterator[Observations]:
        """Observations for source rows with id > after_ref, in ascending id order."""
        ...

    def describe(self, session: Session, vault: Vault, refs: Sequence[int]) -> dict[int, str]:
        """A short, displayable description of each evidence row (for explanations)."""
        ...


@runtime_checkable
class WindowedSignal(Protocol):
    """A signal that can also read only the source rows of a time window (optional: a signal
    without it is read whole and filtered, see `observations_between`)."""

    def read_between(
        self, session: Session, *, start: int, end: int, batch_size: int
    ) -> Iterator[Observations]:
        """Observations with start <= at < end (epoch seconds UTC), in ascending ref order."""
        ...


def utc_of(epoch_s: int) -> datetime:
    """The UTC time of whole epoch seconds: `at >= utc_of(start)` in SQL keeps exactly the rows
    whose observation has `at >= start` (an observation's `at` is its time's whole seconds)."""
    return datetime.fromtimestamp(epoch_s, UTC)


class TimeColumnSignal:
    """Base of a signal whose source rows carry the observation's time in one indexed column
    (`time_column`) and whose ref is their primary key: `read` and the windowed `read_between`
    both come from its `_read`, which adds `conditions` to its query (none, or the window)."""

    time_column: ClassVar[Any]

    def read(self, session: Session, *, after_ref: int, batch_size: int) -> Iterator[Observations]:
        return self._read(session, after_ref, batch_size, ())

    def read_between(
        self, session: Session, *, start: int, end: int, batch_size: int
    ) -> Iterator[Observations]:
        column = type(self).time_column  # a mapped column is a descriptor: read it off the class
        return self._read(session, 0, batch_size, (in_window(session, column, start, end),))

    def _read(
        self,
        session: Session,
        after_ref: int,
        batch_size: int,
        conditions: Sequence[ColumnElement[bool]],
    ) -> Iterator[Observations]:
        raise NotImplementedError


def in_window(session: Session, column: Any, start: int, end: int) -> ColumnElement[bool]:
    """The rows whose `column` (an indexed time column) is within start <= t < end, written so
    that the window is read from the time index beside a signal's `id > after ORDER BY id`.

    PostgreSQL's planner, with the statistics it keeps, takes the index for a narrow window from
    the plain conditions. SQLite's, without statistics (nothing here gathers them), walks the
    primary key instead and reads every row of the table to keep those of a few days: there the
    window is `id IN (SELECT id ... WHERE window)`, whose ids come from the time index (in id
    order, so the outer query stops at its LIMIT without sorting)."""
    window = (column >= utc_of(start), column < utc_of(end))
    if session.get_bind().dialect.name != "sqlite":
        return and_(*window)
    (ref,) = column.table.primary_key.columns
    return ref.in_(select(ref).where(*window))  # type: ignore[no-any-return]


def observations_between(
    session: Session, signal: Signal, *, start: int, end: int, batch_size: int = 100_000
) -> Iterator[Observations]:
    """The signal's observations with start <= at < end (epoch seconds UTC): through its own
    windowed read when it has one (`WindowedSignal`: rows outside the window are not read from
    the database), else its whole `read`, filtered here."""
    if isinstance(signal, WindowedSignal):
        yield from signal.read_between(session, start=start, end=end, batch_size=batch_size)
        return
    for obs in signal.read(session, after_ref=0, batch_size=batch_size):
        keep = (obs.at >= start) & (obs.at < end)
        if keep.any():
            yield obs.take(keep)


_REGISTRY: dict[str, Signal] = {}


def register_signal(signal: Signal) -> None:
    """Add a signal; the next `trustdesk trust recompute` folds its observations in.

    The manifest (`trustdesk.capabilities`) calls this for every signal a capability declares;
    registering the same signal again changes nothing, another one under a taken name is an error.
    """
    found = _REGISTRY.get(signal.name)
    if found is not None and found is not signal:
        raise ValueError(f"trust signal {signal.name!r} is already registered")
    _REGISTRY[signal.name] = signal


def registered_signals() -> list[Signal]:
    """Every signal, in manifest order (feedback first), then any registered by hand."""
    capabilities.wire()
    return list(_REGISTRY.values())
