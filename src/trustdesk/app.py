"""FastAPI app factory: mounts every capability's router and maps domain errors to problem+json."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from trustdesk import __version__
from trustdesk.audit.api import router as audit_router
from trustdesk.auth.api import router as auth_router
from trustdesk.auth.http import current_principal
from trustdesk.body_guard import BodyGuard
from trustdesk.config import Settings, get_settings
from trustdesk.customers.api import router as customers_router
from trustdesk.errors import DomainError
from trustdesk.feedback.api import router as feedback_router
from trustdesk.fraud.api import fraud_router
from trustdesk.fraud.api import router as transactions_router
from trustdesk.fraud.realtime import EngineHolder
from trustdesk.observability import Metrics, RequestObserver, configure_logging
from trustdesk.platform import Platform
from trustdesk.privacy.api import router as consent_router
from trustdesk.privacy.datamap_api import router as privacy_datamap_router
from trustdesk.privacy.requests_api import router as privacy_requests_router
from trustdesk.problems import allowed_methods, install_openapi, problem
from trustdesk.trust.api import alerts_router
from trustdesk.trust.api import router as trust_router
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

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        _log.exception("unhandled error")
        if is_page_request(request):
            return error_page(request, 500)
        return problem(
            500, "Internal error", "something went wrong; the request id names it in the logs"
        )


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> FastAPI:
    settings = settings or (platform.settings if platform else get_settings())
    configure_logging(settings.log_level)
    owned = platform is None
    platform = platform or Platform.open(settings)  # fails loudly on a wrong master key

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # The fraud scorer's history is read once, before the first request is served.
        _app.state.fraud.start(background=True)
        stop_checkpoints = platform.db.checkpoint_in_background()
        # Everything built so far lives as long as the server: keep full collections from walking
        # it again and again (a pause of tens of milliseconds for whichever request meets it).
        gc.collect()
        gc.freeze()
        yield
        stop_checkpoints()
        _app.state.fraud.stop()
        if owned:
            platform.close()

    app = FastAPI(
        title="TrustDesk",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
        description="Measure, earn, protect and rebuild customer trust.",
    )
    install_openapi(app)
    app.state.platform = platform
    app.state.fraud = EngineHolder(platform.db, settings)
    metrics = Metrics()
    app.state.metrics = metrics

    secret = (
        settings.secret_key.get_secret_value().encode()
        if settings.secret_key
        else platform.vault.signing_key("web-session")
    )

    async def authenticate(request: Request) -> None:
        await run_in_threadpool(current_principal, request, platform)

    # Inside the session middleware: a cookie-authenticated call needs its session decoded.
    app.add_middleware(
        BodyGuard,
        max_body_bytes=settings.max_body_bytes,
        max_bulk_body_bytes=settings.max_bulk_body_bytes,
        authenticate=authenticate,
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret.hex() if isinstance(secret, bytes) else secret,
        session_cookie="trustdesk_session",
        max_age=settings.session_max_age_s,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    app.add_middleware(RequestObserver, metrics=metrics)
    _install_error_handlers(app)

    api = APIRouter(prefix="/api/v1")
    # Payment scoring first: routes are matched in order and it is the busiest, latency-bound one.
    api.include_router(transactions_router)
    api.include_router(auth_router)
    api.include_router(customers_router)
    api.include_router(feedback_router)
    api.include_router(consent_router)
    api.include_router(privacy_requests_router)
    api.include_router(privacy_datamap_router)
    api.include_router(trust_router)
    api.include_router(alerts_router)
    api.include_router(audit_router)
    api.include_router(fraud_router)
    app.include_router(api)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        # Inline, like the other hot paths: one trivial query costs less than a thread-pool hop.
        with platform.db.reading() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    def prometheus() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    mount_pages(app)
    return app
