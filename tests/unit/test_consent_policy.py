"""The consent policy: regimes per jurisdiction, legal bases, and what a record overrides."""

from __future__ import annotations

import pytest

from trustdesk.errors import ConfigurationError, InvalidInput
from trustdesk.privacy.consent.policy import Reason, Regime, load_policy, parse_policy

POLICY = load_policy()


def decide(jurisdiction, purpose="marketing", channel="email", state=None):
    return POLICY.decide(POLICY.pair(purpose, channel), channel, jurisdiction, state)


@pytest.mark.parametrize("jurisdiction", ["GB", "DE", "FR", "DE-BY", "CA", None, "ZZ"])
def test_without_a_record_opt_in_places_deny_marketing(jurisdiction):
    decision = decide(jurisdiction)
    assert not decision.allowed
    assert decision.reason is Reason.DEFAULT_REGIME
    assert decision.regime is Regime.OPT_IN


def test_us_marketing_email_is_opt_out_but_text_messages_need_consent():
    assert decide("US").allowed
    assert decide("US").regime is Regime.OPT_OUT
    assert decide("US-NY").allowed  # region falls back to the country
    assert not decide("US", channel="sms").allowed
    assert not decide("US", purpose="partner_sharing").allowed


def test_the_most_specific_jurisdiction_wins():
    # US says opt-out for personalisation; California's own rules do not, so opt-in applies there.
    assert decide("US", purpose="personalisation", channel="push").allowed
    assert not decide("US-CA", purpose="personalisation", channel="push").allowed


@pytest.mark.parametrize("jurisdiction", ["US", "GB"])
def test_a_record_beats_the_default_regime(jurisdiction):
    withdrawn = decide(jurisdiction, state="withdrawn")
    granted = decide(jurisdiction, state="granted")
    assert (withdrawn.allowed, withdrawn.reason) == (False, Reason.RECORD)
    assert (granted.allowed, granted.reason) == (True, Reason.RECORD)


@pytest.mark.parametrize("purpose", ["breach_notice", "service"])
def test_purposes_not_resting_on_consent_are_always_allowed(purpose):
    for state in (None, "withdrawn"):
        decision = decide("DE", purpose=purpose, state=state)
        assert decision.allowed
        assert decision.reason is Reason.LEGAL_OBLIGATION
    assert decide("DE", purpose="breach_notice").legal_basis == "legal_obligation"


def test_unknown_purposes_channels_and_unused_pairs_are_refused():
    with pytest.raises(InvalidInput, match="unknown purpose 'spam'"):
        POLICY.pair("spam", "email")
    with pytest.raises(InvalidInput, match="unknown channel 'fax'"):
        POLICY.pair("marketing", "fax")
    with pytest.raises(InvalidInput, match="does not use channel 'sms'"):
        POLICY.pair("analytics", "sms")


def test_optional_pairs_leave_out_purposes_not_based_on_consent():
    pairs = POLICY.optional_pairs()
    assert ("marketing", "email") in pairs
    assert not any(p in {"breach_notice", "service"} for p, _ in pairs)


def test_a_policy_naming_an_unknown_legal_basis_or_regime_is_a_configuration_error():
    raw = {
        "version": "1",
        "legal_bases": {"consent": {"label": "Consent"}},
        "channels": {"email": {"label": "Email"}},
        "purposes": {"marketing": {"label": "M", "legal_basis": "whim"}},
    }
    with pytest.raises(ConfigurationError, match="unknown legal basis"):
        parse_policy(raw)
    raw["purposes"]["marketing"]["legal_basis"] = "consent"
    raw["regimes"] = {"default": "maybe"}
    with pytest.raises(ConfigurationError, match="opt_in or opt_out"):
        parse_policy(raw)
