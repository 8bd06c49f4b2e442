"""Server-side SVG charts: horizontal bars and stacked bars per day, readable without scripts.

Each chart names itself with ``<title>`` and ``<desc>`` (``aria-labelledby``) and prints its numbers
as text; pages also show the same figures in a table. Colours are SVG presentation attributes,
never ``style=""`` (the portal's Content-Security-Policy forbids inline styles), so the same markup
renders in browsers and in WeasyPrint.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

FONT = "Noto Sans, sans-serif"
INK, GRID, MUTED = "#1b1f23", "#d9dde1", "#5f6368"


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value and its fill colour."""

    label: str
    value: int
    colour: str


@dataclass(frozen=True)
class Series:
    """One stacked layer of a chart per day."""

    key: str
    label: str
    colour: str


def _svg(chart_id: str, width: int, height: int, title: str, description: str, body: list[str], *,
         kind: str = "bars", font_size: int = 13) -> Markup:
    chart_id = escape(chart_id)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg chart-{kind}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="{FONT}" font-size="{font_size}" fill="{INK}">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(description)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart(chart_id: str, title: str, description: str, bars: Sequence[Bar], *,
              format_number: Callable[[int], str] = str, width: int = 360) -> Markup:
    """Draw one horizontal bar per item under its label, its value printed at the bar's end.

    Labels sit above the bars rather than beside them, so the chart stays legible when a phone
    scales it down to the screen's width.
    """
    row, top, value_room = 44, 4, 56
    height = top * 2 + row * max(len(bars), 1)
    plot = width - value_room
    largest = max((bar.value for bar in bars), default=0) or 1
    body = []
    for index, bar in enumerate(bars):
        y = top + index * row
        length = round(plot * bar.value / largest)
        label, value = escape(_shorten(bar.label, 48)), escape(format_number(bar.value))
        body.append(
            f'<g><title>{escape(bar.label)}: {value}</title>'
            f'<text x="0" y="{y + 15}">{label}</text>'
            f'<rect x="0" y="{y + 21}" width="{max(length, 1)}" height="16" rx="3" fill="{escape(bar.colour)}"/>'
            f'<text x="{length + 6}" y="{y + 34}" font-weight="700">{value}</text></g>'
        )
    return _svg(chart_id, width, height, title, description, body, font_size=15)


def axis_ceiling(value: int, ticks: int = 4) -> int:
    """Return the top of a value axis with ``ticks`` whole-numbered steps of 1, 2, 2.5 or 5 × 10ⁿ."""
    wanted = max(value, 1) / ticks
    power = 10 ** max(0, math.floor(math.log10(wanted)))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= wanted and float(step * power).is_integer():
            return int(step * power) * ticks
    return 10 * power * ticks


def stacked_day_chart(chart_id: str, title: str, description: str, days: Sequence[date], series: Sequence[Series],
                      value: Callable[[date, str], int], *, format_number: Callable[[int], str] = str,
                      width: int = 720) -> Markup:
    """Draw one column per day, stacked by series, with a legend and a value axis."""
    legend_rows = math.ceil(len(series) / 3)
    top, left, bottom, right = 12 + 22 * legend_rows, 56, 34, 8
    height = top + 200 + bottom
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(value(day, item.key) for item in series) for day in days]
    ceiling = axis_ceiling(max(totals, default=0))
    body = _legend(series, width) + _value_axis(left, top, plot_w, plot_h, ceiling, format_number)
    slot = plot_w / max(len(days), 1)
    every = max(1, math.ceil(len(days) / 10))
    for index, day in enumerate(days):
        x = left + index * slot + slot * 0.15
        body.append(_day_column(day, series, value, x, slot * 0.7, top + plot_h, plot_h / ceiling,
                                totals[index], format_number))
        if (len(days) - 1 - index) % every == 0:  # counted from the last day, which is always labelled
            body.append(f'<text x="{x + slot * 0.35:.1f}" y="{top + plot_h + 18}" text-anchor="middle" '
                        f'font-size="11" fill="{MUTED}">{day:%d/%m}</text>')
    return _svg(chart_id, width, height, title, description, body, kind="days")


def _legend(series: Sequence[Series], width: int) -> list[str]:
    column = width / 3
    parts = []
    for index, item in enumerate(series):
        x, y = 8 + (index % 3) * column, 6 + (index // 3) * 22
        parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="12" height="12" rx="2" fill="{escape(item.colour)}"/>'
                     f'<text x="{x + 18:.1f}" y="{y + 14}">{escape(item.label)}</text>')
    return parts


def _value_axis(left: int, top: int, plot_w: float, plot_h: float, ceiling: int,
                format_number: Callable[[int], str]) -> list[str]:
    parts = []
    for step in range(5):
        tick = ceiling * step // 4
        y = top + plot_h - plot_h * step / 4
        label = format_number(tick)
        parts.append(f'<line x1="{left}" x2="{left + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="{MUTED}">{escape(label)}</text>')
    return parts


def _day_column(day: date, series: Sequence[Series], value: Callable[[date, str], int], x: float, width: float,
                baseline: float, scale: float, day_total: int, format_number: Callable[[int], str]) -> str:
    parts, y = [f'<g><title>{day:%d/%m/%Y}: {escape(format_number(day_total))}</title>'], baseline
    for item in series:
        count = value(day, item.key)
        if not count:
            continue
        height = count * scale
        y -= height
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{max(height, 0.5):.1f}" '
                     f'fill="{escape(item.colour)}"><title>{day:%d/%m/%Y} · {escape(item.label)}: '
                     f'{escape(format_number(count))}</title></rect>')
    parts.append("</g>")
    return "".join(parts)
