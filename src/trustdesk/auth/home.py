"""The home page: who is logged in, what their role allows, and the sections they may open.

It lives with staff authentication (it needs a logged-in user), above the web shell.
"""

from __future__ import annotations

from fastapi import Depends, Request
from starlette.responses import Response

from trustdesk.access.principal import Principal
from trustdesk.access.roles import PERMISSIONS, ROLE_PERMISSIONS
from trustdesk.auth.http import require_page
from trustdesk.web.nav import NavEntry, Navigation, Section
from trustdesk.web.routing import page_router
from trustdesk.web.templating import render

__all__ = ["router", "section"]

router = page_router()
section = Section(router=router, nav=(NavEntry("Home", "/", order=0),))


@router.get("/")
def home(request: Request, principal: Principal = Depends(require_page())) -> Response:
    # Each thing the role allows links to the page that does it, where the menu has one.
    nav: Navigation | None = getattr(request.app.state, "nav", None)
    entries = nav.visible_to(principal) if nav is not None else []
    page_of = {e.permission: e.href for e in reversed(entries) if e.permission}
    allowed = [(PERMISSIONS[p], page_of.get(p)) for p in sorted(ROLE_PERMISSIONS[principal.role])]
    return render(request, "home.html", {"allowed": allowed})
