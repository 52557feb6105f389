"""The demo's trust centre (practice sections, an FAQ, statements) and risk register (a few risks,
one linked to complaint cases that breached their SLA). Idempotent: runs again change nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trustdesk.capabilities import DemoEcho
from trustdesk.cases import public as cases
from trustdesk.db import utcnow
from trustdesk.platform import Platform
from trustdesk.trustcentre import risks as register
from trustdesk.trustcentre.models import Risk, TrustStatement
from trustdesk.trustcentre.sections import set_section
from trustdesk.trustcentre.statements import publish_statement

__all__ = ["load_demo_trust_centre"]

ACTOR = "system:demo"
OWNER = "privacy"  # a demo login, created right after the demo's data

SECTIONS = (
    ("encryption", "practice", "How we protect your data",
     "- Personal data is **encrypted at rest** with a key per customer.\n"
     "- Erasing a customer destroys their key, so copies in backups become unreadable.\n"
     "- Every change to records is written to a tamper-evident, hash-chained audit trail."),
    ("access", "practice", "Who at our company can see your data",
     "Staff see only what their role needs. Personal details are masked unless a role is "
     "allowed to read them, and every login uses a password plus, for administrators, a "
     "second factor."),
    ("faq-sell", "faq", "Do you sell my data?",
     "No. Our promise table above shows the figure we measure to prove it: the recipients in "
     "our data map that would receive your data as independent controllers."),
    ("faq-review", "faq", "Can a person look again at an automated decision?",
     "Yes. Send us a complaint naming the decision (for example a declined payment); it is "
     "routed to a team and a person answers it."),
)  # fmt: skip

STATEMENTS = (
    ("Our trust centre is live",
     "This page shows what we do with your data and measured proof that we keep our promises. "
     "Follow the Atom feed to hear about changes."),
    ("Complaint response times over the holidays",
     "Some complaints waited longer than our 2-business-day promise in the last fortnight. We "
     "have added staff to the queue; the figure above shows where we stand."),
)  # fmt: skip


def load_demo_trust_centre(platform: Platform, echo: DemoEcho) -> None:
    now = utcnow()
    with platform.db.transaction() as session:
        if session.scalar(select(func.count()).select_from(TrustStatement)):
            echo("trust centre: already there")
            return
        for position, (key, kind, title, body) in enumerate(SECTIONS):
            set_section(
                session, key=key, title=title, body=body, owner=OWNER, kind=kind,
                review_due=now + timedelta(days=90), position=position * 10, actor=ACTOR,
                now=now, staff_owner=False,
            )  # fmt: skip
        for title, body in STATEMENTS:
            publish_statement(
                session, title=title, body=body, incident_id=None, actor=ACTOR, now=now
            )
        if not session.scalar(select(func.count()).select_from(Risk)):
            _risks(session, now)
    echo("trust centre: sections, statements and a risk register")


def _risks(session: Session, at: datetime) -> None:
    complaints = register.add_risk(
        session,
        {"title": "Complaints not answered within the promised time", "category": "service",
         "likelihood": 4, "impact": 3, "residual_likelihood": 3, "residual_impact": 3,
         "owner": OWNER, "controls": "SLA clocks with amber warnings; escalation on breach",
         "treatment": "mitigate", "treatment_plan": "Add holiday cover to the complaints queue",
         "review_every_days": 30},
        actor=ACTOR, now=at, staff_owner=False,
    )  # fmt: skip
    for case_id in cases.breached_case_ids(session, limit=3):
        register.link_event(
            session, complaints.id, kind="case", ref=str(case_id), note="SLA breached",
            actor=ACTOR, now=at,
        )  # fmt: skip
    register.add_risk(
        session,
        {"title": "Card-testing fraud wave", "category": "fraud", "likelihood": 3, "impact": 4,
         "residual_likelihood": 2, "residual_impact": 3, "owner": OWNER,
         "controls": "Velocity rules; model score holds; step-up checks",
         "treatment": "mitigate", "review_every_days": 60},
        actor=ACTOR, now=at, staff_owner=False,
    )  # fmt: skip
    breach = register.add_risk(
        session,
        {"title": "Breach of customer contact data at a processor", "category": "privacy",
         "likelihood": 2, "impact": 5, "residual_likelihood": 2, "residual_impact": 4,
         "owner": OWNER, "controls": "Processor contracts; encryption at rest; breach playbook",
         "treatment": "transfer", "review_every_days": 90},
        actor=ACTOR, now=at, staff_owner=False,
    )  # fmt: skip
    overdue = session.get(Risk, breach.id)
    assert overdue is not None
    overdue.next_review_at = at - timedelta(days=3)  # shows an overdue review in the demo
    register.add_risk(
        session,
        {"title": "Negative press after a service outage", "category": "reputation",
         "likelihood": 2, "impact": 3, "owner": OWNER, "treatment": "accept"},
        actor=ACTOR, now=at, staff_owner=False,
    )  # fmt: skip
