"""Counted nouns agree with their number."""

from __future__ import annotations

from trustdesk.wording import counted


def test_one_is_singular_and_every_other_count_plural():
    assert counted(1, "event") == "1 event"
    assert counted(0, "event") == "0 events"
    assert counted(12_345, "entry", "entries") == "12,345 entries"
    assert counted(1, "entry", "entries") == "1 entry"
