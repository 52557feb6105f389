"""The posted form of a public page, read before the route runs.

Public form routes are plain `def` (they write, which never happens on the event loop) and take
a writer's turn; reading the body first, on the loop, means a slow client never holds that turn.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

__all__ = ["Posted", "read_form"]


async def read_form(request: Request) -> FormData:
    """Reads the body only: no database, so it may run on the event loop."""
    return await request.form()


Posted = Annotated[FormData, Depends(read_form)]
