"""Staff account administration: list users, disable one (their sessions end with it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.access.roles import Role
from trustdesk.auth.models import StaffSession, User
from trustdesk.db import utcnow
from trustdesk.errors import Conflict, NotFound

__all__ = ["UserOut", "disable_user", "list_users"]


@dataclass(frozen=True)
class UserOut:
    id: int
    username: str
    role: Role
    totp: bool
    active: bool
    created_at: datetime


def list_users(session: Session) -> list[UserOut]:
    """Every staff user, active first, then by name."""
    rows = session.scalars(select(User).order_by(User.is_active.desc(), User.username))
    return [
        UserOut(
            u.id, u.username, Role(u.role), u.totp_secret is not None, u.is_active, u.created_at
        )
        for u in rows
    ]


def disable_user(session: Session, user_id: int, *, actor: str, actor_user_id: int | None) -> str:
    """Disable a user: they cannot log in and their open sessions end now. Returns the name.

    Refuses to disable the caller themselves, so an administrator cannot lock themselves out.
    """
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound(f"no user {user_id}")
    if actor_user_id is not None and user.id == actor_user_id:
        raise Conflict("you cannot disable your own account")
    if user.is_active:
        user.is_active = False
        session.execute(
            update(StaffSession)
            .where(StaffSession.user_id == user.id, StaffSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
        audit.record(
            session,
            actor=actor,
            action="user.disabled",
            entity_type="user",
            entity_id=user.id,
            changes={"username": user.username},
        )
    return user.username
