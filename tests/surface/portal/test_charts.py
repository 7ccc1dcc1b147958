"""The statistics page's SVG charts: round axes, every bar's figure readable."""
from __future__ import annotations

from chalicelib.api.portal import charts


def test_axes_have_round_ticks_at_or_above_the_highest_bar():
    assert charts.axis(29) == (10.0, 3)
    assert charts.axis(66) == (20.0, 4)
    assert charts.axis(91.13) == (50.0, 2)
    assert charts.axis(0) == (1.0, 1)


def test_a_chart_labels_its_unit_days_and_values_and_escapes_text():
    svg = charts.bar_chart(chart_id="c", title="Calls <all>", unit="calls",
                           points=[("2026-01-05", 29), ("2026-01-06", 0)])
    assert svg.startswith('<svg id="c"') and "Calls &lt;all&gt; (calls)" in svg
    assert 'data-day="2026-01-05" data-value="29"' in svg and 'data-day="2026-01-06" data-value="0"' in svg
    assert ">01-05<" in svg and ">30<" in svg  # a day label and the axis top
    assert "<script" not in svg
