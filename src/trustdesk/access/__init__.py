"""Who is acting and what their role allows: below the web shell and every capability."""

from trustdesk.access.principal import SYSTEM, Principal
from trustdesk.access.roles import PERMISSIONS, ROLE_PERMISSIONS, Role

__all__ = ["PERMISSIONS", "ROLE_PERMISSIONS", "SYSTEM", "Principal", "Role"]
