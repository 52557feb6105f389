"""When a data-subject request is due: the statutory clock of the regime that covers the customer.

GDPR and UK GDPR (Art. 12(3)): one calendar month from receipt, extendable once by two further
months. CCPA/CPRA (Cal. Civ. Code §1798.130): 45 days, extendable once by 45 more. Pure functions,
so the rules are unit-tested on plain dates.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from trustdesk.errors import Conflict

__all__ = [
    "DUE_SOON",
    "RULES",
    "DeadlineRule",
    "Regime",
    "add_months",
    "due_at",
    "extended_due_at",
    "regime_for",
]

DUE_SOON = timedelta(days=7)
"""Open requests due within this time are flagged so they are not left to the last day."""


class Regime(StrEnum):
    GDPR = "gdpr"
    UK_GDPR = "uk_gdpr"
    CCPA = "ccpa"


@dataclass(frozen=True)
class DeadlineRule:
    months: int = 0
    days: int = 0
    extension_months: int = 0
    extension_days: int = 0
    label: str = ""

    def add(self, moment: datetime, *, extension: bool = False) -> datetime:
        months = self.extension_months if extension else self.months
        days = self.extension_days if extension else self.days
        return add_months(moment, months) + timedelta(days=days)


RULES: dict[Regime, DeadlineRule] = {
    Regime.GDPR: DeadlineRule(months=1, extension_months=2, label="GDPR (one month, +2)"),
    Regime.UK_GDPR: DeadlineRule(months=1, extension_months=2, label="UK GDPR (one month, +2)"),
    Regime.CCPA: DeadlineRule(days=45, extension_days=45, label="CCPA/CPRA (45 days, +45)"),
}


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later, or that month's last day if shorter (31 Jan → 28 Feb)."""
    if months == 0:
        return moment
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def regime_for(jurisdiction: str | None) -> Regime:
    """California → CCPA; the UK → UK GDPR; anywhere else → GDPR, the shortest clock, so an
    unknown or other jurisdiction is never answered late."""
    if jurisdiction and jurisdiction.upper() == "US-CA":
        return Regime.CCPA
    if jurisdiction and jurisdiction.upper().split("-")[0] == "GB":
        return Regime.UK_GDPR
    return Regime.GDPR


def due_at(received_at: datetime, regime: Regime) -> datetime:
    return RULES[regime].add(received_at)


def extended_due_at(due: datetime, regime: Regime, *, already_extended: bool = False) -> datetime:
    """The due date after the one extension the regime allows; a second one is refused."""
    if already_extended:
        raise Conflict("the deadline was already extended once; it cannot be extended again")
    return RULES[regime].add(due, extension=True)
