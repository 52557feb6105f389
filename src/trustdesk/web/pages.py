"""Mounts the web shell: its static files, and every capability's pages and menu entries.

To add a capability's pages: give its `pages.py` a `section` (see `web/nav.py`) and list it in
`SECTIONS` below.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from trustdesk.auth import pages as auth_pages
from trustdesk.customers import pages as customers_pages
from trustdesk.feedback import pages as feedback_pages
from trustdesk.fraud import pages as fraud_pages
from trustdesk.privacy.datamap import notice_pages as privacy_notice_pages
from trustdesk.privacy.datamap import pages as privacy_datamap_pages
from trustdesk.privacy.preferences import pages as privacy_pages
from trustdesk.privacy.requests import pages as privacy_requests_pages
from trustdesk.trust import pages as trust_pages
from trustdesk.web import home
from trustdesk.web.nav import Navigation, Section

__all__ = ["SECTIONS", "mount_pages"]

STATIC = Path(__file__).parent / "static"

SECTIONS: tuple[Section, ...] = (
    home.section,
    auth_pages.section,
    customers_pages.section,
    privacy_pages.section,
    privacy_requests_pages.section,
    privacy_notice_pages.section,
    privacy_datamap_pages.section,
    trust_pages.section,
    feedback_pages.section,
    fraud_pages.section,
)


def mount_pages(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    navigation = Navigation()
    for section in SECTIONS:
        app.include_router(section.router)
        navigation.add(*section.nav)
    app.state.nav = navigation
