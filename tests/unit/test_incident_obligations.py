"""The obligations engine on plain data: the laws it encodes, and invariants for any input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from trustdesk.incidents.categories import CATEGORIES, mask_of
from trustdesk.incidents.obligations.engine import Facts, Group, evaluate
from trustdesk.incidents.obligations.rules import AUDIENCES, shipped_rules

AWARE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
RULES = shipped_rules()
EU = ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT"]
EU += ["LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO"]
STATES = [
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "DC",
    "FL",
    "GA",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
]


def by_key(obligations):
    return {(o.jurisdiction, o.audience): o for o in obligations}


def ssn(n: int, place: str) -> Group:
    return Group(place, mask_of(["name", "government_id"]), n)


def test_every_eu_eea_state_resolves_to_the_gdpr_72_hour_authority_clock():
    found = by_key(evaluate(RULES, Facts(aware_at=AWARE), [ssn(3, c) for c in EU]))
    for code in EU:
        regulator = found[(code, "regulator")]
        assert regulator.required and regulator.due_at == AWARE + timedelta(hours=72)
        assert "GDPR" in regulator.basis and "Art. 33" in regulator.basis
        assert found[(code, "individuals")].required  # an SSN-like id: high risk
        assert found[(code, "individuals")].due_at is None  # without undue delay


def test_all_fifty_states_and_dc_have_a_rule_with_citation_and_review_date():
    assert len(STATES) == 51
    for state in STATES:
        rules = RULES.for_jurisdiction(f"US-{state}", frozenset())
        assert len(rules) == 1, state
        assert rules[0].citation and rules[0].last_reviewed.year >= 2024


def test_florida_thirty_days_and_attorney_general_only_from_500_residents():
    determined = AWARE + timedelta(days=2)
    facts = Facts(aware_at=AWARE, determined_at=determined)
    small = by_key(evaluate(RULES, facts, [ssn(499, "US-FL")]))
    assert small[("US-FL", "individuals")].due_at == determined + timedelta(days=30)
    assert not small[("US-FL", "regulator")].required
    assert not small[("US-FL", "consumer_reporting_agencies")].required
    big = by_key(evaluate(RULES, facts, [ssn(1001, "US-FL")]))
    assert big[("US-FL", "regulator")].required
    assert big[("US-FL", "consumer_reporting_agencies")].required


def test_california_has_no_fixed_period_and_email_alone_is_not_notifiable():
    found = by_key(evaluate(RULES, Facts(aware_at=AWARE), [ssn(10, "US-CA")]))
    assert found[("US-CA", "individuals")].required
    assert found[("US-CA", "individuals")].due_at is None
    contact = by_key(
        evaluate(RULES, Facts(aware_at=AWARE), [Group("US-CA", mask_of(["name", "email"]), 10)])
    )
    assert not contact[("US-CA", "individuals")].required


def test_encrypted_data_whose_key_was_safe_needs_no_notice_to_people():
    facts = Facts(aware_at=AWARE, data_encrypted=True, key_compromised=False)
    found = by_key(evaluate(RULES, facts, [ssn(10, "US-TX"), ssn(10, "FR")]))
    assert not found[("US-TX", "individuals")].required
    assert "encrypted" in found[("US-TX", "individuals")].basis
    assert not found[("FR", "individuals")].required
    assert found[("FR", "regulator")].required  # Art. 33 has no such exemption


def test_hipaa_only_behind_its_flag_and_media_from_500_in_a_state():
    health = Group("US-OH", mask_of(["name", "health"]), 600)
    without = by_key(evaluate(RULES, Facts(aware_at=AWARE), [health]))
    assert ("US-OH", "media") not in without
    flagged = by_key(evaluate(RULES, Facts(aware_at=AWARE, sectors=frozenset({"hipaa"})), [health]))
    assert flagged[("US-OH", "media")].required
    assert flagged[("US-OH", "individuals")].due_at == AWARE + timedelta(days=60)


def test_brazil_three_business_days_skip_the_weekend():
    friday = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)
    found = by_key(evaluate(RULES, Facts(aware_at=friday), [ssn(1, "BR")]))
    assert found[("BR", "regulator")].due_at == datetime(2026, 3, 11, 9, 0, tzinfo=UTC)


def test_an_unknown_jurisdiction_is_said_not_silently_dropped():
    found = evaluate(RULES, Facts(aware_at=AWARE), [ssn(4, "ZZ")])
    assert (
        len(found) == 1
        and not found[0].required
        and "no breach-notification rule" in found[0].basis
    )


PLACES = st.sampled_from(
    ["DE", "GB", "US-FL", "US-TX", "US-CA", "US-NY", "CA-ON", "AU", "BR", "SG"]
)
MASKS = st.integers(min_value=1, max_value=(1 << len(CATEGORIES)) - 1)
GROUPS = st.lists(st.builds(Group, PLACES, MASKS, st.integers(1, 3000)), max_size=8)
FACTS = st.builds(
    Facts,
    aware_at=st.just(AWARE),
    determined_at=st.one_of(st.none(), st.integers(0, 40).map(lambda d: AWARE + timedelta(days=d))),
    risk=st.sampled_from([None, "unlikely", "risk", "high"]),
    sectors=st.sampled_from([frozenset(), frozenset({"hipaa"})]),
    data_encrypted=st.booleans(),
    key_compromised=st.booleans(),
)


@given(FACTS, GROUPS)
def test_due_at_is_never_before_its_clock_starts_and_one_row_per_place_and_audience(facts, groups):
    found = evaluate(RULES, facts, groups)
    keys = [(o.jurisdiction, o.audience) for o in found]
    assert len(keys) == len(set(keys))
    for o in found:
        assert o.audience in AUDIENCES
        if o.due_at is not None:
            assert o.required and o.clock_starts is not None and o.due_at >= o.clock_starts
            assert o.due_at >= facts.aware_at


@given(FACTS, GROUPS, GROUPS)
def test_more_affected_customers_never_remove_an_obligation(facts, groups, more):
    before = {k for k, o in by_key(evaluate(RULES, facts, groups)).items() if o.required}
    after = {k for k, o in by_key(evaluate(RULES, facts, groups + more)).items() if o.required}
    assert before <= after


def test_uk_canada_australia_singapore_each_have_their_own_clock():
    found = by_key(
        evaluate(
            RULES, Facts(aware_at=AWARE, determined_at=AWARE + timedelta(days=1)),
            [ssn(10, "GB"), ssn(10, "CA-ON"), ssn(10, "AU"), ssn(600, "SG")],
        )
    )  # fmt: skip
    assert found[("GB", "regulator")].due_at == AWARE + timedelta(hours=72)  # UK GDPR Art. 33
    assert found[("GB", "individuals")].required and found[("GB", "individuals")].due_at is None
    for place in ("CA-ON", "AU"):  # PIPEDA, NDB: "as soon as feasible/practicable"
        assert found[(place, "individuals")].required and found[(place, "regulator")].required
        assert found[(place, "regulator")].due_at is None
    assert found[("SG", "regulator")].due_at == AWARE + timedelta(days=1, hours=72)  # 3 days
    assert found[("CA-ON", "regulator")].rule_ids == ("ca_pipeda",)
