"""Daily monitoring figures of step-ups: how many payments asked for a second factor, and the share
passed among those whose outcome was reported."""

from __future__ import annotations

from datetime import date

from trustdesk.fraud.review.monitoring import Tally, daily_figures


def test_the_step_up_pass_rate_counts_only_reported_outcomes_and_abandoned_as_not_passed():
    day = date(2026, 3, 1)
    tallies = [
        Tally(day, "step_up", None, 3, 3, step_up="passed"),
        Tally(day, "step_up", "fraud", 8, 1, step_up="failed"),
        Tally(day, "step_up", None, 5, 2, step_up="abandoned"),
        Tally(day, "step_up", None, 4, 4),  # not reported yet
        Tally(day, "approve", None, 0, 10),
    ]
    (figures,) = daily_figures(tallies, None)
    assert figures.decided == 20 and figures.stepped_up == 10
    assert figures.step_up_pass_rate == 0.5  # 3 of the 6 reported


def test_a_day_without_reported_step_ups_has_no_pass_rate():
    (figures,) = daily_figures([Tally(date(2026, 3, 1), "step_up", None, 2, 4)], None)
    assert figures.stepped_up == 4 and figures.step_up_pass_rate is None
