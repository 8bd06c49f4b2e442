"""The SVG charts: accessible, drawn to scale, and free of inline styles."""
from __future__ import annotations

import re
from datetime import date, timedelta
from xml.etree import ElementTree

import pytest

from portal.dashboard.charts import Bar, Series, axis_ceiling, bar_chart, stacked_day_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_bar_chart_names_itself_and_prints_each_value():
    bars = [Bar("Đủ điều kiện", 300, "#0b7a3e"), Bar("Chưa tiêm", 100, "#b3261e"), Bar("Khác", 0, "#777")]
    svg = bar_chart("c1", "Điều kiện hôm nay", "Mô tả <đủ>", bars)
    root = ElementTree.fromstring(str(svg))
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "Điều kiện hôm nay"
    assert root.find(f"{SVG}desc").text == "Mô tả <đủ>"  # escaped in the markup, intact once parsed
    widths = [float(rect.get("width")) for rect in root.iter(f"{SVG}rect")]
    assert widths[0] == pytest.approx(3 * widths[1], rel=0.02)  # drawn to scale
    texts = [text.text for text in root.iter(f"{SVG}text")]
    assert "300" in texts and "100" in texts and "0" in texts
    assert "style=" not in str(svg)


def test_stacked_day_chart_stacks_outcomes_per_day():
    days = [date(2021, 9, 28) + timedelta(days=n) for n in range(3)]
    values = {(days[0], "valid"): 30, (days[0], "invalid"): 10, (days[2], "valid"): 20}
    svg = stacked_day_chart("c2", "Lượt kiểm tra", "Theo ngày", days,
                            [Series("valid", "Hợp lệ", "#0b7a3e"), Series("invalid", "Không hợp lệ", "#6a1b9a")],
                            lambda day, key: values.get((day, key), 0))
    root = ElementTree.fromstring(str(svg))
    columns = [rect for rect in root.iter(f"{SVG}rect") if rect.find(f"{SVG}title") is not None]
    heights = {rect.find(f"{SVG}title").text: float(rect.get("height")) for rect in columns}
    assert heights["28/09/2021 · Hợp lệ: 30"] == pytest.approx(3 * heights["28/09/2021 · Không hợp lệ: 10"], rel=0.02)
    assert heights["30/09/2021 · Hợp lệ: 20"] == pytest.approx(2 * heights["28/09/2021 · Không hợp lệ: 10"], rel=0.02)
    assert not any("29/09/2021 ·" in title for title in heights)  # a day without scans draws nothing
    labels = [text.text for text in root.iter(f"{SVG}text")]
    assert "28/09" in labels and "Hợp lệ" in labels and "Không hợp lệ" in labels
    assert re.search(r"\bstyle=", str(svg)) is None


@pytest.mark.parametrize("value,ceiling", [(0, 4), (3, 4), (5, 8), (40, 40), (99, 100), (1234, 2000), (17000, 20000)])
def test_value_axis_has_four_whole_steps(value, ceiling):
    assert axis_ceiling(value) == ceiling
    assert ceiling % 4 == 0 and ceiling >= value
