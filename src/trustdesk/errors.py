"""Domain errors. Capabilities subclass these; `app.py` and `cli.py` map them once each."""

from __future__ import annotations

__all__ = [
    "AuthenticationFailed",
    "ConfigurationError",
    "Conflict",
    "DomainError",
    "InvalidInput",
    "NotFound",
    "PermissionDenied",
    "TooManyAttempts",
    "VerificationFailed",
]


class DomainError(Exception):
    """Base of every error a user can cause or fix. `detail` is safe to show: no personal data."""

    title = "Request failed"
    status = 400
    exit_code = 1

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(DomainError):
    title = "Invalid input"
    status = 422
    exit_code = 2


class NotFound(DomainError):
    title = "Not found"
    status = 404
    exit_code = 3


class Conflict(DomainError):
    title = "Conflict"
    status = 409
    exit_code = 4


class AuthenticationFailed(DomainError):
    title = "Authentication required"
    status = 401
    exit_code = 5


class PermissionDenied(DomainError):
    title = "Forbidden"
    status = 403
    exit_code = 6


class TooManyAttempts(DomainError):
    title = "Too many attempts"
    status = 429
    exit_code = 7


class ConfigurationError(DomainError):
    title = "Configuration error"
    status = 500
    exit_code = 8


class VerificationFailed(DomainError):
    """A check of stored data failed: a hash chain is broken, a proof or an erasure unverified."""

    title = "Verification failed"
    status = 500
    exit_code = 1
