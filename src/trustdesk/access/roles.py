"""Roles and the permission table: who may do what.

Each capability declares its permissions, and the roles holding them, in its manifest entry
(`trustdesk.capabilities`); the admin role holds them all.
"""

from __future__ import annotations

from enum import StrEnum

from trustdesk.capabilities import installed

__all__ = ["PERMISSIONS", "ROLE_PERMISSIONS", "Role", "role_can"]


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    AGENT = "agent"
    INCIDENT_MANAGER = "incident_manager"  # works incidents; notices are approved by privacy
    MONITOR = "monitor"  # for Prometheus: reads /metrics, nothing else
    PRIVACY_OFFICER = "privacy_officer"
    VIEWER = "viewer"


def _tables() -> tuple[dict[str, str], dict[Role, frozenset[str]]]:
    """The permissions every installed capability declares, and the roles holding each."""
    permissions: dict[str, str] = {}
    holders: dict[Role, set[str]] = {role: set() for role in Role}
    for capability in installed():
        for permission in capability.permissions:
            if permission.name in permissions:
                raise ValueError(f"permission {permission.name!r} is declared twice")
            permissions[permission.name] = permission.description
            for role in permission.roles:
                holders[Role(role)].add(permission.name)
    holders[Role.ADMIN] = set(permissions)
    return permissions, {role: frozenset(names) for role, names in holders.items()}


PERMISSIONS, ROLE_PERMISSIONS = _tables()
"""{permission: description} and {role: permissions}, built from the manifest at import."""


def role_can(role: Role | str, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return permission in ROLE_PERMISSIONS[Role(role)]
