"""The consent policy's keys in the OpenAPI document: purposes and channels as enums.

Purposes and channels are the operator's (the policy file), so the request models can only state
their form (`KEY_PATTERN`). The server reads one policy per process, though, so its document can
say exactly which keys it accepts: this server hook lists the policy's purposes and channels as
`enum`s on the consent check, filter and record operations, from the same `load_policy` the
routes validate with. What no enum can state stays a 422 naming it: a purpose asked on a channel it
does not use.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from fastapi import FastAPI

from trustdesk.config import Settings
from trustdesk.platform import Platform
from trustdesk.privacy.consent.policy import Policy, load_policy

__all__ = ["declare_keys", "declare_policy_keys"]

_CHECK = "/api/v1/consent/check"


def declare_keys(document: dict[str, Any], policy: Policy) -> None:
    """Put `policy`'s purposes and channels as enums into `document` (in place)."""
    every = list(policy.purposes)
    optional = [key for key, purpose in policy.purposes.items() if purpose.optional]
    channels = list(policy.channels)
    schemas = document.get("components", {}).get("schemas", {})
    # Checks and filters take any purpose; only those resting on consent are recorded.
    for model, purposes in (("BulkCheckIn", every), ("ConsentIn", optional)):
        properties = schemas.get(model, {}).get("properties", {})
        _enum(properties.get("purpose"), purposes)
        _enum(properties.get("channel"), channels)
    for parameter in document.get("paths", {}).get(_CHECK, {}).get("get", {}).get("parameters", []):
        if parameter.get("in") == "query" and parameter.get("name") in ("purpose", "channel"):
            _enum(parameter.get("schema"), every if parameter["name"] == "purpose" else channels)


def _enum(schema: dict[str, Any] | None, keys: list[str]) -> None:
    if schema is not None and keys:
        schema["enum"] = keys


def declare_policy_keys(
    app: FastAPI, platform: Platform, settings: Settings
) -> Callable[[], AbstractContextManager[None]]:
    """Server hook: `app.openapi()` also declares this server's consent policy keys."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None
        document = generate()
        if fresh:  # the policy is read once per process, like the document
            declare_keys(document, load_policy(settings.consent_policy_file))
        return document

    app.openapi = openapi  # type: ignore[method-assign]
    return nullcontext
