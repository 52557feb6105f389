"""Roles and the permission table: the one place that says who may do what."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["PERMISSIONS", "ROLE_PERMISSIONS", "Role", "role_can"]


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    AGENT = "agent"
    MONITOR = "monitor"  # for Prometheus: reads /metrics, nothing else
    PRIVACY_OFFICER = "privacy_officer"
    VIEWER = "viewer"


PERMISSIONS: dict[str, str] = {
    "customers:read": "List and view customers (personal data masked)",
    "customers:read_personal": "See customers' decrypted personal data",
    "customers:write": "Create, import and edit customers",
    "customers:erase": "Destroy a customer's data key (crypto-shred their personal data)",
    "feedback:read": "List and view feedback with its text and analysis",
    "feedback:write": "Send and import feedback",
    "trust:read": "See the trust index, its drivers, explanations and alerts",
    "alerts:manage": "Acknowledge trust alerts and recompute the trust index",
    "consent:read": "Check customers' consent, see their preferences and export consent proof",
    "consent:write": "Record consent changes and issue preference-centre links",
    "privacy:requests": "Handle data-subject requests: queue, identity check, export, erasure",
    "privacy:datamap": "Edit the data map the privacy notice is generated from",
    "fraud:read": "See scored payments, their decisions, the review queue and fraud monitoring",
    "fraud:score": "Send payments to be scored and stored",
    "fraud:review": "Decide review cases and record fraud labels",
    "fraud:admin": "Load fraud rules and train or activate fraud models",
    "audit:read": "Read and verify the audit trail",
    "users:manage": "Create and disable staff users",
    "tokens:manage": "Create and revoke API tokens",
    "config:read": "See the effective configuration (secrets masked)",
    "metrics:read": "Scrape the Prometheus metrics at /metrics",
}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.ADMIN: frozenset(PERMISSIONS),
    Role.PRIVACY_OFFICER: frozenset(
        {
            "customers:read",
            "customers:read_personal",
            "customers:erase",
            "consent:read",
            "consent:write",
            "privacy:requests",
            "privacy:datamap",
            "audit:read",
            "feedback:read",
            "trust:read",
        }
    ),
    Role.AGENT: frozenset(
        {
            "customers:read",
            "customers:read_personal",
            "customers:write",
            "consent:read",
            "consent:write",
            "feedback:read",
            "feedback:write",
            "trust:read",
            "fraud:score",
        }
    ),
    Role.ANALYST: frozenset(
        {
            "customers:read",
            "consent:read",
            "audit:read",
            "feedback:read",
            "feedback:write",
            "trust:read",
            "alerts:manage",
            "fraud:read",
            "fraud:review",
        }
    ),
    Role.VIEWER: frozenset({"customers:read", "feedback:read", "trust:read", "fraud:read"}),
    Role.MONITOR: frozenset({"metrics:read"}),
}


def role_can(role: Role | str, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return permission in ROLE_PERMISSIONS[Role(role)]
