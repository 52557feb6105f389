"""The shell's navigation: each capability adds its pages and menu entries as a `Section`.

A capability's `pages.py` ends with `section = Section(router=router, nav=(NavEntry(...),))`, and
its manifest entry (`trustdesk.capabilities`) names that section once. Entries carry the
permission that opens them, so the menu and the home page only offer what the logged-in role may
see (the pages still check it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import APIRouter

from trustdesk.access.principal import Principal
from trustdesk.access.roles import PERMISSIONS

__all__ = ["NavEntry", "Navigation", "Section", "current_entry"]


@dataclass(frozen=True)
class NavEntry:
    label: str
    href: str
    permission: str | None = None  # None: every logged-in user
    description: str = ""  # one line on the home page
    order: int = 100  # menu position, lowest first

    def is_current(self, path: str) -> bool:
        if self.href == "/":
            return path == "/"
        return path == self.href or path.startswith(self.href.rstrip("/") + "/")


@dataclass(frozen=True)
class Section:
    """What a capability adds to the web shell: its page routes and its menu entries."""

    router: APIRouter
    nav: tuple[NavEntry, ...] = ()


class Navigation:
    """The menu of one app, built when its pages are mounted."""

    def __init__(self, entries: Iterable[NavEntry] = ()) -> None:
        self._entries: list[NavEntry] = []
        self.add(*entries)

    def add(self, *entries: NavEntry) -> None:
        for entry in entries:
            if entry.permission is not None and entry.permission not in PERMISSIONS:
                raise ValueError(f"menu entry {entry.label!r}: unknown permission")
            if not entry.href.startswith("/"):
                raise ValueError(f"menu entry {entry.label!r}: href must be a site path")
            self._entries.append(entry)
        self._entries.sort(key=lambda e: (e.order, e.label))

    def visible_to(self, principal: Principal) -> list[NavEntry]:
        return [e for e in self._entries if e.permission is None or principal.can(e.permission)]


def current_entry(entries: Iterable[NavEntry], path: str) -> NavEntry | None:
    """The entry `path` belongs to: the most specific match, so /trust/alerts marks "Alerts"
    rather than also "Trust"."""
    matches = [e for e in entries if e.is_current(path)]
    return max(matches, key=lambda e: len(e.href)) if matches else None
