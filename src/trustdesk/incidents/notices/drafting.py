"""Notice drafts in plain language, from the incident's facts: for people (what happened, when,
what data, what we are doing, what you can do, what we offer, who to contact) and the report to a
regulator pre-filled with the content GDPR Art. 33(3) asks for. Pure: no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from trustdesk.incidents.categories import CATEGORIES

__all__ = ["Draft", "IncidentFacts", "individuals_notice", "regulator_report"]

OFFER_PLACEHOLDER = "{remedy_code}"

_ADVICE = {
    "financial_account": "Check your bank and card statements. Tell your bank at once about any "
    "payment you do not know. Your bank can give you a new card.",
    "government_id": "Think about a fraud alert or a credit freeze. They are free. Ask any one of "
    "the credit agencies for them.",
    "account_credentials": "Change your password now. Change it on other sites too if you used "
    "the same one there. Turn on two-step sign-in.",
    "health": "Read the statements from your health insurer. Tell them about any care you did "
    "not get.",
    "health_insurance": "Read the statements from your health insurer. Tell them about any care "
    "you did not get.",
    "email": "Watch out for emails that ask for your password or for money. We will never ask "
    "for your password.",
}

_CONSEQUENCES = {
    "financial_account": "fraudulent payments with the card or account",
    "government_id": "identity theft, such as loans or accounts opened in the person's name",
    "account_credentials": "others signing in to the person's account",
    "health": "disclosure of health information, discrimination or distress",
    "health_insurance": "medical identity theft",
    "email": "phishing emails that look like they come from us",
    "address": "unwanted mail or contact",
    "date_of_birth": "identity theft when combined with other data",
}


@dataclass(frozen=True)
class IncidentFacts:
    title: str
    description: str
    aware_at: datetime
    occurred_from: datetime | None
    occurred_to: datetime | None
    contained_at: datetime | None
    categories: list[str]
    controller: str
    contact_email: str
    authority: str
    public_updates: list[str]
    affected: int
    by_jurisdiction: dict[str, int]


@dataclass(frozen=True)
class Draft:
    subject: str
    body: str


def _day(value: datetime) -> str:
    return value.strftime("%-d %B %Y")


def _when(f: IncidentFacts) -> str:
    if f.occurred_from and f.occurred_to:
        return f"It happened between {_day(f.occurred_from)} and {_day(f.occurred_to)}."
    if f.occurred_from:
        return f"It started on {_day(f.occurred_from)}."
    return ""


def _data(categories: list[str]) -> str:
    return "\n".join(f"- {CATEGORIES[c].capitalize()}" for c in categories) or "- Not yet known"


def individuals_notice(f: IncidentFacts, offer: str | None = None) -> Draft:
    """A notice to the people affected, in short sentences and common words."""
    doing = [
        f"We found out on {_day(f.aware_at)}. We started to look into it at once.",
        f"We stopped it on {_day(f.contained_at)}."
        if f.contained_at
        else "We are working to stop it.",
        "We have told the authorities that the law says we must tell.",
        *f.public_updates[-3:],
    ]
    advice = list(dict.fromkeys(_ADVICE[c] for c in f.categories if c in _ADVICE))
    advice.append(
        "Be careful with calls, texts and emails that ask about this. We will not ask "
        "you for your password or your card details."
    )
    parts = [
        "Dear customer,",
        f"We are writing to tell you about a security problem at {f.controller}. It affects "
        "some of your personal data. We are sorry.",
        "## What happened",
        " ".join(x for x in (f.description or f.title, _when(f)) if x),
        "## What data was involved",
        _data(f.categories),
        "## What we are doing",
        " ".join(d for d in doing if d),
        "## What you can do",
        "\n".join(f"- {a}" for a in advice),
    ]
    if offer:
        parts += ["## What we offer you", f"{offer} Your code: {OFFER_PLACEHOLDER}"]
    parts += [
        "## Contact us",
        f"Write to {f.contact_email}. You can also complain to {f.authority}.",
        f"{f.controller}",
    ]
    return Draft(
        f"Important: a security problem affecting your data at {f.controller}", "\n\n".join(parts)
    )


def regulator_report(f: IncidentFacts) -> Draft:
    """The report to a supervisory authority, pre-filled with GDPR Art. 33(3) content."""
    places = ", ".join(f"{k}: {v}" for k, v in f.by_jurisdiction.items()) or "none yet"
    consequences = [_CONSEQUENCES[c] for c in f.categories if c in _CONSEQUENCES]
    window = _when(f) or "The time it started is still being established."
    parts = [
        f"# Personal data breach notification: {f.title}",
        "## (a) Nature of the breach",
        f"{f.description or f.title} {window} We became aware on {f.aware_at.isoformat()}.",
        "Categories of personal data concerned:",
        _data(f.categories),
        f"Approximate number of data subjects concerned: {f.affected} ({places}).",
        f"Approximate number of personal data records concerned: {f.affected} customer records.",
        "## (b) Contact point",
        f"{f.controller}, {f.contact_email}",
        "## (c) Likely consequences",
        "\n".join(f"- {c}" for c in consequences) or "- Being assessed",
        "## (d) Measures taken or proposed",
        "\n".join(
            f"- {m}"
            for m in (
                f"Contained on {f.contained_at.isoformat()}"
                if f.contained_at
                else "Containment under way",
                "Affected people are being notified with advice on protecting themselves",
                *f.public_updates[-3:],
            )
        ),
    ]
    return Draft(f"Personal data breach notification: {f.title}", "\n\n".join(parts))
