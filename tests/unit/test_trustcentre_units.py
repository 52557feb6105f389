"""The trust centre's page cache, heat map and Markdown rendering, without a database."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from trustdesk.trustcentre.risks import RiskView, heat_map
from trustdesk.trustcentre.sections import render_markdown
from trustdesk.trustcentre.view import PageCache


def test_the_cache_rebuilds_on_a_new_stamp_and_after_its_time():
    cache = PageCache(ttl_s=60)
    builds: list[int] = []

    def build() -> str:
        builds.append(1)
        return f"v{len(builds)}"

    assert cache.get("db", "page", (1,), build) == "v1"
    assert cache.get("db", "page", (1,), build) == "v1"  # cached
    assert cache.get("db", "page", (2,), build) == "v2"  # a change: rebuilt at once
    assert cache.get("other-db", "page", (2,), build) == "v3"  # databases never share
    expired = PageCache(ttl_s=0)
    assert expired.get("db", "page", (1,), build) == "v4"
    assert expired.get("db", "page", (1,), build) == "v5"


def test_while_one_request_rebuilds_an_expired_page_others_get_the_previous_copy():
    cache = PageCache(ttl_s=0)
    cache.get("db", "page", (1,), lambda: "old")
    seen: list[str] = []

    def slow_build() -> str:
        seen.append(cache.get("db", "page", (1,), lambda: "second builder"))  # another visitor
        return "new"

    assert cache.get("db", "page", (1,), slow_build) == "new"
    assert seen == ["old"]


def _risk(likelihood: int, impact: int, residual: tuple[int, int] | None) -> RiskView:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    rl, ri = residual if residual else (None, None)
    return RiskView(
        1, "r", "fraud", "", "o", likelihood, impact, likelihood * impact, rl, ri,
        rl * ri if rl and ri else None, "", "mitigate", "", "open", 90, at, False, (), at, at,
    )  # fmt: skip


scale = st.integers(1, 5)


@settings(deadline=None, max_examples=60)  # no timing on a shared, loaded machine
@given(st.lists(st.tuples(scale, scale, st.none() | st.tuples(scale, scale)), max_size=40))
def test_every_risk_is_in_exactly_one_heat_map_cell(rows):
    risks = [_risk(*row) for row in rows]
    for residual in (False, True):
        cells = heat_map(risks, residual=residual)
        assert sum(map(sum, cells)) == len(risks)
    inherent = heat_map(risks)
    for lk, im, _ in rows:
        assert inherent[im - 1][lk - 1] >= 1


def test_markdown_keeps_formatting_and_never_passes_html_or_script_links():
    html = render_markdown("# Title\n\n**bold** <img src=x onerror=alert(1)> [a](javascript:x)")
    assert "<strong>bold</strong>" in html
    assert "<img" not in html and "&lt;img" in html
    assert 'href="javascript' not in html
    assert 'href="https://example.com"' in render_markdown("[ok](https://example.com)")


def test_peek_serves_without_a_stamp_read_only_just_after_a_check(monkeypatch):
    from trustdesk.trustcentre import cache as cache_module

    clock = [100.0]
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: clock[0])
    cache = PageCache(ttl_s=30)
    assert cache.peek("db", "page") is None
    cache.get("db", "page", (1,), lambda: "v1")
    assert cache.peek("db", "page") == "v1"
    clock[0] += cache_module.CHECK_S  # time to read the stamp again
    assert cache.peek("db", "page") is None
    assert cache.get("db", "page", (1,), lambda: "unused") == "v1"
    assert cache.peek("db", "page") == "v1"
    cache.clear()  # a write in this process
    assert cache.peek("db", "page") is None
