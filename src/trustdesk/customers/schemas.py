"""What callers send and receive about customers. Validation lives here, once, for API and CLI."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["CustomerIn", "CustomerOut", "CustomerPut", "ImportReport", "RowError"]

_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_PHONE = re.compile(r"^\+?[0-9 ()./-]{5,32}$")
_JURISDICTION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
_SEGMENT = re.compile(r"^[\w .&/-]{1,64}$")


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value.strip() if isinstance(value, str) else value


class CustomerIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    external_id: str = Field(description="Your system's id for the customer; unique.")
    name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254)
    phone: str | None = None
    address: str | None = Field(None, max_length=500)
    birth_date: date | None = None
    segments: list[str] = Field(default_factory=list, description="Segments, e.g. 'retail'.")
    jurisdiction: str | None = Field(
        None, description="ISO country, optional region: 'US-CA', 'DE'."
    )

    _blank = field_validator(
        "name", "email", "phone", "address", "birth_date", "jurisdiction", mode="before"
    )(_blank_to_none)

    @field_validator("external_id")
    @classmethod
    def _check_external_id(cls, v: str) -> str:
        if not _EXTERNAL_ID.match(v):
            raise ValueError("external_id must be 1-128 letters, digits or _ . : @ -")
        return v

    @field_validator("email")
    @classmethod
    def _check_email(cls, v: str | None) -> str | None:
        if v is not None and not _EMAIL.match(v):
            raise ValueError("email is not a valid address")
        return v

    @field_validator("phone")
    @classmethod
    def _check_phone(cls, v: str | None) -> str | None:
        if v is not None and not _PHONE.match(v):
            raise ValueError("phone must be digits, optionally with + ( ) . / - and spaces")
        return v

    @field_validator("jurisdiction")
    @classmethod
    def _check_jurisdiction(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = v.upper()
        if not _JURISDICTION.match(v):
            raise ValueError("jurisdiction must be a country code with optional region: US-CA, DE")
        return v

    @field_validator("birth_date")
    @classmethod
    def _check_birth_date(cls, v: date | None) -> date | None:
        if v is not None and (v > date.today() or v.year < 1900):
            raise ValueError("birth_date must be between 1900 and today")
        return v

    @field_validator("segments", mode="before")
    @classmethod
    def _split_segments(cls, v: Any) -> Any:
        if v is None:
            return []
        if isinstance(v, str):
            v = re.split(r"[;|]", v)
        if not isinstance(v, list | tuple):
            return v  # not a list: the type check names the field (422)
        return sorted({s.strip() for s in v if isinstance(s, str) and s.strip()})

    @field_validator("segments")
    @classmethod
    def _check_segments(cls, v: list[str]) -> list[str]:
        for seg in v:
            if not _SEGMENT.match(seg):
                raise ValueError(
                    f"segment {seg!r} has characters other than letters, digits, space . & / -"
                )
        return v

    def personal(self) -> dict[str, str | None]:
        return {
            "name": self.name,
            "email": self.email,
            "phone": self.phone,
            "address": self.address,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
        }


class CustomerPut(CustomerIn):
    """The body of `PUT /customers/{external_id}`: the URL names the customer, so the body need
    not repeat `external_id` (if it does, the two must match)."""

    external_id: str | None = Field(  # type: ignore[assignment]
        None, description="Optional: the URL names the customer; if given, it must match."
    )

    @field_validator("external_id")
    @classmethod
    def _check_external_id(cls, v: str | None) -> str | None:  # type: ignore[override]
        return v

    def for_customer(self, external_id: str) -> CustomerIn:
        """The record for the customer the URL names (its id checked like any other)."""
        return CustomerIn.model_validate({**self.model_dump(), "external_id": external_id})


class CustomerOut(BaseModel):
    """A customer as shown to staff. Personal fields are None when masked or erased."""

    id: int
    external_id: str
    segments: list[str]
    jurisdiction: str | None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    birth_date: str | None = None
    personal_data: str = Field(description="'shown', 'masked' (no permission) or 'erased'.")
    created_at: datetime
    updated_at: datetime


class RowError(BaseModel):
    row: int
    external_id: str | None = None
    reason: str


class ImportReport(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowError] = Field(default_factory=list)

    @property
    def stored(self) -> int:
        return self.created + self.updated + self.unchanged
