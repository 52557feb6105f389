"""Request bodies are bounded, and an API body is read only once its sender is known.

Without this, anyone could make the server hold a body of any size in memory, parsed before the
route's authentication ran (six anonymous 55 MB posts took it from 0.4 to 1.4 GB). This ASGI
middleware answers 413 before reading when `Content-Length` is too large, counts the bytes of
bodies sent without one (413 as soon as they pass the limit), and, for the token-protected API
routes, authenticates the caller before a single byte of the body is read (401 or 403).

Each route has the default limit (`max_body_bytes`) unless it is marked `openapi_extra=BULK_BODY`
(`max_bulk_body_bytes`). Public API routes (`openapi_extra={"security": []}`) and pages are not
authenticated here: pages redirect anonymous users to the login form, which posts without a session.
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

__all__ = ["BULK_BODY", "BodyGuard"]

BULK_BODY: dict[str, Any] = {"x-body-limit": "bulk"}
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})

Authenticate = Callable[[Request], Awaitable[None]]


class BodyGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_bulk_body_bytes: int,
        authenticate: Authenticate,
    ) -> None:
        self.app = app
        self.max_body_bytes, self.max_bulk_body_bytes = max_body_bytes, max_bulk_body_bytes
        self.authenticate = authenticate
        self._routes: list[Any] = []
        self._route_rules = lru_cache(maxsize=4096)(self._rules)

    def _rules(self, method: str, path: str) -> tuple[int, bool]:
        """(byte limit, authenticate first) for the route a request reaches."""
        scope = {"type": "http", "method": method, "path": path, "root_path": ""}
        route = next((r for r in self._routes if r.matches(scope)[0] is Match.FULL), None)
        extra = getattr(route, "openapi_extra", None) or {}
        bulk = extra.get("x-body-limit") == BULK_BODY["x-body-limit"]
        api = path.startswith("/api/") and route is not None and extra.get("security") != []
        return (self.max_bulk_body_bytes if bulk else self.max_body_bytes), api

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
            self._routes = list(scope["app"].router.routes)
        limit, authenticate_first = self._route_rules(scope["method"], scope["path"])
        try:
            length = int(declared) if declared is not None else None
        except ValueError:
            length = None
        if length is not None and length > limit:
            await _too_large(limit)(scope, receive, send)
            return
        if authenticate_first and (chunked or (length or 0) > 0):
            try:
                await self.authenticate(Request(scope))
            except DomainError as exc:
                answer = problem(exc.status, exc.title, exc.detail)
                if exc.status == 401:
                    answer.headers["WWW-Authenticate"] = "Bearer"
                await answer(scope, receive, send)
                return
        await self.app(scope, _counting(receive, limit), send)


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
