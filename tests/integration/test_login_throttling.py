"""Login throttling: second-factor failures counted on their own, per-client back-off instead of a
username lock anyone could trigger, and throttle rows that expire."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from test_pages import current_code, make_user, submit_code, submit_login

from trustdesk.access.roles import Role
from trustdesk.auth import service
from trustdesk.auth.models import LoginThrottle
from trustdesk.db import utcnow
from trustdesk.errors import AuthenticationFailed, TooManyAttempts

PASSWORD = "correct-horse-battery"  # test_pages' users have this password
LIMITS = {"max_failures": 3, "lockout": timedelta(minutes=4)}


def _login(platform, username, password=PASSWORD, *, client=None, now=None, **limits):
    return service.authenticate_password(
        platform.db,
        username=username,
        password=password,
        client=client,
        now=now,
        **{**LIMITS, **limits},
    )


def _code(platform, user_id, code, *, now=None, client=None):
    return service.verify_totp(
        platform.db, platform.vault, user_id=user_id, code=code, client=client, now=now, **LIMITS
    )


def _throttle_rows(platform):
    with platform.db.reading() as session:
        return session.scalar(select(func.count()).select_from(LoginThrottle))


# --- second factor ----------------------------------------------------------------------------


def test_a_correct_password_does_not_reset_the_count_of_wrong_codes(platform):
    user_id = make_user(platform, "root", Role.ADMIN, totp=True)
    now = utcnow()
    outcomes = []
    for _ in range(10):
        assert _login(platform, "root", now=now).needs_totp
        try:
            _code(platform, user_id, "000000", now=now)
            outcomes.append("accepted")
        except TooManyAttempts:
            outcomes.append("throttled")
            break
        except AuthenticationFailed:
            outcomes.append("wrong")
    assert outcomes == ["wrong", "wrong", "wrong", "throttled"]
    fresh = current_code(platform, user_id)
    with pytest.raises(TooManyAttempts):  # even the right code waits now
        _code(platform, user_id, fresh, now=now)


def test_wrong_codes_after_correct_passwords_get_429_on_the_login_page(client, platform):
    user_id = make_user(platform, "root", Role.ADMIN, totp=True)
    limit = platform.settings.login_max_failures
    statuses = []
    for _ in range(limit + 3):
        assert submit_login(client, "root").headers["location"] == "/login/totp"
        statuses.append(submit_code(client, "000000").status_code)
    assert statuses[:limit] == [401] * limit
    assert set(statuses[limit:]) == {429}
    assert submit_login(client, "root").status_code == 303  # the password still works ...
    blocked = submit_code(client, current_code(platform, user_id))
    assert blocked.status_code == 429  # ... but the second factor waits
    assert "Too many failed attempts" in blocked.text


# --- no malicious lockout -----------------------------------------------------------------------


def test_one_client_failing_cannot_lock_the_user_out_from_elsewhere(platform):
    make_user(platform, "root", Role.AGENT)
    now = utcnow()
    attacker = "203.0.113.9"
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            _login(platform, "root", "wrong password!!", client=attacker, now=now)
    with pytest.raises(TooManyAttempts):
        _login(platform, "root", client=attacker, now=now)
    step = _login(platform, "root", client="198.51.100.20", now=now)  # the real user, elsewhere
    assert not step.needs_totp


def test_the_login_page_throttles_the_guessing_client_not_the_user(app, platform):
    make_user(platform, "vera", Role.VIEWER)
    limit = platform.settings.login_max_failures
    with TestClient(app, client=("203.0.113.9", 40000)) as attacker:
        for _ in range(limit):
            assert submit_login(attacker, "vera", password="wrong-password-1").status_code == 401
        assert submit_login(attacker, "vera").status_code == 429
    with TestClient(app, client=("198.51.100.20", 40000)) as owner:
        assert submit_login(owner, "vera").status_code == 303


def test_one_client_trying_many_usernames_is_throttled(platform):
    now = utcnow()
    client = "2001:db8:1:2:3:4:5:6"
    for i in range(8):
        with pytest.raises(AuthenticationFailed):
            _login(platform, f"user{i}", "x", client=client, now=now, client_max_failures=8)
    # Another address in the same IPv6 /64 is the same client.
    with pytest.raises(TooManyAttempts):
        _login(platform, "user-new", "x", client="2001:db8:1:2::99", now=now)
    with pytest.raises(AuthenticationFailed):  # another client is not affected
        _login(platform, "user-new", "x", client="192.0.2.1", now=now)


def test_guesses_at_one_username_from_many_clients_are_throttled_together(platform):
    make_user(platform, "root", Role.AGENT)
    now = utcnow()
    for i in range(6):
        with pytest.raises(AuthenticationFailed):
            _login(
                platform, "root", "nope", client=f"192.0.2.{i}", now=now, username_max_failures=6
            )
    with pytest.raises(TooManyAttempts):
        _login(platform, "root", "nope", client="192.0.2.200", now=now, username_max_failures=6)


# --- back-off and expiry ---------------------------------------------------------------------


def test_waits_grow_from_a_quarter_of_the_lockout_to_the_lockout(platform):
    now = utcnow()
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            _login(platform, "ghost", "x", client="192.0.2.7", now=now)
    waits = []
    for _ in range(4):
        wait = timedelta(0)
        while True:  # find when the block ends, in 10 s steps
            try:
                _login(platform, "ghost", "x", client="192.0.2.7", now=now + wait)
            except TooManyAttempts:
                wait += timedelta(seconds=10)
                continue
            except AuthenticationFailed:
                break
        waits.append(wait)
        now += wait
    assert waits == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=4),
    ]


def test_throttle_rows_expire_instead_of_piling_up(platform):
    now = utcnow()
    for i in range(30):  # 30 usernames from 30 clients: 3 rows each
        with pytest.raises(AuthenticationFailed):
            _login(platform, f"nobody{i}", "x", client=f"192.0.2.{i}", now=now)
    assert _throttle_rows(platform) == 90
    later = now + timedelta(minutes=5)  # past the lockout with no further failure
    with pytest.raises(AuthenticationFailed):
        _login(platform, "someone", "x", client="192.0.2.250", now=later)
    assert _throttle_rows(platform) == 3  # only the new attempt's rows remain


def test_a_successful_password_leaves_the_client_count_alone(platform):
    make_user(platform, "mallory", Role.VIEWER)
    now = utcnow()
    client = "192.0.2.66"
    for i in range(4):
        with pytest.raises(AuthenticationFailed):
            _login(platform, f"victim{i}", "x", client=client, now=now, client_max_failures=5)
        _login(platform, "mallory", client=client, now=now)  # her own account: no reset
    with pytest.raises(AuthenticationFailed):
        _login(platform, "victim9", "x", client=client, now=now, client_max_failures=5)
    with pytest.raises(TooManyAttempts):
        _login(platform, "victim10", "x", client=client, now=now, client_max_failures=5)
