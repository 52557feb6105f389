"""The interactive API documentation at /docs, served entirely from this server.

FastAPI's default page loads Swagger UI from a CDN, so it is blank offline or behind a strict
firewall. Here the assets come from an installed package (`fastapi-offline` ships Swagger UI 5,
which reads the OpenAPI 3.1 document FastAPI writes) and the page names only local URLs. The
favicon is ours, so browsers stop asking for a /favicon.ico that does not exist.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["SWAGGER_ASSETS", "mount_docs"]

SWAGGER_ASSETS = "/static/swagger"
_FAVICON = Path(__file__).parent / "static" / "favicon.svg"


def _swagger_dir() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


def mount_docs(app: FastAPI, *, openapi_url: str = "/openapi.json") -> None:
    """/docs (Swagger UI from local assets), its assets, and /favicon.ico.

    Create the app with `docs_url=None` so FastAPI's CDN page does not shadow this one.
    """
    app.mount(SWAGGER_ASSETS, StaticFiles(directory=_swagger_dir()), name="swagger")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
            swagger_favicon_url="/favicon.ico",
        )

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(
            _FAVICON,
            media_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=86400"},
        )
