"""Reading and verifying the audit trail: its API routes and `trustdesk audit` commands.

The trail itself (`trustdesk.audit`) is core, written by every capability and by staff
authentication; these routes sit above authentication, hence a package of their own.
"""

__all__: list[str] = []
