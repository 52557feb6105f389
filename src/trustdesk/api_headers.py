"""Headers every API response carries: `Cache-Control: no-store` (answers may hold personal data;
no browser, proxy or CDN may keep a copy) and `X-Content-Type-Options: nosniff` (a JSON or ZIP
body is never run as a script or page). Pages send their own set (`web/templating.py`).

Plain ASGI, like the request observer: it only adds two headers to the response start.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["API_HEADERS", "ApiHeaders"]

API_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
_PREFIXES = ("/api/", "/metrics")


class ApiHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(_PREFIXES):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in API_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
