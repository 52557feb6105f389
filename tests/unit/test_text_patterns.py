"""The patterns the OpenAPI document gives case texts say what their validators take: a
generator that follows the schema is never refused, one that breaks it always is."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from trustdesk.cases.schemas import NO_NUL, NOT_BLANK, Text, Words

_SPACES = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u3000"
_TEXT = st.text(alphabet=st.sampled_from([*_SPACES, "\x00", "a", "é"]), max_size=8) | st.text()


def _takes(kind: object, value: str) -> bool:
    try:
        TypeAdapter(kind).validate_python(value)
    except ValidationError:
        return False
    return True


@given(_TEXT)
def test_the_patterns_agree_with_the_validators(value):
    assert bool(re.search(NO_NUL, value)) == _takes(Text, value)
    assert bool(re.search(NOT_BLANK, value)) == _takes(Words, value)


def test_the_schema_carries_the_pattern_and_a_bad_text_is_named():
    assert TypeAdapter(Words).json_schema()["pattern"] == NOT_BLANK
    assert not _takes(Words, " \x1c\u3000")
    assert _takes(Words, " a ")
