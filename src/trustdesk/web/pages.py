"""Mounts the web shell: its static files, and every capability's pages and menu entries.

The sections come from the manifest (`trustdesk.capabilities`, each entry's `pages`): the shell
imports no capability. A capability's `pages.py` ends with a `section` (see `web/nav.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from trustdesk.capabilities import Capability, installed, resolve
from trustdesk.web.nav import Navigation, Section

__all__ = ["mount_pages", "sections"]

STATIC = Path(__file__).parent / "static"


def sections(capabilities: Sequence[Capability] | None = None) -> list[Section]:
    """Every installed capability's page sections, in manifest order."""
    capabilities = installed() if capabilities is None else capabilities
    return [resolve(ref, Section) for capability in capabilities for ref in capability.pages]


def mount_pages(app: FastAPI, capabilities: Sequence[Capability] | None = None) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    navigation = Navigation()
    for section in sections(capabilities):
        app.include_router(section.router)
        navigation.add(*section.nav)
    app.state.nav = navigation
