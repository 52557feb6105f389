"""The data categories a breach exposes, in the vocabulary breach laws use, as bits of a mask.

Breach laws are triggered by combinations ("name together with a social security number"), so an
affected customer's exposure is one integer and a law's trigger is a set of masks: the customer is
notifiable when `exposed & trigger == trigger` for any trigger.
"""

from __future__ import annotations

from collections.abc import Iterable

from trustdesk.errors import InvalidInput

__all__ = [
    "CATEGORIES",
    "DATAMAP_CATEGORIES",
    "SENSITIVE",
    "mask_of",
    "names_of",
    "parse_categories",
]

CATEGORIES: dict[str, str] = {
    "name": "first name or initial and last name",
    "email": "email address",
    "phone": "telephone number",
    "address": "postal address",
    "date_of_birth": "date of birth",
    "government_id": "social security number, national id, passport or driver's licence number",
    "financial_account": "card or account number with any code or password that opens it",
    "account_credentials": "username or email address with the password or security answer",
    "health": "medical or health information",
    "health_insurance": "health insurance policy or subscriber number",
    "biometric": "biometric data (fingerprint, face or voice print, retina)",
    "location": "location data",
    "online_activity": "device, connection and usage data (IP address, browsing, purchases)",
    "communications": "content of messages sent to us",
}
"""Every category, with what it means; the bit of a category is its position here."""

_BIT = {name: 1 << i for i, name in enumerate(CATEGORIES)}

SENSITIVE = frozenset(
    {"government_id", "financial_account", "account_credentials", "health", "biometric"}
)
"""Categories whose exposure is taken as a high risk to people when no risk level is set
(EDPB Guidelines 9/2022: identity theft, fraud and financial loss are likely)."""

DATAMAP_CATEGORIES: dict[str, tuple[str, ...]] = {
    "identity": ("name", "date_of_birth"),
    "contact": ("email", "phone", "address"),
    "financial": ("financial_account",),
    "location": ("location",),
    "behavioural": ("online_activity",),
    "technical": ("online_activity",),
    "communications": ("communications",),
    "special": ("health",),
}
"""What each data-map category (privacy/datamap) means in breach-law terms."""


def parse_categories(names: Iterable[str]) -> int:
    """The mask of the named categories; InvalidInput names an unknown one."""
    mask = 0
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        bit = _BIT.get(name)
        if bit is None:
            raise InvalidInput(
                f"unknown data category {raw.strip()!r}; known: {', '.join(CATEGORIES)}"
            )
        mask |= bit
    return mask


def mask_of(names: Iterable[str]) -> int:
    return parse_categories(names)


def names_of(mask: int) -> list[str]:
    return [name for name, bit in _BIT.items() if mask & bit]
