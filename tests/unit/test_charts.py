"""Server-side SVG charts: accessible names, escaped labels, values inside the plot."""

from __future__ import annotations

import re

from trustdesk.web.charts import Bar, Point, bar_chart, date_labels, line_chart


def test_a_line_chart_is_an_image_named_by_its_title_and_description():
    svg = line_chart(
        [Point("Feb 17", 40, 30, 50), Point("Feb 18", 120, -5, 130)],
        chart_id="c1",
        title="Trust of <United>",
        description="Two days",
    )
    assert 'role="img" aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Trust of &lt;United&gt;</title>' in svg  # labels are escaped
    assert '<desc id="c1-desc">Two days</desc>' in svg
    assert 'class="chart__band"' in svg and 'class="chart__line"' in svg
    ys = [float(y) for y in re.findall(r'cy="([\d.]+)"', svg)]
    assert all(10 <= y <= 234 for y in ys)  # out-of-range values are clamped to the plot


def test_an_empty_line_chart_says_so():
    assert "no data yet" in line_chart([], chart_id="c", title="t", description="d")


def test_bars_link_to_their_segment_and_show_their_value():
    svg = bar_chart(
        [Bar("US Airways", 17.5, 12.5, 22.5, href="/trust/segments/US%20Airways")],
        chart_id="b",
        title="By segment",
        description="One bar",
    )
    assert '<a href="/trust/segments/US%20Airways">' in svg
    assert ">17.5</text>" in svg and "US Airways: 17.5 (12.5 to 22.5)" in svg


def test_day_labels_carry_the_year_when_the_range_crosses_one():
    from datetime import date

    assert date_labels([date(2015, 2, 24), date(2015, 2, 25)]) == ["Feb 24", "Feb 25"]
    assert date_labels([date(2015, 2, 24), date(2026, 11, 1)]) == ["24 Feb 2015", "01 Nov 2026"]
