"""Request bodies are bounded, and an API body is read only once its sender is known.

Without this, anyone could make the server hold a body of any size in memory, parsed before the
route's authentication ran (six anonymous 55 MB posts took it from 0.4 to 1.4 GB). This ASGI
middleware answers 413 before reading when `Content-Length` is too large, counts the bytes of
bodies sent without one (413 as soon as they pass the limit), and, for the token-protected API
routes, authenticates the caller and checks the permissions the route's dependencies require
(`required_permission` on a dependency, set by `auth.http.require`) before a single byte of the
body is read (401 or 403).

Each route has the default limit (`max_body_bytes`) unless it is marked `openapi_extra=BULK_BODY`
(`max_bulk_body_bytes`). Public API routes (`openapi_extra={"security": []}`) and pages are not
authenticated here: pages redirect anonymous users to the login form, which posts without a session.
The exception is a page that takes a file (`openapi_extra=UPLOAD_BODY`: the bulk limit): its
session is checked before the body is read, so only a logged-in user can send a large one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trustdesk.errors import DomainError
from trustdesk.problems import problem

__all__ = ["BULK_BODY", "UPLOAD_BODY", "BodyGuard"]

BULK_BODY: dict[str, Any] = {"x-body-limit": "bulk"}
UPLOAD_BODY: dict[str, Any] = {"x-body-limit": "bulk", "x-authenticate": "session"}
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})

Authenticate = Callable[[Request, tuple[str, ...]], Awaitable[None]]


class BodyGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_bulk_body_bytes: int,
        authenticate: Authenticate,
        authenticate_page: Authenticate | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes, self.max_bulk_body_bytes = max_body_bytes, max_bulk_body_bytes
        self.authenticate = authenticate
        self.authenticate_page = authenticate_page
        self._routes: list[Any] = []
        # The routes a path may reach, by its first segment: a path holding a token (a survey
        # link, /s/{token}) is new every time, so the per-path cache below never hits for it,
        # and a scan of all ~250 routes cost ~0.8 ms on the event loop per request.
        self._by_segment: dict[str, list[Any]] = {}
        self._anywhere: list[Any] = []  # routes whose first segment is a parameter (or unknown)
        self._route_rules = lru_cache(maxsize=4096)(self._rules)

    def mount(self, routes: list[Any]) -> None:
        """Take the app's routes (done by the first request, when all are mounted)."""
        self._routes = routes
        segments: list[str | None] = [_first_literal(getattr(r, "path", None)) for r in routes]
        self._anywhere = [r for r, first in zip(routes, segments, strict=True) if first is None]
        for literal in {first for first in segments if first is not None}:
            self._by_segment[literal] = [
                r for r, first in zip(routes, segments, strict=True) if first in (None, literal)
            ]  # in the app's order: the first full match wins, as in the router

    def route(self, method: str, path: str) -> Any:
        """The route a request reaches (the app's first full match), None if none does."""
        scope = {"type": "http", "method": method, "path": path, "root_path": ""}
        candidates = self._by_segment.get(path.split("/", 2)[1] if "/" in path else "")
        return next(
            (
                r
                for r in (self._anywhere if candidates is None else candidates)
                if r.matches(scope)[0] is Match.FULL
            ),
            None,
        )

    def _rules(self, method: str, path: str) -> tuple[int, str | None, tuple[str, ...]]:
        """(byte limit, who to authenticate first: "api", "session" or None, the permissions its
        dependencies require) for the route a request reaches."""
        route = self.route(method, path)
        extra = getattr(route, "openapi_extra", None) or {}
        bulk = extra.get("x-body-limit") == BULK_BODY["x-body-limit"]
        api = path.startswith("/api/") and route is not None and extra.get("security") != []
        first = "api" if api else ("session" if extra.get("x-authenticate") == "session" else None)
        permissions = _required_permissions(getattr(route, "dependant", None))
        return (self.max_bulk_body_bytes if bulk else self.max_body_bytes), first, permissions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        if scope["method"] in _BODYLESS and declared is None and not chunked:
            await self.app(scope, receive, send)
            return
        if not self._routes:  # all mounted by the first request; the rules are cached per path
            self.mount(list(scope["app"].router.routes))
        limit, authenticate_first, permissions = self._route_rules(scope["method"], scope["path"])
        try:
            length = int(declared) if declared is not None else None
        except ValueError:
            length = None
        if length is not None and length > limit:
            await _too_large(limit)(scope, receive, send)
            return
        check = {"api": self.authenticate, "session": self.authenticate_page}.get(
            authenticate_first or ""
        )
        if check is not None and (chunked or (length or 0) > 0):
            try:
                await check(Request(scope), permissions)
            except DomainError as exc:
                answer = problem(exc.status, exc.title, exc.detail)
                if exc.status == 401:
                    answer.headers["WWW-Authenticate"] = "Bearer"
                await answer(scope, receive, send)
                return
        await self.app(scope, _counting(receive, limit), send)


def _first_literal(template: object) -> str | None:
    """A route template's first path segment ("s" of "/s/{token}"), None when it is a parameter
    or the route has no plain path (it may then match any path)."""
    if not isinstance(template, str) or not template.startswith("/"):
        return None
    first = template.split("/", 2)[1]
    return None if "{" in first else first


def _required_permissions(dependant: Any) -> tuple[str, ...]:
    """Every `required_permission` among a route's dependencies, however deeply nested."""
    found: list[str] = []
    stack = list(getattr(dependant, "dependencies", ()))
    while stack:
        dependency = stack.pop()
        permission = getattr(dependency.call, "required_permission", None)
        if isinstance(permission, str) and permission not in found:
            found.append(permission)
        stack.extend(dependency.dependencies)
    return tuple(found)


def _too_large(limit: int) -> Any:
    return problem(413, "Request body too large", f"the body must be at most {limit:,} bytes")


def _counting(receive: Receive, limit: int) -> Receive:
    """`receive`, refusing (413) once the body has passed `limit` bytes."""
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, f"the body must be at most {limit:,} bytes")
        return message

    return counted
