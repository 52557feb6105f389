"""Due dates of data-subject requests: one month (+2) under GDPR/UK GDPR, 45 days (+45) under CCPA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustdesk.errors import Conflict
from trustdesk.privacy.deadlines import (
    RULES,
    Regime,
    add_months,
    due_at,
    extended_due_at,
    regime_for,
)

moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(received=moments, regime=st.sampled_from(list(Regime)))
def test_due_date_is_after_receipt_and_within_the_statutory_period(received, regime):
    due = due_at(received, regime)
    assert due >= received
    if regime is Regime.CCPA:
        assert due - received == timedelta(days=45)
    else:
        assert timedelta(days=28) <= due - received <= timedelta(days=31)
        assert due.day == received.day or due.day < received.day  # clamped to a shorter month


@given(received=moments, regime=st.sampled_from(list(Regime)))
def test_extension_adds_exactly_the_regimes_extension_once(received, regime):
    due = due_at(received, regime)
    extended = extended_due_at(due, regime)
    rule = RULES[regime]
    assert extended == add_months(due, rule.extension_months) + timedelta(days=rule.extension_days)
    assert extended > due
    if regime is Regime.CCPA:
        assert extended - due == timedelta(days=45)
    else:
        assert timedelta(days=59) <= extended - due <= timedelta(days=62)


@given(received=moments, regime=st.sampled_from(list(Regime)))
def test_a_second_extension_is_refused(received, regime):
    once = extended_due_at(due_at(received, regime), regime)
    with pytest.raises(Conflict, match="already extended"):
        extended_due_at(once, regime, already_extended=True)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (datetime(2026, 1, 31, 9, tzinfo=UTC), datetime(2026, 2, 28, 9, tzinfo=UTC)),
        (datetime(2024, 1, 31, 9, tzinfo=UTC), datetime(2024, 2, 29, 9, tzinfo=UTC)),
        (datetime(2026, 12, 15, tzinfo=UTC), datetime(2027, 1, 15, tzinfo=UTC)),
    ],
)
def test_one_calendar_month_ends_on_the_same_day_or_the_months_last(received, due):
    assert due_at(received, Regime.GDPR) == due


@pytest.mark.parametrize(
    ("jurisdiction", "regime"),
    [("US-CA", Regime.CCPA), ("GB", Regime.UK_GDPR), ("GB-SCT", Regime.UK_GDPR),
     ("DE", Regime.GDPR), (None, Regime.GDPR), ("US-NY", Regime.GDPR)],
)  # fmt: skip
def test_regime_follows_the_jurisdiction_and_defaults_to_the_shortest_clock(jurisdiction, regime):
    assert regime_for(jurisdiction) is regime
