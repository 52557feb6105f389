"""Score drift is named against the usual PSI lines: stable below 0.1, a shift above 0.25."""

from __future__ import annotations

from trustdesk.fraud.review.monitoring import drift


def test_drift_levels_follow_the_lines():
    assert drift(None) is None
    assert drift(0.05) == "stable"
    assert drift(0.1) == "watch" and drift(0.25) == "watch"
    assert drift(0.251) == "shift" and drift(0.467) == "shift"
