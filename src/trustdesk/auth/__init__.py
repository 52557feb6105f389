"""Staff authentication: users, sessions, API tokens, TOTP, the login pages and the home page.

Who is acting and what roles allow live below the web shell, in `trustdesk.access`.
"""

__all__: list[str] = []
