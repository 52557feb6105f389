"""Privacy's domain errors; `app.py` and `cli.py` map them like every other domain error."""

from __future__ import annotations

from trustdesk.errors import Conflict, DomainError, PermissionDenied, VerificationFailed

__all__ = [
    "ErasureNotVerified",
    "FormExpired",
    "FormInvalid",
    "FormReplayed",
    "IdentityNotVerified",
    "LinkExpired",
    "LinkInvalid",
]


class LinkExpired(DomainError):
    """The preference link was genuine but is older than its lifetime."""

    title = "Link expired"
    status = 410
    exit_code = 2


class LinkInvalid(PermissionDenied):
    """The preference link was not signed by us (altered, truncated or made up)."""

    title = "Link not valid"


class FormExpired(LinkExpired):
    title = "Form expired"


class FormInvalid(PermissionDenied):
    title = "Form not valid"


class FormReplayed(Conflict):
    """This exact preference form was already received once."""

    title = "Form already sent"


class IdentityNotVerified(Conflict):
    """A data-subject request was to be carried out before the requester's identity was checked."""

    title = "Identity not verified"


class ErasureNotVerified(VerificationFailed):
    """An erasure ran but its verification found personal data still readable."""

    title = "Erasure not verified"
