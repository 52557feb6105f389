"""The router every capability's pages hang on: HTML answers, CSRF checked, kept out of OpenAPI."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from trustdesk.web import csrf

__all__ = ["page_router"]


def page_router(prefix: str = "") -> APIRouter:
    """A router whose every POST/PUT/PATCH/DELETE must carry the session's CSRF token."""
    return APIRouter(
        prefix=prefix,
        default_response_class=HTMLResponse,
        include_in_schema=False,
        dependencies=[Depends(csrf.protect)],
    )
