"""Instant's OpenAPI schema says which years the server takes: the pattern next to
`format: date-time` agrees with `utc_instant`, the check the server runs."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pydantic import BaseModel, TypeAdapter, ValidationError

from trustdesk.bounds import INSTANT_PATTERN, Instant


def _server_takes(text: str) -> bool:
    try:
        TypeAdapter(Instant).validate_python(text)
    except ValidationError:
        return False
    return True


def test_the_pattern_accepts_exactly_the_years_the_server_takes():
    for year in [*range(1, 2100), *range(8900, 10_000)]:
        text = f"{year:04d}-06-15T12:00:00Z"
        assert bool(re.search(INSTANT_PATTERN, text)) == _server_takes(text), text


def test_the_schema_is_a_date_time_with_the_pattern_and_the_range_described():
    class Window(BaseModel):
        since: Instant
        until: Instant | None = None

    schema = Window.model_json_schema()
    for field in (schema["properties"]["since"], schema["properties"]["until"]["anyOf"][0]):
        assert field["format"] == "date-time"
        assert field["pattern"] == INSTANT_PATTERN
        assert "1900-01-01" in field["description"]
        assert "9998-12-31" in field["description"]
    assert TypeAdapter(Instant).validate_python("1900-01-01T00:00:00Z") == datetime(
        1900, 1, 1, tzinfo=UTC
    )
