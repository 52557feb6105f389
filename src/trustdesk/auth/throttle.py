"""Login throttling: failures counted under several keys, delays that grow, rows that expire.

One hard lock per username let anyone lock an admin out by typing wrong passwords for them. Now
each attempt is counted under keys that each answer one attack (ASVS 5.0 6.3: throttling per
factor, and no malicious account lockout):

* `pw:<username>@<client>`: one client guessing one user's password. It meets the back-off first,
  and blocking it leaves the same user free to log in from anywhere else.
* `pw:<username>`: guesses at one user from every client together (a spread-out attack); its
  threshold is much higher, so a single client cannot reach it before its own keys stop it.
* `client:<address>`: one client, whatever usernames it tries (IPv6 counted per /64).
* `totp:<user id>`: wrong second-factor codes. Only a correct code clears it; a correct password
  never does, so a password holder cannot reset the count between guesses.

Past a key's threshold every further failure blocks it for a delay that doubles, from a quarter of
`lockout` up to `lockout`: no captcha, no permanent lock. A row lives until `lockout` after its
last block ends; expired rows are purged as new failures arrive, so attempted usernames cannot pile
up rows without limit.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from trustdesk.auth.models import LoginThrottle
from trustdesk.errors import TooManyAttempts

__all__ = ["Limits", "block_if_throttled", "clear", "client_name", "count_failure", "keys"]

_PURGE_BATCH = 500


@dataclass(frozen=True)
class Limits:
    max_failures: int  # per username and client, and per user's second factor
    lockout: timedelta  # the longest delay
    client_max_failures: int  # per client, whatever the usernames
    username_max_failures: int  # per username, whatever the clients

    @classmethod
    def of(
        cls,
        max_failures: int,
        lockout: timedelta,
        client_max_failures: int | None = None,
        username_max_failures: int | None = None,
    ) -> Limits:
        return cls(
            max_failures,
            lockout,
            client_max_failures or 4 * max_failures,
            username_max_failures or 10 * max_failures,
        )


def client_name(address: str | None) -> str:
    """The client a failure is counted against: its IP address (an IPv6 /64 as one client)."""
    if not address:
        return "-"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def keys(
    limits: Limits, *, username: str | None = None, user_id: int | None = None, client: str
) -> dict[str, int]:
    """The keys one attempt counts under, each with its threshold."""
    out = {f"client:{client}": limits.client_max_failures}
    if username is not None:
        out[f"pw:{username}@{client}"] = limits.max_failures
        out[f"pw:{username}"] = limits.username_max_failures
    if user_id is not None:
        out[f"totp:{user_id}"] = limits.max_failures
    return out


def block_if_throttled(session: Session, names: Iterable[str], now: datetime) -> None:
    """Raises TooManyAttempts while any of these keys is blocked."""
    blocked = session.scalar(
        select(LoginThrottle.key).where(
            LoginThrottle.key.in_(list(names)),
            LoginThrottle.blocked_until > now,
            LoginThrottle.expires_at > now,
        )
    )
    if blocked is not None:
        raise TooManyAttempts("too many failed logins; try again later")


def count_failure(
    session: Session, thresholds: dict[str, int], lockout: timedelta, now: datetime
) -> bool:
    """Counts one failure under every key; True when that blocks any of them."""
    _purge(session, now)
    blocked = False
    for key in sorted(thresholds):  # one order for every writer: no lock cycles
        row = _locked_row(session, key, now)
        if row.expires_at <= now:  # a quiet spell since the last failure: start afresh
            row.failures, row.blocked_until = 0, None
        row.failures += 1
        delay = _delay(row.failures, thresholds[key], lockout)
        if delay is not None:
            row.blocked_until = now + delay
            blocked = True
        row.expires_at = max(now, row.blocked_until or now) + lockout
    session.flush()
    return blocked


def clear(session: Session, names: Iterable[str]) -> None:
    """Forgets the failures under these keys (after the factor they count succeeded)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(list(names))))


def _delay(failures: int, threshold: int, lockout: timedelta) -> timedelta | None:
    if failures < threshold:
        return None
    wait: timedelta = lockout / 4 * 2 ** min(failures - threshold, 2)
    return min(lockout, wait)


def _locked_row(session: Session, key: str, now: datetime) -> LoginThrottle:
    values = {"key": key, "failures": 0, "blocked_until": None, "expires_at": now}
    if session.get_bind().dialect.name == "postgresql":
        session.execute(postgresql.insert(LoginThrottle).values(values).on_conflict_do_nothing())
    else:
        session.execute(sqlite.insert(LoginThrottle).values(values).on_conflict_do_nothing())
    row = session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
    assert row is not None
    return row


def _purge(session: Session, now: datetime) -> None:
    """Deletes some expired rows; rows another login holds are left for a later purge."""
    expired = (
        select(LoginThrottle.key)
        .where(LoginThrottle.expires_at <= now)
        .limit(_PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    session.execute(
        delete(LoginThrottle)
        .where(LoginThrottle.key.in_(expired.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
