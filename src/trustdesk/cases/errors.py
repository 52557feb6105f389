"""Cases' domain errors; `app.py` and `cli.py` map them like every other domain error."""

from __future__ import annotations

from trustdesk.errors import Conflict, InvalidInput, NotFound, PermissionDenied

__all__ = [
    "CaseNotFound",
    "FormRefused",
    "FormTooFast",
    "InvalidCalendar",
    "InvalidCase",
    "InvalidTransition",
    "MessageRefused",
    "SurveyLinkInvalid",
    "UnknownCustomer",
]


class InvalidCalendar(InvalidInput):
    """A time zone, holiday code, opening hours, duration or time that cannot be used."""

    title = "Invalid calendar"


class InvalidCase(InvalidInput):
    """A case or rule that cannot be stored as given (empty subject, oversized body ...)."""

    title = "Invalid case"


class UnknownCustomer(NotFound):
    title = "Unknown customer"


class CaseNotFound(NotFound):
    title = "Case not found"


class InvalidTransition(Conflict):
    """A status change the workflow does not allow (closed -> waiting on customer ...)."""

    title = "Status change not allowed"


class MessageRefused(InvalidInput):
    """An inbound email we will not take (too large, an attachment over the limit): the
    sender's mail server is told why (SMTP 552) and keeps the message."""

    title = "Message refused"


class FormRefused(PermissionDenied):
    """The public complaint form was not made by us, or has expired: reload it."""

    title = "Form not accepted"


class FormTooFast(InvalidCase):
    """The form came back faster than a person can write a complaint (a bot)."""

    title = "Form sent too fast"


class SurveyLinkInvalid(PermissionDenied):
    """A "did we fix it?" link not signed by us, altered or expired."""

    title = "Survey link not valid"
