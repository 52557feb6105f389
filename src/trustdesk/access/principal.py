"""Who is acting: a staff user (web or CLI) or an API token, with the role that bounds them."""

from __future__ import annotations

from dataclasses import dataclass

from trustdesk.access.roles import Role, role_can
from trustdesk.errors import PermissionDenied

__all__ = ["SYSTEM", "Principal"]


@dataclass(frozen=True)
class Principal:
    kind: str  # "user", "token" or "system"
    id: int
    name: str
    role: Role

    @property
    def actor(self) -> str:
        """How the audit trail names this principal."""
        return (
            f"{self.kind}:{self.name}" if self.kind != "token" else f"token:{self.id}:{self.name}"
        )

    def can(self, permission: str) -> bool:
        return role_can(self.role, permission)

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise PermissionDenied(f"role {self.role.value!r} lacks permission {permission!r}")


SYSTEM = Principal(kind="system", id=0, name="cli", role=Role.ADMIN)
