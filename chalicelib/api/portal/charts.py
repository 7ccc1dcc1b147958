"""Bar charts as inline SVG, drawn on the server: no script, nothing to
download, readable without JavaScript. Each chart has a title with its unit,
a y axis with round ticks, day labels on the x axis and, when the bars are
few enough, the value above each bar. Every bar carries its day and value
as data attributes (what a test, or a person with the inspector, reads)."""
from __future__ import annotations

import math
from decimal import Decimal
from html import escape
from typing import Sequence

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 30, 46


def nice_step(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value``."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def axis(maximum: float) -> tuple[float, int]:
    """(tick step, tick count): round ticks from 0 to at or above ``maximum``, four or fewer steps."""
    step = nice_step(maximum / 4) if maximum > 0 else 1.0
    return step, max(1, math.ceil(maximum / step)) if maximum > 0 else 1


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def bar_chart(*, chart_id: str, title: str, unit: str, points: Sequence[tuple[str, Decimal | int | float]]) -> str:
    """An SVG element (a string of markup, attribute values escaped)."""
    values = [float(v) for _, v in points]
    step, ticks = axis(max(values, default=0))
    top = step * ticks
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(points), 1)
    bar_w = max(slot * 0.7, 1.0)
    parts = [f'<svg id="{escape(chart_id)}" class="chart-svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(title)} ({escape(unit)}) per day" xmlns="http://www.w3.org/2000/svg">',
             f'<title>{escape(title)} ({escape(unit)}) per day</title>',
             f'<text class="title" x="{LEFT}" y="18">{escape(title)} ({escape(unit)})</text>']
    for tick in range(ticks + 1):
        value = step * tick
        y = TOP + plot_h - plot_h * tick / ticks
        parts.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_number(value)}</text>')
    parts.append(f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>')
    parts.append(f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}"/>')
    # Every day labelled when they fit, else about ten labels across.
    label_every = max(1, math.ceil(len(points) / 10))
    for index, (day, raw) in enumerate(points):
        value = float(raw)
        height = plot_h * value / top
        x = LEFT + slot * index + (slot - bar_w) / 2
        y = TOP + plot_h - height
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{height:.1f}" '
                     f'data-day="{escape(day)}" data-value="{escape(str(raw))}">'
                     f'<title>{escape(day)}: {escape(str(raw))} {escape(unit)}</title></rect>')
        if len(points) <= 16 and value > 0:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">{escape(str(raw))}</text>')
        if index % label_every == 0:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">'
                         f'{escape(day[5:])}</text>')
    parts.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle">day (UTC, month-day)</text>')
    parts.append("</svg>")
    return "".join(parts)
