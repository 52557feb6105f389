"""The survey statistics: answers on 0..100, dimension scores, and the Welch gap interval
(checked against SciPy's own Welch test)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from trustdesk.surveys.answers import _AnswerJson
from trustdesk.surveys.bank import load_template
from trustdesk.surveys.scoring import (
    ScaleItem,
    dimension_score_rows,
    dimension_scores,
    to_100,
    welch_gap,
)


def test_the_scale_ends_are_0_and_100():
    assert to_100(1, 1, 7) == 0 and to_100(7, 1, 7) == 100 and to_100(4, 1, 7) == 50
    assert to_100(10, 0, 10) == 100


def test_a_dimension_score_is_the_mean_of_its_items_and_unanswered_is_none():
    items = [ScaleItem("a1", "ability", 1, 7), ScaleItem("a2", "ability", 1, 7),
             ScaleItem("nps", None, 0, 10)]  # fmt: skip
    scores = dimension_scores({"a1": 1, "a2": 4, "nps": 10}, items)
    assert scores["ability"] == 25 and scores["data_care"] is None and scores["overall"] == 25


def test_every_bank_item_has_a_source_and_each_dimension_has_three_items():
    bank = load_template("trust-core")
    assert all(item.source for item in bank.items)
    for dim in ("ability", "integrity", "benevolence", "data_care"):
        assert sum(item.dimension == dim for item in bank.items) == 3


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(1, 7), min_size=2, max_size=30),
    st.lists(st.integers(1, 7), min_size=2, max_size=30),
)
def test_the_welch_interval_matches_scipy(leaders, customers):
    a = np.array([to_100(x, 1, 7) for x in leaders])
    b = np.array([to_100(x, 1, 7) for x in customers])
    gap = welch_gap(a, b)
    if a.var() == 0 and b.var() == 0:
        assert gap.ci_low == gap.ci_high == gap.gap
        return
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert gap.ci_low == pytest.approx(ci.low, abs=0.01)
    assert gap.ci_high == pytest.approx(ci.high, abs=0.01)


def test_with_one_respondent_on_a_side_there_is_a_gap_but_no_interval():
    gap = welch_gap(np.array([80.0]), np.array([40.0, 60.0]))
    assert gap.gap == 30 and gap.ci_low is None and gap.n_leaders == 1


_BANK = [
    ScaleItem(i.id, i.dimension, i.min, i.max)
    for i in load_template("trust-core").items
    if i.min is not None and i.max is not None
]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={i.id: st.integers(i.min, i.max).map(float) for i in _BANK},
        ),
        max_size=20,
    )
)
def test_scoring_many_respondents_at_once_gives_each_ones_own_scores(answers):
    # The import scores a whole chunk with numpy; it must give what one respondent's
    # dimension_scores gives (None where a dimension went unanswered).
    many = dimension_score_rows(answers, _BANK)
    assert len(many) == len(answers)
    for row, one in zip(many, answers, strict=True):
        expected = dimension_scores(one, _BANK)
        assert row.keys() == expected.keys()
        for facet, value in expected.items():
            if value is None:
                assert row[facet] is None
            else:
                assert row[facet] == pytest.approx(value, rel=1e-12, abs=1e-9)


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=12),
        st.integers(-10, 10).map(float) | st.floats(allow_nan=False, allow_infinity=False),
        max_size=15,
    )
)
def test_the_fast_answer_encoding_is_exactly_sorted_json(answers):
    # A re-import compares this text with what an earlier import stored (json.dumps).
    assert _AnswerJson()(answers) == json.dumps(answers, sort_keys=True)
