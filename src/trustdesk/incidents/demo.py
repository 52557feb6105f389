"""The demo's incident, modelled on the largest hacking breach in the shipped HHS OCR slice (a
ransomware attack on a payments and claims processor's network server): our payments system is
breached, the forensic investigation lists 240 demo customers whose name, email, postal address
and card details were exposed and the US state of each (from their billing records: the sample's
authors only say "US"); the obligations and their clocks follow, a credit-monitoring code pool is
loaded, the notice to individuals is drafted, approved by the privacy officer and queued in the
outbox — `trustdesk mailbox serve` plus `trustdesk outbox deliver` put every notice in the local
mailbox. Idempotent: a second run finds the incident and changes nothing."""

from __future__ import annotations

import csv
import gzip
import tempfile
from datetime import timedelta
from importlib.resources import files
from pathlib import Path

from sqlalchemy import select

from trustdesk.capabilities import DemoEcho
from trustdesk.customers import public as customers
from trustdesk.db import utcnow
from trustdesk.incidents.affected.importing import import_affected_file
from trustdesk.incidents.models import Incident
from trustdesk.incidents.notices import delivery, offers
from trustdesk.incidents.notices import service as notices
from trustdesk.incidents.register import service as register
from trustdesk.incidents.schemas import DecisionIn, IncidentIn, IncidentPatch, UpdateIn
from trustdesk.platform import Platform

__all__ = ["AFFECTED", "TITLE", "load_demo_incident"]

ACTOR = "system:demo"
APPROVER = "privacy"  # the demo's privacy officer login approves the notice
TITLE = "Ransomware attack on our payments processor"
AFFECTED = 240
CATEGORIES = ("name", "email", "address", "financial_account")


def _breaches() -> list[dict[str, str]]:
    raw = (files("trustdesk.incidents") / "data" / "hhs_hacking_breaches.csv.gz").read_bytes()
    return list(csv.DictReader(gzip.decompress(raw).decode("utf-8").splitlines()))


def _states(rows: list[dict[str, str]]) -> list[str]:
    """US states in proportion to where the slice's breaches were reported (a stand-in for the
    billing addresses an investigation would read), as customer jurisdiction codes."""
    weighted: list[str] = []
    for row in rows:
        code = row["state"].strip().upper()
        if len(code) == 2 and code.isalpha():
            weighted.append(f"US-{code}")
    return weighted


def load_demo_incident(platform: Platform, echo: DemoEcho) -> None:
    with platform.db.reading() as session:
        if session.scalar(select(Incident.id).where(Incident.title == TITLE)) is not None:
            echo("incidents: the demo incident is already there")
            return
        places = customers.every_place(session)
    rows = _breaches()
    model = rows[0]
    chosen = sorted(k for k, (_, where) in places.items() if where == "US")[:AFFECTED]
    if not chosen:
        echo("incidents: no demo customers to affect (load the customers first)")
        return
    states = _states(rows)
    now = utcnow().replace(microsecond=0)
    aware = now - timedelta(days=20)
    description = (
        "Attackers encrypted and copied data from a network server of the company that handles "
        "our card payments."
    )
    modelled_on = (
        "Demo incident modelled on a breach reported to the US HHS Office for Civil Rights: "
        f"{model['entity']} ({model['state']}), {model['breach_type']} at its "
        f"{model['location'].lower()}, {int(model['individuals']):,} people, reported "
        f"{model['submitted']}."
    )
    with platform.db.transaction() as session:
        changed = customers.record_jurisdictions(
            session,
            platform.vault,
            {ext: states[i * 11 % len(states)] for i, ext in enumerate(chosen)},
            actor=ACTOR,
        )
        incident = register.open_incident(
            session,
            IncidentIn(
                title=TITLE,
                description=description,
                severity="high",
                kind="ransomware",
                occurred_from=aware - timedelta(days=9),
                occurred_to=aware - timedelta(days=1),
                aware_at=aware,
                determined_at=aware + timedelta(days=2),
                systems=["payments"],
                categories=list(CATEGORIES),
            ),
            actor=ACTOR,
            now=aware,
        )
        iid = incident.id
        with tempfile.TemporaryDirectory() as tmp:
            forensic = Path(tmp) / "forensic_list.csv"
            codes = Path(tmp) / "credit_monitoring_codes.txt"
            forensic.write_text(
                "external_id,data_categories\n"
                + "".join(f"{ext},{';'.join(CATEGORIES)}\n" for ext in chosen),
                encoding="utf-8",
            )
            codes.write_text(
                "".join(f"CM-{iid:03d}-{n:05d}\n" for n in range(1, AFFECTED + 61)),
                encoding="utf-8",
            )
            imported = import_affected_file(session, platform.vault, iid, forensic, actor=ACTOR)
            offers.import_codes(session, iid, codes, actor=ACTOR)
        register.update_incident(
            session,
            iid,
            IncidentPatch(
                status="analysing",
                public_statement=(
                    "On the day we learnt that the processor of our card payments was attacked, "
                    "we stopped sending it payments. Some customers' names, contact details and "
                    "card details were copied. We have written to each of them, with a free "
                    "credit-monitoring code, and we answer questions at privacy@example.com."
                ),
            ),
            actor=ACTOR,
            now=aware + timedelta(hours=6),
        )
        register.update_incident(
            session, iid, IncidentPatch(status="contained"), actor=ACTOR,
            now=aware + timedelta(days=1),
        )  # fmt: skip
        register.add_update(
            session, iid,
            UpdateIn(text="The processor confirmed the attack; card payments moved to the backup "
                     "processor.", visibility="public"),
            actor=ACTOR, now=aware + timedelta(hours=8),
        )  # fmt: skip
        register.add_update(
            session, iid, UpdateIn(text=modelled_on), actor=ACTOR, now=aware + timedelta(hours=1)
        )
        register.add_decision(
            session, iid,
            DecisionIn(text="Notify every affected customer and offer credit monitoring",
                       reason="card numbers with their codes were taken"),
            actor=ACTOR, now=aware + timedelta(days=2),
        )  # fmt: skip
        draft = notices.draft(
            session, iid, "individuals", offer="Two years of free credit monitoring.",
            actor=ACTOR, now=aware + timedelta(days=3),
        )  # fmt: skip
        notices.draft(session, iid, "regulator", actor=ACTOR, now=aware + timedelta(days=3))
        notices.approve(session, iid, draft.id, actor=APPROVER, now=aware + timedelta(days=4))
        sent = delivery.notify(
            session, platform.vault, iid, "individuals", dry_run=False, actor=ACTOR, now=now
        )
    echo(
        f"incidents: {TITLE!r} (incident {iid}) with {imported.added} affected customers "
        f"({changed} given their billing state); {sent.queued} notices queued in the outbox — "
        "run `trustdesk mailbox serve` and `TRUSTDESK_SMTP_PORT=8025 trustdesk outbox deliver "
        "--until-empty` to read them"
    )
