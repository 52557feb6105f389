"""Bounds every input shares: ids and cursors fit an id column, times are real instants.

Without them an id of 2^63 (or 2^31 on PostgreSQL) reaches the database driver and fails there
(a 500), and a time such as
`0001-01-01T00:00:00+05:00` cannot be expressed in UTC at all. Routes and request models use
`RowId` and `Instant`, so the limits show in the OpenAPI schema and bad values get a 422 that names
the field; commands parse ids with `parse_row_id`, and `utc_instant` checks times from files.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from annotated_types import Interval
from pydantic import AfterValidator, BeforeValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from trustdesk.errors import InvalidInput

__all__ = [
    "EARLIEST",
    "INSTANT_PATTERN",
    "LATEST",
    "MAX_ROW_ID",
    "Instant",
    "RowId",
    "check_row_id",
    "parse_row_id",
    "utc_instant",
]

MAX_ROW_ID = 2**31 - 1  # id columns are INTEGER: 32 bits on PostgreSQL (64 on SQLite)
# Far enough either side for any real event, yet every date computed from one (history windows,
# legal deadlines, week starts) stays within what Python's datetime can hold.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)

_ISO_DATE = re.compile(r"^\d{4}-\d\d-\d\d")
# The years EARLIEST .. LATEST allow, as the OpenAPI document states them next to
# `format: date-time` (JSON Schema has no bounds for date-times; a pattern every generator and
# validator reads). Exact but for the hours an offset moves across 1900-01-01 or 9999-01-01.
INSTANT_PATTERN = r"^(19\d\d|[2-8]\d{3}|9[0-8]\d\d|99[0-8]\d|999[0-8])-"

RowId = Annotated[int, Interval(ge=0, le=MAX_ROW_ID)]
"""A database id, cursor or version number: 0 .. 2^31 - 1."""


def check_row_id(value: int, what: str = "id") -> int:
    """`value` if it can name a row, else InvalidInput."""
    if not 0 <= value <= MAX_ROW_ID:
        raise InvalidInput(f"{what} must be between 0 and {MAX_ROW_ID}")
    return value


def parse_row_id(text: str) -> int:
    """A command-line id (a Typer `parser`): InvalidInput, a one-line error, unless it fits."""
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(f"{text[:40]!r} is not a whole number") from None
    return check_row_id(value)


def utc_instant(value: datetime) -> datetime:
    """`value` in UTC (naive means UTC); ValueError if it is not between 1900 and 9998."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    else:
        try:
            value = value.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 is in year 0 in UTC
            raise ValueError("date-time is out of range (1900 to 9998)") from None
    if not EARLIEST <= value < LATEST:
        raise ValueError("date-time is out of range (1900 to 9998)")
    return value


def _iso_8601(value: object) -> object:
    """Only what the schema promises: an ISO 8601 string, not a number of seconds."""
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("expected an ISO 8601 date-time such as 2024-03-01T10:00:00Z")
    if isinstance(value, int | float):
        raise ValueError("expected an ISO 8601 date-time string, not a number")
    return value


class _InstantSchema:
    """Instant's JSON schema: `format: date-time`, the year range as a pattern, described."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema: dict[str, Any] = handler(core_schema)
        schema["pattern"] = INSTANT_PATTERN
        schema.setdefault(
            "description",
            "An ISO 8601 date-time between 1900-01-01 and 9998-12-31 (UTC; no offset means UTC).",
        )
        return schema


Instant = Annotated[
    datetime, BeforeValidator(_iso_8601), AfterValidator(utc_instant), _InstantSchema()
]
"""An ISO 8601 date-time between 1900 and 9998, returned in UTC (no zone means UTC)."""
