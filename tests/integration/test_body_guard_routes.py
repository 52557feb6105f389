"""The body guard finds a request's route through an index by first path segment (a survey
link's path is new every time, so a per-path cache never hits for it): for every route of the
app, and paths that reach none, it finds the route a scan of all routes in order finds."""

from __future__ import annotations

import re

from starlette.routing import Match

from trustdesk.body_guard import BodyGuard


async def _nobody(request, permissions) -> None:
    return None


def test_the_index_finds_the_route_a_scan_of_all_routes_finds(app):
    routes = list(app.router.routes)
    guard = BodyGuard(app, max_body_bytes=1, max_bulk_body_bytes=2, authenticate=_nobody)
    guard.mount(routes)
    paths = {"/", "", "/nowhere", "/s/abc.def", "/s/open/tok", "/api/v1/unknown/1", "/static/x"}
    for route in routes:
        template = getattr(route, "path", None)
        if isinstance(template, str):
            paths.add(re.sub(r"{[^}]*}", "x1", template) or "/")
    assert len(paths) > 100
    for path in sorted(paths):
        for method in ("GET", "POST", "PUT", "DELETE"):
            scope = {"type": "http", "method": method, "path": path, "root_path": ""}
            scanned = next((r for r in routes if r.matches(scope)[0] is Match.FULL), None)
            assert guard.route(method, path) is scanned, (method, path)
    survey_page = guard.route("POST", "/s/abc.def")
    assert survey_page is not None and survey_page.path == "/s/{token}"
