"""Structured JSON logs, request ids and Prometheus metrics.

Logs carry route templates, never raw paths or bodies, so no personal value reaches them.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Metrics", "RequestObserver", "configure_logging", "request_id"]

request_id: ContextVar[str] = ContextVar("request_id", default="-")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
        }
        payload.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            payload["error"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(payload, default=str)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("trustdesk")
    root.handlers = [handler]
    root.setLevel(level.upper())
    root.propagate = False


class Metrics:
    """A registry per app, so several apps (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "trustdesk_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "trustdesk_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        # Group-commit writers (`trustdesk.group_commit`): transactions per item written.
        self.group_commit_transactions = Counter(
            "trustdesk_group_commit_transactions_total",
            "Transactions opened by a group-commit writer (batches and retries alone)",
            ["writer"],
            registry=self.registry,
        )
        self.group_commit_items = Counter(
            "trustdesk_group_commit_items_total",
            "Items (requests) submitted to a group-commit writer",
            ["writer"],
            registry=self.registry,
        )


_log = logging.getLogger("trustdesk.http")


def _route_template(scope: Scope) -> str:
    """The matched route's template (`/api/v1/customers/{external_id}`), never the raw path."""
    context = scope.get("fastapi", {}).get("effective_route_context")
    template = getattr(context, "path_format", None)
    if template:
        return str(template)
    return str(getattr(scope.get("route"), "path", "unmatched"))


class RequestObserver:
    """ASGI middleware: request id (echoed in `X-Request-ID`, set for logs), metrics, one log line.

    Plain ASGI rather than Starlette's `BaseHTTPMiddleware`, which runs every request in an extra
    task with memory streams: on the latency-bound API that wrapper cost more than the endpoint.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        rid = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id.set(rid)
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - start
            route = _route_template(scope)
            method = scope["method"]
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            if _log.isEnabledFor(logging.INFO):
                _log.info(
                    "request",
                    extra={
                        "method": method,
                        "route": route,
                        "status": status,
                        "ms": round(elapsed * 1000, 2),
                    },
                )
            request_id.reset(token)
