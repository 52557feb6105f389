"""Reply templates and macros (in the case configuration, versioned and audited with it).

A template's `{placeholders}` are filled from the case and its customer here, in the service:
the customer's name is decrypted only to render the text, which is then encrypted again as the
reply and sent through the outbox like any other. A template with a `status` is a macro: the
reply is sent, then the case moves (asking for details -> waiting on the customer).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy.orm import Session

from trustdesk.cases import service
from trustdesk.cases.config import PLACEHOLDER, Template, current_config
from trustdesk.cases.errors import CaseNotFound
from trustdesk.cases.intake import SUBJECT_FIELD
from trustdesk.cases.models import Case, CaseContact
from trustdesk.crypto import KeyDestroyed, Vault
from trustdesk.customers import public as customers

__all__ = ["TemplateOut", "apply_macro", "list_templates", "render_template"]


class TemplateOut(BaseModel):
    name: str
    title: str
    status: str | None
    placeholders: list[str]


def list_templates(session: Session) -> list[TemplateOut]:
    return [
        TemplateOut(
            name=name,
            title=t.title,
            status=t.status,
            placeholders=sorted(set(PLACEHOLDER.findall(t.text))),
        )
        for name, t in sorted(current_config(session).templates.items())
    ]


def _template(session: Session, name: str) -> Template:
    found = current_config(session).templates.get(name)
    if found is None:
        raise CaseNotFound(f"no reply template {name!r}")
    return found


def _sender_name(session: Session, vault: Vault, case: Case) -> str | None:
    if case.customer_id is not None:
        contact = customers.contacts(session, vault, [case.customer_id]).get(case.customer_id)
        return contact.name if contact is not None else None
    if case.contact_id is not None:
        row = session.get(CaseContact, case.contact_id)
        if row is not None and row.name_enc is not None:
            key = vault.data_keys([row.subject_id]).get(row.subject_id)
            try:
                return vault.decrypt(key, row.subject_id, "contact.name", row.name_enc)
            except KeyDestroyed:
                return None
    return None


def _local(moment: datetime | None, zone: str) -> str:
    if moment is None:
        return "soon"
    return moment.astimezone(ZoneInfo(zone)).strftime("%A %d %B %Y, %H:%M")


def render_template(
    session: Session, vault: Vault, case_id: int, name: str, *, agent: str = "our team"
) -> str:
    """The template's text with this case's values (the customer's name decrypted here)."""
    template = _template(session, name)
    case = session.get(Case, case_id)
    if case is None:
        raise CaseNotFound(f"no case {case_id}")
    key = vault.data_keys([case.key_subject]).get(case.key_subject)
    try:
        subject = vault.decrypt(key, case.key_subject, SUBJECT_FIELD, case.subject_enc) or ""
    except KeyDestroyed:
        subject = ""
    full_name = (_sender_name(session, vault, case) or "").strip()
    zone = current_config(session).calendar_for(case.queue).timezone
    values = {
        "case_id": str(case.id),
        "customer_name": full_name or "customer",
        "first_name": full_name.split()[0] if full_name else "customer",
        "subject": subject,
        "category": case.category.replace("_", " "),
        "queue": case.queue,
        "agent": case.assignee or agent,
        "first_response_due": _local(case.first_response_due, zone),
        "resolution_due": _local(case.resolution_due, zone),
    }
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template.text)


def apply_macro(session: Session, vault: Vault, case_id: int, name: str, *, actor: str) -> Case:
    """Send the template as a reply (outbox), then move the case to the template's status."""
    template = _template(session, name)
    text = render_template(session, vault, case_id, name)
    case = service.reply(session, vault, case_id, text, actor=actor)
    service.record_event(session, case_id, "macro", {"template": name}, actor=actor)
    if template.status is not None and template.status in service.TRANSITIONS[case.status]:
        service.change_status(session, case_id, template.status, actor=actor)
    return case
