"""Staff authentication and roles."""

from trustdesk.auth.principal import SYSTEM, Principal
from trustdesk.auth.roles import PERMISSIONS, ROLE_PERMISSIONS, Role

__all__ = ["PERMISSIONS", "ROLE_PERMISSIONS", "SYSTEM", "Principal", "Role"]
