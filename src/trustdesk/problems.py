"""RFC 9457 problem details: the one error shape of the HTTP API, and how the OpenAPI shows it.

Every operation's errors are generated into the OpenAPI document from what the operation is:
authenticated ones answer 401 and 403, those with parameters or a body 422, those with a path
parameter 404, those with a body 413. Errors that follow from the data instead (a customer that
does not exist, a conflicting resend) are declared on the route with `problem_responses(404, 409)`.
All of them are `application/problem+json`, as the error handlers in `app.py` answer.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.routing import Match

__all__ = [
    "PROBLEM",
    "Problem",
    "allowed_methods",
    "install_openapi",
    "problem",
    "problem_responses",
]

PROBLEM = "application/problem+json"
BEARER = "bearer"
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


class FieldProblem(BaseModel):
    field: str = Field(description="Where: `body.name`, `query.limit`, … (empty: the whole body).")
    reason: str


class Problem(BaseModel):
    """What went wrong, safe to show: never personal data."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = Field(None, description="422: each invalid field.")


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """RFC 9457 problem details."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """For a route's `responses=`: errors its data can cause beyond those every route documents."""
    return {status: {"description": HTTPStatus(status).phrase} for status in statuses}


def allowed_methods(request: Request) -> list[str]:
    """The methods of the resource this path names (the `Allow` header of a 405).

    The resource is the most literal route template that matches: `/customers/bulk` is the bulk
    import, not a customer called "bulk". Each method of a template is a route of its own.
    """
    routes = [r for r in request.app.router.routes if getattr(r, "methods", None)]
    matching = [r.path for r in routes if r.matches(request.scope)[0] is not Match.NONE]
    if not matching:
        return []
    template = min(matching, key=lambda path: path.count("{"))  # first of the most literal
    return sorted({m for r in routes if r.path == template for m in r.methods})


def _generic_errors(operation: dict[str, Any]) -> set[int]:
    """The errors an operation can answer because of what it is, not of the data it meets."""
    statuses: set[int] = set()
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    if operation.get("security") != []:
        statuses |= {401, 403}
    if parameters or has_body:
        statuses.add(422)
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    if has_body:
        statuses |= {400, 413}  # 400: a body that is not JSON at all
    return statuses


def _document(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schemas["Problem"].pop("$defs", {}))
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (`td_…`) from `trustdesk tokens create`.",
    }
    content = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, item in schema.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            if path.startswith("/api/") and "security" not in operation:
                operation["security"] = [{BEARER: []}]
            elif "security" not in operation:
                operation["security"] = []
            responses = operation.setdefault("responses", {})
            for status in _generic_errors(operation) | {int(s) for s in responses if s[0] in "45"}:
                response = responses.setdefault(str(status), {})
                response["description"] = response.get("description") or HTTPStatus(status).phrase
                if str(status) == "422":
                    response["description"] = "Invalid input: each bad field is named."
                response["content"] = content
    return schema


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` (served at /openapi.json) document every problem+json answer."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    openapi_version=app.openapi_version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    generate: Callable[[], dict[str, Any]] = openapi
    app.openapi = generate  # type: ignore[method-assign]
