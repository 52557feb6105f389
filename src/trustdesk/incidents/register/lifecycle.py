"""The incident lifecycle (NIST SP 800-61 Rev. 3, mapped to CSF 2.0 Detect, Respond, Recover):
statuses, the moves allowed between them, and the timestamp a move sets."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ValidationError, ValidatorFunctionWrapHandler, WrapValidator

from trustdesk.errors import Conflict, InvalidInput
from trustdesk.incidents.schemas import Status

__all__ = [
    "SEVERITIES",
    "TRANSITIONS",
    "Status",
    "StatusFilter",
    "check_transition",
    "parse_status",
]


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DETECTED: frozenset({Status.ANALYSING, Status.CLOSED}),  # closed: a false positive
    Status.ANALYSING: frozenset({Status.CONTAINED, Status.CLOSED}),
    # New findings send the incident back to analysis from any active status.
    Status.CONTAINED: frozenset({Status.ERADICATED, Status.ANALYSING}),
    Status.ERADICATED: frozenset({Status.RECOVERED, Status.ANALYSING}),
    Status.RECOVERED: frozenset({Status.CLOSED, Status.ANALYSING}),
    Status.CLOSED: frozenset({Status.ANALYSING}),  # reopened
}
"""Allowed moves; anything else is a Conflict naming the allowed ones."""

SEVERITIES = ("low", "medium", "high", "critical")


def _status_or_open(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    try:
        return handler(value)
    except ValidationError:  # one error naming both choices, not one per member of the union
        raise ValueError(
            f"expected open or a status: {', '.join(s.value for s in Status)}"
        ) from None


StatusFilter = Annotated[Status | Literal["open"], WrapValidator(_status_or_open)]
"""A list filter: one status, or `open` (every status but closed)."""


def parse_status(value: str) -> Status:
    try:
        return Status(value)
    except ValueError:
        raise InvalidInput(
            f"unknown status {value!r}; statuses are {', '.join(s.value for s in Status)}"
        ) from None


def check_transition(current: str, target: str) -> Status:
    """The target status if moving there from `current` is allowed, else Conflict."""
    to = parse_status(target)
    allowed = TRANSITIONS[Status(current)]
    if to not in allowed:
        raise Conflict(
            f"an incident cannot go from {current} to {to.value}; "
            f"from {current} it can go to {', '.join(sorted(s.value for s in allowed))}"
        )
    return to
