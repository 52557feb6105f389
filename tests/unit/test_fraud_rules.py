"""Rule conditions are parsed, never evaluated as Python; rule files fail whole, naming the rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustdesk.errors import InvalidInput
from trustdesk.fraud.rules.conditions import (
    And,
    Compare,
    ConditionError,
    Not,
    Or,
    compile_condition,
    evaluate,
    parse,
    render,
)
from trustdesk.fraud.rules.ruleset import (
    Action,
    Fired,
    apply_actions,
    default_rules_text,
    parse_rules,
)

NAMES = ("amount", "channel", "country", "customer_nb_tx_1d")
numbers = st.integers(-1000, 10_000).map(float)
words = st.sampled_from(["online", "pos", "FR", "KP", ""])

compares = st.one_of(
    st.builds(
        Compare,
        st.sampled_from(NAMES),
        st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
        st.one_of(numbers, words),
    ),
    st.builds(
        Compare,
        st.sampled_from(NAMES),
        st.sampled_from(["in", "not in"]),
        st.lists(st.one_of(numbers, words), max_size=3).map(tuple),
    ),
)
conditions = st.recursive(
    compares,
    lambda inner: st.one_of(
        st.builds(Not, inner), st.builds(And, inner, inner), st.builds(Or, inner, inner)
    ),
    max_leaves=8,
)
values = st.fixed_dictionaries(
    {
        "amount": st.one_of(numbers, st.none()),
        "channel": st.sampled_from(["online", "pos"]),
        "country": st.one_of(words, st.none()),
        "customer_nb_tx_1d": numbers,
    }
)


@given(conditions)
def test_rendering_a_condition_parses_back_to_the_same_condition(condition):
    assert parse(render(condition)) == condition


@given(conditions, conditions, values)
def test_and_or_not_mean_what_they_say(a, b, row):
    assert evaluate(And(a, b), row) == (evaluate(a, row) and evaluate(b, row))
    assert evaluate(Or(a, b), row) == (evaluate(a, row) or evaluate(b, row))
    assert evaluate(Not(a), row) == (not evaluate(a, row))


odd_values = st.fixed_dictionaries(
    {
        "amount": st.one_of(numbers, st.none(), words, st.floats(allow_nan=True)),
        "channel": st.one_of(words, numbers),
        "country": st.one_of(words, st.none(), numbers),
        "customer_nb_tx_1d": st.one_of(numbers, st.integers(-5, 50), st.booleans()),
    }
)


@given(conditions, st.one_of(values, odd_values))
def test_a_compiled_condition_answers_as_the_evaluated_one(condition, row):
    assert compile_condition(condition)(row) == evaluate(condition, row)


@given(st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not in"]), values)
def test_a_comparison_with_a_missing_value_never_holds(op, row):
    value = ("FR",) if "in" in op else 1.0
    assert not evaluate(Compare("missing_field", op, value), row)


def test_precedence_is_not_then_and_then_or():
    condition = parse('amount > 10 or channel == "pos" and not country in ["FR"]')
    assert isinstance(condition, Or) and isinstance(condition.right, And)
    assert evaluate(condition, {"amount": 1, "channel": "pos", "country": "DE"})
    assert not evaluate(condition, {"amount": 1, "channel": "pos", "country": "FR"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("amount >", "expected string but found the end"),
        ("amount > 5 and", "expected word"),
        ("__import__('os') == 1", "unexpected text"),
        ("amount.real > 1", "unexpected text"),
        ("(amount > 1", "expected )"),
        ("amount > 1 amount", "after a complete condition"),
        ("nosuch > 1", "unknown field 'nosuch'"),
    ],
)
def test_malformed_or_unsafe_conditions_are_refused(text, message):
    with pytest.raises(ConditionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(text, frozenset(NAMES))


def test_the_shipped_rules_parse_and_fire_on_what_they_describe():
    rules = parse_rules(default_rules_text())
    fired = rules.evaluate({"amount": 6000.0, "channel": "online", "country": "FR"})
    assert [f.name for f in fired] == ["large_online_payment"]
    assert rules.evaluate({"amount": 10.0, "channel": "pos", "country": None}) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [", "not valid YAML"),
        ("- a\n- b\n", "must be a mapping"),
        (
            "rules:\n  - name: r1\n    when: amount > 1\n    action: explode\n    reason: x\n",
            "rule 'r1': action",
        ),
        (
            "rules:\n  - name: r1\n    when: amount > 1\n    action: force_review\n    reason: x\n"
            "  - name: r1\n    when: amount > 2\n    action: force_review\n    reason: y\n",
            "rule 'r1': the name is used twice",
        ),
        ("rules:\n  - when: amount > 1\n    action: force_review\n    reason: x\n", "rule #1"),
    ],
)
def test_bad_rule_files_name_the_rule_at_fault(text, message):
    with pytest.raises(InvalidInput, match=message):
        parse_rules(text)


def test_the_strongest_action_wins_and_no_rule_leaves_the_model_decision():
    allow = Fired("a", Action.FORCE_ALLOW, "")
    review = Fired("r", Action.FORCE_REVIEW, "")
    decline = Fired("d", Action.FORCE_DECLINE, "")
    assert apply_actions("step_up", []) == "step_up"
    assert apply_actions("decline", [allow]) == "approve"
    assert apply_actions("approve", [allow, review]) == "review"
    assert apply_actions("approve", [review, decline, allow]) == "decline"
