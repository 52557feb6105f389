"""Surveys' domain errors; `app.py` and `cli.py` map them like every other domain error."""

from __future__ import annotations

from trustdesk.errors import Conflict, DomainError, InvalidInput, NotFound

__all__ = [
    "AlreadyAnswered",
    "InvalidAnswer",
    "InvalidSurvey",
    "SurveyNotFound",
    "UnknownRespondent",
]


class InvalidSurvey(InvalidInput):
    """A survey or item that cannot be built as given (unknown template, empty title ...)."""

    title = "Invalid survey"


class InvalidAnswer(InvalidInput):
    """An answer outside its item's scale, an unknown item, a respondent we cannot place."""

    title = "Invalid answer"


class SurveyNotFound(NotFound):
    title = "Survey not found"


class UnknownRespondent(NotFound):
    title = "Unknown respondent"


class AlreadyAnswered(Conflict):
    """A single-use link used a second time."""

    title = "Already answered"


class LinkInvalid(NotFound):
    """A survey link that is not ours (altered, copied incompletely)."""

    title = "Link not valid"


class LinkExpired(DomainError):
    title = "Link expired"
    status = 410
    exit_code = 4
