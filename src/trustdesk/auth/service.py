"""Staff accounts, passwords (argon2id), TOTP second factor, API tokens; logins are throttled
through `auth/throttle.py`."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session

from trustdesk import audit
from trustdesk.access.principal import Principal
from trustdesk.access.roles import Role
from trustdesk.auth import throttle, token_cache
from trustdesk.auth.models import ApiToken, StaffSession, User
from trustdesk.crypto import Vault
from trustdesk.db import Database, utcnow
from trustdesk.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
)

__all__ = [
    "CreatedToken",
    "CreatedUser",
    "authenticate_password",
    "create_token",
    "create_user",
    "end_session",
    "list_tokens",
    "open_session",
    "principal_for_token",
    "principal_for_user",
    "revoke_token",
    "session_principal",
    "show_totp_code",
    "verify_totp",
]

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
MIN_PASSWORD = 12
TOKEN_PREFIX = "td_"  # noqa: S105 - a marker, not a secret


@cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so both cases take as long (made on first
    use: hashing at import would cost every command, even `tokens list`, a tenth of a second)."""
    return _hasher.hash("not-a-real-password-timing-equaliser")


@dataclass(frozen=True)
class CreatedUser:
    id: int
    username: str
    role: Role
    totp_uri: str | None  # shown once so the user can enrol an authenticator app


@dataclass(frozen=True)
class CreatedToken:
    id: int
    name: str
    role: Role
    token: str  # the only time the plaintext exists


@dataclass(frozen=True)
class LoginStep:
    user_id: int
    needs_totp: bool


def _totp_context(user_id: int) -> str:
    return f"totp:user:{user_id}"


def create_user(
    session: Session,
    vault: Vault,
    *,
    username: str,
    password: str,
    role: Role | str,
    with_totp: bool | None = None,
    actor: str,
) -> CreatedUser:
    """Admins always get TOTP; other roles only when asked."""
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise InvalidInput("username must be 2-64 characters: lowercase letters, digits, _ . -")
    try:
        role = Role(role)
    except ValueError as exc:
        raise InvalidInput(
            f"unknown role {role!r}; roles: {', '.join(r.value for r in Role)}"
        ) from exc
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD} characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    totp = with_totp if with_totp is not None else role is Role.ADMIN
    if role is Role.ADMIN and not totp:
        raise InvalidInput("the admin role requires a TOTP second factor")
    user = User(username=username, role=role.value, password_hash=_hasher.hash(password))
    session.add(user)
    session.flush()
    uri = None
    if totp:
        seed = pyotp.random_base32()
        user.totp_secret = vault.seal(_totp_context(user.id), seed)
        uri = pyotp.TOTP(seed).provisioning_uri(name=username, issuer_name="TrustDesk")
    audit.record(
        session,
        actor=actor,
        action="user.created",
        entity_type="user",
        entity_id=user.id,
        changes={"username": username, "role": role.value, "totp": totp},
    )
    return CreatedUser(user.id, username, role, uri)


def authenticate_password(
    db: Database,
    *,
    username: str,
    password: str,
    max_failures: int,
    lockout: timedelta,
    client: str | None = None,
    client_max_failures: int | None = None,
    username_max_failures: int | None = None,
    now: datetime | None = None,
) -> LoginStep:
    """First login step. Failures are counted per username (existing or not) and client, per
    username and per client (`auth/throttle.py`).

    Owns its transaction (unlike other services): a failed attempt must be recorded even though
    the login itself fails and raises.
    """
    now = now or utcnow()
    username = username.strip().lower()[:64]
    limits = throttle.Limits.of(max_failures, lockout, client_max_failures, username_max_failures)
    counted = throttle.keys(limits, username=username, client=throttle.client_name(client))
    with db.transaction() as session:
        throttle.block_if_throttled(session, counted, now)
        user = session.scalar(
            select(User).where(User.username == username, User.is_active.is_(True))
        )
        try:
            _hasher.verify(user.password_hash if user else _dummy_hash(), password)
            ok = user is not None
        except (VerificationError, InvalidHashError):
            ok = False
        if ok and user is not None:
            # The password factor's own counts only: the client's stay (a guesser holding one
            # account must not wipe them by logging in), and the second factor's stay.
            throttle.clear(session, [k for k in counted if k.startswith("pw:")])
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            needs_totp = user.totp_secret is not None
            if not needs_totp:
                _audit_login(session, user, ok=True, factors="password")
            return LoginStep(user.id, needs_totp=needs_totp)
        locked = throttle.count_failure(session, counted, limits.lockout, now)
        # The attempted name of an unknown user is not recorded: it may be a mistyped password.
        _audit_login(session, user, ok=False, factors="password", locked=locked)
    raise AuthenticationFailed("wrong username or password")


def verify_totp(
    db: Database,
    vault: Vault,
    *,
    user_id: int,
    code: str,
    max_failures: int,
    lockout: timedelta,
    client: str | None = None,
    client_max_failures: int | None = None,
    now: datetime | None = None,
) -> Principal:
    """Second login step; a code is accepted once (no replay). Wrong codes are counted for this
    user's second factor on their own, and only a correct code clears that count."""
    now = now or utcnow()
    limits = throttle.Limits.of(max_failures, lockout, client_max_failures)
    counted = throttle.keys(limits, user_id=user_id, client=throttle.client_name(client))
    with db.transaction() as session:
        user = session.get(User, user_id, with_for_update=True)
        if user is None or not user.is_active or user.totp_secret is None:
            raise AuthenticationFailed("no second factor pending for this login")
        throttle.block_if_throttled(session, counted, now)
        totp = pyotp.TOTP(vault.unseal(_totp_context(user.id), user.totp_secret))
        code = code.strip().replace(" ", "")
        for offset in (0, -1, 1):
            step = int(now.timestamp()) // totp.interval + offset
            expected = totp.at(step * totp.interval)
            if secrets.compare_digest(expected, code) and step > user.totp_last_step:
                user.totp_last_step = step
                throttle.clear(session, [k for k in counted if k.startswith("totp:")])
                _audit_login(session, user, ok=True, factors="password+totp")
                return principal_for_user(user)
        locked = throttle.count_failure(session, counted, limits.lockout, now)
        _audit_login(session, user, ok=False, factors="totp", locked=locked)
    raise AuthenticationFailed("wrong or already used authentication code")


def _audit_login(
    session: Session, user: User | None, *, ok: bool, factors: str, locked: bool = False
) -> None:
    changes: dict[str, object] = {"factors": factors}
    if locked:
        changes["locked"] = True
    audit.record(
        session,
        actor=f"user:{user.username}" if user else "anonymous",
        action="user.login" if ok else "user.login_failed",
        entity_type="user",
        entity_id=user.id if user else "unknown",
        changes=changes,
    )


def totp_code(session: Session, vault: Vault, user_id: int, now: datetime | None = None) -> str:
    """The current code for a user's seed: for the demo and tests, which play the user's phone."""
    user = session.get(User, user_id)
    if user is None or user.totp_secret is None:
        raise NotFound("user has no TOTP seed")
    seed = vault.unseal(_totp_context(user.id), user.totp_secret)
    return pyotp.TOTP(seed).at(now or utcnow())


def show_totp_code(
    session: Session,
    vault: Vault,
    username: str,
    *,
    environment: str,
    actor: str,
    now: datetime | None = None,
) -> tuple[str, int]:
    """(the code a user's authenticator shows now, seconds it stays current), for the demo and
    local testing, where nobody has enrolled a phone: refused in production, audited."""
    if environment == "production":
        raise PermissionDenied(
            "showing a second-factor code is for the demo and local testing; it is refused "
            "when TRUSTDESK_ENVIRONMENT=production"
        )
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(f"no user {username!r}")
    if user.totp_secret is None:
        raise InvalidInput(f"user {user.username!r} has no second factor")
    now = now or utcnow()
    totp = pyotp.TOTP(vault.unseal(_totp_context(user.id), user.totp_secret))
    audit.record(
        session,
        actor=actor,
        action="user.totp_code_shown",
        entity_type="user",
        entity_id=user.id,
        changes={"username": user.username},
    )
    left = totp.interval - int(now.timestamp()) % totp.interval
    return totp.at(now), left


def principal_for_user(user: User) -> Principal:
    return Principal(kind="user", id=user.id, name=user.username, role=Role(user.role))


def user_principal(session: Session, user_id: int) -> Principal:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise AuthenticationFailed("session user no longer exists")
    return principal_for_user(user)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session,
    *,
    name: str,
    role: Role | str,
    actor: str,
    created_by: int | None = None,
    expires_at: datetime | None = None,
) -> CreatedToken:
    try:
        role = Role(role)
    except ValueError as exc:
        raise InvalidInput(f"unknown role {role!r}") from exc
    if not name.strip():
        raise InvalidInput("a token needs a name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name.strip()[:120],
        prefix=token[:10],
        token_hash=_hash_token(token),
        role=role.value,
        created_by=created_by,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.created",
        entity_type="api_token",
        entity_id=row.id,
        changes={"name": row.name, "role": role.value},
    )
    return CreatedToken(row.id, row.name, role, token)


# Built once: every API call runs it, and building the statement cost more than running it.
_TOKEN_BY_HASH = select(
    ApiToken.id, ApiToken.name, ApiToken.role, ApiToken.revoked_at, ApiToken.expires_at
).where(ApiToken.token_hash == bindparam("token_hash"))


def principal_for_token(session: Session, token: str, now: datetime | None = None) -> Principal:
    """Who the token speaks for. Tokens found valid are remembered for `token_cache.TTL_S`."""
    now = now or utcnow()
    digest = _hash_token(token)
    bind = session.get_bind()
    database = str(bind.url if isinstance(bind, Engine) else bind.engine.url)
    cached = token_cache.get(database, digest)
    if cached is None:
        row = session.connection().execute(_TOKEN_BY_HASH, {"token_hash": digest}).first()
        if row is None or row.revoked_at is not None:
            raise AuthenticationFailed("invalid or revoked API token")
        cached = (
            Principal(kind="token", id=row.id, name=row.name, role=Role(row.role)),
            row.expires_at,
        )
        token_cache.put(database, digest, *cached)
    principal, expires_at = cached
    if expires_at is not None and expires_at <= now:
        raise AuthenticationFailed("API token expired")
    return principal


def revoke_token(session: Session, token_id: int, *, actor: str) -> None:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no API token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(
            session, actor=actor, action="token.revoked", entity_type="api_token", entity_id=row.id
        )
    token_cache.forget(row.token_hash)


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def open_session(session: Session, user_id: int, *, max_age: timedelta) -> str:
    """A new web session for a completed login; returns the token for the signed cookie."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        StaffSession(
            token_hash=_hash_token(token), user_id=user_id, created_at=now, expires_at=now + max_age
        )
    )
    session.flush()
    return token


def session_principal(session: Session, token: str, now: datetime | None = None) -> Principal:
    """Who a web session belongs to, if it is still open and its user still active."""
    now = now or utcnow()
    row = session.get(StaffSession, _hash_token(token))
    if row is None or row.ended_at is not None or row.expires_at <= now:
        raise AuthenticationFailed("the session has ended; log in again")
    return user_principal(session, row.user_id)


def end_session(session: Session, token: str) -> None:
    """Log out: the session cannot be used again, even with a copy of the cookie."""
    row = session.get(StaffSession, _hash_token(token))
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
