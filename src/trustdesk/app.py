"""FastAPI app factory: mounts every capability's router and maps domain errors to problem+json.

The routers, pages and server hooks come from the manifest (`trustdesk.capabilities`).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, ExitStack, asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trustdesk import __version__
from trustdesk.access.principal import Principal
from trustdesk.api_headers import ApiHeaders
from trustdesk.auth.http import current_principal, require, session_principal
from trustdesk.body_guard import BodyGuard
from trustdesk.capabilities import installed, resolve, wire
from trustdesk.config import Settings, get_settings
from trustdesk.errors import DomainError
from trustdesk.gate import mark_serving
from trustdesk.observability import Metrics, RequestObserver, configure_logging
from trustdesk.platform import Platform
from trustdesk.problems import allowed_methods, install_openapi, problem
from trustdesk.web.docs import mount_docs
from trustdesk.web.error_pages import domain_error_page, error_page, is_page_request
from trustdesk.web.pages import mount_pages

__all__ = ["create_app"]

_log = logging.getLogger("trustdesk.app")


def _validation_detail(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    errors = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        errors.append(
            {"field": loc, "reason": str(err.get("msg", "")).removeprefix("Value error, ")}
        )
    detail = "; ".join(
        f"{e['field']}: {e['reason']}" if e["field"] else e["reason"] for e in errors
    )
    return detail or "invalid request", errors


def _install_error_handlers(app: FastAPI) -> None:
    """API routes answer problem+json; page routes answer friendly HTML (see web/error_pages)."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if exc.status >= 500:
            _log.error("domain error", extra={"error": type(exc).__name__})
        if is_page_request(request):
            return domain_error_page(request, exc)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        response = problem(exc.status, exc.title, exc.detail)
        if headers:
            response.headers.update(headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        detail, errors = _validation_detail(exc)
        if is_page_request(request):
            return error_page(request, 422, detail)
        return problem(422, "Invalid input", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if is_page_request(request):
            response = error_page(request, exc.status_code, str(exc.detail))
        else:
            response = problem(exc.status_code, str(exc.detail), str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:  # RFC 9110: name every method the resource supports
            response.headers["Allow"] = ", ".join(allowed_methods(request))
        return response

    @app.exception_handler(DataError)
    async def _unstorable(request: Request, exc: DataError) -> Response:
        # PostgreSQL cannot store every value SQLite can: NUL characters in text.
        if "NUL (0x00)" not in str(exc.orig):
            return await _unexpected(request, exc)
        detail = "text must not contain NUL (0x00) characters"
        if is_page_request(request):
            return error_page(request, 422, detail)
        return problem(422, "Invalid input", detail)

    # A backstop for errors outside the app's own middleware; `AnswerUnexpected` answers the rest.
    app.exception_handler(Exception)(_unexpected)


async def _unexpected(request: Request, exc: Exception) -> Response:
    _log.exception("unhandled error")
    if is_page_request(request):
        return error_page(request, 500)
    return problem(
        500, "Internal error", "something went wrong; the request id names it in the logs"
    )


class AnswerUnexpected:
    """Answers an unexpected exception with the 500 problem (or error page) here, inside the app.

    Starlette's outermost handler answers it too, but then raises it again to the server, which
    closes the connection: a keep-alive client would lose its connection with every 500.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        mark_serving()  # this loop serves requests: a database call on it is refused
        started = False

        async def watching(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watching)
        except Exception as exc:
            if started:  # part of the answer left already: only closing can tell the client
                raise
            response = await _unexpected(Request(scope, receive), exc)
            await response(scope, receive, send)


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> FastAPI:
    settings = settings or (platform.settings if platform else get_settings())
    configure_logging(settings.log_level)
    owned = platform is None
    platform = platform or Platform.open(settings)  # fails loudly on a wrong master key

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        mark_serving()
        services = ExitStack()
        try:
            # Capabilities' in-process services (the fraud scorer reads its history here, before
            # the first request is served), stopped in reverse order at shutdown; started and
            # stopped in a thread, as every database call is (never on the event loop).
            for hook in hooks:
                await run_in_threadpool(services.enter_context, hook())
            stop_checkpoints = platform.db.checkpoint_in_background()
            # Everything built so far lives as long as the server: keep full collections from
            # walking it again and again (a pause of tens of milliseconds for whichever request
            # meets it).
            gc.collect()
            gc.freeze()
            yield
            stop_checkpoints()
        finally:
            await run_in_threadpool(services.close)
        if owned:
            platform.close()

    app = FastAPI(
        title="TrustDesk",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # served from local assets by `mount_docs` (works offline)
        redoc_url=None,
        openapi_url="/openapi.json",
        description="Measure, earn, protect and rebuild customer trust.",
    )
    install_openapi(app)
    app.state.platform = platform
    capabilities = installed()
    wire(capabilities)  # signals, export sections, erasure steps: a wrong reference fails here
    hooks: list[Callable[[], AbstractContextManager[None]]] = [
        resolve(ref)(app, platform, settings)
        for capability in capabilities
        for ref in capability.server_hooks
    ]
    metrics = Metrics()
    app.state.metrics = metrics

    secret = (
        settings.secret_key.get_secret_value().encode()
        if settings.secret_key
        else platform.vault.signing_key("web-session")
    )
    app.add_middleware(AnswerUnexpected)  # innermost: inside the session and the request id

    async def authenticate(request: Request, permissions: tuple[str, ...]) -> None:
        principal = await run_in_threadpool(current_principal, request, platform)
        for permission in permissions:
            principal.require(permission)

    async def authenticate_page(request: Request, permissions: tuple[str, ...]) -> None:
        await run_in_threadpool(session_principal, request, platform)

    # Inside the session middleware: a cookie-authenticated call needs its session decoded.
    app.add_middleware(
        BodyGuard,
        max_body_bytes=settings.max_body_bytes,
        max_bulk_body_bytes=settings.max_bulk_body_bytes,
        authenticate=authenticate,
        authenticate_page=authenticate_page,
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret.hex() if isinstance(secret, bytes) else secret,
        session_cookie="trustdesk_session",
        max_age=settings.session_max_age_s,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    app.add_middleware(ApiHeaders)
    app.add_middleware(RequestObserver, metrics=metrics)
    _install_error_handlers(app)

    api = APIRouter(prefix="/api/v1")
    # `first_routers` first (payment scoring): routes are matched in order and it is the busiest,
    # latency-bound one.
    refs = [ref for c in capabilities for ref in c.first_routers]
    refs += [ref for c in capabilities for ref in c.routers]
    for ref in refs:
        api.include_router(resolve(ref, APIRouter))
    app.include_router(api)

    def ping() -> None:
        with platform.db.reading() as session:
            session.execute(text("SELECT 1"))

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        # One worker-thread hop for the query (never on the event loop); the answer needs none.
        await run_in_threadpool(ping)
        return {"status": "ok", "version": __version__}

    # Request counts and timings per route tell an outsider what the business does and when:
    # Prometheus scrapes with a token of the `monitor` role (README, "Monitoring").
    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    def prometheus(_: Principal = Depends(require("metrics:read"))) -> PlainTextResponse:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    mount_docs(app)
    mount_pages(app, capabilities)
    return app
