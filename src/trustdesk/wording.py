"""Counted nouns in messages: "1 event", "2 events", never "1 events" or "item(s)"."""

from __future__ import annotations

__all__ = ["counted"]


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """`n` and the noun agreeing with it ("1 entry", "3 entries" with plural="entries")."""
    return f"{n:,} {singular if n == 1 else (plural or singular + 's')}"
